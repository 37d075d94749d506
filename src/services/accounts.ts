/**
 * People and their accounts: the coordinator invites people by email, changes their roles and
 * deactivates them; everyone resets or changes their password and can sign out everywhere.
 *
 * Each write checks permission, validates, writes, records any email and appends its audit event
 * in one transaction; email goes to the SMTP server after the commit (see mail.ts). Links carry a
 * random token of which only the SHA-256 hash is stored. Nothing here tells a caller whether an
 * address has an account, except to the holder of an invitation sent to that address.
 */
import crypto from 'node:crypto';
import argon2 from 'argon2';
import { and, asc, desc, eq, gt, isNull, ne, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, Tx } from '../db/client.js';
import * as t from '../db/schema.js';
import {
  isMember,
  REVIEWER_ROLES,
  ROLE_LABELS,
  ROLES,
  type Member,
  type Role,
} from '../domain/permissions.js';
import type { Actor } from './actor.js';
import { recordAudit, type AuditInput } from './audit.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, validate } from './errors.js';
import { listEmails, type Delivery, type Mailer } from './mail.js';
import {
  clearSignInFailures,
  lockedForMinutes,
  lockoutMessage,
  recordSignInFailure,
} from './sign-in-throttle.js';
import { hashPassword, MIN_PASSWORD_LENGTH, type SignedInUser } from './users.js';

export const INVITATION_DAYS = 7;
export const RESET_MINUTES = 60;

export interface AccountsDeps {
  db: Db;
  mailer: Mailer;
}

/** Where the links in emails point: PUBLIC_URL, or the origin the request came to. */
export interface Links {
  baseUrl: string;
}

/** An invitation or reset link that is unknown, expired, used or withdrawn: all get one answer. */
export class InvalidLinkError extends Error {
  constructor(readonly kind: 'invitation' | 'reset') {
    super(
      kind === 'invitation' ? 'This invitation link does not work' : 'This password reset link does not work',
    );
  }
}

// ——— Helpers ———

export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}

function newToken(): { token: string; tokenHash: string } {
  const token = crypto.randomBytes(32).toString('base64url');
  return { token, tokenHash: hashToken(token) };
}

function link(links: Links, path: string): string {
  return `${links.baseUrl.replace(/\/+$/, '')}${path}`;
}

function londonTime(date: Date): string {
  return date.toLocaleString('en-GB', {
    timeZone: 'Europe/London',
    hour: 'numeric',
    minute: '2-digit',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  });
}

function roleWords(role: Role): string {
  return ROLE_LABELS[role].toLowerCase();
}

/** Managing a partnership's people (invitations, roles, deactivation, the outbox) is the coordinator's. */
export function canManagePeople(member: Member | undefined, partnershipId: number): boolean {
  return isMember(member, partnershipId) && member.role === 'coordinator';
}

function requireCoordinator(actor: Actor, partnershipId: number): void {
  if (actor.system) return;
  if (!canManagePeople(actor.member, partnershipId)) {
    throw new ForbiddenError('Only the partnership’s coordinator can manage its people and read its outbox');
  }
}

function userActor(user: { id: number; name: string }): Actor {
  return { userId: user.id, label: user.name, member: undefined, system: false };
}

/** Account events belong to every partnership the person is active in (or none), like sign-ins. */
async function recordUserAudit(
  tx: Tx,
  actor: Actor,
  userId: number,
  input: Omit<AuditInput, 'partnershipId'>,
): Promise<void> {
  const rows = await tx
    .select({ id: t.memberships.partnershipId })
    .from(t.memberships)
    .where(and(eq(t.memberships.userId, userId), isNull(t.memberships.deactivatedAt)));
  for (const p of rows.length ? rows : [{ id: null }]) {
    await recordAudit(tx, actor, { ...input, partnershipId: p.id });
  }
}

const emailField = z
  .string({ error: 'Enter an email address' })
  .trim()
  .min(1, 'Enter an email address')
  .max(320, 'Email address must be 320 characters or fewer')
  .toLowerCase()
  .pipe(z.email('Enter an email address in the correct format, like name@example.org'));

const newPasswordField = z
  .string({ error: 'Enter a password' })
  .min(1, 'Enter a password')
  .min(MIN_PASSWORD_LENGTH, `Password must be ${MIN_PASSWORD_LENGTH} characters or more`)
  .max(1000, 'Password must be 1000 characters or fewer');

/** A select's value: empty for none, else an id. */
const optionalId = z.preprocess(
  (v) => (v === '' || v === undefined || v === null ? null : v),
  z.coerce.number().int().positive().nullable(),
);

const version = z.coerce.number().int().positive();

