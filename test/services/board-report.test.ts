/**
 * The quarter's board report over the demo plan: a draft from the live plan while the quarter is
 * not closed; once closed, the report from the snapshot alone, the same to the byte after the plan
 * and an update change. Its counts checked against the database; late and returned updates listed;
 * members (the board too) may read it, nobody else.
 */
import { sql } from 'drizzle-orm';
import mammoth from 'mammoth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { writeBoardReportDocx } from '../../src/documents/board-report-docx.js';
import { writeBoardReportPdf } from '../../src/documents/board-report-pdf.js';
import { SUMMARY_COLUMNS, type SummaryColumn } from '../../src/domain/board-report.js';
import { londonDate } from '../../src/domain/cycles.js';
import type { Member } from '../../src/domain/permissions.js';
import { memberActor, type Actor } from '../../src/services/actor.js';
import type { BoardReportRow, StatusCounts } from '../../src/domain/board-report.js';
import { DRAFT_NOTICE, getBoardReport, type BoardReport } from '../../src/services/board-report.js';
import { closeQuarter, getCycle, openQuarter, type CycleDeps } from '../../src/services/cycles.js';
import { ForbiddenError, NotFoundError } from '../../src/services/errors.js';
import { Mailer } from '../../src/services/mail.js';
import { updateAim } from '../../src/services/plan-edit.js';
import { findAim, getPartnershipBySlug, loadPlanTree, type PlanTree } from '../../src/services/plan-read.js';
import { reviewUpdate, saveProgress } from '../../src/services/progress.js';
import { getMember } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const links = { baseUrl: 'https://plan.example.test' };

let database: TestDatabase;
let deps: CycleDeps;
let coordinator: Actor;
let helen: Actor;
let board: Actor;
let partner: Actor;
let planId: number;

async function actorFor(email: string): Promise<Actor> {
  const [user] = await queryRows<{ id: number; partnership_id: number }>(
    database.db,
    sql`select u.id, m.partnership_id from users u join memberships m on m.user_id = u.id where u.email = ${email}`,
  );
  return memberActor((await getMember(database.db, user!.id, user!.partnership_id)) as Member);
}

async function tree(): Promise<PlanTree> {
  return loadPlanTree(database.db, await getPartnershipBySlug(database.db, 'sosafe'), '2024/25');
}

const report = (actor: Actor, quarter: 1 | 2 | 3 | 4, now?: Date) =>
  getBoardReport(database.db, actor, 'sosafe', '2024/25', quarter, now);

function row(r: BoardReport, aim: string, index: number): BoardReportRow {
  const found = r.sections.flatMap((s) => s.rows).find((x) => x.aimNumber === aim && x.actionIndex === index);
  if (!found) throw new Error(`No row for aim ${aim}, action ${index}`);
  return found;
}

/** Counts of a quarter's statuses straight from the tables, grouped by `by` (a SQL expression). */
async function countsFromDatabase(quarter: number, by: 'section' | 'priority') {
  const rows =
    by === 'section'
      ? await queryRows<{ key: string; status: SummaryColumn; n: number }>(
          database.db,
          sql`select s.number::text as key, coalesce(p.status::text, 'none') as status, count(*)::int as n
              from actions a
              join aims ai on ai.id = a.aim_id
              join sections s on s.id = ai.section_id
              left join progress_updates p on p.action_id = a.id and p.quarter = ${quarter} and p.state <> 'draft'
              where ai.plan_id = ${planId} and a.archived_at is null and ai.archived_at is null and s.archived_at is null
              group by 1, 2`,
        )
      : await queryRows<{ key: string; status: SummaryColumn; n: number }>(
          database.db,
          sql`select pr.title as key, coalesce(p.status::text, 'none') as status, count(*)::int as n
              from priorities pr
              join priority_aims pa on pa.priority_id = pr.id
              join aims ai on ai.id = pa.aim_id
              join sections s on s.id = ai.section_id
              join actions a on a.aim_id = ai.id
              left join progress_updates p on p.action_id = a.id and p.quarter = ${quarter} and p.state <> 'draft'
              where pr.plan_id = ${planId} and pr.archived_at is null and a.archived_at is null
                and ai.archived_at is null and s.archived_at is null
              group by 1, 2`,
        );
  const counts = new Map<string, Record<SummaryColumn, number>>();
  for (const r of rows) {
    const c =
      counts.get(r.key) ??
      (Object.fromEntries(SUMMARY_COLUMNS.map((s) => [s, 0])) as Record<SummaryColumn, number>);
    c[r.status] += r.n;
    counts.set(r.key, c);
  }
  return counts;
}

function byKey(rows: readonly StatusCounts[], key: (label: string) => string) {
  return new Map(rows.map((r) => [key(r.label), r.counts]));
}

