/**
 * Local incident data (docs/evidence-incidents.md): fly-tipping and graffiti counts by month from a
 * council's own CSV, and DEFRA's yearly fly-tipping figures for the partnership's district beside
 * its neighbours.
 *
 * The council CSV comes in four steps, nothing written to the counts before the last:
 * 1. upload: the file is read (columns, rows) and kept in plan_uploads (kind 'incidents') for a day;
 * 2. mapping: the coordinator says which column is what, pre-filled with the mapping remembered from
 *    the last import when the file has the columns it names; the whole file is counted with it and
 *    any row that cannot be read is named by line and column;
 * 3. preview: counts by month and kind, rows ignored or left out, and the counts it replaces;
 * 4. confirm: one transaction replaces those (kind, month) counts, remembers the mapping, and
 *    records the audit event.
 *
 * DEFRA's table is shared open data (no partnership_id): the operator (command line) or a
 * coordinator imports it. Every member reads; the coordinator manages (domain/evidence.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { and, asc, desc, eq, inArray, max, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, Tx } from '../db/client.js';
import * as t from '../db/schema.js';
import {
  DEFRA_POPULATION_COLUMN,
  describeDefraProblem,
  readDefraFlyTipping,
  type DefraKind,
  type DefraRow,
} from '../documents/defra-fly-tipping.js';
import {
  checkMapping,
  countIncidents,
  distinctValues,
  guessMapping,
  INCIDENT_KIND_LABELS,
  INCIDENT_KINDS,
  isIncidentKind,
  monthRange,
  readCouncilCsv,
  type CouncilCsv,
  type IncidentCounts,
  type IncidentKind,
  type IncidentMapping,
  type IncidentProblem,
} from '../documents/incident-csv.js';
import type { DefraAuthorityFigures, IncidentMonth } from '../documents/incident-charts.js';
import { canManageEvidence, canReadEvidence } from '../domain/evidence.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from './errors.js';
import { storePendingUpload } from './pending-uploads.js';
import { getPartnershipBySlug, type PartnershipRow } from './plan-read.js';

export const INCIDENT_UPLOAD_KIND = 'incidents';
/** How long an upload waits for its mapping and confirmation. */
export const INCIDENT_UPLOAD_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** The page shows the latest this many months held. */
export const MONTHS_SHOWN = 24;
/** Rows of the file shown under its columns on the mapping form. */
const SAMPLE_ROWS = 5;

function requireReader(actor: Actor, partnership: PartnershipRow): void {
  if (!canReadEvidence(actor.member, partnership.id)) {
    throw new ForbiddenError('Only members of the partnership can see its evidence');
  }
}

function requireManager(actor: Actor, partnership: PartnershipRow): number {
  if (!canManageEvidence(actor.member, partnership.id) || actor.userId === null) {
    throw new ForbiddenError('Only the partnership’s coordinator can bring in or change its incident data');
  }
  return actor.userId;
}

export function monthLabel(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 1, 1)).toLocaleDateString('en-GB', {
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  });
}

// ——— The council CSV: upload, mapping, preview, confirm ———

interface UploadContent {
  csv: CouncilCsv;
  /** Set by the mapping step; the preview and the confirmation count with it. */
  mapping: IncidentMapping | null;
}

export type IncidentUploadResult =
  { ok: true; uploadId: number } | { ok: false; problems: IncidentProblem[] };

function cleanFilename(name: string): string {
  const base = [...(name.split(/[\\/]/).pop() ?? '')]
    .filter((c) => c >= ' ' && c !== '\u007f')
    .join('')
    .trim()
    .slice(0, 200);
  return base || 'incidents.csv';
}

/** Step 1: reads the whole file and keeps what was read. Writes nothing to the counts. */
export async function uploadIncidentCsv(
  db: Db,
  actor: Actor,
  partnership: PartnershipRow,
  file: { filename: string; data: Uint8Array },
  now = new Date(),
): Promise<IncidentUploadResult> {
  const userId = requireManager(actor, partnership);
  const read = readCouncilCsv(file.data);
  if (!read.ok) return { ok: false, problems: read.problems };
  const content: UploadContent = { csv: read.csv, mapping: null };
  const uploadId = await storePendingUpload(
    db,
    {
      partnershipId: partnership.id,
      planId: null,
      userId,
      kind: INCIDENT_UPLOAD_KIND,
      filename: cleanFilename(file.filename),
      content,
    },
    INCIDENT_UPLOAD_LIFETIME_MS,
    now,
  );
  return { ok: true, uploadId };
}

