/**
 * The one PostgreSQL schema (Drizzle pg-core). Migrations in ./migrations are generated from it
 * by drizzle-kit and committed; a shipped migration is never edited.
 *
 * Rules: every table carries partnership_id (accounts and sessions are the exception: a person's
 * account spans the partnerships they hold roles in, and memberships carry the partnership);
 * editable rows carry `version` for optimistic concurrency; nothing a user made is deleted, it is
 * archived (`archived_at`); times are timestamptz in UTC.
 */
import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  boolean,
  check,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

export const statusEnum = pgEnum('progress_status', [
  'not_started',
  'on_track',
  'at_risk',
  'off_track',
  'complete',
]);
export const roleEnum = pgEnum('member_role', ['coordinator', 'lead_officer', 'partner', 'board_member']);
export const partyRoleEnum = pgEnum('party_role', ['lead', 'partner']);
/**
 * Where a progress update stands in its quarter's cycle. Updates recorded outside a cycle (imported,
 * or entered for a quarter that was never opened) are 'submitted'.
 */
export const progressStateEnum = pgEnum('progress_state', ['draft', 'submitted', 'accepted', 'returned']);
/** How far a funding line has got: applied for, awarded, the money received, the money spent. */
export const fundingStateEnum = pgEnum('funding_state', ['applied', 'awarded', 'received', 'spent']);

const id = () => integer('id').primaryKey().generatedByDefaultAsIdentity();
const partnershipId = () =>
  integer('partnership_id')
    .notNull()
    .references(() => partnerships.id);
const version = () => integer('version').notNull().default(1);
const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();
const archivedAt = () => timestamp('archived_at', { withTimezone: true });

