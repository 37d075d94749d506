/**
 * Accounts and memberships: adding people, checking passwords (argon2id), and turning a session's
 * user into a Member of a partnership.
 */
import argon2 from 'argon2';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows, writeStamp, type Db, type Tx } from '../db/client.js';
import { reusableQuery } from '../db/reusable-query.js';
import * as t from '../db/schema.js';
import { ROLES, type Member, type Role } from '../domain/permissions.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { cachedRead, MEMBERSHIP_STAMP_SQL, READ_STAMP_SQL, type ReadStamp } from './read-cache.js';
import { ForbiddenError, NotFoundError, ValidationError, validate } from './errors.js';
import { getPartnershipBySlug, partnershipColumns, type PartnershipRow } from './plan-read.js';

export const MIN_PASSWORD_LENGTH = 12;

/**
 * argon2id at the library's cost (64 MiB, 3 passes, 4 lanes: about a tenth of a second). The test
 * suite, which makes and checks thousands of passwords, may lower it: only when NODE_ENV is 'test'
 * and PP_TEST_CHEAP_PASSWORD_HASHES is '1' (set by vitest.config.ts), never in a running app.
 */
function hashOptions(): argon2.HashOptions {
  return process.env.NODE_ENV === 'test' && process.env.PP_TEST_CHEAP_PASSWORD_HASHES === '1'
    ? { type: argon2.argon2id, memoryCost: 1024, timeCost: 1, parallelism: 1 }
    : { type: argon2.argon2id };
}

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, hashOptions());
}

/** A fixed hash to verify against when the account does not exist, so timing does not tell. */
let decoyHash: Promise<string> | undefined;

export const newUserSchema = z.object({
  email: z
    .email('Enter an email address in the correct format, like name@example.org')
    .transform((e) => e.toLowerCase()),
  name: z.string().trim().min(1, 'Enter the person’s name'),
  password: z.string().min(MIN_PASSWORD_LENGTH, `Password must be ${MIN_PASSWORD_LENGTH} characters or more`),
  partnership: z.string().min(1),
  role: z.enum(ROLES),
  organisation: z.string().trim().optional(),
  person: z.string().trim().optional(),
});
export type NewUser = z.input<typeof newUserSchema>;

/**
 * Adds an account with a role in a partnership (the CLI's `users add`, the demo accounts).
 * Allowed to the operator and to the partnership's coordinator.
 */
export async function addUser(db: Db, input: NewUser, actor: Actor): Promise<{ userId: number }> {
  const user = validate(newUserSchema, input, 'user');
  const passwordHash = await hashPassword(user.password);
  return db.transaction(async (tx) => {
    const role = await resolveRole(tx, user, actor);
    const [existing] = await tx.select({ id: t.users.id }).from(t.users).where(eq(t.users.email, user.email));
    if (existing)
      throw new ValidationError([{ field: 'email', message: `an account for ${user.email} already exists` }]);
    const [row] = await tx
      .insert(t.users)
      .values({ email: user.email, name: user.name, passwordHash })
      .returning({ id: t.users.id });
    await tx.insert(t.memberships).values({ userId: row!.id, ...role });
    await recordAudit(tx, actor, {
      partnershipId: role.partnershipId,
      kind: 'user.added',
      entity: 'user',
      entityId: row!.id,
      summary: `Added ${user.name} <${user.email}> as ${user.role.replace('_', ' ')}`,
      after: { email: user.email, name: user.name, role: user.role, organisation: user.organisation ?? null },
    });
    return { userId: row!.id };
  });
}

/**
 * A role in a partnership, checked: the partnership, organisation and person exist, and the actor is
 * the operator or the partnership's coordinator.
 */
async function resolveRole(
  tx: Tx,
  user: { partnership: string; role: Role; organisation?: string | undefined; person?: string | undefined },
  actor: Actor,
): Promise<{ partnershipId: number; role: Role; organisationId: number | null; personId: number | null }> {
  const [partnership] = await tx
    .select({ id: t.partnerships.id })
    .from(t.partnerships)
    .where(eq(t.partnerships.slug, user.partnership));
  if (!partnership) {
    throw new ValidationError([
      { field: 'partnership', message: `there is no partnership "${user.partnership}"` },
    ]);
  }
  if (
    !actor.system &&
    !(actor.member?.partnershipId === partnership.id && actor.member.role === 'coordinator')
  ) {
    throw new ForbiddenError('Only the coordinator can add people to this partnership');
  }
  let organisationId: number | null = null;
  if (user.organisation) {
    const [org] = await tx
      .select({ id: t.organisations.id })
      .from(t.organisations)
      .where(
        and(eq(t.organisations.partnershipId, partnership.id), eq(t.organisations.name, user.organisation)),
      );
    if (!org)
      throw new ValidationError([
        { field: 'organisation', message: `there is no organisation "${user.organisation}"` },
      ]);
    organisationId = org.id;
  }
  let personId: number | null = null;
  if (user.person) {
    const [person] = await tx
      .select({ id: t.people.id })
      .from(t.people)
      .where(and(eq(t.people.partnershipId, partnership.id), eq(t.people.name, user.person)));
    if (!person)
      throw new ValidationError([
        { field: 'person', message: `there is no person "${user.person}" in the plan` },
      ]);
    personId = person.id;
  }
  return { partnershipId: partnership.id, role: user.role, organisationId, personId };
}