async function findUpload(
  db: Db | Tx,
  partnership: PartnershipRow,
  uploadId: number,
  now: Date,
  lock = false,
) {
  if (!Number.isSafeInteger(uploadId) || uploadId <= 0) throw new NotFoundError('The upload');
  const query = db
    .select()
    .from(t.planUploads)
    .where(
      and(
        eq(t.planUploads.id, uploadId),
        eq(t.planUploads.partnershipId, partnership.id),
        eq(t.planUploads.kind, INCIDENT_UPLOAD_KIND),
      ),
    );
  const [row] = lock ? await query.for('update') : await query;
  if (!row || row.expiresAt < now) throw new NotFoundError('The upload (it may have expired)');
  return { ...row, content: row.content as UploadContent };
}

/** The mapping the last import used, remembered in evidence_settings. */
async function rememberedMapping(db: Db | Tx, partnershipId: number): Promise<IncidentMapping | null> {
  const [row] = await db
    .select({ mapping: t.evidenceSettings.incidentMapping })
    .from(t.evidenceSettings)
    .where(eq(t.evidenceSettings.partnershipId, partnershipId));
  const parsed = mappingSchema.safeParse(row?.mapping);
  return parsed.success ? parsed.data : null;
}

/** Whether the file has every column a mapping names. */
function fitsColumns(mapping: IncidentMapping, columns: readonly string[]): boolean {
  return [mapping.dateColumn, mapping.kindColumn, mapping.countColumn].every(
    (c) => c === null || columns.includes(c),
  );
}

export interface IncidentColumn {
  name: string;
  /** The first values of the column, distinct, for the coordinator to recognise it by. */
  values: string[];
  /** More distinct values than shown. */
  more: boolean;
}

export interface IncidentMappingForm {
  uploadId: number;
  filename: string;
  rows: number;
  delimiter: ',' | ';';
  columns: IncidentColumn[];
  /** The first rows as read, for a table under the form. */
  sample: { line: number; cells: string[] }[];
  mapping: IncidentMapping;
  /** Where the pre-filled mapping came from. */
  from: 'upload' | 'remembered' | 'guessed';
}

/** Step 2's form: the file's columns, its first rows, and the mapping to start from. */
export async function incidentMappingForm(
  db: Db,
  actor: Actor,
  partnership: PartnershipRow,
  uploadId: number,
  now = new Date(),
): Promise<IncidentMappingForm> {
  requireManager(actor, partnership);
  const upload = await findUpload(db, partnership, uploadId, now);
  const { csv } = upload.content;
  const remembered = await rememberedMapping(db, partnership.id);
  let mapping: IncidentMapping;
  let from: IncidentMappingForm['from'];
  if (upload.content.mapping) {
    mapping = upload.content.mapping;
    from = 'upload';
  } else if (remembered && fitsColumns(remembered, csv.columns)) {
    mapping = remembered;
    from = 'remembered';
  } else {
    mapping = guessMapping(csv);
    from = 'guessed';
  }
  const VALUES_SHOWN = 8;
  return {
    uploadId,
    filename: upload.filename,
    rows: csv.rows.length,
    delimiter: csv.delimiter,
    columns: csv.columns.map((name) => {
      const values = distinctValues(csv, name, VALUES_SHOWN + 1);
      return { name, values: values.slice(0, VALUES_SHOWN), more: values.length > VALUES_SHOWN };
    }),
    sample: csv.rows.slice(0, SAMPLE_ROWS),
    mapping,
    from,
  };
}

const valueList = z
  .array(z.string().trim().max(200))
  .max(200)
  .transform((values) => [...new Set(values.filter((v) => v !== ''))]);

const mappingSchema = z.object({
  dateColumn: z.string(),
  kindColumn: z.string().nullable(),
  wholeKind: z.enum(INCIDENT_KINDS).nullable(),
  flyTippingValues: valueList,
  graffitiValues: valueList,
  countColumn: z.string().nullable(),
  skipUnreadable: z.boolean(),
});

/** The mapping form's fields: a column chosen by name ('' for none), value lists one a line. */
export interface IncidentMappingInput {
  dateColumn?: string;
  /** A column's name, or 'whole-file'. */
  kindColumn?: string;
  wholeKind?: string;
  flyTippingValues?: string;
  graffitiValues?: string;
  /** A column's name, or '' when each row is one incident. */
  countColumn?: string;
  skipUnreadable?: string;
}

