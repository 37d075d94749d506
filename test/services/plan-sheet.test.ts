import { count, eq, sql } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { auditEvents, planUploads } from '../../src/db/schema.js';
import { PLAN_CSV_COLUMNS } from '../../src/documents/plan-csv.js';
import type { Member } from '../../src/domain/permissions.js';
import { memberActor, type Actor } from '../../src/services/actor.js';
import { ForbiddenError, NotFoundError } from '../../src/services/errors.js';
import { aimHistory } from '../../src/services/history.js';
import { archiveAction, updateAction } from '../../src/services/plan-edit.js';
import {
  findAim,
  getPartnershipBySlug,
  loadPlanTree,
  type PartnershipRow,
  type PlanTree,
} from '../../src/services/plan-read.js';
import {
  confirmPlanSheet,
  exportPlanSheet,
  previewPlanSheet,
  uploadPlanSheet,
  type SheetFormat,
  type SheetUploadResult,
} from '../../src/services/plan-sheet.js';
import { rollOver } from '../../src/services/roll-over.js';
import { getMember } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let coordinator: Actor;
let partner: Actor;
let lead: Actor;
let partnership: PartnershipRow;
const YEAR = '2024/25';

async function actorFor(email: string): Promise<Actor> {
  const [user] = await queryRows<{ id: number; partnership_id: number }>(
    database.db,
    sql`select u.id, m.partnership_id from users u join memberships m on m.user_id = u.id where u.email = ${email}`,
  );
  return memberActor((await getMember(database.db, user!.id, user!.partnership_id)) as Member);
}

const tree = (year = YEAR): Promise<PlanTree> => loadPlanTree(database.db, partnership, year);

async function auditCount(): Promise<number> {
  const [row] = await database.db.select({ n: count() }).from(auditEvents);
  return Number(row?.n ?? 0);
}

async function exported(format: SheetFormat, year = YEAR): Promise<Buffer> {
  return (await exportPlanSheet(database.db, coordinator, partnership, year, format)).body;
}

async function upload(data: Uint8Array, filename = 'plan.xlsx', actor = coordinator, now?: Date) {
  return uploadPlanSheet(database.db, actor, partnership, YEAR, { filename, data }, now);
}

function accepted(result: SheetUploadResult) {
  if (!result.ok) throw new Error(`The upload was refused: ${JSON.stringify(result.problems, null, 2)}`);
  return result;
}

async function uploadAndConfirm(data: Uint8Array, filename = 'plan.xlsx') {
  const { uploadId, preview } = accepted(await upload(data, filename));
  const result = await confirmPlanSheet(
    database.db,
    coordinator,
    partnership,
    YEAR,
    uploadId,
    preview.fingerprint,
  );
  return { preview, result };
}

/** Changes a workbook as someone would in Excel: set cells, delete rows, add rows. */
async function editWorkbook(
  data: Uint8Array,
  edit: (workbook: ExcelJS.Workbook, column: (name: string) => number) => void,
): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(Buffer.from(data) as unknown as ExcelJS.Buffer);
  edit(workbook, (name) => PLAN_CSV_COLUMNS.indexOf(name as (typeof PLAN_CSV_COLUMNS)[number]) + 1);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

function sheetOf(workbook: ExcelJS.Workbook, section: number): ExcelJS.Worksheet {
  const sheet = workbook.worksheets.find((s) => s.name.startsWith(`${section} `));
  if (!sheet) throw new Error(`No sheet for section ${section}`);
  return sheet;
}

/** The row of a sheet holding this action id. */
function rowOfAction(sheet: ExcelJS.Worksheet, actionId: number): ExcelJS.Row {
  const idColumn = PLAN_CSV_COLUMNS.indexOf('Action id') + 1;
  for (let r = 2; r <= sheet.rowCount; r++) {
    if (String(sheet.getRow(r).getCell(idColumn).value) === String(actionId)) return sheet.getRow(r);
  }
  throw new Error(`No row for action ${actionId} in ${sheet.name}`);
}

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
  partnership = await getPartnershipBySlug(database.db, 'sosafe');
  coordinator = await actorFor('coordinator@sosafe.example');
  partner = await actorFor('partner@sosafe.example');
  lead = await actorFor('helen.whitehead@sosafe.example');
});
afterAll(async () => {
  await database?.drop();
});

