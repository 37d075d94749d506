import fs from 'node:fs';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import {
  columnLetter,
  PLAN_CSV_COLUMNS,
  readPlanCsv,
  writePlanCsv,
  type TablePlan,
} from '../../src/documents/plan-csv.js';
import { readPlanSheet, readPlanXlsx, sheetName, writePlanXlsx } from '../../src/documents/plan-sheet.js';
import { type PlanFilePlan } from '../../src/domain/plan-file.js';
import { demoPlan, tableOf } from '../support/demo-plan.js';

/** The demo plan with an id on every action, as an export from the database has. */
function withIds(plan: PlanFilePlan): TablePlan {
  let id = 100;
  return {
    sections: plan.sections.map((s) => ({
      ...s,
      aims: s.aims.map((a) => ({ ...a, actions: a.actions.map((c) => ({ ...c, id: ++id })) })),
    })),
  };
}

const META = { title: 'Action plan 2024/25', partnership: 'SoSafe Stevenage' };

async function workbookOf(data: Uint8Array): Promise<ExcelJS.Workbook> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(Buffer.from(data) as unknown as ExcelJS.Buffer);
  return workbook;
}

async function rewrite(data: Uint8Array, edit: (workbook: ExcelJS.Workbook) => void): Promise<Buffer> {
  const workbook = await workbookOf(data);
  edit(workbook);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

const col = (name: (typeof PLAN_CSV_COLUMNS)[number]) => PLAN_CSV_COLUMNS.indexOf(name) + 1;

describe('sheetName', () => {
  it('is the section number and the whole words of its title that fit in 31 characters', () => {
    expect(sheetName(1, 'Divert young people from becoming involved in crime and ASB')).toBe(
      '1 Divert young people from',
    );
    expect(sheetName(12, 'Violence')).toBe('12 Violence');
    expect(sheetName(3, 'Hate crime: reporting [and] support?')).toBe('3 Hate crime reporting and');
    expect(sheetName(4, 'Supercalifragilisticexpialidociousness')).toBe('4 Supercalifragilisticexpialido');
    expect(sheetName(2, 'Violence', new Set(['2 violence']))).toBe('2 Violence (2)');
    for (const name of [sheetName(99, 'x'.repeat(80)), sheetName(1, 'a '.repeat(40))]) {
      expect(name.length).toBeLessThanOrEqual(31);
    }
  });

  it('columnLetter names columns as a spreadsheet does', () => {
    expect([0, 1, 25, 26, 27, 701, 702].map(columnLetter)).toEqual(['A', 'B', 'Z', 'AA', 'AB', 'ZZ', 'AAA']);
  });
});

describe('writePlanXlsx', () => {
  it('writes a sheet per section with a frozen, filtered header row, wrapped text cells and sensible widths', async () => {
    const workbook = await workbookOf(await writePlanXlsx(withIds(demoPlan()), META));
    expect(workbook.worksheets.map((w) => w.name)).toEqual([
      '1 Divert young people from',
      '2 Provide safe reporting and',
      '3 Promote reporting of hate',
      '4 Tackle the harms caused by',
      '5 Work with partners to',
    ]);
    const sheet = workbook.worksheets[3]!;
    expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(sheet.autoFilter).toBe(`A1:${columnLetter(PLAN_CSV_COLUMNS.length - 1)}${sheet.rowCount}`);
    const header = sheet.getRow(1).values as unknown[];
    expect(header.slice(1)).toEqual([...PLAN_CSV_COLUMNS]);
    expect(sheet.getRow(1).getCell(1).font?.bold).toBe(true);
    expect(sheet.getRow(2).getCell(1).font?.bold).toBeFalsy();
    expect(sheet.getColumn(col('Action')).width).toBeGreaterThan(sheet.getColumn(col('Aim')).width!);

    // Aim 4.0 stays "4.0": every cell is text.
    const row = sheet.getRow(2);
    expect(row.getCell(col('Aim')).value).toBe('4.0');
    expect(row.getCell(col('Aim')).numFmt).toBe('@');
    expect(row.getCell(col('Action')).alignment).toMatchObject({ wrapText: true, vertical: 'top' });
    expect(row.getCell(col('Lead')).value).toBe('SBC: Will Peters; Mel Cucos; Maddy Heredia');
    expect(String(row.getCell(col('Action id')).value)).toMatch(/^\d+$/);
    expect(row.getCell(col('Q1 status')).dataValidation).toMatchObject({ type: 'list' });
    // Each row is as tall as its fullest wrapped cell, so no reader sees it cut off.
    expect(sheet.getRow(1).height ?? 15).toBeLessThanOrEqual(15);
    expect(row.height).toBeGreaterThan(3 * 15);
  });

  it('one row per action; an aim with no actions keeps a row', async () => {
    const workbook = await workbookOf(await writePlanXlsx(withIds(demoPlan()), META));
    const rows = workbook.worksheets.reduce((n, w) => n + w.rowCount - 1, 0);
    expect(rows).toBe(34 + 1);
    const section5 = workbook.worksheets[4]!;
    const last = section5.getRow(section5.rowCount);
    expect(last.getCell(col('Aim')).value).toBe('5.7');
    expect(last.getCell(col('Action')).value ?? '').toBe('');
  });
});

describe('readPlanXlsx', () => {
  it('reads back what writePlanXlsx wrote, with each action’s id and row', async () => {
    const plan = demoPlan();
    const result = await readPlanXlsx(await writePlanXlsx(withIds(plan), META), { year: '2024/25' });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(tableOf(result.plan)).toEqual(tableOf(plan));
    expect(result.actions).toHaveLength(34);
    expect(result.actions[0]).toEqual({
      aim: '1.1',
      index: 0,
      id: 101,
      place: { sheet: '1 Divert young people from', row: 2 },
    });
    const fourTwo = result.actions.filter((a) => a.aim === '4.2');
    expect(fourTwo.map((a) => a.index)).toEqual([0, 1, 2, 3]);
  });

  it('is the same table as the CSV plan', async () => {
    const plan = withIds(demoPlan());
    const fromXlsx = await readPlanXlsx(await writePlanXlsx(plan, META), { year: '2024/25' });
    const fromCsv = readPlanCsv(writePlanCsv(plan), { year: '2024/25' });
    if (!fromXlsx.ok || !fromCsv.ok) throw new Error('not read');
    expect(fromXlsx.plan).toEqual(fromCsv.plan);
    expect(fromXlsx.actions.map((a) => a.id)).toEqual(fromCsv.actions.map((a) => a.id));
  });

  it('reads what Excel saves: dates, numbers, rich text, formulas, reordered columns, an empty extra sheet', async () => {
    const data = await rewrite(await writePlanXlsx(withIds(demoPlan()), META), (workbook) => {
      const sheet = workbook.worksheets[0]!;
      const addedOn = sheet.getRow(2).getCell(col('Aim added on'));
      addedOn.value = new Date(Date.UTC(2024, 7, 1));
      // A cell's style object is shared with its column's other cells: replace it, do not change it.
      addedOn.style = { ...addedOn.style, numFmt: 'dd/mm/yyyy' };
      sheet.getRow(2).getCell(col('Section')).value = 1;
      sheet.getRow(3).getCell(col('Resources')).value = {
        richText: [{ text: 'Posters' }, { text: '\r\nLeaflets', font: { bold: true } }],
      };
      sheet.getRow(4).getCell(col('Q1 status')).value = { formula: '"On track"', result: 'On track' };
      workbook.addWorksheet('Sheet2');
    });
    const result = await readPlanXlsx(data, { year: '2024/25' });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const [a11, a12, a13] = result.plan.sections[0]!.aims;
    expect(a11!.addedOn).toBe('2024-08-01');
    expect(a12!.actions[0]!.resources).toEqual(['Posters', 'Leaflets']);
    expect(a13!.actions[0]!.progress[0]).toMatchObject({ quarter: 1, status: 'on_track' });
  });

  it('names a problem by sheet, row and the column’s letter in that sheet', async () => {
    const data = await rewrite(await writePlanXlsx(withIds(demoPlan()), META), (workbook) => {
      const sheet = workbook.worksheets[1]!;
      sheet.getRow(3).getCell(col('Q2 status')).value = 'Going well';
      // The same id twice: a copied row.
      const id = sheet.getRow(2).getCell(col('Action id')).value;
      sheet.getRow(4).getCell(col('Action id')).value = id;
      // A value beyond the named columns.
      sheet.getRow(5).getCell(PLAN_CSV_COLUMNS.length + 2).value = 'a note';
    });
    const result = await readPlanXlsx(data, { year: '2024/25' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const sheet = '2 Provide safe reporting and';
    expect(result.problems).toEqual([
      {
        where: `sheet "${sheet}", row 3, column "Q2 status" (N)`,
        sheet,
        row: 3,
        column: 'Q2 status',
        message:
          'unknown status "Going well": use one of: Not started, On track, At risk, Off track, Complete',
      },
      {
        where: `sheet "${sheet}", row 4, column "Action id" (T)`,
        sheet,
        row: 4,
        column: 'Action id',
        message: expect.stringMatching(
          /^repeats action id \d+, already on sheet "2 Provide safe reporting and", row 2: one row per action$/,
        ),
      },
      {
        where: `sheet "${sheet}", row 5`,
        sheet,
        row: 5,
        column: undefined,
        message: 'has a value in column V, which has no name',
      },
    ]);
  });

  it('uses each sheet’s own header for the column letters', async () => {
    const csv = [
      'Aim,Section,Section title,Aim title,Action,Q1 progress,Q1 status',
      '1.1,1,Divert young people,Promote the service,Visit schools,Two visits,Maybe',
    ];
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Mine');
    for (const line of csv) sheet.addRow(line.split(','));
    const result = await readPlanXlsx(Buffer.from(await workbook.xlsx.writeBuffer()), { year: '2024/25' });
    expect(result).toMatchObject({
      ok: false,
      problems: [{ where: 'sheet "Mine", row 2, column "Q1 status" (G)', column: 'Q1 status' }],
    });
  });

  it('an id that is not a number, and an id on a row with no action', async () => {
    const data = await rewrite(await writePlanXlsx(withIds(demoPlan()), META), (workbook) => {
      const sheet = workbook.worksheets[0]!;
      sheet.getRow(2).getCell(col('Action id')).value = 'twelve';
      sheet.getRow(3).getCell(col('Action')).value = '';
      for (const c of [
        'Lead',
        'Partners',
        'Resources',
        'Expected outcomes',
        'Q1 progress',
        'Q2 progress',
        'Q3 progress',
      ] as const) {
        sheet.getRow(3).getCell(col(c)).value = '';
      }
    });
    const result = await readPlanXlsx(data, { year: '2024/25' });
    if (result.ok) throw new Error('expected problems');
    expect(result.problems.map((p) => [p.row, p.column, p.message])).toEqual([
      [
        2,
        'Action id',
        '"twelve" is not an action id: keep the number the export wrote, or leave it empty for a new action',
      ],
      [3, 'Action', 'is empty, but the row gives "Action id"'],
    ]);
  });
});

describe('readPlanSheet', () => {
  it('tells an XLSX from a CSV by its content', async () => {
    const plan = withIds(demoPlan());
    expect((await readPlanSheet(await writePlanXlsx(plan, META), { year: '2024/25' })).format).toBe('xlsx');
    const csv = await readPlanSheet(Buffer.from(writePlanCsv(plan)), { year: '2024/25' });
    expect(csv.format).toBe('csv');
    expect(csv.result.ok).toBe(true);
  });

  it('refuses a CSV that is not UTF-8, and a broken workbook', async () => {
    const latin1 = Buffer.from(
      'Section,Section title,Aim,Aim title,Action\r\n1,Caf\xe9s,1.1,x,y\r\n',
      'latin1',
    );
    expect((await readPlanSheet(latin1, { year: '2024/25' })).result).toEqual({
      ok: false,
      problems: [
        {
          where: 'the file',
          message:
            'is not an XLSX workbook, nor a CSV file in UTF-8: save it as "Excel Workbook (.xlsx)" or "CSV UTF-8"',
        },
      ],
    });
    const broken = Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(100, 1)]);
    expect((await readPlanSheet(broken, { year: '2024/25' })).result).toMatchObject({
      ok: false,
      problems: [{ where: 'the file', message: expect.stringMatching(/^is not an Excel workbook/) }],
    });
  });
});

describe('the example files (docs/examples)', () => {
  const examples = new URL('../../docs/examples/', import.meta.url);
  const plan = demoPlan();

  for (const name of ['sosafe-2024-25-plan.xlsx', 'sosafe-2024-25-plan.csv']) {
    it(`${name} is the demo plan in the current format, actions numbered 1 to 34`, async () => {
      const { result } = await readPlanSheet(fs.readFileSync(new URL(name, examples)), { year: '2024/25' });
      if (!result.ok) throw new Error(JSON.stringify(result.problems));
      expect(tableOf(result.plan)).toEqual(tableOf(plan));
      expect(result.actions.map((a) => a.id)).toEqual(Array.from({ length: 34 }, (_, i) => i + 1));
    });
  }
});
