/**
 * Reading an action plan from a Word document (DOCX), as partnerships keep it today: a table with
 * the columns Aim, Action, Lead, Partners, Resources, Expected outcomes and Progress to date.
 *
 * Two steps, both pure. readWordDocument turns the file into its tables (mammoth makes HTML of the
 * DOCX, node-html-parser reads that HTML's tables; merged cells are spread over the cells they
 * cover). readWordPlan finds the plan in those tables: the row of column headings (recognised by
 * their words, in any order, tolerant of case, punctuation and small misspellings; a heading can be
 * given another meaning by the caller), section headings (the paragraph just before a table, or a
 * row of one merged cell: "1. Divert young people …"), aims ("2.2 Expansion of …"; the rows under
 * one with an empty or merged aim cell are more of the same aim), actions, and progress split into
 * quarters on "Q1", "Q2 –", "Quarter 3:" and the like. What cannot be placed is reported as a
 * warning with its table and row, never silently dropped.
 */
import mammoth from 'mammoth';
import { HTMLElement, parse } from 'node-html-parser';
import type { PlanFileAction, PlanFileParty, PlanFileProgress } from '../domain/plan-file.js';
import { QUARTERS, type Quarter } from '../domain/quarters.js';
import { parseStatus, type Status } from '../domain/status.js';

// ---------------------------------------------------------------------------------------------
// The document's tables

/** A row of a table; a merged cell's text is in the first cell it covers, the others are empty. */
export interface WordRow {
  cells: string[];
  /** One cell across the whole row: a heading row ("1. Divert young people …"). */
  wide: boolean;
}

export interface WordTable {
  /** The paragraph just before the table (a section's heading in many plans), if any. */
  before: string | null;
  rows: WordRow[];
}

/** What the importer keeps of a Word document: its tables, and a plan year its text names. */
export interface WordDocument {
  tables: WordTable[];
  /** The first plan year the text outside the tables names ("Action plan 2024/25"). */
  yearInText: string | null;
}

export type WordDocumentResult = { ok: true; document: WordDocument } | { ok: false; problem: string };

const NOT_DOCX =
  'is not a Word document (.docx). Open it in Word or LibreOffice, save it as a Word document (.docx) and upload that';

/** A DOCX is a zip archive: it starts "PK\x03\x04". */
function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length > 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** Reads a DOCX's tables. A file that is not a DOCX is a problem, not an exception. */
export async function readWordDocument(bytes: Uint8Array): Promise<WordDocumentResult> {
  if (!looksLikeZip(bytes)) return { ok: false, problem: NOT_DOCX };
  let html: string;
  try {
    const result = await mammoth.convertToHtml(
      { buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) },
      // Pictures are not part of the plan: leave their bytes out of the HTML.
      { convertImage: mammoth.images.imgElement(() => Promise.resolve({ src: '' })) },
    );
    html = result.value;
  } catch {
    return { ok: false, problem: NOT_DOCX };
  }
  return { ok: true, document: documentFromHtml(html) };
}

const PLAN_YEAR_IN_TEXT = /\b(20\d{2})\s*[/\-–]\s*(\d{2})\b/;

function yearIn(text: string): string | null {
  const match = PLAN_YEAR_IN_TEXT.exec(text);
  if (!match) return null;
  const start = Number(match[1]);
  return (start + 1) % 100 === Number(match[2]) ? `${start}/${match[2]}` : null;
}

/** A block of text as lines: white space made single, empty lines dropped. */
function textLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
}

const elementsOf = (node: HTMLElement) =>
  node.childNodes.filter((child): child is HTMLElement => child instanceof HTMLElement);
const tagOf = (node: HTMLElement) => node.rawTagName.toLowerCase();