describe('re-importing an unchanged export', () => {
  for (const format of ['xlsx', 'csv'] as const) {
    it(`changes nothing and writes nothing to the audit trail (${format.toUpperCase()})`, async () => {
      const file = await exported(format);
      const before = await tree();
      const events = await auditCount();
      const { preview, result } = await uploadAndConfirm(file, `plan.${format}`);
      expect(preview).toMatchObject({ format, unchanged: true, changes: [], additions: [], archivals: [] });
      expect(preview.notes).toEqual([]);
      expect(result).toMatchObject({ status: 'applied', unchanged: true });
      expect(await auditCount()).toBe(events);
      expect(await tree()).toEqual(before);
    });
  }
});

describe('a changed cell', () => {
  it('changes just that field, and the aim’s History shows it', async () => {
    const action = findAim(await tree(), '2.1').aim.actions[0]!;
    const file = await editWorkbook(await exported('xlsx'), (workbook, column) => {
      rowOfAction(sheetOf(workbook, 2), action.id).getCell(column('Lead')).value =
        'SADA: Tania King\nPolice: DA Coordinator';
    });
    const events = await auditCount();
    const { preview, result } = await uploadAndConfirm(file);
    expect(preview.changes).toEqual([
      {
        what: 'Aim 2.1, action 1',
        field: 'Lead',
        before: 'SADA: Tania King',
        after: 'SADA: Tania King\nPolice: DA Coordinator',
        where: expect.stringMatching(/^sheet "2 Provide safe reporting and", row \d+$/),
      },
    ]);
    expect(preview.counts).toMatchObject({ fieldsChanged: 1, actionsAdded: 0, actionsArchived: 0 });
    expect(result).toMatchObject({ status: 'applied', unchanged: false });

    const after = findAim(await tree(), '2.1').aim.actions[0]!;
    expect(after.leads.map((l) => [l.organisation, l.officers])).toEqual([
      ['SADA', ['Tania King']],
      ['Police', ['DA Coordinator']],
    ]);
    expect(after.description).toBe(action.description);
    expect(after.partners.map((p) => p.organisation)).toEqual(action.partners.map((p) => p.organisation));
    // One change to the action, and one event for the import as a whole.
    const kinds = (await database.db.select().from(auditEvents)).slice(events).map((e) => e.kind);
    expect(kinds).toEqual(['action.updated', 'plan.spreadsheet_imported']);

    const history = await aimHistory(database.db, coordinator, findAim(await tree(), '2.1').aim.id);
    expect(history[0]).toMatchObject({ kind: 'action.updated', about: 'Action 1' });
    expect(history[0]!.changes.map((c) => [c.label, c.before, c.after])).toEqual([
      ['Lead', 'SADA: Tania King', 'SADA: Tania King\nPolice: DA Coordinator'],
    ]);
  });

  it('a quarter’s progress and status become a progress update, with history', async () => {
    const action = findAim(await tree(), '1.2').aim.actions[0]!;
    const file = await editWorkbook(await exported('xlsx'), (workbook, column) => {
      const row = rowOfAction(sheetOf(workbook, 1), action.id);
      row.getCell(column('Q4 progress')).value = 'Two more sessions in schools.';
      row.getCell(column('Q4 status')).value = 'On track';
    });
    const { preview, result } = await uploadAndConfirm(file);
    expect(preview.counts).toMatchObject({ progressAdded: 1, progressChanged: 0, fieldsChanged: 0 });
    expect(preview.changes.map((c) => [c.field, c.before, c.after])).toEqual([
      ['Q4 progress', '', 'Two more sessions in schools.'],
      ['Q4 status', '', 'On track'],
    ]);
    expect(result.status).toBe('applied');
    const q4 = findAim(await tree(), '1.2').aim.actions[0]!.progress.find((p) => p.quarter === 4);
    expect(q4).toMatchObject({
      text: 'Two more sessions in schools.',
      status: 'on_track',
      state: 'submitted',
    });
    const history = await aimHistory(database.db, coordinator, findAim(await tree(), '1.2').aim.id);
    expect(history[0]).toMatchObject({ kind: 'progress.added', what: 'Added the Q4 progress update' });
  });

  it('a changed title of an aim updates the aim', async () => {
    const csv = (await exported('csv')).toString('utf8');
    const aim = findAim(await tree(), '3.1').aim;
    const changed = csv.split(aim.title).join(`${aim.title} (and online)`);
    const { preview } = await uploadAndConfirm(Buffer.from(changed), 'plan.csv');
    expect(preview.changes).toEqual([
      expect.objectContaining({ what: 'Aim 3.1', field: 'Aim title', after: `${aim.title} (and online)` }),
    ]);
    expect(findAim(await tree(), '3.1').aim.title).toBe(`${aim.title} (and online)`);
  });
});