export const partnerships = pgTable('partnerships', {
  id: id(),
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  area: text('area'),
  principlesIntro: text('principles_intro'),
  version: version(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const plans = pgTable(
  'plans',
  {
    id: id(),
    partnershipId: partnershipId(),
    year: text('year').notNull(),
    title: text('title').notNull(),
    startsOn: date('starts_on').notNull(),
    endsOn: date('ends_on').notNull(),
    headlineAimsIntro: text('headline_aims_intro'),
    prioritiesIntro: text('priorities_intro'),
    objectivesIntro: text('objectives_intro'),
    howThePlanIsKept: text('how_the_plan_is_kept')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('plans_partnership_year').on(t.partnershipId, t.year)],
);

export const headlineAims = pgTable('headline_aims', {
  id: id(),
  partnershipId: partnershipId(),
  planId: integer('plan_id')
    .notNull()
    .references(() => plans.id),
  position: integer('position').notNull(),
  text: text('text').notNull(),
  version: version(),
});

export const objectives = pgTable('objectives', {
  id: id(),
  partnershipId: partnershipId(),
  planId: integer('plan_id')
    .notNull()
    .references(() => plans.id),
  number: integer('number').notNull(),
  text: text('text').notNull(),
  version: version(),
});

export const priorities = pgTable('priorities', {
  id: id(),
  partnershipId: partnershipId(),
  planId: integer('plan_id')
    .notNull()
    .references(() => plans.id),
  position: integer('position').notNull(),
  title: text('title').notNull(),
  description: text('description'),
  addedOn: date('added_on'),
  version: version(),
  archivedAt: archivedAt(),
});

export const sections = pgTable(
  'sections',
  {
    id: id(),
    partnershipId: partnershipId(),
    planId: integer('plan_id')
      .notNull()
      .references(() => plans.id),
    number: integer('number').notNull(),
    title: text('title').notNull(),
    position: integer('position').notNull(),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    archivedAt: archivedAt(),
  },
  (t) => [
    uniqueIndex('sections_live_number')
      .on(t.planId, t.number)
      .where(sql`archived_at is null`),
  ],
);

export const aims = pgTable(
  'aims',
  {
    id: id(),
    partnershipId: partnershipId(),
    planId: integer('plan_id')
      .notNull()
      .references(() => plans.id),
    sectionId: integer('section_id')
      .notNull()
      .references(() => sections.id),
    number: text('number').notNull(),
    title: text('title').notNull(),
    position: integer('position').notNull(),
    addedOn: date('added_on'),
    /** The aim of the previous year's plan this one was carried over from (roll-over), if any. */
    carriedFromAimId: integer('carried_from_aim_id').references((): AnyPgColumn => aims.id),
    /** When the coordinator published the aim on the partnership's public page; null: not public. */
    publishedAt: timestamp('published_at', { withTimezone: true }),
    publishedBy: integer('published_by').references((): AnyPgColumn => users.id),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    archivedAt: archivedAt(),
  },
  (t) => [
    uniqueIndex('aims_live_number')
      .on(t.planId, t.number)
      .where(sql`archived_at is null`),
    index('aims_section').on(t.sectionId),
  ],
);

export const priorityAims = pgTable(
  'priority_aims',
  {
    partnershipId: partnershipId(),
    priorityId: integer('priority_id')
      .notNull()
      .references(() => priorities.id),
    aimId: integer('aim_id')
      .notNull()
      .references(() => aims.id),
  },
  (t) => [primaryKey({ columns: [t.priorityId, t.aimId] }), index('priority_aims_aim').on(t.aimId)],
);

/** An aim's answers to a set of external principles (aim 5.7: the Home Office ASB local delivery principles). */
export const deliveryPrinciples = pgTable('delivery_principles', {
  id: id(),
  partnershipId: partnershipId(),
  aimId: integer('aim_id')
    .notNull()
    .references(() => aims.id),
  number: integer('number').notNull(),
  principle: text('principle').notNull(),
  response: text('response').notNull(),
  version: version(),
});

export const actions = pgTable(
  'actions',
  {
    id: id(),
    partnershipId: partnershipId(),
    aimId: integer('aim_id')
      .notNull()
      .references(() => aims.id),
    position: integer('position').notNull(),
    description: text('description').notNull(),
    resources: text('resources')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    expectedOutcomes: text('expected_outcomes')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    archivedAt: archivedAt(),
  },
  (t) => [index('actions_aim').on(t.aimId)],
);

export const organisations = pgTable(
  'organisations',
  {
    id: id(),
    partnershipId: partnershipId(),
    name: text('name').notNull(),
    fullName: text('full_name'),
    version: version(),
    archivedAt: archivedAt(),
  },
  (t) => [uniqueIndex('organisations_name').on(t.partnershipId, t.name)],
);

export const people = pgTable(
  'people',
  {
    id: id(),
    partnershipId: partnershipId(),
    name: text('name').notNull(),
    organisationId: integer('organisation_id').references(() => organisations.id),
    version: version(),
    archivedAt: archivedAt(),
  },
  (t) => [uniqueIndex('people_name').on(t.partnershipId, t.name)],
);

/** An organisation leading or partnering on an action, with the officers the plan names for it. */
export const actionParties = pgTable(
  'action_parties',
  {
    id: id(),
    partnershipId: partnershipId(),
    actionId: integer('action_id')
      .notNull()
      .references(() => actions.id),
    organisationId: integer('organisation_id')
      .notNull()
      .references(() => organisations.id),
    role: partyRoleEnum('role').notNull(),
    position: integer('position').notNull(),
    /** Posts named without a person ("NPT Inspector") and people, in the plan's order. */
    officers: text('officers')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
  },
  (t) => [
    index('action_parties_action').on(t.actionId),
    index('action_parties_organisation').on(t.organisationId),
  ],
);

/** Links a named person to the action parties they are named in, so "what I lead" is a query. */
export const actionPartyPeople = pgTable(
  'action_party_people',
  {
    partnershipId: partnershipId(),
    actionPartyId: integer('action_party_id')
      .notNull()
      .references(() => actionParties.id),
    personId: integer('person_id')
      .notNull()
      .references(() => people.id),
  },
  (t) => [
    primaryKey({ columns: [t.actionPartyId, t.personId] }),
    index('action_party_people_person').on(t.personId),
  ],
);

export const progressUpdates = pgTable(
  'progress_updates',
  {
    id: id(),
    partnershipId: partnershipId(),
    actionId: integer('action_id')
      .notNull()
      .references(() => actions.id),
    /** 1–4; null for progress the plan records without a quarter. */
    quarter: smallint('quarter'),
    text: text('text').notNull(),
    status: statusEnum('status'),
    recordedAt: timestamp('recorded_at', { withTimezone: true }),
    recordedBy: integer('recorded_by').references(() => users.id),
    state: progressStateEnum('state').notNull().default('submitted'),
    /** An optional link to evidence (a report, a press release, a dashboard). */
    evidenceUrl: text('evidence_url'),
    /** When it was last submitted for review. */
    submittedAt: timestamp('submitted_at', { withTimezone: true }),
    /** Submitted after its quarter's due date (Europe/London). */
    late: boolean('late').notNull().default(false),
    reviewedAt: timestamp('reviewed_at', { withTimezone: true }),
    reviewedBy: integer('reviewed_by').references(() => users.id),
    /** The reviewer's comment when the update was returned to its lead. */
    reviewComment: text('review_comment'),
    /** Last changed after its quarter was closed: an amendment to what the board was shown. */
    amendedAt: timestamp('amended_at', { withTimezone: true }),
    /**
     * What residents read on the public page for this update, written or approved by the
     * coordinator; null: the public page does not show this update's text.
     */
    publicText: text('public_text'),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('progress_updates_action_quarter')
      .on(t.actionId, t.quarter)
      .where(sql`quarter is not null`),
    uniqueIndex('progress_updates_action_undated')
      .on(t.actionId)
      .where(sql`quarter is null`),
  ],
);

/**
 * A quarter of a plan opened for updates: lead officers are asked for their progress by a due
 * date, reminded at offsets from it, JAG reviews what they submit, and closing it freezes the
 * snapshot the board was shown.
 */
export const quarterCycles = pgTable(
  'quarter_cycles',
  {
    id: id(),
    partnershipId: partnershipId(),
    planId: integer('plan_id')
      .notNull()
      .references(() => plans.id),
    quarter: smallint('quarter').notNull(),
    dueOn: date('due_on').notNull(),
    /** Days from the due date (negative: before) on which reminders go to those who have not submitted. */
    reminderOffsets: integer('reminder_offsets')
      .array()
      .notNull()
      .default(sql`'{-7,1,7}'::integer[]`),
    openedAt: timestamp('opened_at', { withTimezone: true }).notNull().defaultNow(),
    openedBy: integer('opened_by').references(() => users.id),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    closedBy: integer('closed_by').references(() => users.id),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('quarter_cycles_plan_quarter').on(t.planId, t.quarter),
    index('quarter_cycles_open').on(t.closedAt),
  ],
);

/** An action asked for its update in a cycle: when, and the reminders that followed. */
export const cycleRequests = pgTable(
  'cycle_requests',
  {
    id: id(),
    partnershipId: partnershipId(),
    cycleId: integer('cycle_id')
      .notNull()
      .references(() => quarterCycles.id),
    actionId: integer('action_id')
      .notNull()
      .references(() => actions.id),
    requestedAt: timestamp('requested_at', { withTimezone: true }).notNull().defaultNow(),
    lastRemindedAt: timestamp('last_reminded_at', { withTimezone: true }),
    remindersSent: integer('reminders_sent').notNull().default(0),
  },
  (t) => [uniqueIndex('cycle_requests_cycle_action').on(t.cycleId, t.actionId)],
);

/**
 * One row per reminder round (a cycle and an offset). Its primary key is what makes a round go
 * once: the instance whose insert succeeds sends it; any other finds the row and sends nothing.
 */
export const cycleReminders = pgTable(
  'cycle_reminders',
  {
    partnershipId: partnershipId(),
    cycleId: integer('cycle_id')
      .notNull()
      .references(() => quarterCycles.id),
    offsetDays: integer('offset_days').notNull(),
    sentAt: timestamp('sent_at', { withTimezone: true }).notNull().defaultNow(),
    /** People emailed in this round (0 when everyone had submitted, or the round was passed over). */
    recipients: integer('recipients').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.cycleId, t.offsetDays] })],
);

