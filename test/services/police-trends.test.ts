/**
 * police.uk trends over the real Hertfordshire January 2022 files (loaded by the demo) and a
 * December 2021 made from every other row of the same street file: the area's and the force's
 * counts by month and type, each priority's trend, hotspots and the outcome mix, all checked
 * against counts computed here from the CSV; the links (read by members, saved by the
 * coordinator only, stale and empty saves refused); and the area, whose change recounts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { and, desc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { auditEvents } from '../../src/db/schema.js';
import type { Member } from '../../src/domain/permissions.js';
import { memberActor, systemActor, type Actor } from '../../src/services/actor.js';
import { loadDemo } from '../../src/services/demo.js';
import { ConflictError, ForbiddenError, ValidationError } from '../../src/services/errors.js';
import { getPartnershipBySlug, type PartnershipRow } from '../../src/services/plan-read.js';
import { importPoliceUkFile } from '../../src/services/police-uk.js';
import {
  getArea,
  getCrimeTrends,
  getPriorityLinks,
  getPriorityTrends,
  saveArea,
  savePriorityLinks,
} from '../../src/services/police-trends.js';
import { getMember } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const DATA = fileURLToPath(new URL('../../src/demo/evidence/policeuk', import.meta.url));
const FORCE = 'Hertfordshire Constabulary';
const read = (file: string) => (parse(fs.readFileSync(path.join(DATA, file), 'utf8')) as string[][]).slice(1);
const january = read('2022-01-hertfordshire-street.csv');
/** December 2021: every other row of January's file, so the two months differ. */
const december = january.filter((_, i) => i % 2 === 0).map((r) => [r[0]!, '2021-12', ...r.slice(2)]);
const outcomes = read('2022-01-hertfordshire-outcomes.csv');
const STREET = { month: 1, lsoaCode: 7, lsoaName: 8, crimeType: 9 } as const;
const inStevenage = (r: string[]) => r[STREET.lsoaName]!.startsWith('Stevenage ');