async function docxText(bytes: Buffer): Promise<string> {
  return (await mammoth.extractRawText({ buffer: bytes })).value;
}

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
  deps = { db: database.db, mailer: new Mailer({}) };
  coordinator = await actorFor('coordinator@sosafe.example');
  helen = await actorFor('helen.whitehead@sosafe.example');
  board = await actorFor('board@sosafe.example');
  partner = await actorFor('partner@sosafe.example');
  planId = (await tree()).plan.id;
});
afterAll(async () => {
  deps?.mailer.close();
  await database?.drop();
});

describe('who may read it', () => {
  it('is for members, the board and partners too; anyone else is refused', async () => {
    for (const actor of [board, partner, helen, coordinator]) {
      expect((await report(actor, 3)).partnership.slug).toBe('sosafe');
    }
    const stranger: Actor = { userId: 9999, label: 'a stranger', member: undefined, system: false };
    await expect(report(stranger, 3)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(getBoardReport(database.db, board, 'sosafe', '2031/32', 3)).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});

describe('a quarter not closed', () => {
  it('is a draft from the live plan, saying so, with the cover’s facts', async () => {
    const now = new Date('2025-01-20T10:00:00Z');
    const draft = await report(board, 3, now);
    expect(draft).toMatchObject({
      partnership: { name: 'SoSafe Stevenage', slug: 'sosafe' },
      plan: { year: '2024/25' },
      quarter: 3,
      quarterLabel: 'Q3',
      quarterMonths: 'October to December',
      phase: 'not_opened',
      draft: true,
      draftNotice: DRAFT_NOTICE,
      boardMeetingOn: null,
      closedAt: null,
      producedOn: '2025-01-20',
      fileName: 'sosafe-2024-25-Q3-board-report',
    });
    expect(DRAFT_NOTICE).toBe('Draft: this quarter is not closed; figures may change');
    // The plan in the Word plan's columns, with the demo's Q3 progress.
    const live = await tree();
    expect(draft.sections.map((s) => s.number)).toEqual(live.sections.map((s) => s.number));
    const first = row(draft, '1.1', 1);
    expect(first).toMatchObject({
      aimTitle: 'Continue to promote the No More Youth service',
      firstOfAim: true,
    });
    expect(first.leads).toEqual(['NMS']);
    expect(first.partners).toContain('GP surgeries');
    expect(first.resources).toContain('Leaflets');
    expect(first.update?.text).toBe('Promotion of NMSY at Jackmans community day in Letchworth');
    expect(row(draft, '3.1', 2)).toMatchObject({ firstOfAim: false, actionsInAim: 3 });
    expect(draft.summary.total.total).toBe(
      live.sections.flatMap((s) => s.aims).flatMap((a) => a.actions).length,
    );
  });

  it('lists late and returned updates and counts the statuses as the database holds them', async () => {
    // Due long ago: every update sent now is late.
    await openQuarter(deps, coordinator, planId, { quarter: 4, dueOn: '2025-04-14' }, links);
    const { aim } = findAim(await tree(), '3.1');
    await saveProgress(database.db, helen, aim.actions[0]!.id, {
      quarter: 4,
      status: 'on_track',
      text: 'Third party reporting centres advertised in the libraries – £250 of leaflets.',
    });
    const second = await saveProgress(database.db, helen, aim.actions[1]!.id, {
      quarter: 4,
      status: 'at_risk',
      text: 'Campaign delayed.',
    });
    await reviewUpdate(
      deps,
      coordinator,
      second.id,
      { decision: 'return', comment: 'Say why, please', version: second.version },
      links,
    );
    // A draft is the lead's own until it is sent: the board never sees it.
    const { aim: first } = findAim(await tree(), '1.1');
    await saveProgress(database.db, coordinator, first.actions[0]!.id, {
      quarter: 4,
      intent: 'draft',
      status: 'off_track',
      text: 'A draft nobody has sent',
    });

    const draft = await report(partner, 4);
    expect(draft).toMatchObject({ phase: 'open', draft: true, draftNotice: DRAFT_NOTICE });
    expect(draft.late.map((e) => `${e.aimNumber}-${e.actionIndex}`)).toEqual(['3.1-1', '3.1-2']);
    expect(draft.late[0]).toMatchObject({
      leads: 'CCSU (Helen Whitehead); SBC',
      statusLabel: 'On track',
      submittedOn: londonDate(new Date()),
    });
    expect(draft.returned.map((e) => `${e.aimNumber}-${e.actionIndex}`)).toEqual(['3.1-2']);
    expect(draft.returned[0]).toMatchObject({ status: 'at_risk', statusLabel: 'At risk' });
    expect(row(draft, '3.1', 1).update).toMatchObject({ status: 'on_track', state: 'submitted', late: true });
    expect(row(draft, '3.1', 2).update).toMatchObject({ status: 'at_risk', state: 'returned', late: true });
    expect(row(draft, '1.1', 1).update).toBeNull();
    expect(JSON.stringify(draft)).not.toContain('A draft nobody has sent');

    const sections = await countsFromDatabase(4, 'section');
    expect(byKey(draft.summary.bySection, (label) => label.split('.')[0]!)).toEqual(sections);
    const priorities = await countsFromDatabase(4, 'priority');
    const reported = byKey(draft.summary.byPriority, (label) => label);
    for (const [title, counts] of priorities) expect(reported.get(title)).toEqual(counts);
    expect(draft.summary.total.counts).toMatchObject({ on_track: 1, at_risk: 1, off_track: 0 });
    expect(draft.summary.total.total).toBe(
      [...sections.values()].reduce((n, c) => n + Object.values(c).reduce((a, b) => a + b, 0), 0),
    );
  });

  it('lists the changes since the last report', async () => {
    const { aim } = findAim(await tree(), '5.5');
    await updateAim(database.db, coordinator, aim.id, {
      number: '5.5',
      title: `${aim.title} (revised in Q4)`,
      version: aim.version,
    });
    const draft = await report(board, 4);
    const changed = draft.changes.find((c) => c.kind === 'aim_changed' && c.aimNumber === '5.5');
    expect(changed).toMatchObject({ kindLabel: 'Aim changed', by: 'Casey Coordinator' });
    expect(changed?.title).toContain('(revised in Q4)');
    // The demo's mid-year additions, never reported yet.
    expect(draft.changes.map((c) => c.kind)).toContain('aim_added');
  });
});

describe('a closed quarter', () => {
  let closed: BoardReport;
  let pdf: Buffer;
  let docx: string;

  it('is the final report, from the snapshot, with the board meeting’s date', async () => {
    const cycle = (await getCycle(database.db, coordinator, planId, 4))!;
    const before = await report(board, 4);
    await closeQuarter(database.db, coordinator, cycle.id, {
      reportedOn: '2025-04-21',
      version: cycle.version,
    });
    closed = await report(board, 4);
    const closedAt = (await getCycle(database.db, coordinator, planId, 4))!.closedAt!;
    expect(closed).toMatchObject({
      phase: 'closed',
      draft: false,
      draftNotice: null,
      boardMeetingOn: '2025-04-21',
      producedOn: londonDate(closedAt),
    });
    expect(closed.closedAt?.getTime()).toBe(closedAt.getTime());
    expect(closed.producedAt.getTime()).toBe(closedAt.getTime());
    // The same plan, updates, counts and lists the draft showed just before closing.
    expect(closed.sections).toEqual(before.sections);
    expect(closed.summary).toEqual(before.summary);
    expect(closed.late).toEqual(before.late);
    expect(closed.returned).toEqual(before.returned);
    expect(closed.changes.map((c) => [c.kind, c.aimNumber])).toEqual(
      before.changes.map((c) => [c.kind, c.aimNumber]),
    );
    pdf = await writeBoardReportPdf(closed);
    docx = await docxText(await writeBoardReportDocx(closed));
    expect(docx).toContain('Q4 2024/25 progress report to the board');
    expect(docx).toContain('21 April 2025');
    expect(docx).not.toContain(DRAFT_NOTICE);
  });

  it('never changes afterwards: the plan and an update changed after closing leave it byte for byte as it was', async () => {
    const { aim } = findAim(await tree(), '3.1');
    await updateAim(database.db, coordinator, aim.id, {
      number: '3.1',
      title: 'A title given after the board met',
      version: aim.version,
    });
    const update = aim.actions[0]!.progress.find((p) => p.quarter === 4)!;
    const amended = await saveProgress(database.db, helen, aim.actions[0]!.id, {
      quarter: 4,
      status: 'complete',
      text: 'Amended after the board met.',
      version: update.version,
    });
    expect(amended.amendment).toBe(true);
    // The live plan did change…
    expect(findAim(await tree(), '3.1').aim.title).toBe('A title given after the board met');

    // …the report did not, a day later either.
    const again = await report(board, 4, new Date(Date.now() + 86_400_000));
    expect(again).toEqual(closed);
    expect(row(again, '3.1', 1)).toMatchObject({ aimTitle: aim.title, update: { status: 'on_track' } });
    expect(Buffer.compare(await writeBoardReportPdf(again), pdf)).toBe(0);
    const text = await docxText(await writeBoardReportDocx(again));
    expect(text).toBe(docx);
    expect(text).not.toContain('A title given after the board met');
    expect(text).not.toContain('Amended after the board met.');
  });

  it('starts the next draft’s changes after the closed report', async () => {
    const next = await report(board, 1);
    expect(next.draft).toBe(true);
    expect(next.changes.map((c) => [c.kind, c.aimNumber])).toEqual([['aim_changed', '3.1']]);
  });
});
