/**
 * Importing a Word action plan as a new plan year, in three steps, all the coordinator's:
 *
 * 1. upload: the DOCX is read (src/documents/word-plan.ts) and its tables are kept in
 *    `plan_uploads` for a day, with what the coordinator corrects; nothing else is written.
 * 2. correct: the plan year, what each column heading is taken as (the stored tables are read
 *    again with it), section and aim numbers and titles, each action's lead and partners, and what
 *    to leave out.
 * 3. save: the corrected plan is written as the new plan year in one transaction, with its audit
 *    event (plan-import.ts's importPlanYear), and the upload remembers what it became.
 */
import { and, eq } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import * as t from '../db/schema.js';
import {
  isWordPlanField,
  parseWordParties,
  readWordDocument,
  readWordPlan,
  WORD_PLAN_FIELD_LABELS,
  type WordActionRead,
  type WordAimRead,
  type WordDocument,
  type WordHeading,
  type WordHeadingChoices,
  type WordPlanField,
  type WordPlanRead,
  type WordSectionRead,
  type WordWarning,
} from '../documents/word-plan.js';
import { aimNumberParts, isAimNumber } from '../domain/numbering.js';
import { canEditPlanStructure } from '../domain/permissions.js';
import { planSchema, type PlanFileParty, type PlanFilePlan } from '../domain/plan-file.js';
import { nextPlanYear, parsePlanYear, planYearOfDate } from '../domain/quarters.js';
import type { Actor } from './actor.js';
import { ForbiddenError, isUniqueViolation, NotFoundError, ValidationError } from './errors.js';
import { storePendingUpload } from './pending-uploads.js';
import { importPlanYear, type ImportSummary } from './plan-import.js';

export const WORD_UPLOAD_KIND = 'word-plan';
/** How long an upload waits to be saved. */
export const WORD_UPLOAD_LIFETIME_MS = 24 * 60 * 60 * 1000;

type Problem = { field: string; message: string };

/** What the coordinator changed of what was read; kept with the upload. */
export interface WordCorrections {
  year: string | null;
  title: string | null;
  headings: Record<string, WordPlanField | 'ignore'>;
  sections: Record<string, { number?: number; title?: string }>;
  aims: Record<string, { number?: string; title?: string }>;
  /** An action's lead and partners as the coordinator typed them (see partiesText). */
  actions?: Record<string, { leads?: string; partners?: string }>;
  /** Keys of the sections, aims and actions left out. */
  leaveOut: string[];
}

export interface WordImportSaved {
  year: string;
  sections: number;
  aims: number;
  actions: number;
  progressUpdates: number;
  savedAt: string;
}

/** The upload's `content`: the document's tables, the corrections, and what it became. */
interface StoredWordUpload {
  document: WordDocument;
  corrections: WordCorrections;
  saved: WordImportSaved | null;
}

export interface PreviewAction extends WordActionRead {
  leftOut: boolean;
}
export interface PreviewAim extends Omit<WordAimRead, 'actions'> {
  leftOut: boolean;
  /** As read, before correction. */
  read: { number: string | null; title: string };
  actions: PreviewAction[];
}
export interface PreviewSection extends Omit<WordSectionRead, 'aims'> {
  leftOut: boolean;
  read: { number: number | null; title: string };
  aims: PreviewAim[];
}

export interface WordImportPreview {
  id: number;
  filename: string;
  expiresAt: Date;
  year: string;
  title: string;
  /** Plan years the partnership has no plan for, around its own and the document's. */
  yearChoices: string[];
  headings: WordHeading[];
  sections: PreviewSection[];
  warnings: WordWarning[];
  /** What stops the plan being saved as it stands. */
  problems: Problem[];
  /** What saving would write. */
  counts: { sections: number; aims: number; actions: number; progressUpdates: number };
  saved: WordImportSaved | null;
}

const emptyCorrections = (): WordCorrections => ({
  year: null,
  title: null,
  headings: {},
  sections: {},
  aims: {},
  actions: {},
  leaveOut: [],
});

/**
 * Leads or partners as the preview's box shows them: one organisation a line, its officers in
 * brackets ("SBC (Will Peters/Mel Cucos)"); read back with the Word plan's own reading of a cell,
 * so an unchanged box reads as it was.
 */