/** The document as mammoth's HTML gives it: top-level paragraphs, headings, lists and tables. */
export function documentFromHtml(html: string): WordDocument {
  const tables: WordTable[] = [];
  let before: string | null = null;
  let yearInText: string | null = null;
  for (const node of elementsOf(parse(html))) {
    if (tagOf(node) === 'table') {
      tables.push({ before, rows: tableRows(node) });
      before = null;
      continue;
    }
    const lines = textLines(node.structuredText);
    if (lines.length) {
      before = lines.at(-1)!;
      yearInText ??= lines.map(yearIn).find((y) => y !== null) ?? null;
    }
  }
  return { tables, yearInText };
}

function spanOf(cell: HTMLElement, name: string, most: number): number {
  const value = Number.parseInt(cell.getAttribute(name) ?? '1', 10);
  return Number.isFinite(value) && value > 1 ? Math.min(value, most) : 1;
}

/** The table's rows on one grid: a merged cell's text in its first cell, the cells it covers empty. */
function tableRows(table: HTMLElement): WordRow[] {
  const trs = elementsOf(table).flatMap((child) =>
    tagOf(child) === 'tr'
      ? [child]
      : ['thead', 'tbody', 'tfoot'].includes(tagOf(child))
        ? elementsOf(child).filter((tr) => tagOf(tr) === 'tr')
        : [],
  );
  const covered = new Map<number, Set<number>>();
  const cover = (row: number, column: number) => {
    const set = covered.get(row) ?? new Set<number>();
    set.add(column);
    covered.set(row, set);
  };
  const rows = trs.map((tr, r) => {
    const cells: string[] = [];
    const tds = elementsOf(tr).filter((td) => ['td', 'th'].includes(tagOf(td)));
    let column = 0;
    let widest = 1;
    for (const td of tds) {
      while (covered.get(r)?.has(column)) cells[column++] = '';
      const colspan = spanOf(td, 'colspan', 64);
      const rowspan = spanOf(td, 'rowspan', trs.length);
      widest = Math.max(widest, colspan);
      cells[column] = textLines(td.structuredText).join('\n');
      for (let k = 1; k < colspan; k++) cells[column + k] = '';
      for (let down = 1; down < rowspan; down++) {
        for (let k = 0; k < colspan; k++) cover(r + down, column + k);
      }
      column += colspan;
    }
    for (const c of covered.get(r) ?? []) if (c >= column) cells[c] = '';
    return { cells: Array.from(cells, (c) => c ?? ''), single: tds.length === 1, widest, r };
  });
  const width = Math.max(0, ...rows.map((row) => row.cells.length));
  return rows.map((row) => ({
    cells: [...row.cells, ...Array<string>(width - row.cells.length).fill('')],
    wide: width > 1 && row.single && (row.widest >= width || !covered.has(row.r)),
  }));
}

// ---------------------------------------------------------------------------------------------
// Column headings

export const WORD_PLAN_FIELDS = [
  'aim',
  'action',
  'lead',
  'partners',
  'resources',
  'expectedOutcomes',
  'progress',
] as const;
export type WordPlanField = (typeof WORD_PLAN_FIELDS)[number];

export function isWordPlanField(value: unknown): value is WordPlanField {
  return typeof value === 'string' && (WORD_PLAN_FIELDS as readonly string[]).includes(value);
}

/** The plan document's own names for its columns. */
export const WORD_PLAN_FIELD_LABELS: Record<WordPlanField, string> = {
  aim: 'Aim',
  action: 'Action',
  lead: 'Lead',
  partners: 'Partners',
  resources: 'Resources',
  expectedOutcomes: 'Expected outcomes',
  progress: 'Progress to date',
};