async function checkOrganisationAndPerson(
  tx: Tx,
  partnershipId: number,
  organisationId: number | null,
  personId: number | null,
): Promise<{ organisation: string | null; person: string | null }> {
  let organisation: string | null = null;
  let person: string | null = null;
  if (organisationId !== null) {
    const [org] = await tx
      .select({ name: t.organisations.name })
      .from(t.organisations)
      .where(and(eq(t.organisations.id, organisationId), eq(t.organisations.partnershipId, partnershipId)));
    if (!org)
      throw new ValidationError([{ field: 'organisation', message: 'Choose an organisation from the list' }]);
    organisation = org.name;
  }
  if (personId !== null) {
    const [p] = await tx
      .select({ name: t.people.name })
      .from(t.people)
      .where(and(eq(t.people.id, personId), eq(t.people.partnershipId, partnershipId)));
    if (!p) throw new ValidationError([{ field: 'person', message: 'Choose a person from the list' }]);
    person = p.name;
  }
  return { organisation, person };
}

// ——— Reading: the people page, its forms, the outbox ———

export interface MemberRow {
  id: number;
  userId: number;
  name: string;
  email: string;
  role: Role;
  organisationId: number | null;
  organisation: string | null;
  personId: number | null;
  person: string | null;
  /** A partner or lead officer who reviews quarterly updates for the Joint Action Group. */
  reviewsUpdates: boolean;
  version: number;
  deactivatedAt: Date | null;
}

export interface PendingInvitation {
  id: number;
  email: string;
  name: string;
  role: Role;
  organisation: string | null;
  createdAt: Date;
  expiresAt: Date;
  invitedBy: string | null;
}

async function selectMembers(
  db: Db | Tx,
  partnershipId: number,
  membershipId?: number,
): Promise<MemberRow[]> {
  const rows = await db
    .select({
      id: t.memberships.id,
      userId: t.users.id,
      name: t.users.name,
      email: t.users.email,
      role: t.memberships.role,
      organisationId: t.memberships.organisationId,
      organisation: t.organisations.name,
      personId: t.memberships.personId,
      person: t.people.name,
      reviewsUpdates: t.memberships.reviewsUpdates,
      version: t.memberships.version,
      deactivatedAt: t.memberships.deactivatedAt,
    })
    .from(t.memberships)
    .innerJoin(t.users, eq(t.users.id, t.memberships.userId))
    .leftJoin(t.organisations, eq(t.organisations.id, t.memberships.organisationId))
    .leftJoin(t.people, eq(t.people.id, t.memberships.personId))
    .where(
      and(
        eq(t.memberships.partnershipId, partnershipId),
        membershipId === undefined ? undefined : eq(t.memberships.id, membershipId),
      ),
    )
    .orderBy(asc(t.users.name), asc(t.memberships.id));
  return rows.map((r) => ({ ...r, role: r.role as Role }));
}

/** The partnership's members (active first) and its pending invitations. */
export async function listPeople(
  deps: AccountsDeps,
  actor: Actor,
  partnershipId: number,
): Promise<{ members: MemberRow[]; invitations: PendingInvitation[] }> {
  requireCoordinator(actor, partnershipId);
  const members = await selectMembers(deps.db, partnershipId);
  members.sort((a, b) => Number(a.deactivatedAt !== null) - Number(b.deactivatedAt !== null));
  const inviter = sql<string | null>`(select name from users where users.id = ${t.invitations.invitedBy})`;
  const invitations = await deps.db
    .select({
      id: t.invitations.id,
      email: t.invitations.email,
      name: t.invitations.name,
      role: t.invitations.role,
      organisation: t.organisations.name,
      createdAt: t.invitations.createdAt,
      expiresAt: t.invitations.expiresAt,
      invitedBy: inviter,
    })
    .from(t.invitations)
    .leftJoin(t.organisations, eq(t.organisations.id, t.invitations.organisationId))
    .where(
      and(
        eq(t.invitations.partnershipId, partnershipId),
        isNull(t.invitations.acceptedAt),
        isNull(t.invitations.revokedAt),
        gt(t.invitations.expiresAt, new Date()),
      ),
    )
    .orderBy(desc(t.invitations.createdAt));
  return { members, invitations: invitations.map((i) => ({ ...i, role: i.role as Role })) };
}

export async function getMembership(
  deps: AccountsDeps,
  actor: Actor,
  partnershipId: number,
  membershipId: number,
): Promise<MemberRow> {
  requireCoordinator(actor, partnershipId);
  const [row] = await selectMembers(deps.db, partnershipId, membershipId);
  if (!row) throw new NotFoundError('The member');
  return row;
}

/** The organisations and named people of the partnership, for the invite and role forms. */
export async function memberFormOptions(deps: AccountsDeps, actor: Actor, partnershipId: number) {
  requireCoordinator(actor, partnershipId);
  const organisations = await deps.db
    .select({ id: t.organisations.id, name: t.organisations.name })
    .from(t.organisations)
    .where(and(eq(t.organisations.partnershipId, partnershipId), isNull(t.organisations.archivedAt)))
    .orderBy(asc(t.organisations.name));
  const people = await deps.db
    .select({ id: t.people.id, name: t.people.name })
    .from(t.people)
    .where(and(eq(t.people.partnershipId, partnershipId), isNull(t.people.archivedAt)))
    .orderBy(asc(t.people.name));
  return { organisations, people };
}