/** The quarter as reported to the board: frozen at closing, never changed afterwards. */
export const quarterSnapshots = pgTable('quarter_snapshots', {
  id: id(),
  partnershipId: partnershipId(),
  cycleId: integer('cycle_id')
    .notNull()
    .unique()
    .references(() => quarterCycles.id),
  reportedOn: date('reported_on').notNull(),
  takenAt: timestamp('taken_at', { withTimezone: true }).notNull().defaultNow(),
  takenBy: integer('taken_by').references(() => users.id),
  content: jsonb('content').notNull(),
});

export const glossaryTerms = pgTable(
  'glossary_terms',
  {
    id: id(),
    partnershipId: partnershipId(),
    term: text('term').notNull(),
    meaning: text('meaning').notNull(),
    version: version(),
  },
  (t) => [uniqueIndex('glossary_terms_term').on(t.partnershipId, t.term)],
);

export const principles = pgTable('principles', {
  id: id(),
  partnershipId: partnershipId(),
  number: integer('number').notNull(),
  text: text('text').notNull(),
  version: version(),
});

/** Sign-in accounts. Global: one person may hold roles in several partnerships (see memberships). */
export const users = pgTable('users', {
  id: id(),
  email: text('email').notNull().unique(),
  name: text('name').notNull(),
  passwordHash: text('password_hash'),
  version: version(),
  createdAt: createdAt(),
  deactivatedAt: timestamp('deactivated_at', { withTimezone: true }),
  passwordChangedAt: timestamp('password_changed_at', { withTimezone: true }),
});

