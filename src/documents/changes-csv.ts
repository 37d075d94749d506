/**
 * The changes of a plan year as CSV, one row a change, grouped as on the page: the quarter report
 * each was reported with (or "Since the last report"). Dates are London days, YYYY-MM-DD.
 */
import { stringify } from 'csv-stringify/sync';

export const CHANGES_CSV_COLUMNS = [
  'Reported with',
  'Date',
  'Change',
  'Aim',
  'What',
  'Detail',
  'Who',
] as const;

export interface ChangesCsvRow {
  /** "Q2 (board on 2024-10-17)", "Since the last report". */
  reportedWith: string;
  on: string;
  /** "Aim added". */
  change: string;
  aimNumber: string | undefined;
  title: string;
  detail: string | undefined;
  by: string | undefined;
}

/**
 * UTF-8 with a byte-order mark (so Excel reads it as UTF-8), CRLF line ends, a header row. A cell
 * a spreadsheet would run as a formula gets a leading apostrophe: people's text is in here.
 */
export function writeChangesCsv(rows: readonly ChangesCsvRow[]): string {
  return stringify(
    rows.map((r) => [r.reportedWith, r.on, r.change, r.aimNumber ?? '', r.title, r.detail ?? '', r.by ?? '']),
    {
      bom: true,
      header: true,
      columns: [...CHANGES_CSV_COLUMNS],
      record_delimiter: '\r\n',
      quoted_match: /[\r\n]/,
      escape_formulas: true,
    },
  );
}