/** The words plans use for each column, as headingKey writes them. */
const HEADING_WORDS: Record<WordPlanField, readonly string[]> = {
  aim: ['aim', 'aims', 'aim number', 'aim no', 'aim ref'],
  action: [
    'action',
    'actions',
    'activity',
    'activities',
    'task',
    'tasks',
    'what will be done',
    'what we will do',
    'action to be taken',
    'actions to be taken',
  ],
  lead: [
    'lead',
    'leads',
    'lead officer',
    'lead officers',
    'lead agency',
    'lead agencies',
    'lead organisation',
    'lead partner',
    'responsible',
    'responsible officer',
    'owner',
  ],
  partners: [
    'partner',
    'partners',
    'partner agency',
    'partner agencies',
    'partner organisations',
    'partners involved',
    'key partners',
    'supporting partners',
    'supported by',
  ],
  resources: ['resource', 'resources', 'resources required', 'resources needed', 'resourcing'],
  expectedOutcomes: [
    'expected outcome',
    'expected outcomes',
    'outcome',
    'outcomes',
    'intended outcomes',
    'expected result',
    'expected results',
    'success measures',
    'measures of success',
  ],
  progress: [
    'progress',
    'progress to date',
    'progress update',
    'progress updates',
    'progress so far',
    'update',
    'updates',
    'quarterly progress',
    'quarterly update',
    'quarterly updates',
  ],
};

/** A heading as compared: lower case, "(s)" dropped, punctuation and runs of space made one space. */
export function headingKey(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/\(s\)/g, '')
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/** Edit distance with transpositions (optimal string alignment): "progess" is 1 from "progress". */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** Misspellings allowed: none in a short word, one in a word of 5 to 9 letters, two in longer. */
const allowedSlips = (word: string) => (word.length < 5 ? 0 : word.length < 10 ? 1 : 2);

/** How well a heading matches a column's words: 0 exactly, more for slips, more for a prefix. */
function headingScore(key: string, words: readonly string[]): number | undefined {
  let best: number | undefined;
  const consider = (score: number) => (best = best === undefined ? score : Math.min(best, score));
  const parts = key.split(' ');
  for (const word of words) {
    const distance = editDistance(key, word);
    if (distance <= allowedSlips(word)) consider(distance);
    // "Progress to date (Q1 to Q4)", "Lead officer / agency": the heading starts with the words.
    const length = word.split(' ').length;
    if (parts.length > length) {
      const slip = editDistance(parts.slice(0, length).join(' '), word);
      if (slip <= allowedSlips(word)) consider(3 + slip);
    }
  }
  return best;
}

/** The column a heading names, or null when it names none (or two equally well). */
export function recogniseHeading(heading: string): WordPlanField | null {
  const key = headingKey(heading);
  if (!key) return null;
  let best: { field: WordPlanField; score: number } | undefined;
  let tie = false;
  for (const field of WORD_PLAN_FIELDS) {
    const score = headingScore(key, HEADING_WORDS[field]);
    if (score === undefined) continue;
    if (!best || score < best.score) {
      best = { field, score };
      tie = false;
    } else if (score === best.score) tie = true;
  }
  return best && !tie ? best.field : null;
}

// ---------------------------------------------------------------------------------------------
// Progress, statuses and parties in a cell

/** A cell that starts with a quarter's mark. */
const QUARTER_START = /^(?:q|qtr\.?|quarter)\s?[1-4](?![\d/])/i;

/** "Q1", "Qtr 3", "Quarter 2", with a separator after it or not. */
const QUARTER_MARK = /\b(?:q|qtr\.?|quarter)\s?([1-4])(?![\d/])\s*(?:[:\-–—.)]\s*)?/gi;

/** Progress text keeps its paragraphs apart with a blank line, as the plan file does. */
const PARAGRAPH = '\n\n';

export interface ProgressParts {
  /** Text before any quarter's mark. */
  before: string;
  quarters: { quarter: Quarter; text: string }[];
}

/**
 * Splits a progress cell on its quarters' marks. A mark at the start of a paragraph always counts;
 * one inside a paragraph only for a later quarter than the last, after a sentence's end, before a
 * colon or dash, or with nothing after it ("… in Letchworth Q4"), so that "to be reported in Q3
 * to the board" stays text. `lastQuarter`: the quarter the text continues, if any.
 */