export const WHOLE_FILE = 'whole-file';

/** The form's fields as a mapping (the form's errors are checkMapping's). */
export function mappingFromInput(input: IncidentMappingInput): IncidentMapping {
  const lines = (text: string | undefined) =>
    (text ?? '')
      .split(/\r?\n/)
      .map((v) => v.replace(/\s+/g, ' ').trim())
      .filter(Boolean);
  const whole = input.kindColumn === WHOLE_FILE;
  return {
    dateColumn: input.dateColumn ?? '',
    kindColumn: whole || !input.kindColumn ? null : input.kindColumn,
    wholeKind: whole && isIncidentKind(input.wholeKind) ? input.wholeKind : null,
    flyTippingValues: whole ? [] : [...new Set(lines(input.flyTippingValues))].slice(0, 200),
    graffitiValues: whole ? [] : [...new Set(lines(input.graffitiValues))].slice(0, 200),
    countColumn: input.countColumn ? input.countColumn : null,
    skipUnreadable: input.skipUnreadable === 'yes',
  };
}

export type IncidentMappingResult =
  { ok: true } | { ok: false; mapping: IncidentMapping; problems: IncidentProblem[] };

/**
 * Step 2: checks the mapping (a ValidationError names the field), counts the whole file with it, and
 * keeps it with the upload when every row could be read (or skipping was asked for). Writes nothing
 * to the counts.
 */
export async function mapIncidentUpload(
  db: Db,
  actor: Actor,
  partnership: PartnershipRow,
  uploadId: number,
  input: IncidentMappingInput,
  now = new Date(),
): Promise<IncidentMappingResult> {
  requireManager(actor, partnership);
  const upload = await findUpload(db, partnership, uploadId, now);
  const mapping = mappingFromInput(input);
  const problems = checkMapping(upload.content.csv.columns, mapping);
  if (input.kindColumn === WHOLE_FILE && !mapping.wholeKind) {
    problems.push({
      field: 'wholeKind',
      message: 'Select whether the whole file is fly-tipping or graffiti',
    });
  }
  if (problems.length) throw new ValidationError(problems);
  const counted = countIncidents(upload.content.csv, mapping);
  if (!counted.ok) return { ok: false, mapping, problems: counted.problems };
  const content: UploadContent = { ...upload.content, mapping };
  await db.update(t.planUploads).set({ content }).where(eq(t.planUploads.id, upload.id));
  return { ok: true };
}

export interface ReplacedCount {
  kind: IncidentKind;
  month: string;
  before: number;
  after: number;
  source: string;
}

export interface IncidentPreview {
  uploadId: number;
  filename: string;
  mapping: IncidentMapping;
  counts: IncidentCounts;
  /** Month by month, both kinds, for the table: null where the file does not cover a kind. */
  months: { month: string; label: string; counts: Record<IncidentKind, number | null> }[];
  /** Counts already held for the same (kind, month), which the import replaces. */
  replaced: ReplacedCount[];
  total: Record<IncidentKind, number | null>;
}

async function heldCounts(db: Db | Tx, partnershipId: number, counts: IncidentCounts) {
  const months = monthRange(counts.firstMonth, counts.lastMonth);
  return db
    .select()
    .from(t.localIncidentCounts)
    .where(
      and(
        eq(t.localIncidentCounts.partnershipId, partnershipId),
        inArray(t.localIncidentCounts.kind, counts.kinds),
        inArray(t.localIncidentCounts.month, months),
      ),
    )
    .orderBy(asc(t.localIncidentCounts.month), asc(t.localIncidentCounts.kind));
}

