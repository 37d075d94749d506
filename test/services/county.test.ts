/**
 * The county view over the demo: SoSafe and the illustrative North Herts plan. Statuses are
 * checked against SQL written independently of the service (DISTINCT ON the latest submitted or
 * accepted update); priorities and lead organisations against the demo files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { queryRows } from '../../src/db/client.js';
import { SUMMARY_COLUMNS } from '../../src/domain/board-report.js';
import { systemActor } from '../../src/services/actor.js';
import { countyView } from '../../src/services/county.js';
import { addUser } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { TEST_PASSWORD } from '../support/password.js';

const INSPECTOR = 'inspector@herts-police.example';
/** The demo accounts' password (the demo template's). */
const PASSWORD = TEST_PASSWORD;
let database: TestDatabase;

async function userId(email: string): Promise<number> {
  const [row] = await queryRows<{ id: number }>(
    database.db,
    sql`select id from users where email = ${email}`,
  );
  return row!.id;
}

/** Live actions of the partnership's latest plan by the status of their latest submitted or accepted update. */
async function statusCountsBySql(slug: string): Promise<Record<string, number>> {
  const rows = await queryRows<{ status: string; n: number }>(
    database.db,
    sql`with plan as (
          select pl.id from plans pl join partnerships p on p.id = pl.partnership_id
          where p.slug = ${slug} order by pl.year desc limit 1),
        live as (
          select a.id from actions a
          join aims ai on ai.id = a.aim_id join sections s on s.id = ai.section_id
          where ai.plan_id = (select id from plan)
            and a.archived_at is null and ai.archived_at is null and s.archived_at is null),
        latest as (
          select distinct on (action_id) action_id, status from progress_updates
          where state in ('submitted', 'accepted')
          order by action_id, quarter desc nulls last, recorded_at desc nulls last, id desc)
        select coalesce(latest.status::text, 'none') as status, count(*)::int as n
        from live left join latest on latest.action_id = live.id group by 1`,
  );
  const counts: Record<string, number> = Object.fromEntries(SUMMARY_COLUMNS.map((c) => [c, 0]));
  for (const row of rows) counts[row.status] = row.n;
  return counts;
}

async function actionId(slug: string, aim: string): Promise<number> {
  const [row] = await queryRows<{ id: number }>(
    database.db,
    sql`select a.id from actions a join aims ai on ai.id = a.aim_id join partnerships p on p.id = a.partnership_id
        where p.slug = ${slug} and ai.number = ${aim} and a.archived_at is null order by a.position limit 1`,
  );
  return row!.id;
}

async function addUpdate(slug: string, aim: string, quarter: number, state: string, status: string | null) {
  const id = await actionId(slug, aim);
  await database.db.execute(
    sql`insert into progress_updates (partnership_id, action_id, quarter, text, status, state)
        select partnership_id, id, ${quarter}, ${`A ${state} update for the county view test`}, ${status}::progress_status, ${state}::progress_state
        from actions where id = ${id}`,
  );
}

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
  // Q4 updates in several states: only submitted and accepted ones change an action's status.
  await addUpdate('north-herts', '1.3', 4, 'submitted', 'on_track'); // was off track in Q3
  await addUpdate('north-herts', '2.3', 4, 'draft', 'complete'); // a draft: stays at risk
  await addUpdate('north-herts', '3.3', 4, 'returned', 'off_track'); // returned: stays on track
  await addUpdate('sosafe', '1.1', 4, 'accepted', 'complete');
  await addUpdate('sosafe', '1.2', 4, 'draft', 'at_risk');
});
afterAll(async () => {
  await database?.drop();
});