export function splitProgress(text: string, lastQuarter = 0): ProgressParts {
  const quarters: ProgressParts['quarters'] = [];
  const before: string[] = [];
  let current: { quarter: Quarter; text: string[] } | undefined;
  let latest = lastQuarter;
  const push = (piece: string) => {
    const clean = piece.trim();
    if (clean) (current ? current.text : before).push(clean);
  };
  const start = (quarter: Quarter) => {
    if (current) quarters.push({ quarter: current.quarter, text: current.text.join(PARAGRAPH) });
    current = { quarter, text: [] };
    latest = Math.max(latest, quarter);
  };
  for (const line of textLines(text)) {
    let from = 0;
    for (const match of line.matchAll(QUARTER_MARK)) {
      const quarter = Number(match[1]) as Quarter;
      const prev = line.slice(0, match.index);
      const next = line.slice(match.index + match[0].length);
      const atStart = prev.trim() === '';
      // "Q1 Q2 Echo is now closed": nothing was written for Q1.
      const afterEmptyQuarter = from > 0 && line.slice(from, match.index).trim() === '';
      const sentenceEnd = /[.!?;:]\s*$/.test(prev);
      const separated = /[:\-–—]\s*$/.test(match[0]) || next.trim() === '';
      if (!atStart && !(quarter > latest && (sentenceEnd || separated || afterEmptyQuarter))) continue;
      push(line.slice(from, match.index));
      start(quarter);
      from = match.index + match[0].length;
    }
    push(line.slice(from));
  }
  if (current) quarters.push({ quarter: current.quarter, text: current.text.join(PARAGRAPH) });
  return { before: before.join(PARAGRAPH), quarters };
}

const STATUS_WORDS = '(not started|on track|at risk|off track|completed?)';
const STATUS_LINE = new RegExp(`^(?:(?:rag\\s+)?status|rag)\\s*[:\\-–]\\s*${STATUS_WORDS}\\.?$`, 'i');
const STATUS_ALONE = new RegExp(`^[([]?${STATUS_WORDS}[)\\]]?\\.?$`, 'i');
const STATUS_BRACKETED_START = new RegExp(`^[([]${STATUS_WORDS}[)\\]]\\s*[:\\-–]?\\s*`, 'i');
const STATUS_AT_END = new RegExp(`\\s*\\(?(?:rag\\s+)?status\\s*[:\\-–]\\s*${STATUS_WORDS}\\)?\\.?$`, 'i');

function statusOf(words: string): Status | null {
  return parseStatus(words.toLowerCase() === 'completed' ? 'complete' : words) ?? null;
}

/**
 * A status the writer stated in so many words: a line "Status: on track" (or "RAG: at risk"), a
 * line that is only a status ("Complete"), "(On track)" at the start, or "Status: …" at the end.
 * A status word inside a sentence ("the work is on track") is left as text: it is not a rating.
 */
export function statusInProgress(text: string): { text: string; status: Status | null } {
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    const match = STATUS_LINE.exec(line.trim()) ?? STATUS_ALONE.exec(line.trim());
    if (match) {
      const rest = lines
        .filter((_, j) => j !== i)
        .join('\n')
        .replace(/\n{3,}/g, PARAGRAPH);
      return { text: rest.trim() || text, status: statusOf(match[1]!) };
    }
  }
  const startMatch = STATUS_BRACKETED_START.exec(text);
  if (startMatch) {
    return { text: text.slice(startMatch[0].length).trim() || text, status: statusOf(startMatch[1]!) };
  }
  const endMatch = STATUS_AT_END.exec(text);
  if (endMatch) {
    return { text: text.slice(0, endMatch.index).trim() || text, status: statusOf(endMatch[1]!) };
  }
  return { text, status: null };
}

/** An abbreviation in brackets names the organisation, not an officer: "Family Support Team (IFST)". */
const ABBREVIATION = /^[A-Z][A-Z0-9&]{1,7}$/;

