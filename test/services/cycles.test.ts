/**
 * The quarterly cycle over the demo plan, with the email a real SMTP server receives: open Q4
 * 2024/25, the submission board, asking for what was not asked, closing into the board's snapshot,
 * and that snapshot staying as it was after the plan and an update change.
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { queryRows } from '../../src/db/client.js';
import type { Member } from '../../src/domain/permissions.js';
import { memberActor, systemActor, type Actor } from '../../src/services/actor.js';
import { addDays, londonDate } from '../../src/domain/cycles.js';
import {
  closeQuarter,
  formatDay,
  getCycle,
  getSnapshot,
  listAmendments,
  listCycles,
  openQuarter,
  requestOutstanding,
  submissionBoard,
  type CycleDeps,
} from '../../src/services/cycles.js';
import { ConflictError, ForbiddenError, ValidationError } from '../../src/services/errors.js';
import { createServices } from '../../src/services/index.js';
import { Mailer } from '../../src/services/mail.js';
import { updateAim } from '../../src/services/plan-edit.js';
import { findAim, getPartnershipBySlug, loadPlanTree, type PlanTree } from '../../src/services/plan-read.js';
import { saveProgress } from '../../src/services/progress.js';
import { addUser, getMember } from '../../src/services/users.js';
import { buildApp } from '../../src/web/app.js';
import { Session } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { TEST_PASSWORD } from '../support/password.js';
import { startSmtpSink, type ReceivedEmail, type SmtpSink } from '../support/smtp.js';

/** The demo accounts' password (the demo template's). */
const PASSWORD = TEST_PASSWORD;
const links = { baseUrl: 'https://plan.example.test' };
const OPENED = new Date('2025-04-01T09:00:00Z');

let database: TestDatabase;
let smtp: SmtpSink;
let deps: CycleDeps;
let coordinator: Actor;
let helen: Actor;
let tania: Actor;
let partner: Actor;
let board: Actor;
let planId: number;

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

async function organisationId(name: string): Promise<number> {
  const [row] = await queryRows<{ id: number }>(
    database.db,
    sql`select id from organisations where name = ${name}`,
  );
  return row!.id;
}

async function auditKinds(): Promise<string[]> {
  const rows = await queryRows<{ kind: string }>(database.db, sql`select kind from audit_events order by id`);
  return rows.map((r) => r.kind);
}

function problemsOf(error: unknown): { field: string; message: string }[] {
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).problems;
}

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: unknown) => error,
  );
}

/** The action ids an email links to, in order, and the quarter of each link. */
function formLinks(message: ReceivedEmail): { actionId: number; quarter: string; url: URL }[] {
  return [
    ...message.text.matchAll(
      /https:\/\/plan\.example\.test\/p\/sosafe\/plans\/2024-25\/actions\/\d+\/progress\?quarter=\d/g,
    ),
  ].map(([href]) => {
    const url = new URL(href);
    return {
      actionId: Number(/actions\/(\d+)\//.exec(url.pathname)![1]),
      quarter: url.searchParams.get('quarter')!,
      url,
    };
  });
}

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
  // Tania King of SADA, the demo's second lead officer, is named as a lead of 2.1, 2.3 and 5.5.
  smtp = await startSmtpSink();
  deps = { db: database.db, mailer: new Mailer({ smtpUrl: smtp.url }) };
  coordinator = await actorFor('coordinator@sosafe.example');
  helen = await actorFor('helen.whitehead@sosafe.example');
  tania = await actorFor('tania.king@sosafe.example');
  partner = await actorFor('partner@sosafe.example');
  board = await actorFor('board@sosafe.example');
  planId = (await tree()).plan.id;
});
afterAll(async () => {
  deps?.mailer.close();
  await smtp?.close();
  await database?.drop();
});

