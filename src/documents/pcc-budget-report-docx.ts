/**
 * The PCC's half-year budget report as a Word document: a cover (partnership, plan year, half and
 * its dates), the totals by state, source, priority and section, and the funding lines behind
 * them. Pure: the report in, the DOCX's bytes out, written by the docx library.
 */
import {
  AlignmentType,
  Document,
  HeadingLevel,
  Packer,
  PageBreak,
  PageOrientation,
  Paragraph,
  ShadingType,
  Table,
  TableCell,
  TableRow,
  TextRun,
  WidthType,
} from 'docx';
import {
  formatDay,
  formatPence,
  FUNDING_STATE_LABELS,
  FUNDING_STATES,
  halfMonths,
  PRIORITY_NOTE,
  SPENT_NOTE,
  type FundingTotalsRow,
  type PccBudgetReport,
  type PccReportLine,
} from '../domain/funding.js';

/** A4 landscape, in twentieths of a point, with 1.5 cm margins. */
const PAGE = { width: 16838, height: 11906, margin: 850 };
const CONTENT_WIDTH = PAGE.width - 2 * PAGE.margin;
const HEADER_FILL = 'E8E8E8';
const TOTAL_FILL = 'F3F2F1';
const FONT = 'Arial';

interface Column {
  heading: string;
  /** Share of the table's width. */
  weight: number;
  money?: boolean;
}

function cellParagraphs(text: string, options: { bold?: boolean; right?: boolean } = {}): Paragraph[] {
  const lines = text === '' ? [''] : text.split('\n');
  return lines.map(
    (line) =>
      new Paragraph({
        alignment: options.right ? AlignmentType.RIGHT : AlignmentType.LEFT,
        spacing: { before: 40, after: 40 },
        children: [new TextRun({ text: line, bold: options.bold ?? false, size: 18, font: FONT })],
      }),
  );
}

function table(
  columns: readonly Column[],
  rows: readonly string[][],
  options: { totalRow?: boolean } = {},
): Table {
  const totalWeight = columns.reduce((sum, c) => sum + c.weight, 0);
  const widths = columns.map((c) => Math.floor((CONTENT_WIDTH * c.weight) / totalWeight));
  const cell = (text: string, i: number, kind: 'header' | 'body' | 'total') =>
    new TableCell({
      width: { size: widths[i]!, type: WidthType.DXA },
      shading:
        kind === 'body'
          ? undefined
          : { type: ShadingType.CLEAR, color: 'auto', fill: kind === 'header' ? HEADER_FILL : TOTAL_FILL },
      margins: { left: 80, right: 80 },
      children: cellParagraphs(text, { bold: kind !== 'body', right: columns[i]!.money === true }),
    });
  return new Table({
    width: { size: CONTENT_WIDTH, type: WidthType.DXA },
    columnWidths: widths,
    rows: [
      new TableRow({
        tableHeader: true,
        cantSplit: true,
        children: columns.map((c, i) => cell(c.heading, i, 'header')),
      }),
      ...rows.map(
        (row, r) =>
          new TableRow({
            cantSplit: true,
            children: row.map((text, i) =>
              cell(text, i, options.totalRow && r === rows.length - 1 ? 'total' : 'body'),
            ),
          }),
      ),
    ],
  });
}

function heading(text: string, level: 1 | 2): Paragraph {
  return new Paragraph({
    heading: level === 1 ? HeadingLevel.HEADING_1 : HeadingLevel.HEADING_2,
    spacing: { before: level === 1 ? 0 : 320, after: 120 },
    keepNext: true,
    children: [new TextRun({ text, font: FONT })],
  });
}

function para(text: string, options: { bold?: boolean; size?: number; italics?: boolean } = {}): Paragraph {
  return new Paragraph({
    spacing: { after: 120 },
    children: [
      new TextRun({
        text,
        bold: options.bold ?? false,
        italics: options.italics ?? false,
        size: options.size ?? 22,
        font: FONT,
      }),
    ],
  });
}

const STATE_COLUMNS: Column[] = FUNDING_STATES.map((s) => ({
  heading: FUNDING_STATE_LABELS[s],
  weight: 1.1,
  money: true,
}));

/** A totals table with a column per state: by source, by priority, by section. */
function matrix(first: string, rows: readonly FundingTotalsRow[], all: FundingTotalsRow | undefined): Table {
  const columns: Column[] = [
    { heading: first, weight: 4 },
    { heading: 'Lines', weight: 0.7, money: true },
    ...STATE_COLUMNS,
    { heading: 'Total', weight: 1.2, money: true },
    { heading: 'Spent to date', weight: 1.2, money: true },
  ];
  const toCells = (row: FundingTotalsRow) => [
    row.label,
    String(row.lines),
    ...FUNDING_STATES.map((s) => formatPence(row.byState[s])),
    formatPence(row.totalPence),
    formatPence(row.spentToDatePence),
  ];
  const body = rows.map(toCells);
  if (all) body.push(toCells(all));
  return table(columns, body.length ? body : [[`No funding lines`, '', '', '', '', '', '', '']], {
    totalRow: all !== undefined && rows.length > 0,
  });
}

