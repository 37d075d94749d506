/**
 * The quarter's board report as a PDF (pdfkit): A4 landscape, the same content as the DOCX, a
 * tagged PDF (title shown, language en-GB, headings, paragraphs and tables with header cells in
 * its structure; running heads, page numbers and rules marked as artifacts). Tables are laid out
 * here rather than by pdfkit's table, so that the header row repeats on every page a table runs
 * onto and a row longer than a page carries on to the next one instead of being cut off.
 *
 * The standard Helvetica speaks WinAnsi: £, curly quotes, en and em dashes and the bullet are in
 * it; anything else is written as its nearest plain letters. Pure: the report in, bytes out; the
 * same report gives the same bytes (the creation date is the report's own).
 */
import PDFDocument from 'pdfkit';
import type { BoardReport, BoardReportRow } from '../domain/board-report.js';
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

type Doc = PDFKit.PDFDocument;
type Struct = PDFKit.PDFStructureElement;

const MARGIN = { top: 48, bottom: 44, left: 36, right: 36 };
const FONT = { regular: 'Helvetica', bold: 'Helvetica-Bold' };
const SIZE = { body: 10, table: 8, small: 7.5, h1: 16, h2: 12.5, title: 24 };
const PAD = 4;
const PARAGRAPH_GAP = 2;
const GREY = '#505a5f';
const RULE = '#767676';
const HEADER_FILL = '#e7e9ea';

/** pdfkit writes a header cell's scope (its types do not list the option). */
const COLUMN_HEADER = { scope: 'Column' } as PDFKit.Mixins.StructureElementOptions;

// ——— WinAnsi ———

/** Characters of WinAnsiEncoding beyond Latin-1 (0x80–0x9F). */
const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
const PLAIN: Record<string, string> = {
  '\u2010': '-',
  '\u2011': '-',
  '\u2012': '–',
  '\u2015': '—',
  '\u2032': "'",
  '\u2033': '"',
  '\u2192': '->',
  '\u2190': '<-',
  '\u2264': '<=',
  '\u2265': '>=',
  '\u2212': '-',
  '\u2713': 'yes',
  '\u2714': 'yes',
  '\u2717': 'no',
  '\u25cf': '•',
  '\u25aa': '•',
  '\u2022': '•',
  '\u200b': '',
  '\u00ad': '',
};

function isWinAnsi(ch: string): boolean {
  const code = ch.codePointAt(0)!;
  return (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || WIN_ANSI_EXTRA.has(ch);
}

/** Text as the standard fonts can write it. */
export function winAnsi(text: string): string {
  let out = '';
  for (const ch of text.replace(/\t/g, ' ')) {
    if (isWinAnsi(ch)) out += ch;
    else if (ch in PLAIN) out += PLAIN[ch];
    else {
      const plain = ch.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
      out += [...plain].every(isWinAnsi) && plain ? plain : '?';
    }
  }
  return out;
}

// ——— text blocks ———

interface Line {
  text: string;
  bold?: boolean;
  size?: number;
  color?: string;
}

function setFont(doc: Doc, line: Line): Doc {
  return doc
    .font(line.bold ? FONT.bold : FONT.regular)
    .fontSize(line.size ?? SIZE.table)
    .fillColor(line.color ?? 'black');
}

function lineHeight(doc: Doc, line: Line, width: number): number {
  setFont(doc, line);
  return doc.heightOfString(line.text || ' ', { width, lineGap: 1 });
}

function blockHeight(doc: Doc, lines: readonly Line[], width: number): number {
  if (!lines.length) return 0;
  return lines.reduce((h, l) => h + lineHeight(doc, l, width), 0) + PARAGRAPH_GAP * (lines.length - 1);
}

/**
 * Splits a cell's lines at `height`: what fits, and the rest. A line that does not fit is cut
 * between words (at the longest run of words that fits); a single word longer than that goes whole.
 */
function splitLines(
  doc: Doc,
  lines: readonly Line[],
  width: number,
  height: number,
): { fits: Line[]; rest: Line[] } {
  const fits: Line[] = [];
  let used = 0;
  for (const [i, line] of lines.entries()) {
    const gap = fits.length ? PARAGRAPH_GAP : 0;
    const h = lineHeight(doc, line, width);
    if (used + gap + h <= height) {
      fits.push(line);
      used += gap + h;
      continue;
    }
    const words = line.text.split(' ');
    let lo = 0;
    let hi = words.length - 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      const part = { ...line, text: words.slice(0, mid).join(' ') };
      if (used + gap + lineHeight(doc, part, width) <= height) lo = mid;
      else hi = mid - 1;
    }
    if (lo === 0 && fits.length === 0 && used === 0) lo = 1;
    const rest = lines.slice(i + 1);
    if (lo === 0) return { fits, rest: [line, ...rest] };
    fits.push({ ...line, text: words.slice(0, lo).join(' ') });
    const left = words.slice(lo).join(' ');
    return { fits, rest: left ? [{ ...line, text: left }, ...rest] : rest };
  }
  return { fits, rest: [] };
}

