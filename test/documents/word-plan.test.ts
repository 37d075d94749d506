/**
 * The Word plan reader, over a Word file this project did not write (the SoSafe 2024/25 plan as
 * LibreOffice saves it, test/fixtures/word/) and one the tests write from the demo plan with
 * headings in another order and spelling; and its pure parts on their own.
 */
import fs from 'node:fs';
import ExcelJS from 'exceljs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  documentFromHtml,
  headingKey,
  parseAimCell,
  parseSectionHeading,
  parseWordParties,
  readWordDocument,
  readWordPlan,
  recogniseHeading,
  splitProgress,
  statusInProgress,
  type WordAimRead,
  type WordDocument,
  type WordPlanRead,
} from '../../src/documents/word-plan.js';
import type { PlanFileAction } from '../../src/domain/plan-file.js';
import { demoPlanForWord, demoWordPlan, wordDocumentWithoutPlan } from '../support/word-plan.js';

const LIBREOFFICE_FIXTURE = new URL('../fixtures/word/sosafe-2024-25-libreoffice.docx', import.meta.url);

async function documentOf(bytes: Uint8Array): Promise<WordDocument> {
  const result = await readWordDocument(bytes);
  if (!result.ok) throw new Error(result.problem);
  return result.document;
}

const aimsOf = (read: WordPlanRead) => read.sections.flatMap((s) => s.aims);
const aim = (read: WordPlanRead, number: string): WordAimRead => {
  const found = aimsOf(read).find((a) => a.number === number);
  if (!found) throw new Error(`No aim ${number}`);
  return found;
};
const leadNames = (action: PlanFileAction) =>
  action.leads.map((p) =>
    p.officers.length ? `${p.organisation} (${p.officers.join(', ')})` : p.organisation,
  );
const quarterText = (action: PlanFileAction, quarter: number | null) =>
  action.progress.find((p) => p.quarter === quarter)?.text;

