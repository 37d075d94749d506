/**
 * DEFRA's fly-tipping statistics by local authority: the LA_incidents and LA_actions sheets of the
 * "Fly-tipping in England" workbook, saved as CSV (a whole sheet, or a county's rows of it). Which
 * sheet a file is comes from its headers. Pure: bytes in, rows out.
 *
 * DEFRA's quirks, kept out of the database: ':' (or '[x]', '[c]') for a figure not available,
 * which becomes null; authority names and headers with trailing spaces ('Mid population estimates ');
 * numbers written with thousands separators ('1,234').
 */
import { parse } from 'csv-parse/sync';

export type DefraKind = 'incidents' | 'actions';

export const DEFRA_KIND_LABELS: Record<DefraKind, string> = {
  incidents: 'incidents (LA_incidents)',
  actions: 'enforcement actions (LA_actions)',
};

/** The header of each sheet's headline figure. */
export const DEFRA_TOTAL_COLUMN: Record<DefraKind, string> = {
  incidents: 'Total Incidents',
  actions: 'Total Actions',
};
/** The population column of LA_incidents, from 2019-20 on (':' before), trimmed. */
export const DEFRA_POPULATION_COLUMN = 'Mid population estimates';

const KEY_COLUMNS = ['Year', 'ONS Code', 'LA Name', 'Region'] as const;

export type DefraFigure = number | string | null;

export interface DefraRow {
  line: number;
  /** '2021-22'. */
  year: string;
  onsCode: string;
  authority: string;
  region: string;
  total: number | null;
  /** Every column of the row but the four that say whose it is, by trimmed header. */
  figures: Record<string, DefraFigure>;
}

export interface DefraProblem {
  line?: number;
  column?: string;
  message: string;
}

export type DefraRead =
  { ok: true; kind: DefraKind; rows: DefraRow[]; years: string[] } | { ok: false; problems: DefraProblem[] };

const NOT_AVAILABLE = new Set([':', '[x]', '[c]', '[z]', '..']);

/** A DEFRA cell: null where not available, a number where it is one, otherwise the text. */
export function defraFigure(text: string): DefraFigure {
  const value = text.trim();
  if (value === '' || NOT_AVAILABLE.has(value.toLowerCase())) return null;
  if (/^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$|^-?\d+(?:\.\d+)?$/.test(value))
    return Number(value.replace(/,/g, ''));
  return value;
}

export function describeDefraProblem(p: DefraProblem): string {
  const where = [
    p.line === undefined ? '' : `line ${p.line}`,
    p.column === undefined ? '' : `column “${p.column}”`,
  ]
    .filter(Boolean)
    .join(', ');
  return where ? `${where}: ${p.message}` : p.message;
}

/** Reads a whole file; any problem refuses it, with every problem's line and column. */
export function readDefraFlyTipping(data: Uint8Array | string): DefraRead {
  const text = (typeof data === 'string' ? data : new TextDecoder('utf-8').decode(data)).replace(
    /^\uFEFF/,
    '',
  );
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { relax_column_count: true, skip_empty_lines: true, info: true }) as unknown as {
      record: string[];
      info: { lines: number };
    }[];
  } catch (error) {
    return {
      ok: false,
      problems: [
        {
          line: (error as { lines?: number }).lines,
          message: `not a CSV file we can read (${(error as Error).message})`,
        },
      ],
    };
  }
  const [head, ...body] = records;
  if (!head) return { ok: false, problems: [{ message: 'the file is empty' }] };
  const headers = head.record.map((h) => h.replace(/\s+/g, ' ').trim());
  const kind: DefraKind | undefined = headers.includes(DEFRA_TOTAL_COLUMN.incidents)
    ? 'incidents'
    : headers.includes(DEFRA_TOTAL_COLUMN.actions)
      ? 'actions'
      : undefined;
  const missing = KEY_COLUMNS.filter((c) => !headers.includes(c));
  if (!kind || missing.length) {
    return {
      ok: false,
      problems: [
        {
          line: 1,
          message:
            'this is not one of DEFRA’s fly-tipping sheets by local authority: its header row needs ' +
            `${[...KEY_COLUMNS, `“${DEFRA_TOTAL_COLUMN.incidents}” (LA_incidents) or “${DEFRA_TOTAL_COLUMN.actions}” (LA_actions)`].join(', ')}` +
            (missing.length ? `; missing: ${missing.join(', ')}` : ''),
        },
      ],
    };
  }
  const at = (name: string) => headers.indexOf(name);
  const yearAt = at('Year');
  const codeAt = at('ONS Code');
  const nameAt = at('LA Name');
  const regionAt = at('Region');
  const totalHeader = DEFRA_TOTAL_COLUMN[kind];
  const totalAt = at(totalHeader);
  const problems: DefraProblem[] = [];
  const rows: DefraRow[] = [];
  const seen = new Map<string, number>();
  for (const { record, info } of body) {
    const line = info.lines;
    if (record.every((c) => c.trim() === '')) continue;
    const cell = (i: number) => (record[i] ?? '').replace(/\s+/g, ' ').trim();
    const year = cell(yearAt);
    const onsCode = cell(codeAt).toUpperCase();
    const authority = cell(nameAt);
    const region = cell(regionAt);
    const before = problems.length;
    if (!/^\d{4}-\d{2}$/.test(year)) {
      problems.push({ line, column: 'Year', message: `“${year}” is not a financial year like 2021-22` });
    }
    if (!/^[EWSN]\d{8}$/.test(onsCode)) {
      problems.push({ line, column: 'ONS Code', message: `“${onsCode}” is not an ONS code like E07000243` });
    }
    if (authority === '')
      problems.push({ line, column: 'LA Name', message: 'the authority’s name is empty' });
    const total = defraFigure(record[totalAt] ?? '');
    if (typeof total === 'string' || (typeof total === 'number' && (!Number.isInteger(total) || total < 0))) {
      problems.push({ line, column: totalHeader, message: `“${cell(totalAt)}” is not a number of ${kind}` });
    }
    const key = `${year}|${onsCode}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      problems.push({ line, message: `${authority} ${year} is in the file twice (also line ${earlier})` });
    }
    seen.set(key, line);
    if (problems.length > before) continue;
    const figures: Record<string, DefraFigure> = {};
    headers.forEach((header, i) => {
      if (i === yearAt || i === codeAt || i === nameAt || i === regionAt || header === '') return;
      figures[header] = defraFigure(record[i] ?? '');
    });
    rows.push({ line, year, onsCode, authority, region, total: total as number | null, figures });
  }
  if (problems.length) return { ok: false, problems };
  if (!rows.length)
    return { ok: false, problems: [{ message: 'the file has a header row but no rows under it' }] };
  const years = [...new Set(rows.map((r) => r.year))].sort();
  return { ok: true, kind, rows, years };
}