function plainParties(text: string): PlanFileParty[] {
  return text
    .split(/[,;]/)
    .map((name) => name.trim())
    .filter(Boolean)
    .map((organisation) => ({ organisation, officers: [] }));
}

function officersIn(text: string): string[] {
  return text
    .split(/[/,;]|\s+and\s+/)
    .map((o) => o.trim())
    .filter(Boolean);
}

/**
 * Leads or partners as a Word plan writes them: one a paragraph, or several in one, officers in
 * brackets: "SADA (Sarah Pateman)", "SBC (Will Peters/Mel Cucos)", "CCSU (Helen Whitehead) SBC",
 * "SBC, elected members, Police". Names run together without punctuation stay one name.
 */
export function parseWordParties(text: string): PlanFileParty[] {
  const parties: PlanFileParty[] = [];
  for (const line of textLines(text)) {
    let rest = line;
    for (;;) {
      const match = /^([^()]*)\(([^()]*)\)\s*[,;]?\s*/.exec(rest);
      if (!match) {
        parties.push(...plainParties(rest));
        break;
      }
      const names = plainParties(match[1]!);
      const inner = match[2]!.trim();
      const last = names.pop();
      parties.push(...names);
      if (!last) {
        // "(Sarah Harris)" with no organisation before it: an officer of the party before.
        const previous = parties.at(-1);
        if (previous && inner) previous.officers.push(...officersIn(inner));
        else if (inner) parties.push({ organisation: inner, officers: [] });
      } else if (!inner || ABBREVIATION.test(inner)) {
        const organisation = inner ? `${last.organisation} (${inner})` : last.organisation;
        parties.push({ organisation, officers: [] });
      } else {
        parties.push({ organisation: last.organisation, officers: officersIn(inner) });
      }
      rest = rest.slice(match[0].length);
      if (!rest.trim()) break;
    }
  }
  return parties;
}

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

/** "Added August 2024" or "Added 01/08/2024" → 2024-08-01. */
function addedOnIn(line: string): string | undefined {
  const month = /^added\s+(?:in\s+|on\s+)?([a-z]+)\s+(\d{4})\.?$/i.exec(line);
  if (month) {
    const index = MONTHS.indexOf(month[1]!.toLowerCase());
    return index >= 0 ? `${month[2]}-${String(index + 1).padStart(2, '0')}-01` : undefined;
  }
  const date = /^added\s+(?:on\s+)?(\d{1,2})\/(\d{1,2})\/(\d{4})\.?$/i.exec(line);
  if (date) return `${date[3]}-${date[2]!.padStart(2, '0')}-${date[1]!.padStart(2, '0')}`;
  return undefined;
}

const AIM_START = /^(?:aim\s*)?(\d{1,2})\.(\d{1,2})\.?(?=\s|$|[:\-–)])[:\-–)]?\s*(.*)$/i;

export interface AimCell {
  number: string | null;
  title: string;
  addedOn: string | null;
}

/** An aim cell: "2.2 Expansion of …", perhaps after "Added August 2024". */
export function parseAimCell(text: string): AimCell {
  let addedOn: string | null = null;
  let number: string | null = null;
  const title: string[] = [];
  for (const line of textLines(text)) {
    const added = addedOnIn(line);
    if (added) {
      addedOn = added;
      continue;
    }
    const start: RegExpExecArray | null = number === null ? AIM_START.exec(line) : null;
    if (start) {
      number = `${Number(start[1])}.${Number(start[2])}`;
      if (start[3]) title.push(start[3]);
      continue;
    }
    title.push(line);
  }
  return { number, title: title.join(' ').trim(), addedOn };
}