export function partiesText(parties: readonly PlanFileParty[]): string {
  return parties
    .map((p) => (p.officers.length ? `${p.organisation} (${p.officers.join('/')})` : p.organisation))
    .join('\n');
}

/** The longest text a lead or partners box takes. */
const PARTIES_MAX_LENGTH = 2000;

function requireCoordinator(actor: Actor, partnershipId: number): number {
  if (actor.userId === null || !canEditPlanStructure(actor.member, partnershipId)) {
    throw new ForbiddenError('Only the partnership’s coordinator can import a Word plan');
  }
  return actor.userId;
}

/** Field names of the correction form, shared with the page. */
export const wordImportFields = {
  heading: (index: number) => `heading-${index}`,
  sectionNumber: (key: string) => `section-${key}-number`,
  sectionTitle: (key: string) => `section-${key}-title`,
  aimNumber: (key: string) => `aim-${key}-number`,
  aimTitle: (key: string) => `aim-${key}-title`,
  actionLeads: (key: string) => `action-${key}-leads`,
  actionPartners: (key: string) => `action-${key}-partners`,
  leaveOut: 'leaveOut',
} as const;

// ---------------------------------------------------------------------------------------------
// Step 1: upload

/**
 * Reads an uploaded Word document and keeps it for the preview. Refuses a file that is not a
 * DOCX, or has no table with the plan's columns, saying so; writes nothing else.
 */
export async function uploadWordPlan(
  db: Db,
  actor: Actor,
  partnershipId: number,
  file: { filename: string; data: Uint8Array } | undefined,
): Promise<{ id: number }> {
  const userId = requireCoordinator(actor, partnershipId);
  if (!file || file.data.length === 0) {
    throw new ValidationError([{ field: 'file', message: 'Choose a Word document (.docx) to upload' }]);
  }
  const filename = displayName(file.filename);
  const read = await readWordDocument(file.data);
  if (!read.ok) {
    throw new ValidationError([{ field: 'file', message: `The file ${filename} ${read.problem}` }]);
  }
  const plan = readWordPlan(read.document);
  if (plan.planTables.length === 0) {
    const tables = read.document.tables.length;
    throw new ValidationError([
      {
        field: 'file',
        message:
          `The file ${filename} has no table with the plan’s columns: ` +
          `${tables === 0 ? 'it has no tables at all' : `none of its ${tables === 1 ? 'one table' : `${tables} tables`} has a row of headings naming three of`} ` +
          `${Object.values(WORD_PLAN_FIELD_LABELS).join(', ')}`,
      },
    ]);
  }
  const now = new Date();
  const content: StoredWordUpload = { document: read.document, corrections: emptyCorrections(), saved: null };
  const id = await storePendingUpload(
    db,
    { partnershipId, planId: null, userId, kind: WORD_UPLOAD_KIND, filename, content },
    WORD_UPLOAD_LIFETIME_MS,
    now,
  );
  return { id };
}

/** The file's own name, without a path, kept short. */
function displayName(filename: string): string {
  const base = filename.split(/[\\/]/).pop()?.trim() ?? '';
  return (base || 'document.docx').slice(0, 200);
}

interface LoadedUpload {
  id: number;
  filename: string;
  expiresAt: Date;
  content: StoredWordUpload;
}

/** The actor's own upload, if it has not expired. */
async function loadUpload(
  tx: Db | Tx,
  userId: number,
  partnershipId: number,
  uploadId: number,
  options: { lock?: boolean } = {},
): Promise<LoadedUpload> {
  const query = tx
    .select({
      id: t.planUploads.id,
      filename: t.planUploads.filename,
      expiresAt: t.planUploads.expiresAt,
      content: t.planUploads.content,
    })
    .from(t.planUploads)
    .where(
      and(
        eq(t.planUploads.id, uploadId),
        eq(t.planUploads.partnershipId, partnershipId),
        eq(t.planUploads.userId, userId),
        eq(t.planUploads.kind, WORD_UPLOAD_KIND),
      ),
    );
  const [row] = options.lock ? await query.for('update') : await query;
  if (!row || row.expiresAt.getTime() <= Date.now()) {
    throw new NotFoundError('The uploaded Word plan (uploads are kept for a day)');
  }
  return { ...row, content: row.content as StoredWordUpload };
}

