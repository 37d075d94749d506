/**
 * The Community Trigger's annual figures as CSV, one row a financial year, oldest first: the four
 * statutory figures, where each year's figures come from, and the published source's address.
 * A figure that was not published is left blank.
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { AnnualFigures, PublishedFigures } from '../domain/case-reviews.js';

export const CASE_REVIEW_CSV_COLUMNS = [
  'Financial year',
  'Applications received',
  'Threshold not met',
  'Case reviews carried out',
  'Case reviews resulting in recommendations',
  'Source',
  'Source URL',
] as const;

const figure = (n: number | null) => (n === null ? '' : String(n));

/** UTF-8 with a byte-order mark (Excel reads it as UTF-8), CRLF line ends, a header row. */
export function writeCaseReviewFiguresCsv(rows: readonly AnnualFigures[]): string {
  return stringify(
    rows.map((r) => [
      r.year,
      figure(r.applicationsReceived),
      figure(r.thresholdNotMet),
      figure(r.reviewsCarriedOut),
      figure(r.reviewsWithRecommendations),
      r.source === 'register' ? 'Case review register' : 'Published figures',
      r.source === 'published' ? (r.sourceUrl ?? '') : '',
    ]),
    {
      bom: true,
      header: true,
      columns: [...CASE_REVIEW_CSV_COLUMNS],
      record_delimiter: '\r\n',
      escape_formulas: true,
    },
  );
}

/** A published figures file that cannot be read: its line and what is wrong. */
export class PublishedFiguresError extends Error {}

/** A source's address, shown as a link: http or https only. */
function sourceUrl(value: string, line: number): string | null {
  if (value === '') return null;
  if (!/^https?:\/\/[^\s]+$/i.test(value)) {
    throw new PublishedFiguresError(`line ${line}: source_url must be an http or https address`);
  }
  return value;
}

const PUBLISHED_COLUMNS = [
  'year',
  'reviews_requested',
  'threshold_not_met',
  'reviews_undertaken',
  'source_url',
];

/**
 * A council's published annual figures (columns authority, year, reviews_requested,
 * threshold_not_met, reviews_undertaken, source_url; others ignored), as the demo's
 * north_herts_community_trigger.csv gives them. Recommendations are not published there: null.
 * A blank or ':' figure is not published (null); applications received must be given.
 */
export function readPublishedFiguresCsv(text: string): PublishedFigures[] {
  const records = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: true }) as string[][];
  const [header, ...rows] = records;
  const names = (header ?? []).map((h) => h.trim().toLowerCase());
  const missing = PUBLISHED_COLUMNS.filter((c) => !names.includes(c));
  if (missing.length) throw new PublishedFiguresError(`line 1: missing column(s) ${missing.join(', ')}`);
  const cell = (row: string[], name: string) => (row[names.indexOf(name)] ?? '').trim();
  return rows.map((row, i) => {
    const line = i + 2;
    const count = (name: string): number | null => {
      const value = cell(row, name);
      if (value === '' || value === ':') return null;
      if (!/^\d+$/.test(value))
        throw new PublishedFiguresError(`line ${line}: ${name} is not a count: ${value}`);
      return Number(value);
    };
    const year = cell(row, 'year');
    if (!/^\d{4}\/\d{2}$/.test(year)) {
      throw new PublishedFiguresError(`line ${line}: year must be a financial year like 2021/22: ${year}`);
    }
    const applicationsReceived = count('reviews_requested');
    if (applicationsReceived === null) {
      throw new PublishedFiguresError(`line ${line}: reviews_requested is not given`);
    }
    return {
      year,
      applicationsReceived,
      thresholdNotMet: count('threshold_not_met'),
      reviewsCarriedOut: count('reviews_undertaken'),
      reviewsWithRecommendations: names.includes('reviews_with_recommendations')
        ? count('reviews_with_recommendations')
        : null,
      sourceUrl: sourceUrl(cell(row, 'source_url'), line),
    };
  });
}