function previewOf(
  upload: { id: number; filename: string },
  mapping: IncidentMapping,
  counts: IncidentCounts,
  held: (typeof t.localIncidentCounts.$inferSelect)[],
): IncidentPreview {
  const byKey = new Map(counts.counts.map((c) => [`${c.kind}|${c.month}`, c.incidents]));
  const months = monthRange(counts.firstMonth, counts.lastMonth).map((month) => ({
    month,
    label: monthLabel(month),
    counts: Object.fromEntries(
      INCIDENT_KINDS.map((k) => [k, counts.kinds.includes(k) ? (byKey.get(`${k}|${month}`) ?? 0) : null]),
    ) as Record<IncidentKind, number | null>,
  }));
  const total = Object.fromEntries(
    INCIDENT_KINDS.map((k) => [
      k,
      counts.kinds.includes(k)
        ? counts.counts.filter((c) => c.kind === k).reduce((n, c) => n + c.incidents, 0)
        : null,
    ]),
  ) as Record<IncidentKind, number | null>;
  return {
    uploadId: upload.id,
    filename: upload.filename,
    mapping,
    counts,
    months,
    replaced: held.map((h) => ({
      kind: h.kind as IncidentKind,
      month: h.month,
      before: h.incidents,
      after: byKey.get(`${h.kind}|${h.month}`) ?? 0,
      source: h.source,
    })),
    total,
  };
}

/** Step 3: what confirming would write, and what it would replace. */
export async function previewIncidentUpload(
  db: Db,
  actor: Actor,
  partnership: PartnershipRow,
  uploadId: number,
  now = new Date(),
): Promise<IncidentPreview> {
  requireManager(actor, partnership);
  const upload = await findUpload(db, partnership, uploadId, now);
  const mapping = upload.content.mapping;
  if (!mapping) throw new NotFoundError('The upload’s column mapping');
  const counted = countIncidents(upload.content.csv, mapping);
  // The mapping step kept it only when the file counted; a changed reader could still refuse it.
  if (!counted.ok)
    throw new ValidationError(counted.problems.map((p) => ({ field: 'file', message: p.message })));
  return previewOf(upload, mapping, counted.counts, await heldCounts(db, partnership.id, counted.counts));
}

export interface IncidentImportResult {
  filename: string;
  kinds: IncidentKind[];
  firstMonth: string;
  lastMonth: string;
  months: number;
  replaced: number;
}

/**
 * Step 4, in one transaction: the file's (kind, month) counts replace those held, the mapping is
 * remembered for the next upload, the audit event is recorded, and the upload is used up.
 */
export async function confirmIncidentUpload(
  db: Db,
  actor: Actor,
  partnership: PartnershipRow,
  uploadId: number,
  now = new Date(),
): Promise<IncidentImportResult> {
  requireManager(actor, partnership);
  return db.transaction(async (tx) => {
    const upload = await findUpload(tx, partnership, uploadId, now, true);
    const mapping = upload.content.mapping;
    if (!mapping) throw new NotFoundError('The upload’s column mapping');
    const counted = countIncidents(upload.content.csv, mapping);
    if (!counted.ok) {
      throw new ValidationError(counted.problems.map((p) => ({ field: 'file', message: p.message })));
    }
    const { counts } = counted;
    const held = await heldCounts(tx, partnership.id, counts);
    const source = `${upload.filename}, imported ${now.toISOString().slice(0, 10)}`;
    await tx
      .delete(t.localIncidentCounts)
      .where(
        and(
          eq(t.localIncidentCounts.partnershipId, partnership.id),
          inArray(t.localIncidentCounts.kind, counts.kinds),
          inArray(t.localIncidentCounts.month, monthRange(counts.firstMonth, counts.lastMonth)),
        ),
      );
    await tx.insert(t.localIncidentCounts).values(
      counts.counts.map((c) => ({
        partnershipId: partnership.id,
        kind: c.kind,
        month: c.month,
        incidents: c.incidents,
        source,
        importedAt: now,
      })),
    );
    // Only this feature's column: the district, neighbours and Community Trigger settings stay.
    await tx
      .insert(t.evidenceSettings)
      .values({ partnershipId: partnership.id, incidentMapping: mapping })
      .onConflictDoUpdate({
        target: t.evidenceSettings.partnershipId,
        set: { incidentMapping: mapping, updatedAt: now },
      });
    const kinds = counts.kinds.map((k) => INCIDENT_KIND_LABELS[k].toLowerCase()).join(' and ');
    const months = monthRange(counts.firstMonth, counts.lastMonth).length;
    const result: IncidentImportResult = {
      filename: upload.filename,
      kinds: counts.kinds,
      firstMonth: counts.firstMonth,
      lastMonth: counts.lastMonth,
      months,
      replaced: held.length,
    };
    await recordAudit(tx, actor, {
      partnershipId: partnership.id,
      kind: 'local_incidents.imported',
      entity: 'local_incident_counts',
      entityId: `${counts.firstMonth} to ${counts.lastMonth}`,
      summary:
        `Imported ${kinds} counts from ${upload.filename}: ${monthLabel(counts.firstMonth)} to ` +
        `${monthLabel(counts.lastMonth)} (${counts.rowsCounted} rows; replacing ${held.length} monthly counts)`,
      before: held.map((h) => ({ kind: h.kind, month: h.month, incidents: h.incidents })),
      after: {
        ...result,
        rowsCounted: counts.rowsCounted,
        ignoredRows: counts.ignored.reduce((n, v) => n + v.rows, 0),
        unreadableRows: counts.unreadable.length,
        mapping,
      },
      viaImport: true,
    });
    await tx.delete(t.planUploads).where(eq(t.planUploads.id, upload.id));
    return result;
  });
}