// ---------------------------------------------------------------------------------------------
// The preview: what was read, with the corrections applied

async function existingYears(tx: Db | Tx, partnershipId: number): Promise<Set<string>> {
  const rows = await tx
    .select({ year: t.plans.year })
    .from(t.plans)
    .where(eq(t.plans.partnershipId, partnershipId));
  return new Set(rows.map((r) => r.year));
}

const yearStart = (year: string) => Number(year.slice(0, 4));
const yearFrom = (start: number) => `${start}/${String((start + 1) % 100).padStart(2, '0')}`;

function yearChoicesFor(existing: ReadonlySet<string>, inText: string | null): string[] {
  const anchors = [...existing, ...(inText ? [inText] : []), planYearOfDate(new Date())].map(yearStart);
  const choices: string[] = [];
  for (let start = Math.min(...anchors) - 2; start <= Math.max(...anchors) + 2; start++) {
    if (!existing.has(yearFrom(start))) choices.push(yearFrom(start));
  }
  return choices;
}

function defaultYear(existing: ReadonlySet<string>, inText: string | null): string {
  if (inText && !existing.has(inText)) return inText;
  const latest = [...existing].sort().at(-1);
  if (latest) return nextPlanYear(latest);
  return planYearOfDate(new Date());
}

function applyCorrections(read: WordPlanRead, corrections: WordCorrections): PreviewSection[] {
  const out = new Set(corrections.leaveOut);
  return read.sections.map((section) => {
    const fix = corrections.sections[section.key] ?? {};
    const sectionOut = out.has(section.key);
    return {
      ...section,
      number: fix.number ?? section.number,
      title: fix.title ?? section.title,
      read: { number: section.number, title: section.title },
      leftOut: sectionOut,
      aims: section.aims.map((aim) => {
        const aimFix = corrections.aims[aim.key] ?? {};
        const aimOut = sectionOut || out.has(aim.key);
        return {
          ...aim,
          number: aimFix.number ?? aim.number,
          title: aimFix.title ?? aim.title,
          read: { number: aim.number, title: aim.title },
          leftOut: aimOut,
          actions: aim.actions.map((action) => {
            const fix = corrections.actions?.[action.key] ?? {};
            return {
              ...action,
              leads: fix.leads === undefined ? action.leads : parseWordParties(fix.leads),
              partners: fix.partners === undefined ? action.partners : parseWordParties(fix.partners),
              leftOut: aimOut || out.has(action.key),
            };
          }),
        };
      }),
    };
  });
}

/** What stops the corrected plan being saved, against the form's fields. */
function planProblems(sections: readonly PreviewSection[]): Problem[] {
  const problems: Problem[] = [];
  const f = wordImportFields;
  const sectionNumbers = new Map<number, string>();
  const aimNumbers = new Map<string, string>();
  let aims = 0;
  for (const section of sections.filter((s) => !s.leftOut)) {
    const name = section.number === null ? `“${section.title}”` : `section ${section.number}`;
    if (section.number === null) {
      problems.push({ field: f.sectionNumber(section.key), message: `Give the section ${name} a number` });
    } else if (sectionNumbers.has(section.number)) {
      problems.push({
        field: f.sectionNumber(section.key),
        message: `Section number ${section.number} is used twice: give one of them another number, or leave one out`,
      });
    } else sectionNumbers.set(section.number, section.key);
    if (!section.title.trim()) {
      problems.push({ field: f.sectionTitle(section.key), message: `Give ${name} a title` });
    }
    for (const aim of section.aims.filter((a) => !a.leftOut)) {
      aims++;
      if (aim.number === null) {
        problems.push({
          field: f.aimNumber(aim.key),
          message: `Give the aim “${aim.title.slice(0, 60)}” a number, like “${section.number ?? 1}.1”`,
        });
      } else if (section.number !== null && aimNumberParts(aim.number)?.[0] !== section.number) {
        problems.push({
          field: f.aimNumber(aim.key),
          message: `Aim ${aim.number} is in section ${section.number}: its number must start “${section.number}.”`,
        });
      } else if (aimNumbers.has(aim.number)) {
        problems.push({
          field: f.aimNumber(aim.key),
          message: `Aim number ${aim.number} is used twice: give one of them another number, or leave one out`,
        });
      } else aimNumbers.set(aim.number, aim.key);
      if (!aim.title.trim()) {
        problems.push({ field: f.aimTitle(aim.key), message: `Give aim ${aim.number ?? ''} a title`.trim() });
      }
    }
  }
  if (aims === 0) {
    problems.push({ field: f.leaveOut, message: 'There is no aim to save: leave at least one aim in' });
  }
  return problems;
}

