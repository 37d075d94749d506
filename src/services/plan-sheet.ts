/**
 * The plan as a spreadsheet (docs/plan-spreadsheet.md): exported as XLSX or CSV, and imported back
 * as an upsert keyed by aim number and action id, in two steps.
 *
 * 1. Upload: the whole file is read and checked, and compared with the live plan; nothing is
 *    written to the plan. What was read is kept in plan_uploads for a day, and the preview lists
 *    what would change.
 * 2. Confirm: the comparison is made again against the live plan as it is now. If it differs from
 *    the preview the coordinator saw (someone changed the plan meanwhile), nothing is written and
 *    the new preview is shown; otherwise every change is made in one transaction through the same
 *    service functions the edit and progress forms use, each with its audit event.
 *
 * An unchanged file changes nothing and writes nothing to the audit trail.
 */
import crypto from 'node:crypto';
import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import * as t from '../db/schema.js';
import {
  actionCells,
  describePlace,
  problemInCell,
  type PlanCsvColumn,
  type PlanTableRead,
  type TableAction,
  type TablePlan,
  type TableProblem,
} from '../documents/plan-csv.js';
import { readPlanSheet, writePlanXlsx, type SheetFormat } from '../documents/plan-sheet.js';
import { writePlanCsv } from '../documents/plan-csv.js';
import { formatParties } from '../domain/parties.js';
import { canEditPlanStructure } from '../domain/permissions.js';
import type { PlanFileAction } from '../domain/plan-file.js';
import { planYearSlug, QUARTERS, type Quarter } from '../domain/quarters.js';
import { STATUS_LABELS, type Status } from '../domain/status.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { ForbiddenError, NotFoundError } from './errors.js';
import { storePendingUpload } from './pending-uploads.js';
import {
  actionFormSchema,
  aimFormSchema,
  archiveAction,
  archiveAim,
  createAction,
  createAim,
  createSection,
  sectionFormSchema,
  updateAction,
  updateAim,
  updateSection,
} from './plan-edit.js';
import { loadPlanTree, type ActionNode, type PartnershipRow, type PlanTree } from './plan-read.js';
import { assertMayRead } from './plan-view.js';
import { saveProgress } from './progress.js';

export type { SheetFormat };

export const PLAN_SHEET_UPLOAD_KIND = 'plan-sheet';
/** How long an upload waits for its confirmation. */
export const UPLOAD_LIFETIME_MS = 24 * 60 * 60 * 1000;

const CONTENT_TYPES: Record<SheetFormat, string> = {
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  csv: 'text/csv; charset=utf-8',
};

// ——— Export ———

/** The live plan as the table's plan: sections, aims, actions with their ids, submitted progress. */
export function planTreeToTable(tree: PlanTree): TablePlan {
  const party = (p: { organisation: string; officers: string[] }) => ({
    organisation: p.organisation,
    officers: [...p.officers],
  });
  return {
    sections: tree.sections.map((section) => ({
      number: section.number,
      title: section.title,
      aims: section.aims.map((aim) => ({
        number: aim.number,
        title: aim.title,
        addedOn: aim.addedOn,
        actions: aim.actions.map((action): TableAction => ({
          id: action.id,
          description: action.description,
          leads: action.leads.map(party),
          partners: action.partners.map(party),
          resources: action.resources,
          expectedOutcomes: action.expectedOutcomes,
          progress: action.progress.map((p) => ({ quarter: p.quarter, text: p.text, status: p.status })),
        })),
      })),
    })),
  };
}

export interface SheetDownload {
  filename: string;
  contentType: string;
  body: Buffer;
}

export function sheetFilename(slug: string, year: string, format: SheetFormat): string {
  return `${slug.replace(/[^\w-]/g, '')}-${planYearSlug(year)}-plan.${format}`;
}

/**
 * The plan as a spreadsheet, for anyone who may read it. The export is recorded in the audit
 * trail before the data leaves, as the command line's export is.
 */
