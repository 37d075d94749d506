/**
 * The plan file: what `partnership-plan export --format json` writes and `import` reads.
 * One file holds one partnership with its organisations, people, principles, glossary and plans.
 * It is documented in docs/plan-file.md; docs/plan-file.schema.json is generated from this schema.
 *
 * Validation here is structural and pure; cross-references (an aim number used twice, a lead
 * organisation that is not listed, a priority naming an unknown aim) are checked in checkPlanFile.
 */
import { parse as parseJsonWithErrors, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { z } from 'zod';
import { FUNDING_STATES, fundingProblems } from './funding.js';
import { sectionOfAimNumber } from './numbering.js';
import { isPlanYear } from './quarters.js';
import { STATUSES } from './status.js';

export const PLAN_FILE_FORMAT = 'partnership-plan/v1';

const text = z.string().trim().min(1, 'must not be empty');
const optionalText = z.string().trim().nullable().optional();
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date written YYYY-MM-DD');
const isoDateTime = z.iso.datetime({ offset: true });

/** An organisation taking part in an action, with the officers the plan names for it. */
export const partySchema = z
  .object({
    organisation: text.describe('The organisation, by the name in the organisations list'),
    officers: z
      .array(text)
      .default([])
      .describe('Named officers or posts, e.g. "Tania King", "NPT Inspector"'),
  })
  .strict();

export const progressSchema = z
  .object({
    quarter: z
      .union([z.literal(1), z.literal(2), z.literal(3), z.literal(4), z.null()], {
        error: 'must be a quarter: 1, 2, 3 or 4 (Q1 to Q4), or null for progress with no quarter',
      })
      .describe('1 = Q1 (April to June) … 4 = Q4 (January to March); null when the plan gives no quarter'),
    text: text.describe('The progress as the lead officer wrote it; paragraphs separated by a blank line'),
    status: z.enum(STATUSES).nullable().default(null),
    recordedAt: isoDateTime.nullable().optional().describe('When the update was recorded'),
  })
  .strict();

/**
 * Money for an aim or an action (a funding line). Amounts are whole pence, so no rounding can creep
 * in: £10,000 is 1000000. The date of the step the line is in must be given; see docs/plan-file.md.
 */
export const fundingLineSchema = z
  .object({
    source: text.describe('Where the money comes from, e.g. "PCC Community Safety Fund"'),
    amountPence: z.number().int().min(0).describe('The amount in pence: £10,000 is 1000000'),
    state: z.enum(FUNDING_STATES).describe('How far it has got: applied, awarded, received or spent'),
    appliedOn: isoDate.nullable().optional(),
    awardedOn: isoDate.nullable().optional(),
    receivedOn: isoDate.nullable().optional(),
    spentOn: isoDate.nullable().optional(),
    spentToDatePence: z.number().int().min(0).default(0).describe('Spent so far, in pence'),
    notes: optionalText.describe(
      'Anything the reader should know: where the facts come from, what is not known',
    ),
  })
  .strict();

export const actionSchema = z
  .object({
    description: text.describe('What will be done; one item a line'),
    leads: z.array(partySchema).default([]),
    partners: z.array(partySchema).default([]),
    resources: z.array(text).default([]),
    expectedOutcomes: z.array(text).default([]),
    progress: z.array(progressSchema).default([]),
    funding: z.array(fundingLineSchema).optional().describe('Money for this action'),
  })
  .strict();

/** Aim 5.7 in the 2024/25 plan answers the Home Office ASB local delivery principles one by one. */
export const deliveryPrincipleSchema = z
  .object({
    number: z.number().int().positive(),
    principle: text,
    response: text,
  })
  .strict();

export const aimSchema = z
  .object({
    number: z.string().regex(/^\d{1,2}\.\d{1,2}$/, 'must be an aim number like "3.1"'),
    title: text,
    addedOn: isoDate.nullable().optional().describe('Set for an aim added after the plan was agreed'),
    published: z
      .boolean()
      .optional()
      .describe("On the partnership's public page: true publishes the aim when the file is imported"),
    actions: z.array(actionSchema).default([]),
    deliveryPrinciples: z.array(deliveryPrincipleSchema).default([]),
    funding: z.array(fundingLineSchema).optional().describe('Money for the aim as a whole'),
  })
  .strict();

export const sectionSchema = z
  .object({
    number: z.number().int().min(1).max(99),
    title: text,
    aims: z.array(aimSchema).default([]),
  })
  .strict();

export const prioritySchema = z
  .object({
    title: text,
    description: optionalText.describe("The plan's own wording where it says more than the title"),
    addedOn: isoDate.nullable().optional(),
    aims: z.array(z.string()).default([]).describe('Numbers of the aims that address this priority'),
  })
  .strict();

export const objectiveSchema = z.object({ number: z.number().int().positive(), text }).strict();

export const planSchema = z
  .object({
    year: z
      .string()
      .regex(/^\d{4}\/\d{2}$/, 'must be a plan year like "2024/25"')
      .refine(isPlanYear, 'must be two consecutive years like "2024/25"'),
    title: text,
    headlineAimsIntro: optionalText,
    headlineAims: z.array(text).default([]),
    prioritiesIntro: optionalText,
    priorities: z.array(prioritySchema).default([]),
    objectivesIntro: optionalText,
    objectives: z.array(objectiveSchema).default([]),
    howThePlanIsKept: z.array(text).default([]).describe('Paragraphs on how the plan is kept and reported'),
    sections: z.array(sectionSchema).default([]),
  })
  .strict();

export const organisationSchema = z
  .object({
    name: text.describe('The name the plan uses, e.g. "SBC"'),
    fullName: optionalText.describe('e.g. "Stevenage Borough Council"'),
  })
  .strict();

export const personSchema = z.object({ name: text, organisation: optionalText }).strict();

export const glossaryTermSchema = z.object({ term: text, meaning: text }).strict();
export const principleSchema = z.object({ number: z.number().int().positive(), text }).strict();

export const planFileSchema = z
  .object({
    format: z.literal(PLAN_FILE_FORMAT),
    partnership: z
      .object({
        slug: z.string().regex(/^[a-z0-9-]+$/, 'must be lower-case letters, digits and hyphens'),
        name: text,
        area: optionalText,
        principlesIntro: optionalText,
      })
      .strict(),
    organisations: z.array(organisationSchema).default([]),
    people: z.array(personSchema).default([]),
    principles: z.array(principleSchema).default([]),
    glossary: z.array(glossaryTermSchema).default([]),
    plans: z.array(planSchema).min(1, 'must hold at least one plan'),
  })
  .strict();

export type PlanFile = z.infer<typeof planFileSchema>;
export type PlanFileInput = z.input<typeof planFileSchema>;
export type PlanFilePlan = PlanFile['plans'][number];
export type PlanFileSection = PlanFilePlan['sections'][number];
export type PlanFileAim = PlanFileSection['aims'][number];
export type PlanFileAction = PlanFileAim['actions'][number];
export type PlanFileParty = PlanFileAction['leads'][number];
export type PlanFileProgress = PlanFileAction['progress'][number];
export type PlanFileFundingLine = NonNullable<PlanFileAim['funding']>[number];

/** One problem in a file, with where it is: a JSON path or a CSV line. */
export interface FileProblem {
  where: string;
  message: string;
}

export type ParseResult = { ok: true; file: PlanFile } | { ok: false; problems: FileProblem[] };

function pathToWhere(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'the file';
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
}

/** Validates a parsed JSON value as a plan file: structure first, then cross-references. */
export function checkPlanFile(value: unknown): ParseResult {
  const parsed = planFileSchema.safeParse(value);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => ({
        where: pathToWhere(issue.path),
        message: issue.message,
      })),
    };
  }
  const problems = crossReferenceProblems(parsed.data);
  return problems.length ? { ok: false, problems } : { ok: true, file: parsed.data };
}

