/**
 * The quarter's board report as a Word document (docx): A4 landscape; a cover with the
 * partnership, plan year, quarter and dates; the status summary by section and by priority; the
 * late and returned updates; the changes since the last report; then the plan in the Word plan's
 * columns, a table a section. Every table's header row repeats on each page; every page carries
 * the report's name and its page number. Pure: the report in, the file's bytes out.
 */
import {
  AlignmentType,
  BorderStyle,
  Document,
  Footer,
  Header,
  HeadingLevel,
  Packer,
  PageBreak,
  PageNumber,
  PageOrientation,
  Paragraph,
  ShadingType,
  Table,
  TableCell,
  TableLayoutType,
  TableRow,
  TextRun,
  WidthType,
} from 'docx';
import type { BoardReport, BoardReportRow, StatusCounts } from '../domain/board-report.js';
import {
  CHANGE_HEADINGS,
  ENTRY_HEADINGS,
  SUMMARY_HEADINGS,
  changeCells,
  changesIntro,
  coverFacts,
  documentTitle,
  entryCells,
  planCells,
  planHeadings,
  progressLines,
  reportTitle,
  runningHead,
  statusLine,
  summaryCells,
  summaryNote,
  updateNotes,
} from './board-report-words.js';

/** A4 in twips (portrait figures: docx turns them for landscape). */
const A4 = { width: 11906, height: 16838 };
const MARGIN = 720;
/** The text width of a landscape page. */
const CONTENT_WIDTH = A4.height - 2 * MARGIN;
const FONT = 'Arial';
/** Half-points. */
const SIZE = { body: 20, table: 17, small: 16 };
const HEADER_FILL = 'E7E9EA';
const BORDER = { style: BorderStyle.SINGLE, size: 4, color: '767676' };
const BORDERS = {
  top: BORDER,
  bottom: BORDER,
  left: BORDER,
  right: BORDER,
  insideHorizontal: BORDER,
  insideVertical: BORDER,
};

/** The plan table's columns, in twips: progress and the action widest, as in the Word plan. */
const PLAN_WIDTHS = scale([1900, 3000, 1500, 1700, 1500, 2100, 3700]);
const SUMMARY_WIDTHS = scale([4600, 1300, 1300, 1300, 1300, 1300, 1800, 1100]);
const CHANGE_WIDTHS = scale([1700, 1700, 900, 8000, 2100]);
const ENTRY_WIDTHS = scale([1800, 6400, 3200, 2000, 1998]);

function scale(widths: number[]): number[] {
  const sum = widths.reduce((a, b) => a + b, 0);
  const scaled = widths.map((w) => Math.floor((w * CONTENT_WIDTH) / sum));
  scaled[scaled.length - 1]! += CONTENT_WIDTH - scaled.reduce((a, b) => a + b, 0);
  return scaled;
}

function run(text: string, options: { bold?: boolean; size?: number; color?: string } = {}): TextRun {
  return new TextRun({
    text,
    font: FONT,
    size: options.size ?? SIZE.table,
    bold: options.bold,
    color: options.color,
  });
}

function para(text: string, options: { bold?: boolean; size?: number; after?: number } = {}): Paragraph {
  return new Paragraph({
    children: [run(text, options)],
    spacing: { after: options.after ?? 40 },
  });
}

function cell(
  lines: readonly string[],
  width: number,
  options: { bold?: boolean; header?: boolean; numeric?: boolean } = {},
): TableCell {
  const paragraphs = (lines.length ? lines : ['']).map(
    (l) =>
      new Paragraph({
        children: [run(l, { bold: options.bold })],
        spacing: { after: 40 },
        alignment: options.numeric ? AlignmentType.RIGHT : AlignmentType.LEFT,
      }),
  );
  return new TableCell({
    children: paragraphs,
    width: { size: width, type: WidthType.DXA },
    margins: { top: 60, bottom: 60, left: 80, right: 80 },
    ...(options.header ? { shading: { type: ShadingType.CLEAR, fill: HEADER_FILL, color: 'auto' } } : {}),
  });
}

/** A header row, repeated at the top of each page the table runs onto. */
function headerRow(headings: readonly string[], widths: readonly number[]): TableRow {
  return new TableRow({
    tableHeader: true,
    cantSplit: true,
    children: headings.map((h, i) => cell([h], widths[i]!, { bold: true, header: true })),
  });
}