describe('the SoSafe plan as LibreOffice saves it (a Word file this project did not write)', () => {
  let document: WordDocument;
  let read: WordPlanRead;
  beforeAll(async () => {
    document = await documentOf(fs.readFileSync(LIBREOFFICE_FIXTURE));
    read = readWordPlan(document);
  });

  it('finds the five plan tables by their headings, and leaves out the abbreviations table with a warning', () => {
    expect(document.tables).toHaveLength(6);
    expect(read.planTables).toEqual([1, 2, 3, 4, 5]);
    expect(read.headings.map((h) => [h.text, h.field])).toEqual([
      ['Aim', 'aim'],
      ['Action', 'action'],
      ['Lead', 'lead'],
      ['Partners', 'partners'],
      ['Resources', 'resources'],
      ['Expected outcomes', 'expectedOutcomes'],
      ['Progress to date', 'progress'],
    ]);
    expect(read.warnings).toContainEqual({
      table: 6,
      row: null,
      message: expect.stringContaining('has no row of the plan’s column headings'),
    });
    expect(document.yearInText).toBe('2024/25');
  });

  it('takes each table’s section from the heading just before it', () => {
    expect(read.sections.map((s) => [s.number, s.title])).toEqual([
      [1, 'Divert young people from becoming involved in crime and ASB'],
      [2, 'Provide safe reporting and support to domestic abuse survivors and victims of modern slavery'],
      [3, 'Promote reporting of hate crime and equality in the community'],
      [4, 'Tackle the harms caused by drugs, alcohol and offending.'],
      [5, 'Work with partners to encourage reporting of crime and address perceptions of crime'],
    ]);
    expect(read.sections.every((s) => !s.madeForAims)).toBe(true);
  });

  it('reads every aim of the seed, in order, with "Added August 2024" as the date 4.1 was added', () => {
    expect(aimsOf(read).map((a) => a.number)).toEqual(
      '1.1 1.2 1.3 2.1 2.2 2.3 2.4 3.1 4.0 4.1 4.2 4.3 4.4 5.0 5.1 5.2 5.3 5.4 5.5 5.6 5.7'.split(' '),
    );
    expect(aim(read, '4.1')).toMatchObject({ title: 'Dangerous Dogs', addedOn: '2024-08-01' });
    expect(aim(read, '4.4').title).toBe('Expand "Evolve" in supporting perpetrators of domestic abuse');
  });

  it('keeps multi-action aims together, each action with its own lead', () => {
    const hate = aim(read, '3.1');
    expect(hate.actions.map(leadNames)).toEqual([
      ['CCSU (Helen Whitehead)', 'SBC'],
      ['CCSU (Helen Whitehead)', 'SBC'],
      ['SoSafe members', 'Police', 'SBC'],
    ]);
    expect(hate.actions[2]!.description).toMatch(/^Planning group pulled together/);
    const cuckooing = aim(read, '4.2');
    expect(cuckooing.actions).toHaveLength(4);
    expect(cuckooing.actions.map(leadNames)).toEqual([
      ['SBC (Jessica Warren, Maddy Heredia, Mel Cucos)'],
      ['Police'],
      ['Police (SOC team)', 'SBC Sarah Pateman'],
      ['SBC Jane Konopka'],
    ]);
    expect(aim(read, '5.2').actions).toHaveLength(4);
  });

  it('splits progress into quarters, in separate rows and run together in one paragraph', () => {
    const refuge = aim(read, '2.2').actions[0]!;
    expect(quarterText(refuge, 1)).toBe(
      'Funding received to continue with the work with children in North Herts £10,000 from the Letchworth Heritage Foundation',
    );
    expect(quarterText(refuge, 3)).toMatch(/^Work has commenced with the food bank/);
    // 1.1's cell is one paragraph: "Q1 NMYS – … Hertfordshire. Q2 Officers … Q3 Promotion … Letchworth Q4"
    const noMoreYouth = aim(read, '1.1').actions[0]!;
    expect(noMoreYouth.progress.map((p) => p.quarter)).toEqual([1, 2, 3]);
    expect(quarterText(noMoreYouth, 1)).toBe(
      'NMYS – new leaflet completed and is being handing out by the team across Hertfordshire.',
    );
    expect(quarterText(noMoreYouth, 3)).toBe('Promotion of NMSY at Jackmans community day in Letchworth');
    // 3.1's third action takes the Q2 and Q3 rows under it.
    expect(aim(read, '3.1').actions[2]!.progress.map((p) => p.quarter)).toEqual([2, 3]);
    // A row that continues a cell over a page break is more of the quarter above it.
    expect(quarterText(aim(read, '3.1').actions[0]!, 3)).toBe(
      'Hate crime awareness week and black history month including hate including pitch\n\nside talk with Stevenage FC at Noble School.',
    );
    // Text with no quarter's mark is progress without a quarter.
    expect(quarterText(aim(read, '5.2').actions[2]!, null)).toMatch(
      /^We have recently reset up the ASB forum/,
    );
    // No status is written in the seed, so none is read.
    const statuses = aimsOf(read).flatMap((a) => a.actions.flatMap((c) => c.progress.map((p) => p.status)));
    expect(statuses.length).toBeGreaterThan(40);
    expect(new Set(statuses)).toEqual(new Set([null]));
  });

  it('takes an aim cell with no number, split over a page, as more of the aim above, and says so', () => {
    expect(aim(read, '5.0').title).toBe(
      'Promote the use of Crime Stoppers to report crimes anonymously, and encourage sign-ups to Herts Connected and Business Watch',
    );
    expect(aim(read, '5.0').actions).toHaveLength(2);
    expect(read.warnings).toContainEqual({
      table: 5,
      row: 5,
      message: expect.stringContaining('more of the title of aim 5.0'),
    });
  });

  it('reads the tables again with a heading taken another way', () => {
    const again = readWordPlan(document, {
      [headingKey('Lead')]: 'partners',
      [headingKey('Resources')]: 'ignore',
    });
    const refuge = aim(again, '2.2').actions[0]!;
    expect(refuge.leads).toEqual([]);
    expect(refuge.partners.map((p) => p.organisation)).toEqual([
      'SADA',
      'JAG members',
      'Police',
      'Community Safety',
      'Schools',
    ]);
    expect(refuge.resources).toEqual([]);
    expect(again.headings.find((h) => h.text === 'Lead')).toMatchObject({
      field: 'partners',
      recognised: 'lead',
    });
    expect(again.warnings).toContainEqual(
      expect.objectContaining({ table: 1, row: 1, message: expect.stringContaining('“Resources”') }),
    );
  });
});