/** Parses the text of a JSON plan file; malformed JSON is reported with its line and column. */
export function parsePlanFileJson(source: string): ParseResult {
  // JSON.parse on Node 20 does not say where the text breaks; jsonc-parser does, by offset.
  const errors: ParseError[] = [];
  const value: unknown = parseJsonWithErrors(source.replace(/^\uFEFF/, ''), errors, {
    disallowComments: true,
    allowTrailingComma: false,
    allowEmptyContent: false,
  });
  const first = errors[0];
  if (first) {
    return {
      ok: false,
      problems: [
        {
          where: lineAndColumn(source, first.offset),
          message: `is not valid JSON (${describeJsonError(first)})`,
        },
      ],
    };
  }
  return checkPlanFile(value);
}

function describeJsonError(error: ParseError): string {
  // "ValueExpected" → "value expected"
  return printParseErrorCode(error.error)
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
}

function lineAndColumn(source: string, offset: number): string {
  const before = source.slice(0, offset).split('\n');
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

function duplicates<T>(items: readonly T[], key: (item: T) => string): Map<string, number[]> {
  const seen = new Map<string, number[]>();
  items.forEach((item, index) => {
    const k = key(item);
    seen.set(k, [...(seen.get(k) ?? []), index]);
  });
  return new Map([...seen].filter(([, indexes]) => indexes.length > 1));
}

/** The rules of a funding line (dates in order, the state's date given, …), with where each broke. */
/** A plan file's funding line as the funding_lines table's fields, absent dates and notes as null. */
export function fundingLineFields(line: PlanFileFundingLine) {
  return {
    source: line.source,
    amountPence: line.amountPence,
    state: line.state,
    appliedOn: line.appliedOn ?? null,
    awardedOn: line.awardedOn ?? null,
    receivedOn: line.receivedOn ?? null,
    spentOn: line.spentOn ?? null,
    spentToDatePence: line.spentToDatePence,
    notes: line.notes ?? null,
  };
}

function fundingLineProblems(
  lines: readonly PlanFileFundingLine[] | undefined,
  where: string,
): FileProblem[] {
  return (lines ?? []).flatMap((line, i) =>
    fundingProblems(fundingLineFields(line)).map((p) => ({
      where: `${where}[${i}].${p.field === 'amount' ? 'amountPence' : p.field === 'spentToDate' ? 'spentToDatePence' : p.field}`,
      message: p.message,
    })),
  );
}

function crossReferenceProblems(file: PlanFile): FileProblem[] {
  const problems: FileProblem[] = [];
  const orgNames = new Set(file.organisations.map((o) => o.name));

  for (const [name, at] of duplicates(file.organisations, (o) => o.name.toLowerCase())) {
    problems.push({ where: `organisations[${at[1]}]`, message: `repeats the organisation "${name}"` });
  }
  for (const [name, at] of duplicates(file.people, (p) => p.name.toLowerCase())) {
    problems.push({ where: `people[${at[1]}]`, message: `repeats the person "${name}"` });
  }
  for (const [term, at] of duplicates(file.glossary, (g) => g.term)) {
    problems.push({ where: `glossary[${at[1]}]`, message: `repeats the term "${term}"` });
  }
  file.people.forEach((person, i) => {
    if (person.organisation && !orgNames.has(person.organisation)) {
      problems.push({
        where: `people[${i}].organisation`,
        message: `names "${person.organisation}", which is not in organisations`,
      });
    }
  });
  for (const [year, at] of duplicates(file.plans, (p) => p.year)) {
    problems.push({ where: `plans[${at[1]}].year`, message: `repeats the plan year ${year}` });
  }

  file.plans.forEach((plan, p) => {
    const base = `plans[${p}]`;
    const aimNumbers = new Map<string, string>();
    for (const [n, at] of duplicates(plan.sections, (s) => String(s.number))) {
      problems.push({ where: `${base}.sections[${at[1]}].number`, message: `repeats section number ${n}` });
    }
    plan.sections.forEach((section, s) => {
      section.aims.forEach((aim, a) => {
        const where = `${base}.sections[${s}].aims[${a}]`;
        const earlier = aimNumbers.get(aim.number);
        if (earlier) {
          problems.push({
            where: `${where}.number`,
            message: `repeats aim number ${aim.number}, already used at ${earlier}`,
          });
        } else {
          aimNumbers.set(aim.number, where);
        }
        if (sectionOfAimNumber(aim.number) !== section.number) {
          problems.push({
            where: `${where}.number`,
            message: `aim ${aim.number} does not belong to section ${section.number}`,
          });
        }
        aim.actions.forEach((action, c) => {
          const at = `${where}.actions[${c}]`;
          for (const [kind, parties] of [
            ['leads', action.leads],
            ['partners', action.partners],
          ] as const) {
            parties.forEach((party, i) => {
              if (!orgNames.has(party.organisation)) {
                problems.push({
                  where: `${at}.${kind}[${i}].organisation`,
                  message: `names "${party.organisation}", which is not in organisations`,
                });
              }
            });
          }
          for (const [quarter, indexes] of duplicates(action.progress, (u) => String(u.quarter))) {
            problems.push({
              where: `${at}.progress[${indexes[1]}].quarter`,
              message:
                quarter === 'null' ? 'repeats the undated progress entry' : `repeats quarter Q${quarter}`,
            });
          }
          problems.push(...fundingLineProblems(action.funding, `${at}.funding`));
        });
        problems.push(...fundingLineProblems(aim.funding, `${where}.funding`));
      });
    });
    plan.priorities.forEach((priority, i) => {
      priority.aims.forEach((number, j) => {
        if (!aimNumbers.has(number)) {
          problems.push({
            where: `${base}.priorities[${i}].aims[${j}]`,
            message: `names aim ${number}, which is not in this plan`,
          });
        }
      });
    });
  });
  return problems;
}