function byStateTable(report: PccBudgetReport): Table {
  const columns: Column[] = [
    { heading: `State on ${formatDay(report.endsOn)}`, weight: 3 },
    { heading: 'Lines', weight: 1, money: true },
    { heading: 'Amount', weight: 1.5, money: true },
    { heading: 'Spent to date', weight: 1.5, money: true },
  ];
  const toCells = (row: FundingTotalsRow) => [
    row.label,
    String(row.lines),
    formatPence(row.totalPence),
    formatPence(row.spentToDatePence),
  ];
  return table(columns, [...report.totals.byState.map(toCells), toCells(report.totals.all)], {
    totalRow: true,
  });
}

function stepsText(line: PccReportLine): string {
  if (!line.stepsInHalf.length) return 'None in this half';
  return line.stepsInHalf.map((s) => `${FUNDING_STATE_LABELS[s.state]} ${formatDay(s.on)}`).join('\n');
}

function linesTable(report: PccBudgetReport): Table {
  const columns: Column[] = [
    { heading: 'Aim', weight: 2.6 },
    { heading: 'For', weight: 2.2 },
    { heading: 'Source', weight: 2 },
    { heading: 'Amount', weight: 1.1, money: true },
    { heading: `State on ${formatDay(report.endsOn)}`, weight: 1.1 },
    { heading: 'Steps in this half', weight: 1.6 },
    { heading: 'Spent to date', weight: 1.1, money: true },
    { heading: 'Notes', weight: 3 },
  ];
  const rows = report.lines.map((line) => [
    `${line.aimNumber} ${line.aimTitle}`,
    line.actionLabel ?? 'The aim as a whole',
    line.source,
    formatPence(line.amountPence),
    FUNDING_STATE_LABELS[line.state] +
      (line.currentState !== line.state
        ? `\n(now ${FUNDING_STATE_LABELS[line.currentState].toLowerCase()})`
        : ''),
    stepsText(line),
    formatPence(line.spentToDatePence),
    line.notes ?? '',
  ]);
  return table(columns, rows.length ? rows : [['No funding lines in this half', '', '', '', '', '', '', '']]);
}

export async function writePccBudgetReportDocx(report: PccBudgetReport): Promise<Buffer> {
  const halfTitle = `${report.half} ${report.planYear}: ${halfMonths(report.half)}`;
  const where = report.partnership.area
    ? `${report.partnership.name}, ${report.partnership.area}`
    : report.partnership.name;
  const all = report.totals.all;

  const cover = [
    new Paragraph({
      heading: HeadingLevel.TITLE,
      spacing: { before: 2400, after: 240 },
      children: [new TextRun({ text: 'Budget report to the Police and Crime Commissioner', font: FONT })],
    }),
    para(halfTitle, { bold: true, size: 36 }),
    para(where, { size: 28 }),
    para(`${report.planTitle} (plan year ${report.planYear})`, { size: 24 }),
    para(`Half year ${report.half}: ${formatDay(report.startsOn)} to ${formatDay(report.endsOn)}`, {
      size: 24,
    }),
    para(`Prepared on ${formatDay(report.preparedOn)}`, { size: 24 }),
    para(
      `${all.lines} funding ${all.lines === 1 ? 'line' : 'lines'} totalling ${formatPence(all.totalPence)}, of which ${formatPence(all.spentToDatePence)} spent to date.`,
      { size: 24 },
    ),
    new Paragraph({ children: [new PageBreak()] }),
  ];

  const totals = [
    heading('Totals', 1),
    para(
      `Each line is counted in the state it had reached by ${formatDay(report.endsOn)}, the last day of the half. ${SPENT_NOTE}` +
        (report.notYetStarted
          ? ` ${report.notYetStarted} ${report.notYetStarted === 1 ? 'line was' : 'lines were'} not yet applied for by then and ${report.notYetStarted === 1 ? 'is' : 'are'} left out.`
          : ''),
    ),
    heading('By state', 2),
    byStateTable(report),
    heading('By source', 2),
    matrix('Source', report.totals.bySource, all),
    heading('By priority', 2),
    para(PRIORITY_NOTE, { italics: true }),
    matrix('Priority', report.totals.byPriority, all),
    heading('By section', 2),
    matrix('Section', report.totals.bySection, all),
    new Paragraph({ children: [new PageBreak()] }),
    heading('The funding lines', 1),
    para(`The lines behind the totals, in the plan’s order, with the steps each took within ${halfTitle}.`),
    linesTable(report),
  ];

  const document = new Document({
    creator: report.partnership.name,
    title: `PCC budget report ${halfTitle}`,
    description: `Funding of ${report.partnership.name}'s ${report.planTitle}, ${halfTitle}`,
    styles: {
      default: { document: { run: { font: FONT, size: 22 } } },
    },
    sections: [
      {
        properties: {
          page: {
            // docx takes the portrait size and turns it for a landscape page.
            size: { width: PAGE.height, height: PAGE.width, orientation: PageOrientation.LANDSCAPE },
            margin: { top: PAGE.margin, bottom: PAGE.margin, left: PAGE.margin, right: PAGE.margin },
          },
        },
        children: [...cover, ...totals],
      },
    ],
  });
  return Packer.toBuffer(document);
}
