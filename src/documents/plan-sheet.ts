/**
 * The plan as an Excel workbook: the CSV plan's columns (plan-csv.ts), one sheet per section,
 * with a frozen header row, filters, wrapped text and every cell stored as text. Reading takes
 * the same workbook back (or a CSV) and names every problem by sheet, row and column.
 * Documented in docs/plan-spreadsheet.md.
 */
import ExcelJS from 'exceljs';
import { STATUSES, STATUS_LABELS } from '../domain/status.js';
import {
  PLAN_CSV_COLUMNS,
  planTableSections,
  readPlanCsv,
  readPlanTables,
  type PlanCsvColumn,
  type PlanTable,
  type PlanTableResult,
  type TablePlan,
  type TableRecord,
} from './plan-csv.js';

export const PLAN_SHEET_COLUMNS = PLAN_CSV_COLUMNS;
export type PlanSheetColumn = PlanCsvColumn;

/** Excel's limit on a sheet's name, and the characters it refuses in one. */
const SHEET_NAME_LIMIT = 31;
const SHEET_NAME_REFUSED = /[\\/?*[\]:]/g;

/** Column widths in characters: wide for the texts people write, narrow for numbers and codes. */
const WIDTHS: Partial<Record<PlanCsvColumn, number>> = {
  Section: 9,
  'Section title': 24,
  Aim: 7,
  'Aim title': 36,
  'Aim added on': 13,
  Action: 48,
  Lead: 28,
  Partners: 28,
  Resources: 28,
  'Expected outcomes': 36,
  'Progress without a quarter': 40,
  'Action id': 10,
};
const PROGRESS_WIDTH = 48;
const STATUS_WIDTH = 13;

/** The most rows a workbook or CSV may hold: a plan is tens of aims and a few hundred actions. */
export const MAX_SHEET_ROWS = 5000;

/**
 * A section's sheet name: "1 Divert young people from", its number and as many whole words of
 * its title as fit Excel's 31 characters, unique in the workbook.
 */
export function sheetName(number: number, title: string, taken: ReadonlySet<string> = new Set()): string {
  const words = title.replace(SHEET_NAME_REFUSED, ' ').replace(/'/g, '’').split(/\s+/).filter(Boolean);
  let name = String(number);
  for (const word of words) {
    const longer = `${name} ${word}`;
    if (longer.length > SHEET_NAME_LIMIT) break;
    name = longer;
  }
  if (name === String(number) && words[0]) name = `${name} ${words[0]}`.slice(0, SHEET_NAME_LIMIT);
  let unique = name;
  for (let n = 2; [...taken].some((t) => t.toLowerCase() === unique.toLowerCase()); n++) {
    const suffix = ` (${n})`;
    unique = `${name.slice(0, SHEET_NAME_LIMIT - suffix.length)}${suffix}`;
  }
  return unique;
}

/** Points a line of 11-point text takes, and the most Excel allows a row. */
const LINE_HEIGHT = 15;
const MAX_ROW_HEIGHT = 409;

function columnWidth(column: PlanCsvColumn): number {
  return WIDTHS[column] ?? (column.endsWith('status') ? STATUS_WIDTH : PROGRESS_WIDTH);
}

/**
 * A row's height for its wrapped text. A spreadsheet sizes a row to its text when the text is
 * edited, but not every one does when it opens a file (LibreOffice keeps the default height), so
 * the height is written: the lines of the fullest cell, at a character per unit of column width
 * (a unit is the width of a "0", wider than most letters, so text is never cut off).
 */
function rowHeight(row: Record<PlanCsvColumn, string>): number {
  let lines = 1;
  for (const column of PLAN_CSV_COLUMNS) {
    const perLine = Math.max(1, Math.floor(columnWidth(column)) - 1);
    const cellLines = row[column]
      .split('\n')
      .reduce((n, line) => n + Math.max(1, Math.ceil(line.length / perLine)), 0);
    lines = Math.max(lines, cellLines);
  }
  return Math.min(MAX_ROW_HEIGHT, lines * LINE_HEIGHT);
}

const STATUS_LIST = `"${STATUSES.map((s) => STATUS_LABELS[s]).join(',')}"`;

/**
 * The plan as an XLSX workbook: a sheet per section, named by sheetName; the header row frozen
 * and filtered; text wrapped; every cell formatted as text, so "4.0" stays "4.0" and a date stays
 * as written; the status columns offer the five statuses.
 */
export async function writePlanXlsx(
  plan: TablePlan,
  meta: { title: string; partnership: string },
): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'Partnership Plan';
  workbook.title = `${meta.partnership}: ${meta.title}`;
  const taken = new Set<string>();
  const sections = planTableSections(plan);
  if (sections.length === 0) sections.push({ number: 0, title: '', rows: [] });
  for (const section of sections) {
    const name = section.number === 0 ? 'Plan' : sheetName(section.number, section.title, taken);
    taken.add(name);
    const sheet = workbook.addWorksheet(name, {
      views: [{ state: 'frozen', ySplit: 1, xSplit: 0, activeCell: 'A2' }],
      // Printed landscape on A4 with the header row on every page; rows keep no fixed height,
      // so a spreadsheet sizes each to its wrapped text.
      pageSetup: { orientation: 'landscape', paperSize: 9, printTitlesRow: '1:1' },
    });
    sheet.columns = PLAN_CSV_COLUMNS.map((column) => ({
      header: column,
      key: column,
      width: columnWidth(column),
      style: { numFmt: '@', alignment: { wrapText: true, vertical: 'top' } },
    }));
    const header = sheet.getRow(1);
    header.font = { bold: true };
    header.alignment = { wrapText: true, vertical: 'top' };
    for (const row of section.rows) {
      const added = sheet.addRow(PLAN_CSV_COLUMNS.map((c) => row[c]));
      added.height = rowHeight(row);
    }
    sheet.autoFilter = {
      from: { row: 1, column: 1 },
      to: { row: Math.max(1, section.rows.length + 1), column: PLAN_CSV_COLUMNS.length },
    };
    PLAN_CSV_COLUMNS.forEach((column, index) => {
      if (!column.endsWith('status')) return;
      for (let r = 2; r <= section.rows.length + 1; r++) {
        sheet.getCell(r, index + 1).dataValidation = {
          type: 'list',
          allowBlank: true,
          formulae: [STATUS_LIST],
          showErrorMessage: true,
          errorTitle: 'Status',
          error: 'Choose a status from the list, or leave it empty',
        };
      }
    });
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

// ---------------------------------------------------------------------------------------------
// Reading

/** A cell's value as the text a person typed or sees: dates as YYYY-MM-DD. */
function cellText(value: ExcelJS.CellValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\r\n?/g, '\n');
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? '' : value.toISOString().slice(0, 10);
  }
  if ('richText' in value)
    return value.richText
      .map((r) => r.text)
      .join('')
      .replace(/\r\n?/g, '\n');
  if ('hyperlink' in value) return cellText(value.text);
  if ('error' in value) return value.error;
  if ('formula' in value || 'sharedFormula' in value) return cellText(value.result ?? null);
  return '';
}

