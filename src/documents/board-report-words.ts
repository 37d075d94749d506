/**
 * The words of the quarter's board report, shared by its DOCX and PDF so that both say the same:
 * the title, the cover's facts, the tables' headings and each cell's lines. Pure.
 */
import {
  SUMMARY_COLUMNS,
  type BoardReport,
  type BoardReportChange,
  type BoardReportRow,
  type BoardReportUpdateEntry,
  type StatusCounts,
  type SummaryColumn,
} from '../domain/board-report.js';
import { STATUS_LABELS } from '../domain/status.js';

export const SUMMARY_LABELS: Record<SummaryColumn, string> = {
  ...STATUS_LABELS,
  none: 'No update or no status',
};

/** "21 April 2025" from YYYY-MM-DD. */
export function day(isoDate: string): string {
  return new Date(`${isoDate}T12:00:00Z`).toLocaleDateString('en-GB', {
    timeZone: 'Europe/London',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  });
}

/** "Q4 2024/25 progress report to the board" */
export function reportTitle(report: BoardReport): string {
  return `${report.quarterLabel} ${report.plan.year} progress report to the board`;
}

/** The document's title property: who, what, and whether it is final. */
export function documentTitle(report: BoardReport): string {
  return `${report.partnership.name}: ${reportTitle(report)}${report.draft ? ' (draft)' : ''}`;
}

/** "SoSafe (Stevenage)": the area, unless the name says it already. */
function partnershipWords(partnership: { name: string; area: string | null }): string {
  const { name, area } = partnership;
  return area && !name.toLowerCase().includes(area.toLowerCase()) ? `${name} (${area})` : name;
}

/** The cover's facts, label and value. */
export function coverFacts(report: BoardReport): [string, string][] {
  return [
    ['Partnership', partnershipWords(report.partnership)],
    ['Plan', report.plan.title],
    ['Plan year', `${report.plan.year} (1 April to 31 March)`],
    ['Quarter', `${report.quarterLabel}: ${report.quarterMonths}`],
    [
      'Board meeting',
      report.boardMeetingOn ? day(report.boardMeetingOn) : 'Not yet: the quarter has not been closed',
    ],
    [
      'Produced',
      report.draft
        ? `${day(report.producedOn)}, from the live plan`
        : `${day(report.producedOn)}, when ${report.quarterLabel} was closed; it does not change afterwards`,
    ],
  ];
}

export const SUMMARY_HEADINGS = [...SUMMARY_COLUMNS.map((c) => SUMMARY_LABELS[c]), 'Total'];

export function summaryCells(counts: StatusCounts): string[] {
  return [...SUMMARY_COLUMNS.map((c) => String(counts.counts[c])), String(counts.total)];
}

export function summaryNote(report: BoardReport): string {
  return (
    `Each action is counted by the status of its ${report.quarterLabel} update. ` +
    'An action counts under every priority its aim addresses, so the priorities need not add up to the total.'
  );
}

/** The Word plan's columns, the last with this quarter's progress. */
export function planHeadings(report: BoardReport): string[] {
  return [
    'Aim',
    'Action',
    'Lead',
    'Partners',
    'Resources',
    'Expected outcomes',
    `Progress in ${report.quarterLabel}, with status`,
  ];
}

/** "1.1 Continue to promote …", "1.1 (continued)", with "Action 2" when an aim has several. */
export function aimCell(row: BoardReportRow): string[] {
  const head = row.firstOfAim ? `${row.aimNumber} ${row.aimTitle}` : `${row.aimNumber} (continued)`;
  return row.actionsInAim > 1 ? [head, `Action ${row.actionIndex}`] : [head];
}

/** The status line of a row's progress cell, always as words. */
export function statusLine(row: BoardReportRow): string {
  if (!row.actionIndex) return '';
  if (!row.update) return 'Status: no update';
  return `Status: ${row.update.statusLabel}`;
}

/** What the board should know about how the update came: late, returned, not yet reviewed. */
export function updateNotes(row: BoardReportRow): string[] {
  const update = row.update;
  if (!update) return [];
  const notes: string[] = [];
  if (update.late) notes.push('Sent late');
  if (update.state === 'returned') notes.push('Returned to its lead for changes');
  if (update.state === 'submitted') notes.push('Not yet reviewed by the JAG');
  return notes;
}

/** The progress text in paragraphs (blank lines and line breaks both split it). */
export function progressLines(row: BoardReportRow): string[] {
  if (!row.actionIndex) return ['This aim has no actions.'];
  if (!row.update) return ['No update was sent for this quarter.'];
  return row.update.text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

/** The six plain columns of a plan row, each as its lines (the progress column is written apart). */
export function planCells(row: BoardReportRow): string[][] {
  return [aimCell(row), row.action, row.leads, row.partners, row.resources, row.expectedOutcomes];
}

export const CHANGE_HEADINGS = ['Date', 'Change', 'Aim', 'What', 'By'];

export function changeCells(change: BoardReportChange): string[][] {
  return [
    [day(change.on)],
    [change.kindLabel],
    [change.aimNumber ?? ''],
    change.detail ? [change.title, change.detail] : [change.title],
    [change.by ?? ''],
  ];
}

export function changesIntro(report: BoardReport): string {
  return report.draft
    ? 'Changes to the plan since the last report to the board, so far.'
    : `Changes to the plan since the last report to the board, as reported with ${report.quarterLabel}.`;
}

export const ENTRY_HEADINGS = ['Aim', 'Action', 'Lead', 'Sent', 'Status'];

export function entryCells(entry: BoardReportUpdateEntry): string[] {
  return [
    `${entry.aimNumber} action ${entry.actionIndex}`,
    entry.action,
    entry.leads,
    entry.submittedOn ? day(entry.submittedOn) : 'Not sent',
    entry.statusLabel,
  ];
}

/** The header of every page. */
export function runningHead(report: BoardReport): string {
  return `${report.partnership.name} · ${reportTitle(report)}${report.draft ? ' · DRAFT' : ''}`;
}
