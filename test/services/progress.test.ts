/**
 * Progress updates in the quarterly cycle: drafts and submissions, late marking, amendments after
 * a quarter is closed, the lead's one-page save, and JAG review with the returned update's email
 * received by a real SMTP server.
 */
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import * as t from '../../src/db/schema.js';
import { addDays, londonDate } from '../../src/domain/cycles.js';
import type { Member } from '../../src/domain/permissions.js';
import type { Quarter } from '../../src/domain/quarters.js';
import { memberActor, type Actor } from '../../src/services/actor.js';
import { closeQuarter, openQuarter, requestOutstanding } from '../../src/services/cycles.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../src/services/errors.js';
import { aimHistory, auditTrail } from '../../src/services/history.js';
import { Mailer } from '../../src/services/mail.js';
import { findAim, getPartnershipBySlug, loadPlanTree, type PlanTree } from '../../src/services/plan-read.js';
import {
  actionRecipients,
  getProgress,
  ledActionIds,
  progressFormData,
  reviewFormData,
  reviewUpdate,
  saveProgress,
  saveProgressMany,
  updatesFor,
} from '../../src/services/progress.js';
import { getMember } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';

const LINKS = { baseUrl: 'https://plan.sosafe.example' };

let database: TestDatabase;
let smtp: SmtpSink;
let mailer: Mailer;
let coordinator: Actor;
let lead: Actor;
let partner: Actor;
let planId: number;
let partnershipId: number;
/** Aim 3.1's actions: Helen Whitehead (CCSU) leads the first two; the third is led by others. */
let mine: number;
let mineToo: number;
let notMine: number;

async function actorFor(email: string): Promise<Actor> {
  const [user] = await queryRows<{ id: number; partnership_id: number }>(
    database.db,
    sql`select u.id, m.partnership_id from users u join memberships m on m.user_id = u.id where u.email = ${email}`,
  );
  return memberActor((await getMember(database.db, user!.id, user!.partnership_id)) as Member);
}

async function tree(): Promise<PlanTree> {
  return loadPlanTree(database.db, await getPartnershipBySlug(database.db, 'sosafe'), '2024/25');
}

async function auditKinds(): Promise<string[]> {
  const rows = await queryRows<{ kind: string }>(database.db, sql`select kind from audit_events order by id`);
  return rows.map((r) => r.kind);
}

/** A quarter opened directly in the database (the cycle service is tested on its own). */
async function openCycle(quarter: Quarter, dueOn: string, options: { closed?: boolean } = {}) {
  await database.db.insert(t.quarterCycles).values({
    partnershipId,
    planId,
    quarter,
    dueOn,
    openedBy: coordinator.userId,
    closedAt: options.closed ? new Date() : null,
    closedBy: options.closed ? coordinator.userId : null,
  });
}

async function closeCycle(quarter: Quarter) {
  await database.db
    .update(t.quarterCycles)
    .set({ closedAt: new Date(), closedBy: coordinator.userId })
    .where(and(eq(t.quarterCycles.planId, planId), eq(t.quarterCycles.quarter, quarter)));
}

const today = () => londonDate(new Date());

async function problemsOf(promise: Promise<unknown>): Promise<{ field: string; message: string }[]> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).problems;
}

async function countQ4(): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    database.db,
    sql`select count(*)::int as n from progress_updates where quarter = 4`,
  );
  return row!.n;
}

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
  smtp = await startSmtpSink();
  mailer = new Mailer({ smtpUrl: smtp.url, from: 'SoSafe Plan <plan@sosafe.example>' });
  coordinator = await actorFor('coordinator@sosafe.example');
  lead = await actorFor('helen.whitehead@sosafe.example');
  partner = await actorFor('partner@sosafe.example');
  const plan = await tree();
  planId = plan.plan.id;
  partnershipId = plan.partnership.id;
  const actions = findAim(plan, '3.1').aim.actions;
  [mine, mineToo, notMine] = actions.map((a) => a.id) as [number, number, number];
});

afterAll(async () => {
  mailer?.close();
  await smtp?.close();
  await database?.drop();
});

// Every test starts from the demo's Q4: no update for aim 3.1's actions, no quarter opened.
beforeEach(async () => {
  await database.db.delete(t.progressUpdates).where(eq(t.progressUpdates.quarter, 4));
  await database.db.delete(t.quarterCycles);
  smtp.messages.length = 0;
});