describe('a Word plan the suite writes from the demo plan, headings in another order and spelling', () => {
  let read: WordPlanRead;
  beforeAll(async () => {
    read = readWordPlan(await documentOf(await demoWordPlan()));
  });

  it('recognises "Aims", "Lead(s)", "What will be done", "Partner Agencies", "Resource", "Expected Outcome(s)" and "Progress to Date"', () => {
    expect(read.headings.map((h) => [h.text, h.field])).toEqual([
      ['Aims', 'aim'],
      ['Lead(s)', 'lead'],
      ['What will be done', 'action'],
      ['Partner Agencies', 'partners'],
      ['Resource', 'resources'],
      ['Expected Outcome(s)', 'expectedOutcomes'],
      ['Progress to Date', 'progress'],
    ]);
    expect(read.warnings).toEqual([]);
  });

  it('reads back the demo plan: sections from merged heading rows, aims merged down over their actions', () => {
    const demo = demoPlanForWord();
    expect(read.sections.map((s) => [s.number, s.title])).toEqual(
      demo.sections.map((s) => [s.number, s.title]),
    );
    const paragraphs = (text: string) => text.replace(/\n+/g, '\n');
    for (const [s, section] of demo.sections.entries()) {
      for (const [a, demoAim] of section.aims.entries()) {
        const got = read.sections[s]!.aims[a]!;
        expect([got.number, got.title, got.addedOn]).toEqual([
          demoAim.number,
          demoAim.title,
          demoAim.addedOn ?? null,
        ]);
        expect(
          got.actions.map((action) => ({
            description: action.description,
            leads: action.leads,
            partners: action.partners,
            resources: action.resources,
            expectedOutcomes: action.expectedOutcomes,
            progress: action.progress.map((p) => ({ ...p, text: paragraphs(p.text) })),
          })),
          `aim ${demoAim.number}`,
        ).toEqual(
          demoAim.actions.map((action) => ({
            description: action.description,
            leads: action.leads,
            partners: action.partners,
            resources: action.resources,
            expectedOutcomes: action.expectedOutcomes,
            progress: action.progress.map((p) => ({
              quarter: p.quarter,
              text: paragraphs(p.text),
              status: p.status,
            })),
          })),
        );
      }
    }
  });

  it('reads a status written as "Status: On track" under a quarter’s progress', () => {
    expect(aim(read, '2.2').actions[0]!.progress[0]).toMatchObject({ quarter: 1, status: 'on_track' });
    expect(aim(read, '4.3').actions[0]!.progress.at(-1)).toMatchObject({ quarter: 4, status: 'complete' });
  });
});

describe('a Word document that is not a plan', () => {
  it('has tables, but none with the plan’s headings', async () => {
    const read = readWordPlan(await documentOf(await wordDocumentWithoutPlan()));
    expect(read.planTables).toEqual([]);
    expect(read.sections).toEqual([]);
  });

  it('is not a DOCX at all', async () => {
    const result = await readWordDocument(Buffer.from('Aim,Action,Lead\n1.1,Do it,SBC\n'));
    expect(result).toEqual({ ok: false, problem: expect.stringContaining('is not a Word document (.docx)') });
    // A zip, but a spreadsheet: mammoth finds no Word document in it.
    const workbook = new ExcelJS.Workbook();
    workbook.addWorksheet('Plan').addRow(['Aim', 'Action', 'Lead']);
    const xlsx = Buffer.from(await workbook.xlsx.writeBuffer());
    expect(xlsx.subarray(0, 2).toString()).toBe('PK');
    expect(await readWordDocument(xlsx)).toEqual({
      ok: false,
      problem: expect.stringContaining('is not a Word document (.docx)'),
    });
  });
});