function table(headings: readonly string[], widths: readonly number[], rows: TableRow[]): Table {
  return new Table({
    rows: [headerRow(headings, widths), ...rows],
    columnWidths: [...widths],
    width: { size: CONTENT_WIDTH, type: WidthType.DXA },
    layout: TableLayoutType.FIXED,
    borders: BORDERS,
  });
}

function heading(text: string, level: (typeof HeadingLevel)[keyof typeof HeadingLevel]): Paragraph {
  return new Paragraph({
    heading: level,
    children: [new TextRun({ text })],
    spacing: { before: 240, after: 120 },
  });
}

/** A paragraph of the report; `keepNext` for one that introduces the table after it. */
function body(text: string, options: { keepNext?: boolean } = {}): Paragraph {
  return new Paragraph({
    children: [run(text, { size: SIZE.body })],
    spacing: { after: 120 },
    keepNext: options.keepNext,
  });
}

// ——— the parts ———

function cover(report: BoardReport): Paragraph[] {
  const facts = coverFacts(report);
  return [
    new Paragraph({
      children: [new TextRun({ text: report.partnership.name, font: FONT, size: 32 })],
      spacing: { before: 1200, after: 240 },
    }),
    new Paragraph({ heading: HeadingLevel.TITLE, children: [new TextRun({ text: reportTitle(report) })] }),
    ...(report.draftNotice
      ? [
          new Paragraph({
            children: [
              new TextRun({ text: report.draftNotice, font: FONT, size: 28, bold: true, color: 'B10E1E' }),
            ],
            spacing: { before: 240, after: 240 },
            border: { top: BORDER, bottom: BORDER, left: BORDER, right: BORDER },
          }),
        ]
      : []),
    ...facts.map(
      ([label, value]) =>
        new Paragraph({
          children: [run(`${label}: `, { bold: true, size: 24 }), run(value, { size: 24 })],
          spacing: { before: 120, after: 120 },
        }),
    ),
  ];
}

function summaryRows(rows: readonly StatusCounts[], total?: StatusCounts): TableRow[] {
  const line = (counts: StatusCounts, bold = false) =>
    new TableRow({
      cantSplit: true,
      children: [counts.label, ...summaryCells(counts)].map((text, i) =>
        cell([text], SUMMARY_WIDTHS[i]!, { bold: bold || i === 0, numeric: i > 0 }),
      ),
    });
  return [...rows.map((r) => line(r)), ...(total ? [line(total, true)] : [])];
}

function summary(report: BoardReport): (Paragraph | Table)[] {
  return [
    heading(`Summary of ${report.quarterLabel} statuses`, HeadingLevel.HEADING_1),
    body(summaryNote(report), { keepNext: true }),
    heading('By section', HeadingLevel.HEADING_2),
    table(
      ['Section', ...SUMMARY_HEADINGS],
      SUMMARY_WIDTHS,
      summaryRows(report.summary.bySection, report.summary.total),
    ),
    heading('By priority', HeadingLevel.HEADING_2),
    report.summary.byPriority.length
      ? table(['Priority', ...SUMMARY_HEADINGS], SUMMARY_WIDTHS, summaryRows(report.summary.byPriority))
      : body('The plan names no priorities.'),
  ];
}

function updateLists(report: BoardReport): (Paragraph | Table)[] {
  const list = (entries: BoardReport['late']) =>
    table(
      ENTRY_HEADINGS,
      ENTRY_WIDTHS,
      entries.map(
        (e) =>
          new TableRow({
            cantSplit: true,
            children: entryCells(e).map((text, i) => cell([text], ENTRY_WIDTHS[i]!)),
          }),
      ),
    );
  return [
    heading('Late updates', HeadingLevel.HEADING_2),
    ...(report.late.length
      ? [
          body(`Updates sent after the ${report.quarterLabel} due date.`, { keepNext: true }),
          list(report.late),
        ]
      : [body(`No ${report.quarterLabel} update was sent late.`)]),
    heading('Returned updates', HeadingLevel.HEADING_2),
    ...(report.returned.length
      ? [
          body('Updates the JAG returned to their lead for changes.', { keepNext: true }),
          list(report.returned),
        ]
      : [body(`No ${report.quarterLabel} update was returned.`)]),
  ];
}

