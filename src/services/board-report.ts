/**
 * The quarter's report to the partnership board: a cover (partnership, plan year, quarter, board
 * meeting, when it was produced), the statuses of the quarter's updates counted by section and by
 * priority, the plan in the Word plan's columns with each action's progress this quarter, the
 * changes to the plan since the last report, and the late and returned updates.
 *
 * One model, written out as an HTML page, a DOCX and a PDF (documents/board-report-*.ts). Once the
 * quarter is closed the model is built from its snapshot alone, so the report never changes
 * afterwards, whatever happens to the plan; before that it is built from the live plan and says
 * plainly that it is a draft.
 */
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import * as t from '../db/schema.js';
import { londonDate, type CyclePhase } from '../domain/cycles.js';
import { describeParty } from '../domain/parties.js';
import {
  parsePlanYear,
  planYearSlug,
  quarterLabel,
  quarterMonths,
  type Quarter,
} from '../domain/quarters.js';
import { STATUS_LABELS } from '../domain/status.js';
import {
  DRAFT_NOTICE,
  SUMMARY_COLUMNS,
  type BoardReport,
  type BoardReportChange,
  type BoardReportRow,
  type BoardReportSection,
  type BoardReportUpdateEntry,
  type StatusCounts,
  type SummaryColumn,
} from '../domain/board-report.js';
import type { Actor } from './actor.js';
import { PLAN_CHANGE_LABELS, changesByReport, type PlanChange } from './changes.js';
import { findCycle } from './cycle-read.js';
import { getSnapshot, submissionBoard, type BoardRow } from './cycles.js';
import { NotFoundError } from './errors.js';
import { getPartnershipBySlug, loadPlanTree, type PartnershipRow, type PlanTree } from './plan-read.js';
import { assertMayRead } from './plan-view.js';

export { DRAFT_NOTICE, type BoardReport };

// ——— shaping ———

function emptyCounts(): Record<SummaryColumn, number> {
  return Object.fromEntries(SUMMARY_COLUMNS.map((c) => [c, 0])) as Record<SummaryColumn, number>;
}

function countRows(label: string, rows: readonly BoardReportRow[]): StatusCounts {
  const counts = emptyCounts();
  let total = 0;
  for (const row of rows) {
    if (!row.actionIndex) continue;
    counts[row.update?.status ?? 'none'] += 1;
    total += 1;
  }
  return { label, counts, total };
}

function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

function planSections(tree: PlanTree, quarter: Quarter): BoardReportSection[] {
  return tree.sections.map((section) => ({
    number: section.number,
    title: section.title,
    rows: section.aims.flatMap((aim): BoardReportRow[] => {
      const base = { aimNumber: aim.number, aimTitle: aim.title, actionsInAim: aim.actions.length };
      if (!aim.actions.length) {
        return [
          {
            ...base,
            firstOfAim: true,
            actionIndex: 0,
            action: [],
            leads: [],
            partners: [],
            resources: [],
            expectedOutcomes: [],
            update: null,
          },
        ];
      }
      return aim.actions.map((action, index) => {
        const update = action.progress.find((p) => p.quarter === quarter);
        return {
          ...base,
          firstOfAim: index === 0,
          actionIndex: index + 1,
          action: lines(action.description),
          leads: action.leads.map(describeParty),
          partners: action.partners.map(describeParty),
          resources: [...action.resources],
          expectedOutcomes: [...action.expectedOutcomes],
          update: update
            ? {
                status: update.status,
                statusLabel: update.status ? STATUS_LABELS[update.status] : 'No status given',
                text: update.text,
                state: update.state,
                late: update.late,
              }
            : null,
        };
      });
    }),
  }));
}

function summarise(tree: PlanTree, sections: readonly BoardReportSection[]): BoardReport['summary'] {
  const rowsByAimId = new Map<number, BoardReportRow[]>();
  for (const [i, section] of tree.sections.entries()) {
    for (const aim of section.aims) {
      rowsByAimId.set(
        aim.id,
        (sections[i]?.rows ?? []).filter((r) => r.aimNumber === aim.number),
      );
    }
  }
  return {
    bySection: sections.map((s) => countRows(`${s.number}. ${s.title}`, s.rows)),
    // An action counts under every priority its aim addresses, so these need not add up to the total.
    byPriority: tree.priorities.map((p) =>
      countRows(
        p.title,
        p.aimIds.flatMap((id) => rowsByAimId.get(id) ?? []),
      ),
    ),
    total: countRows(
      'All actions',
      sections.flatMap((s) => s.rows),
    ),
  };
}