describe('a person with roles in two partnerships', () => {
  it('sees both, with their role in each and the current plan', async () => {
    const view = await countyView(database.db, await userId(INSPECTOR));
    expect(view.partnerships.map((p) => [p.slug, p.role, p.plan?.year])).toEqual([
      ['north-herts', 'lead_officer', '2024/25'],
      ['sosafe', 'partner', '2024/25'],
    ]);
    expect(view.partnerships[1]!.plan!.path).toBe('/p/sosafe/plans/2024-25');
  });

  it('counts each partnership’s statuses as the SQL does, never a draft or a returned update', async () => {
    const view = await countyView(database.db, await userId(INSPECTOR));
    for (const p of view.partnerships) {
      expect(p.counts, p.slug).toEqual(await statusCountsBySql(p.slug));
      expect(Object.values(p.counts).reduce((a, b) => a + b, 0)).toBe(p.actions);
    }
    const northHerts = view.partnerships.find((p) => p.slug === 'north-herts')!;
    // The illustrative plan's statuses, worked out by hand: 1.1 at risk, 1.2 complete, 1.3 on track
    // (Q4 submitted), 2.1 on track, 2.2 on track, 2.3 at risk (the Q4 draft is not counted),
    // 3.1 complete, 3.2 at risk, 3.3 on track (the Q4 update was returned).
    expect(northHerts.counts).toEqual({
      not_started: 0,
      on_track: 4,
      at_risk: 3,
      off_track: 0,
      complete: 2,
      none: 0,
    });
    const sosafe = view.partnerships.find((p) => p.slug === 'sosafe')!;
    // SoSafe's plan gives no statuses; the one accepted Q4 update makes 1.1's action complete.
    expect(sosafe.counts.complete).toBe(1);
    expect(sosafe.counts.at_risk).toBe(0);
    expect(sosafe.actions).toBe(34);
  });

  it('lists the priorities both plans hold, with the aims behind them in each', async () => {
    const view = await countyView(database.db, await userId(INSPECTOR));
    expect(view.sharedPriorities.map((p) => p.title)).toEqual([
      'All ASB',
      'Serious violence',
      'VAWG, including domestic abuse sexual assaults, rape, and stalking & harassment',
      'County lines and Serious & Organised Crime (SOC)',
      'Fraud',
    ]);
    const asb = view.sharedPriorities[0]!;
    expect(asb.partnerships.map((p) => [p.slug, p.aims.map((a) => a.number)])).toEqual([
      ['north-herts', ['1.1', '1.2', '1.3']],
      ['sosafe', ['5.1', '5.2', '5.3', '5.7']],
    ]);
    expect(asb.partnerships[1]!.aims[0]).toEqual({
      number: '5.1',
      title: 'Tackle graffiti, fly-tipping and associated enviro crime',
      path: '/p/sosafe/plans/2024-25/aims/5.1',
    });
    // Priorities of one plan only are not shared.
    expect(view.sharedPriorities.map((p) => p.title)).not.toContain('Rural crime');
    expect(view.sharedPriorities.map((p) => p.title)).not.toContain('Cuckooing');
  });

  it('matches priority titles ignoring capitals and spacing', async () => {
    await database.db.execute(
      sql`update priorities set title = '  serious   VIOLENCE ' where title = 'Serious violence'
          and partnership_id = (select id from partnerships where slug = 'north-herts')`,
    );
    try {
      const view = await countyView(database.db, await userId(INSPECTOR));
      const serious = view.sharedPriorities.find((p) => p.title === '  serious   VIOLENCE ');
      expect(serious?.partnerships.map((p) => [p.slug, p.aims.map((a) => a.number)])).toEqual([
        ['north-herts', ['2.1', '2.2']],
        ['sosafe', ['1.2', '4.0']],
      ]);
    } finally {
      await database.db.execute(
        sql`update priorities set title = 'Serious violence' where title = '  serious   VIOLENCE '`,
      );
    }
  });

  it('lists the organisations that lead actions in both, with how many actions in each', async () => {
    const view = await countyView(database.db, await userId(INSPECTOR));
    const bySql = await queryRows<{ name: string; slug: string; n: number }>(
      database.db,
      sql`select o.name, p.slug, count(distinct a.id)::int as n
          from action_parties ap join organisations o on o.id = ap.organisation_id
          join actions a on a.id = ap.action_id join partnerships p on p.id = a.partnership_id
          where ap.role = 'lead' and a.archived_at is null
          group by o.name, p.slug`,
    );
    const leadsIn = (slug: string) => new Set(bySql.filter((r) => r.slug === slug).map((r) => r.name));
    const both = [...leadsIn('north-herts')].filter((name) => leadsIn('sosafe').has(name)).sort();
    expect(both).toEqual(['HCC', 'Police', 'SADA', 'Trading Standards']);
    expect(view.sharedLeads.map((l) => l.name).sort()).toEqual(both);
    for (const lead of view.sharedLeads) {
      for (const p of lead.partnerships) {
        const n = bySql.find((r) => r.name === lead.name && r.slug === p.slug)?.n;
        expect(p.actions, `${lead.name} in ${p.slug}`).toBe(n);
      }
    }
    expect(view.sharedLeads.find((l) => l.name === 'Police')?.fullName).toBe('Hertfordshire Constabulary');
    // NHC leads only in North Herts, SBC only in SoSafe.
    expect(view.sharedLeads.map((l) => l.name)).not.toContain('NHC');
    expect(view.sharedLeads.map((l) => l.name)).not.toContain('SBC');
  });
});

describe('only the person’s own partnerships', () => {
  it('a SoSafe coordinator sees SoSafe alone, with nothing shared', async () => {
    const view = await countyView(database.db, await userId('coordinator@sosafe.example'));
    expect(view.partnerships.map((p) => p.slug)).toEqual(['sosafe']);
    expect(view.sharedPriorities).toEqual([]);
    expect(view.sharedLeads).toEqual([]);
  });

  it('the North Herts coordinator sees North Herts alone', async () => {
    const view = await countyView(database.db, await userId('coordinator@north-herts.example'));
    expect(view.partnerships.map((p) => p.slug)).toEqual(['north-herts']);
  });

  it('a role that is deactivated no longer shows its partnership', async () => {
    const id = await userId(INSPECTOR);
    await database.db.execute(
      sql`update memberships set deactivated_at = now() where user_id = ${id}
          and partnership_id = (select id from partnerships where slug = 'sosafe')`,
    );
    try {
      const view = await countyView(database.db, id);
      expect(view.partnerships.map((p) => p.slug)).toEqual(['north-herts']);
      expect(view.sharedPriorities).toEqual([]);
    } finally {
      await database.db.execute(sql`update memberships set deactivated_at = null where user_id = ${id}`);
    }
  });

  it('an account with no role sees nothing', async () => {
    await addUser(
      database.db,
      {
        email: 'new@herts.example',
        name: 'New Person',
        password: PASSWORD,
        partnership: 'sosafe',
        role: 'partner',
      },
      systemActor(),
    );
    const id = await userId('new@herts.example');
    await database.db.execute(sql`delete from memberships where user_id = ${id}`);
    expect(await countyView(database.db, id)).toEqual({
      partnerships: [],
      sharedPriorities: [],
      sharedLeads: [],
    });
  });
});