/** A section's heading: "1. Divert young people …", "Section 2: …"; without a number if allowed. */
export function parseSectionHeading(
  text: string,
  options: { numberRequired: boolean },
): { number: number | null; title: string } | undefined {
  const line = textLines(text).join(' ');
  if (!line || AIM_START.test(line)) return undefined;
  const match = /^(?:section\s+|theme\s+|priority\s+)?(\d{1,2})(?:\s*[.):\-–]\s*|\s+)(\S.*)$/i.exec(line);
  if (match) return { number: Number(match[1]), title: match[2]!.trim() };
  return options.numberRequired ? undefined : { number: null, title: line };
}

// ---------------------------------------------------------------------------------------------
// The plan in the tables

/** Where something was read: table and row, counted from 1; row 0 is the paragraph before a table. */
export interface WordSource {
  table: number;
  row: number;
}

export interface WordWarning {
  table: number;
  row: number | null;
  message: string;
}

export interface WordActionRead extends PlanFileAction {
  key: string;
  source: WordSource;
}

export interface WordAimRead {
  key: string;
  number: string | null;
  title: string;
  addedOn: string | null;
  source: WordSource;
  actions: WordActionRead[];
}

export interface WordSectionRead {
  key: string;
  number: number | null;
  title: string;
  /** No heading named it: it was made for aims whose numbers start with its number. */
  madeForAims: boolean;
  source: WordSource;
  aims: WordAimRead[];
}

/** A column heading as found (the same words in several tables are one heading) and its meaning. */
export interface WordHeading {
  key: string;
  text: string;
  /** What the heading is taken as: what it was recognised as, unless the caller said otherwise. */
  field: WordPlanField | null;
  recognised: WordPlanField | null;
  tables: number[];
}

export interface WordPlanRead {
  headings: WordHeading[];
  /** The tables (from 1) that hold the plan. */
  planTables: number[];
  sections: WordSectionRead[];
  warnings: WordWarning[];
}

/** The meaning the caller gives a heading (by headingKey), overriding what it was recognised as. */
export type WordHeadingChoices = Readonly<Record<string, WordPlanField | 'ignore'>>;

const keyOf = (source: WordSource) => `t${source.table}r${source.row}`;

interface ActionDraft {
  read: WordActionRead;
  progress: Map<Quarter | null, string[]>;
  lastQuarter: Quarter | null;
}

/** The header row: the first of a table's first rows that names three of the plan's columns. */
function headerRowOf(table: WordTable): number | undefined {
  const index = table.rows.slice(0, 6).findIndex((row) => {
    if (row.wide) return false;
    return new Set(row.cells.map(recogniseHeading).filter((f) => f !== null)).size >= 3;
  });
  return index < 0 ? undefined : index;
}

class PlanReader {
  readonly sections: WordSectionRead[] = [];
  readonly warnings: WordWarning[] = [];
  private section: WordSectionRead | undefined;
  private aim: WordAimRead | undefined;
  private action: ActionDraft | undefined;

  warn(source: { table: number; row: number | null }, message: string): void {
    this.warnings.push({ table: source.table, row: source.row, message });
  }

  startSection(heading: { number: number | null; title: string }, source: WordSource): void {
    this.finishAction();
    this.section = {
      key: keyOf(source),
      number: heading.number,
      title: heading.title,
      madeForAims: false,
      source,
      aims: [],
    };
    this.sections.push(this.section);
    this.aim = undefined;
  }

  /** The section an aim goes in: the current one, unless the aim's number names another. */
  private sectionFor(number: string | null, source: WordSource): WordSectionRead {
    const wanted = number === null ? null : Number(number.split('.')[0]);
    const current = this.section;
    if (current && (wanted === null || current.number === null || current.number === wanted)) {
      if (current.number === null && wanted !== null) current.number = wanted;
      return current;
    }
    const known = this.sections.find((s) => s.number === wanted);
    if (known) return (this.section = known);
    const made: WordSectionRead = {
      key: keyOf(source),
      number: wanted,
      title: wanted === null ? 'Section' : `Section ${wanted}`,
      madeForAims: true,
      source,
      aims: [],
    };
    this.sections.push(made);
    this.warn(
      source,
      wanted === null
        ? 'there is no section heading above this aim: a section was made for it; give it a number and title'
        : `there is no heading for section ${wanted} above aim ${number}: give section ${wanted} its title`,
    );
    return (this.section = made);
  }

