import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import type { Member } from '../../src/domain/permissions.js';
import {
  acceptInvitation,
  changePassword,
  changeRole,
  deactivateMember,
  getMembership,
  hashToken,
  InvalidLinkError,
  inviteMember,
  listOutbox,
  listPeople,
  memberFormOptions,
  openInvitation,
  reactivateMember,
  requestPasswordReset,
  resetPassword,
  revokeInvitation,
  signOutEverywhere,
  type AccountsDeps,
} from '../../src/services/accounts.js';
import { memberActor, systemActor, type Actor } from '../../src/services/actor.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../../src/services/errors.js';
import { createServices } from '../../src/services/index.js';
import { Mailer } from '../../src/services/mail.js';
import { createPartnership } from '../../src/services/partnerships.js';
import { lockoutMessage } from '../../src/services/sign-in-throttle.js';
import { getPartnershipBySlug } from '../../src/services/plan-read.js';
import { addUser, getMember, getPartnershipMember, hashPassword } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { TEST_PASSWORD } from '../support/password.js';

/** The demo accounts' password (the demo template's). */
const PASSWORD = TEST_PASSWORD;
const links = { baseUrl: 'https://plan.example' };

let database: TestDatabase;
let deps: AccountsDeps;
let sosafe: number;
let coordinator: Actor;
let lead: Actor;
let partner: Actor;
let board: Actor;
let elsewhere: Actor;

async function rows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  return queryRows<T>(database.db, query);
}

async function actorFor(email: string, slug = 'sosafe'): Promise<Actor> {
  const [row] = await rows<{ id: number; partnership_id: number }>(
    sql`select u.id, m.partnership_id from users u join memberships m on m.user_id = u.id
        join partnerships p on p.id = m.partnership_id where u.email = ${email} and p.slug = ${slug}`,
  );
  return memberActor((await getMember(database.db, row!.id, row!.partnership_id)) as Member);
}

async function membershipOf(email: string): Promise<{ id: number; version: number }> {
  const [row] = await rows<{ id: number; version: number }>(
    sql`select m.id, m.version from memberships m join users u on u.id = m.user_id
        where u.email = ${email} and m.partnership_id = ${sosafe}`,
  );
  return row!;
}

/** The token of the newest link to `path` emailed to `to` (read from the outbox). */
async function tokenSentTo(to: string, path: string): Promise<string> {
  const [row] = await rows<{ body: string }>(
    sql`select body from emails where to_address = ${to} order by id desc limit 1`,
  );
  const token = new RegExp(`${path}([\\w-]+)`).exec(row!.body)?.[1];
  if (!token) throw new Error(`No ${path} link emailed to ${to}`);
  return token;
}

async function addSession(sid: string, email: string): Promise<void> {
  await rows(sql`insert into sessions (sid, user_id, data, expires_at)
    select ${sid}, id, '{}'::jsonb, now() + interval '1 hour' from users where email = ${email}`);
}

async function sessionIds(email: string): Promise<string[]> {
  const found = await rows<{ sid: string }>(
    sql`select s.sid from sessions s join users u on u.id = s.user_id where u.email = ${email} order by s.sid`,
  );
  return found.map((r) => r.sid);
}

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
  deps = { db: database.db, mailer: new Mailer() };
  coordinator = await actorFor('coordinator@sosafe.example');
  lead = await actorFor('helen.whitehead@sosafe.example');
  partner = await actorFor('partner@sosafe.example');
  board = await actorFor('board@sosafe.example');
  sosafe = coordinator.member!.partnershipId;
  await createPartnership(database.db, systemActor(), { slug: 'nherts', name: 'North Herts CSP' });
  await addUser(
    database.db,
    {
      email: 'coordinator@nherts.example',
      name: 'Nell Coordinator',
      password: PASSWORD,
      partnership: 'nherts',
      role: 'coordinator',
    },
    systemActor(),
  );
  elsewhere = await actorFor('coordinator@nherts.example', 'nherts');
});
afterAll(async () => {
  await database?.drop();
});