export const memberships = pgTable(
  'memberships',
  {
    id: id(),
    partnershipId: partnershipId(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    role: roleEnum('role').notNull(),
    organisationId: integer('organisation_id').references(() => organisations.id),
    personId: integer('person_id').references(() => people.id),
    /**
     * A partner or lead officer (a member of the Joint Action Group) whom the coordinator lets accept
     * and return quarterly updates. Meaningless, and kept false, for the other roles.
     */
    reviewsUpdates: boolean('reviews_updates').notNull().default(false),
    version: version(),
    createdAt: createdAt(),
    /** Set when the coordinator removes the person from this partnership; their account lives on. */
    deactivatedAt: timestamp('deactivated_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('memberships_user_partnership').on(t.userId, t.partnershipId)],
);

/** An invitation to join a partnership, sent by email; the link is valid 7 days and works once. */
export const invitations = pgTable(
  'invitations',
  {
    id: id(),
    partnershipId: partnershipId(),
    email: text('email').notNull(),
    name: text('name').notNull(),
    role: roleEnum('role').notNull(),
    organisationId: integer('organisation_id').references(() => organisations.id),
    personId: integer('person_id').references(() => people.id),
    /** SHA-256 of the token in the link; the token itself is never stored. */
    tokenHash: text('token_hash').notNull().unique(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    acceptedAt: timestamp('accepted_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    invitedBy: integer('invited_by').references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [index('invitations_email').on(t.email)],
);

/**
 * A token for the read-only API (/api/v1), issued by the coordinator for Power BI, Excel or a
 * dashboard. Only its SHA-256 hash is stored; `prefix` (its first 8 characters) lets people tell
 * tokens apart. Revoked, never deleted.
 */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: id(),
    partnershipId: partnershipId(),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    prefix: text('prefix').notNull(),
    createdBy: integer('created_by').references(() => users.id),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
  },
  (t) => [index('api_tokens_partnership').on(t.partnershipId)],
);

/**
 * Money for an aim, or for one action of it: where it comes from (the PCC's Community Safety
 * Fund, the Serious Violence Fund, a charity's grant), how much, how far it has got (applied,
 * awarded, received, spent) with the date of each step reached, and what has been spent so far.
 * Money is integer pence. Archived, never deleted.
 */
export const fundingLines = pgTable(
  'funding_lines',
  {
    id: id(),
    partnershipId: partnershipId(),
    planId: integer('plan_id')
      .notNull()
      .references(() => plans.id),
    aimId: integer('aim_id')
      .notNull()
      .references(() => aims.id),
    /** The action the money is for; null when it is for the aim as a whole. */
    actionId: integer('action_id').references(() => actions.id),
    source: text('source').notNull(),
    amountPence: bigint('amount_pence', { mode: 'number' }).notNull(),
    state: fundingStateEnum('state').notNull(),
    appliedOn: date('applied_on'),
    awardedOn: date('awarded_on'),
    receivedOn: date('received_on'),
    spentOn: date('spent_on'),
    spentToDatePence: bigint('spent_to_date_pence', { mode: 'number' }).notNull().default(0),
    notes: text('notes'),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    archivedAt: archivedAt(),
  },
  (t) => [
    index('funding_lines_plan').on(t.planId),
    index('funding_lines_aim').on(t.aimId),
    check('funding_lines_amount_not_negative', sql`${t.amountPence} >= 0`),
    check('funding_lines_spent_not_negative', sql`${t.spentToDatePence} >= 0`),
  ],
);

/**
 * A file a coordinator has uploaded to import (a spreadsheet of the plan, a Word plan), read and
 * checked, waiting for the coordinator to look at the preview and confirm. `content` is what was
 * read from the file, not the file; the preview is worked out again against the live plan when
 * the import is confirmed. Deleted once used or expired: it is a step of a form, not a record.
 */
export const planUploads = pgTable(
  'plan_uploads',
  {
    id: id(),
    partnershipId: partnershipId(),
    /** The plan it would change; null for a file that would make a new plan year. */
    planId: integer('plan_id').references(() => plans.id),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    kind: text('kind').notNull(),
    filename: text('filename').notNull(),
    content: jsonb('content').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('plan_uploads_partnership').on(t.partnershipId),
    index('plan_uploads_expires').on(t.expiresAt),
  ],
);

/** A password reset link: valid for a short time, works once. Accounts are global, so no partnership. */
export const passwordResets = pgTable('password_resets', {
  id: id(),
  userId: integer('user_id')
    .notNull()
    .references(() => users.id),
  tokenHash: text('token_hash').notNull().unique(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  usedAt: timestamp('used_at', { withTimezone: true }),
  createdAt: createdAt(),
});

/** A person's identity at a single sign-on provider (OpenID Connect), linked to their account. */
export const userIdentities = pgTable(
  'user_identities',
  {
    id: id(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    issuer: text('issuer').notNull(),
    subject: text('subject').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('user_identities_issuer_subject').on(t.issuer, t.subject)],
);

/** Every email the service sends. Without SMTP_URL this is the outbox the coordinator reads in the app. */
export const emails = pgTable(
  'emails',
  {
    id: id(),
    /** The partnership the message is about; null for account messages (password reset). */
    partnershipId: integer('partnership_id').references(() => partnerships.id),
    toAddress: text('to_address').notNull(),
    subject: text('subject').notNull(),
    body: text('body').notNull(),
    createdAt: createdAt(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    /** 'smtp' when handed to the SMTP server, 'outbox' when kept for reading in the app. */
    transport: text('transport').notNull(),
    /** The server's (or the connection's) error at the last try; null once sent. */
    error: text('error'),
    /** Tries to hand the message to the SMTP server so far; a failed one is retried a few times. */
    attempts: integer('attempts').notNull().default(0),
    lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
  },
  (t) => [
    index('emails_partnership_time').on(t.partnershipId, t.createdAt),
    // What the retry job looks through: messages not yet handed over (a few, however many were sent).
    index('emails_unsent')
      .on(t.createdAt)
      .where(sql`${t.sentAt} is null and ${t.transport} = 'smtp'`),
  ],
);

/** Partners' comments on an aim: internal, never public. */
export const comments = pgTable(
  'comments',
  {
    id: id(),
    partnershipId: partnershipId(),
    aimId: integer('aim_id')
      .notNull()
      .references(() => aims.id),
    authorUserId: integer('author_user_id')
      .notNull()
      .references(() => users.id),
    text: text('text').notNull(),
    version: version(),
    createdAt: createdAt(),
    archivedAt: archivedAt(),
  },
  (t) => [index('comments_aim').on(t.aimId)],
);

/** Failed sign-ins, so the per-account lockout holds across app instances. */
export const signInFailures = pgTable(
  'sign_in_failures',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    email: text('email').notNull(),
    address: text('address'),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('sign_in_failures_email_time').on(t.email, t.occurredAt)],
);

export const sessions = pgTable(
  'sessions',
  {
    sid: text('sid').primaryKey(),
    userId: integer('user_id').references(() => users.id),
    data: jsonb('data').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('sessions_expires').on(t.expiresAt)],
);

/**
 * Counts of committed changes to groups of tables, moved on by triggers in the migrations (0016):
 * `membership` counts the changes to partnerships, memberships and users, so that the reads of who
 * someone is in a partnership can be kept until one of those tables changes (services/read-cache.ts
 * membershipStamp). Read in the query that starts each request; never written by the app.
 */
export const changeCounts = pgTable('change_counts', {
  topic: text('topic').primaryKey(),
  changes: bigint('changes', { mode: 'number' }).notNull().default(0),
});

/** Append-only: a trigger in the migrations refuses UPDATE and DELETE. */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    partnershipId: integer('partnership_id').references(() => partnerships.id),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    actorUserId: integer('actor_user_id').references(() => users.id),
    actorLabel: text('actor_label').notNull(),
    kind: text('kind').notNull(),
    entity: text('entity').notNull(),
    entityId: text('entity_id'),
    summary: text('summary').notNull(),
    before: jsonb('before'),
    after: jsonb('after'),
    viaImport: boolean('via_import').notNull().default(false),
  },
  (t) => [
    index('audit_events_partnership_time').on(t.partnershipId, t.occurredAt),
    index('audit_events_entity').on(t.entity, t.entityId),
  ],
);

/**
 * A partnership's area for police.uk data: LSOA codes (E01033289) or LSOA name prefixes
 * ("Stevenage ", trailing space kept so "Stevenage 001A" matches and "Stevenageford" would not).
 */
export const partnershipAreas = pgTable(
  'partnership_areas',
  {
    id: id(),
    partnershipId: partnershipId(),
    kind: text('kind').notNull(),
    value: text('value').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    check('partnership_areas_kind', sql`${t.kind} in ('code', 'prefix')`),
    check('partnership_areas_value', sql`length(${t.value}) > 0`),
    uniqueIndex('partnership_areas_entry').on(t.partnershipId, t.kind, t.value),
  ],
);

/**
 * police.uk street-level crime rows, one per row of a monthly "-street.csv" file. These tables
 * are the exception to "every table carries partnership_id": police.uk data is shared open data
 * published per force, not a partnership's own rows; one import serves every partnership in the
 * force, and each partnership reads it through its area (partnership_areas). `force` is the file's
 * "Reported by"; a (force, month) is a table of its own, replaced as a whole on re-import (see
 * src/services/police-months.ts). Not in the JSON backup:
 * it can be large and is re-imported from police.uk (see src/services/backup.ts).
 */
export const policeStreetCrimes = pgTable(
  'police_street_crimes',
  {
    // No id: nothing reads a row by itself (a force's month is replaced and counted as a whole),
    // and a primary key's index cost every import (migration 0012 dropped it).
    /** The file's "Reported by", as the first row gives it (each force's month a table: above). */
    force: text('force').notNull(),
    /** 'YYYY-MM', as police.uk writes it. */
    month: text('month').notNull(),
    /** Empty for anti-social behaviour, which police.uk publishes without a crime id. */
    crimeId: text('crime_id'),
    reportedBy: text('reported_by').notNull(),
    fallsWithin: text('falls_within').notNull(),
    longitude: doublePrecision('longitude'),
    latitude: doublePrecision('latitude'),
    location: text('location').notNull(),
    lsoaCode: text('lsoa_code'),
    lsoaName: text('lsoa_name'),
    crimeType: text('crime_type').notNull(),
    lastOutcomeCategory: text('last_outcome_category'),
    context: text('context'),
  },
  // No index: the table is partitioned by month and each month by force (migration 0014, which
  // drizzle's schema cannot say; src/services/police-months.ts), so every reader of a force's month
  // reads exactly its table, and an import writes a table of its own, COPY's own speed. Migrations
  // 0011 and 0012 dropped what cost every import for nothing (an id, an index nobody read, a check).
);

/** police.uk outcome rows, one per row of a monthly "-outcomes.csv" file; shared like the above. */
export const policeOutcomes = pgTable(
  'police_outcomes',
  {
    // No id: as police_street_crimes.
    force: text('force').notNull(),
    /** 'YYYY-MM': the month of the outcome, not of the crime. */
    month: text('month').notNull(),
    crimeId: text('crime_id').notNull(),
    reportedBy: text('reported_by').notNull(),
    fallsWithin: text('falls_within').notNull(),
    longitude: doublePrecision('longitude'),
    latitude: doublePrecision('latitude'),
    location: text('location').notNull(),
    lsoaCode: text('lsoa_code'),
    lsoaName: text('lsoa_name'),
    outcomeType: text('outcome_type').notNull(),
  },
  // Partitioned as police_street_crimes (migration 0014): no index.
);

/**
 * Monthly police.uk counts, kept up to date by every import (issue: trends over five years of a
 * large force must not scan millions of rows). Per LSOA, so a partnership's area (a set of codes
 * or name prefixes) can be summed from them and hotspots listed; rows without a location have
 * lsoa_code ''. Shared open data like the rows they count: no partnership_id.
 */
export const policeCrimeCounts = pgTable(
  'police_crime_counts',
  {
    force: text('force').notNull(),
    month: text('month').notNull(),
    lsoaCode: text('lsoa_code').notNull(),
    lsoaName: text('lsoa_name').notNull(),
    crimeType: text('crime_type').notNull(),
    crimes: integer('crimes').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.force, t.month, t.lsoaCode, t.crimeType] }),
    index('police_crime_counts_month').on(t.month),
  ],
);

/**
 * A force's monthly counts by crime type (the sums of police_crime_counts over its LSOAs, and the
 * crimes with no location), kept up to date at import: a force's trend over years reads a few
 * hundred rows, not the millions of its LSOAs' counts.
 */
export const policeForceCounts = pgTable(
  'police_force_counts',
  {
    force: text('force').notNull(),
    month: text('month').notNull(),
    crimeType: text('crime_type').notNull(),
    crimes: integer('crimes').notNull(),
  },
  (t) => [primaryKey({ columns: [t.force, t.month, t.crimeType] })],
);

/** Monthly police.uk outcome counts per LSOA, kept up to date by every outcomes import. */
export const policeOutcomeCounts = pgTable(
  'police_outcome_counts',
  {
    force: text('force').notNull(),
    month: text('month').notNull(),
    lsoaCode: text('lsoa_code').notNull(),
    lsoaName: text('lsoa_name').notNull(),
    outcomeType: text('outcome_type').notNull(),
    outcomes: integer('outcomes').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.force, t.month, t.lsoaCode, t.outcomeType] }),
    index('police_outcome_counts_month').on(t.month),
  ],
);