/** Every email about the partnership: without SMTP_URL, this is how invitations reach people. */
export async function listOutbox(deps: AccountsDeps, actor: Actor, partnershipId: number) {
  requireCoordinator(actor, partnershipId);
  return listEmails(deps.db, partnershipId);
}

// ——— Invitations ———

export const inviteSchema = z.object({
  email: emailField,
  name: z.string({ error: 'Enter the person’s name' }).trim().min(1, 'Enter the person’s name').max(200),
  role: z.enum(ROLES, { error: 'Choose a role' }),
  organisation: optionalId,
  person: optionalId,
});
/** The invite form's fields, as posted. */
export type InviteInput = Record<string, unknown>;

/**
 * Invites someone to the partnership by email. The answer is the same whether or not the address
 * already has an account (accepting then adds the role to it), and so is the email.
 * An earlier invitation still pending for the same address is withdrawn: only the newest link works.
 */
export async function inviteMember(
  deps: AccountsDeps,
  actor: Actor,
  partnershipId: number,
  input: InviteInput,
  links: Links,
): Promise<{ invitationId: number; email: string; delivery: Delivery }> {
  requireCoordinator(actor, partnershipId);
  const invite = validate(inviteSchema, input);
  const { token, tokenHash } = newToken();
  const expiresAt = new Date(Date.now() + INVITATION_DAYS * 24 * 60 * 60 * 1000);
  const { invitationId, emailId } = await deps.db.transaction(async (tx) => {
    const [partnership] = await tx
      .select({ name: t.partnerships.name })
      .from(t.partnerships)
      .where(eq(t.partnerships.id, partnershipId));
    if (!partnership) throw new NotFoundError('The partnership');
    const { organisation, person } = await checkOrganisationAndPerson(
      tx,
      partnershipId,
      invite.organisation,
      invite.person,
    );
    // The coordinator sees the members on the people page, so saying so reveals nothing new.
    const [member] = await tx
      .select({ id: t.memberships.id })
      .from(t.memberships)
      .innerJoin(t.users, eq(t.users.id, t.memberships.userId))
      .where(
        and(
          eq(t.users.email, invite.email),
          eq(t.memberships.partnershipId, partnershipId),
          isNull(t.memberships.deactivatedAt),
        ),
      );
    if (member) {
      throw new ValidationError([
        { field: 'email', message: `${invite.email} is already a member of this partnership` },
      ]);
    }
    const replaced = await tx
      .update(t.invitations)
      .set({ revokedAt: new Date() })
      .where(
        and(
          eq(t.invitations.partnershipId, partnershipId),
          eq(t.invitations.email, invite.email),
          isNull(t.invitations.acceptedAt),
          isNull(t.invitations.revokedAt),
        ),
      )
      .returning({ id: t.invitations.id });
    const [row] = await tx
      .insert(t.invitations)
      .values({
        partnershipId,
        email: invite.email,
        name: invite.name,
        role: invite.role,
        organisationId: invite.organisation,
        personId: invite.person,
        tokenHash,
        expiresAt,
        invitedBy: actor.userId,
      })
      .returning({ id: t.invitations.id });
    const inviter = actor.system ? 'The coordinator' : actor.label;
    const emailId = await deps.mailer.record(tx, {
      partnershipId,
      to: invite.email,
      subject: `Invitation to join the ${partnership.name} action plan`,
      body: [
        `Hello ${invite.name},`,
        '',
        `${inviter} has invited you to join the ${partnership.name} action plan in Partnership Plan, as a ${roleWords(invite.role)}.`,
        '',
        'To accept the invitation, open this link:',
        link(links, `/invitations/${token}`),
        '',
        `The link works once, and only until ${londonTime(expiresAt)} (UK time).`,
        '',
        'If you already have a Partnership Plan account with this email address, you will be asked to sign in with it. If not, you will choose a password.',
        '',
        'If you were not expecting this email, you can ignore it.',
      ].join('\n'),
    });
    await recordAudit(tx, actor, {
      partnershipId,
      kind: 'invitation.sent',
      entity: 'invitation',
      entityId: row!.id,
      summary: `Invited ${invite.name} <${invite.email}> as ${roleWords(invite.role)}`,
      after: {
        email: invite.email,
        name: invite.name,
        role: invite.role,
        organisation,
        person,
        expiresAt: expiresAt.toISOString(),
        replacedInvitations: replaced.map((r) => r.id),
      },
    });
    return { invitationId: row!.id, emailId };
  });
  const [delivery] = await deps.mailer.deliver(deps.db, [emailId]);
  return { invitationId, email: invite.email, delivery: delivery ?? 'outbox' };
}

interface InvitationRow {
  id: number;
  partnershipId: number;
  email: string;
  name: string;
  role: Role;
  organisationId: number | null;
  personId: number | null;
  expiresAt: Date;
  acceptedAt: Date | null;
  revokedAt: Date | null;
}

