/**
 * The quarter's board report as data: what services/board-report.ts builds (from the closed
 * snapshot, or from the live plan for a draft) and the HTML page, DOCX and PDF write out. Pure.
 */
import type { CyclePhase } from './cycles.js';
import type { PlanChangeKind } from './plan-changes.js';
import type { Quarter } from './quarters.js';
import { STATUSES, type Status } from './status.js';

/** The columns of the status summary: the five statuses, then the actions with no status this quarter. */
export const SUMMARY_COLUMNS = [...STATUSES, 'none'] as const;
export type SummaryColumn = (typeof SUMMARY_COLUMNS)[number];
/** What the report says on every copy of a report that is not final. */
export const DRAFT_NOTICE = 'Draft: this quarter is not closed; figures may change';

export interface StatusCounts {
  /** What is counted: "1. Divert young people …", "All ASB", "All actions". */
  label: string;
  counts: Record<SummaryColumn, number>;
  total: number;
}

export interface BoardReportUpdate {
  status: Status | null;
  /** "On track"; "No status given" when the update has none. */
  statusLabel: string;
  text: string;
  /** Where the update stood: sent and waiting for review, accepted, or returned to its lead. */
  state: 'submitted' | 'accepted' | 'returned';
  late: boolean;
}

/** One row of the plan's table: an action of an aim (or an aim with no actions). */
export interface BoardReportRow {
  aimNumber: string;
  aimTitle: string;
  /** The first row of its aim: the aim's title is written out here, "(continued)" after. */
  firstOfAim: boolean;
  /** 1-based place of the action in its aim; 0 for an aim with no actions. */
  actionIndex: number;
  actionsInAim: number;
  /** The action's lines (what will be done); empty for an aim with no actions. */
  action: string[];
  leads: string[];
  partners: string[];
  resources: string[];
  expectedOutcomes: string[];
  /** This quarter's update (never a draft), or null when none was sent. */
  update: BoardReportUpdate | null;
}

export interface BoardReportSection {
  number: number;
  title: string;
  rows: BoardReportRow[];
}

/** An update listed as late or returned. */
export interface BoardReportUpdateEntry {
  aimNumber: string;
  actionIndex: number;
  /** The action's first line. */
  action: string;
  leads: string;
  /** YYYY-MM-DD (London) it was last sent, when it was. */
  submittedOn: string | null;
  status: Status | null;
  statusLabel: string;
}

export interface BoardReportChange {
  on: string;
  kind: PlanChangeKind;
  kindLabel: string;
  aimNumber: string | null;
  title: string;
  detail: string | null;
  by: string | null;
}

export interface BoardReport {
  partnership: { name: string; slug: string; area: string | null };
  plan: { title: string; year: string };
  quarter: Quarter;
  /** "Q4" */
  quarterLabel: string;
  /** "January to March" */
  quarterMonths: string;
  /** Where the quarter's cycle stands: a closed quarter's report is final. */
  phase: CyclePhase;
  draft: boolean;
  /** DRAFT_NOTICE on a draft; null on the final report. */
  draftNotice: string | null;
  /** The board meeting the closed quarter was reported to, YYYY-MM-DD; null for a draft. */
  boardMeetingOn: string | null;
  /** When the quarter was closed and the report frozen; null for a draft. */
  closedAt: Date | null;
  /** The day the report was produced, YYYY-MM-DD: the day of closing for a final report, today for a draft. */
  producedOn: string;
  /** The moment the content was taken: the closing, or now for a draft (a document's creation date). */
  producedAt: Date;
  summary: {
    bySection: StatusCounts[];
    byPriority: StatusCounts[];
    total: StatusCounts;
  };
  sections: BoardReportSection[];
  /** The changes to the plan since the last quarter's report, oldest first. */
  changes: BoardReportChange[];
  late: BoardReportUpdateEntry[];
  returned: BoardReportUpdateEntry[];
  /** "sosafe-2024-25-Q4-board-report", for the files' names. */
  fileName: string;
}
