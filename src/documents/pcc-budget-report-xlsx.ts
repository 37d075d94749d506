/**
 * The PCC's half-year budget report as a spreadsheet: a Summary sheet with the totals by state,
 * source, priority and section, and a Lines sheet with one row a funding line (frozen header,
 * autofilter) for the PCC's office to sort and sum. Money is a number of pounds with a £ format,
 * dates are dates. Pure: the report in, the XLSX's bytes out, written by exceljs.
 */
import ExcelJS from 'exceljs';
import {
  formatDay,
  FUNDING_STATE_LABELS,
  FUNDING_STATES,
  halfMonths,
  penceToPounds,
  PRIORITY_NOTE,
  SPENT_NOTE,
  type FundingTotalsRow,
  type PccBudgetReport,
} from '../domain/funding.js';

export const MONEY_FORMAT = '"£"#,##0.00';
const DATE_FORMAT = 'd mmm yyyy';
const HEADER_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE8E8E8' } };

/** An ISO day as a spreadsheet date (midnight UTC, which exceljs writes as that day). */
function day(iso: string | null): Date | null {
  return iso ? new Date(`${iso}T00:00:00Z`) : null;
}

/**
 * Spreadsheets do not grow a row for wrapped text when they open a file (LibreOffice and Excel
 * keep the height written): so each row is given the height its longest wrapped cell needs,
 * estimated from the column widths (about one character a unit of width, 15 points a line).
 */
function fitHeight(sheet: ExcelJS.Worksheet, row: ExcelJS.Row, mergedAcross?: number): void {
  let lines = 1;
  row.eachCell((cell, column) => {
    if (typeof cell.value !== 'string' || (mergedAcross && column > 1)) return;
    let width = sheet.getColumn(column).width ?? 10;
    for (let c = 2; mergedAcross && c <= mergedAcross; c++) width += sheet.getColumn(c).width ?? 10;
    const needed = cell.value
      .split('\n')
      .reduce((sum, part) => sum + Math.max(1, Math.ceil((part.length * 1.1) / width)), 0);
    lines = Math.max(lines, needed);
  });
  row.height = 15 * lines;
}

function styleHeader(row: ExcelJS.Row): void {
  row.font = { bold: true };
  row.eachCell((cell) => {
    cell.fill = HEADER_FILL;
    cell.alignment = { vertical: 'top', wrapText: true };
  });
}

/** A totals table on the summary sheet, with a column per state; returns the next free row. */
function totalsTable(
  sheet: ExcelJS.Worksheet,
  at: number,
  title: string,
  first: string,
  rows: readonly FundingTotalsRow[],
  all: FundingTotalsRow,
  note?: string,
): number {
  let r = at;
  sheet.getCell(r, 1).value = title;
  sheet.getCell(r, 1).font = { bold: true, size: 13 };
  r += 1;
  if (note) {
    sheet.mergeCells(r, 1, r, 8);
    sheet.getCell(r, 1).value = note;
    sheet.getCell(r, 1).font = { italic: true };
    sheet.getCell(r, 1).alignment = { wrapText: true, vertical: 'top' };
    fitHeight(sheet, sheet.getRow(r), 8);
    r += 1;
  }
  const header = sheet.getRow(r);
  header.values = [
    first,
    'Lines',
    ...FUNDING_STATES.map((s) => FUNDING_STATE_LABELS[s]),
    'Total',
    'Spent to date',
  ];
  styleHeader(header);
  r += 1;
  const write = (row: FundingTotalsRow, bold: boolean) => {
    const line = sheet.getRow(r);
    line.values = [
      row.label,
      row.lines,
      ...FUNDING_STATES.map((s) => penceToPounds(row.byState[s])),
      penceToPounds(row.totalPence),
      penceToPounds(row.spentToDatePence),
    ];
    for (let c = 3; c <= 8; c++) line.getCell(c).numFmt = MONEY_FORMAT;
    line.getCell(1).alignment = { wrapText: true, vertical: 'top' };
    fitHeight(sheet, line);
    if (bold) line.font = { bold: true };
    r += 1;
  };
  for (const row of rows) write(row, false);
  write(all, true);
  return r + 1;
}

