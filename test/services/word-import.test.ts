/**
 * Importing a Word plan as a new plan year: upload (nothing but the upload is written), correct,
 * save (one transaction with its audit event). Over the LibreOffice fixture (a Word file this
 * project did not write) and a DOCX the suite writes from the demo plan.
 */
import fs from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import type { Member } from '../../src/domain/permissions.js';
import { memberActor, systemActor, type Actor } from '../../src/services/actor.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../../src/services/errors.js';
import { findAim, getPartnershipBySlug, loadPlanTree, type PlanTree } from '../../src/services/plan-read.js';
import { addUser, getMember } from '../../src/services/users.js';
import {
  correctWordUpload,
  partiesText,
  previewWordUpload,
  saveWordUpload,
  uploadWordPlan,
  wordImportFields as fields,
  type WordImportPreview,
} from '../../src/services/word-import.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { TEST_PASSWORD } from '../support/password.js';
import { demoWordPlan, smallWordPlan, wordDocumentWithoutPlan } from '../support/word-plan.js';

const LIBREOFFICE_FIXTURE = fs.readFileSync(
  new URL('../fixtures/word/sosafe-2024-25-libreoffice.docx', import.meta.url),
);
/** The demo accounts' password (the demo template's). */
const PASSWORD = TEST_PASSWORD;

let database: TestDatabase;
let coordinator: Actor;
let partner: Actor;
let partnershipId: number;

async function actorFor(email: string): Promise<Actor> {
  const [user] = await queryRows<{ id: number; partnership_id: number }>(
    database.db,
    sql`select u.id, m.partnership_id from users u join memberships m on m.user_id = u.id where u.email = ${email}`,
  );
  return memberActor((await getMember(database.db, user!.id, user!.partnership_id)) as Member);
}

async function count(table: 'plans' | 'sections' | 'aims' | 'actions' | 'audit_events' | 'plan_uploads') {
  const [row] = await queryRows<{ n: number }>(
    database.db,
    sql`select count(*)::int as n from ${sql.raw(table)}`,
  );
  return Number(row!.n);
}

async function planRowCounts() {
  return {
    plans: await count('plans'),
    sections: await count('sections'),
    aims: await count('aims'),
    actions: await count('actions'),
    audit: await count('audit_events'),
  };
}

async function tree(year: string): Promise<PlanTree> {
  return loadPlanTree(database.db, await getPartnershipBySlug(database.db, 'sosafe'), year);
}

const upload = (data: Uint8Array, filename = 'plan.docx', actor = coordinator) =>
  uploadWordPlan(database.db, actor, partnershipId, { filename, data });
const preview = (id: number) => previewWordUpload(database.db, coordinator, partnershipId, id);
/** The coordinator's corrections to an upload, as the preview's form sends them. */
const correct = (id: number, form: Record<string, unknown>) =>
  correctWordUpload(database.db, coordinator, partnershipId, id, form);

/** The form as the preview page fills it: every field as shown, then the changes. */
function formOf(view: WordImportPreview, changes: Record<string, string | string[]> = {}) {
  const form: Record<string, string | string[]> = { year: view.year, title: view.title };
  view.headings.forEach((h, i) => (form[fields.heading(i)] = h.field ?? 'ignore'));
  for (const section of view.sections) {
    form[fields.sectionNumber(section.key)] = String(section.number ?? '');
    form[fields.sectionTitle(section.key)] = section.title;
    for (const aim of section.aims) {
      form[fields.aimNumber(aim.key)] = aim.number ?? '';
      form[fields.aimTitle(aim.key)] = aim.title;
      for (const action of aim.actions) {
        form[fields.actionLeads(action.key)] = partiesText(action.leads);
        form[fields.actionPartners(action.key)] = partiesText(action.partners);
      }
    }
  }
  return { ...form, ...changes };
}

async function problemsOf(promise: Promise<unknown>): Promise<{ field: string; message: string }[]> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ValidationError))
    throw new Error(`expected a ValidationError, got ${String(error)}`);
  return error.problems;
}

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
  coordinator = await actorFor('coordinator@sosafe.example');
  partner = await actorFor('partner@sosafe.example');
  partnershipId = (await getPartnershipBySlug(database.db, 'sosafe')).id;
});
afterAll(async () => {
  await database?.drop();
});