/**
 * Gives an existing account a role in another partnership (a police inspector who covers two
 * districts); the demo loader's, as addUser is for a new account. Refused when the account already
 * holds a role there.
 */
export async function addMembership(
  db: Db,
  input: { userId: number; partnership: string; role: Role; organisation?: string; person?: string },
  actor: Actor,
): Promise<void> {
  await db.transaction(async (tx) => {
    const role = await resolveRole(tx, input, actor);
    const [user] = await tx
      .select({ id: t.users.id, email: t.users.email, name: t.users.name })
      .from(t.users)
      .where(eq(t.users.id, input.userId));
    if (!user) throw new NotFoundError('The account');
    const [held] = await tx
      .select({ id: t.memberships.id })
      .from(t.memberships)
      .where(and(eq(t.memberships.userId, user.id), eq(t.memberships.partnershipId, role.partnershipId)));
    if (held)
      throw new ValidationError([
        { field: 'partnership', message: `${user.email} already holds a role in "${input.partnership}"` },
      ]);
    await tx.insert(t.memberships).values({ userId: user.id, ...role });
    await recordAudit(tx, actor, {
      partnershipId: role.partnershipId,
      kind: 'user.added',
      entity: 'user',
      entityId: user.id,
      summary: `Added ${user.name} <${user.email}> as ${input.role.replace('_', ' ')}`,
      after: {
        email: user.email,
        name: user.name,
        role: input.role,
        organisation: input.organisation ?? null,
      },
    });
  });
}

export interface SignedInUser {
  id: number;
  email: string;
  name: string;
  /** How many partnerships the account holds an active role in (the header links the county view when several). */
  partnerships?: number;
}

/**
 * Checks an email address and password. The answer is the same for an unknown address and a
 * wrong password, and takes as long, so sign-in does not reveal who has an account.
 */
export async function authenticate(
  db: Db,
  email: string,
  password: string,
): Promise<SignedInUser | undefined> {
  const [user] = await db
    .select()
    .from(t.users)
    .where(and(eq(t.users.email, email.trim().toLowerCase()), isNull(t.users.deactivatedAt)));
  if (!user?.passwordHash) {
    decoyHash ??= hashPassword('not a real password, only for equal timing');
    await argon2.verify(await decoyHash, password).catch(() => false);
    return undefined;
  }
  const ok = await argon2.verify(user.passwordHash, password).catch(() => false);
  return ok ? { id: user.id, email: user.email, name: user.name } : undefined;
}

export async function getUser(db: Db, userId: number): Promise<SignedInUser | undefined> {
  const [user] = await db
    .select({
      id: t.users.id,
      email: t.users.email,
      name: t.users.name,
      partnerships: sql<number>`(select count(*)::int from memberships m where m.user_id = users.id and m.deactivated_at is null)`,
    })
    .from(t.users)
    .where(and(eq(t.users.id, userId), isNull(t.users.deactivatedAt)));
  return user;
}

/**
 * The signed-in account of a request and the request's read stamp and membership stamp
 * (read-cache.ts), read together in one query as the request starts. No account (deactivated,
 * gone): user undefined.
 */
export async function getSignedIn(
  db: Db,
  userId: number,
): Promise<{ user: SignedInUser | undefined; stamp: string; membershipStamp: string }> {
  const counted = writeStamp(db);
  const [row] = await queryRows<SignedInUserRow & { stamp: string; membership_stamp: string }>(
    db,
    sql`select ${READ_STAMP_SQL} as stamp, ${MEMBERSHIP_STAMP_SQL} as membership_stamp, ${SIGNED_IN_USER_SQL}
    from (select 1) as one
    left join users u on u.id = ${userId} and u.deactivated_at is null`,
  );
  return { user: signedInUserOf(row!), stamp: counted ?? row!.stamp, membershipStamp: row!.membership_stamp };
}

/** The columns SIGNED_IN_USER_SQL reads (id null: no active account). */
export interface SignedInUserRow {
  id: number | null;
  email: string;
  name: string;
  partnerships: number;
}

/** The account of a row read with SIGNED_IN_USER_SQL (here and by the session store's read). */
export function signedInUserOf(row: SignedInUserRow): SignedInUser | undefined {
  return row.id === null
    ? undefined
    : { id: row.id, email: row.email, name: row.name, partnerships: Number(row.partnerships) };
}