function toPlan(sections: readonly PreviewSection[], year: string, title: string): PlanFilePlan {
  return planSchema.parse({
    year,
    title,
    sections: sections
      .filter((s) => !s.leftOut)
      .map((section) => ({
        number: section.number,
        title: section.title,
        aims: section.aims
          .filter((a) => !a.leftOut)
          .map((aim) => ({
            number: aim.number,
            title: aim.title,
            addedOn: aim.addedOn,
            actions: aim.actions
              .filter((c) => !c.leftOut)
              .map((action) => ({
                description: action.description,
                leads: action.leads,
                partners: action.partners,
                resources: action.resources,
                expectedOutcomes: action.expectedOutcomes,
                progress: action.progress,
              })),
          })),
      })),
  });
}

function buildPreview(upload: LoadedUpload, existing: ReadonlySet<string>): WordImportPreview {
  const { document, corrections, saved } = upload.content;
  const read = readWordPlan(document, corrections.headings as WordHeadingChoices);
  const sections = applyCorrections(read, corrections);
  const year = corrections.year ?? defaultYear(existing, document.yearInText);
  const problems = saved ? [] : planProblems(sections);
  if (!saved && existing.has(year)) {
    problems.unshift({
      field: 'year',
      message: `The ${year} plan exists already: choose a year the partnership has no plan for`,
    });
  }
  const kept = sections.filter((s) => !s.leftOut);
  const keptAims = kept.flatMap((s) => s.aims).filter((a) => !a.leftOut);
  const keptActions = keptAims.flatMap((a) => a.actions).filter((c) => !c.leftOut);
  return {
    id: upload.id,
    filename: upload.filename,
    expiresAt: upload.expiresAt,
    year,
    title: corrections.title ?? `Action plan ${year}`,
    yearChoices: yearChoicesFor(existing, document.yearInText),
    headings: read.headings,
    sections,
    warnings: read.warnings,
    problems,
    counts: {
      sections: kept.length,
      aims: keptAims.length,
      actions: keptActions.length,
      progressUpdates: keptActions.reduce((n, c) => n + c.progress.length, 0),
    },
    saved,
  };
}

/** The preview of the actor's upload: what was read, corrected, and what would be saved. */
export async function previewWordUpload(
  db: Db,
  actor: Actor,
  partnershipId: number,
  uploadId: number,
): Promise<WordImportPreview> {
  const userId = requireCoordinator(actor, partnershipId);
  const upload = await loadUpload(db, userId, partnershipId, uploadId);
  return buildPreview(upload, await existingYears(db, partnershipId));
}

// ---------------------------------------------------------------------------------------------
// Step 2: correct