function usable(row: { expiresAt: Date; acceptedAt: Date | null; revokedAt: Date | null }): boolean {
  return row.acceptedAt === null && row.revokedAt === null && row.expiresAt.getTime() > Date.now();
}

async function findInvitation(db: Db | Tx, token: string, lock = false): Promise<InvitationRow> {
  if (!/^[\w-]{20,100}$/.test(token)) throw new InvalidLinkError('invitation');
  const query = db
    .select({
      id: t.invitations.id,
      partnershipId: t.invitations.partnershipId,
      email: t.invitations.email,
      name: t.invitations.name,
      role: t.invitations.role,
      organisationId: t.invitations.organisationId,
      personId: t.invitations.personId,
      expiresAt: t.invitations.expiresAt,
      acceptedAt: t.invitations.acceptedAt,
      revokedAt: t.invitations.revokedAt,
    })
    .from(t.invitations)
    .where(eq(t.invitations.tokenHash, hashToken(token)));
  const [row] = lock ? await query.for('update') : await query;
  if (!row || !usable(row)) throw new InvalidLinkError('invitation');
  return { ...row, role: row.role as Role };
}

export interface InvitationView {
  email: string;
  name: string;
  role: Role;
  partnershipName: string;
  partnershipSlug: string;
  expiresAt: Date;
  /** Whether the address already has an account: then accepting asks for that account. */
  accountExists: boolean;
}

/** What the accept page shows; only the holder of the link sees it. */
export async function openInvitation(deps: AccountsDeps, token: string): Promise<InvitationView> {
  const invitation = await findInvitation(deps.db, token);
  const [partnership] = await deps.db
    .select({ name: t.partnerships.name, slug: t.partnerships.slug })
    .from(t.partnerships)
    .where(eq(t.partnerships.id, invitation.partnershipId));
  const [user] = await deps.db
    .select({ id: t.users.id })
    .from(t.users)
    .where(eq(t.users.email, invitation.email));
  return {
    email: invitation.email,
    name: invitation.name,
    role: invitation.role,
    partnershipName: partnership!.name,
    partnershipSlug: partnership!.slug,
    expiresAt: invitation.expiresAt,
    accountExists: user !== undefined,
  };
}

export interface AcceptInput {
  /** For a new account. */
  name?: string | undefined;
  /** A new account's password, or the existing account's to prove it is theirs. */
  password?: string | undefined;
  /** Signed in already as the invited account: no password needed. */
  signedInUserId?: number | undefined;
}

const newAccountSchema = z.object({
  name: z.string({ error: 'Enter your name' }).trim().min(1, 'Enter your name').max(200),
  password: newPasswordField,
});

/**
 * Accepts an invitation: creates the account (or, for an address that has one, adds the role to
 * it once its owner has proved it) and the membership, and uses up the link.
 */
export async function acceptInvitation(
  deps: AccountsDeps,
  token: string,
  input: AcceptInput,
): Promise<{ user: SignedInUser; partnershipSlug: string; role: Role }> {
  const invitation = await findInvitation(deps.db, token);
  const [existing] = await deps.db.select().from(t.users).where(eq(t.users.email, invitation.email));

  let newAccount: { name: string; passwordHash: string } | undefined;
  if (existing) {
    if (existing.deactivatedAt) {
      throw new ForbiddenError(
        'The account for this address has been closed. Ask your coordinator for help.',
      );
    }
    if (input.signedInUserId !== existing.id) {
      if (input.signedInUserId !== undefined) {
        throw new ForbiddenError(
          'This invitation is for a different account. Sign out, then open the link again.',
        );
      }
      if (!input.password) throw new ValidationError([{ field: 'password', message: 'Enter your password' }]);
      // The accept page must not become a way round the sign-in lockout.
      const lockedFor = await lockedForMinutes(deps.db, existing.email);
      if (lockedFor > 0)
        throw new ValidationError([{ field: 'password', message: lockoutMessage(lockedFor) }]);
      const ok = existing.passwordHash
        ? await argon2.verify(existing.passwordHash, input.password).catch(() => false)
        : false;
      if (!ok) {
        await recordSignInFailure(deps.db, existing.email);
        throw new ValidationError([{ field: 'password', message: 'The password is not right' }]);
      }
    }
  } else {
    if (input.signedInUserId !== undefined) {
      throw new ForbiddenError(
        'This invitation is for a different account. Sign out, then open the link again.',
      );
    }
    const account = validate(newAccountSchema, { name: input.name, password: input.password });
    newAccount = { name: account.name, passwordHash: await hashPassword(account.password) };
  }

  return deps.db.transaction(async (tx) => {
    // Locked and checked again: two people pressing "Accept" at once get one membership.
    const current = await findInvitation(tx, token, true);
    let user: SignedInUser;
    if (newAccount) {
      const [created] = await tx
        .insert(t.users)
        .values({ email: current.email, name: newAccount.name, passwordHash: newAccount.passwordHash })
        .onConflictDoNothing({ target: t.users.email })
        .returning({ id: t.users.id, email: t.users.email, name: t.users.name });
      if (!created) throw new InvalidLinkError('invitation');
      user = created;
    } else {
      user = { id: existing!.id, email: existing!.email, name: existing!.name };
    }
    await tx
      .insert(t.memberships)
      .values({
        partnershipId: current.partnershipId,
        userId: user.id,
        role: current.role,
        organisationId: current.organisationId,
        personId: current.personId,
      })
      .onConflictDoUpdate({
        target: [t.memberships.userId, t.memberships.partnershipId],
        set: {
          role: current.role,
          organisationId: current.organisationId,
          personId: current.personId,
          // A new invitation starts afresh: reviewing is the coordinator's to grant again.
          reviewsUpdates: false,
          deactivatedAt: null,
          version: sql`${t.memberships.version} + 1`,
        },
      });
    await tx.update(t.invitations).set({ acceptedAt: new Date() }).where(eq(t.invitations.id, current.id));
    await recordAudit(tx, userActor(user), {
      partnershipId: current.partnershipId,
      kind: 'invitation.accepted',
      entity: 'invitation',
      entityId: current.id,
      summary: `${user.name} <${user.email}> accepted the invitation and joined as ${roleWords(current.role)}${newAccount ? ' (new account)' : ''}`,
      after: { userId: user.id, role: current.role, newAccount: newAccount !== undefined },
    });
    const [partnership] = await tx
      .select({ slug: t.partnerships.slug })
      .from(t.partnerships)
      .where(eq(t.partnerships.id, current.partnershipId));
    return { user, partnershipSlug: partnership!.slug, role: current.role };
  });
}

