import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { PLAN_CSV_COLUMNS, readPlanCsv, writePlanCsv } from '../../src/documents/plan-csv.js';
import { planSchema } from '../../src/domain/plan-file.js';
import { demoPlan, tableOf } from '../support/demo-plan.js';

function read(text: string) {
  return readPlanCsv(text, { year: '2024/25' });
}

/** The problems, as the command line prints them: where, and what. */
function problemsOf(text: string) {
  const result = read(text);
  if (result.ok) throw new Error('expected problems');
  return result.problems.map(({ where, message }) => ({ where, message }));
}

const HEADER = 'Section,Section title,Aim,Aim title,Aim added on,Action,Lead,Q1 progress,Q1 status';

describe('writePlanCsv', () => {
  const plan = demoPlan();
  const text = writePlanCsv(plan);
  const rows = parse(text, { bom: true, columns: true }) as Record<string, string>[];

  it('writes UTF-8 with a byte-order mark, CRLF line ends and the Word plan columns', () => {
    expect(
      text.startsWith('\uFEFFSection,Section title,Aim,Aim title,Aim added on,Action,Lead,Partners,'),
    ).toBe(true);
    expect(text.split('\r\n')[0]).toBe(`\uFEFF${PLAN_CSV_COLUMNS.join(',')}`);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(PLAN_CSV_COLUMNS.slice(-2)).toEqual(['Progress without a quarter', 'Action id']);
  });

  it('writes one row per action, and one row for an aim with no actions', () => {
    expect(rows).toHaveLength(34 + 1);
    const aim57 = rows.filter((r) => r.Aim === '5.7');
    expect(aim57).toHaveLength(1);
    expect(aim57[0]).toMatchObject({ Section: '5', Action: '', Lead: '', 'Q1 progress': '' });
    expect(aim57[0]!['Aim title']).toMatch(/^Home Office Anti-Social Behaviour/);
  });

  it('puts one item a line in multi-item cells, leads and partners as "Organisation: officer; officer"', () => {
    const aim40 = rows.filter((r) => r.Aim === '4.0');
    expect(aim40[1]!.Lead).toBe('SBC: Maddy Heredia\nSBC: Mel Cucos');
    expect(aim40[0]!.Lead).toBe('SBC: Will Peters; Mel Cucos; Maddy Heredia');
    const aim11 = rows.find((r) => r.Aim === '1.1')!;
    expect(aim11.Resources).toBe('Leaflets\nPosters\nSocial Media Campaigns\nVisits to schools\nEvents');
    expect(aim11['Q1 progress']).toMatch(/^NMYS – new leaflet/);
    expect(rows.find((r) => r.Aim === '4.1')!['Aim added on']).toBe('2024-08-01');
  });

  it('writes status labels, and keeps cells a spreadsheet would run as formulas from running', () => {
    const small = planSchema.parse({
      year: '2025/26',
      title: 'Action plan 2025/26',
      sections: [
        {
          number: 1,
          title: 'Divert young people',
          aims: [
            {
              number: '1.1',
              title: 'Promote the service',
              addedOn: null,
              actions: [
                {
                  description: '=HYPERLINK("http://evil.example","click")',
                  resources: ['-5% budget', '+ posters'],
                  progress: [
                    { quarter: 2, text: '@everyone was told', status: 'on_track' },
                    { quarter: 4, text: 'Done', status: 'complete' },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
    const written = writePlanCsv(small);
    const [row] = parse(written, { bom: true, columns: true }) as Record<string, string>[];
    expect(row).toMatchObject({
      Action: `'=HYPERLINK("http://evil.example","click")`,
      'Q2 progress': "'@everyone was told",
      'Q2 status': 'On track',
      'Q4 status': 'Complete',
      'Q1 status': '',
    });
    const back = readPlanCsv(written, { year: '2025/26', title: small.title });
    expect(back).toMatchObject({ ok: true, plan: small });
    if (back.ok) expect(back.plan).toEqual(small);
  });
});

describe('readPlanCsv', () => {
  it('reads back the demo plan: sections, aims, actions and progress', () => {
    const plan = demoPlan();
    const result = readPlanCsv(writePlanCsv(plan), { year: '2024/25', title: plan.title });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(tableOf(result.plan)).toEqual(tableOf(plan));
    expect(result.plan).toMatchObject({
      year: '2024/25',
      title: 'Action plan 2024/25',
      headlineAims: [],
      priorities: [],
      objectives: [],
    });
    // Aim 5.7's delivery principles are not part of the CSV.
    expect(plan.sections[4]!.aims.at(-1)!.deliveryPrinciples.length).toBeGreaterThan(0);
  });

  it('reads what a spreadsheet saves: no BOM, LF line ends, columns in another order, blank rows, UK dates', () => {
    const text = [
      'Aim,Section,Section title,Aim title,Action,Aim added on,Q1 status,Q1 progress,Lead',
      '1.1,1,Divert young people,Promote the service,Visit schools,01/08/2024,on track,Two visits,"SBC: Ann; Bo',
      'Police"',
      ',,,,,,,,',
      '',
      '1.2,1,Divert young people,Educate young people,,,,,',
    ].join('\n');
    const result = readPlanCsv(text, { year: '2024-25' });
    expect(result).toMatchObject({
      ok: true,
      plan: expect.objectContaining({
        year: '2024/25',
        title: 'Action plan 2024/25',
        sections: [
          {
            number: 1,
            title: 'Divert young people',
            aims: [
              {
                number: '1.1',
                title: 'Promote the service',
                addedOn: '2024-08-01',
                deliveryPrinciples: [],
                actions: [
                  {
                    description: 'Visit schools',
                    leads: [
                      { organisation: 'SBC', officers: ['Ann', 'Bo'] },
                      { organisation: 'Police', officers: [] },
                    ],
                    partners: [],
                    resources: [],
                    expectedOutcomes: [],
                    progress: [{ quarter: 1, text: 'Two visits', status: 'on_track' }],
                  },
                ],
              },
              {
                number: '1.2',
                title: 'Educate young people',
                addedOn: null,
                deliveryPrinciples: [],
                actions: [],
              },
            ],
          },
        ],
      }),
    });
  });

  it('gathers the rows of one aim into its actions, in order', () => {
    const text = [
      'Section,Section title,Aim,Aim title,Action',
      '3,Hate crime,3.1,Promote reporting,First',
      '3,Hate crime,3.2,Train staff,Other',
      '3,Hate crime,3.1,Promote reporting,Second',
    ].join('\r\n');
    const result = read(text);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.plan.sections[0]!.aims.map((a) => [a.number, a.actions.map((c) => c.description)])).toEqual(
      [
        ['3.1', ['First', 'Second']],
        ['3.2', ['Other']],
      ],
    );
  });

  describe('problems', () => {
    it('a missing required column', () => {
      expect(problemsOf('Section,Section title,Aim,Action\r\n1,Divert,1.1,Visit\r\n')).toEqual([
        { where: 'line 1', message: 'missing column "Aim title"' },
      ]);
    });

    it('an unknown column, and an unknown quarter', () => {
      const problems = problemsOf(`${HEADER},Notes,Q5 progress\r\n1,Divert,1.1,Promote,,Visit,,,,,\r\n`);
      expect(problems).toHaveLength(2);
      expect(problems[0]).toMatchObject({ where: 'line 1, column "Notes"' });
      expect(problems[0]!.message).toMatch(
        /^unknown column "Notes": the columns are Section, Section title, /,
      );
      expect(problems[1]).toEqual({
        where: 'line 1, column "Q5 progress"',
        message: 'unknown quarter Q5: the quarters are Q1 to Q4',
      });
    });

    it('a bad aim number', () => {
      expect(problemsOf(`${HEADER}\r\n1,Divert,1.a,Promote,,Visit,,,\r\n`)).toEqual([
        { where: 'line 2, column "Aim"', message: '"1.a" is not an aim number: write it like "3.1"' },
      ]);
    });

    it('an aim number used for two aims', () => {
      expect(
        problemsOf(`${HEADER}\r\n1,Divert,1.1,Promote,,Visit,,,\r\n1,Divert,1.1,Educate,,Talk,,,\r\n`),
      ).toEqual([
        {
          where: 'line 3, column "Aim"',
          message: 'aim 1.1 is "Promote" on line 2, but "Educate" here: one number, one aim',
        },
      ]);
    });

    it('an aim number not in its section', () => {
      expect(problemsOf(`${HEADER}\r\n1,Divert,2.1,Promote,,Visit,,,\r\n`)).toEqual([
        { where: 'line 2, column "Aim"', message: 'aim 2.1 is not in section 1: its number must start "1."' },
      ]);
    });

    it('a bad status', () => {
      expect(problemsOf(`${HEADER}\r\n1,Divert,1.1,Promote,,Visit,,Two visits,Going well\r\n`)).toEqual([
        {
          where: 'line 2, column "Q1 status"',
          message:
            'unknown status "Going well": use one of: Not started, On track, At risk, Off track, Complete',
        },
      ]);
    });

    it('a bad date', () => {
      expect(problemsOf(`${HEADER}\r\n1,Divert,1.1,Promote,2024-02-30,Visit,,,\r\n`)).toEqual([
        {
          where: 'line 2, column "Aim added on"',
          message: '"2024-02-30" is not a date: write it as YYYY-MM-DD, like 2024-08-01',
        },
      ]);
    });

    it('counts the lines of multi-line cells, so a problem names the line its row starts on', () => {
      const text = [
        HEADER,
        '1,Divert,1.1,Promote,,"Visit schools',
        'Send messages',
        'Make posters","SBC: Ann',
        'Police",Q1 text,On track',
        '',
        '1,Divert,1.2,Educate,soon,Talk,,,',
      ];
      const expected = [
        {
          where: 'line 7, column "Aim added on"',
          message: '"soon" is not a date: write it as YYYY-MM-DD, like 2024-08-01',
        },
      ];
      expect(problemsOf(text.join('\r\n'))).toEqual(expected);
      expect(problemsOf(text.join('\n'))).toEqual(expected);
    });

    it('reports every problem in the file, not just the first', () => {
      const text = [
        `${HEADER},Q5 status`,
        '1,Divert,1.1,Promote,,Visit,,Two visits,Going well,',
        '1,Divert,1.1,Educate,,Talk,,,,',
        'one,Divert,1.2,Teach,,Talk,,,,',
        '2,Support,2.x,Refuge,August,,SADA,,,',
      ].join('\r\n');
      expect(problemsOf(text)).toEqual([
        { where: 'line 1, column "Q5 status"', message: 'unknown quarter Q5: the quarters are Q1 to Q4' },
        {
          where: 'line 2, column "Q1 status"',
          message:
            'unknown status "Going well": use one of: Not started, On track, At risk, Off track, Complete',
        },
        {
          where: 'line 3, column "Aim"',
          message: 'aim 1.1 is "Promote" on line 2, but "Educate" here: one number, one aim',
        },
        {
          where: 'line 4, column "Section"',
          message: '"one" is not a section number: write a whole number from 1 to 99, like 3',
        },
        { where: 'line 5, column "Action"', message: 'is empty, but the row gives "Lead"' },
        { where: 'line 5, column "Aim"', message: '"2.x" is not an aim number: write it like "3.1"' },
        {
          where: 'line 5, column "Aim added on"',
          message: '"August" is not a date: write it as YYYY-MM-DD, like 2024-08-01',
        },
      ]);
    });

    it('a status with no progress, and a value outside the named columns', () => {
      expect(
        problemsOf(
          `${HEADER},\r\n1,Divert,1.1,Promote,,Visit,,,At risk,,\r\n1,Divert,1.2,Teach,,Talk,,,,x\r\n`,
        ),
      ).toEqual([
        { where: 'line 2', message: 'has 11 cells but the header names 10 columns' },
        { where: 'line 2, column "Q1 status"', message: 'gives a status but "Q1 progress" is empty' },
        { where: 'line 3', message: 'has a value in column 10, which has no name' },
      ]);
    });

    it('text that is not CSV, an empty file, and a bad plan year', () => {
      expect(problemsOf(`${HEADER}\r\n1,Divert,1.1,"Promote,,Visit\r\n`)).toEqual([
        { where: expect.stringMatching(/^line \d+$/), message: expect.stringMatching(/^is not valid CSV: /) },
      ]);
      expect(problemsOf('')).toEqual([{ where: 'the file', message: 'is empty' }]);
      expect(problemsOf(`${HEADER}\r\n`)).toEqual([
        { where: 'the file', message: 'has no rows after the header: nothing to import' },
      ]);
      expect(readPlanCsv(`${HEADER}\r\n1,Divert,1.1,Promote,,Visit,,,\r\n`, { year: '2024/26' })).toEqual({
        ok: false,
        problems: [{ where: 'the plan year', message: '"2024/26" is not a plan year like "2024/25"' }],
      });
    });
  });
});