/**
 * A partnership's monthly counts by crime type within its area, summed from police_crime_counts
 * at import and whenever the area changes, so a trend is one indexed read.
 */
export const policeAreaCounts = pgTable(
  'police_area_counts',
  {
    partnershipId: partnershipId(),
    month: text('month').notNull(),
    crimeType: text('crime_type').notNull(),
    crimes: integer('crimes').notNull(),
  },
  (t) => [primaryKey({ columns: [t.partnershipId, t.month, t.crimeType] })],
);

/**
 * A partnership's monthly counts per LSOA and crime type within its area (police_crime_counts'
 * rows in the area, summed over the forces), kept with police_area_counts: the crime page's
 * hotspots read the area's few thousand rows instead of sifting a large force's hundreds of
 * thousands for those in the area (migration 0015).
 */
export const policeAreaLsoaCounts = pgTable(
  'police_area_lsoa_counts',
  {
    partnershipId: partnershipId(),
    month: text('month').notNull(),
    lsoaCode: text('lsoa_code').notNull(),
    lsoaName: text('lsoa_name').notNull(),
    crimeType: text('crime_type').notNull(),
    crimes: integer('crimes').notNull(),
  },
  (t) => [
    primaryKey({
      name: 'police_area_lsoa_counts_pk',
      columns: [t.partnershipId, t.month, t.lsoaCode, t.crimeType],
    }),
  ],
);