function summarySheet(workbook: ExcelJS.Workbook, report: PccBudgetReport): void {
  const sheet = workbook.addWorksheet('Summary', {
    pageSetup: { orientation: 'landscape', paperSize: 9, fitToPage: true, fitToWidth: 1, fitToHeight: 0 },
  });
  sheet.columns = [
    { width: 60 },
    { width: 8 },
    { width: 14 },
    { width: 14 },
    { width: 14 },
    { width: 14 },
    { width: 14 },
    { width: 15 },
  ];
  const halfTitle = `${report.half} ${report.planYear}: ${halfMonths(report.half)}`;
  sheet.getCell('A1').value = 'Budget report to the Police and Crime Commissioner';
  sheet.getCell('A1').font = { bold: true, size: 16 };
  const facts: [string, string][] = [
    [
      'Partnership',
      report.partnership.area
        ? `${report.partnership.name}, ${report.partnership.area}`
        : report.partnership.name,
    ],
    ['Plan', `${report.planTitle} (plan year ${report.planYear})`],
    ['Half', `${halfTitle}: ${formatDay(report.startsOn)} to ${formatDay(report.endsOn)}`],
    ['Prepared on', formatDay(report.preparedOn)],
  ];
  facts.forEach(([label, value], i) => {
    const row = sheet.getRow(3 + i);
    row.getCell(1).value = `${label}: ${value}`;
  });
  sheet.getCell('A8').value =
    `Each line is counted in the state it had reached by ${formatDay(report.endsOn)}. ${SPENT_NOTE}` +
    (report.notYetStarted
      ? ` ${report.notYetStarted} not yet applied for by then ${report.notYetStarted === 1 ? 'is' : 'are'} left out.`
      : '');
  sheet.mergeCells('A8:H8');
  sheet.getCell('A8').alignment = { wrapText: true, vertical: 'top' };
  fitHeight(sheet, sheet.getRow(8), 8);

  let r = 10;
  const { totals } = report;
  r = totalsTable(sheet, r, 'By state', `State on ${formatDay(report.endsOn)}`, totals.byState, totals.all);
  r = totalsTable(sheet, r, 'By source', 'Source', totals.bySource, totals.all);
  r = totalsTable(sheet, r, 'By priority', 'Priority', totals.byPriority, totals.all, PRIORITY_NOTE);
  totalsTable(sheet, r, 'By section', 'Section', totals.bySection, totals.all);
}

function linesSheet(workbook: ExcelJS.Workbook, report: PccBudgetReport): void {
  // Printed, the sheet runs across pages with its header row on each: it is for sorting and summing.
  const sheet = workbook.addWorksheet('Lines', {
    views: [{ state: 'frozen', ySplit: 1 }],
    pageSetup: { orientation: 'landscape', paperSize: 9, printTitlesRow: '1:1' },
  });
  sheet.columns = [
    { header: 'Section', key: 'section', width: 30 },
    { header: 'Aim', key: 'aim', width: 8 },
    { header: 'Aim title', key: 'aimTitle', width: 40 },
    { header: 'For', key: 'for', width: 34 },
    { header: 'Priorities', key: 'priorities', width: 34 },
    { header: 'Source', key: 'source', width: 30 },
    { header: 'Amount', key: 'amount', width: 14, style: { numFmt: MONEY_FORMAT } },
    { header: `State on ${formatDay(report.endsOn)}`, key: 'state', width: 16 },
    { header: 'State now', key: 'currentState', width: 12 },
    { header: 'Applied for', key: 'appliedOn', width: 13, style: { numFmt: DATE_FORMAT } },
    { header: 'Awarded', key: 'awardedOn', width: 13, style: { numFmt: DATE_FORMAT } },
    { header: 'Received', key: 'receivedOn', width: 13, style: { numFmt: DATE_FORMAT } },
    { header: 'Spent', key: 'spentOn', width: 13, style: { numFmt: DATE_FORMAT } },
    { header: 'Steps in this half', key: 'steps', width: 30 },
    { header: 'Spent to date', key: 'spentToDate', width: 14, style: { numFmt: MONEY_FORMAT } },
    { header: 'Notes', key: 'notes', width: 60 },
  ];
  styleHeader(sheet.getRow(1));
  for (const line of report.lines) {
    const row = sheet.addRow({
      section: `${line.sectionNumber}. ${line.sectionTitle}`,
      aim: line.aimNumber,
      aimTitle: line.aimTitle,
      for: line.actionLabel ?? 'The aim as a whole',
      priorities: line.priorities.join('; '),
      source: line.source,
      amount: penceToPounds(line.amountPence),
      state: FUNDING_STATE_LABELS[line.state],
      currentState: FUNDING_STATE_LABELS[line.currentState],
      appliedOn: day(line.appliedOn),
      awardedOn: day(line.awardedOn),
      receivedOn: day(line.receivedOn),
      spentOn: day(line.spentOn),
      steps: line.stepsInHalf.map((s) => `${FUNDING_STATE_LABELS[s.state]} ${formatDay(s.on)}`).join('; '),
      spentToDate: penceToPounds(line.spentToDatePence),
      notes: line.notes ?? '',
    });
    row.alignment = { vertical: 'top', wrapText: true };
    fitHeight(sheet, row);
  }
  sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: sheet.columns.length } };
}

export async function writePccBudgetReportXlsx(report: PccBudgetReport): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = report.partnership.name;
  workbook.title = `PCC budget report ${report.half} ${report.planYear}`;
  // Fixed, so the same report makes the same file.
  workbook.created = new Date(`${report.preparedOn}T00:00:00Z`);
  workbook.modified = workbook.created;
  summarySheet(workbook, report);
  linesSheet(workbook, report);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