describe('saving as a draft or submitting', () => {
  it('a submitted update needs both the status and the progress made', async () => {
    expect(await problemsOf(saveProgress(database.db, lead, mine, { quarter: 4, intent: 'submit' }))).toEqual(
      [
        { field: 'status', message: 'Select the status' },
        { field: 'text', message: 'Enter the progress made' },
      ],
    );
    // Submit is what a form without a button's intent means.
    expect(
      await problemsOf(saveProgress(database.db, lead, mine, { quarter: 4, text: 'Ran 3 courses' })),
    ).toEqual([{ field: 'status', message: 'Select the status' }]);
    expect(await countQ4()).toBe(0);
  });

  it('a draft needs the progress made or a status, and either is enough', async () => {
    expect(
      await problemsOf(saveProgress(database.db, lead, mine, { quarter: 4, intent: 'draft', text: '  ' })),
    ).toEqual([
      { field: 'text', message: 'Enter the progress made, or choose a status, before saving a draft' },
    ]);

    const statusOnly = await saveProgress(database.db, lead, mine, {
      quarter: 4,
      intent: 'draft',
      status: 'at_risk',
    });
    expect(statusOnly).toMatchObject({ created: true, state: 'draft', late: false, amendment: false });
    const textOnly = await saveProgress(database.db, lead, mineToo, {
      quarter: 4,
      intent: 'draft',
      text: 'Half written',
    });
    expect(textOnly.state).toBe('draft');
    expect(await getProgress(database.db, mineToo, 4)).toMatchObject({
      text: 'Half written',
      status: null,
      state: 'draft',
      submittedAt: null,
    });
  });

  it('an evidence link must be a full web address', async () => {
    const message = 'Enter the evidence link as a full web address, starting with https://';
    for (const evidenceUrl of [
      'www.sosafe.example/report',
      'ftp://files.example/report',
      'javascript:alert(1)',
    ]) {
      expect(
        await problemsOf(
          saveProgress(database.db, lead, mine, {
            quarter: 4,
            status: 'on_track',
            text: 'Done',
            evidenceUrl,
          }),
        ),
      ).toEqual([{ field: 'evidenceUrl', message }]);
    }
    const tooLong = `https://sosafe.example/${'a'.repeat(2000)}`;
    const [problem] = await problemsOf(
      saveProgress(database.db, lead, mine, {
        quarter: 4,
        status: 'on_track',
        text: 'Done',
        evidenceUrl: tooLong,
      }),
    );
    expect(problem!.field).toBe('evidenceUrl');
    expect(await countQ4()).toBe(0);

    await saveProgress(database.db, lead, mine, {
      quarter: 4,
      status: 'on_track',
      text: 'Done',
      evidenceUrl: ' https://www.stevenage.gov.uk/news/courses ',
    });
    expect((await getProgress(database.db, mine, 4))!.evidenceUrl).toBe(
      'https://www.stevenage.gov.uk/news/courses',
    );
  });

  it('a draft stays off the plan: only its form shows it, until it is submitted', async () => {
    const draft = await saveProgress(database.db, lead, mine, {
      quarter: 4,
      intent: 'draft',
      status: 'on_track',
      text: 'Not ready for the board',
    });
    const actionOnPlan = async () => findAim(await tree(), '3.1').aim.actions[0]!;
    expect((await actionOnPlan()).progress.map((p) => p.quarter)).toEqual([1, 2, 3]);
    const form = await progressFormData(database.db, lead, mine, 4);
    expect(form.update).toMatchObject({ id: draft.id, state: 'draft', text: 'Not ready for the board' });

    await saveProgress(database.db, lead, mine, {
      quarter: 4,
      status: 'on_track',
      text: 'Ready for the board',
      version: draft.version,
    });
    const q4 = (await actionOnPlan()).progress.find((p) => p.quarter === 4);
    expect(q4).toMatchObject({ text: 'Ready for the board', state: 'submitted', late: false });
  });

  it('a quarter never opened still takes updates: submitted, never late', async () => {
    const saved = await saveProgress(database.db, lead, mine, {
      quarter: 4,
      status: 'complete',
      text: 'Done',
    });
    expect(saved).toMatchObject({ state: 'submitted', late: false, amendment: false });
    expect((await getProgress(database.db, mine, 4))!.submittedAt).toBeInstanceOf(Date);
  });
});