// ——— DEFRA's fly-tipping table ———

export class DefraFileError extends Error {}

export interface DefraImportResult {
  file: string;
  kind: DefraKind;
  years: string[];
  authorities: number;
  rows: number;
}

/**
 * Imports DEFRA files (LA_incidents and/or LA_actions, told apart by their headers). Every file is
 * read and checked first: any problem refuses them all, naming the file, line and column. Then, in
 * one transaction, each (year, authority) row of a file replaces that sheet's figures for that year
 * and authority; other authorities' figures for those years stay, so a county's extract does not
 * wipe another county's. The operator (`actor.system`) may import; otherwise the coordinator of
 * `partnership`, whose audit trail records it.
 */
export async function importDefraFiles(
  db: Db,
  actor: Actor,
  files: readonly { name: string; data: Uint8Array | string }[],
  partnership?: PartnershipRow,
): Promise<DefraImportResult[]> {
  if (!actor.system && !(partnership && canManageEvidence(actor.member, partnership.id))) {
    throw new ForbiddenError(
      'Only a coordinator or the operator (the command line) may import DEFRA’s figures',
    );
  }
  const read = files.map((file) => ({ name: file.name, result: readDefraFlyTipping(file.data) }));
  const problems = read.flatMap(({ name, result }) =>
    result.ok ? [] : result.problems.map((p) => `${name}: ${describeDefraProblem(p)}`),
  );
  if (problems.length) throw new DefraFileError(problems.join('\n'));
  return db.transaction(async (tx) => {
    const results: DefraImportResult[] = [];
    for (const { name, result } of read) {
      if (!result.ok) continue;
      await upsertDefraRows(tx, result.kind, result.rows);
      const summary: DefraImportResult = {
        file: name,
        kind: result.kind,
        years: result.years,
        authorities: new Set(result.rows.map((r) => r.onsCode)).size,
        rows: result.rows.length,
      };
      await recordAudit(tx, actor, {
        partnershipId: actor.system ? null : (partnership?.id ?? null),
        kind: 'defra_fly_tipping.imported',
        entity: 'defra_fly_tipping',
        entityId: `${result.kind} ${result.years[0]} to ${result.years.at(-1)}`,
        summary:
          `Imported DEFRA fly-tipping ${result.kind} from ${name}: ${summary.rows} rows, ` +
          `${summary.authorities} authorities, ${result.years[0]} to ${result.years.at(-1)}`,
        after: summary,
        viaImport: true,
      });
      results.push(summary);
    }
    return results;
  });
}

/** Rows per INSERT: 500 rows of 8 columns stays far below PostgreSQL's parameter limit. */
const DEFRA_BATCH = 500;

async function upsertDefraRows(tx: Tx, kind: DefraKind, rows: readonly DefraRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += DEFRA_BATCH) {
    const batch = rows.slice(i, i + DEFRA_BATCH).map((r) => ({
      year: r.year,
      onsCode: r.onsCode,
      authority: r.authority,
      region: r.region,
      ...(kind === 'incidents'
        ? { totalIncidents: r.total, incidentFigures: r.figures }
        : { totalActions: r.total, actionFigures: r.figures }),
    }));
    const excluded = (column: string) => sql.raw(`excluded.${column}`);
    await tx
      .insert(t.defraFlyTipping)
      .values(batch)
      .onConflictDoUpdate({
        target: [t.defraFlyTipping.year, t.defraFlyTipping.onsCode],
        set:
          kind === 'incidents'
            ? {
                authority: excluded('authority'),
                region: excluded('region'),
                totalIncidents: excluded('total_incidents'),
                incidentFigures: excluded('incident_figures'),
              }
            : {
                authority: excluded('authority'),
                region: excluded('region'),
                totalActions: excluded('total_actions'),
                actionFigures: excluded('action_figures'),
              },
      });
  }
}