/**
 * Which police.uk crime types bear on a plan priority (Anti-social behaviour → All ASB, …).
 * Editable by the coordinator; the defaults are made from the priorities' titles.
 */
export const crimeTypePriorities = pgTable(
  'crime_type_priorities',
  {
    id: id(),
    partnershipId: partnershipId(),
    priorityId: integer('priority_id')
      .notNull()
      .references(() => priorities.id),
    crimeType: text('crime_type').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('crime_type_priorities_entry').on(t.priorityId, t.crimeType)],
);

/** A partnership's settings for its evidence: its district, neighbours, Community Trigger rules. */
export const evidenceSettings = pgTable(
  'evidence_settings',
  {
    partnershipId: integer('partnership_id')
      .primaryKey()
      .references(() => partnerships.id),
    /** The district's ONS code (E07000243 for Stevenage), for the DEFRA fly-tipping table. */
    districtCode: text('district_code'),
    /** ONS codes of the districts shown beside it. */
    neighbourCodes: text('neighbour_codes')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    /** Community Trigger threshold: this many qualifying complaints … */
    triggerComplaints: integer('trigger_complaints').notNull().default(3),
    /** … within this many months. */
    triggerMonths: integer('trigger_months').notNull().default(6),
    /** Personal details of a case review are redacted this many years after it closed. */
    retentionYears: integer('retention_years').notNull().default(6),
    /** The council CSV's column mapping, remembered from the last upload. */
    incidentMapping: jsonb('incident_mapping'),
    version: version(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check(
      'evidence_settings_trigger',
      sql`${t.triggerComplaints} between 1 and 50 and ${t.triggerMonths} between 1 and 36`,
    ),
    check('evidence_settings_retention', sql`${t.retentionYears} between 1 and 100`),
  ],
);

/** Fly-tipping and graffiti counts by month, from a council's own CSV. */
export const localIncidentCounts = pgTable(
  'local_incident_counts',
  {
    partnershipId: partnershipId(),
    kind: text('kind').notNull(),
    month: text('month').notNull(),
    incidents: integer('incidents').notNull(),
    /** The file it came from, and when. */
    source: text('source').notNull(),
    importedAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.partnershipId, t.kind, t.month] }),
    check('local_incident_counts_kind', sql`${t.kind} in ('fly_tipping', 'graffiti')`),
    check('local_incident_counts_month', sql`${t.month} ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'`),
    check('local_incident_counts_incidents', sql`${t.incidents} >= 0`),
  ],
);