describe('the LibreOffice fixture (a Word file this project did not write)', () => {
  let id: number;
  let before: Awaited<ReturnType<typeof planRowCounts>>;

  it('uploads, and writes nothing but the upload', async () => {
    before = await planRowCounts();
    const uploads = await count('plan_uploads');
    ({ id } = await upload(LIBREOFFICE_FIXTURE, 'SoSafe Action Plan 2024-25.docx'));
    expect(await count('plan_uploads')).toBe(uploads + 1);
    expect(await planRowCounts()).toEqual(before);
  });

  it('previews the seed’s sections and aims, in the year after the partnership’s last plan', async () => {
    const view = await preview(id);
    expect(view.filename).toBe('SoSafe Action Plan 2024-25.docx');
    // The document names 2024/25, which the partnership has: the next year is offered.
    expect(view.year).toBe('2025/26');
    expect(view.yearChoices).toContain('2025/26');
    expect(view.yearChoices).not.toContain('2024/25');
    expect(view.sections.map((s) => s.number)).toEqual([1, 2, 3, 4, 5]);
    expect(view.counts).toMatchObject({ sections: 5, aims: 21 });
    expect(view.problems).toEqual([]);
    expect(view.warnings.length).toBeGreaterThan(0);
  });

  it('keeps corrections, and still writes nothing to the plan', async () => {
    const view = await preview(id);
    const section1 = view.sections[0]!;
    const aim57 = view.sections[4]!.aims.find((a) => a.number === '5.7')!;
    const corrected = await correct(
      id,
      formOf(view, {
        [fields.sectionTitle(section1.key)]: 'Divert young people from crime and ASB',
        [fields.leaveOut]: [aim57.key],
      }),
    );
    expect(corrected.sections[0]!.title).toBe('Divert young people from crime and ASB');
    expect(corrected.sections[4]!.aims.find((a) => a.key === aim57.key)!.leftOut).toBe(true);
    expect(corrected.counts.aims).toBe(20);
    expect(await planRowCounts()).toEqual(before);
  });

  it('refuses a year the partnership has a plan for', async () => {
    const view = await preview(id);
    const problems = await problemsOf(correct(id, formOf(view, { year: '2024/25' })));
    expect(problems).toEqual([
      {
        field: 'year',
        message: 'The 2024/25 plan exists already: choose a year the partnership has no plan for',
      },
    ]);
    expect((await preview(id)).year).toBe('2025/26');
  });

  it('saves the new plan year in one go, with its audit event', async () => {
    const saved = await saveWordUpload(database.db, coordinator, partnershipId, id);
    expect(saved).toMatchObject({ year: '2025/26', sections: 5, aims: 20 });
    const after = await planRowCounts();
    expect(after.plans).toBe(before.plans + 1);
    expect(after.aims).toBe(before.aims + 20);
    expect(after.audit).toBe(before.audit + 1);
    const [event] = await queryRows<{ kind: string; summary: string; actor_label: string }>(
      database.db,
      sql`select kind, summary, actor_label from audit_events order by id desc limit 1`,
    );
    expect(event).toMatchObject({ kind: 'plan.imported', actor_label: 'Casey Coordinator' });
    expect(event!.summary).toContain(
      'Imported plan 2025/26 from the Word document SoSafe Action Plan 2024-25.docx',
    );
  });

  it('gives the new plan the seed’s aims, multi-action aims with a lead each, and its quarters', async () => {
    const plan = await tree('2025/26');
    expect(plan.plan.title).toBe('Action plan 2025/26');
    expect(plan.sections.map((s) => [s.number, s.title])).toEqual([
      [1, 'Divert young people from crime and ASB'],
      [2, 'Provide safe reporting and support to domestic abuse survivors and victims of modern slavery'],
      [3, 'Promote reporting of hate crime and equality in the community'],
      [4, 'Tackle the harms caused by drugs, alcohol and offending.'],
      [5, 'Work with partners to encourage reporting of crime and address perceptions of crime'],
    ]);
    expect(plan.sections.flatMap((s) => s.aims).map((a) => a.number)).not.toContain('5.7');
    const leads = (number: string) =>
      findAim(plan, number).aim.actions.map((c) =>
        c.leads.map((p) => [p.organisation, ...p.officers].join(' ')),
      );
    expect(leads('3.1')).toEqual([
      ['CCSU Helen Whitehead', 'SBC'],
      ['CCSU Helen Whitehead', 'SBC'],
      ['SoSafe members', 'Police', 'SBC'],
    ]);
    expect(leads('4.2')).toHaveLength(4);
    expect(leads('4.2')[0]).toEqual(['SBC Jessica Warren Maddy Heredia Mel Cucos']);
    expect(leads('4.2')[1]).toEqual(['Police']);
    const q1 = findAim(plan, '2.2').aim.actions[0]!.progress.find((p) => p.quarter === 1)!;
    expect(q1.text).toContain('£10,000 from the Letchworth Heritage Foundation');
    expect(findAim(plan, '4.1').aim.addedOn).toBe('2024-08-01');
    // Organisations the partnership has already are used, not made again.
    const [sada] = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from organisations where partnership_id = ${partnershipId} and name = 'SADA'`,
    );
    expect(sada!.n).toBe(1);
  });

  it('shows what the upload became, and refuses to save it twice', async () => {
    expect((await preview(id)).saved).toMatchObject({ year: '2025/26', aims: 20 });
    const problems = await problemsOf(saveWordUpload(database.db, coordinator, partnershipId, id));
    expect(problems[0]!.message).toContain('saved already, as the 2025/26 plan');
  });
});

describe('the demo plan as the suite writes it, headings in another order and spelling', () => {
  it('imports with the headings recognised, statuses read, and a corrected heading taking effect', async () => {
    const { id } = await upload(await demoWordPlan(), 'demo.docx');
    const view = await preview(id);
    expect(view.year).toBe('2026/27');
    expect(view.headings.map((h) => h.field)).toEqual([
      'aim',
      'lead',
      'action',
      'partners',
      'resources',
      'expectedOutcomes',
      'progress',
    ]);
    // "Resource" is taken as the expected outcomes instead: the tables are read again.
    const resource = view.headings.findIndex((h) => h.text === 'Resource');
    const corrected = await correct(id, formOf(view, { [fields.heading(resource)]: 'expectedOutcomes' }));
    expect(corrected.headings[resource]).toMatchObject({
      field: 'expectedOutcomes',
      recognised: 'resources',
    });
    const refuge = corrected.sections[1]!.aims.find((a) => a.number === '2.2')!.actions[0]!;
    expect(refuge.resources).toEqual([]);
    expect(refuge.expectedOutcomes).toContain('TBC');

    await saveWordUpload(database.db, coordinator, partnershipId, id);
    const plan = await tree('2026/27');
    expect(plan.sections.flatMap((s) => s.aims)).toHaveLength(21);
    const saved = findAim(plan, '2.2').aim.actions[0]!;
    expect(saved.resources).toEqual([]);
    expect(saved.expectedOutcomes).toEqual([
      'TBC',
      'To have another refuge for those fleeing Domestic abuse that offers support',
      'Support for children and the recognition that they are victims too',
    ]);
    expect(saved.progress.find((p) => p.quarter === 1)!.status).toBe('on_track');
    expect(findAim(plan, '3.1').aim.actions).toHaveLength(3);
  });

  it('takes the form’s last corrections when saving, and refuses what would break the plan', async () => {
    const { id } = await upload(await smallWordPlan());
    const view = await preview(id);
    const aim = view.sections[0]!.aims[0]!;
    const before = await planRowCounts();
    // An aim number from another section is refused against its field.
    const problems = await problemsOf(
      saveWordUpload(
        database.db,
        coordinator,
        partnershipId,
        id,
        formOf(view, { [fields.aimNumber(aim.key)]: '2.1' }),
      ),
    );
    expect(problems).toEqual([
      {
        field: fields.aimNumber(aim.key),
        message: 'Aim 2.1 is in section 1: its number must start “1.”',
      },
    ]);
    expect(await planRowCounts()).toEqual(before);
    const saved = await saveWordUpload(
      database.db,
      coordinator,
      partnershipId,
      id,
      formOf(view, {
        year: '2030/31',
        [fields.aimNumber(aim.key)]: '1.7',
        [fields.aimTitle(aim.key)]: 'Promote No More Youth',
      }),
    );
    expect(saved).toMatchObject({ year: '2030/31', sections: 1, aims: 1 });
    expect(findAim(await tree('2030/31'), '1.7').aim.title).toBe('Promote No More Youth');
  });
});

describe('an action’s lead and partners', () => {
  it('show as read, one organisation a line with its officers, and an unchanged box keeps them', async () => {
    const { id } = await upload(await demoWordPlan(), 'demo.docx');
    const view = await preview(id);
    const hateCrime = view.sections[2]!.aims.find((a) => a.number === '3.1')!.actions[0]!;
    expect(partiesText(hateCrime.leads)).toBe('CCSU (Helen Whitehead)\nSBC');
    const same = await correct(id, formOf(view));
    expect(same.sections[2]!.aims.find((a) => a.number === '3.1')!.actions[0]!.leads).toEqual(
      hateCrime.leads,
    );
  });

  it('are corrected in the preview and saved as corrected; too long a box is refused against it', async () => {
    const { id } = await upload(await smallWordPlan());
    const view = await preview(id);
    const action = view.sections[0]!.aims[0]!.actions[0]!;
    expect(action.leads.map((p) => p.organisation)).toEqual(['NMS']);
    const leads = fields.actionLeads(action.key);
    const partners = fields.actionPartners(action.key);

    const tooLong = await problemsOf(correct(id, formOf(view, { [partners]: 'x'.repeat(2001) })));
    expect(tooLong).toEqual([
      { field: partners, message: 'The partners of action 1 of aim 1.1 must be 2000 characters or fewer' },
    ]);

    const corrected = await correct(
      id,
      formOf(view, {
        [leads]: 'No More Service (Jo Bloggs/Sam Smith)\r\n\r\n  Police  ',
        [partners]: 'CAMHS',
      }),
    );
    const shown = corrected.sections[0]!.aims[0]!.actions[0]!;
    expect(shown.leads).toEqual([
      { organisation: 'No More Service', officers: ['Jo Bloggs', 'Sam Smith'] },
      { organisation: 'Police', officers: [] },
    ]);
    expect(shown.partners).toEqual([{ organisation: 'CAMHS', officers: [] }]);
    // Kept with the upload: the next preview shows them, and saving writes them.
    expect((await preview(id)).sections[0]!.aims[0]!.actions[0]!.leads).toEqual(shown.leads);
    await saveWordUpload(database.db, coordinator, partnershipId, id, { year: '2040/41' });
    const saved = findAim(await tree('2040/41'), '1.1').aim.actions[0]!;
    expect(saved.leads.map((p) => [p.organisation, [...p.officers]])).toEqual([
      ['No More Service', ['Jo Bloggs', 'Sam Smith']],
      ['Police', []],
    ]);
    expect(saved.partners.map((p) => p.organisation)).toEqual(['CAMHS']);
  });
});

describe('what is refused', () => {
  it('a DOCX with no plan table, with a clear message, writing nothing', async () => {
    const uploads = await count('plan_uploads');
    const problems = await problemsOf(upload(await wordDocumentWithoutPlan(), 'glossary.docx'));
    expect(problems).toEqual([
      {
        field: 'file',
        message:
          'The file glossary.docx has no table with the plan’s columns: none of its one table has a row of headings naming three of Aim, Action, Lead, Partners, Resources, Expected outcomes, Progress to date',
      },
    ]);
    expect(await count('plan_uploads')).toBe(uploads);
  });

  it('a file that is not a DOCX, and no file at all', async () => {
    const problems = await problemsOf(upload(Buffer.from('Aim,Action\n1.1,Do it\n'), 'plan.csv'));
    expect(problems[0]!.message).toMatch(/^The file plan\.csv is not a Word document \(\.docx\)/);
    expect(await problemsOf(uploadWordPlan(database.db, coordinator, partnershipId, undefined))).toEqual([
      { field: 'file', message: 'Choose a Word document (.docx) to upload' },
    ]);
  });

  it('anyone but the coordinator, and the operator (an upload belongs to a person)', async () => {
    const before = await planRowCounts();
    await expect(upload(LIBREOFFICE_FIXTURE, 'plan.docx', partner)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(upload(LIBREOFFICE_FIXTURE, 'plan.docx', systemActor())).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    const { id } = await upload(await smallWordPlan());
    await expect(previewWordUpload(database.db, partner, partnershipId, id)).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    await expect(saveWordUpload(database.db, partner, partnershipId, id)).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    expect(await planRowCounts()).toEqual(before);
  });

  it('another coordinator’s upload, and an expired one; expired uploads are removed as new ones come', async () => {
    await addUser(
      database.db,
      {
        email: 'second@sosafe.example',
        name: 'Second Coordinator',
        password: PASSWORD,
        partnership: 'sosafe',
        role: 'coordinator',
      },
      systemActor(),
    );
    const second = await actorFor('second@sosafe.example');
    const { id } = await upload(await smallWordPlan());
    await expect(previewWordUpload(database.db, second, partnershipId, id)).rejects.toBeInstanceOf(
      NotFoundError,
    );

    await database.db.execute(
      sql`update plan_uploads set expires_at = now() - interval '1 minute' where id = ${id}`,
    );
    await expect(preview(id)).rejects.toBeInstanceOf(NotFoundError);
    await upload(await smallWordPlan());
    const [left] = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from plan_uploads where expires_at < now()`,
    );
    expect(left!.n).toBe(0);
  });

  it('a save whose year was taken since it was chosen', async () => {
    const first = await upload(await smallWordPlan());
    await correct(first.id, formOf(await preview(first.id), { year: '2031/32' }));
    // Another upload is saved as 2031/32 first.
    const second = await upload(await smallWordPlan());
    await saveWordUpload(
      database.db,
      coordinator,
      partnershipId,
      second.id,
      formOf(await preview(second.id), { year: '2031/32' }),
    );
    expect((await preview(first.id)).problems[0]).toMatchObject({ field: 'year' });
    const problems = await problemsOf(saveWordUpload(database.db, coordinator, partnershipId, first.id));
    expect(problems[0]).toEqual({
      field: 'year',
      message: 'The 2031/32 plan exists already: choose a year the partnership has no plan for',
    });
  });
});