function drawLines(doc: Doc, lines: readonly Line[], x: number, y: number, width: number): void {
  let top = y;
  for (const line of lines) {
    setFont(doc, line);
    doc.text(line.text, x, top, { width, lineGap: 1 });
    top += lineHeight(doc, line, width) + PARAGRAPH_GAP;
  }
}

// ——— the writer ———

class ReportPdf {
  readonly doc: Doc;
  private readonly root: Struct;
  readonly width: number;

  constructor(private readonly report: BoardReport) {
    this.doc = new PDFDocument({
      size: 'A4',
      layout: 'landscape',
      margins: MARGIN,
      bufferPages: true,
      tagged: true,
      lang: 'en-GB',
      displayTitle: true,
      pdfVersion: '1.7',
      info: {
        Title: winAnsi(documentTitle(report)),
        Author: winAnsi(report.partnership.name),
        Subject: winAnsi(`${report.quarterLabel} ${report.plan.year}`),
        Creator: 'Partnership Plan',
        CreationDate: report.producedAt,
        ModDate: report.producedAt,
      },
    });
    this.root = this.doc.struct('Document');
    this.doc.addStructure(this.root);
    this.width = this.doc.page.width - MARGIN.left - MARGIN.right;
  }

  private get bottom(): number {
    return this.doc.page.height - MARGIN.bottom;
  }

  private newPage(): void {
    this.doc.addPage();
    this.doc.x = MARGIN.left;
    this.doc.y = MARGIN.top;
  }

  /** Room for `height` more, or a new page. */
  private room(height: number): void {
    if (this.doc.y + height > this.bottom) this.newPage();
  }

  private artifact(draw: () => void): void {
    this.doc.markContent('Artifact', { type: 'Layout' });
    draw();
    this.doc.endMarkedContent();
  }

  /** A heading or paragraph, flowing across pages as pdfkit does. */
  text(tag: 'H1' | 'H2' | 'P', line: Line, after = 6, keepWith = 0): void {
    const height = lineHeight(this.doc, line, this.width);
    this.room(height + keepWith);
    const y = this.doc.y;
    this.root.add(
      this.doc.struct(tag, {}, () => {
        setFont(this.doc, line);
        this.doc.text(line.text, MARGIN.left, y, { width: this.width, lineGap: 1 });
      }),
    );
    this.doc.x = MARGIN.left;
    this.doc.y += after;
  }

  h1(text: string): void {
    this.text('H1', { text: winAnsi(text), bold: true, size: SIZE.h1 }, 8, 80);
  }

  h2(text: string): void {
    if (this.doc.y > MARGIN.top) this.doc.y += 6;
    this.text('H2', { text: winAnsi(text), bold: true, size: SIZE.h2 }, 6, 60);
  }

  p(text: string, keepWith = 0): void {
    this.text('P', { text: winAnsi(text), size: SIZE.body }, 6, keepWith);
  }