/**
 * DEFRA's fly-tipping incidents and actions by local authority and financial year (LA_incidents,
 * LA_actions). Shared open data: no partnership_id. Every column of the sheet is kept in
 * `figures` (null where DEFRA writes ':'); the headline figures have their own columns.
 */
export const defraFlyTipping = pgTable(
  'defra_fly_tipping',
  {
    /** '2021-22'. */
    year: text('year').notNull(),
    onsCode: text('ons_code').notNull(),
    /** Trimmed: DEFRA's names can carry trailing spaces. */
    authority: text('authority').notNull(),
    region: text('region').notNull(),
    totalIncidents: integer('total_incidents'),
    totalActions: integer('total_actions'),
    incidentFigures: jsonb('incident_figures'),
    actionFigures: jsonb('action_figures'),
  },
  (t) => [
    primaryKey({ columns: [t.year, t.onsCode] }),
    check('defra_fly_tipping_year', sql`${t.year} ~ '^[0-9]{4}-[0-9]{2}$'`),
  ],
);

/**
 * ASB case reviews (the Community Trigger): one row per application. Personal details (name,
 * contact, vulnerability) are read only by coordinators and the case officer, and are redacted
 * (set to null, redacted_at set) once the retention period has passed; the counts stay.
 */
export const caseReviews = pgTable(
  'case_reviews',
  {
    id: id(),
    partnershipId: partnershipId(),
    reference: text('reference').notNull(),
    receivedOn: date('received_on').notNull(),
    applicantName: text('applicant_name'),
    applicantContact: text('applicant_contact'),
    /** 'phone', 'email', 'letter', 'in_person'. */
    contactPreference: text('contact_preference'),
    vulnerability: text('vulnerability'),
    /** 'council', 'housing_association', 'private_rented', 'owner', 'other', 'not_known'. */
    tenure: text('tenure').notNull(),
    caseOfficerUserId: integer('case_officer_user_id').references(() => users.id),
    /** Decided with the partnership's threshold at the time; kept as decided, with that rule. */
    thresholdMet: boolean('threshold_met').notNull(),
    /** The rule it was decided with: this many complaints … */
    thresholdComplaints: integer('threshold_complaints').notNull(),
    /** … within this many months. */
    thresholdMonths: integer('threshold_months').notNull(),
    reviewOn: date('review_on'),
    panel: text('panel'),
    outcome: text('outcome'),
    /** 'satisfied' or 'escalated' (to the PCC), or null while not known. */
    applicantResponse: text('applicant_response'),
    closedOn: date('closed_on'),
    redactedAt: timestamp('redacted_at', { withTimezone: true }),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    archivedAt: archivedAt(),
  },
  (t) => [
    uniqueIndex('case_reviews_reference').on(t.partnershipId, t.reference),
    index('case_reviews_received').on(t.partnershipId, t.receivedOn),
    check(
      'case_reviews_tenure',
      sql`${t.tenure} in ('council', 'housing_association', 'private_rented', 'owner', 'other', 'not_known')`,
    ),
    check(
      'case_reviews_response',
      sql`${t.applicantResponse} is null or ${t.applicantResponse} in ('satisfied', 'escalated')`,
    ),
  ],
);