export interface DefraAuthority {
  code: string;
  /** As DEFRA named it in its latest year held. */
  name: string;
  region: string;
  latestYear: string;
}

/** Every authority in the DEFRA table, by name, with its latest year's name and region. */
export async function listDefraAuthorities(db: Db | Tx): Promise<DefraAuthority[]> {
  const rows = await db
    .selectDistinctOn([t.defraFlyTipping.onsCode], {
      code: t.defraFlyTipping.onsCode,
      name: t.defraFlyTipping.authority,
      region: t.defraFlyTipping.region,
      latestYear: t.defraFlyTipping.year,
    })
    .from(t.defraFlyTipping)
    .orderBy(t.defraFlyTipping.onsCode, desc(t.defraFlyTipping.year));
  return rows.sort((a, b) => a.name.localeCompare(b.name, 'en-GB'));
}

/**
 * The neighbours offered when none are chosen: DEFRA's table has no county column, so the other
 * authorities that shared the district's region in its latest year. With a county's extract (the
 * demo's Hertfordshire files) that is exactly the county's other districts; with the national
 * table it is the whole region, to be narrowed on the settings page.
 */
export function defaultNeighbours(authorities: readonly DefraAuthority[], districtCode: string): string[] {
  const district = authorities.find((a) => a.code === districtCode);
  if (!district) return [];
  return authorities
    .filter(
      (a) => a.code !== districtCode && a.region === district.region && a.latestYear === district.latestYear,
    )
    .map((a) => a.code);
}

export interface IncidentSettings {
  districtCode: string | null;
  neighbourCodes: string[];
  version: number | null;
}

async function readSettings(db: Db | Tx, partnershipId: number): Promise<IncidentSettings> {
  const [row] = await db
    .select({
      districtCode: t.evidenceSettings.districtCode,
      neighbourCodes: t.evidenceSettings.neighbourCodes,
      version: t.evidenceSettings.version,
    })
    .from(t.evidenceSettings)
    .where(eq(t.evidenceSettings.partnershipId, partnershipId));
  return row ?? { districtCode: null, neighbourCodes: [], version: null };
}

export interface IncidentSettingsForm {
  settings: IncidentSettings;
  authorities: DefraAuthority[];
  /** What the form shows ticked and selected: the saved settings, or a first guess. */
  values: { districtCode: string; neighbourCodes: string[] };
  guessed: boolean;
}

/** The settings page: the district and neighbours, from the authorities DEFRA's table holds. */
export async function incidentSettingsForm(
  db: Db,
  actor: Actor,
  partnership: PartnershipRow,
): Promise<IncidentSettingsForm> {
  requireManager(actor, partnership);
  const settings = await readSettings(db, partnership.id);
  const authorities = await listDefraAuthorities(db);
  if (settings.districtCode) {
    return {
      settings,
      authorities,
      values: { districtCode: settings.districtCode, neighbourCodes: settings.neighbourCodes },
      guessed: false,
    };
  }
  // First time: the authority named as the partnership's area (Stevenage for SoSafe), if any.
  const area = (partnership.area ?? '').trim().toLowerCase();
  const guess = area ? authorities.find((a) => a.name.toLowerCase() === area) : undefined;
  return {
    settings,
    authorities,
    values: {
      districtCode: guess?.code ?? '',
      neighbourCodes: guess ? defaultNeighbours(authorities, guess.code) : [],
    },
    guessed: guess !== undefined,
  };
}

/** Sets the district and its neighbours (only these columns of evidence_settings), checking the version. */
export async function saveIncidentSettings(
  db: Db,
  actor: Actor,
  partnership: PartnershipRow,
  input: { districtCode?: string; neighbourCodes?: readonly string[]; version?: string },
  now = new Date(),
): Promise<IncidentSettings> {
  requireManager(actor, partnership);
  return db.transaction(async (tx) => {
    const authorities = await listDefraAuthorities(tx);
    const known = new Set(authorities.map((a) => a.code));
    const districtCode = (input.districtCode ?? '').trim();
    if (!known.has(districtCode)) {
      throw new ValidationError([
        {
          field: 'districtCode',
          message: authorities.length
            ? 'Select the partnership’s district'
            : 'Import DEFRA’s fly-tipping table first: the district is chosen from its authorities',
        },
      ]);
    }
    const neighbourCodes = [...new Set(input.neighbourCodes ?? [])].filter((c) => c !== districtCode);
    const unknown = neighbourCodes.filter((c) => !known.has(c));
    if (unknown.length) {
      throw new ValidationError([{ field: 'neighbourCodes', message: 'Select neighbours from the list' }]);
    }
    return writeSettings(
      tx,
      actor,
      partnership,
      { districtCode, neighbourCodes },
      authorities,
      input.version,
      now,
    );
  });
}