export async function revokeInvitation(
  deps: AccountsDeps,
  actor: Actor,
  partnershipId: number,
  invitationId: number,
): Promise<{ email: string }> {
  requireCoordinator(actor, partnershipId);
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(t.invitations)
      .where(and(eq(t.invitations.id, invitationId), eq(t.invitations.partnershipId, partnershipId)))
      .for('update');
    if (!row) throw new NotFoundError('The invitation');
    if (row.acceptedAt || row.revokedAt) {
      throw new ValidationError([
        {
          field: 'invitation',
          message: `The invitation to ${row.email} has already been accepted or withdrawn`,
        },
      ]);
    }
    await tx.update(t.invitations).set({ revokedAt: new Date() }).where(eq(t.invitations.id, row.id));
    await recordAudit(tx, actor, {
      partnershipId,
      kind: 'invitation.revoked',
      entity: 'invitation',
      entityId: row.id,
      summary: `Withdrew the invitation to ${row.name} <${row.email}>`,
      before: { email: row.email, role: row.role, expiresAt: row.expiresAt.toISOString() },
    });
    return { email: row.email };
  });
}

// ——— Roles and deactivation ———

export const roleFormSchema = z.object({
  role: z.enum(ROLES, { error: 'Choose a role' }),
  organisation: optionalId,
  person: optionalId,
  /** A checkbox: present ("yes") when ticked. Only partners and lead officers can review. */
  reviewsUpdates: z.preprocess((v) => v === true || v === 'yes' || v === 'true' || v === 'on', z.boolean()),
  version,
});
/** The role form's fields, as posted. */
export type RoleInput = Record<string, unknown>;

async function lockMembership(tx: Tx, partnershipId: number, membershipId: number, expectedVersion?: number) {
  const [row] = await tx
    .select()
    .from(t.memberships)
    .where(and(eq(t.memberships.id, membershipId), eq(t.memberships.partnershipId, partnershipId)))
    .for('update');
  if (!row) throw new NotFoundError('The member');
  if (expectedVersion !== undefined && row.version !== expectedVersion) {
    const [current] = await selectMembers(tx, partnershipId, membershipId);
    throw new ConflictError(current, 'Someone else changed this person’s membership since you opened it');
  }
  const [user] = await tx
    .select({ id: t.users.id, name: t.users.name, email: t.users.email })
    .from(t.users)
    .where(eq(t.users.id, row.userId));
  return { ...row, role: row.role as Role, user: user! };
}

/**
 * A partnership always keeps an active coordinator: the last one can neither step down nor be
 * deactivated. The coordinators' rows are locked so two doing this at once cannot both succeed.
 */
async function requireAnotherCoordinator(
  tx: Tx,
  actor: Actor,
  partnershipId: number,
  membership: { id: number; userId: number; user: { name: string } },
  doing: string,
): Promise<void> {
  const others = await tx
    .select({ id: t.memberships.id })
    .from(t.memberships)
    .innerJoin(t.users, eq(t.users.id, t.memberships.userId))
    .where(
      and(
        eq(t.memberships.partnershipId, partnershipId),
        eq(t.memberships.role, 'coordinator'),
        isNull(t.memberships.deactivatedAt),
        isNull(t.users.deactivatedAt),
        ne(t.memberships.id, membership.id),
      ),
    )
    .for('update', { of: t.memberships });
  if (others.length > 0) return;
  const who = actor.userId === membership.userId ? 'You are' : `${membership.user.name} is`;
  throw new ValidationError([
    {
      field: 'role',
      message: `${who} the partnership’s only coordinator, so cannot be ${doing}. Make someone else coordinator first`,
    },
  ]);
}