describe('saving from the plan’s form, within a plan', () => {
  const within = () => ({ partnershipId, year: '2024/25' });
  const input = { quarter: 4, status: 'on_track', text: 'Ran 3 courses' };

  it('says where the action is shown: its aim and its number among the aim’s live actions', async () => {
    const saved = await saveProgress(database.db, lead, mineToo, input, { within: within() });
    expect(saved.place).toEqual({ aimNumber: '3.1', actionNumber: 2 });
    const first = await saveProgress(database.db, coordinator, mine, input, { within: within() });
    expect(first.place).toEqual({ aimNumber: '3.1', actionNumber: 1 });
    // Without `within`, as before: no place.
    const again = await saveProgress(database.db, lead, mineToo, { ...input, version: saved.version });
    expect(again.place).toBeUndefined();
  });

  it('finds only a live action of that plan, and checks the permission before the form', async () => {
    await expect(
      saveProgress(database.db, lead, mine, input, { within: { partnershipId, year: '2023/24' } }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      saveProgress(database.db, lead, mine, input, {
        within: { partnershipId: partnershipId + 1000, year: '2024/25' },
      }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(saveProgress(database.db, lead, 0, input, { within: within() })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    // A partner may not record progress, even with a form that is wrong too.
    await expect(
      saveProgress(database.db, partner, mine, { quarter: 4 }, { within: within() }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(saveProgress(database.db, lead, notMine, { quarter: 4 })).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    expect(await countQ4()).toBe(0);
  });
});

describe('an open quarter', () => {
  it('marks an update submitted after the due date as late, and one before it as on time', async () => {
    await openCycle(4, addDays(today(), -1));
    const late = await saveProgress(database.db, lead, mine, {
      quarter: 4,
      status: 'on_track',
      text: 'Late',
    });
    expect(late).toMatchObject({ state: 'submitted', late: true });
    const row = await getProgress(database.db, mine, 4);
    expect(row).toMatchObject({ state: 'submitted', late: true });
    expect(row!.submittedAt).toBeInstanceOf(Date);

    await database.db.delete(t.progressUpdates).where(eq(t.progressUpdates.quarter, 4));
    await database.db.delete(t.quarterCycles);
    await openCycle(4, addDays(today(), 1));
    const onTime = await saveProgress(database.db, lead, mine, {
      quarter: 4,
      status: 'on_track',
      text: 'Early',
    });
    expect(onTime).toMatchObject({ state: 'submitted', late: false });
  });

  it('a draft saved after the due date is not marked late until it is submitted', async () => {
    await openCycle(4, addDays(today(), -3));
    const draft = await saveProgress(database.db, lead, mine, {
      quarter: 4,
      intent: 'draft',
      text: 'Drafting',
    });
    expect(draft).toMatchObject({ state: 'draft', late: false });
    const submitted = await saveProgress(database.db, lead, mine, {
      quarter: 4,
      status: 'on_track',
      text: 'Done',
      version: draft.version,
    });
    expect(submitted).toMatchObject({ state: 'submitted', late: true });
  });

  it('changing an accepted update sends it back for review', async () => {
    await openCycle(4, addDays(today(), 7));
    const saved = await saveProgress(database.db, lead, mine, {
      quarter: 4,
      status: 'on_track',
      text: 'Done',
    });
    await reviewUpdate(
      { db: database.db, mailer },
      coordinator,
      saved.id,
      { decision: 'accept', version: saved.version },
      LINKS,
    );
    const accepted = (await getProgress(database.db, mine, 4))!;
    expect(accepted).toMatchObject({
      state: 'accepted',
      reviewedBy: coordinator.userId,
      reviewComment: null,
    });
    expect(accepted.reviewedAt).toBeInstanceOf(Date);

    const changed = await saveProgress(database.db, lead, mine, {
      quarter: 4,
      status: 'at_risk',
      text: 'A venue fell through',
      version: accepted.version,
    });
    expect(changed.state).toBe('submitted');
    // …and a draft takes it back to its lead.
    const drafted = await saveProgress(database.db, lead, mine, {
      quarter: 4,
      intent: 'draft',
      status: 'at_risk',
      text: 'Rewriting',
      version: changed.version,
    });
    expect(drafted.state).toBe('draft');
  });

  it('records state, evidence link and lateness in the audit trail', async () => {
    await openCycle(4, addDays(today(), -1));
    await saveProgress(database.db, lead, mine, {
      quarter: 4,
      status: 'on_track',
      text: 'Done',
      evidenceUrl: 'https://sosafe.example/evidence',
    });
    const [event] = await queryRows<{ kind: string; after: Record<string, unknown> }>(
      database.db,
      sql`select kind, after from audit_events order by id desc limit 1`,
    );
    expect(event).toMatchObject({
      kind: 'progress.added',
      after: {
        actionId: mine,
        quarter: 4,
        state: 'submitted',
        late: true,
        evidenceUrl: 'https://sosafe.example/evidence',
      },
    });
  });

  it('a change writes one audit event with what it was and what it is, by whom; a stale one writes none', async () => {
    const first = await saveProgress(database.db, lead, mine, {
      quarter: 2,
      status: 'at_risk',
      text: 'Slow start',
      version: (await getProgress(database.db, mine, 2))?.version,
    });
    const events = async () =>
      queryRows<{
        kind: string;
        entity_id: string;
        actor_label: string;
        summary: string;
        before: unknown;
        after: unknown;
      }>(
        database.db,
        sql`select kind, entity_id, actor_label, summary, before, after from audit_events order by id`,
      );
    const before = (await events()).length;
    const changed = await saveProgress(database.db, lead, mine, {
      quarter: 2,
      status: 'on_track',
      text: 'Caught up',
      version: first.version,
    });
    expect(changed.version).toBe(first.version + 1);
    const after = await events();
    expect(after).toHaveLength(before + 1);
    expect(after.at(-1)).toMatchObject({
      kind: 'progress.updated',
      entity_id: String(first.id),
      actor_label: lead.label,
      summary: 'Changed the Q2 progress update',
      before: { status: 'at_risk', text: 'Slow start', state: 'submitted' },
      after: { actionId: mine, quarter: 2, status: 'on_track', text: 'Caught up', state: 'submitted' },
    });
    await expect(
      saveProgress(database.db, lead, mine, {
        quarter: 2,
        status: 'off_track',
        text: 'Stale',
        version: first.version,
      }),
    ).rejects.toBeInstanceOf(ConflictError);
    expect(await events()).toHaveLength(before + 1);
  });
});

describe('after the quarter is closed', () => {
  it('a change is an amendment: the state is kept, amended_at set, and audited as such', async () => {
    await openCycle(4, addDays(today(), 7));
    const saved = await saveProgress(database.db, lead, mine, {
      quarter: 4,
      status: 'on_track',
      text: 'As reported',
    });
    const reviewed = await reviewUpdate(
      { db: database.db, mailer },
      coordinator,
      saved.id,
      { decision: 'accept', version: saved.version },
      LINKS,
    );
    expect(reviewed.state).toBe('accepted');
    await closeCycle(4);

    const current = (await getProgress(database.db, mine, 4))!;
    const amended = await saveProgress(database.db, lead, mine, {
      quarter: 4,
      status: 'complete',
      text: 'Finished after the board met',
      version: current.version,
    });
    expect(amended).toMatchObject({ state: 'accepted', amendment: true, created: false });
    const row = (await getProgress(database.db, mine, 4))!;
    expect(row.amendedAt).toBeInstanceOf(Date);
    expect(row.text).toBe('Finished after the board met');
    expect((await auditKinds()).at(-1)).toBe('progress.amended');
    const history = await aimHistory(database.db, partner, findAim(await tree(), '3.1').aim.id);
    expect(history[0]).toMatchObject({ what: 'Amended the Q4 progress update', about: 'Action 1' });
  });

  it('an update first added after closing is an amendment, submitted', async () => {
    await openCycle(4, addDays(today(), -10), { closed: true });
    const added = await saveProgress(database.db, lead, mineToo, {
      quarter: 4,
      status: 'on_track',
      text: 'Late news',
    });
    expect(added).toMatchObject({ created: true, state: 'submitted', amendment: true });
    expect((await getProgress(database.db, mineToo, 4))!.amendedAt).toBeInstanceOf(Date);
  });

  it('refuses a draft: changes to a closed quarter are amendments', async () => {
    await openCycle(4, addDays(today(), -10), { closed: true });
    expect(
      await problemsOf(
        saveProgress(database.db, lead, mine, { quarter: 4, intent: 'draft', text: 'A draft' }),
      ),
    ).toEqual([
      {
        field: 'intent',
        message:
          'This quarter has been closed. Changes to it are saved as amendments to what the board was shown.',
      },
    ]);
    expect(
      await problemsOf(
        saveProgressMany(database.db, lead, planId, 4, [{ actionId: mine, text: 'A draft' }], 'draft'),
      ),
    ).toEqual([expect.objectContaining({ field: 'intent' })]);
    expect(await countQ4()).toBe(0);
  });
});

describe('the lead’s one page of updates', () => {
  it('saves every filled-in action in one go and leaves blank ones alone', async () => {
    const saved = await saveProgressMany(
      database.db,
      lead,
      planId,
      4,
      [
        { actionId: mine, status: 'on_track', text: 'First', evidenceUrl: '' },
        { actionId: mineToo, status: '', text: '  ', evidenceUrl: '', version: '' },
      ],
      'submit',
    );
    expect(saved.map((s) => [s.actionId, s.state])).toEqual([[mine, 'submitted']]);
    expect(await getProgress(database.db, mineToo, 4)).toBeUndefined();
  });

  it('is all or nothing: one bad entry and nothing is written', async () => {
    const entries = [
      { actionId: mine, status: 'on_track', text: 'Fine' },
      { actionId: mineToo, text: 'No status given', evidenceUrl: 'not a link' },
    ];
    expect(await problemsOf(saveProgressMany(database.db, lead, planId, 4, entries, 'submit'))).toEqual([
      { field: `status-${mineToo}`, message: 'Select the status' },
      {
        field: `evidenceUrl-${mineToo}`,
        message: 'Enter the evidence link as a full web address, starting with https://',
      },
    ]);
    expect(await countQ4()).toBe(0);

    // A refusal part-way through (an action she does not lead) rolls back what was already written.
    await expect(
      saveProgressMany(
        database.db,
        lead,
        planId,
        4,
        [
          { actionId: mine, status: 'on_track', text: 'Fine' },
          { actionId: notMine, status: 'on_track', text: 'Not hers' },
        ],
        'submit',
      ),
    ).rejects.toBeInstanceOf(ForbiddenError);
    expect(await countQ4()).toBe(0);

    // So does a stale version on the second entry.
    const first = await saveProgress(database.db, lead, mineToo, { quarter: 4, intent: 'draft', text: 'v1' });
    await expect(
      saveProgressMany(
        database.db,
        lead,
        planId,
        4,
        [
          { actionId: mine, status: 'on_track', text: 'Fine' },
          { actionId: mineToo, status: 'on_track', text: 'Stale', version: first.version + 5 },
        ],
        'submit',
      ),
    ).rejects.toBeInstanceOf(ConflictError);
    expect(await getProgress(database.db, mine, 4)).toBeUndefined();
  });

  it('saves drafts with the page’s intent, and refuses an action of another plan', async () => {
    const saved = await saveProgressMany(
      database.db,
      lead,
      planId,
      4,
      [
        { actionId: mine, text: 'Draft one' },
        { actionId: mineToo, status: 'at_risk' },
      ],
      'draft',
    );
    expect(saved.map((s) => s.state)).toEqual(['draft', 'draft']);
    await expect(
      saveProgressMany(database.db, lead, planId + 1000, 4, [{ actionId: mine, text: 'Elsewhere' }], 'draft'),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists the actions a lead officer or their organisation leads; a coordinator’s only where named', async () => {
    expect(await ledActionIds(database.db, lead, planId)).toEqual([mine, mineToo]);
    const plan = await tree();
    const sbcLed = plan.sections
      .flatMap((s) => s.aims)
      .flatMap((a) => a.actions)
      .filter((a) => a.leads.some((l) => l.organisation === 'SBC'))
      .map((a) => a.id);
    expect(sbcLed.length).toBeGreaterThan(5);
    const sbcLeadOfficer = memberActor({ ...coordinator.member!, role: 'lead_officer' });
    expect(await ledActionIds(database.db, sbcLeadOfficer, planId)).toEqual(sbcLed);
    // The demo coordinator is not named on any action: SBC's actions are its lead officers' to update.
    expect(await ledActionIds(database.db, coordinator, planId)).toEqual([]);
    expect(await ledActionIds(database.db, partner, planId)).toEqual([]);
  });

  it('reads this quarter’s updates, drafts included, only for actions the reader may update', async () => {
    await saveProgress(database.db, lead, mine, { quarter: 4, intent: 'draft', text: 'Mine' });
    await saveProgress(database.db, coordinator, notMine, {
      quarter: 4,
      status: 'on_track',
      text: 'Not hers',
    });
    expect((await updatesFor(database.db, lead, [mine, mineToo, notMine], 4)).map((u) => u.actionId)).toEqual(
      [mine],
    );
    expect((await updatesFor(database.db, coordinator, [mine, notMine], 4)).map((u) => u.text)).toEqual([
      'Mine',
      'Not hers',
    ]);
    expect(await updatesFor(database.db, partner, [mine, notMine], 4)).toEqual([]);
  });
});

describe('the update form’s data', () => {
  it('shows the previous quarter’s update and the quarter’s cycle', async () => {
    await openCycle(4, '2025-04-14');
    const data = await progressFormData(database.db, lead, mine, 4);
    expect(data.update).toBeUndefined();
    expect(data.previous?.quarter).toBe(3);
    expect(data.cycle).toMatchObject({
      quarter: 4,
      dueOn: '2025-04-14',
      phase: 'open',
      openedBy: 'Casey Coordinator',
      closedAt: null,
      reportedOn: null,
    });
    expect((await progressFormData(database.db, lead, mineToo, 3)).previous?.quarter).toBe(1);
    await expect(progressFormData(database.db, partner, mine, 4)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(progressFormData(database.db, lead, notMine, 4)).rejects.toBeInstanceOf(ForbiddenError);
  });
});

describe('JAG review', () => {
  const deps = () => ({ db: database.db, mailer });

  it('is the coordinator’s (and reviewers’): a lead officer or partner is refused', async () => {
    await openCycle(4, addDays(today(), 7));
    const saved = await saveProgress(database.db, lead, mine, {
      quarter: 4,
      status: 'on_track',
      text: 'Done',
    });
    for (const actor of [lead, partner]) {
      await expect(
        reviewUpdate(deps(), actor, saved.id, { decision: 'accept', version: saved.version }, LINKS),
      ).rejects.toBeInstanceOf(ForbiddenError);
    }
    expect((await getProgress(database.db, mine, 4))!.state).toBe('submitted');
  });

  it('needs a decision, and a comment to return an update', async () => {
    await openCycle(4, addDays(today(), 7));
    const saved = await saveProgress(database.db, lead, mine, {
      quarter: 4,
      status: 'on_track',
      text: 'Done',
    });
    expect(
      await problemsOf(reviewUpdate(deps(), coordinator, saved.id, { version: saved.version }, LINKS)),
    ).toEqual([
      { field: 'decision', message: 'Select whether to accept the update or return it to its lead' },
    ]);
    expect(
      await problemsOf(
        reviewUpdate(
          deps(),
          coordinator,
          saved.id,
          { decision: 'return', comment: ' ', version: saved.version },
          LINKS,
        ),
      ),
    ).toEqual([{ field: 'comment', message: 'Enter what the lead officer needs to change' }]);
    const [tooLong] = await problemsOf(
      reviewUpdate(
        deps(),
        coordinator,
        saved.id,
        { decision: 'return', comment: 'x'.repeat(5001), version: saved.version },
        LINKS,
      ),
    );
    expect(tooLong!.field).toBe('comment');
    expect((await getProgress(database.db, mine, 4))!.state).toBe('submitted');
  });

  it('refuses drafts, stale versions and closed quarters', async () => {
    await openCycle(4, addDays(today(), 7));
    const draft = await saveProgress(database.db, lead, mine, {
      quarter: 4,
      intent: 'draft',
      text: 'Drafting',
    });
    const [problem] = await problemsOf(
      reviewUpdate(deps(), coordinator, draft.id, { decision: 'accept', version: draft.version }, LINKS),
    );
    expect(problem!.field).toBe('decision');

    const submitted = await saveProgress(database.db, lead, mine, {
      quarter: 4,
      status: 'on_track',
      text: 'Done',
      version: draft.version,
    });
    await expect(
      reviewUpdate(deps(), coordinator, submitted.id, { decision: 'accept', version: draft.version }, LINKS),
    ).rejects.toBeInstanceOf(ConflictError);

    await closeCycle(4);
    const [closed] = await problemsOf(
      reviewUpdate(
        deps(),
        coordinator,
        submitted.id,
        { decision: 'accept', version: submitted.version },
        LINKS,
      ),
    );
    expect(closed).toMatchObject({ field: 'decision', message: expect.stringContaining('closed') });
    expect((await getProgress(database.db, mine, 4))!.state).toBe('submitted');
  });

  it('returns an update to its lead by email with the comment and a link to the form; resubmitting makes it submitted', async () => {
    await openCycle(4, addDays(today(), 7));
    const saved = await saveProgress(database.db, lead, mine, {
      quarter: 4,
      status: 'on_track',
      text: 'Done',
    });
    const comment = 'Please say how many courses ran.\nAnd where.';
    const result = await reviewUpdate(
      deps(),
      coordinator,
      saved.id,
      { decision: 'return', comment, version: saved.version },
      LINKS,
    );
    expect(result).toEqual({ state: 'returned', emails: 1 });
    const row = (await getProgress(database.db, mine, 4))!;
    expect(row).toMatchObject({ state: 'returned', reviewComment: comment, reviewedBy: coordinator.userId });

    const email = await smtp.waitFor(
      (m) => m.to.includes('helen.whitehead@sosafe.example'),
      'the returned email',
    );
    expect(email.subject).toBe('SoSafe Stevenage: your Q4 2024/25 update for aim 3.1 has been returned');
    expect(email.text).toContain('> Please say how many courses ran.\n> And where.');
    expect(email.text).toContain('aim 3.1');
    expect(email.text).toContain(
      `${LINKS.baseUrl}/p/sosafe/plans/2024-25/actions/${mine}/progress?quarter=4`,
    );
    expect(smtp.messages).toHaveLength(1);
    const [sent] = await queryRows<{ sent_at: Date | null }>(
      database.db,
      sql`select sent_at from emails order by id desc limit 1`,
    );
    expect(sent!.sent_at).not.toBeNull();
    expect((await auditKinds()).at(-1)).toBe('progress.returned');

    // The form shows the comment; resubmitting makes it submitted again.
    expect((await progressFormData(database.db, lead, mine, 4)).update?.reviewComment).toBe(comment);
    const resubmitted = await saveProgress(database.db, lead, mine, {
      quarter: 4,
      status: 'on_track',
      text: 'Six courses ran, at the Leisure Centre.',
      version: row.version,
    });
    expect(resubmitted.state).toBe('submitted');
    await reviewUpdate(
      deps(),
      coordinator,
      resubmitted.id,
      { decision: 'accept', comment: 'Thanks', version: resubmitted.version },
      LINKS,
    );
    expect(await getProgress(database.db, mine, 4)).toMatchObject({
      state: 'accepted',
      reviewComment: 'Thanks',
    });
    expect((await auditKinds()).at(-1)).toBe('progress.accepted');
  });

  it('emails the person who recorded a returned update as well as the action’s lead', async () => {
    await openCycle(4, addDays(today(), 7));
    const saved = await saveProgress(database.db, coordinator, mineToo, {
      quarter: 4,
      status: 'at_risk',
      text: 'Recorded for Helen',
    });
    const result = await reviewUpdate(
      deps(),
      coordinator,
      saved.id,
      { decision: 'return', comment: 'Helen to confirm', version: saved.version },
      LINKS,
    );
    expect(result.emails).toBe(2);
    await smtp.waitFor((m) => m.to.includes('helen.whitehead@sosafe.example'), 'the lead’s email');
    await smtp.waitFor((m) => m.to.includes('coordinator@sosafe.example'), 'the recorder’s email');
  });

  /** The partner's or Helen's membership with the reviewer's box ticked, read back as a Member. */
  async function asReviewer(email: string): Promise<Actor> {
    await database.db
      .update(t.memberships)
      .set({ reviewsUpdates: true })
      .where(
        sql`${t.memberships.userId} = (select id from users where email = ${email}) and ${t.memberships.partnershipId} = ${partnershipId}`,
      );
    return actorFor(email);
  }

  async function notReviewer(email: string): Promise<void> {
    await database.db
      .update(t.memberships)
      .set({ reviewsUpdates: false })
      .where(sql`${t.memberships.userId} = (select id from users where email = ${email})`);
  }

  it('a partner the coordinator made a reviewer accepts and returns updates', async () => {
    const reviewer = await asReviewer('partner@sosafe.example');
    try {
      expect(reviewer.member?.reviewsUpdates).toBe(true);
      await openCycle(4, addDays(today(), 7));
      const saved = await saveProgress(database.db, lead, mine, {
        quarter: 4,
        status: 'on_track',
        text: 'Done',
      });
      const shown = await reviewFormData(database.db, reviewer, mine, 4);
      expect(shown.update?.id).toBe(saved.id);
      const result = await reviewUpdate(
        deps(),
        reviewer,
        saved.id,
        { decision: 'return', comment: 'Which schools?', version: saved.version },
        LINKS,
      );
      expect(result).toEqual({ state: 'returned', emails: 1 });
      expect(await getProgress(database.db, mine, 4)).toMatchObject({
        state: 'returned',
        reviewedBy: reviewer.userId,
        reviewComment: 'Which schools?',
      });
      const email = await smtp.waitFor((m) => m.to.includes('helen.whitehead@sosafe.example'), 'the return');
      expect(email.text).toContain('Pat Partner has returned the Q4 2024/25 progress update');
      const [event] = await queryRows<{ kind: string; actor_label: string }>(
        database.db,
        sql`select kind, actor_label from audit_events order by id desc limit 1`,
      );
      expect(event).toEqual({ kind: 'progress.returned', actor_label: 'Pat Partner' });
    } finally {
      await notReviewer('partner@sosafe.example');
    }
  });

  it('a reviewer never reviews an action they lead, and sees no drafts', async () => {
    const helen = await asReviewer('helen.whitehead@sosafe.example');
    try {
      await openCycle(4, addDays(today(), 7));
      const own = await saveProgress(database.db, helen, mine, {
        quarter: 4,
        status: 'on_track',
        text: 'Mine',
      });
      const refused = await reviewUpdate(
        deps(),
        helen,
        own.id,
        { decision: 'accept', version: own.version },
        LINKS,
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(ForbiddenError);
      expect((refused as Error).message).toMatch(
        /^You lead this action, so its update is reviewed by someone else/,
      );
      await expect(reviewFormData(database.db, helen, mine, 4)).rejects.toBeInstanceOf(ForbiddenError);
      expect((await getProgress(database.db, mine, 4))!.state).toBe('submitted');

      // A partner the plan names as a lead is refused too.
      const named = memberActor({
        ...partner.member!,
        reviewsUpdates: true,
        personId: lead.member!.personId,
      });
      await expect(
        reviewUpdate(deps(), named, own.id, { decision: 'accept', version: own.version }, LINKS),
      ).rejects.toBeInstanceOf(ForbiddenError);

      // Someone else's action she may review; its draft is not hers to see until it is sent.
      const draft = await saveProgress(database.db, coordinator, notMine, {
        quarter: 4,
        intent: 'draft',
        text: 'Not sent yet',
      });
      expect((await reviewFormData(database.db, helen, notMine, 4)).update).toBeUndefined();
      expect((await reviewFormData(database.db, coordinator, notMine, 4)).update?.id).toBe(draft.id);
      const sent = await saveProgress(database.db, coordinator, notMine, {
        quarter: 4,
        status: 'at_risk',
        text: 'Sent',
        version: draft.version,
      });
      expect(
        await reviewUpdate(deps(), helen, sent.id, { decision: 'accept', version: sent.version }, LINKS),
      ).toEqual({ state: 'accepted', emails: 0 });
    } finally {
      await notReviewer('helen.whitehead@sosafe.example');
    }
  });

  it('a reviewer does not open, chase or close quarters; the box means nothing to the board', async () => {
    const reviewer = await asReviewer('partner@sosafe.example');
    try {
      await expect(
        openQuarter(deps(), reviewer, planId, { quarter: 4, dueOn: addDays(today(), 7) }, LINKS),
      ).rejects.toBeInstanceOf(ForbiddenError);
      await openCycle(4, addDays(today(), 7));
      const [cycle] = await database.db.select().from(t.quarterCycles);
      await expect(requestOutstanding(deps(), reviewer, cycle!.id, LINKS)).rejects.toBeInstanceOf(
        ForbiddenError,
      );
      await expect(
        closeQuarter(database.db, reviewer, cycle!.id, { reportedOn: today(), version: cycle!.version }),
      ).rejects.toBeInstanceOf(ForbiddenError);
      expect((await database.db.select().from(t.quarterCycles))[0]!.closedAt).toBeNull();

      const saved = await saveProgress(database.db, lead, mine, {
        quarter: 4,
        status: 'on_track',
        text: 'Done',
      });
      const board = memberActor({ ...partner.member!, role: 'board_member', reviewsUpdates: true });
      await expect(
        reviewUpdate(deps(), board, saved.id, { decision: 'accept', version: saved.version }, LINKS),
      ).rejects.toBeInstanceOf(ForbiddenError);
      await expect(reviewFormData(database.db, partner, mine, 4)).rejects.toBeInstanceOf(ForbiddenError);
    } finally {
      await notReviewer('partner@sosafe.example');
    }
  });

  it('asks the named lead with an account for an action', async () => {
    expect((await actionRecipients(database.db, mine)).map((r) => r.email)).toEqual([
      'helen.whitehead@sosafe.example',
    ]);
  });
});

describe('drafts and the aim’s history', () => {
  it('leaves out a lead’s draft until it is submitted (the coordinator’s trail keeps it)', async () => {
    const aim31 = findAim(await tree(), '3.1').aim;
    const actionId = mineToo;
    const draft = await saveProgress(database.db, lead, actionId, {
      quarter: 4,
      intent: 'draft',
      text: 'Half-written thoughts about the Q4 courses',
    });
    const whileDraft = await aimHistory(database.db, partner, aim31.id);
    expect(JSON.stringify(whileDraft)).not.toContain('Half-written thoughts');
    const trail = await auditTrail(database.db, coordinator, partnershipId, {});
    expect(JSON.stringify(trail)).toContain('Half-written thoughts');
    await saveProgress(database.db, lead, actionId, {
      quarter: 4,
      intent: 'submit',
      status: 'on_track',
      text: 'Three courses ran in Q4',
      version: draft.version,
    });
    const submitted = await aimHistory(database.db, partner, aim31.id);
    expect(submitted[0]).toMatchObject({ who: 'Helen Whitehead', about: 'Action 2' });
    expect(JSON.stringify(submitted[0])).toContain('Three courses ran in Q4');
  });
});