describe('who may manage a partnership’s people', () => {
  it('only its own coordinator: every service refuses the other roles and other partnerships’ coordinators', async () => {
    const { invitationId } = await inviteMember(
      deps,
      coordinator,
      sosafe,
      { email: 'pending@herts.example', name: 'Pending', role: 'partner' },
      links,
    );
    const target = await membershipOf('board@sosafe.example');
    for (const actor of [lead, partner, board, elsewhere]) {
      const attempts: Promise<unknown>[] = [
        listPeople(deps, actor, sosafe),
        listOutbox(deps, actor, sosafe),
        getMembership(deps, actor, sosafe, target.id),
        memberFormOptions(deps, actor, sosafe),
        inviteMember(
          deps,
          actor,
          sosafe,
          { email: 'x@herts.example', name: 'X', role: 'coordinator' },
          links,
        ),
        changeRole(deps, actor, sosafe, target.id, { role: 'coordinator', version: target.version }),
        deactivateMember(deps, actor, sosafe, target.id, { version: target.version }),
        reactivateMember(deps, actor, sosafe, target.id, { version: target.version }),
        revokeInvitation(deps, actor, sosafe, invitationId),
      ];
      for (const attempt of attempts)
        await expect(attempt, actor.label).rejects.toBeInstanceOf(ForbiddenError);
    }
    const [counts] = await rows<{ invitations: number; role: string; pending: number }>(sql`select
      (select count(*)::int from invitations where email = 'x@herts.example') as invitations,
      (select role from memberships where id = ${target.id}) as role,
      (select count(*)::int from invitations where id = ${invitationId} and revoked_at is null) as pending`);
    expect(counts).toEqual({ invitations: 0, role: 'board_member', pending: 1 });
  });
});

describe('invitations', () => {
  it('keep only a hash of the token; the link lasts 7 days and the email says so', async () => {
    await inviteMember(
      deps,
      coordinator,
      sosafe,
      { email: 'Hash.Check@Herts.example', name: 'Hash Check', role: 'board_member' },
      links,
    );
    const token = await tokenSentTo('hash.check@herts.example', 'https://plan.example/invitations/');
    expect(token.length).toBeGreaterThanOrEqual(43);
    const [row] = await rows<{ token_hash: string; days: number }>(
      sql`select token_hash, extract(epoch from expires_at - created_at) / 86400 as days
          from invitations where email = 'hash.check@herts.example'`,
    );
    expect(row!.token_hash).toBe(hashToken(token));
    expect(Math.round(Number(row!.days))).toBe(7);
    const view = await openInvitation(deps, token);
    expect(view).toMatchObject({
      email: 'hash.check@herts.example',
      role: 'board_member',
      accountExists: false,
    });
  });

  it('a new invitation to the same address withdraws the earlier link', async () => {
    const invite = { email: 'twice@herts.example', name: 'Twice', role: 'partner' };
    await inviteMember(deps, coordinator, sosafe, invite, links);
    const first = await tokenSentTo('twice@herts.example', '/invitations/');
    await inviteMember(deps, coordinator, sosafe, invite, links);
    const second = await tokenSentTo('twice@herts.example', '/invitations/');
    await expect(openInvitation(deps, first)).rejects.toBeInstanceOf(InvalidLinkError);
    await expect(openInvitation(deps, second)).resolves.toMatchObject({ email: 'twice@herts.example' });
  });

  it('unknown, used, expired and withdrawn links all get the one answer', async () => {
    await expect(openInvitation(deps, 'a'.repeat(43))).rejects.toBeInstanceOf(InvalidLinkError);

    await inviteMember(
      deps,
      coordinator,
      sosafe,
      { email: 'once@herts.example', name: 'Once', role: 'partner' },
      links,
    );
    const once = await tokenSentTo('once@herts.example', '/invitations/');
    const accepted = await acceptInvitation(deps, once, { name: 'Once', password: 'once is enough here' });
    expect(accepted).toMatchObject({ partnershipSlug: 'sosafe', role: 'partner' });
    await expect(
      acceptInvitation(deps, once, { name: 'Again', password: 'twice is too many' }),
    ).rejects.toBeInstanceOf(InvalidLinkError);

    await inviteMember(
      deps,
      coordinator,
      sosafe,
      { email: 'late@herts.example', name: 'Late', role: 'partner' },
      links,
    );
    const late = await tokenSentTo('late@herts.example', '/invitations/');
    await rows(
      sql`update invitations set expires_at = now() - interval '1 second' where email = 'late@herts.example'`,
    );
    await expect(
      acceptInvitation(deps, late, { name: 'Late', password: 'too late for this' }),
    ).rejects.toBeInstanceOf(InvalidLinkError);

    const { invitationId } = await inviteMember(
      deps,
      coordinator,
      sosafe,
      { email: 'gone@herts.example', name: 'Gone', role: 'partner' },
      links,
    );
    const gone = await tokenSentTo('gone@herts.example', '/invitations/');
    await revokeInvitation(deps, coordinator, sosafe, invitationId);
    await expect(
      acceptInvitation(deps, gone, { name: 'Gone', password: 'withdrawn already' }),
    ).rejects.toBeInstanceOf(InvalidLinkError);
    const accounts = await rows<{ email: string }>(
      sql`select email from users where email in ('late@herts.example', 'gone@herts.example')`,
    );
    expect(accounts).toEqual([]);
  });
});

