/**
 * The audit trail as CSV, for the coordinator to keep or hand to an auditor: one row an event,
 * times in Europe/London (with the UTC instant alongside, so nothing is ambiguous at the clock
 * change), what was before and after as JSON.
 */
import { stringify } from 'csv-stringify/sync';

export const AUDIT_CSV_COLUMNS = [
  'When (Europe/London)',
  'When (UTC)',
  'Person',
  'Organisation',
  'What',
  'Summary',
  'Aim',
  'Kind',
  'Entity',
  'Entity id',
  'Via import',
  'Before',
  'After',
] as const;

export interface AuditCsvRow {
  occurredAt: Date;
  who: string;
  organisation: string | null;
  what: string;
  summary: string;
  /** The aim the event was about, with its plan year. */
  aim: { number: string; planYear: string } | null;
  kind: string;
  entity: string;
  entityId: string | null;
  viaImport: boolean;
  before: unknown;
  after: unknown;
}

const londonParts = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** "2025-01-31 14:05:09", London wall-clock time, sortable as text. */
export function londonTimestamp(date: Date): string {
  const part = (type: Intl.DateTimeFormatPartTypes) =>
    londonParts.formatToParts(date).find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')}:${part('second')}`;
}

const json = (value: unknown) => (value === null || value === undefined ? '' : JSON.stringify(value));

/**
 * UTF-8 with a byte-order mark (so Excel reads it as UTF-8), CRLF line ends, a header row. A cell
 * a spreadsheet would run as a formula gets a leading apostrophe: people's text is in here.
 */
export function writeAuditCsv(rows: readonly AuditCsvRow[]): string {
  return stringify(
    rows.map((r) => [
      londonTimestamp(r.occurredAt),
      r.occurredAt.toISOString(),
      r.who,
      r.organisation ?? '',
      r.what,
      r.summary,
      r.aim ? `${r.aim.number} (${r.aim.planYear})` : '',
      r.kind,
      r.entity,
      r.entityId ?? '',
      r.viaImport ? 'yes' : 'no',
      json(r.before),
      json(r.after),
    ]),
    {
      bom: true,
      header: true,
      columns: [...AUDIT_CSV_COLUMNS],
      record_delimiter: '\r\n',
      quoted_match: /[\r\n]/,
      escape_formulas: true,
    },
  );
}
