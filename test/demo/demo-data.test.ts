/**
 * The demo plan file is the SoSafe Stevenage 2024/25 action plan, transcribed by hand from the
 * text extracted from its Word document (test/fixtures/sosafe-action-plan-2024-25.txt, a byte-for-byte
 * copy of the seed). These tests prove the transcription is faithful: every text in the JSON is found,
 * word for word, in the part of the seed it was taken from, and every quarter label in the seed is
 * accounted for.
 */
import fs from 'node:fs';
import { describe, it, expect } from 'vitest';
import { checkPlanFile, type PlanFile, type PlanFileAim } from '../../src/domain/plan-file.js';

const json: unknown = JSON.parse(
  fs.readFileSync(new URL('../../src/demo/sosafe-2024-25.json', import.meta.url), 'utf8'),
);
const seedText = fs.readFileSync(
  new URL('../fixtures/sosafe-action-plan-2024-25.txt', import.meta.url),
  'utf8',
);

/**
 * Words Word split when the text was extracted: a superscript ordinal ("3<sup>rd</sup>") comes out as
 * "3 rd". The transcription writes the word as the document shows it, so the seed is repaired the same way.
 */
const EXTRACTION_SPLIT_WORDS: ReadonlyArray<readonly [string, string]> = [['3 rd', '3rd']];