export async function changeRole(
  deps: AccountsDeps,
  actor: Actor,
  partnershipId: number,
  membershipId: number,
  input: RoleInput,
): Promise<{ name: string; role: Role; reviewsUpdates: boolean }> {
  requireCoordinator(actor, partnershipId);
  const change = validate(roleFormSchema, input);
  // The box means nothing for a coordinator (who reviews anyway) or the board (who never does).
  const reviewsUpdates = change.reviewsUpdates && REVIEWER_ROLES.includes(change.role);
  return deps.db.transaction(async (tx) => {
    const membership = await lockMembership(tx, partnershipId, membershipId, change.version);
    const { organisation, person } = await checkOrganisationAndPerson(
      tx,
      partnershipId,
      change.organisation,
      change.person,
    );
    if (membership.role === 'coordinator' && change.role !== 'coordinator' && !membership.deactivatedAt) {
      await requireAnotherCoordinator(tx, actor, partnershipId, membership, 'made something else');
    }
    await tx
      .update(t.memberships)
      .set({
        role: change.role,
        organisationId: change.organisation,
        personId: change.person,
        reviewsUpdates,
        version: membership.version + 1,
      })
      .where(eq(t.memberships.id, membership.id));
    const name = membership.user.name;
    const reviewing =
      reviewsUpdates === membership.reviewsUpdates
        ? ''
        : reviewsUpdates
          ? 'reviews quarterly updates'
          : 'no longer reviews quarterly updates';
    const placeChanged =
      change.organisation !== membership.organisationId || change.person !== membership.personId;
    await recordAudit(tx, actor, {
      partnershipId,
      kind: 'member.role_changed',
      entity: 'membership',
      entityId: membership.id,
      summary:
        membership.role !== change.role
          ? `Changed ${name} from ${roleWords(membership.role)} to ${roleWords(change.role)}${reviewing ? `, who ${reviewing}` : ''}`
          : reviewing && !placeChanged
            ? `${name} (${roleWords(change.role)}) ${reviewing}`
            : `Changed the organisation or person of ${name} (${roleWords(change.role)})${reviewing ? `, who ${reviewing}` : ''}`,
      before: {
        role: membership.role,
        organisationId: membership.organisationId,
        personId: membership.personId,
        reviewsUpdates: membership.reviewsUpdates,
      },
      after: { role: change.role, organisation, person, reviewsUpdates },
    });
    return { name, role: change.role, reviewsUpdates };
  });
}

const versionSchema = z.object({ version });

/**
 * Removes someone from the partnership (their account lives on). Without another active
 * membership they can use nothing, so their sessions end at once.
 */
export async function deactivateMember(
  deps: AccountsDeps,
  actor: Actor,
  partnershipId: number,
  membershipId: number,
  input: { version?: unknown },
): Promise<{ name: string; userId: number; sessionsEnded: boolean }> {
  requireCoordinator(actor, partnershipId);
  const { version: expected } = validate(versionSchema, input);
  return deps.db.transaction(async (tx) => {
    const membership = await lockMembership(tx, partnershipId, membershipId, expected);
    if (membership.deactivatedAt) {
      return { name: membership.user.name, userId: membership.userId, sessionsEnded: false };
    }
    if (membership.role === 'coordinator') {
      await requireAnotherCoordinator(tx, actor, partnershipId, membership, 'deactivated');
    }
    await tx
      .update(t.memberships)
      .set({ deactivatedAt: new Date(), version: membership.version + 1 })
      .where(eq(t.memberships.id, membership.id));
    const [other] = await tx
      .select({ id: t.memberships.id })
      .from(t.memberships)
      .where(
        and(
          eq(t.memberships.userId, membership.userId),
          isNull(t.memberships.deactivatedAt),
          ne(t.memberships.id, membership.id),
        ),
      );
    if (!other) await tx.delete(t.sessions).where(eq(t.sessions.userId, membership.userId));
    await recordAudit(tx, actor, {
      partnershipId,
      kind: 'member.deactivated',
      entity: 'membership',
      entityId: membership.id,
      summary: `Deactivated ${membership.user.name} <${membership.user.email}> (${roleWords(membership.role)})`,
      before: { role: membership.role, deactivatedAt: null },
      after: { sessionsEnded: !other },
    });
    return { name: membership.user.name, userId: membership.userId, sessionsEnded: !other };
  });
}