function changes(report: BoardReport): (Paragraph | Table)[] {
  return [
    heading('What changed since the last report', HeadingLevel.HEADING_1),
    ...(report.changes.length
      ? [
          body(changesIntro(report), { keepNext: true }),
          table(
            CHANGE_HEADINGS,
            CHANGE_WIDTHS,
            report.changes.map(
              (c) =>
                new TableRow({
                  cantSplit: true,
                  children: changeCells(c).map((lines, i) => cell(lines, CHANGE_WIDTHS[i]!)),
                }),
            ),
          ),
        ]
      : [body('The plan has not changed since the last report to the board.')]),
  ];
}

function progressCell(row: BoardReportRow, width: number): TableCell {
  const status = statusLine(row);
  const children = [
    ...(status ? [para(status, { bold: true })] : []),
    ...updateNotes(row).map(
      (n) => new Paragraph({ children: [run(n, { size: SIZE.small, color: '505A5F' })] }),
    ),
    ...progressLines(row).map((l) => para(l)),
  ];
  return new TableCell({
    children,
    width: { size: width, type: WidthType.DXA },
    margins: { top: 60, bottom: 60, left: 80, right: 80 },
  });
}

function planTables(report: BoardReport): (Paragraph | Table)[] {
  const headings = planHeadings(report);
  return [
    new Paragraph({ children: [new PageBreak()] }),
    heading(`The plan and its ${report.quarterLabel} progress`, HeadingLevel.HEADING_1),
    ...report.sections.flatMap((section) => [
      heading(`${section.number}. ${section.title}`, HeadingLevel.HEADING_2),
      section.rows.length
        ? table(
            headings,
            PLAN_WIDTHS,
            section.rows.map(
              (row) =>
                new TableRow({
                  children: [
                    ...planCells(row).map((lines, i) =>
                      cell(lines, PLAN_WIDTHS[i]!, { bold: i === 0 && row.firstOfAim }),
                    ),
                    progressCell(row, PLAN_WIDTHS[6]!),
                  ],
                }),
            ),
          )
        : body('This section has no aims.'),
    ]),
  ];
}

export async function writeBoardReportDocx(report: BoardReport): Promise<Buffer> {
  const document = new Document({
    title: documentTitle(report),
    subject: `${report.quarterLabel} ${report.plan.year}`,
    creator: report.partnership.name,
    description:
      report.draftNotice ??
      `As reported to the board${report.boardMeetingOn ? ` on ${report.boardMeetingOn}` : ''}`,
    styles: {
      default: {
        document: { run: { font: FONT, size: SIZE.body, language: { value: 'en-GB' } } },
        title: { run: { font: FONT, size: 48, bold: true } },
        heading1: { run: { font: FONT, size: 32, bold: true }, paragraph: { keepNext: true } },
        heading2: { run: { font: FONT, size: 26, bold: true }, paragraph: { keepNext: true } },
      },
    },
    sections: [
      {
        properties: {
          page: {
            size: { width: A4.width, height: A4.height, orientation: PageOrientation.LANDSCAPE },
            margin: { top: MARGIN, bottom: MARGIN, left: MARGIN, right: MARGIN, header: 360, footer: 360 },
          },
        },
        headers: {
          default: new Header({
            children: [
              new Paragraph({ children: [run(runningHead(report), { size: SIZE.small, color: '505A5F' })] }),
            ],
          }),
        },
        footers: {
          default: new Footer({
            children: [
              new Paragraph({
                alignment: AlignmentType.RIGHT,
                children: [
                  new TextRun({
                    font: FONT,
                    size: SIZE.small,
                    children: ['Page ', PageNumber.CURRENT, ' of ', PageNumber.TOTAL_PAGES],
                  }),
                ],
              }),
            ],
          }),
        },
        children: [
          ...cover(report),
          new Paragraph({ children: [new PageBreak()] }),
          ...summary(report),
          ...updateLists(report),
          ...changes(report),
          ...planTables(report),
        ],
      },
    ],
  });
  return Packer.toBuffer(document);
}