function updateEntry(row: BoardRow): BoardReportUpdateEntry {
  return {
    aimNumber: row.aimNumber,
    actionIndex: row.actionIndex,
    action: lines(row.description)[0] ?? '',
    leads: row.leads,
    submittedOn: row.submittedAt ? londonDate(row.submittedAt) : null,
    status: row.status,
    statusLabel: row.status ? STATUS_LABELS[row.status] : 'No status given',
  };
}

function changeEntry(change: PlanChange): BoardReportChange {
  return {
    on: change.on,
    kind: change.kind,
    kindLabel: PLAN_CHANGE_LABELS[change.kind] ?? change.kind,
    aimNumber: change.aimNumber ?? null,
    title: change.title,
    detail: change.detail ?? null,
    by: change.by ?? null,
  };
}

interface Sources {
  tree: PlanTree;
  quarter: Quarter;
  board: readonly BoardRow[];
  changes: readonly PlanChange[];
  phase: CyclePhase;
  boardMeetingOn: string | null;
  closedAt: Date | null;
  producedAt: Date;
}

/** The report from what it is made of: pure, so a snapshot always gives the same report. */
export function buildBoardReport(sources: Sources): BoardReport {
  const { tree, quarter, board } = sources;
  const sections = planSections(tree, quarter);
  const draft = sources.phase !== 'closed';
  return {
    partnership: { name: tree.partnership.name, slug: tree.partnership.slug, area: tree.partnership.area },
    plan: { title: tree.plan.title, year: tree.plan.year },
    quarter,
    quarterLabel: quarterLabel(quarter),
    quarterMonths: quarterMonths(quarter),
    phase: sources.phase,
    draft,
    draftNotice: draft ? DRAFT_NOTICE : null,
    boardMeetingOn: sources.boardMeetingOn,
    closedAt: sources.closedAt,
    producedOn: londonDate(sources.producedAt),
    producedAt: sources.producedAt,
    summary: summarise(tree, sections),
    sections,
    changes: sources.changes.map(changeEntry),
    late: board.filter((r) => r.late && r.progressId !== null && r.state !== 'draft').map(updateEntry),
    returned: board.filter((r) => r.state === 'returned').map(updateEntry),
    fileName: `${tree.partnership.slug.replace(/[^\w-]/g, '')}-${planYearSlug(tree.plan.year)}-${quarterLabel(quarter)}-board-report`,
  };
}

// ——— the service ———

/**
 * The board report of a quarter of a plan, for anyone who may read the plan (members, the board
 * too). From the snapshot alone once the quarter is closed; a draft from the live plan before.
 * `now` is when a draft is produced.
 */
export async function getBoardReport(
  db: Db,
  actor: Actor,
  which: string | PartnershipRow,
  year: string,
  quarter: Quarter,
  now: Date = new Date(),
): Promise<BoardReport> {
  const partnership = typeof which === 'string' ? await getPartnershipBySlug(db, which) : which;
  assertMayRead(actor, partnership.id);
  const planYear = parsePlanYear(year);
  if (!planYear) throw new NotFoundError(`The plan ${year}`);
  const [plan] = await db
    .select({ id: t.plans.id })
    .from(t.plans)
    .where(and(eq(t.plans.partnershipId, partnership.id), eq(t.plans.year, planYear)));
  if (!plan) throw new NotFoundError(`The plan ${planYear}`);
  const cycle = await findCycle(db, plan.id, quarter);

  if (cycle?.phase === 'closed') {
    const snapshot = await getSnapshot(db, actor, plan.id, quarter);
    if (!snapshot) throw new NotFoundError(`The report of ${quarterLabel(quarter)} ${planYear} to the board`);
    return buildBoardReport({
      tree: snapshot.tree,
      quarter,
      board: snapshot.board,
      changes: snapshot.changes,
      phase: 'closed',
      boardMeetingOn: snapshot.reportedOn,
      closedAt: snapshot.takenAt,
      producedAt: snapshot.takenAt,
    });
  }

  const tree = await loadPlanTree(db, partnership, planYear);
  const board = await submissionBoard(db, actor, plan.id, quarter);
  const reports = await changesByReport(db, actor, plan.id);
  return buildBoardReport({
    tree,
    quarter,
    board: board.rows,
    changes: reports.at(-1)?.changes ?? [],
    phase: cycle?.phase ?? 'not_opened',
    boardMeetingOn: null,
    closedAt: null,
    producedAt: now,
  });
}