function rowCells(row: ExcelJS.Row): string[] {
  const cells: string[] = [];
  row.eachCell({ includeEmpty: false }, (cell, column) => {
    cells[column - 1] = cellText(cell.value);
  });
  return Array.from(cells, (c) => c ?? '');
}

export type SheetFormat = 'xlsx' | 'csv';

/** A ZIP file (an XLSX is one) starts "PK\x03\x04". */
function looksLikeZip(data: Uint8Array): boolean {
  return data[0] === 0x50 && data[1] === 0x4b && data[2] === 0x03 && data[3] === 0x04;
}

/** Reads a plan from an XLSX workbook written by writePlanXlsx, or as a spreadsheet saved it. */
export async function readPlanXlsx(
  data: Uint8Array,
  meta: { year: string; title?: string },
): Promise<PlanTableResult> {
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(Buffer.from(data) as unknown as ExcelJS.Buffer);
  } catch {
    return {
      ok: false,
      problems: [
        {
          where: 'the file',
          message: 'is not an Excel workbook (.xlsx) this service can read: save it as .xlsx',
        },
      ],
    };
  }
  const tables: PlanTable[] = [];
  let rows = 0;
  for (const sheet of workbook.worksheets) {
    const records: TableRecord[] = [];
    let header: TableRecord | undefined;
    sheet.eachRow({ includeEmpty: false }, (row, number) => {
      const record = { place: { sheet: sheet.name, row: number }, cells: rowCells(row) };
      if (!header) header = record;
      else records.push(record);
    });
    // A sheet with nothing in it (a spreadsheet's "Sheet2") is no part of the plan.
    if (!header) continue;
    if (header.place.row !== 1) {
      records.unshift(header);
      header = { place: { sheet: sheet.name, row: 1 }, cells: [] };
    }
    rows += records.length;
    tables.push({ sheet: sheet.name, header, records });
  }
  if (tables.length === 0) {
    return { ok: false, problems: [{ where: 'the file', message: 'has no sheet with the plan’s columns' }] };
  }
  if (rows > MAX_SHEET_ROWS) {
    return {
      ok: false,
      problems: [{ where: 'the file', message: `has ${rows} rows: a plan has at most ${MAX_SHEET_ROWS}` }],
    };
  }
  return readPlanTables(tables, meta);
}

/**
 * Reads a plan from an uploaded spreadsheet: an XLSX workbook, or a CSV plan (UTF-8). Which it is
 * is told by its content, not its name; a CSV that is not UTF-8 is a problem, not mojibake.
 */
export async function readPlanSheet(
  data: Uint8Array,
  meta: { year: string; title?: string },
): Promise<{ format: SheetFormat; result: PlanTableResult }> {
  if (looksLikeZip(data)) return { format: 'xlsx', result: await readPlanXlsx(data, meta) };
  const text = new TextDecoder('utf-8', { fatal: false }).decode(data);
  if (text.includes('\uFFFD')) {
    return {
      format: 'csv',
      result: {
        ok: false,
        problems: [
          {
            where: 'the file',
            message:
              'is not an XLSX workbook, nor a CSV file in UTF-8: save it as "Excel Workbook (.xlsx)" or "CSV UTF-8"',
          },
        ],
      },
    };
  }
  const lines = text.split('\n').length;
  if (lines > MAX_SHEET_ROWS * 20) {
    return {
      format: 'csv',
      result: { ok: false, problems: [{ where: 'the file', message: 'is too long to be a plan' }] },
    };
  }
  return { format: 'csv', result: readPlanCsv(text, meta) };
}