async function writeSettings(
  tx: Tx,
  actor: Actor,
  partnership: PartnershipRow,
  next: { districtCode: string; neighbourCodes: string[] },
  authorities: readonly DefraAuthority[],
  version: string | undefined,
  now: Date,
): Promise<IncidentSettings> {
  const [current] = await tx
    .select()
    .from(t.evidenceSettings)
    .where(eq(t.evidenceSettings.partnershipId, partnership.id))
    .for('update');
  const before = {
    districtCode: current?.districtCode ?? null,
    neighbourCodes: current?.neighbourCodes ?? [],
  };
  if (version !== undefined && String(current?.version ?? '') !== version) {
    throw new ConflictError({ ...before, version: current?.version ?? null });
  }
  const neighbourCodes = [...next.neighbourCodes].sort();
  const [row] = await tx
    .insert(t.evidenceSettings)
    .values({ partnershipId: partnership.id, districtCode: next.districtCode, neighbourCodes })
    .onConflictDoUpdate({
      target: t.evidenceSettings.partnershipId,
      set: {
        districtCode: next.districtCode,
        neighbourCodes,
        version: sql`${t.evidenceSettings.version} + 1`,
        updatedAt: now,
      },
    })
    .returning({ version: t.evidenceSettings.version });
  const name = (code: string) => authorities.find((a) => a.code === code)?.name ?? code;
  await recordAudit(tx, actor, {
    partnershipId: partnership.id,
    kind: 'evidence.district_set',
    entity: 'evidence_settings',
    entityId: partnership.id,
    summary:
      `Set the district for DEFRA’s fly-tipping figures to ${name(next.districtCode)}, beside ` +
      (neighbourCodes.length ? neighbourCodes.map(name).join(', ') : 'no neighbours'),
    before,
    after: { districtCode: next.districtCode, neighbourCodes },
  });
  return { districtCode: next.districtCode, neighbourCodes, version: row!.version };
}

// ——— The page ———

export interface IncidentsOverview {
  /** The latest MONTHS_SHOWN months held, oldest first; empty when none are held. */
  months: IncidentMonth[];
  /** Whether counts of each kind are held at all. */
  kindsHeld: IncidentKind[];
  sources: { source: string; importedAt: Date }[];
  defra: {
    district: { code: string; name: string } | null;
    authorities: DefraAuthorityFigures[];
    years: string[];
    tableHeld: boolean;
  };
}

/** Everything the incidents page shows, for any member. */
export async function incidentsOverview(
  db: Db,
  actor: Actor,
  partnership: PartnershipRow,
): Promise<IncidentsOverview> {
  requireReader(actor, partnership);
  const [latest] = await db
    .select({ month: max(t.localIncidentCounts.month) })
    .from(t.localIncidentCounts)
    .where(eq(t.localIncidentCounts.partnershipId, partnership.id));
  let months: IncidentMonth[] = [];
  let kindsHeld: IncidentKind[] = [];
  let sources: IncidentsOverview['sources'] = [];
  if (latest?.month) {
    const [y, m] = latest.month.split('-').map(Number) as [number, number];
    const firstDate = new Date(Date.UTC(y, m - MONTHS_SHOWN, 1));
    const first = `${firstDate.getUTCFullYear()}-${String(firstDate.getUTCMonth() + 1).padStart(2, '0')}`;
    const rows = await db
      .select()
      .from(t.localIncidentCounts)
      .where(
        and(
          eq(t.localIncidentCounts.partnershipId, partnership.id),
          sql`${t.localIncidentCounts.month} >= ${first}`,
        ),
      );
    const byKey = new Map(rows.map((r) => [`${r.kind}|${r.month}`, r.incidents]));
    kindsHeld = INCIDENT_KINDS.filter((k) => rows.some((r) => r.kind === k));
    months = monthRange(first, latest.month)
      .map((month) => ({
        month,
        label: monthLabel(month),
        counts: Object.fromEntries(
          INCIDENT_KINDS.map((k) => [k, byKey.get(`${k}|${month}`) ?? null]),
        ) as Record<IncidentKind, number | null>,
      }))
      // From the first month anything is held: a short history is not padded with empty months.
      .filter((_, i, all) =>
        all.slice(0, i + 1).some((x) => INCIDENT_KINDS.some((k) => x.counts[k] !== null)),
      );
    const seen = new Map<string, Date>();
    for (const r of rows) if (!seen.has(r.source)) seen.set(r.source, r.importedAt);
    sources = [...seen].map(([source, importedAt]) => ({ source, importedAt }));
  }
  return { months, kindsHeld, sources, defra: await defraView(db, partnership.id) };
}