export async function reactivateMember(
  deps: AccountsDeps,
  actor: Actor,
  partnershipId: number,
  membershipId: number,
  input: { version?: unknown },
): Promise<{ name: string }> {
  requireCoordinator(actor, partnershipId);
  const { version: expected } = validate(versionSchema, input);
  return deps.db.transaction(async (tx) => {
    const membership = await lockMembership(tx, partnershipId, membershipId, expected);
    if (!membership.deactivatedAt) return { name: membership.user.name };
    await tx
      .update(t.memberships)
      .set({ deactivatedAt: null, version: membership.version + 1 })
      .where(eq(t.memberships.id, membership.id));
    await recordAudit(tx, actor, {
      partnershipId,
      kind: 'member.reactivated',
      entity: 'membership',
      entityId: membership.id,
      summary: `Reactivated ${membership.user.name} <${membership.user.email}> (${roleWords(membership.role)})`,
      before: { deactivatedAt: membership.deactivatedAt.toISOString() },
      after: { deactivatedAt: null },
    });
    return { name: membership.user.name };
  });
}

// ——— Passwords and sessions ———

export const forgotPasswordSchema = z.object({ email: emailField });

/**
 * Emails a reset link if the address has an active account. The caller is told nothing either
 * way, and both ways do the same work — a token, a transaction with a lookup and a write — while
 * the email is handed to the SMTP server without holding up the answer.
 */
export async function requestPasswordReset(
  deps: AccountsDeps,
  input: { email?: unknown },
  links: Links,
): Promise<void> {
  const { email } = validate(forgotPasswordSchema, input);
  const { token, tokenHash } = newToken();
  const expiresAt = new Date(Date.now() + RESET_MINUTES * 60 * 1000);
  const emailIds = await deps.db.transaction(async (tx) => {
    const [user] = await tx
      .select({ id: t.users.id, name: t.users.name, email: t.users.email })
      .from(t.users)
      .where(and(eq(t.users.email, email), isNull(t.users.deactivatedAt)));
    if (!user) {
      await recordAudit(
        tx,
        { userId: null, label: 'signed out', member: undefined, system: false },
        {
          partnershipId: null,
          kind: 'user.password_reset_requested',
          entity: 'user',
          summary: 'A password reset was asked for an address with no account',
        },
      );
      return [];
    }
    await tx.insert(t.passwordResets).values({ userId: user.id, tokenHash, expiresAt });
    const emailId = await deps.mailer.record(tx, {
      partnershipId: null,
      to: user.email,
      subject: 'Reset your Partnership Plan password',
      body: [
        `Hello ${user.name},`,
        '',
        `Someone asked to reset the password of your Partnership Plan account (${user.email}). If it was you, open this link to choose a new password:`,
        link(links, `/reset-password/${token}`),
        '',
        `The link works once, and only until ${londonTime(expiresAt)} (UK time).`,
        '',
        'If you did not ask for this, you can ignore this email: your password has not changed.',
      ].join('\n'),
    });
    await recordUserAudit(tx, userActor(user), user.id, {
      kind: 'user.password_reset_requested',
      entity: 'user',
      entityId: user.id,
      summary: `${user.name} asked for a password reset link`,
    });
    return [emailId];
  });
  deps.mailer.deliverLater(deps.db, emailIds);
}

async function findReset(db: Db | Tx, token: string, lock = false) {
  if (!/^[\w-]{20,100}$/.test(token)) throw new InvalidLinkError('reset');
  const query = db
    .select({
      id: t.passwordResets.id,
      userId: t.passwordResets.userId,
      expiresAt: t.passwordResets.expiresAt,
      usedAt: t.passwordResets.usedAt,
      email: t.users.email,
      name: t.users.name,
      deactivatedAt: t.users.deactivatedAt,
    })
    .from(t.passwordResets)
    .innerJoin(t.users, eq(t.users.id, t.passwordResets.userId))
    .where(eq(t.passwordResets.tokenHash, hashToken(token)));
  const [row] = lock ? await query.for('update', { of: t.passwordResets }) : await query;
  if (!row || row.usedAt || row.deactivatedAt || row.expiresAt.getTime() <= Date.now()) {
    throw new InvalidLinkError('reset');
  }
  return row;
}

/** What the reset page shows: whose password it is. */
export async function openPasswordReset(deps: AccountsDeps, token: string): Promise<{ email: string }> {
  const reset = await findReset(deps.db, token);
  return { email: reset.email };
}

const resetSchema = z.object({ password: newPasswordField });

/** Sets a new password from a reset link, uses the link up, and ends every session of the account. */
export async function resetPassword(
  deps: AccountsDeps,
  token: string,
  input: { password?: unknown },
): Promise<{ email: string }> {
  const { password } = validate(resetSchema, input);
  await findReset(deps.db, token);
  const passwordHash = await hashPassword(password);
  const email = await deps.db.transaction(async (tx) => {
    const reset = await findReset(tx, token, true);
    const now = new Date();
    await tx
      .update(t.users)
      .set({ passwordHash, passwordChangedAt: now, version: sql`${t.users.version} + 1` })
      .where(eq(t.users.id, reset.userId));
    // This link and any other still out for the account stop working.
    await tx
      .update(t.passwordResets)
      .set({ usedAt: now })
      .where(and(eq(t.passwordResets.userId, reset.userId), isNull(t.passwordResets.usedAt)));
    await tx.delete(t.sessions).where(eq(t.sessions.userId, reset.userId));
    await recordUserAudit(tx, userActor({ id: reset.userId, name: reset.name }), reset.userId, {
      kind: 'user.password_reset',
      entity: 'user',
      entityId: reset.userId,
      summary: `${reset.name} set a new password from a reset link; every session of the account ended`,
    });
    return reset.email;
  });
  await clearSignInFailures(deps.db, email);
  return { email };
}