describe('opening a quarter', () => {
  it('is the coordinator’s: lead officers, partners and board members are refused', async () => {
    for (const actor of [helen, partner, board]) {
      await expect(
        openQuarter(deps, actor, planId, { quarter: 4, dueOn: '2025-04-14' }, links, OPENED),
      ).rejects.toBeInstanceOf(ForbiddenError);
    }
    expect(await listCycles(database.db, coordinator, planId)).toEqual([]);
  });

  it('refuses a missing quarter, an impossible or early due date and unreadable reminder days, writing nothing', async () => {
    const open = (input: Record<string, unknown>) =>
      refusal(openQuarter(deps, coordinator, planId, input, links, OPENED));
    expect(problemsOf(await open({ quarter: '', dueOn: '2025-04-14' }))).toEqual([
      { field: 'quarter', message: 'Select the quarter' },
    ]);
    expect(problemsOf(await open({ quarter: 4, dueOn: '2025-02-30' }))).toEqual([
      { field: 'dueOn', message: 'Enter the due date, for example 14 4 2025' },
    ]);
    expect(problemsOf(await open({ quarter: 4 }))).toEqual([
      { field: 'dueOn', message: 'Enter the due date, for example 14 4 2025' },
    ]);
    expect(problemsOf(await open({ quarter: 4, dueOn: '2024-12-31' }))).toEqual([
      { field: 'dueOn', message: 'The due date must be on or after 1 January 2025, when Q4 starts' },
    ]);
    expect(problemsOf(await open({ quarter: 4, dueOn: '2205-04-14' }))[0]?.field).toBe('dueOn');
    // Up to a year after the quarter ends or after today, whichever is later: a late round is fine.
    const opened = londonDate(OPENED);
    const yearAfterToday = addDays(opened > '2025-03-31' ? opened : '2025-03-31', 366);
    expect(problemsOf(await open({ quarter: 4, dueOn: addDays(yearAfterToday, 1) }))).toEqual([
      { field: 'dueOn', message: `The due date must be on or before ${formatDay(yearAfterToday)}` },
    ]);
    expect(problemsOf(await open({ quarter: 4, dueOn: '2025-04-14', reminderOffsets: '-7, soon' }))).toEqual([
      {
        field: 'reminderOffsets',
        message: 'Enter reminder days as whole numbers from -60 to 60, separated by commas',
      },
    ]);
    expect(problemsOf(await open({ quarter: 4, dueOn: '2025-04-14', reminderOffsets: '90' }))[0]?.field).toBe(
      'reminderOffsets',
    );
    expect(await listCycles(database.db, coordinator, planId)).toEqual([]);
    expect(smtp.messages).toEqual([]);
  });

  it('asks every lead officer once, by one email listing their actions with a link to each form', async () => {
    const before = await tree();
    const result = await openQuarter(
      deps,
      coordinator,
      planId,
      { quarter: '4', dueOn: '2025-04-14', reminderOffsets: '' },
      links,
      OPENED,
    );
    expect(result.cycle).toMatchObject({
      planId,
      quarter: 4,
      dueOn: '2025-04-14',
      reminderOffsets: [-7, 1, 7],
      openedAt: OPENED,
      openedBy: 'Casey Coordinator',
      closedAt: null,
      phase: 'open',
      reportedOn: null,
    });
    const helensActions = findAim(before, '3.1')
      .aim.actions.slice(0, 2)
      .map((a) => a.id);
    const taniasActions = [
      ...['2.1', '2.2', '2.3', '2.4'].map((n) => findAim(before, n).aim.actions[0]!.id),
      findAim(before, '5.5').aim.actions[2]!.id,
    ];
    const liveActions = before.sections.flatMap((s) => s.aims.flatMap((a) => a.actions)).length;
    expect(result).toMatchObject({ requested: 7, notRequested: liveActions - 7, emails: 2 });

    expect(smtp.messages.map((m) => m.to)).toEqual(
      expect.arrayContaining([['helen.whitehead@sosafe.example'], ['tania.king@sosafe.example']]),
    );
    expect(smtp.messages).toHaveLength(2);
    const toHelen = smtp.messages.find((m) => m.to[0] === 'helen.whitehead@sosafe.example')!;
    expect(toHelen.subject).toBe(
      'SoSafe Stevenage: please send your Q4 2024/25 progress updates by 14 April 2025',
    );
    expect(toHelen.text).toContain('Hello Helen Whitehead');
    expect(toHelen.text).toContain(`Aim 3.1: ${findAim(before, '3.1').aim.title}`);
    expect(toHelen.text).toContain('Action 1: Advertise where the Hate Crime 3rd party');
    expect(toHelen.text).toContain('Action 2: Advertise what the 5 types of Hate Crime');
    expect(formLinks(toHelen).map((l) => [l.actionId, l.quarter])).toEqual(
      helensActions.map((id) => [id, '4']),
    );
    expect(toHelen.text).toContain('https://plan.example.test/p/sosafe/plans/2024-25/quarters/4/updates');
    const toTania = smtp.messages.find((m) => m.to[0] === 'tania.king@sosafe.example')!;
    expect(formLinks(toTania).map((l) => l.actionId)).toEqual(taniasActions);
    expect(toTania.text).not.toContain('Aim 3.1');

    expect(await auditKinds()).toContain('cycle.opened');
    expect(await getCycle(database.db, board, planId, 4)).toEqual(result.cycle);
    expect(await getCycle(database.db, board, planId, 3)).toBeUndefined();
  });

  it('the links in the email open the update forms once the lead officer has signed in', async () => {
    const toHelen = smtp.messages.find((m) => m.to[0] === 'helen.whitehead@sosafe.example')!;
    const app: FastifyInstance = await buildApp({
      config: loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }),
      services: createServices(database),
      sessionSecret: 'a test secret that is long enough to use, 48 chars',
    });
    try {
      const session = new Session(app);
      const [firstLink] = formLinks(toHelen);
      const path = `${firstLink!.url.pathname}${firstLink!.url.search}`;
      const signedOut = await session.get(path);
      expect(signedOut.statusCode).toBe(302);
      expect(signedOut.headers.location).toContain('/sign-in');
      await session.signIn('helen.whitehead@sosafe.example', PASSWORD);
      for (const link of formLinks(toHelen)) {
        const page = await session.get(`${link.url.pathname}${link.url.search}`);
        expect(page.statusCode).toBe(200);
        expect(page.body).toContain('name="intent"');
      }
      const list = await session.get('/p/sosafe/plans/2024-25/quarters/4/updates');
      expect(list.statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('refuses to open the same quarter twice', async () => {
    const error = await refusal(
      openQuarter(deps, coordinator, planId, { quarter: 4, dueOn: '2025-04-20' }, links, OPENED),
    );
    expect(problemsOf(error)).toEqual([{ field: 'quarter', message: 'Q4 has already been opened' }]);
    expect(await listCycles(database.db, partner, planId)).toHaveLength(1);
    expect(smtp.messages).toHaveLength(2);
  });

  it('is for members only to read', async () => {
    const outsider: Actor = { userId: null, label: 'outsider', member: undefined, system: false };
    await expect(listCycles(database.db, outsider, planId)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(getCycle(database.db, outsider, planId, 4)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(submissionBoard(database.db, outsider, planId, 4)).rejects.toBeInstanceOf(ForbiddenError);
  });
});

describe('the submission board', () => {
  it('shows every live action in plan order with its state, and counts them before any filter', async () => {
    const live = await tree();
    const result = await submissionBoard(database.db, board, planId, 4);
    const actions = live.sections.flatMap((s) => s.aims.flatMap((a) => a.actions));
    const order = actions.map((x) => x.id);
    expect(result.rows.map((r) => r.actionId)).toEqual(order);
    expect(result.total).toBe(order.length);
    // The demo already holds a Q4 update (aim 4.3, whose lead has no account): it counts as submitted.
    const withQ4 = actions.filter((a) => a.progress.some((p) => p.quarter === 4)).length;
    expect(withQ4).toBeGreaterThan(0);
    expect(result.counts).toEqual({
      not_requested: order.length - 7 - withQ4,
      requested: 7,
      draft: 0,
      submitted: withQ4,
      accepted: 0,
      returned: 0,
    });
    const first = result.rows.find((r) => r.aimNumber === '3.1' && r.actionIndex === 1)!;
    expect(first).toMatchObject({
      sectionNumber: 3,
      state: 'requested',
      recipients: ['Helen Whitehead'],
      requestedAt: OPENED,
      lastRemindedAt: null,
      remindersSent: 0,
      progressId: null,
    });
    expect(first.leads).toBe('CCSU (Helen Whitehead); SBC');
    // Nobody to ask for 1.1: its lead organisation has no lead officer with an account.
    expect(result.rows.find((r) => r.aimNumber === '1.1')).toMatchObject({
      state: 'not_requested',
      recipients: [],
      requestedAt: null,
    });
    expect(result.organisations.map((o) => o.name)).toEqual(
      expect.arrayContaining(['CCSU', 'SADA', 'SBC', 'Police']),
    );
  });

  it('follows what lead officers save: a submitted update and a draft', async () => {
    const aim = findAim(await tree(), '3.1').aim;
    const before = await submissionBoard(database.db, coordinator, planId, 4);
    await saveProgress(database.db, helen, aim.actions[0]!.id, {
      quarter: 4,
      status: 'on_track',
      text: 'Third party reporting centres advertised in the libraries.',
      intent: 'submit',
    });
    await saveProgress(database.db, helen, aim.actions[1]!.id, {
      quarter: 4,
      text: 'Half written.',
      intent: 'draft',
    });
    const result = await submissionBoard(database.db, coordinator, planId, 4);
    expect(result.counts).toMatchObject({
      requested: 5,
      draft: 1,
      submitted: before.counts.submitted + 1,
      not_requested: before.counts.not_requested,
    });
    const [one, two] = result.rows.filter((r) => r.aimNumber === '3.1');
    expect(one).toMatchObject({ state: 'submitted', status: 'on_track' });
    expect(one!.submittedAt).toBeInstanceOf(Date);
    expect(one!.progressId).toEqual(expect.any(Number));
    expect(two).toMatchObject({ state: 'draft' });
  });

  it('filters by lead organisation and by state, keeping the counts of the whole plan', async () => {
    const sada = await organisationId('SADA');
    const bySada = await submissionBoard(database.db, coordinator, planId, 4, { organisationId: sada });
    expect(bySada.rows.map((r) => r.aimNumber)).toEqual(['2.1', '2.2', '2.3', '2.4']);
    expect(bySada.rows.every((r) => r.leadOrganisationIds.includes(sada))).toBe(true);
    expect(bySada.total).toBeGreaterThan(4);
    expect(bySada.counts.requested).toBe(5);
    const drafts = await submissionBoard(database.db, coordinator, planId, 4, { state: 'draft' });
    expect(drafts.rows.map((r) => [r.aimNumber, r.actionIndex])).toEqual([['3.1', 2]]);
    const ccsuRequested = await submissionBoard(database.db, coordinator, planId, 4, {
      organisationId: await organisationId('CCSU'),
      state: 'requested',
    });
    expect(ccsuRequested.rows).toEqual([]);
  });

  it('works for a quarter never opened: states come from the updates alone', async () => {
    const live = await tree();
    const withQ3 = live.sections
      .flatMap((s) => s.aims.flatMap((a) => a.actions))
      .filter((a) => a.progress.some((p) => p.quarter === 3)).length;
    const result = await submissionBoard(database.db, partner, planId, 3);
    expect(result.cycle).toBeUndefined();
    expect(result.counts.requested).toBe(0);
    expect(result.counts.submitted).toBe(withQ3);
    expect(result.counts.not_requested).toBe(result.total - withQ3);
  });
});

describe('asking for what was not asked', () => {
  it('asks only the actions that now have someone to ask, and emails only the new lead officer', async () => {
    await addUser(
      database.db,
      {
        email: 'georgina.yeasley@sosafe.example',
        name: 'Georgina Yeasley',
        password: PASSWORD,
        partnership: 'sosafe',
        role: 'lead_officer',
        organisation: 'Police',
        person: 'Georgina Yeasley',
      },
      systemActor(),
    );
    const before = await submissionBoard(database.db, coordinator, planId, 4);
    const askable = before.rows.filter((r) => r.state === 'not_requested' && r.recipients.length);
    expect(askable.length).toBeGreaterThan(0);
    expect(askable.every((r) => r.recipients.join() === 'Georgina Yeasley')).toBe(true);

    await expect(requestOutstanding(deps, helen, before.cycle!.id, links)).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    const sent = smtp.messages.length;
    const result = await requestOutstanding(deps, coordinator, before.cycle!.id, links);
    expect(result).toEqual({ requested: askable.length, emails: 1 });
    const fresh = smtp.messages.slice(sent);
    expect(fresh.map((m) => m.to)).toEqual([['georgina.yeasley@sosafe.example']]);
    expect(formLinks(fresh[0]!).map((l) => l.actionId)).toEqual(askable.map((r) => r.actionId));

    expect(await requestOutstanding(deps, coordinator, before.cycle!.id, links)).toEqual({
      requested: 0,
      emails: 0,
    });
    expect(smtp.messages).toHaveLength(sent + 1);
    expect(await auditKinds()).toContain('cycle.requested');
  });
});

describe('closing the quarter', () => {
  let cycleId: number;
  let treeAtClosing: PlanTree;
  let boardAtClosing: Awaited<ReturnType<typeof submissionBoard>>;

  beforeAll(async () => {
    cycleId = (await getCycle(database.db, coordinator, planId, 4))!.id;
  });

  it('is the coordinator’s, needs the board’s date and the version the form was loaded with', async () => {
    const cycle = (await getCycle(database.db, coordinator, planId, 4))!;
    await expect(
      closeQuarter(database.db, helen, cycleId, { reportedOn: '2025-04-17', version: cycle.version }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(
      closeQuarter(database.db, tania, cycleId, { reportedOn: '2025-04-17', version: cycle.version }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    expect(
      problemsOf(
        await refusal(
          closeQuarter(database.db, coordinator, cycleId, { reportedOn: '17/04/2025', version: 1 }),
        ),
      ),
    ).toEqual([{ field: 'reportedOn', message: 'Enter the date of the board meeting' }]);
    expect(
      problemsOf(
        await refusal(closeQuarter(database.db, coordinator, cycleId, { reportedOn: '', version: 1 })),
      ),
    ).toEqual([{ field: 'reportedOn', message: 'Enter the date of the board meeting' }]);
    await expect(
      closeQuarter(database.db, coordinator, cycleId, {
        reportedOn: '2025-04-17',
        version: cycle.version + 1,
      }),
    ).rejects.toBeInstanceOf(ConflictError);
    expect((await getCycle(database.db, coordinator, planId, 4))!.phase).toBe('open');
  });

  it('freezes the plan, the board and the year’s changes as reported to the board', async () => {
    treeAtClosing = await tree();
    boardAtClosing = await submissionBoard(database.db, coordinator, planId, 4);
    const cycle = (await getCycle(database.db, coordinator, planId, 4))!;
    const closed = await closeQuarter(
      database.db,
      coordinator,
      cycleId,
      { reportedOn: '2025-04-17', version: String(cycle.version) },
      new Date('2025-04-16T15:00:00Z'),
    );
    expect(closed).toMatchObject({
      phase: 'closed',
      closedAt: new Date('2025-04-16T15:00:00Z'),
      closedBy: 'Casey Coordinator',
      reportedOn: '2025-04-17',
      version: cycle.version + 1,
    });
    const snapshot = (await getSnapshot(database.db, board, planId, 4))!;
    expect(snapshot).toMatchObject({
      cycleId,
      quarter: 4,
      planYear: '2024/25',
      reportedOn: '2025-04-17',
      takenAt: new Date('2025-04-16T15:00:00Z'),
      takenBy: 'Casey Coordinator',
    });
    expect(snapshot.tree).toEqual(treeAtClosing);
    expect(snapshot.tree.plan.createdAt).toBeInstanceOf(Date);
    expect(snapshot.board).toEqual(boardAtClosing.rows);
    // Fraud was added as a priority during the year (1 August 2024).
    expect(snapshot.changes).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'priority_added', title: 'Fraud' })]),
    );
    expect(await auditKinds()).toContain('cycle.closed');
    expect(await getSnapshot(database.db, board, planId, 3)).toBeUndefined();
  });

  it('refuses to close it twice, and asks nobody more once closed', async () => {
    const cycle = (await getCycle(database.db, coordinator, planId, 4))!;
    expect(
      problemsOf(
        await refusal(
          closeQuarter(database.db, coordinator, cycleId, {
            reportedOn: '2025-04-18',
            version: cycle.version,
          }),
        ),
      ),
    ).toEqual([{ field: 'reportedOn', message: 'Q4 2024/25 has already been closed' }]);
    await expect(requestOutstanding(deps, coordinator, cycleId, links)).rejects.toBeInstanceOf(
      ValidationError,
    );
    const snapshots = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from quarter_snapshots`,
    );
    expect(snapshots[0]!.n).toBe(1);
  });

  it('keeps the snapshot exactly as it was after the aim and an update are changed', async () => {
    const frozen = await getSnapshot(database.db, coordinator, planId, 4);
    const { aim } = findAim(await tree(), '3.1');
    await updateAim(database.db, coordinator, aim.id, {
      number: '3.1',
      title: 'A new title after the board met',
      version: aim.version,
    });
    const update = findAim(await tree(), '3.1').aim.actions[0]!.progress.find((p) => p.quarter === 4)!;
    const amended = await saveProgress(database.db, helen, aim.actions[0]!.id, {
      quarter: 4,
      status: 'complete',
      text: 'All twelve reporting centres now advertised.',
      intent: 'submit',
      version: update.version,
    });
    expect(amended.amendment).toBe(true);

    const after = await getSnapshot(database.db, coordinator, planId, 4);
    expect(after).toEqual(frozen);
    expect(findAim(after!.tree, '3.1').aim.title).toBe(aim.title);
    expect(findAim(await tree(), '3.1').aim.title).toBe('A new title after the board met');

    const amendments = await listAmendments(database.db, partner, cycleId);
    expect(amendments).toHaveLength(1);
    expect(amendments[0]).toMatchObject({
      actionId: aim.actions[0]!.id,
      aimNumber: '3.1',
      actionIndex: 1,
      by: 'Helen Whitehead',
      before: { status: 'on_track', text: 'Third party reporting centres advertised in the libraries.' },
      after: { status: 'complete', text: 'All twelve reporting centres now advertised.' },
    });
    expect(amendments[0]!.amendedAt).toBeInstanceOf(Date);
  });

  it('the database refuses to change or remove a snapshot', async () => {
    /** The database's own message, under the query error drizzle wraps it in. */
    const reason = async (query: Promise<unknown>) => {
      const error = (await refusal(query)) as Error & { cause?: Error };
      return error.cause?.message ?? error.message;
    };
    expect(
      await reason(database.db.execute(sql`update quarter_snapshots set reported_on = '2025-05-01'`)),
    ).toBe('quarter_snapshots are frozen: UPDATE is not allowed');
    expect(await reason(database.db.execute(sql`delete from quarter_snapshots`))).toBe(
      'quarter_snapshots are frozen: DELETE is not allowed',
    );
    expect((await getSnapshot(database.db, coordinator, planId, 4))!.reportedOn).toBe('2025-04-17');
  });
});