function tally(rows: readonly string[][], key: (r: string[]) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(key(r), (counts.get(key(r)) ?? 0) + 1);
  return counts;
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-trends-'));
let database: TestDatabase;
let sosafe: PartnershipRow;
let coordinator: Actor;
let lead: Actor;
let partner: Actor;
let board: Actor;
let outsider: Actor;

async function actorFor(email: string): Promise<Actor> {
  const [user] = await queryRows<{ id: number; partnership_id: number }>(
    database.db,
    sql`select u.id, m.partnership_id from users u join memberships m on m.user_id = u.id
        where u.email = ${email} order by m.partnership_id limit 1`,
  );
  return memberActor((await getMember(database.db, user!.id, user!.partnership_id)) as Member);
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

beforeAll(async () => {
  database = await createTestDatabase();
  await loadDemo(database.db, 'a password long enough');
  const file = path.join(scratch, '2021-12-hertfordshire-street.csv');
  const header = fs
    .readFileSync(path.join(DATA, '2022-01-hertfordshire-street.csv'), 'utf8')
    .split(/\r?\n/)[0]!;
  fs.writeFileSync(file, `${header}\n${stringify(december)}`);
  await importPoliceUkFile(database.db, file, systemActor());
  sosafe = await getPartnershipBySlug(database.db, 'sosafe');
  coordinator = await actorFor('coordinator@sosafe.example');
  lead = await actorFor('helen.whitehead@sosafe.example');
  partner = await actorFor('partner@sosafe.example');
  board = await actorFor('board@sosafe.example');
  outsider = await actorFor('coordinator@north-herts.example');
});

afterAll(async () => {
  await database?.drop();
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('the area beside the force', () => {
  it('counts each month and crime type as the CSV does, the area’s and the force’s', async () => {
    const trends = await getCrimeTrends(database.db, board, sosafe);
    expect(trends.force).toBe(FORCE);
    expect(trends.months).toEqual(['2021-12', '2022-01']);
    const rows = [...december, ...january];
    const area = tally(rows.filter(inStevenage), (r) => `${r[STREET.month]} ${r[STREET.crimeType]}`);
    const force = tally(rows, (r) => `${r[STREET.month]} ${r[STREET.crimeType]}`);
    expect(trends.byType.map((t) => t.crimeType)).toHaveLength(14);
    for (const type of trends.byType) {
      for (const m of type.monthly) {
        const key = `${m.month} ${type.crimeType}`;
        expect([m.area, m.force], key).toEqual([area.get(key) ?? 0, force.get(key) ?? 0]);
      }
    }
    expect(trends.totals).toEqual([
      { month: '2021-12', area: december.filter(inStevenage).length, force: december.length },
      { month: '2022-01', area: january.filter(inStevenage).length, force: january.length },
    ]);
    expect(trends.totals[1]).toEqual({ month: '2022-01', area: 820, force: 8058 });
  });

  it('shows the latest months asked for, and no more than are imported', async () => {
    const one = await getCrimeTrends(database.db, board, sosafe, { months: 1 });
    expect(one.months).toEqual(['2022-01']);
    const all = await getCrimeTrends(database.db, board, sosafe, { months: 60 });
    expect(all.months).toEqual(['2021-12', '2022-01']);
  });

  it('gives each priority the sum of its linked crime types (the titles’ suggestions until saved)', async () => {
    const trends = await getCrimeTrends(database.db, board, sosafe, { months: 1 });
    expect(trends.linksSaved).toBe(false);
    const byTitle = new Map(trends.priorities.map((p) => [p.title.slice(0, 20), p]));
    const stevenage = tally(january.filter(inStevenage), (r) => r[STREET.crimeType]!);
    const whole = tally(january, (r) => r[STREET.crimeType]!);
    expect(byTitle.get('All ASB')).toMatchObject({
      crimeTypes: ['Anti-social behaviour'],
      area: stevenage.get('Anti-social behaviour'),
      force: whole.get('Anti-social behaviour'),
    });
    const drugs = byTitle.get('Drugs possession and');
    expect(drugs?.crimeTypes).toEqual(['Drugs', 'Possession of weapons']);
    expect(drugs?.area).toBe(stevenage.get('Drugs')! + stevenage.get('Possession of weapons')!);
    expect(byTitle.get('Fraud')).toMatchObject({ crimeTypes: [], area: 0, force: 0 });
  });

  it('lists the hotspots of the last 3 months, with rows without a location apart', async () => {
    const { hotspots } = await getCrimeTrends(database.db, board, sosafe);
    const rows = [...december, ...january];
    const byLsoa = tally(rows.filter(inStevenage), (r) => r[STREET.lsoaCode]!);
    const expected = [...byLsoa.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
    expect(hotspots.recent.months).toEqual(['2021-12', '2022-01']);
    expect(hotspots.recent.rows.map((h) => h.crimes)).toEqual(expected.map(([, n]) => n));
    expect(hotspots.recent.lsoas).toBe(byLsoa.size);
    const top = hotspots.recent.rows[0]!;
    expect(top.lsoaName).toMatch(/^Stevenage /);
    const topTypes = tally(
      rows.filter((r) => r[STREET.lsoaCode] === top.lsoaCode),
      (r) => r[STREET.crimeType]!,
    );
    expect(top.topCrimes).toBe(Math.max(...topTypes.values()));
    expect(topTypes.get(top.topCrimeType)).toBe(top.topCrimes);
    // Rows with no location are in no area: counted for the force, never a hotspot.
    expect(hotspots.recent.withoutLocation).toBe(rows.filter((r) => r[STREET.lsoaCode] === '').length);
    expect(hotspots.recent.rows.some((h) => h.lsoaCode === '')).toBe(false);
  });

  it('gives the outcome mix of the area from the outcomes file', async () => {
    const trends = await getCrimeTrends(database.db, board, sosafe);
    const expected = tally(
      outcomes.filter((r) => r[8]!.startsWith('Stevenage ')),
      (r) => r[9]!,
    );
    expect(trends.outcomes.monthsWithOutcomes).toEqual(['2022-01']);
    expect(Object.fromEntries(trends.outcomes.rows.map((r) => [r.outcomeType, r.outcomes]))).toEqual(
      Object.fromEntries(expected),
    );
    expect(trends.outcomes.total).toBe([...expected.values()].reduce((a, b) => a + b, 0));
  });

  it('is for the partnership’s members only', async () => {
    expect(await errorOf(getCrimeTrends(database.db, outsider, sosafe))).toBeInstanceOf(ForbiddenError);
    expect(await errorOf(getPriorityLinks(database.db, outsider, sosafe))).toBeInstanceOf(ForbiddenError);
  });

  it('says a partnership with no area has no trends', async () => {
    const northHerts = await getPartnershipBySlug(database.db, 'north-herts');
    const found = await getPriorityTrends(database.db, outsider, northHerts, [1]);
    expect(found).toMatchObject({ state: 'no-area', trends: [] });
  });
});

describe('the links between crime types and priorities', () => {
  it('are read by every member; only the coordinator saves them', async () => {
    const links = await getPriorityLinks(database.db, board, sosafe);
    expect(links.saved).toBe(false);
    expect(links.canManage).toBe(false);
    expect(links.priorities[0]).toMatchObject({ title: 'All ASB', crimeTypes: ['Anti-social behaviour'] });
    for (const actor of [lead, partner, board, outsider]) {
      const error = await errorOf(
        savePriorityLinks(database.db, actor, sosafe, { basis: links.basis, suggested: true }),
      );
      expect(error, actor.label).toBeInstanceOf(ForbiddenError);
    }
    expect((await getPriorityLinks(database.db, coordinator, sosafe)).canManage).toBe(true);
  });

  it('refuses a save with no link, a crime type police.uk does not have, or a stale form', async () => {
    const { basis, priorities } = await getPriorityLinks(database.db, coordinator, sosafe);
    const asb = priorities[0]!.id;
    const empty = await errorOf(
      savePriorityLinks(database.db, coordinator, sosafe, { basis, links: { [asb]: [] } }),
    );
    expect(empty).toBeInstanceOf(ValidationError);
    expect((empty as ValidationError).problems[0]).toEqual({
      field: `priority-${asb}`,
      message: 'Link at least one crime type to a priority, or use the suggested links',
    });
    const unknown = await errorOf(
      savePriorityLinks(database.db, coordinator, sosafe, { basis, links: { [asb]: ['Fraud'] } }),
    );
    expect((unknown as ValidationError).problems[0]?.message).toBe('Choose crime types from the list');
    const stale = await errorOf(
      savePriorityLinks(database.db, coordinator, sosafe, { basis: 'old', links: { [asb]: ['Drugs'] } }),
    );
    expect(stale).toBeInstanceOf(ConflictError);
    expect((await getPriorityLinks(database.db, board, sosafe)).saved).toBe(false);
  });

  it('saves the coordinator’s links with an audit event, and the trends follow them', async () => {
    const before = await getPriorityLinks(database.db, coordinator, sosafe);
    const asb = before.priorities.find((p) => p.title === 'All ASB')!;
    const fraud = before.priorities.find((p) => p.title === 'Fraud')!;
    await savePriorityLinks(database.db, coordinator, sosafe, {
      basis: before.basis,
      links: {
        [asb.id]: ['Anti-social behaviour', 'Criminal damage and arson'],
        [fraud.id]: ['Other crime'],
      },
    });
    const after = await getPriorityLinks(database.db, board, sosafe);
    expect(after.saved).toBe(true);
    expect(after.priorities.map((p) => [p.title.slice(0, 8), p.crimeTypes])).toEqual([
      ['All ASB', ['Anti-social behaviour', 'Criminal damage and arson']],
      ['Serious ', []],
      ['Cuckooin', []],
      ['Drugs po', []],
      ['VAWG, in', []],
      ['County l', []],
      ['Fraud', ['Other crime']],
    ]);
    const [event] = await database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.kind, 'police_trends.links_saved'), eq(auditEvents.partnershipId, sosafe.id)))
      .orderBy(desc(auditEvents.id))
      .limit(1);
    expect(event).toMatchObject({ actorUserId: coordinator.userId, entity: 'plan' });
    expect((event!.after as { links: Record<string, string[]> }).links.Fraud).toEqual(['Other crime']);

    const stevenage = tally(january.filter(inStevenage), (r) => r[STREET.crimeType]!);
    const trend = await getPriorityTrends(database.db, board, sosafe, [asb.id, fraud.id]);
    expect(trend.state).toBe('ok');
    expect(trend.trends.map((t) => [t.title, t.monthly.at(-1)?.area])).toEqual([
      ['All ASB', stevenage.get('Anti-social behaviour')! + stevenage.get('Criminal damage and arson')!],
      ['Fraud', stevenage.get('Other crime')],
    ]);

    // "Use the suggested links" goes back to the titles' suggestions, now saved.
    await savePriorityLinks(database.db, coordinator, sosafe, { basis: after.basis, suggested: true });
    const suggested = await getPriorityLinks(database.db, board, sosafe);
    expect(suggested.saved).toBe(true);
    expect(suggested.priorities.map((p) => p.crimeTypes)).toEqual(
      suggested.priorities.map((p) => p.suggested),
    );
    expect(suggested.basis).toBe(before.basis);
  });
});

describe('the area', () => {
  it('is the coordinator’s to see and set; a wrong code is refused', async () => {
    for (const actor of [lead, partner, board, outsider]) {
      expect(await errorOf(getArea(database.db, actor, sosafe)), actor.label).toBeInstanceOf(ForbiddenError);
      expect(
        await errorOf(saveArea(database.db, actor, sosafe, { prefixes: 'Stevenage', codes: '' })),
        actor.label,
      ).toBeInstanceOf(ForbiddenError);
    }
    const bad = await errorOf(
      saveArea(database.db, coordinator, sosafe, { prefixes: '', codes: 'E0102\nSG1 1HN' }),
    );
    expect((bad as ValidationError).problems).toEqual([
      { field: 'codes', message: 'Enter LSOA codes like E01023719: E0102, SG1 1HN are not' },
    ]);
    const none = await errorOf(saveArea(database.db, coordinator, sosafe, { prefixes: ' \n', codes: '' }));
    expect((none as ValidationError).problems[0]?.field).toBe('prefixes');
    const area = await getArea(database.db, coordinator, sosafe);
    expect(area).toMatchObject({ area: { prefixes: ['Stevenage '], codes: [] }, latestMonth: '2022-01' });
    expect(area.lsoasMatched).toBe(new Set(january.filter(inStevenage).map((r) => r[STREET.lsoaCode])).size);
  });

  it('recounts the area’s counts when it changes, its hotspots too', async () => {
    const { hotspots } = await getCrimeTrends(database.db, board, sosafe);
    const code = hotspots.recent.rows[0]!.lsoaCode;
    const other = january.find((r) => r[STREET.lsoaName]!.startsWith('Hertsmere '))![STREET.lsoaCode]!;
    await saveArea(database.db, coordinator, sosafe, {
      prefixes: '',
      codes: `${code}\n${other.toLowerCase()}`,
    });
    const narrowed = await getCrimeTrends(database.db, board, sosafe, { months: 1 });
    const expected = january.filter(
      (r) => r[STREET.lsoaCode] === code || r[STREET.lsoaCode] === other,
    ).length;
    expect(narrowed.area).toEqual({ codes: [code, other].sort(), prefixes: [] });
    expect(narrowed.totals).toEqual([{ month: '2022-01', area: expected, force: 8058 }]);
    expect((await getArea(database.db, coordinator, sosafe)).lsoasMatched).toBe(2);
    const spots = narrowed.hotspots.recent.rows;
    expect(spots.map((h) => h.lsoaCode).sort()).toEqual([code, other].sort());
    expect(spots.find((h) => h.lsoaCode === code)?.crimes).toBe(hotspots.recent.rows[0]!.crimes);

    await saveArea(database.db, coordinator, sosafe, { prefixes: 'Stevenage', codes: '' });
    const back = await getCrimeTrends(database.db, board, sosafe, { months: 1 });
    expect(back.area).toEqual({ codes: [], prefixes: ['Stevenage '] });
    expect(back.totals[0]?.area).toBe(820);
    expect(back.hotspots).toEqual(hotspots);
  });
});

describe('hotspots over more months than the latest three', () => {
  it('ranks the last 12 months and the latest 3 each on its own months, rows without a location apart', async () => {
    // Two earlier months, each from other rows of January's file: October is outside the latest 3.
    const header = fs
      .readFileSync(path.join(DATA, '2022-01-hertfordshire-street.csv'), 'utf8')
      .split(/\r?\n/)[0]!;
    const earlier = {
      '2021-10': january.filter((_, i) => i % 3 === 0),
      '2021-11': january.filter((_, i) => i % 5 === 0),
    };
    for (const [month, rows] of Object.entries(earlier)) {
      const file = path.join(scratch, `${month}-hertfordshire-street.csv`);
      fs.writeFileSync(file, `${header}\n${stringify(rows.map((r) => [r[0]!, month, ...r.slice(2)]))}`);
      await importPoliceUkFile(database.db, file, systemActor());
    }
    const { hotspots } = await getCrimeTrends(database.db, board, sosafe);
    const periods = {
      recent: [...earlier['2021-11'], ...december, ...january],
      year: [...earlier['2021-10'], ...earlier['2021-11'], ...december, ...january],
    };
    expect(hotspots.recent.months).toEqual(['2021-11', '2021-12', '2022-01']);
    expect(hotspots.year.months).toEqual(['2021-10', '2021-11', '2021-12', '2022-01']);
    for (const key of ['recent', 'year'] as const) {
      const rows = periods[key];
      const byLsoa = tally(rows.filter(inStevenage), (r) => r[STREET.lsoaCode]!);
      const spots = hotspots[key];
      expect(spots.lsoas, key).toBe(byLsoa.size);
      expect(
        spots.rows.map((h) => [h.lsoaCode, h.crimes]),
        key,
      ).toEqual(spots.rows.map((h) => [h.lsoaCode, byLsoa.get(h.lsoaCode)]));
      expect(
        spots.rows.map((h) => h.crimes),
        key,
      ).toEqual([...byLsoa.values()].sort((a, b) => b - a).slice(0, 10));
      const top = spots.rows[0]!;
      const topTypes = tally(
        rows.filter((r) => r[STREET.lsoaCode] === top.lsoaCode),
        (r) => r[STREET.crimeType]!,
      );
      expect(top.topCrimes, key).toBe(Math.max(...topTypes.values()));
      expect(spots.withoutLocation, key).toBe(rows.filter((r) => r[STREET.lsoaCode] === '').length);
    }
    expect(hotspots.year.rows[0]!.crimes).toBeGreaterThan(hotspots.recent.rows[0]!.crimes);
  });
});