  /** Starts an aim; false when the cell repeats the aim above (written on each of its rows). */
  startAim(cell: AimCell, source: WordSource): boolean {
    if (this.aim && cell.number !== null && this.aim.number === cell.number) return false;
    this.finishAction();
    const section = this.sectionFor(cell.number, source);
    this.aim = {
      key: keyOf(source),
      number: cell.number,
      title: cell.title,
      addedOn: cell.addedOn,
      source,
      actions: [],
    };
    section.aims.push(this.aim);
    return true;
  }

  /** An aim cell with text but no number: more of the aim above (a cell split over a page). */
  aimCellWithoutNumber(cell: AimCell, source: WordSource): boolean {
    if (this.aim && !cell.title) {
      this.aim.addedOn ??= cell.addedOn;
      return false;
    }
    if (this.aim) {
      this.aim.title = `${this.aim.title} ${cell.title}`.trim();
      this.aim.addedOn ??= cell.addedOn;
      this.warn(
        source,
        `the aim cell has no aim number: its text was taken as more of the title of aim ${this.aim.number ?? 'above'}`,
      );
      return false;
    }
    this.startAim(cell, source);
    this.warn(source, 'the aim has no number: give it one');
    return true;
  }

  hasAim(): boolean {
    return this.aim !== undefined;
  }

  hasAction(): boolean {
    return this.action !== undefined;
  }

  startAction(description: string, source: WordSource): void {
    this.finishAction();
    const read: WordActionRead = {
      key: keyOf(source),
      source,
      description,
      leads: [],
      partners: [],
      resources: [],
      expectedOutcomes: [],
      progress: [],
    };
    this.action = { read, progress: new Map(), lastQuarter: null };
    this.aim!.actions.push(read);
  }

  /** Adds a row's cells to the current action: its own row, or a row that continues it. */
  addToAction(values: Record<WordPlanField, string>, continuing: boolean): void {
    const action = this.action!;
    action.read.leads.push(...parseWordParties(values.lead));
    action.read.partners.push(...parseWordParties(values.partners));
    action.read.resources.push(...textLines(values.resources));
    action.read.expectedOutcomes.push(...textLines(values.expectedOutcomes));
    if (!values.progress) return;
    const parts = splitProgress(values.progress, action.lastQuarter ?? 0);
    if (parts.before) {
      // Text before any quarter: more of the quarter above when the row continues an action.
      this.appendProgress(action, continuing ? action.lastQuarter : null, parts.before);
    }
    for (const part of parts.quarters) {
      this.appendProgress(action, part.quarter, part.text);
      action.lastQuarter = part.quarter;
    }
  }

  private appendProgress(action: ActionDraft, quarter: Quarter | null, text: string): void {
    const list = action.progress.get(quarter) ?? [];
    if (text) list.push(text);
    action.progress.set(quarter, list);
  }

  finishAction(): void {
    const action = this.action;
    if (!action) return;
    const progress: PlanFileProgress[] = [];
    for (const quarter of [...QUARTERS, null]) {
      const text = (action.progress.get(quarter) ?? []).join(PARAGRAPH).trim();
      if (text) progress.push({ quarter, ...statusInProgress(text) });
    }
    action.read.progress = progress;
    this.action = undefined;
  }
}

const emptyValues = (): Record<WordPlanField, string> =>
  Object.fromEntries(WORD_PLAN_FIELDS.map((f) => [f, ''])) as Record<WordPlanField, string>;

const ACTION_DETAILS = ['lead', 'partners', 'resources', 'expectedOutcomes', 'progress'] as const;