/** The columns of a signed-in account, from `users u` (left joined: all null when there is none). */
export const SIGNED_IN_USER_SQL = sql`u.id, u.email, u.name,
  (select count(*)::int from memberships m where m.user_id = u.id and m.deactivated_at is null) as partnerships`;

/** The user's standing in a partnership, or undefined when they hold no role there. */
export async function getMember(
  db: Db,
  userId: number,
  partnershipId: number,
  stamp?: ReadStamp,
): Promise<Member | undefined> {
  return cachedRead(db, stamp, `member:${userId}:${partnershipId}`, () =>
    readMember(db, userId, partnershipId),
  );
}

/** A member's columns, from `memberships` and its account in `users`. */
const memberColumns = {
  userId: t.users.id,
  name: t.users.name,
  partnershipId: t.memberships.partnershipId,
  role: t.memberships.role,
  organisationId: t.memberships.organisationId,
  personId: t.memberships.personId,
  reviewsUpdates: t.memberships.reviewsUpdates,
};

/** The member read with memberColumns; none when either side is missing (left joined). */
function memberOf(
  row: { userId: number | null; role: string | null } | null | undefined,
): Member | undefined {
  return row && row.userId !== null && row.role !== null
    ? ({ ...row, role: row.role as Role } as Member)
    : undefined;
}

/**
 * The partnership of `slug` (NotFoundError without one) and the user's standing in it (as getMember
 * reads it), in one query: the two reads a partnership's every request starts with. They read
 * partnerships, memberships and users alone, so the stamp may be the request's membership stamp
 * (read-cache.ts MEMBERSHIP_STAMP_SQL), which other writes leave as it is. Signed out (no user), the
 * partnership alone.
 */
export async function getPartnershipMember(
  db: Db,
  slug: string,
  userId: number | undefined,
  stamp?: ReadStamp,
): Promise<{ partnership: PartnershipRow; member: Member | undefined }> {
  if (userId === undefined)
    return { partnership: await getPartnershipBySlug(db, slug, stamp), member: undefined };
  return cachedRead(db, stamp, `partnership-member:${slug}:${userId}`, async () => {
    const [row] = await readPartnershipMember(db, { slug, userId });
    if (!row) throw new NotFoundError(`The partnership "${slug}"`);
    return { partnership: row.partnership, member: memberOf(row.member) };
  });
}

const readPartnershipMember = reusableQuery('read_partnership_member', (db) =>
  db
    .select({ partnership: partnershipColumns, member: memberColumns })
    .from(t.partnerships)
    .leftJoin(
      t.memberships,
      and(
        eq(t.memberships.partnershipId, t.partnerships.id),
        eq(t.memberships.userId, sql.placeholder('userId')),
        isNull(t.memberships.deactivatedAt),
      ),
    )
    // A membership of a deactivated account is none.
    .leftJoin(t.users, and(eq(t.users.id, t.memberships.userId), isNull(t.users.deactivatedAt)))
    .where(eq(t.partnerships.slug, sql.placeholder('slug'))),
);

async function readMember(db: Db, userId: number, partnershipId: number): Promise<Member | undefined> {
  const [row] = await db
    .select(memberColumns)
    .from(t.memberships)
    .innerJoin(t.users, eq(t.users.id, t.memberships.userId))
    .where(
      and(
        eq(t.memberships.userId, userId),
        eq(t.memberships.partnershipId, partnershipId),
        isNull(t.memberships.deactivatedAt),
        isNull(t.users.deactivatedAt),
      ),
    );
  return memberOf(row);
}

/** The partnerships a user holds a role in, for the start page after sign-in. */
export async function listMemberships(db: Db, userId: number) {
  return db
    .select({ slug: t.partnerships.slug, name: t.partnerships.name, role: t.memberships.role })
    .from(t.memberships)
    .innerJoin(t.partnerships, eq(t.partnerships.id, t.memberships.partnershipId))
    .where(and(eq(t.memberships.userId, userId), isNull(t.memberships.deactivatedAt)));
}

export async function countUsers(db: Db): Promise<number> {
  const rows = await db.select({ id: t.users.id }).from(t.users);
  return rows.length;
}

export async function recordSignIn(
  db: Db,
  user: SignedInUser,
  outcome: 'signed-in' | 'signed-out',
): Promise<void> {
  await db.transaction(async (tx) => {
    const partnerships = await tx
      .select({ id: t.memberships.partnershipId })
      .from(t.memberships)
      .where(eq(t.memberships.userId, user.id));
    const actor: Actor = { userId: user.id, label: user.name, member: undefined, system: false };
    for (const p of partnerships.length ? partnerships : [{ id: null }]) {
      await recordAudit(tx, actor, {
        partnershipId: p.id,
        kind: outcome === 'signed-in' ? 'user.signed_in' : 'user.signed_out',
        entity: 'user',
        entityId: user.id,
        summary: `${user.name} ${outcome === 'signed-in' ? 'signed in' : 'signed out'}`,
      });
    }
  });
}

export function assertFound<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new NotFoundError(what);
  return value;
}