const formValue = (input: Record<string, unknown>, name: string): string | undefined => {
  const value = input[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
};

/**
 * The form's corrections, checked against what the form showed (`read`, with the corrections
 * so far): only what differs from the document is kept, so that a heading taken another way
 * reads the tables afresh rather than keeping titles read the old way.
 */
function correctionsFromForm(
  input: Record<string, unknown>,
  read: WordPlanRead,
  before: WordCorrections,
  existing: ReadonlySet<string>,
): WordCorrections {
  const problems: Problem[] = [];
  const f = wordImportFields;
  const next: WordCorrections = { ...emptyCorrections(), headings: { ...before.headings } };

  const yearText = formValue(input, 'year');
  if (yearText !== undefined) {
    const year = parsePlanYear(yearText);
    if (!year) problems.push({ field: 'year', message: 'Choose the plan year, like 2025/26' });
    else if (existing.has(year)) {
      problems.push({
        field: 'year',
        message: `The ${year} plan exists already: choose a year the partnership has no plan for`,
      });
    } else next.year = year;
  } else next.year = before.year;

  const title = formValue(input, 'title');
  if (title !== undefined) {
    if (!title.trim()) problems.push({ field: 'title', message: 'Give the plan a title' });
    else if (title.trim().length > 200) {
      problems.push({ field: 'title', message: 'The title must be 200 characters or fewer' });
    } else next.title = title.trim();
  } else next.title = before.title;

  read.headings.forEach((heading, index) => {
    const value = formValue(input, f.heading(index));
    if (value === undefined) return;
    if (value !== 'ignore' && !isWordPlanField(value)) {
      problems.push({ field: f.heading(index), message: `Choose what the column “${heading.text}” holds` });
      return;
    }
    if (value === (heading.recognised ?? 'ignore')) delete next.headings[heading.key];
    else next.headings[heading.key] = value;
  });

  for (const section of read.sections) {
    const fix: WordCorrections['sections'][string] = {};
    const numberText = formValue(input, f.sectionNumber(section.key));
    if (numberText !== undefined) {
      const number = /^\s*\d{1,2}\s*$/.test(numberText) ? Number(numberText) : NaN;
      if (!(number >= 1 && number <= 99)) {
        problems.push({
          field: f.sectionNumber(section.key),
          message: 'The section number must be a whole number from 1 to 99, like 3',
        });
      } else if (number !== section.number) fix.number = number;
    } else if (before.sections[section.key]?.number !== undefined) {
      fix.number = before.sections[section.key]!.number;
    }
    const titleText = formValue(input, f.sectionTitle(section.key));
    if (titleText !== undefined) {
      if (!titleText.trim()) {
        problems.push({ field: f.sectionTitle(section.key), message: 'Give the section a title' });
      } else if (titleText.trim() !== section.title) fix.title = titleText.trim();
    } else if (before.sections[section.key]?.title !== undefined) {
      fix.title = before.sections[section.key]!.title;
    }
    if (Object.keys(fix).length) next.sections[section.key] = fix;

    for (const aim of section.aims) {
      const aimFix: WordCorrections['aims'][string] = {};
      const aimNumber = formValue(input, f.aimNumber(aim.key));
      if (aimNumber !== undefined) {
        if (!isAimNumber(aimNumber.trim())) {
          problems.push({
            field: f.aimNumber(aim.key),
            message: 'The aim number must be the section’s number, a full stop and a number, like 3.1',
          });
        } else if (aimNumber.trim() !== aim.number) aimFix.number = aimNumber.trim();
      } else if (before.aims[aim.key]?.number !== undefined) aimFix.number = before.aims[aim.key]!.number;
      const aimTitle = formValue(input, f.aimTitle(aim.key));
      if (aimTitle !== undefined) {
        if (!aimTitle.trim()) problems.push({ field: f.aimTitle(aim.key), message: 'Give the aim a title' });
        else if (aimTitle.trim() !== aim.title) aimFix.title = aimTitle.trim();
      } else if (before.aims[aim.key]?.title !== undefined) aimFix.title = before.aims[aim.key]!.title;
      if (Object.keys(aimFix).length) next.aims[aim.key] = aimFix;

      for (const action of aim.actions) {
        const actionFix: NonNullable<WordCorrections['actions']>[string] = {};
        const earlier = before.actions?.[action.key] ?? {};
        for (const [kind, name, asRead] of [
          ['leads', f.actionLeads(action.key), action.leads],
          ['partners', f.actionPartners(action.key), action.partners],
        ] as const) {
          const typed = formValue(input, name);
          if (typed === undefined) {
            if (earlier[kind] !== undefined) actionFix[kind] = earlier[kind];
            continue;
          }
          // One organisation a line, blank lines and spaces at the ends dropped.
          const text = typed
            .split(/\r\n?|\n/)
            .map((line) => line.trim())
            .filter(Boolean)
            .join('\n');
          if (text.length > PARTIES_MAX_LENGTH) {
            problems.push({
              field: name,
              message: `The ${kind === 'leads' ? 'lead' : 'partners'} of action ${aim.actions.indexOf(action) + 1} of aim ${aim.number ?? aim.title.slice(0, 40)} must be ${PARTIES_MAX_LENGTH} characters or fewer`,
            });
          } else if (text !== partiesText(asRead)) actionFix[kind] = text;
        }
        if (Object.keys(actionFix).length) (next.actions ??= {})[action.key] = actionFix;
      }
    }
  }

  const leaveOut = input[f.leaveOut];
  next.leaveOut = [leaveOut ?? []].flat().filter((k): k is string => typeof k === 'string' && k.length < 40);

  if (problems.length) throw new ValidationError(problems);
  return next;
}

async function applyForm(
  tx: Tx,
  upload: LoadedUpload,
  input: Record<string, unknown>,
  existing: ReadonlySet<string>,
): Promise<WordCorrections> {
  const { document, corrections } = upload.content;
  // What the form showed: the document as read with the headings taken as they were then.
  const read = readWordPlan(document, corrections.headings as WordHeadingChoices);
  const next = correctionsFromForm(input, read, corrections, existing);
  upload.content = { ...upload.content, corrections: next };
  await tx.update(t.planUploads).set({ content: upload.content }).where(eq(t.planUploads.id, upload.id));
  return next;
}

/** Keeps the coordinator's corrections (form fields, see wordImportFields) and returns the new preview. */
export async function correctWordUpload(
  db: Db,
  actor: Actor,
  partnershipId: number,
  uploadId: number,
  input: Record<string, unknown>,
): Promise<WordImportPreview> {
  const userId = requireCoordinator(actor, partnershipId);
  return db.transaction(async (tx) => {
    const upload = await loadUpload(tx, userId, partnershipId, uploadId, { lock: true });
    if (upload.content.saved) throw savedAlready(upload.content.saved);
    const existing = await existingYears(tx, partnershipId);
    await applyForm(tx, upload, input, existing);
    return buildPreview(upload, existing);
  });
}

const savedAlready = (saved: WordImportSaved) =>
  new ValidationError([
    { field: 'year', message: `This Word plan was saved already, as the ${saved.year} plan` },
  ]);

// ---------------------------------------------------------------------------------------------
// Step 3: save

/**
 * Saves the upload, with the form's last corrections if given, as a new plan year: every
 * section, aim, action and progress update in one transaction with its audit event. Refused,
 * with the reasons against the form's fields, while anything stops it (see the preview's problems).
 */
export async function saveWordUpload(
  db: Db,
  actor: Actor,
  partnershipId: number,
  uploadId: number,
  input?: Record<string, unknown>,
): Promise<WordImportSaved> {
  const userId = requireCoordinator(actor, partnershipId);
  let year = '';
  return db
    .transaction(async (tx) => {
      const upload = await loadUpload(tx, userId, partnershipId, uploadId, { lock: true });
      if (upload.content.saved) throw savedAlready(upload.content.saved);
      const existing = await existingYears(tx, partnershipId);
      if (input) await applyForm(tx, upload, input, existing);
      const preview = buildPreview(upload, existing);
      if (preview.problems.length) throw new ValidationError(preview.problems);
      year = preview.year;
      const plan = toPlan(preview.sections, preview.year, preview.title);
      const written: ImportSummary['plans'][number] = await importPlanYear(tx, actor, partnershipId, plan, {
        source: `the Word document ${upload.filename}`,
      });
      const saved: WordImportSaved = { ...written, savedAt: new Date().toISOString() };
      await tx
        .update(t.planUploads)
        .set({ content: { ...upload.content, saved } })
        .where(eq(t.planUploads.id, upload.id));
      return saved;
    })
    .catch((error: unknown) => {
      // Two saves at once, or a roll-over in between: the one-plan-a-year index refuses the second.
      if (isUniqueViolation(error)) {
        throw new ValidationError([
          {
            field: 'year',
            message: `The ${year} plan exists already: choose a year the partnership has no plan for`,
          },
        ]);
      }
      if (error instanceof ValidationError && error.problems.some((p) => p.field === 'plan')) {
        throw new ValidationError(
          error.problems.map((p) => (p.field === 'plan' ? { ...p, field: 'year' } : p)),
        );
      }
      throw error;
    });
}