const changePasswordSchema = z.object({
  current: z.string({ error: 'Enter your current password' }).min(1, 'Enter your current password'),
  password: newPasswordField,
});

/** Changes the signed-in person's password; every other session of theirs ends, this one stays. */
export async function changePassword(
  deps: AccountsDeps,
  userId: number,
  input: { current?: unknown; password?: unknown },
  currentSessionId: string,
): Promise<void> {
  const change = validate(changePasswordSchema, input);
  const [user] = await deps.db
    .select()
    .from(t.users)
    .where(and(eq(t.users.id, userId), isNull(t.users.deactivatedAt)));
  if (!user) throw new NotFoundError('Your account');
  const ok = user.passwordHash
    ? await argon2.verify(user.passwordHash, change.current).catch(() => false)
    : false;
  if (!ok) throw new ValidationError([{ field: 'current', message: 'Your current password is not right' }]);
  if (change.password === change.current) {
    throw new ValidationError([{ field: 'password', message: 'Enter a new password, not your current one' }]);
  }
  const passwordHash = await hashPassword(change.password);
  await deps.db.transaction(async (tx) => {
    await tx
      .update(t.users)
      .set({ passwordHash, passwordChangedAt: new Date(), version: sql`${t.users.version} + 1` })
      .where(eq(t.users.id, user.id));
    await tx
      .delete(t.sessions)
      .where(and(eq(t.sessions.userId, user.id), ne(t.sessions.sid, currentSessionId)));
    await recordUserAudit(tx, userActor(user), user.id, {
      kind: 'user.password_changed',
      entity: 'user',
      entityId: user.id,
      summary: `${user.name} changed their password; their other sessions ended`,
    });
  });
}

/** Ends every session of the account, on every device and instance. */
export async function signOutEverywhere(deps: AccountsDeps, userId: number): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const [user] = await tx
      .select({ id: t.users.id, name: t.users.name })
      .from(t.users)
      .where(eq(t.users.id, userId));
    if (!user) throw new NotFoundError('Your account');
    await tx.delete(t.sessions).where(eq(t.sessions.userId, user.id));
    await recordUserAudit(tx, userActor(user), user.id, {
      kind: 'user.signed_out_everywhere',
      entity: 'user',
      entityId: user.id,
      summary: `${user.name} signed out everywhere`,
    });
  });
}

/** The account page: who you are and where you hold roles. */
export async function getAccount(deps: AccountsDeps, userId: number) {
  const [user] = await deps.db
    .select({
      id: t.users.id,
      name: t.users.name,
      email: t.users.email,
      hasPassword: sql<boolean>`${t.users.passwordHash} is not null`,
      passwordChangedAt: t.users.passwordChangedAt,
    })
    .from(t.users)
    .where(and(eq(t.users.id, userId), isNull(t.users.deactivatedAt)));
  if (!user) throw new NotFoundError('Your account');
  const memberships = await deps.db
    .select({
      partnership: t.partnerships.name,
      slug: t.partnerships.slug,
      role: t.memberships.role,
      organisation: t.organisations.name,
    })
    .from(t.memberships)
    .innerJoin(t.partnerships, eq(t.partnerships.id, t.memberships.partnershipId))
    .leftJoin(t.organisations, eq(t.organisations.id, t.memberships.organisationId))
    .where(and(eq(t.memberships.userId, userId), isNull(t.memberships.deactivatedAt)))
    .orderBy(asc(t.partnerships.name));
  return { ...user, memberships: memberships.map((m) => ({ ...m, role: m.role as Role })) };
}

type BoundTo<F> = F extends (deps: AccountsDeps, ...args: infer A) => infer R ? (...args: A) => R : never;

/** The use cases above with their database and mailer bound, for the services bag. */
export function accountServices(deps: AccountsDeps) {
  const fns = {
    listPeople,
    getMembership,
    memberFormOptions,
    listOutbox,
    inviteMember,
    openInvitation,
    acceptInvitation,
    revokeInvitation,
    changeRole,
    deactivateMember,
    reactivateMember,
    requestPasswordReset,
    openPasswordReset,
    resetPassword,
    changePassword,
    signOutEverywhere,
    getAccount,
  };
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(fns)) {
    out[name] = (...args: unknown[]) => (fn as (d: AccountsDeps, ...a: unknown[]) => unknown)(deps, ...args);
  }
  return out as { [K in keyof typeof fns]: BoundTo<(typeof fns)[K]> };
}