export async function exportPlanSheet(
  db: Db,
  actor: Actor,
  partnership: PartnershipRow,
  year: string,
  format: SheetFormat,
): Promise<SheetDownload> {
  assertMayRead(actor, partnership.id);
  const tree = await loadPlanTree(db, partnership, year);
  const table = planTreeToTable(tree);
  const body =
    format === 'xlsx'
      ? await writePlanXlsx(table, { title: tree.plan.title, partnership: partnership.name })
      : Buffer.from(writePlanCsv(table), 'utf8');
  const filename = sheetFilename(partnership.slug, tree.plan.year, format);
  await db.transaction((tx) =>
    recordAudit(tx, actor, {
      partnershipId: partnership.id,
      kind: 'plan.exported',
      entity: 'plan',
      entityId: tree.plan.year,
      summary: `Exported plan ${tree.plan.year} as ${format.toUpperCase()}`,
      after: { format, year: tree.plan.year, file: filename },
    }),
  );
  return { filename, contentType: CONTENT_TYPES[format], body };
}

// ——— Comparing a file with the live plan ———

/** One write the import would make, in the order it makes them. */
type Operation =
  | { op: 'createSection'; number: number; title: string }
  | { op: 'updateSection'; sectionId: number; version: number; number: number; title: string }
  | { op: 'createAim'; section: number; number: string; title: string }
  | { op: 'updateAim'; aimId: number; version: number; number: string; title: string }
  | { op: 'createAction'; aim: string; form: ActionForm; progress: ProgressWrite[] }
  | { op: 'updateAction'; actionId: number; version: number; form: ActionForm }
  | ({
      op: 'saveProgress';
      actionId: number;
      version: number | undefined;
      evidenceUrl: string;
    } & ProgressWrite)
  | { op: 'archiveAction'; actionId: number; version: number }
  | { op: 'archiveAim'; aimId: number; version: number };

interface ActionForm {
  description: string;
  leads: string;
  partners: string;
  resources: string;
  expectedOutcomes: string;
}

interface ProgressWrite {
  quarter: Quarter;
  text: string;
  status: Status;
}

export interface PreviewAddition {
  /** "Section 7", "Aim 3.4", "Action in aim 3.1". */
  what: string;
  text: string;
  /** Where in the file: 'sheet "3 Hate crime", row 4' or 'line 12'. */
  where: string;
}

export interface PreviewChange {
  /** "Aim 3.1", "Aim 3.1, action 2", "Section 3". */
  what: string;
  /** The column, as the spreadsheet names it: "Lead", "Q2 status". */
  field: string;
  before: string;
  after: string;
  where: string;
}

export interface PreviewArchival {
  what: string;
  text: string;
}

export interface SheetPreview {
  format: SheetFormat;
  filename: string;
  counts: {
    sectionsAdded: number;
    aimsAdded: number;
    actionsAdded: number;
    fieldsChanged: number;
    progressAdded: number;
    progressChanged: number;
    aimsArchived: number;
    actionsArchived: number;
  };
  additions: PreviewAddition[];
  changes: PreviewChange[];
  archivals: PreviewArchival[];
  /** What the file says that the import leaves alone, and why. */
  notes: string[];
  /** Whether the file changes nothing. */
  unchanged: boolean;
  /** Identifies the writes this preview lists: confirming checks they are still the same. */
  fingerprint: string;
}

/** Line by line, without the spaces and blank lines a spreadsheet adds or takes away. */
function normalise(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join('\n');
}

const same = (a: string, b: string) => normalise(a) === normalise(b);

const DETAIL_COLUMNS = ['Action', 'Lead', 'Partners', 'Resources', 'Expected outcomes'] as const;
const FORM_COLUMN: Record<keyof ActionForm, PlanCsvColumn> = {
  description: 'Action',
  leads: 'Lead',
  partners: 'Partners',
  resources: 'Resources',
  expectedOutcomes: 'Expected outcomes',
};