describe('the reader’s parts', () => {
  it('recognises headings in any case and spacing, with punctuation and small misspellings', () => {
    const cases: [string, string | null][] = [
      ['AIM', 'aim'],
      ['Actions', 'action'],
      ['Lead(s)', 'lead'],
      ['Lead officer / agency', 'lead'],
      ['Partner Agencies', 'partners'],
      ['Partners involved', 'partners'],
      ['Resource', 'resources'],
      ['Resorces', 'resources'],
      ['Expected Outcome(s)', 'expectedOutcomes'],
      ['Expected  outcmes', 'expectedOutcomes'],
      ['Progress to Date', 'progress'],
      ['Progess to date', 'progress'],
      ['Progress to date (Q1–Q4)', 'progress'],
      ['Budget code', null],
      ['', null],
    ];
    for (const [heading, field] of cases) expect(recogniseHeading(heading), heading).toBe(field);
  });

  it('splits progress on quarter marks of several kinds, and leaves a mention of a quarter in a sentence alone', () => {
    expect(splitProgress('Q1 – Started\nQtr 2: Going\nQuarter 3. Nearly\nQ4')).toEqual({
      before: '',
      quarters: [
        { quarter: 1, text: 'Started' },
        { quarter: 2, text: 'Going' },
        { quarter: 3, text: 'Nearly' },
        { quarter: 4, text: '' },
      ],
    });
    expect(splitProgress('Agreed in April.\nQ1 The report will go to the board in Q3 as planned.')).toEqual({
      before: 'Agreed in April.',
      quarters: [{ quarter: 1, text: 'The report will go to the board in Q3 as planned.' }],
    });
    expect(splitProgress('Q1 Q2 Echo is now closed. Q3 Q4').quarters.map((q) => [q.quarter, q.text])).toEqual(
      [
        [1, ''],
        [2, 'Echo is now closed.'],
        [3, ''],
        [4, ''],
      ],
    );
  });

  it('reads a status only where it is stated as one', () => {
    expect(statusInProgress('Leaflets printed\nStatus: at risk')).toEqual({
      text: 'Leaflets printed',
      status: 'at_risk',
    });
    expect(statusInProgress('(On track) Leaflets printed')).toEqual({
      text: 'Leaflets printed',
      status: 'on_track',
    });
    expect(statusInProgress('Completed')).toEqual({ text: 'Completed', status: 'complete' });
    expect(statusInProgress('The work is on track for March')).toEqual({
      text: 'The work is on track for March',
      status: null,
    });
  });

  it('reads leads and partners with officers in brackets', () => {
    expect(parseWordParties('SBC (Will Peters/Mel Cucos/Maddy Heredia)')).toEqual([
      { organisation: 'SBC', officers: ['Will Peters', 'Mel Cucos', 'Maddy Heredia'] },
    ]);
    expect(parseWordParties('CCSU (Helen Whitehead) SBC\nPolice, Housing')).toEqual([
      { organisation: 'CCSU', officers: ['Helen Whitehead'] },
      { organisation: 'SBC', officers: [] },
      { organisation: 'Police', officers: [] },
      { organisation: 'Housing', officers: [] },
    ]);
    expect(parseWordParties('Intensive Family Support Team (IFST)')).toEqual([
      { organisation: 'Intensive Family Support Team (IFST)', officers: [] },
    ]);
  });

  it('reads aim cells and section headings', () => {
    expect(parseAimCell('Added August 2024\n4.1 Dangerous Dogs')).toEqual({
      number: '4.1',
      title: 'Dangerous Dogs',
      addedOn: '2024-08-01',
    });
    expect(parseAimCell('4.4. Expand "Evolve"')).toMatchObject({ number: '4.4', title: 'Expand "Evolve"' });
    expect(parseAimCell('Connected and Business Watch')).toMatchObject({ number: null });
    expect(parseSectionHeading('Section 2: Domestic abuse', { numberRequired: true })).toEqual({
      number: 2,
      title: 'Domestic abuse',
    });
    expect(parseSectionHeading('2.2 Expansion', { numberRequired: false })).toBeUndefined();
    expect(parseSectionHeading('Partnership principles', { numberRequired: true })).toBeUndefined();
  });

  it('spreads merged cells over the grid, and takes a row of one merged cell as a heading', () => {
    const document = documentFromHtml(
      '<p>Plan 2025/26</p><table>' +
        '<tr><td>Aim</td><td>Action</td><td>Lead</td><td>Progress</td></tr>' +
        '<tr><td colspan="4"><p>Section 3: Hate crime</p></td></tr>' +
        '<tr><td rowspan="2"><p>3.1 Report it</p></td><td><p>Leaflets</p></td><td rowspan="2">SBC</td><td>Q1 Printed</td></tr>' +
        '<tr><td>Events</td><td>Q2 Held</td></tr>' +
        '</table>',
    );
    expect(document.yearInText).toBe('2025/26');
    expect(document.tables[0]!.rows.map((r) => [r.wide, ...r.cells])).toEqual([
      [false, 'Aim', 'Action', 'Lead', 'Progress'],
      [true, 'Section 3: Hate crime', '', '', ''],
      [false, '3.1 Report it', 'Leaflets', 'SBC', 'Q1 Printed'],
      [false, '', 'Events', '', 'Q2 Held'],
    ]);
    const read = readWordPlan(document);
    expect(read.sections).toHaveLength(1);
    expect(read.sections[0]).toMatchObject({ number: 3, title: 'Hate crime' });
    expect(
      read.sections[0]!.aims[0]!.actions.map((c) => [c.description, leadNames(c), c.progress[0]?.quarter]),
    ).toEqual([
      ['Leaflets', ['SBC'], 1],
      ['Events', [], 2],
    ]);
  });

  it('makes a section for aims with no heading above them, and warns of a row it cannot place', () => {
    const read = readWordPlan(
      documentFromHtml(
        '<table><tr><td>Aim</td><td>Action</td><td>Lead</td></tr>' +
          '<tr><td></td><td>Orphan action</td><td>SBC</td></tr>' +
          '<tr><td>2.1 An aim</td><td>Do it</td><td>Police</td></tr></table>',
      ),
    );
    expect(read.sections.map((s) => [s.number, s.title, s.madeForAims])).toEqual([[2, 'Section 2', true]]);
    expect(read.warnings.map((w) => [w.table, w.row])).toEqual([
      [1, 2],
      [1, 3],
    ]);
    expect(read.warnings[0]!.message).toContain('no aim above this action');
  });
});