/** Removes the extraction noise (<p> tags, ** bold markers, tabs, row breaks) and collapses whitespace. */
function normalise(text: string): string {
  return text
    .replace(/<\/?p>/g, ' ')
    .replace(/\*\*/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function normaliseSeed(text: string): string {
  let out = normalise(text);
  for (const [split, word] of EXTRACTION_SPLIT_WORDS) out = out.split(split).join(word);
  return out;
}

const seed = normaliseSeed(seedText);

function loadFile(): PlanFile {
  const result = checkPlanFile(json);
  if (!result.ok) throw new Error(`demo plan file is invalid: ${JSON.stringify(result.problems, null, 2)}`);
  return result.file;
}

const file = loadFile();
const plan = file.plans[0]!;
const aims: PlanFileAim[] = plan.sections.flatMap((section) => section.aims);
const aimByNumber = new Map(aims.map((aim) => [aim.number, aim]));

function aim(number: string): PlanFileAim {
  const found = aimByNumber.get(number);
  if (!found) throw new Error(`no aim ${number}`);
  return found;
}

const AIM_NUMBERS = [
  '1.1', '1.2', '1.3',
  '2.1', '2.2', '2.3', '2.4',
  '3.1',
  '4.0', '4.1', '4.2', '4.3', '4.4',
  '5.0', '5.1', '5.2', '5.3', '5.4', '5.5', '5.6', '5.7',
]; // prettier-ignore

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The seed cut into one piece of text per aim: from the aim's number (the seed writes "4.4.") and the
 * first word of its title to the next aim, the last one ending at "Partnership principles". A text found
 * in its aim's piece was taken from that aim's rows, not from anywhere in the plan.
 */
const seedByAim: Map<string, string> = (() => {
  const starts: Array<[string, number]> = [];
  let from = 0;
  for (const number of AIM_NUMBERS) {
    const firstWord = aim(number).title.split(' ')[0]!;
    const marker = new RegExp(`(?:^| )${escapeRegExp(number)}\\.? ${escapeRegExp(firstWord)}`, 'g');
    marker.lastIndex = from;
    const match = marker.exec(seed);
    if (!match) throw new Error(`aim ${number} not found in the seed`);
    starts.push([number, match.index]);
    from = match.index + match[0].length;
  }
  const end = seed.indexOf('Partnership principles', from);
  if (end < 0) throw new Error('"Partnership principles" not found in the seed');
  return new Map(
    starts.map(([number, start], i) => [number, seed.slice(start, starts[i + 1]?.[1] ?? end)] as const),
  );
})();

function seedOf(aimNumber: string): string {
  const piece = seedByAim.get(aimNumber);
  if (piece === undefined) throw new Error(`no seed piece for aim ${aimNumber}`);
  return piece;
}

/**
 * Texts the seed splits across table rows with other cells in between, so that collapsing the row
 * breaks does not join them: each is listed with the parts the seed holds, in order.
 */
const SPLIT_BY_OTHER_CELLS: Record<string, string[]> = {
  // The aim title's cell ran over two rows; the second row's Action, Resources and Outcomes cells and
  // the empty Q1–Q3 labels come between "Herts" and "Connected".
  'aim 5.0 title': [
    'Promote the use of Crime Stoppers to report crimes anonymously, and encourage sign-ups to Herts',
    'Connected and Business Watch',
  ],
  // Q1's second paragraph is in the next row, after that row's Action, Lead and Partners cells.
  'aim 4.4 action 1 Q1': [
    'Q1 Evolve youth program, now offered across Herts as part of the NMYS',
    'Two houses for the Evolve perpetrator programme are up and running.',
  ],
};

/**
 * The format treats organisation names differing only in case as one organisation, so the plan's
 * "JAG Members" (1.2 and 1.3 partners) is listed under its usual spelling "JAG members".
 */
const SAME_BUT_FOR_CASE: Record<string, string> = { 'JAG members': 'JAG Members' };

/** Asserts that a JSON text is in the seed piece, word for word (or in its listed parts, in order). */
function expectFrom(piece: string, text: string, label: string): void {
  const parts = SPLIT_BY_OTHER_CELLS[label];
  if (parts) {
    expect(normalise(parts.join(' ')), `${label}: the listed parts are the whole text`).toBe(normalise(text));
    let from = 0;
    for (const part of parts) {
      const at = piece.indexOf(normalise(part), from);
      expect(at, `${label}: "${part}" is in the seed after the part before it`).toBeGreaterThanOrEqual(0);
      from = at + normalise(part).length;
    }
    return;
  }
  expect(piece.includes(normalise(text)), `${label}: "${text}" is in the seed`).toBe(true);
}

function progressLabel(aimNumber: string, actionIndex: number, quarter: number | null): string {
  return `aim ${aimNumber} action ${actionIndex + 1} ${quarter === null ? 'undated' : `Q${quarter}`}`;
}

/** A text's lines and paragraphs: the items of a multi-item cell, the paragraphs of progress. */
function lines(text: string): string[] {
  return text.split(/\n+/);
}

/** Every text a reader sees, for the noise checks. */
function allTexts(): string[] {
  const texts: string[] = [
    file.partnership.name,
    file.partnership.principlesIntro ?? '',
    ...file.organisations.map((o) => o.name),
    ...file.people.map((p) => p.name),
    ...file.principles.map((p) => p.text),
    ...file.glossary.flatMap((g) => [g.term, g.meaning]),
    plan.title,
    plan.headlineAimsIntro ?? '',
    ...plan.headlineAims,
    plan.prioritiesIntro ?? '',
    ...plan.priorities.flatMap((p) => [p.title, p.description ?? '']),
    plan.objectivesIntro ?? '',
    ...plan.objectives.map((o) => o.text),
    ...plan.howThePlanIsKept,
  ];
  for (const section of plan.sections) {
    texts.push(section.title);
    for (const a of section.aims) {
      texts.push(a.title);
      for (const d of a.deliveryPrinciples) texts.push(d.principle, d.response);
      for (const action of a.actions) {
        texts.push(action.description, ...action.resources, ...action.expectedOutcomes);
        for (const party of [...action.leads, ...action.partners])
          texts.push(party.organisation, ...party.officers);
        texts.push(...action.progress.map((p) => p.text));
      }
    }
  }
  return texts.filter((t) => t !== '');
}

describe('the SoSafe 2024/25 demo plan file', () => {
  it('is a valid plan file', () => {
    const result = checkPlanFile(json);
    expect(result.ok ? [] : result.problems).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it('has the seed copy in the fixtures, the words of the plan', () => {
    expect(seedText).toContain('Action plan 2024/25');
    expect(seedText).toContain('Partnership principles');
  });

  describe('counts', () => {
    it('holds one plan, 2024/25, with its headline aims, priorities, objectives and sections', () => {
      expect(file.plans).toHaveLength(1);
      expect(plan.year).toBe('2024/25');
      expect(plan.headlineAims).toHaveLength(2);
      expect(plan.priorities).toHaveLength(7);
      expect(plan.objectives.map((o) => o.number)).toEqual([1, 2, 3, 4, 5]);
      expect(plan.howThePlanIsKept).toHaveLength(4);
      expect(plan.sections.map((s) => s.number)).toEqual([1, 2, 3, 4, 5]);
    });

    it('has exactly the 21 aims of the plan, in order', () => {
      expect(aims.map((a) => a.number)).toEqual(AIM_NUMBERS);
    });

    it('has 11 partnership principles', () => {
      expect(file.principles.map((p) => p.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    });

    it('has every abbreviation in the table at the end of the plan (22: eleven rows of two)', () => {
      const table = seedText.slice(seedText.indexOf('Abbreviations'));
      const rows = table
        .split('\n')
        .slice(1)
        .filter((line) => line.trim() !== '');
      const fromSeed = rows.flatMap((row) => {
        const [t1, m1, t2, m2] = row.split('\t');
        return [
          { term: t1, meaning: m1 },
          { term: t2, meaning: m2 },
        ];
      });
      expect(fromSeed).toHaveLength(22);
      expect(file.glossary).toHaveLength(22);
      expect([...file.glossary].sort((a, b) => a.term.localeCompare(b.term))).toEqual(
        [...fromSeed].sort((a, b) => String(a.term).localeCompare(String(b.term))),
      );
    });

    it('answers the five Home Office ASB local delivery principles in aim 5.7, which has no actions', () => {
      expect(aim('5.7').deliveryPrinciples.map((d) => d.number)).toEqual([1, 2, 3, 4, 5]);
      expect(aim('5.7').actions).toEqual([]);
      for (const a of aims.filter((x) => x.number !== '5.7'))
        expect(a.deliveryPrinciples, a.number).toEqual([]);
    });

    it('marks 4.1 Dangerous Dogs as added in August 2024, and no other aim', () => {
      expect(aim('4.1').addedOn).toBe('2024-08-01');
      expect(aim('4.1').title).toBe('Dangerous Dogs');
      expect(aims.filter((a) => a.addedOn).map((a) => a.number)).toEqual(['4.1']);
    });

    it('has one action for each table row with an Action cell', () => {
      const actionsPerAim: Record<string, number> = {
        '1.1': 1, '1.2': 1, '1.3': 1,
        '2.1': 1, '2.2': 1, '2.3': 1, '2.4': 1,
        '3.1': 3,
        '4.0': 2, '4.1': 1, '4.2': 4, '4.3': 1, '4.4': 2,
        '5.0': 2, '5.1': 1, '5.2': 4, '5.3': 2, '5.4': 1, '5.5': 3, '5.6': 1, '5.7': 0,
      }; // prettier-ignore
      expect(Object.fromEntries(aims.map((a) => [a.number, a.actions.length]))).toEqual(actionsPerAim);
      expect(aim('3.1').actions).toHaveLength(3);
      expect(aim('4.2').actions).toHaveLength(4);
    });
  });

  describe('fidelity to the seed', () => {
    it('keeps the front matter word for word', () => {
      const texts = [
        plan.title,
        plan.headlineAimsIntro ?? '',
        ...plan.headlineAims,
        plan.prioritiesIntro ?? '',
        ...plan.priorities.map((p) => p.description ?? p.title),
        plan.objectivesIntro ?? '',
        ...plan.howThePlanIsKept,
        file.partnership.principlesIntro ?? '',
      ];
      for (const text of texts) expectFrom(seed, text, 'front matter');
      for (const o of plan.objectives) expectFrom(seed, `${o.number}. ${o.text}`, `objective ${o.number}`);
      for (const s of plan.sections) expectFrom(seed, `${s.number}. ${s.title}`, `section ${s.number}`);
    });

    it('keeps the partnership principles and the abbreviations word for word', () => {
      const principles = seed.slice(seed.indexOf('Partnership principles'));
      for (const p of file.principles)
        expectFrom(principles, `${p.number}. ${p.text}`, `principle ${p.number}`);
      const abbreviations = seed.slice(seed.indexOf('Abbreviations'));
      for (const g of file.glossary)
        expectFrom(abbreviations, `${g.term} ${g.meaning}`, `glossary ${g.term}`);
    });

    it('takes the priorities as written, Fraud with its full sentence', () => {
      expect(plan.priorities.map((p) => p.title)).toEqual([
        'All ASB',
        'Serious violence',
        'Cuckooing',
        'Drugs possession and associated crime, which includes trafficking, cuckooing and knife crime',
        'VAWG, including domestic abuse sexual assaults, rape, and stalking & harassment',
        'County lines and Serious & Organised Crime (SOC)',
        'Fraud',
      ]);
      expect(plan.priorities[6]!.description).toBe(
        'Fraud has been added following strategic conversations at the SoSafe meeting',
      );
      expect(plan.priorities.slice(0, 6).map((p) => p.description ?? null)).toEqual(Array(6).fill(null));
      for (const p of plan.priorities) expect(p.aims.length, p.title).toBeGreaterThan(0);
    });

    it("finds every aim title and every action's texts in its own aim's rows", () => {
      for (const a of aims) {
        const piece = seedOf(a.number);
        expectFrom(piece, a.title, `aim ${a.number} title`);
        a.actions.forEach((action, i) => {
          const where = `aim ${a.number} action ${i + 1}`;
          for (const item of action.description.split('\n')) expectFrom(piece, item, `${where} description`);
          for (const item of action.resources) expectFrom(piece, item, `${where} resource`);
          for (const item of action.expectedOutcomes) expectFrom(piece, item, `${where} expected outcome`);
          for (const party of [...action.leads, ...action.partners]) {
            for (const officer of party.officers) expectFrom(piece, officer, `${where} officer`);
          }
        });
      }
    });

    it("finds every progress entry, after its quarter label, in its own aim's rows", () => {
      for (const a of aims) {
        a.actions.forEach((action, i) => {
          for (const p of action.progress) {
            const label = progressLabel(a.number, i, p.quarter);
            expectFrom(seedOf(a.number), p.quarter === null ? p.text : `Q${p.quarter} ${p.text}`, label);
          }
        });
      }
    });

    it('gives each progress entry to the action whose row it starts on or below', () => {
      for (const a of aims) {
        const piece = seedOf(a.number);
        const starts = a.actions.map((action) =>
          piece.indexOf(normalise(action.description.split('\n')[0]!)),
        );
        expect(starts, `aim ${a.number}: actions in the seed's order`).toEqual(
          [...starts].sort((x, y) => x - y),
        );
        a.actions.forEach((action, i) => {
          const end = starts[i + 1] ?? piece.length;
          for (const p of action.progress) {
            const label = progressLabel(a.number, i, p.quarter);
            // A text split by other cells starts in its action's rows; its later parts may run on below.
            const first =
              SPLIT_BY_OTHER_CELLS[label]?.[0] ?? (p.quarter === null ? p.text : `Q${p.quarter} ${p.text}`);
            const at = piece.indexOf(normalise(first), starts[i]);
            expect(at >= starts[i]! && at < end, `${label} lies under its action`).toBe(true);
          }
        });
      }
    });

    it("finds every delivery principle and the partnership's response in aim 5.7's rows", () => {
      for (const d of aim('5.7').deliveryPrinciples) {
        expectFrom(seedOf('5.7'), `${d.number}. ${d.principle}`, `delivery principle ${d.number}`);
        expectFrom(seedOf('5.7'), `${d.principle} ${d.response}`, `delivery principle ${d.number} response`);
      }
    });

    it('names organisations as the plan writes them', () => {
      for (const a of aims) {
        const piece = seedOf(a.number);
        for (const action of a.actions) {
          for (const party of [...action.leads, ...action.partners]) {
            const spellings = [party.organisation, SAME_BUT_FOR_CASE[party.organisation]].filter(Boolean);
            expect(
              spellings.some((s) => piece.includes(normalise(s!))),
              `aim ${a.number}: organisation "${party.organisation}" is in its rows`,
            ).toBe(true);
          }
        }
      }
      // Different spellings of what may be one body stay apart, as written.
      const names = file.organisations.map((o) => o.name);
      expect(names).toEqual(expect.arrayContaining(['Youth Connections', 'Youth Connexions']));
      expect(names).toEqual(
        expect.arrayContaining(['Herts Road Safety Partnership', 'Hertfordshire Road Safety Partnership']),
      );
    });

    it('loses nothing: with every JSON text taken out of the seed, only labels and cell punctuation are left', () => {
      const taken: string[] = [
        ...plan.objectives.map((o) => `${o.number}. ${o.text}`),
        ...file.principles.map((p) => `${p.number}. ${p.text}`),
        ...file.glossary.map((g) => `${g.term} ${g.meaning}`),
        ...plan.sections.map((s) => `${s.number}. ${s.title}`),
        ...aim('5.7').deliveryPrinciples.map((d) => `${d.number}. ${d.principle}`),
        ...plan.priorities.map((p) => p.description ?? p.title),
        ...Object.values(SPLIT_BY_OTHER_CELLS).flat(),
        ...Object.values(SAME_BUT_FOR_CASE),
        ...allTexts().flatMap(lines),
      ];
      let rest = seed;
      const byLength = [...new Set(taken.map(normalise))].sort((a, b) => b.length - a.length);
      for (const text of byLength) rest = rest.split(text).join(' | ');
      const left = rest
        .replace(/Aim Action Lead Partners Resources Expected outcomes Progress to date/g, ' ')
        .replace(/Added August 2024|Partnership principles|Abbreviations/g, ' ') // held as addedOn and as lists
        .replace(/\bQ[1-4]\b/g, ' ') // quarter labels, counted below
        .replace(/\b\d\.\d\.?(?=\s+\|)/g, ' ') // aim numbers before their titles ("4.4." as the seed writes it)
        .replace(/\band\b/g, ' ') // "Herts Fire and Rescue SASH and Youth Offending Team"
        .replace(/[\s|()/,.-]+/g, ' ')
        .trim();
      expect(left).toBe('');
    });

    it('leaves no extraction noise in any text', () => {
      for (const text of allTexts()) {
        expect(text, text).not.toMatch(/\n{3}|^\s|\s$/);
        for (const line of lines(text)) {
          expect(line, line).not.toMatch(/<\/?p>|\*\*|\t|^- |^\s|\s$| {2}/);
          expect(line, line).not.toMatch(/^Q[1-4]\b/);
        }
      }
    });
  });

  describe('quarter labels', () => {
    /**
     * By hand from the seed: per aim, the quarter labels followed by progress ("filled") and those
     * with nothing after them ("empty"), and progress written without a quarter label ("undated").
     */
    const QUARTER_LABELS: Record<string, { filled: number[]; empty: number[]; undated: number }> = {
      '1.1': { filled: [1, 2, 3], empty: [4], undated: 0 },
      '1.2': { filled: [1, 2, 3], empty: [4], undated: 0 },
      '1.3': { filled: [1, 2], empty: [3, 4], undated: 0 },
      '2.1': { filled: [1, 2], empty: [3, 4], undated: 0 },
      '2.2': { filled: [1, 2, 3], empty: [4], undated: 0 },
      '2.3': { filled: [1, 2, 3], empty: [4], undated: 0 },
      '2.4': { filled: [1], empty: [2, 3, 4], undated: 0 },
      '3.1': { filled: [1, 2, 3, 1, 2, 3], empty: [4, 4], undated: 0 },
      '4.0': { filled: [1, 2, 3], empty: [4], undated: 0 },
      '4.1': { filled: [1, 2, 3], empty: [4], undated: 0 },
      '4.2': { filled: [1, 2, 3], empty: [4], undated: 0 },
      '4.3': { filled: [1, 2, 3, 4], empty: [], undated: 0 },
      '4.4': { filled: [1, 2], empty: [3, 4], undated: 0 },
      '5.0': { filled: [], empty: [1, 2, 3, 4], undated: 0 },
      '5.1': { filled: [1, 2, 3], empty: [4], undated: 0 },
      '5.2': { filled: [2], empty: [1, 3, 4], undated: 2 },
      '5.3': { filled: [1, 2, 3], empty: [4], undated: 0 },
      '5.4': { filled: [1, 2, 3], empty: [4], undated: 0 },
      '5.5': { filled: [1, 2, 3], empty: [4], undated: 0 },
      '5.6': { filled: [3], empty: [1, 2, 4], undated: 0 },
      '5.7': { filled: [], empty: [], undated: 0 },
    };

    /** Quarters named inside action texts, which are not progress labels. */
    const NOT_LABELS: Record<string, string[]> = {
      '4.2': ['report for SoSafe in Q3'],
      '5.3': ['taken to SoSafe meeting Q4'],
      '5.5': ['reviewed by SoSafe Q3'],
    };

    function tally(quarters: Array<number | null>): Record<string, number> {
      const counts: Record<string, number> = {};
      for (const q of quarters) counts[String(q)] = (counts[String(q)] ?? 0) + 1;
      return counts;
    }

    it('covers every aim', () => {
      expect(Object.keys(QUARTER_LABELS)).toEqual(AIM_NUMBERS);
    });

    it('matches the labels found in the seed, aim by aim and quarter by quarter', () => {
      for (const number of AIM_NUMBERS) {
        let piece = seedOf(number);
        for (const phrase of NOT_LABELS[number] ?? []) {
          expect(piece, `aim ${number}: "${phrase}"`).toContain(phrase);
          piece = piece.split(phrase).join('');
        }
        const inSeed = [...piece.matchAll(/\bQ([1-4])\b/g)].map((m) => Number(m[1]));
        const expected = QUARTER_LABELS[number]!;
        expect(tally(inSeed), `aim ${number}`).toEqual(tally([...expected.filled, ...expected.empty]));
      }
    });

    it('has one progress entry for every filled label and one undated entry for each unlabelled progress', () => {
      for (const a of aims) {
        const expected = QUARTER_LABELS[a.number]!;
        const inJson = a.actions.flatMap((action) => action.progress.map((p) => p.quarter));
        expect(tally(inJson), `aim ${a.number}`).toEqual(
          tally([...expected.filled, ...Array<null>(expected.undated).fill(null)]),
        );
      }
    });

    it('records no status the plan does not give', () => {
      for (const a of aims) {
        for (const action of a.actions) for (const p of action.progress) expect(p.status).toBeNull();
      }
    });
  });

  describe('spot checks', () => {
    it('1.1: its run-together cells split into items, and its progress', () => {
      const [action] = aim('1.1').actions;
      expect(action!.description.split('\n')).toEqual([
        'Visiting schools and other services to advertise the service',
        'Send messages out via social media',
        'Create posters and leaflets to hand out to individuals we are working',
        'Produce videos on the service to share with partners',
        'No More Youth team to visit schools in Stevenage to support pupils and teachers',
        'Look at funding opportunities for 2025/26',
      ]);
      expect(action!.resources).toEqual([
        'Leaflets',
        'Posters',
        'Social Media Campaigns',
        'Visits to schools',
        'Events',
      ]);
      expect(action!.partners.map((p) => p.organisation)).toEqual([
        'Police',
        'Community Development',
        'GP surgeries',
        'CAMHS',
        'Intensive Family Support Team (IFST)',
        'SASH',
      ]);
      expect(action!.progress.find((p) => p.quarter === 3)?.text).toBe(
        'Promotion of NMSY at Jackmans community day in Letchworth',
      );
      expect(action!.progress.map((p) => p.quarter)).toEqual([1, 2, 3]);
    });

    it('1.2 keeps the resource the plan repeats', () => {
      expect(aim('1.2').actions[0]!.resources).toEqual([
        'Posters',
        'Social Media Campaigns',
        'Visiting schools',
        'Social Media Campaigns',
      ]);
      expect(aim('1.2').title).toBe(
        'Educate young people in the dangers of using and becoming involved with \u201cgangs\u201d and carrying knives',
      );
    });

    it('3.1 gives each progress row to the action on or above it', () => {
      const [first, second, third] = aim('3.1').actions;
      expect(first!.progress.map((p) => [p.quarter, p.text])).toEqual([
        [1, 'Football matches arranges with residents of the IBIS hotel in July, with the Police'],
        [2, 'Training and ongoing work with the NHS at the Lister to encourage the reporting of hate crime'],
        [
          3,
          'Hate crime awareness week and black history month including hate including pitch side talk with Stevenage FC at Noble School.',
        ],
      ]);
      expect(second!.progress.map((p) => [p.quarter, p.text])).toEqual([
        [1, 'MAY - Hate crime leaflet produced in partnership with the police'],
      ]);
      expect(third!.progress.map((p) => p.quarter)).toEqual([2, 3]);
      expect(first!.description).toContain('Hate Crime 3rd party reporting centres');
    });

    it('joins sentences split across rows with one space', () => {
      expect(aim('2.2').actions[0]!.progress[1]!.text).toBe(
        'Further funding has been applied for to continue with the work around deprivation, the work in schools for this year commences January 2025',
      );
      expect(aim('2.3').actions[0]!.progress[2]!.text).toBe(
        'Work is to commence regarding plotting VAWG offences so we can analyse what types of crime are recorded',
      );
      expect(aim('5.3').actions[1]!.progress[0]!.text).toContain('whether they are a tenant');
      expect(aim('5.0').title).toBe(
        'Promote the use of Crime Stoppers to report crimes anonymously, and encourage sign-ups to Herts Connected and Business Watch',
      );
    });

    it('4.2 gives each quarter row to the action on its row', () => {
      expect(aim('4.2').actions.map((action) => action.progress.map((p) => p.quarter))).toEqual([
        [1],
        [2],
        [3],
        [],
      ]);
      expect(aim('4.2').actions[2]!.leads).toEqual([
        { organisation: 'Police', officers: ['SOC team'] },
        { organisation: 'SBC', officers: ['Sarah Pateman'] },
      ]);
      expect(aim('4.2').actions[3]!.leads).toEqual([{ organisation: 'SBC', officers: ['Jane Konopka'] }]);
    });

    it('splits leads into organisations with their officers', () => {
      expect(aim('4.0').actions[0]!.leads).toEqual([
        { organisation: 'SBC', officers: ['Will Peters', 'Mel Cucos', 'Maddy Heredia'] },
      ]);
      expect(aim('4.3').actions[0]!.leads).toEqual([
        { organisation: 'HCC', officers: ['Suzanne Aldridge'] },
        { organisation: 'Hertfordshire Road Safety Partnership', officers: [] },
      ]);
      expect(aim('5.5').actions[2]!.leads).toEqual([
        { organisation: 'SBC', officers: ['Tania King'] },
        { organisation: 'HCC', officers: [] },
        { organisation: 'Police', officers: [] },
      ]);
      expect(aim('4.4').actions[1]!.leads).toEqual([
        { organisation: 'Home Office', officers: ['Sarah Harris'] },
      ]);
      expect(aim('1.2').actions[0]!.leads.map((p) => p.organisation)).toEqual(['Police', 'JAG members']);
      expect(aim('5.2').actions[2]!.leads).toEqual([
        { organisation: 'SBC', officers: ['Jessica Warren', 'Community Wardens', 'Housing staff'] },
        { organisation: 'Police', officers: ['NPT Inspector'] },
      ]);
      expect(aim('5.0').actions[1]!.leads).toEqual([]);
    });

    it('4.4: Q1 carries on into the next row as a second paragraph', () => {
      expect(aim('4.4').actions[0]!.progress).toEqual([
        {
          quarter: 1,
          text: 'Evolve youth program, now offered across Herts as part of the NMYS\n\nTwo houses for the Evolve perpetrator programme are up and running.',
          status: null,
        },
      ]);
    });

    it('4.1: Q1 N/A is a real entry', () => {
      expect(aim('4.1').actions[0]!.progress[0]).toEqual({ quarter: 1, text: 'N/A', status: null });
    });

    it('5.2: the first action has only Q2; c) and d) have undated progress', () => {
      const [first, b, c, d] = aim('5.2').actions;
      expect(first!.progress).toEqual([
        { quarter: 2, text: 'Echo is now closed. Everything is on Herts Connected.', status: null },
      ]);
      expect(b!.description).toBe('b) Actively promote ECHO and Herts Connected at events');
      expect(b!.progress).toEqual([]);
      expect(c!.description.startsWith('c) ')).toBe(true);
      expect(d!.description.startsWith('d) ')).toBe(true);
      expect(c!.progress.map((p) => p.quarter)).toEqual([null]);
      expect(d!.progress.map((p) => p.quarter)).toEqual([null]);
    });

    it('5.7: principle 4 ends at "nationally." and its response has two paragraphs', () => {
      const four = aim('5.7').deliveryPrinciples[3]!;
      expect(four.principle.endsWith('each policing area and nationally.')).toBe(true);
      expect(four.response.split('\n\n')).toHaveLength(2);
      expect(four.response.startsWith('For 2024/25 we want to introduce dip sampling')).toBe(true);
      expect(
        four.response.split('\n\n')[1]!.startsWith('The strategic assessment is initially discussed'),
      ).toBe(true);
      expect(aim('5.7').deliveryPrinciples[2]!.response).toContain(
        'essential for the running of the different services within the team. Pathways',
      );
      expect(aim('5.7').deliveryPrinciples[0]!.response).toContain('all ways taken seriously');
    });

    it("keeps the plan's own spellings", () => {
      expect(plan.objectives[0]!.text).toBe(
        'Understand the underlining causes as to why young people become involved in ASB and crime.',
      );
      expect(aim('5.4').title).toBe('Build community reliance for Scams and Fraud');
      expect(aim('2.3').actions[0]!.progress[1]!.text).toContain('well attempted');
      expect(aim('4.4').title).toBe('Expand "Evolve" in supporting perpetrators of domestic abuse');
    });
  });

  describe('organisations and people', () => {
    const parties = aims.flatMap((a) => a.actions.flatMap((action) => [...action.leads, ...action.partners]));

    it('lists every organisation that leads or partners, and no other', () => {
      const used = new Set(parties.map((p) => p.organisation));
      expect(new Set(file.organisations.map((o) => o.name))).toEqual(used);
    });

    it('gives the full name from the abbreviations table where the name is an abbreviation', () => {
      const meanings = new Map(file.glossary.map((g) => [g.term, g.meaning]));
      for (const o of file.organisations)
        expect(o.fullName ?? null, o.name).toBe(meanings.get(o.name) ?? null);
      expect(file.organisations.find((o) => o.name === 'SBC')?.fullName).toBe('Stevenage Borough Council');
    });

    it('lists every named officer as a person, with no organisation', () => {
      const posts = new Set([
        'NPT Inspector',
        'SOC team',
        'Neighbourhood Watch Co-ordinator?',
        'Community Wardens',
        'Housing staff',
      ]);
      const named = new Set(parties.flatMap((p) => p.officers).filter((o) => !posts.has(o)));
      expect(new Set(file.people.map((p) => p.name))).toEqual(named);
      for (const person of file.people) expect(person.organisation ?? null).toBeNull();
      expect(file.people.map((p) => p.name)).toEqual(
        expect.arrayContaining(['Tania King', 'Catherine Davies']),
      );
    });
  });
});

describe('the demo plan’s funding lines', () => {
  const lines = aims.flatMap((a) => [
    ...(a.funding ?? []).map((line) => ({ aim: a.number, action: null as number | null, line })),
    ...a.actions.flatMap((action, i) =>
      (action.funding ?? []).map((line) => ({ aim: a.number, action: i + 1, line })),
    ),
  ]);

  it('has the £10,000 received from the Letchworth Heritage Foundation on 2.2, in Q1', () => {
    const letchworth = lines.filter((l) => l.line.source === 'Letchworth Heritage Foundation');
    expect(letchworth).toHaveLength(1);
    expect(letchworth[0]).toMatchObject({
      aim: '2.2',
      action: 1,
      line: { amountPence: 1_000_000, state: 'received', receivedOn: '2024-06-30' },
    });
  });

  it('records each money fact of the seed once: 2.2 (twice), 2.3, 4.0 (two funders) and 4.2', () => {
    expect(lines.map((l) => `${l.aim} ${l.action ?? 'aim'} ${l.line.source} ${l.line.state}`)).toEqual([
      '2.2 1 Letchworth Heritage Foundation received',
      '2.2 1 Funder not named in the plan applied',
      '2.3 1 Central fund (not named in the plan) spent',
      '4.0 2 Serious Violence Fund awarded',
      '4.0 2 Probation awarded',
      '4.2 4 Safer Streets awarded',
    ]);
  });

  it('quotes, in its notes, the words of its own aim’s rows it was taken from, and says what the plan does not give', () => {
    for (const { aim: number, line } of lines) {
      const quotes = [...(line.notes ?? '').matchAll(/“([^”]+)”/g)].map((m) => m[1]!);
      expect(quotes.length, `${number} ${line.source}`).toBeGreaterThan(0);
      for (const quote of quotes) expectFrom(seedOf(number), quote, `${number} ${line.source} notes`);
      if (line.amountPence === 0)
        expect(line.notes, `${number} ${line.source}`).toMatch(/no amount|nor the amount|neither the amount/);
    }
  });
});
