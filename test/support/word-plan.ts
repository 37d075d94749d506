/**
 * Word plans the tests write themselves (with the `docx` library), as another partnership's Word
 * document would have it: one table, headings in another order and spelling than the app's own
 * ("Lead(s)", "Partner Agencies", "Resource", "Expected Outcome(s)", "Progress to Date"), sections
 * as rows of one merged cell, each aim's cell merged down over its actions, officers in brackets,
 * progress as "Q1 – …" paragraphs in one cell.
 */
import {
  AlignmentType,
  Document,
  HeadingLevel,
  Packer,
  Paragraph,
  Table,
  TableCell,
  TableRow,
  TextRun,
  WidthType,
} from 'docx';
import { addedLabel } from '../../src/domain/numbering.js';
import { describeParty } from '../../src/domain/parties.js';
import type { PlanFileAction, PlanFilePlan } from '../../src/domain/plan-file.js';
import { STATUS_LABELS } from '../../src/domain/status.js';
import type { Actor } from '../../src/services/actor.js';
import { readDemoFile } from '../../src/services/demo.js';
import type { Services } from '../../src/services/index.js';

/** The columns as this document heads them, in its order; `field` is what each one holds. */
export const WORD_PLAN_COLUMNS = [
  { heading: 'Aims', field: 'aim' },
  { heading: 'Lead(s)', field: 'lead' },
  { heading: 'What will be done', field: 'action' },
  { heading: 'Partner Agencies', field: 'partners' },
  { heading: 'Resource', field: 'resources' },
  { heading: 'Expected Outcome(s)', field: 'expectedOutcomes' },
  { heading: 'Progress to Date', field: 'progress' },
] as const;

type Field = (typeof WORD_PLAN_COLUMNS)[number]['field'];

const paragraphs = (lines: readonly string[]) =>
  (lines.length ? lines : ['']).map((line) => new Paragraph({ children: [new TextRun(line)] }));

function progressLines(action: PlanFileAction): string[] {
  return action.progress.flatMap((update) => {
    const status = update.status ? [`Status: ${STATUS_LABELS[update.status]}`] : [];
    const [first = '', ...rest] = update.text.split('\n');
    const head = update.quarter === null ? first : `Q${update.quarter} – ${first}`;
    return [head, ...rest, ...status];
  });
}

function actionCells(action: PlanFileAction): Record<Exclude<Field, 'aim'>, string[]> {
  return {
    lead: action.leads.map(describeParty),
    action: action.description.split('\n'),
    partners: action.partners.map(describeParty),
    resources: action.resources,
    expectedOutcomes: action.expectedOutcomes,
    progress: progressLines(action),
  };
}

const cell = (lines: readonly string[], options: { rowSpan?: number; columnSpan?: number } = {}) =>
  new TableCell({ children: paragraphs(lines), ...options });

/** The plan's rows: a merged heading row per section, then a row per action. */
function planRows(plan: PlanFilePlan): TableRow[] {
  const header = new TableRow({
    tableHeader: true,
    children: WORD_PLAN_COLUMNS.map((c) => cell([c.heading])),
  });
  const rows = [header];
  for (const section of plan.sections) {
    rows.push(
      new TableRow({
        children: [cell([`${section.number}. ${section.title}`], { columnSpan: WORD_PLAN_COLUMNS.length })],
      }),
    );
    for (const aim of section.aims) {
      const aimLines = [...(aim.addedOn ? [addedLabel(aim.addedOn)!] : []), `${aim.number} ${aim.title}`];
      const actions = aim.actions.length ? aim.actions : [undefined];
      actions.forEach((action, index) => {
        const cells = action ? actionCells(action) : undefined;
        rows.push(
          new TableRow({
            children: WORD_PLAN_COLUMNS.flatMap((column) => {
              if (column.field === 'aim') {
                // The aim's cell is merged down over all its actions' rows.
                return index === 0 ? [cell(aimLines, { rowSpan: actions.length })] : [];
              }
              return [cell(cells ? cells[column.field] : [])];
            }),
          }),
        );
      });
    }
  }
  return rows;
}

async function pack(children: (Paragraph | Table)[]): Promise<Buffer> {
  return Packer.toBuffer(new Document({ sections: [{ children }] }));
}

/** A Word document of the plan, as another partnership might write it. */
export async function writeWordPlan(plan: PlanFilePlan): Promise<Buffer> {
  return pack([
    new Paragraph({ heading: HeadingLevel.TITLE, children: [new TextRun(plan.title)] }),
    new Paragraph({
      alignment: AlignmentType.LEFT,
      children: [new TextRun('This document records actions conducted through partnership working.')],
    }),
    new Table({ width: { size: 100, type: WidthType.PERCENTAGE }, rows: planRows(plan) }),
  ]);
}

/** The demo plan (src/demo/sosafe-2024-25.json), with statuses given to a few of its updates. */
export function demoPlanForWord(): PlanFilePlan {
  const plan = structuredClone(readDemoFile().plans[0]!);
  const aim = (number: string) => plan.sections.flatMap((s) => s.aims).find((a) => a.number === number)!;
  aim('2.2').actions[0]!.progress[0]!.status = 'on_track';
  aim('4.3').actions[0]!.progress.at(-1)!.status = 'complete';
  return plan;
}

export async function demoWordPlan(): Promise<Buffer> {
  return writeWordPlan(demoPlanForWord());
}

/** A plan of one section and one aim, for a quick upload. */
export async function smallWordPlan(): Promise<Buffer> {
  const plan = demoPlanForWord();
  const section = plan.sections[0]!;
  return writeWordPlan({ ...plan, sections: [{ ...section, aims: section.aims.slice(0, 1) }] });
}

/** A Word document with a table, but not the plan's: a glossary. */
export async function wordDocumentWithoutPlan(): Promise<Buffer> {
  return pack([
    new Paragraph({ children: [new TextRun('Abbreviations')] }),
    new Table({
      rows: [
        ['Term', 'Meaning'],
        ['ASB', 'Anti-social behaviour'],
        ['JAG', 'Joint Action Group'],
      ].map((row) => new TableRow({ children: row.map((text) => cell([text])) })),
    }),
  ]);
}

let nextYearStart = 2000;

/**
 * A pending upload of the small Word plan by `actor` (the coordinator), set to a plan year of its
 * own before the demo's (2000/01, 2001/02, …), so that saving it adds a small plan no other check
 * uses and the demo's 2024/25 stays the partnership's latest.
 */
export async function newWordUpload(
  services: Services,
  actor: Actor,
  partnershipId: number,
): Promise<{ id: number; year: string }> {
  const start = nextYearStart++;
  const year = `${start}/${String((start + 1) % 100).padStart(2, '0')}`;
  const { id } = await services.wordImport.upload(actor, partnershipId, {
    filename: 'permission-check.docx',
    data: await smallWordPlan(),
  });
  await services.wordImport.correct(actor, partnershipId, id, { year });
  return { id, year };
}