describe('adding and archiving', () => {
  it('a row without an id adds an action, a new aim number an aim; deleted rows are archived', async () => {
    const plan = await tree();
    const aim44 = findAim(plan, '4.4').aim;
    const aim43 = findAim(plan, '4.3').aim;
    const gone = aim44.actions[1]!;
    const file = await editWorkbook(await exported('xlsx'), (workbook, column) => {
      const sheet = sheetOf(workbook, 4);
      // A new action under 4.0, and a new aim 4.9 with one action and its Q1 progress.
      const template = rowOfAction(sheet, findAim(plan, '4.0').aim.actions[0]!.id);
      const values = (cells: Record<string, string>) => {
        const row: string[] = [];
        for (const [name, value] of Object.entries(cells)) row[column(name) - 1] = value;
        return row;
      };
      sheet.addRow(
        values({
          Section: '4',
          'Section title': String(template.getCell(column('Section title')).value),
          Aim: '4.0',
          'Aim title': String(template.getCell(column('Aim title')).value),
          Action: 'Run a second naloxone awareness day',
          Lead: 'SBC: Mel Cucos',
        }),
      );
      sheet.addRow(
        values({
          Section: '4',
          'Section title': String(template.getCell(column('Section title')).value),
          Aim: '4.9',
          'Aim title': 'Reduce drink spiking in the night-time economy',
          Action: 'Train door staff',
          Lead: 'Police: Licensing Officer',
          'Q1 progress': 'Course booked.',
          'Q1 status': 'Not started',
        }),
      );
      // Aim 4.4's second action, and all of aim 4.3, are deleted.
      sheet.spliceRows(rowOfAction(sheet, gone.id).number, 1);
      for (const action of aim43.actions) sheet.spliceRows(rowOfAction(sheet, action.id).number, 1);
      // Section 5's sheet is left out of the file: nothing in section 5 is archived.
      workbook.removeWorksheet(sheetOf(workbook, 5).id);
    });
    const { preview, result } = await uploadAndConfirm(file);
    expect(preview.counts).toEqual({
      sectionsAdded: 0,
      aimsAdded: 1,
      actionsAdded: 2,
      fieldsChanged: 0,
      progressAdded: 1,
      progressChanged: 0,
      aimsArchived: 1,
      actionsArchived: 1,
    });
    expect(preview.archivals).toEqual([
      { what: 'Aim 4.3', text: expect.stringContaining(aim43.title) },
      { what: 'Aim 4.4, action 2', text: gone.description.split('\n')[0] },
    ]);
    expect(preview.changes).toEqual([]);
    expect(result.status).toBe('applied');

    const after = await tree();
    expect(after.sections.find((s) => s.number === 4)!.aims.map((a) => a.number)).toEqual([
      '4.0',
      '4.1',
      '4.2',
      '4.4',
      '4.9',
    ]);
    expect(findAim(after, '4.0').aim.actions.at(-1)!.description).toBe('Run a second naloxone awareness day');
    const added = findAim(after, '4.9').aim;
    expect(added.actions[0]).toMatchObject({ description: 'Train door staff' });
    expect(added.actions[0]!.progress).toEqual([
      expect.objectContaining({ quarter: 1, text: 'Course booked.', status: 'not_started' }),
    ]);
    expect(findAim(after, '4.4').aim.actions.map((a) => a.id)).toEqual([aim44.actions[0]!.id]);
    expect(after.sections.find((s) => s.number === 5)!.aims.length).toBe(
      plan.sections.find((s) => s.number === 5)!.aims.length,
    );
  });

  it('a file with no action ids only adds: nothing is archived', async () => {
    const csv = [
      'Section,Section title,Aim,Aim title,Action,Lead',
      '6,Keep people safe online,6.1,Teach online safety,Assemblies in every secondary school,Police: Schools Officer',
    ].join('\r\n');
    const { preview } = await uploadAndConfirm(Buffer.from(csv), 'new.csv');
    expect(preview.counts).toMatchObject({
      sectionsAdded: 1,
      aimsAdded: 1,
      actionsAdded: 1,
      aimsArchived: 0,
    });
    expect(preview.archivals).toEqual([]);
    const section = (await tree()).sections.find((s) => s.number === 6)!;
    expect(section.title).toBe('Keep people safe online');
    expect((await tree()).sections.length).toBe(6);
  });
});