/** The complaints an application cites (date, agency it was made to, what about). */
export const caseReviewComplaints = pgTable(
  'case_review_complaints',
  {
    id: id(),
    partnershipId: partnershipId(),
    caseReviewId: integer('case_review_id')
      .notNull()
      .references(() => caseReviews.id),
    complainedOn: date('complained_on').notNull(),
    agency: text('agency').notNull(),
    summary: text('summary'),
    createdAt: createdAt(),
    /** Taken off the application when it was changed. */
    archivedAt: archivedAt(),
  },
  (t) => [index('case_review_complaints_review').on(t.caseReviewId)],
);

/** A case review panel's recommendations, each with an owner and a due date. */
export const caseReviewRecommendations = pgTable(
  'case_review_recommendations',
  {
    id: id(),
    partnershipId: partnershipId(),
    caseReviewId: integer('case_review_id')
      .notNull()
      .references(() => caseReviews.id),
    text: text('text').notNull(),
    owner: text('owner').notNull(),
    dueOn: date('due_on'),
    doneOn: date('done_on'),
    version: version(),
    createdAt: createdAt(),
    archivedAt: archivedAt(),
  },
  (t) => [index('case_review_recommendations_review').on(t.caseReviewId)],
);

/**
 * Annual Community Trigger figures a partnership published before it kept its register here
 * (the North Herts demo's 2015/16 to 2021/22). Null where the figure was not published.
 */
export const caseReviewPublishedFigures = pgTable(
  'case_review_published_figures',
  {
    partnershipId: partnershipId(),
    /** Financial year, '2021/22'. */
    year: text('year').notNull(),
    applicationsReceived: integer('applications_received').notNull(),
    thresholdNotMet: integer('threshold_not_met'),
    reviewsCarriedOut: integer('reviews_carried_out'),
    reviewsWithRecommendations: integer('reviews_with_recommendations'),
    sourceUrl: text('source_url'),
  },
  (t) => [
    primaryKey({ columns: [t.partnershipId, t.year] }),
    check('case_review_published_figures_year', sql`${t.year} ~ '^[0-9]{4}/[0-9]{2}$'`),
  ],
);

/**
 * A police.uk file uploaded on the web page, imported in the background: the page shows its
 * progress (rows and bytes so far, kept in memory by the instance importing it, and written here
 * when it starts and ends) and then its result or the error naming the line.
 */
export const policeUkImports = pgTable(
  'police_uk_imports',
  {
    id: id(),
    partnershipId: partnershipId(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    filename: text('filename').notNull(),
    /** 'running', 'done' or 'failed'. */
    state: text('state').notNull().default('running'),
    totalBytes: bigint('total_bytes', { mode: 'number' }).notNull(),
    rows: integer('rows').notNull().default(0),
    result: jsonb('result'),
    error: text('error'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    /**
     * The instance running the import (PostgreSQL): the key of the session advisory lock it holds
     * while it lives (src/db/client.ts instanceLock). An import still 'running' whose runner's lock
     * can be taken was left by an instance that has gone. Null on the embedded database.
     */
    runner: bigint('runner', { mode: 'number' }),
  },
  (t) => [
    check('police_uk_imports_state', sql`${t.state} in ('running', 'done', 'failed')`),
    index('police_uk_imports_partnership').on(t.partnershipId, t.startedAt),
  ],
);
