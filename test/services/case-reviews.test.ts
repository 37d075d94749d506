/**
 * The Community Trigger register over the demo: applications and their threshold, the settings,
 * who sees personal details, the review, recommendations and outcome, redaction after the
 * retention period (and an audit trail with nothing personal in it), and the annual figures with
 * North Herts's published history, as CSV too.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { auditEvents, caseReviewComplaints } from '../../src/db/schema.js';
import { writeCaseReviewFiguresCsv } from '../../src/documents/case-review-csv.js';
import type { Member } from '../../src/domain/permissions.js';
import { memberActor, systemActor, type Actor } from '../../src/services/actor.js';
import {
  addRecommendation,
  archiveRecommendation,
  caseReviewRegister,
  createCaseReview,
  dailyRedactionJob,
  getCaseReview,
  getCaseReviewSettings,
  publicCaseReviewFigures,
  recordCaseReview,
  redactDueCaseReviews,
  saveCaseReviewOutcome,
  saveCaseReviewSettings,
  updateCaseReviewApplication,
  updateRecommendation,
} from '../../src/services/case-reviews.js';
import { ConflictError, ForbiddenError, ValidationError } from '../../src/services/errors.js';
import { getPartnershipBySlug } from '../../src/services/plan-read.js';
import { addUser, getMember } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let sosafe: number;
let northHerts: number;
let coordinator: Actor;
let helen: Actor;
let otherLead: Actor;
let partner: Actor;
let board: Actor;

async function actorFor(email: string, partnershipId: number): Promise<Actor> {
  const [user] = await queryRows<{ id: number }>(
    database.db,
    sql`select id from users where email = ${email}`,
  );
  return memberActor((await getMember(database.db, user!.id, partnershipId)) as Member);
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

const complaints = (...days: string[]) =>
  days.map((complainedOn, i) => ({
    complainedOn,
    agency: 'Police',
    summary: `Private summary ${i} of the noise`,
  }));

const application = (extra: Record<string, unknown> = {}) => ({
  receivedOn: '2024-06-01',
  applicantName: 'Alice Applicant',
  applicantContact: '1 Secret Street, Stevenage',
  contactPreference: 'email',
  vulnerability: 'Private vulnerability note',
  tenure: 'council',
  caseOfficerUserId: String(helen.userId),
  complaints: complaints('2024-01-12', '2024-03-02', '2024-05-20'),
  ...extra,
});

const PERSONAL = [
  'Alice Applicant',
  'Bob Private',
  'Secret Street',
  'Private vulnerability',
  'Private summary',
];

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
  sosafe = (await getPartnershipBySlug(database.db, 'sosafe')).id;
  northHerts = (await getPartnershipBySlug(database.db, 'north-herts')).id;
  await addUser(
    database.db,
    {
      email: 'other.lead@sosafe.example',
      name: 'Olive Otherlead',
      password: 'a password long enough for the test',
      partnership: 'sosafe',
      role: 'lead_officer',
    },
    systemActor(),
  );
  coordinator = await actorFor('coordinator@sosafe.example', sosafe);
  helen = await actorFor('helen.whitehead@sosafe.example', sosafe);
  otherLead = await actorFor('other.lead@sosafe.example', sosafe);
  partner = await actorFor('partner@sosafe.example', sosafe);
  board = await actorFor('board@sosafe.example', sosafe);
});
afterAll(async () => {
  await database?.drop();
});

describe('applications', () => {
  it('decides the threshold on save, says why, and numbers the applications by year', async () => {
    const met = await createCaseReview(database.db, coordinator, sosafe, application());
    expect(met).toMatchObject({ reference: 'CT-2024-001', thresholdMet: true });
    const view = await getCaseReview(database.db, coordinator, sosafe, met.id);
    expect(view.threshold.reason).toBe('3 complaints within 6 months: 12 Jan, 2 Mar, 20 May 2024');
    expect(view.complaints).toHaveLength(3);

    const notMet = await createCaseReview(
      database.db,
      coordinator,
      sosafe,
      application({ applicantName: 'Bob Private', complaints: complaints('2024-01-12', '2024-05-20') }),
    );
    expect(notMet).toMatchObject({ reference: 'CT-2024-002', thresholdMet: false });
    expect((await getCaseReview(database.db, coordinator, sosafe, notMet.id)).threshold.reason).toMatch(
      /^Not met: 3 complaints within 6 months needed, at most 2 complaints/,
    );
  });

  it('names every problem of the form, and writes nothing', async () => {
    const error = await errorOf(
      createCaseReview(
        database.db,
        coordinator,
        sosafe,
        application({
          applicantName: ' ',
          tenure: 'castle',
          complaints: [
            { complainedOn: '2024-07-01', agency: 'Police' },
            { complainedOn: '2024-02-30', agency: '' },
          ],
        }),
      ),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems.map((p) => p.field).sort()).toEqual([
      'applicantName',
      'complaints.1.agency',
      'complaints.1.complainedOn',
      'tenure',
    ]);
    const late = await errorOf(
      createCaseReview(
        database.db,
        coordinator,
        sosafe,
        application({ complaints: complaints('2024-07-01') }),
      ),
    );
    expect((late as ValidationError).problems).toEqual([
      {
        field: 'complaints.0.complainedOn',
        message: 'The date of a complaint must be on or before the date the application was received',
      },
    ]);
    const future = await errorOf(
      createCaseReview(database.db, coordinator, sosafe, application({ receivedOn: '2999-01-01' })),
    );
    expect((future as ValidationError).problems.map((p) => p.field)).toEqual(['receivedOn']);
  });

  it('is the coordinator’s to take', async () => {
    for (const actor of [helen, partner, board]) {
      expect(await errorOf(createCaseReview(database.db, actor, sosafe, application()))).toBeInstanceOf(
        ForbiddenError,
      );
    }
  });

  it('keeps decisions as made when the threshold changes; new and changed applications take the new one', async () => {
    const before = await createCaseReview(
      database.db,
      coordinator,
      sosafe,
      application({ complaints: complaints('2024-02-01', '2024-03-01') }),
    );
    expect(before.thresholdMet).toBe(false);
    const settings = await getCaseReviewSettings(database.db, coordinator, sosafe);
    const stale = {
      triggerComplaints: '2',
      triggerMonths: '6',
      retentionYears: '6',
      version: String(settings.version),
    };
    await saveCaseReviewSettings(database.db, coordinator, sosafe, stale);
    expect(await errorOf(saveCaseReviewSettings(database.db, coordinator, sosafe, stale))).toBeInstanceOf(
      ConflictError,
    );
    expect(
      await errorOf(saveCaseReviewSettings(database.db, helen, sosafe, { ...stale, version: '1' })),
    ).toBeInstanceOf(ForbiddenError);
    try {
      const old = await getCaseReview(database.db, coordinator, sosafe, before.id);
      expect(old.thresholdMet).toBe(false);
      expect(old.threshold.rule).toEqual({ complaints: 3, months: 6 });
      const after = await createCaseReview(
        database.db,
        coordinator,
        sosafe,
        application({ complaints: complaints('2024-02-01', '2024-03-01') }),
      );
      expect(after.thresholdMet).toBe(true);
      expect((await getCaseReview(database.db, coordinator, sosafe, after.id)).threshold.reason).toBe(
        '2 complaints within 6 months: 1 Feb, 1 Mar 2024',
      );
      // A change to the applicant alone keeps the decision; a change to the complaints decides again.
      const kept = await updateCaseReviewApplication(database.db, coordinator, sosafe, before.id, {
        ...application({ complaints: complaints('2024-02-01', '2024-03-01'), applicantContact: 'elsewhere' }),
        version: String(old.version),
      });
      expect(kept.thresholdMet).toBe(false);
      const decided = await updateCaseReviewApplication(database.db, coordinator, sosafe, before.id, {
        ...application({ complaints: complaints('2024-02-01', '2024-03-02') }),
        version: String(kept.version),
      });
      expect(decided.thresholdMet).toBe(true);
      const changed = await getCaseReview(database.db, coordinator, sosafe, before.id);
      expect(changed.complaints.map((c) => c.complainedOn)).toEqual(['2024-02-01', '2024-03-02']);
      // The complaints taken off the form are kept, archived; the rule decided with is the case's own.
      const stored = await database.db
        .select({ on: caseReviewComplaints.complainedOn, archivedAt: caseReviewComplaints.archivedAt })
        .from(caseReviewComplaints)
        .where(eq(caseReviewComplaints.caseReviewId, before.id))
        .orderBy(caseReviewComplaints.id);
      expect(stored.map((c) => [c.on, c.archivedAt !== null])).toEqual([
        ['2024-02-01', true],
        ['2024-03-01', true],
        ['2024-02-01', false],
        ['2024-03-02', false],
      ]);
      expect(changed.threshold.rule).toEqual({ complaints: 2, months: 6 });
      expect(
        await errorOf(
          updateCaseReviewApplication(database.db, coordinator, sosafe, before.id, {
            ...application(),
            version: String(kept.version),
          }),
        ),
      ).toBeInstanceOf(ConflictError);
    } finally {
      const now = await getCaseReviewSettings(database.db, coordinator, sosafe);
      await saveCaseReviewSettings(database.db, coordinator, sosafe, {
        triggerComplaints: '3',
        triggerMonths: '6',
        retentionYears: '6',
        version: String(now.version),
      });
    }
  });
});

describe('who sees personal details', () => {
  it('the coordinator and the case officer; not a partner, the board or another lead officer', async () => {
    const { id } = await createCaseReview(database.db, coordinator, sosafe, application());
    for (const actor of [coordinator, helen]) {
      const register = await caseReviewRegister(database.db, actor, sosafe);
      expect(register.cases.find((c) => c.id === id)?.applicantName).toBe('Alice Applicant');
      const view = await getCaseReview(database.db, actor, sosafe, id);
      expect(view.applicant?.name).toBe('Alice Applicant');
      expect(view.complaints[0]?.summary).toMatch(/^Private summary/);
    }
    for (const actor of [partner, board, otherLead]) {
      const register = await caseReviewRegister(database.db, actor, sosafe);
      expect(register.cases).toEqual([]);
      expect(register.figures.length).toBeGreaterThan(0);
      const sent = JSON.stringify(register);
      for (const text of PERSONAL) expect(sent).not.toContain(text);
      expect(await errorOf(getCaseReview(database.db, actor, sosafe, id))).toBeInstanceOf(ForbiddenError);
    }
    // The other partnership's coordinator is no member here.
    const elsewhere = await actorFor('coordinator@north-herts.example', northHerts);
    expect(await errorOf(caseReviewRegister(database.db, elsewhere, sosafe))).toBeInstanceOf(ForbiddenError);
  });
});

describe('the review, recommendations and outcome', () => {
  it('are recorded by the case officer with version checks; others are refused', async () => {
    const { id } = await createCaseReview(database.db, coordinator, sosafe, application());
    const review = await recordCaseReview(database.db, helen, sosafe, id, {
      reviewOn: '2024-06-20',
      panel: 'SBC, Police, Stevenage Homes',
      version: '1',
    });
    expect(
      await errorOf(
        recordCaseReview(database.db, helen, sosafe, id, { reviewOn: '2024-06-21', version: '1' }),
      ),
    ).toBeInstanceOf(ConflictError);
    expect(
      await errorOf(
        recordCaseReview(database.db, otherLead, sosafe, id, { reviewOn: '2024-06-21', version: '2' }),
      ),
    ).toBeInstanceOf(ForbiddenError);
    const early = await errorOf(
      recordCaseReview(database.db, helen, sosafe, id, {
        reviewOn: '2024-05-01',
        version: String(review.version),
      }),
    );
    expect((early as ValidationError).problems.map((p) => p.field)).toEqual(['reviewOn']);

    const added = await addRecommendation(database.db, helen, sosafe, id, {
      text: 'Mediation between the neighbours',
      owner: 'Stevenage Homes',
      dueOn: '2024-08-01',
    });
    const second = await addRecommendation(database.db, coordinator, sosafe, id, {
      text: 'A second one',
      owner: 'Police',
    });
    await updateRecommendation(database.db, helen, sosafe, id, added.id, {
      text: 'Mediation between the neighbours',
      owner: 'Stevenage Homes',
      dueOn: '2024-08-01',
      doneOn: '2024-07-30',
      version: String(added.version),
    });
    await archiveRecommendation(database.db, helen, sosafe, id, second.id, {
      version: String(second.version),
    });
    expect(
      await errorOf(addRecommendation(database.db, partner, sosafe, id, { text: 'No', owner: 'Nobody' })),
    ).toBeInstanceOf(ForbiddenError);

    await saveCaseReviewOutcome(database.db, helen, sosafe, id, {
      outcome: 'Actions agreed',
      applicantResponse: 'escalated',
      closedOn: '2024-08-05',
      version: String(review.version),
    });
    const view = await getCaseReview(database.db, coordinator, sosafe, id);
    expect(view).toMatchObject({
      reviewOn: '2024-06-20',
      applicantResponse: 'escalated',
      closedOn: '2024-08-05',
    });
    expect(view.recommendations.map((r) => [r.owner, r.doneOn])).toEqual([['Stevenage Homes', '2024-07-30']]);
    const year = (await caseReviewRegister(database.db, partner, sosafe)).figures.find(
      (f) => f.year === '2024/25',
    );
    expect(year).toMatchObject({ reviewsCarriedOut: 1, reviewsWithRecommendations: 1, source: 'register' });
  });
});

describe('redaction after the retention period', () => {
  it('removes the personal details, keeps the counts, and leaves nothing personal in the audit trail', async () => {
    const old = await createCaseReview(
      database.db,
      coordinator,
      sosafe,
      application({
        receivedOn: '2017-01-10',
        complaints: complaints('2016-09-01', '2016-10-01', '2016-12-01'),
      }),
    );
    await saveCaseReviewOutcome(database.db, coordinator, sosafe, old.id, {
      outcome: 'Closed',
      applicantResponse: 'satisfied',
      closedOn: '2017-05-01',
      version: '1',
    });
    const figuresBefore = (await caseReviewRegister(database.db, coordinator, sosafe)).figures;
    const now = new Date('2023-05-01T12:00:00Z');

    const dry = await redactDueCaseReviews(database.db, systemActor(), { now, dryRun: true });
    expect(dry.cases.map((c) => c.reference)).toEqual(['CT-2017-001']);
    expect((await getCaseReview(database.db, coordinator, sosafe, old.id)).applicant?.name).toBe(
      'Alice Applicant',
    );
    expect(
      (await redactDueCaseReviews(database.db, systemActor(), { now: new Date('2023-04-30T12:00:00Z') }))
        .cases,
    ).toEqual([]);
    expect(await errorOf(redactDueCaseReviews(database.db, coordinator, { now }))).toBeInstanceOf(
      ForbiddenError,
    );

    const done = await redactDueCaseReviews(database.db, systemActor('scheduler'), { now });
    expect(done.cases).toEqual([{ partnershipId: sosafe, reference: 'CT-2017-001', dueOn: '2023-05-01' }]);
    expect((await redactDueCaseReviews(database.db, systemActor(), { now })).cases).toEqual([]);

    const view = await getCaseReview(database.db, coordinator, sosafe, old.id);
    expect(view.applicant).toBeNull();
    expect(view.redactedAt).not.toBeNull();
    expect(view.complaints.map((c) => [c.complainedOn, c.summary])).toEqual([
      ['2016-09-01', null],
      ['2016-10-01', null],
      ['2016-12-01', null],
    ]);
    expect(view).toMatchObject({
      thresholdMet: true,
      tenure: 'council',
      closedOn: '2017-05-01',
      canManage: false,
    });
    const [row] = await queryRows<Record<string, unknown>>(
      database.db,
      sql`select applicant_name, applicant_contact, contact_preference, vulnerability from case_reviews where id = ${old.id}`,
    );
    expect(Object.values(row!)).toEqual([null, null, null, null]);
    expect((await caseReviewRegister(database.db, coordinator, sosafe)).figures).toEqual(figuresBefore);
    expect(
      await errorOf(
        updateCaseReviewApplication(database.db, coordinator, sosafe, old.id, {
          ...application(),
          version: '3',
        }),
      ),
    ).toBeInstanceOf(ForbiddenError);

    const events = await database.db
      .select({
        kind: auditEvents.kind,
        summary: auditEvents.summary,
        before: auditEvents.before,
        after: auditEvents.after,
      })
      .from(auditEvents)
      .where(eq(auditEvents.partnershipId, sosafe));
    const trail = JSON.stringify(events.filter((e) => e.kind.startsWith('case_review')));
    expect(trail).toContain('case_review.redacted');
    expect(trail).toContain('applicant details changed');
    for (const text of PERSONAL) expect(trail).not.toContain(text);
  });
});

describe('the scheduler’s redaction job', () => {
  it('redacts what is due, at most once a day', async () => {
    await createCaseReview(
      database.db,
      coordinator,
      sosafe,
      application({ receivedOn: '2016-03-01', complaints: complaints('2016-02-01') }),
    );
    let now = new Date('2023-06-01T08:00:00Z');
    const job = dailyRedactionJob(database.db, systemActor('scheduler'), () => now);
    expect(await job()).toEqual({ redacted: 1 });
    expect(await job()).toEqual({ skipped: true });
    now = new Date('2023-06-02T08:00:00Z');
    expect(await job()).toEqual({ redacted: 0 });
  });
});

describe('the annual figures', () => {
  it('carry North Herts’s published history, the register winning a year it also has', async () => {
    const nh = await actorFor('coordinator@north-herts.example', northHerts);
    const before = (await publicCaseReviewFigures(database.db, 'north-herts')).figures;
    expect(before.map((f) => f.year)).toEqual([
      '2015/16',
      '2016/17',
      '2017/18',
      '2018/19',
      '2019/20',
      '2020/21',
      '2021/22',
    ]);
    expect(before.find((f) => f.year === '2020/21')).toMatchObject({
      applicationsReceived: 2,
      thresholdNotMet: 1,
      reviewsCarriedOut: 1,
      reviewsWithRecommendations: null,
      source: 'published',
      sourceUrl: 'https://www.north-herts.gov.uk/community-trigger',
    });

    await createCaseReview(
      database.db,
      nh,
      northHerts,
      application({ receivedOn: '2021-06-01', caseOfficerUserId: '', complaints: complaints('2021-05-01') }),
    );
    const { partnership, figures } = await publicCaseReviewFigures(database.db, 'north-herts');
    expect(partnership).toEqual({ slug: 'north-herts', name: expect.any(String), area: expect.anything() });
    expect(figures.find((f) => f.year === '2021/22')).toMatchObject({
      applicationsReceived: 1,
      thresholdNotMet: 1,
      reviewsCarriedOut: 0,
      reviewsWithRecommendations: 0,
      source: 'register',
      publishedToo: true,
    });
    for (const text of PERSONAL) expect(JSON.stringify(figures)).not.toContain(text);

    const csv = writeCaseReviewFiguresCsv(figures);
    const lines = csv
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    expect(lines[0]).toBe(
      'Financial year,Applications received,Threshold not met,Case reviews carried out,Case reviews resulting in recommendations,Source,Source URL',
    );
    expect(lines).toContain(
      '2020/21,2,1,1,,Published figures,https://www.north-herts.gov.uk/community-trigger',
    );
    expect(lines).toContain('2021/22,1,1,0,0,Case review register,');
    expect(lines).toHaveLength(8);
  });
});