  /**
   * A table: its header row at the top and again on every page it runs onto; each row kept whole
   * when it fits on a page, carried on to the next page when it does not.
   */
  table(headings: readonly string[], widths: readonly number[], rows: readonly Line[][][]): void {
    const doc = this.doc;
    const table = doc.struct('Table');
    this.root.add(table);
    const header: Line[][] = headings.map((h) => [{ text: winAnsi(h), bold: true }]);
    const cellWidth = (i: number) => widths[i]! - 2 * PAD;
    const heightOf = (cells: readonly Line[][]) =>
      Math.max(...cells.map((lines, i) => blockHeight(doc, lines, cellWidth(i)))) + 2 * PAD;
    const headerHeight = heightOf(header);

    const drawRow = (cells: readonly Line[][], height: number, structs: Struct[], fill?: string) => {
      const y = doc.y;
      let x = MARGIN.left;
      this.artifact(() => {
        let left = MARGIN.left;
        for (const w of widths) {
          if (fill) doc.rect(left, y, w, height).fill(fill);
          doc.lineWidth(0.5).rect(left, y, w, height).stroke(RULE);
          left += w;
        }
      });
      for (const [i, lines] of cells.entries()) {
        const cellX = x;
        structs[i]!.add(() => drawLines(doc, lines, cellX + PAD, y + PAD, cellWidth(i)));
        x += widths[i]!;
      }
      doc.x = MARGIN.left;
      doc.y = y + height;
    };

    const drawHeader = () => {
      const tr = doc.struct('TR');
      table.add(tr);
      const ths = header.map(() => doc.struct('TH', COLUMN_HEADER));
      for (const th of ths) tr.add(th);
      drawRow(header, headerHeight, ths, HEADER_FILL);
      for (const th of ths) th.end();
      tr.end();
    };

    this.room(headerHeight + 40);
    drawHeader();
    for (const row of rows) {
      const tr = doc.struct('TR');
      table.add(tr);
      const tds = row.map((_, i) => doc.struct(i === 0 ? 'TH' : 'TD'));
      for (const td of tds) tr.add(td);
      let left: Line[][] = row.map((lines) => [...lines]);
      let height = heightOf(left);
      const fresh = this.bottom - MARGIN.top - headerHeight;
      if (doc.y + height > this.bottom && (height <= fresh || this.bottom - doc.y < 60)) {
        this.newPage();
        drawHeader();
      }
      while (doc.y + height > this.bottom) {
        const space = this.bottom - doc.y - 2 * PAD;
        const parts = left.map((lines, i) => splitLines(doc, lines, cellWidth(i), space));
        drawRow(
          parts.map((p) => p.fits),
          this.bottom - doc.y,
          tds,
        );
        left = parts.map((p) => p.rest);
        height = heightOf(left);
        this.newPage();
        drawHeader();
      }
      drawRow(left, height, tds);
      for (const td of tds) td.end();
      tr.end();
    }
    table.end();
    doc.y += 10;
  }

  /** The running head and "Page n of m" on every page, once all pages exist. */
  pageFurniture(): void {
    const doc = this.doc;
    const range = doc.bufferedPageRange();
    for (let i = range.start; i < range.start + range.count; i++) {
      doc.switchToPage(i);
      // Writing in the margins: let pdfkit know it is not a page overflow.
      const bottomMargin = doc.page.margins.bottom;
      doc.page.margins.bottom = 0;
      this.artifact(() => {
        setFont(doc, { text: '', size: SIZE.small, color: GREY });
        doc.text(winAnsi(runningHead(this.report)), MARGIN.left, 22, { width: this.width, lineBreak: false });
        doc.text(`Page ${i + 1 - range.start} of ${range.count}`, MARGIN.left, doc.page.height - 28, {
          width: this.width,
          align: 'right',
          lineBreak: false,
        });
      });
      doc.page.margins.bottom = bottomMargin;
    }
  }

  finish(): Promise<Buffer> {
    const doc = this.doc;
    const chunks: Buffer[] = [];
    const done = new Promise<Buffer>((resolve, reject) => {
      doc.on('data', (chunk: Buffer) => chunks.push(chunk));
      doc.on('end', () => resolve(Buffer.concat(chunks)));
      doc.on('error', reject);
    });
    this.pageFurniture();
    this.root.end();
    doc.end();
    return done;
  }
}

// ——— the parts ———

const words = (lines: readonly string[], style: Omit<Line, 'text'> = {}): Line[] =>
  lines.map((text) => ({ text: winAnsi(text), ...style }));

/** Column widths in points, in proportion, filling the page's width. */
function columns(total: number, parts: readonly number[]): number[] {
  const sum = parts.reduce((a, b) => a + b, 0);
  return parts.map((p) => (p * total) / sum);
}