async function defraView(db: Db, partnershipId: number): Promise<IncidentsOverview['defra']> {
  const settings = await readSettings(db, partnershipId);
  const [any] = await db.select({ year: t.defraFlyTipping.year }).from(t.defraFlyTipping).limit(1);
  const tableHeld = any !== undefined;
  if (!settings.districtCode) return { district: null, authorities: [], years: [], tableHeld };
  const codes = [settings.districtCode, ...settings.neighbourCodes];
  const rows = await db
    .select({
      year: t.defraFlyTipping.year,
      code: t.defraFlyTipping.onsCode,
      name: t.defraFlyTipping.authority,
      total: t.defraFlyTipping.totalIncidents,
      figures: t.defraFlyTipping.incidentFigures,
    })
    .from(t.defraFlyTipping)
    .where(inArray(t.defraFlyTipping.onsCode, codes))
    .orderBy(asc(t.defraFlyTipping.year));
  const years = [...new Set(rows.map((r) => r.year))].sort();
  const authorities = codes
    .map((code): DefraAuthorityFigures => {
      const own = rows.filter((r) => r.code === code);
      return {
        code,
        // The latest name, trimmed at import.
        name: own.at(-1)?.name ?? code,
        isDistrict: code === settings.districtCode,
        incidents: Object.fromEntries(years.map((y) => [y, own.find((r) => r.year === y)?.total ?? null])),
        population: Object.fromEntries(
          years.map((y) => {
            const figures = own.find((r) => r.year === y)?.figures as
              Record<string, unknown> | null | undefined;
            const value = figures?.[DEFRA_POPULATION_COLUMN];
            return [y, typeof value === 'number' && value > 0 ? value : null];
          }),
        ),
      };
    })
    .sort((a, b) =>
      a.isDistrict !== b.isDistrict ? (a.isDistrict ? -1 : 1) : a.name.localeCompare(b.name, 'en-GB'),
    );
  const district = authorities.find((a) => a.isDistrict);
  return {
    district: district ? { code: district.code, name: district.name } : null,
    authorities,
    years,
    tableHeld,
  };
}

// ——— The demo ———

const DEMO_EVIDENCE = fileURLToPath(new URL('../demo/evidence/', import.meta.url));
export const DEFRA_DEMO_FILES = ['LA_incidents_hertfordshire.csv', 'LA_actions_hertfordshire.csv'].map((f) =>
  path.join(DEMO_EVIDENCE, f),
);

/**
 * The demo's DEFRA figures: both Hertfordshire files, and each demo partnership's district (SoSafe:
 * Stevenage; North Herts: North Hertfordshire) beside the county's other districts. No council
 * counts: those are the partnership's own (docs/examples holds an illustrative file).
 */
export async function loadDefraDemo(db: Db, actor: Actor): Promise<void> {
  await importDefraFiles(
    db,
    actor,
    DEFRA_DEMO_FILES.map((file) => ({ name: path.basename(file), data: fs.readFileSync(file) })),
  );
  const districts = { sosafe: 'E07000243', 'north-herts': 'E07000099' } as const;
  for (const [slug, districtCode] of Object.entries(districts)) {
    const partnership = await getPartnershipBySlug(db, slug);
    await db.transaction(async (tx) => {
      const authorities = await listDefraAuthorities(tx);
      const neighbourCodes = defaultNeighbours(authorities, districtCode);
      await writeSettings(
        tx,
        actor,
        partnership,
        { districtCode, neighbourCodes },
        authorities,
        undefined,
        new Date(),
      );
    });
  }
}