describe('problems', () => {
  it('are named by sheet, row and column, and nothing is kept or written', async () => {
    const action = findAim(await tree(), '2.2').aim.actions[0]!;
    let rowNumber = 0;
    const file = await editWorkbook(await exported('xlsx'), (workbook, column) => {
      const row = rowOfAction(sheetOf(workbook, 2), action.id);
      rowNumber = row.number;
      row.getCell(column('Q2 status')).value = 'Going well';
      row.getCell(column('Action id')).value = '99999';
    });
    const events = await auditCount();
    const uploads = (await database.db.select().from(planUploads)).length;
    const result = await upload(file);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      expect.objectContaining({
        where: `sheet "2 Provide safe reporting and", row ${rowNumber}, column "Q2 status" (N)`,
        sheet: '2 Provide safe reporting and',
        row: rowNumber,
        column: 'Q2 status',
        message: expect.stringMatching(/^unknown status "Going well": use one of: Not started, On track/),
      }),
    ]);
    // The file's own problems come first; once they are put right, the id is checked against the plan.
    const second = await upload(
      await editWorkbook(file, (workbook, column) => {
        workbook.worksheets[1]!.getRow(rowNumber).getCell(column('Q2 status')).value = 'At risk';
      }),
    );
    expect(second.ok).toBe(false);
    if (second.ok) return;
    expect(second.problems).toEqual([
      expect.objectContaining({
        where: `sheet "2 Provide safe reporting and", row ${rowNumber}, column "Action id" (T)`,
        message: expect.stringMatching(
          /^99999 is not the id of an action in this plan \(SoSafe Stevenage 2024\/25\)/,
        ),
      }),
    ]);
    expect(await auditCount()).toBe(events);
    expect((await database.db.select().from(planUploads)).length).toBe(uploads);
  });

  it('a CSV names the line and column', async () => {
    const csv = [
      'Section,Section title,Aim,Aim title,Action,Action id',
      '1,Divert young people from becoming involved in crime and ASB,1.1,x,y,abc',
    ].join('\r\n');
    const result = await upload(Buffer.from(csv), 'plan.csv');
    expect(result).toMatchObject({
      ok: false,
      format: 'csv',
      problems: [
        {
          where: 'line 2, column "Action id"',
          message:
            '"abc" is not an action id: keep the number the export wrote, or leave it empty for a new action',
        },
      ],
    });
  });

  it('a file of another plan is refused, row by row', async () => {
    const plan = await tree();
    await rollOver(database.db, coordinator, partnership.id, YEAR, {
      aimIds: [String(findAim(plan, '1.1').aim.id), String(findAim(plan, '1.2').aim.id)],
    });
    const otherPlan = await exported('csv', '2025/26');
    const result = await upload(otherPlan, 'plan-2025-26.csv');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(2);
    // A cell holding several lines spans several lines of the CSV: the row is named by its first.
    expect(result.problems.map((p) => p.where)).toEqual([
      'line 2, column "Action id"',
      expect.stringMatching(/^line \d+, column "Action id"$/),
    ]);
    for (const problem of result.problems) {
      expect(problem.message).toMatch(
        /is not the id of an action in this plan \(SoSafe Stevenage 2024\/25\)/,
      );
    }
  });

  it('an action moved to another aim, and an archived action’s id', async () => {
    const plan = await tree();
    const moved = findAim(plan, '5.5').aim.actions[0]!;
    const aim56 = findAim(plan, '5.6').aim;
    const before = await exported('xlsx');
    const archived = findAim(plan, '5.3').aim.actions[1]!;
    await archiveAction(database.db, coordinator, archived.id, archived.version);
    let movedRow = 0;
    let archivedRow = 0;
    const file = await editWorkbook(before, (workbook, column) => {
      const sheet = sheetOf(workbook, 5);
      const row = rowOfAction(sheet, moved.id);
      movedRow = row.number;
      archivedRow = rowOfAction(sheet, archived.id).number;
      row.getCell(column('Aim')).value = '5.6';
      row.getCell(column('Aim title')).value = aim56.title;
    });
    const result = await upload(file);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => [p.row, p.column, p.message])).toEqual([
      [
        archivedRow,
        'Action id',
        `action ${archived.id} has been archived: delete this row, or leave "Action id" empty to add it again as a new action`,
      ],
      [
        movedRow,
        'Aim',
        `action ${moved.id} is under aim 5.5 in the plan: move an action to another aim in the app, not in the spreadsheet`,
      ],
    ]);
  });
});