function actionForm(action: PlanFileAction): ActionForm {
  return {
    description: action.description,
    leads: formatParties(action.leads),
    partners: formatParties(action.partners),
    resources: action.resources.join('\n'),
    expectedOutcomes: action.expectedOutcomes.join('\n'),
  };
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

interface Comparison {
  operations: Operation[];
  preview: Omit<SheetPreview, 'format' | 'filename'>;
  problems: TableProblem[];
}

interface PlanRef {
  partnership: PartnershipRow;
  planId: number;
  year: string;
}

/**
 * What a file read from a spreadsheet would change in the live plan: the writes, the preview and
 * the problems (an action id of another plan, a change the import cannot make). Reads only.
 */
async function compare(db: Db | Tx, ref: PlanRef, read: PlanTableRead): Promise<Comparison> {
  const tree = await loadPlanTree(db, ref.partnership, ref.year);
  const problems: TableProblem[] = [];
  const cellProblem = (place: ReadPlace, column: PlanCsvColumn, message: string) =>
    problems.push(problemInCell(read, place, column, message));
  const operations: Operation[] = [];
  const sectionOps: Operation[] = [];
  const aimOps: Operation[] = [];
  const actionOps: Operation[] = [];
  const progressOps: Operation[] = [];
  const archiveOps: Operation[] = [];
  const preview: Comparison['preview'] = {
    counts: {
      sectionsAdded: 0,
      aimsAdded: 0,
      actionsAdded: 0,
      fieldsChanged: 0,
      progressAdded: 0,
      progressChanged: 0,
      aimsArchived: 0,
      actionsArchived: 0,
    },
    additions: [],
    changes: [],
    archivals: [],
    notes: [],
    unchanged: true,
    fingerprint: '',
  };

  const liveSections = new Map(tree.sections.map((s) => [s.number, s]));
  const liveAims = new Map(tree.sections.flatMap((s) => s.aims.map((a) => [a.number, a] as const)));
  const liveActions = new Map(
    tree.sections.flatMap((s) =>
      s.aims.flatMap((a) => a.actions.map((c) => [c.id, { action: c, aim: a }] as const)),
    ),
  );
  const placeOfSection = new Map(read.sections.map((s) => [s.number, s.place]));
  const placeOfAim = new Map(read.aims.map((a) => [a.number, a.place]));
  const readActions = new Map(read.actions.map((a) => [`${a.aim}#${a.index}`, a]));
  const fileIds = new Set(read.actions.flatMap((a) => (a.id === undefined ? [] : [a.id])));

  // Ids the live tree does not hold: another plan's, another partnership's, or archived here.
  const unknownIds = [...fileIds].filter((id) => !liveActions.has(id));
  const elsewhere = new Map<number, { planId: number; archived: boolean }>();
  if (unknownIds.length) {
    const rows = await db
      .select({
        id: t.actions.id,
        planId: t.aims.planId,
        actionArchived: t.actions.archivedAt,
        aimArchived: t.aims.archivedAt,
        sectionArchived: t.sections.archivedAt,
      })
      .from(t.actions)
      .innerJoin(t.aims, eq(t.aims.id, t.actions.aimId))
      .innerJoin(t.sections, eq(t.sections.id, t.aims.sectionId))
      .where(and(inArray(t.actions.id, unknownIds), eq(t.actions.partnershipId, ref.partnership.id)));
    for (const r of rows) {
      elsewhere.set(r.id, {
        planId: r.planId,
        archived: r.actionArchived !== null || r.aimArchived !== null || r.sectionArchived !== null,
      });
    }
  }
  // Aim numbers held by live aims the tree does not show (in an archived section).
  const hiddenAimNumbers = new Set(
    (
      await db
        .select({ number: t.aims.number })
        .from(t.aims)
        .where(and(eq(t.aims.planId, ref.planId), isNull(t.aims.archivedAt)))
    )
      .map((a) => a.number)
      .filter((n) => !liveAims.has(n)),
  );
  // Drafts are their lead's working copy and not in the tree: a file does not write over one.
  const drafts = new Set(
    liveActions.size
      ? (
          await db
            .select({ actionId: t.progressUpdates.actionId, quarter: t.progressUpdates.quarter })
            .from(t.progressUpdates)
            .where(
              and(
                inArray(t.progressUpdates.actionId, [...liveActions.keys()]),
                eq(t.progressUpdates.state, 'draft'),
              ),
            )
        ).map((d) => `${d.actionId}#${d.quarter}`)
      : [],
  );

  for (const section of read.plan.sections) {
    const place = placeOfSection.get(section.number)!;
    const checked = sectionFormSchema.safeParse({ number: section.number, title: section.title });
    if (!checked.success) cellProblem(place, 'Section title', checked.error.issues[0]!.message);
    const live = liveSections.get(section.number);
    if (!live) {
      sectionOps.push({ op: 'createSection', number: section.number, title: section.title });
      preview.counts.sectionsAdded++;
      preview.additions.push({
        what: `Section ${section.number}`,
        text: section.title,
        where: describePlace(place),
      });
    } else if (!same(live.title, section.title)) {
      sectionOps.push({
        op: 'updateSection',
        sectionId: live.id,
        version: live.version,
        number: section.number,
        title: section.title,
      });
      preview.counts.fieldsChanged++;
      preview.changes.push({
        what: `Section ${section.number}`,
        field: 'Section title',
        before: live.title,
        after: section.title,
        where: describePlace(place),
      });
    }

    for (const aim of section.aims) {
      const aimPlace = placeOfAim.get(aim.number)!;
      const checkedAim = aimFormSchema.safeParse({ number: aim.number, title: aim.title });
      if (!checkedAim.success) cellProblem(aimPlace, 'Aim title', checkedAim.error.issues[0]!.message);
      const liveAim = liveAims.get(aim.number);
      if (!liveAim) {
        if (hiddenAimNumbers.has(aim.number)) {
          cellProblem(
            aimPlace,
            'Aim',
            `aim ${aim.number} belongs to an archived section of the plan: give the new aim another number`,
          );
        }
        aimOps.push({ op: 'createAim', section: section.number, number: aim.number, title: aim.title });
        preview.counts.aimsAdded++;
        preview.additions.push({
          what: `Aim ${aim.number}`,
          text: aim.title,
          where: describePlace(aimPlace),
        });
      } else {
        if (!same(liveAim.title, aim.title)) {
          aimOps.push({
            op: 'updateAim',
            aimId: liveAim.id,
            version: liveAim.version,
            number: aim.number,
            title: aim.title,
          });
          preview.counts.fieldsChanged++;
          preview.changes.push({
            what: `Aim ${aim.number}`,
            field: 'Aim title',
            before: liveAim.title,
            after: aim.title,
            where: describePlace(aimPlace),
          });
        }
        if (aim.addedOn && aim.addedOn !== liveAim.addedOn) {
          preview.notes.push(
            `Aim ${aim.number}: “Aim added on” is kept as ${liveAim.addedOn ?? 'empty'}; the app sets it when an aim is added`,
          );
        }
      }

      aim.actions.forEach((action, index) => {
        const readAction = readActions.get(`${aim.number}#${index}`)!;
        const place = readAction.place;
        const form = actionForm(action);
        const checkedAction = actionFormSchema.safeParse(form);
        if (!checkedAction.success) {
          for (const issue of checkedAction.error.issues) {
            cellProblem(place, FORM_COLUMN[issue.path[0] as keyof ActionForm] ?? 'Action', issue.message);
          }
        }
        for (const progress of action.progress) {
          if (progress.text.length > 10000) {
            cellProblem(
              place,
              progress.quarter === null ? 'Progress without a quarter' : `Q${progress.quarter} progress`,
              'Progress must be 10,000 characters or fewer',
            );
          }
        }

        if (readAction.id === undefined) {
          compareNewAction(aim.number, action, form, place);
          return;
        }
        const live = liveActions.get(readAction.id);
        if (!live) {
          const other = elsewhere.get(readAction.id);
          cellProblem(
            place,
            'Action id',
            other && other.planId === ref.planId && other.archived
              ? `action ${readAction.id} has been archived: delete this row, or leave "Action id" empty to add it again as a new action`
              : `${readAction.id} is not the id of an action in this plan (${ref.partnership.name} ${ref.year}): keep the id the export wrote, or leave it empty for a new action`,
          );
          return;
        }
        if (live.aim.number !== aim.number) {
          cellProblem(
            place,
            'Aim',
            `action ${readAction.id} is under aim ${live.aim.number} in the plan: move an action to another aim in the app, not in the spreadsheet`,
          );
          return;
        }
        compareAction(
          aim.number,
          live.aim.actions.indexOf(live.action) + 1,
          live.action,
          action,
          form,
          place,
        );
      });
    }
  }

  function compareNewAction(aim: string, action: PlanFileAction, form: ActionForm, place: ReadPlace) {
    const progress: ProgressWrite[] = [];
    for (const p of action.progress) {
      if (p.quarter === null) {
        cellProblem(
          place,
          'Progress without a quarter',
          'a new action’s progress goes in a quarter’s column (Q1 progress to Q4 progress)',
        );
        continue;
      }
      if (!p.status) {
        cellProblem(
          place,
          `Q${p.quarter} status`,
          `is empty: a progress update needs its status (${STATUS_CHOICES})`,
        );
        continue;
      }
      progress.push({ quarter: p.quarter, text: p.text, status: p.status });
    }
    actionOps.push({ op: 'createAction', aim, form, progress });
    preview.counts.actionsAdded++;
    preview.counts.progressAdded += progress.length;
    preview.additions.push({
      what: `Action in aim ${aim}`,
      text: action.description,
      where: describePlace(place),
    });
    for (const p of progress) {
      preview.additions.push({
        what: `Q${p.quarter} progress of the new action in aim ${aim}`,
        text: `${STATUS_LABELS[p.status]}: ${p.text}`,
        where: describePlace(place),
      });
    }
  }

  function compareAction(
    aim: string,
    number: number,
    live: ActionNode,
    action: PlanFileAction,
    form: ActionForm,
    place: ReadPlace,
  ) {
    const what = `Aim ${aim}, action ${number}`;
    const before = actionCells(liveTableAction(live));
    const after = actionCells(action);
    const changed = DETAIL_COLUMNS.filter((c) => !same(before[c] ?? '', after[c] ?? ''));
    if (changed.length) {
      actionOps.push({ op: 'updateAction', actionId: live.id, version: live.version, form });
      for (const column of changed) {
        preview.counts.fieldsChanged++;
        preview.changes.push({
          what,
          field: column,
          before: before[column] ?? '',
          after: after[column] ?? '',
          where: describePlace(place),
        });
      }
    }
    for (const quarter of QUARTERS) {
      const existing = live.progress.find((p) => p.quarter === quarter);
      const given = action.progress.find((p) => p.quarter === quarter);
      const textColumn = `Q${quarter} progress` as const;
      const statusColumn = `Q${quarter} status` as const;
      if (!given) {
        if (existing) {
          preview.notes.push(
            `${what}: the file’s ${textColumn} is empty; the update already recorded is kept (an import never removes progress)`,
          );
        }
        continue;
      }
      const textChanged = !existing || !same(existing.text, given.text);
      const statusChanged = (existing?.status ?? null) !== given.status;
      if (!textChanged && !statusChanged) continue;
      if (!existing && drafts.has(`${live.id}#${quarter}`)) {
        cellProblem(
          place,
          textColumn,
          `the action’s lead has a draft ${textColumn.replace(' progress', '')} update that is not submitted yet: leave this cell empty, or ask them to submit it first`,
        );
        continue;
      }
      if (!given.status) {
        cellProblem(place, statusColumn, `is empty: a progress update needs its status (${STATUS_CHOICES})`);
        continue;
      }
      progressOps.push({
        op: 'saveProgress',
        actionId: live.id,
        version: existing?.version,
        evidenceUrl: existing?.evidenceUrl ?? '',
        quarter,
        text: given.text,
        status: given.status,
      });
      if (existing) preview.counts.progressChanged++;
      else preview.counts.progressAdded++;
      if (textChanged) {
        preview.changes.push({
          what,
          field: textColumn,
          before: existing?.text ?? '',
          after: given.text,
          where: describePlace(place),
        });
      }
      if (statusChanged) {
        preview.changes.push({
          what,
          field: statusColumn,
          before: existing?.status ? STATUS_LABELS[existing.status] : '',
          after: STATUS_LABELS[given.status],
          where: describePlace(place),
        });
      }
    }
    const undatedBefore = live.progress.find((p) => p.quarter === null)?.text ?? '';
    const undatedAfter = action.progress.find((p) => p.quarter === null)?.text ?? '';
    if (!same(undatedBefore, undatedAfter)) {
      cellProblem(
        place,
        'Progress without a quarter',
        'cannot be changed by a spreadsheet: keep the text the export wrote, and put new progress in a quarter’s column',
      );
    }
  }

  // Archival: only a file that came from an export (it carries action ids) archives anything,
  // and only within the sections it has rows for: a section left out of the file is left alone.
  if (fileIds.size > 0) {
    const aimsInFile = new Set(read.aims.map((a) => a.number));
    for (const section of tree.sections) {
      if (!placeOfSection.has(section.number)) continue;
      for (const aim of section.aims) {
        if (!aimsInFile.has(aim.number)) {
          archiveOps.push({ op: 'archiveAim', aimId: aim.id, version: aim.version });
          preview.counts.aimsArchived++;
          const actions = aim.actions.length;
          preview.archivals.push({
            what: `Aim ${aim.number}`,
            text: `${aim.title}${actions ? ` (with its ${actions === 1 ? 'action' : `${actions} actions`})` : ''}`,
          });
          continue;
        }
        aim.actions.forEach((action, index) => {
          if (fileIds.has(action.id)) return;
          archiveOps.push({ op: 'archiveAction', actionId: action.id, version: action.version });
          preview.counts.actionsArchived++;
          preview.archivals.push({
            what: `Aim ${aim.number}, action ${index + 1}`,
            text: firstLine(action.description),
          });
        });
      }
    }
  }

  operations.push(...sectionOps, ...aimOps, ...actionOps, ...progressOps, ...archiveOps);
  preview.unchanged = operations.length === 0;
  preview.fingerprint = crypto
    .createHash('sha256')
    .update(JSON.stringify(operations))
    .digest('hex')
    .slice(0, 32);
  return { operations, preview, problems };
}

type ReadPlace = PlanTableRead['actions'][number]['place'];

const STATUS_CHOICES = Object.values(STATUS_LABELS).join(', ');

function liveTableAction(action: ActionNode): TableAction {
  return {
    description: action.description,
    leads: action.leads.map((p) => ({ organisation: p.organisation, officers: p.officers })),
    partners: action.partners.map((p) => ({ organisation: p.organisation, officers: p.officers })),
    resources: action.resources,
    expectedOutcomes: action.expectedOutcomes,
    progress: action.progress.map((p) => ({ quarter: p.quarter, text: p.text, status: p.status })),
  };
}

// ——— Upload, preview, confirm ———

function requireCoordinator(actor: Actor, partnershipId: number): number {
  if (actor.system || actor.userId === null || !canEditPlanStructure(actor.member, partnershipId)) {
    throw new ForbiddenError('Only the partnership’s coordinator can import a spreadsheet into the plan');
  }
  return actor.userId;
}

async function planRef(db: Db | Tx, partnership: PartnershipRow, year: string): Promise<PlanRef> {
  const [plan] = await db
    .select({ id: t.plans.id, year: t.plans.year })
    .from(t.plans)
    .where(and(eq(t.plans.partnershipId, partnership.id), eq(t.plans.year, year)));
  if (!plan) throw new NotFoundError(`The plan ${year}`);
  return { partnership, planId: plan.id, year: plan.year };
}

/** What an upload keeps: the plan as read, not the file. */
interface UploadContent {
  format: SheetFormat;
  read: PlanTableRead;
}

export type SheetUploadResult =
  | { ok: true; uploadId: number; preview: SheetPreview }
  | { ok: false; format: SheetFormat | undefined; problems: TableProblem[] };

/**
 * Step 1: reads and checks the whole file, compares it with the live plan, and keeps what was
 * read for the confirmation. Writes nothing to the plan (nor the audit trail).
 */
export async function uploadPlanSheet(
  db: Db,
  actor: Actor,
  partnership: PartnershipRow,
  year: string,
  file: { filename: string; data: Uint8Array },
  now = new Date(),
): Promise<SheetUploadResult> {
  const userId = requireCoordinator(actor, partnership.id);
  const ref = await planRef(db, partnership, year);
  if (file.data.length === 0) {
    return { ok: false, format: undefined, problems: [{ where: 'the file', message: 'is empty' }] };
  }
  const { format, result } = await readPlanSheet(file.data, { year: ref.year });
  if (!result.ok) return { ok: false, format, problems: result.problems };
  const { ok: _ok, ...read } = result;
  const comparison = await compare(db, ref, read);
  if (comparison.problems.length) return { ok: false, format, problems: comparison.problems };
  const filename = cleanFilename(file.filename, format);
  const content: UploadContent = { format, read };
  const uploadId = await storePendingUpload(
    db,
    {
      partnershipId: partnership.id,
      planId: ref.planId,
      userId,
      kind: PLAN_SHEET_UPLOAD_KIND,
      filename,
      content,
    },
    UPLOAD_LIFETIME_MS,
    now,
  );
  return { ok: true, uploadId, preview: { format, filename, ...comparison.preview } };
}

function cleanFilename(name: string, format: SheetFormat): string {
  // The name as the browser sent it, without folders or control characters, for the pages and the trail.
  const base = [...(name.split(/[\\/]/).pop() ?? '')]
    .filter((c) => c >= ' ' && c !== '\u007f')
    .join('')
    .trim()
    .slice(0, 200);
  return base || `plan.${format}`;
}

async function findUpload(db: Db | Tx, ref: PlanRef, uploadId: number, now: Date, lock = false) {
  if (!Number.isSafeInteger(uploadId) || uploadId <= 0) throw new NotFoundError('The upload');
  const query = db
    .select()
    .from(t.planUploads)
    .where(
      and(
        eq(t.planUploads.id, uploadId),
        eq(t.planUploads.partnershipId, ref.partnership.id),
        eq(t.planUploads.planId, ref.planId),
        eq(t.planUploads.kind, PLAN_SHEET_UPLOAD_KIND),
      ),
    );
  const [row] = lock ? await query.for('update') : await query;
  if (!row || row.expiresAt < now) throw new NotFoundError('The upload (it may have expired)');
  return { ...row, content: row.content as UploadContent };
}

export type SheetPreviewResult =
  | { ok: true; uploadId: number; preview: SheetPreview }
  | { ok: false; uploadId: number; filename: string; problems: TableProblem[] };

/** The preview of an upload, compared with the live plan as it is now. */
export async function previewPlanSheet(
  db: Db,
  actor: Actor,
  partnership: PartnershipRow,
  year: string,
  uploadId: number,
  now = new Date(),
): Promise<SheetPreviewResult> {
  requireCoordinator(actor, partnership.id);
  const ref = await planRef(db, partnership, year);
  const upload = await findUpload(db, ref, uploadId, now);
  const comparison = await compare(db, ref, upload.content.read);
  if (comparison.problems.length) {
    return { ok: false, uploadId, filename: upload.filename, problems: comparison.problems };
  }
  return {
    ok: true,
    uploadId,
    preview: { format: upload.content.format, filename: upload.filename, ...comparison.preview },
  };
}

export type SheetConfirmResult =
  | { status: 'applied'; filename: string; counts: SheetPreview['counts']; unchanged: boolean }
  | { status: 'changed'; uploadId: number; preview: SheetPreview }
  | { status: 'problems'; uploadId: number; filename: string; problems: TableProblem[] };

/**
 * Step 2: compares the upload with the live plan again and, when that gives the writes the
 * preview showed (`fingerprint`), makes them all in one transaction; the upload is then used up.
 * When the plan has changed meanwhile nothing is written and the new preview is returned.
 */
export async function confirmPlanSheet(
  db: Db,
  actor: Actor,
  partnership: PartnershipRow,
  year: string,
  uploadId: number,
  fingerprint: string,
  now = new Date(),
): Promise<SheetConfirmResult> {
  requireCoordinator(actor, partnership.id);
  return db.transaction(async (tx) => {
    const ref = await planRef(tx, partnership, year);
    const upload = await findUpload(tx, ref, uploadId, now, true);
    const comparison = await compare(tx, ref, upload.content.read);
    if (comparison.problems.length) {
      return { status: 'problems', uploadId, filename: upload.filename, problems: comparison.problems };
    }
    const preview = { format: upload.content.format, filename: upload.filename, ...comparison.preview };
    if (preview.fingerprint !== fingerprint) return { status: 'changed', uploadId, preview };

    await applyOperations(tx, actor, ref, comparison.operations, now);
    if (comparison.operations.length) {
      await recordAudit(tx, actor, {
        partnershipId: partnership.id,
        kind: 'plan.spreadsheet_imported',
        entity: 'plan',
        entityId: ref.year,
        summary: `Imported the spreadsheet ${upload.filename} into plan ${ref.year}: ${describeCounts(preview.counts)}`,
        after: { file: upload.filename, format: upload.content.format, ...preview.counts },
      });
    }
    await tx.delete(t.planUploads).where(eq(t.planUploads.id, upload.id));
    return {
      status: 'applied',
      filename: upload.filename,
      counts: preview.counts,
      unchanged: preview.unchanged,
    };
  });
}

/**
 * The writes, through the edit and progress services with this transaction as their database:
 * each runs in a savepoint of it, checks permission and versions, and records its audit event.
 */
async function applyOperations(tx: Tx, actor: Actor, ref: PlanRef, operations: Operation[], now: Date) {
  // One query after the other: a transaction is one connection.
  const sections = await tx
    .select({ id: t.sections.id, number: t.sections.number })
    .from(t.sections)
    .where(and(eq(t.sections.planId, ref.planId), isNull(t.sections.archivedAt)));
  const aims = await tx
    .select({ id: t.aims.id, number: t.aims.number })
    .from(t.aims)
    .where(and(eq(t.aims.planId, ref.planId), isNull(t.aims.archivedAt)));
  const sectionIds = new Map(sections.map((s) => [s.number, s.id]));
  const aimIds = new Map(aims.map((a) => [a.number, a.id]));
  const progressInput = (p: ProgressWrite) => ({
    quarter: p.quarter,
    status: p.status,
    text: p.text,
    intent: 'submit',
  });
  for (const operation of operations) {
    switch (operation.op) {
      case 'createSection': {
        const row = await createSection(tx, actor, ref.planId, {
          number: operation.number,
          title: operation.title,
        });
        sectionIds.set(row.number, row.id);
        break;
      }
      case 'updateSection':
        await updateSection(tx, actor, operation.sectionId, {
          number: operation.number,
          title: operation.title,
          version: operation.version,
        });
        break;
      case 'createAim': {
        const sectionId = sectionIds.get(operation.section);
        if (sectionId === undefined) throw new NotFoundError(`Section ${operation.section}`);
        const row = await createAim(
          tx,
          actor,
          sectionId,
          { number: operation.number, title: operation.title },
          now,
        );
        aimIds.set(row.number, row.id);
        break;
      }
      case 'updateAim':
        await updateAim(tx, actor, operation.aimId, {
          number: operation.number,
          title: operation.title,
          version: operation.version,
        });
        break;
      case 'createAction': {
        const aimId = aimIds.get(operation.aim);
        if (aimId === undefined) throw new NotFoundError(`Aim ${operation.aim}`);
        const row = await createAction(tx, actor, aimId, operation.form);
        for (const p of operation.progress) await saveProgress(tx, actor, row.id, progressInput(p));
        break;
      }
      case 'updateAction':
        await updateAction(tx, actor, operation.actionId, { ...operation.form, version: operation.version });
        break;
      case 'saveProgress':
        await saveProgress(tx, actor, operation.actionId, {
          ...progressInput(operation),
          evidenceUrl: operation.evidenceUrl,
          ...(operation.version === undefined ? {} : { version: operation.version }),
        });
        break;
      case 'archiveAction':
        await archiveAction(tx, actor, operation.actionId, operation.version);
        break;
      case 'archiveAim':
        await archiveAim(tx, actor, operation.aimId, operation.version);
        break;
    }
  }
}

/** "1 aim added, 2 fields changed, 1 action archived", or "no changes". */
export function describeCounts(counts: SheetPreview['counts']): string {
  const parts: string[] = [];
  const add = (n: number, one: string, many: string, verb: string) => {
    if (n > 0) parts.push(`${n} ${n === 1 ? one : many} ${verb}`);
  };
  add(counts.sectionsAdded, 'section', 'sections', 'added');
  add(counts.aimsAdded, 'aim', 'aims', 'added');
  add(counts.actionsAdded, 'action', 'actions', 'added');
  add(counts.fieldsChanged, 'field', 'fields', 'changed');
  add(counts.progressAdded, 'progress update', 'progress updates', 'added');
  add(counts.progressChanged, 'progress update', 'progress updates', 'changed');
  add(counts.aimsArchived, 'aim', 'aims', 'archived');
  add(counts.actionsArchived, 'action', 'actions', 'archived');
  return parts.length ? parts.join(', ') : 'no changes';
}