/**
 * Reads the plan from a document's tables. `choices` gives headings (by headingKey) another
 * meaning than the one recognised, or none ('ignore'); the same tables read again with them.
 */
export function readWordPlan(document: WordDocument, choices: WordHeadingChoices = {}): WordPlanRead {
  const reader = new PlanReader();
  const headings = new Map<string, WordHeading>();
  const planTables: number[] = [];

  document.tables.forEach((table, index) => {
    const tableNumber = index + 1;
    const headerIndex = headerRowOf(table);
    if (headerIndex === undefined) {
      if (table.rows.some((row) => row.cells.some(Boolean))) {
        reader.warn(
          { table: tableNumber, row: null },
          'has no row of the plan’s column headings (Aim, Action, Lead, …), so it was left out',
        );
      }
      return;
    }
    planTables.push(tableNumber);
    const header = table.rows[headerIndex]!.cells;
    const fields = header.map((text) => {
      const key = headingKey(text);
      const recognised = recogniseHeading(text);
      const choice = choices[key];
      const field = choice === 'ignore' ? null : (choice ?? recognised);
      const heading = headings.get(key) ?? { key, text, field, recognised, tables: [] };
      if (!heading.tables.includes(tableNumber)) heading.tables.push(tableNumber);
      headings.set(key, heading);
      if (field === null && text.trim()) {
        reader.warn(
          { table: tableNumber, row: headerIndex + 1 },
          `the column “${text}” is not taken as one of the plan’s columns, so its cells were left out`,
        );
      }
      return field;
    });

    const before = table.before ? parseSectionHeading(table.before, { numberRequired: true }) : undefined;
    if (before) reader.startSection(before, { table: tableNumber, row: 0 });

    table.rows.forEach((row, r) => {
      if (r <= headerIndex || !row.cells.some(Boolean)) return;
      const source = { table: tableNumber, row: r + 1 };
      // The header again, as Word repeats it after a page break in some documents.
      if (row.cells.every((cell, c) => headingKey(cell) === headingKey(header[c] ?? ''))) return;
      const values = emptyValues();
      if (row.wide) {
        const text = row.cells.find(Boolean)!;
        const aimCell = parseAimCell(text);
        const heading = parseSectionHeading(text, { numberRequired: false });
        if (aimCell.number) return void reader.startAim(aimCell, source);
        if (heading && !QUARTER_START.test(text)) return reader.startSection(heading, source);
        // A merged cell of progress ("Q4 …") under an action: more of that action's progress.
        values.progress = text;
      } else {
        row.cells.forEach((cell, c) => {
          const field = fields[c];
          if (field && cell) values[field] = values[field] ? `${values[field]}\n${cell}` : cell;
        });
      }
      let newAim = false;
      if (values.aim) {
        const aimCell = parseAimCell(values.aim);
        newAim = aimCell.number
          ? reader.startAim(aimCell, source)
          : reader.aimCellWithoutNumber(aimCell, source);
      }
      const details = ACTION_DETAILS.filter((f) => values[f]);
      if (values.action) {
        if (!reader.hasAim()) {
          reader.warn(source, 'could not be placed: there is no aim above this action, so it was left out');
          return;
        }
        reader.startAction(values.action, source);
        reader.addToAction(values, false);
      } else if (details.length) {
        if (reader.hasAction() && !newAim) {
          reader.addToAction(values, true);
        } else {
          const cells = details.map((f) => WORD_PLAN_FIELD_LABELS[f]).join(', ');
          reader.warn(source, `could not be placed: the row gives no action, so its ${cells} were left out`);
        }
      }
    });
  });
  reader.finishAction();

  const list = [...headings.values()];
  if (planTables.length && !list.some((h) => h.field === 'action')) {
    reader.warn(
      { table: planTables[0]!, row: null },
      'no column is taken as the Action column: choose the column that holds the actions',
    );
  }
  return { headings: list, planTables, sections: reader.sections, warnings: reader.warnings };
}