describe('confirming', () => {
  it('refuses when the plan changed since the preview, and writes nothing', async () => {
    const action = findAim(await tree(), '2.3').aim.actions[0]!;
    const file = await editWorkbook(await exported('xlsx'), (workbook, column) => {
      rowOfAction(sheetOf(workbook, 2), action.id).getCell(column('Resources')).value = 'Existing staff';
    });
    const { uploadId, preview } = accepted(await upload(file));
    // Meanwhile someone changes the same action in the app.
    await updateAction(database.db, coordinator, action.id, {
      description: action.description,
      leads: 'SADA: Sarah Pateman',
      partners: '',
      resources: action.resources.join('\n'),
      expectedOutcomes: action.expectedOutcomes.join('\n'),
      version: action.version,
    });
    const events = await auditCount();
    const result = await confirmPlanSheet(
      database.db,
      coordinator,
      partnership,
      YEAR,
      uploadId,
      preview.fingerprint,
    );
    expect(result.status).toBe('changed');
    if (result.status !== 'changed') return;
    expect(await auditCount()).toBe(events);
    // The new preview shows the file would also undo the other change.
    expect(result.preview.changes.map((c) => c.field).sort()).toEqual(['Lead', 'Partners', 'Resources']);
    const again = await confirmPlanSheet(
      database.db,
      coordinator,
      partnership,
      YEAR,
      uploadId,
      result.preview.fingerprint,
    );
    expect(again.status).toBe('applied');
    expect(findAim(await tree(), '2.3').aim.actions[0]!.resources).toEqual(['Existing staff']);
    // The upload is used up.
    await expect(
      previewPlanSheet(database.db, coordinator, partnership, YEAR, uploadId),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it('an upload expires after a day and is then removed', async () => {
    const file = await exported('csv');
    const yesterday = new Date(Date.now() - 25 * 60 * 60 * 1000);
    const { uploadId } = accepted(await upload(file, 'old.csv', coordinator, yesterday));
    await expect(
      previewPlanSheet(database.db, coordinator, partnership, YEAR, uploadId),
    ).rejects.toBeInstanceOf(NotFoundError);
    accepted(await upload(file, 'new.csv'));
    const left = await database.db.select().from(planUploads).where(eq(planUploads.id, uploadId));
    expect(left).toEqual([]);
  });
});

describe('permission', () => {
  it('only the coordinator imports; every member may export', async () => {
    const file = await exported('csv');
    for (const actor of [partner, lead]) {
      await expect(upload(file, 'plan.csv', actor)).rejects.toBeInstanceOf(ForbiddenError);
      const csv = await exportPlanSheet(database.db, actor, partnership, YEAR, 'csv');
      expect(csv.body.toString('utf8')).toContain('Action id');
    }
    const { uploadId, preview } = accepted(await upload(file, 'plan.csv'));
    await expect(
      confirmPlanSheet(database.db, partner, partnership, YEAR, uploadId, preview.fingerprint),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(previewPlanSheet(database.db, lead, partnership, YEAR, uploadId)).rejects.toBeInstanceOf(
      ForbiddenError,
    );
  });
});