describe('passwords and sessions', () => {
  it('changing a password ends every other session and keeps the current one', async () => {
    const email = 'helen.whitehead@sosafe.example';
    await addSession('lead-here', email);
    await addSession('lead-there', email);
    await expect(
      changePassword(
        deps,
        lead.userId!,
        { current: 'wrong password', password: 'a newer password here' },
        'lead-here',
      ),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(await sessionIds(email)).toEqual(['lead-here', 'lead-there']);
    await changePassword(
      deps,
      lead.userId!,
      { current: PASSWORD, password: 'a newer password here' },
      'lead-here',
    );
    expect(await sessionIds(email)).toEqual(['lead-here']);
  });

  it('a reset ends every session; the link works once; an unknown address gets no email and the same answer', async () => {
    const email = 'partner@sosafe.example';
    await addSession('partner-1', email);
    await addSession('partner-2', email);
    await expect(
      requestPasswordReset(deps, { email: 'nobody@nowhere.example' }, links),
    ).resolves.toBeUndefined();
    await expect(
      requestPasswordReset(deps, { email: 'Partner@SoSafe.example' }, links),
    ).resolves.toBeUndefined();
    const [none] = await rows<{ n: number }>(
      sql`select count(*)::int as n from emails where to_address = 'nobody@nowhere.example'`,
    );
    expect(none!.n).toBe(0);

    const token = await tokenSentTo(email, '/reset-password/');
    await expect(resetPassword(deps, token, { password: 'short' })).rejects.toBeInstanceOf(ValidationError);
    await resetPassword(deps, token, { password: 'a reset password now' });
    expect(await sessionIds(email)).toEqual([]);
    await expect(resetPassword(deps, token, { password: 'a second reset password' })).rejects.toBeInstanceOf(
      InvalidLinkError,
    );
    const kinds = await rows<{ kind: string }>(
      sql`select kind from audit_events where kind like 'user.password_reset%' order by id`,
    );
    expect(kinds.map((k) => k.kind)).toEqual([
      'user.password_reset_requested',
      'user.password_reset_requested',
      'user.password_reset',
    ]);
  });

  it('signing out everywhere deletes every session of the account, and is recorded', async () => {
    await addSession('board-1', 'board@sosafe.example');
    await addSession('board-2', 'board@sosafe.example');
    await signOutEverywhere(deps, board.userId!);
    expect(await sessionIds('board@sosafe.example')).toEqual([]);
    const [event] = await rows<{ summary: string }>(
      sql`select summary from audit_events where kind = 'user.signed_out_everywhere'`,
    );
    expect(event!.summary).toBe('Bobbie Board signed out everywhere');
  });
});

describe('the sign-in lockout, kept in the database', () => {
  it('10 failures in 10 minutes lock an address for every instance, known or not', async () => {
    const one = createServices(database);
    const two = createServices(database);
    for (let i = 0; i < 9; i++)
      await one.signInLockout.recordFailure('Unknown.Person@Example.org', '10.0.0.1');
    expect(await two.signInLockout.lockedForMinutes('unknown.person@example.org')).toBe(0);
    await one.signInLockout.recordFailure('unknown.person@example.org', '10.0.0.2');
    expect(await two.signInLockout.lockedForMinutes('unknown.person@example.org')).toBe(10);
    expect(await two.signInLockout.lockedForMinutes('someone.else@example.org')).toBe(0);
    await two.signInLockout.recordSuccess('unknown.person@example.org');
    expect(await one.signInLockout.lockedForMinutes('unknown.person@example.org')).toBe(0);
    expect(lockoutMessage(1)).toBe(
      'Too many attempts to sign in to this account. Wait 1 minute, then try again',
    );
  });

  it('failures older than 10 minutes do not count, and are pruned', async () => {
    const services = createServices(database);
    await rows(sql`insert into sign_in_failures (email, occurred_at)
      select 'old@example.org', now() - interval '11 minutes' from generate_series(1, 10)`);
    await rows(sql`insert into sign_in_failures (email, occurred_at)
      select 'ageing@example.org', now() - interval '8 minutes' from generate_series(1, 10)`);
    expect(await services.signInLockout.lockedForMinutes('old@example.org')).toBe(0);
    expect(await services.signInLockout.lockedForMinutes('ageing@example.org')).toBe(2);
    await services.signInLockout.recordFailure('another@example.org');
    const [left] = await rows<{ n: number }>(
      sql`select count(*)::int as n from sign_in_failures where email = 'old@example.org'`,
    );
    expect(left!.n).toBe(0);
  });
});

describe('a partnership keeps a coordinator', () => {
  it('the only coordinator can neither step down nor be deactivated; once there is another, they can', async () => {
    const self = await membershipOf('coordinator@sosafe.example');
    const demote = changeRole(deps, coordinator, sosafe, self.id, { role: 'partner', version: self.version });
    await expect(demote).rejects.toThrow('You are the partnership’s only coordinator');
    await expect(
      deactivateMember(deps, coordinator, sosafe, self.id, { version: self.version }),
    ).rejects.toThrow('You are the partnership’s only coordinator');

    const other = await membershipOf('partner@sosafe.example');
    await changeRole(deps, coordinator, sosafe, other.id, { role: 'coordinator', version: other.version });
    await changeRole(deps, coordinator, sosafe, self.id, { role: 'partner', version: self.version });
    const { members } = await listPeople(deps, await actorFor('partner@sosafe.example'), sosafe);
    expect(members.filter((m) => m.role === 'coordinator').map((m) => m.email)).toEqual([
      'partner@sosafe.example',
    ]);
    const kinds = await rows<{ kind: string }>(
      sql`select kind from audit_events where kind = 'member.role_changed'`,
    );
    expect(kinds).toHaveLength(2);
  });
});

describe('password hashes', () => {
  it('are argon2id at the library’s full cost outside the test suite’s own accounts', async () => {
    const { NODE_ENV } = process.env;
    try {
      process.env.NODE_ENV = 'production';
      expect(await hashPassword('a password long enough')).toMatch(/^\$argon2id\$v=19\$m=65536,p=4,t=3\$/);
    } finally {
      process.env.NODE_ENV = NODE_ENV;
    }
    // The suite's own (vitest.config.ts): cheaper, still argon2id.
    expect(await hashPassword('a password long enough')).toMatch(/^\$argon2id\$v=19\$m=1024,p=1,t=1\$/);
  });
});

describe('a partnership and a member, in one read', () => {
  it('reads what the partnership and getMember read apart, for a member, an outsider and the deactivated', async () => {
    const idOf = async (email: string) =>
      (await rows<{ id: number }>(sql`select id from users where email = ${email}`))[0]!.id;
    const both = async (email: string | undefined, slug = 'sosafe') =>
      getPartnershipMember(database.db, slug, email === undefined ? undefined : await idOf(email));
    const apart = async (email: string) => getMember(database.db, await idOf(email), sosafe);

    const lead = await both('helen.whitehead@sosafe.example');
    expect(lead.partnership).toEqual(await getPartnershipBySlug(database.db, 'sosafe'));
    expect(lead.member).toEqual(await apart('helen.whitehead@sosafe.example'));
    expect(lead.member).toMatchObject({
      role: 'lead_officer',
      partnershipId: sosafe,
      name: 'Helen Whitehead',
    });
    expect((await both('board@sosafe.example')).member?.role).toBe('board_member');
    expect((await both(undefined)).member).toBeUndefined();

    // A member of another partnership is nobody here; an unknown partnership is not found.
    const outsider = (
      await rows<{ email: string }>(
        sql`select u.email from users u where not exists (select 1 from memberships m
          where m.user_id = u.id and m.partnership_id = ${sosafe}) limit 1`,
      )
    )[0]!.email;
    expect((await both(outsider)).member).toBeUndefined();
    await expect(both('board@sosafe.example', 'no-such-partnership')).rejects.toBeInstanceOf(NotFoundError);

    // A deactivated membership, or a deactivated account, is no standing at all (as getMember says).
    const partnerId = await idOf('partner@sosafe.example');
    try {
      await rows(
        sql`update memberships set deactivated_at = now() where user_id = ${partnerId} and partnership_id = ${sosafe}`,
      );
      expect((await both('partner@sosafe.example')).member).toBeUndefined();
      expect(await apart('partner@sosafe.example')).toBeUndefined();
      await rows(sql`update memberships set deactivated_at = null where user_id = ${partnerId}`);
      await rows(sql`update users set deactivated_at = now() where id = ${partnerId}`);
      expect((await both('partner@sosafe.example')).member).toBeUndefined();
      expect(await apart('partner@sosafe.example')).toBeUndefined();
    } finally {
      await rows(sql`update memberships set deactivated_at = null where user_id = ${partnerId}`);
      await rows(sql`update users set deactivated_at = null where id = ${partnerId}`);
    }
    expect((await both('partner@sosafe.example')).member).toEqual(await apart('partner@sosafe.example'));
  });
});