function cover(pdf: ReportPdf, report: BoardReport): void {
  pdf.doc.y = 110;
  pdf.text('P', { text: winAnsi(report.partnership.name), size: 16 }, 12);
  pdf.text('H1', { text: winAnsi(reportTitle(report)), bold: true, size: SIZE.title }, 16);
  if (report.draftNotice) {
    pdf.text('P', { text: winAnsi(report.draftNotice), bold: true, size: 14, color: '#b10e1e' }, 14);
  }
  for (const [label, value] of coverFacts(report)) {
    pdf.text('P', { text: winAnsi(`${label}: ${value}`), size: 12 }, 6);
  }
}

function summary(pdf: ReportPdf, report: BoardReport): void {
  const widths = columns(pdf.width, [4600, 1300, 1300, 1300, 1300, 1300, 1800, 1100]);
  const row = (label: string, cells: string[], bold = false) => [
    words([label], { bold: true }),
    ...cells.map((c) => words([c], { bold })),
  ];
  pdf.h1(`Summary of ${report.quarterLabel} statuses`);
  pdf.p(summaryNote(report), 60);
  pdf.h2('By section');
  pdf.table(['Section', ...SUMMARY_HEADINGS], widths, [
    ...report.summary.bySection.map((s) => row(s.label, summaryCells(s))),
    row(report.summary.total.label, summaryCells(report.summary.total), true),
  ]);
  pdf.h2('By priority');
  if (report.summary.byPriority.length) {
    pdf.table(
      ['Priority', ...SUMMARY_HEADINGS],
      widths,
      report.summary.byPriority.map((s) => row(s.label, summaryCells(s))),
    );
  } else {
    pdf.p('The plan names no priorities.');
  }
}

function updateLists(pdf: ReportPdf, report: BoardReport): void {
  const widths = columns(pdf.width, [1800, 6400, 3200, 2000, 2000]);
  const list = (entries: BoardReport['late']) =>
    pdf.table(
      ENTRY_HEADINGS,
      widths,
      entries.map((e) => entryCells(e).map((c) => words([c]))),
    );
  pdf.h2('Late updates');
  if (report.late.length) {
    pdf.p(`Updates sent after the ${report.quarterLabel} due date.`, 60);
    list(report.late);
  } else {
    pdf.p(`No ${report.quarterLabel} update was sent late.`);
  }
  pdf.h2('Returned updates');
  if (report.returned.length) {
    pdf.p('Updates the JAG returned to their lead for changes.', 60);
    list(report.returned);
  } else {
    pdf.p(`No ${report.quarterLabel} update was returned.`);
  }
}

function changes(pdf: ReportPdf, report: BoardReport): void {
  pdf.h1('What changed since the last report');
  if (!report.changes.length) {
    pdf.p('The plan has not changed since the last report to the board.');
    return;
  }
  pdf.p(changesIntro(report), 60);
  pdf.table(
    CHANGE_HEADINGS,
    columns(pdf.width, [1700, 1700, 900, 8000, 2100]),
    report.changes.map((c) =>
      changeCells(c).map((lines, i) =>
        i === 3 ? [...words(lines.slice(0, 1)), ...words(lines.slice(1), { color: GREY })] : words(lines),
      ),
    ),
  );
}

function progressCell(row: BoardReportRow): Line[] {
  const status = statusLine(row);
  return [
    ...(status ? words([status], { bold: true }) : []),
    ...words(updateNotes(row), { size: SIZE.small, color: GREY }),
    ...words(progressLines(row)),
  ];
}

function plan(pdf: ReportPdf, report: BoardReport): void {
  const widths = columns(pdf.width, [1900, 3000, 1500, 1700, 1500, 2100, 3700]);
  pdf.doc.addPage();
  pdf.doc.y = MARGIN.top;
  pdf.h1(`The plan and its ${report.quarterLabel} progress`);
  for (const section of report.sections) {
    pdf.h2(`${section.number}. ${section.title}`);
    if (!section.rows.length) {
      pdf.p('This section has no aims.');
      continue;
    }
    pdf.table(
      planHeadings(report),
      widths,
      section.rows.map((row) => [
        ...planCells(row).map((lines, i) => words(lines, { bold: i === 0 && row.firstOfAim })),
        progressCell(row),
      ]),
    );
  }
}

export async function writeBoardReportPdf(report: BoardReport): Promise<Buffer> {
  const pdf = new ReportPdf(report);
  cover(pdf, report);
  pdf.doc.addPage();
  pdf.doc.y = MARGIN.top;
  summary(pdf, report);
  updateLists(pdf, report);
  changes(pdf, report);
  plan(pdf, report);
  return pdf.finish();
}
