/**
 * API tokens: only the partnership's coordinator issues, lists and revokes them; each is shown
 * once and only its hash is kept; issuing and revoking are audited without the token; and a
 * token authenticates until it is revoked or expires, noting its use at most once a minute.
 */
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { apiTokens, auditEvents } from '../../src/db/schema.js';
import type { Member } from '../../src/domain/permissions.js';
import { hashToken } from '../../src/services/accounts.js';
import { memberActor, systemActor, type Actor } from '../../src/services/actor.js';
import {
  API_TOKEN_PATTERN,
  authenticateApiToken,
  getApiToken,
  issueApiToken,
  listApiTokens,
  revokeApiToken,
} from '../../src/services/api-tokens.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../../src/services/errors.js';
import { createPartnership } from '../../src/services/partnerships.js';
import { addUser, getMember } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { TEST_PASSWORD } from '../support/password.js';

/** The demo accounts' password (the demo template's). */
const PASSWORD = TEST_PASSWORD;

let database: TestDatabase;
let sosafe: number;
let coordinator: Actor;
let lead: Actor;
let partner: Actor;
let board: Actor;
let elsewhere: Actor;

async function actorFor(email: string, slug = 'sosafe'): Promise<Actor> {
  const [row] = await queryRows<{ id: number; partnership_id: number }>(
    database.db,
    sql`select u.id, m.partnership_id from users u join memberships m on m.user_id = u.id
        join partnerships p on p.id = m.partnership_id where u.email = ${email} and p.slug = ${slug}`,
  );
  return memberActor((await getMember(database.db, row!.id, row!.partnership_id)) as Member);
}

async function auditOf(kind: string) {
  return database.db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.kind, kind), eq(auditEvents.partnershipId, sosafe)));
}

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
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

describe('issuing, listing and revoking', () => {
  it('only the partnership’s own coordinator may, and a refusal writes nothing', async () => {
    const { id } = await issueApiToken(database.db, coordinator, sosafe, { name: 'Kept for refusals' });
    const before = (await database.db.select().from(apiTokens)).length;
    for (const actor of [lead, partner, board, elsewhere]) {
      for (const attempt of [
        issueApiToken(database.db, actor, sosafe, { name: 'Not allowed' }),
        listApiTokens(database.db, actor, sosafe),
        getApiToken(database.db, actor, sosafe, id),
        revokeApiToken(database.db, actor, sosafe, id),
      ]) {
        await expect(attempt).rejects.toBeInstanceOf(ForbiddenError);
      }
    }
    expect((await database.db.select().from(apiTokens)).length).toBe(before);
    expect((await getApiToken(database.db, coordinator, sosafe, id)).revokedAt).toBeNull();
  });

  it('needs a name, and an expiry from the choices', async () => {
    await expect(issueApiToken(database.db, coordinator, sosafe, { name: '  ' })).rejects.toMatchObject({
      problems: [{ field: 'name', message: 'Enter a name for the token' }],
    });
    await expect(
      issueApiToken(database.db, coordinator, sosafe, { name: 'Odd', expiresInDays: '7' }),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it('shows the token once: only its hash and prefix are stored, and the audit trail never holds it', async () => {
    const issued = await issueApiToken(database.db, coordinator, sosafe, {
      name: 'County dashboard',
      expiresInDays: '90',
    });
    expect(issued.token).toMatch(API_TOKEN_PATTERN);
    expect(issued.prefix).toBe(issued.token.slice(0, 8));
    const [row] = await database.db.select().from(apiTokens).where(eq(apiTokens.id, issued.id));
    expect(row).toMatchObject({ name: 'County dashboard', prefix: issued.prefix, revokedAt: null });
    expect(row!.tokenHash).toBe(hashToken(issued.token));
    expect(JSON.stringify(row)).not.toContain(issued.token);
    expect(row!.expiresAt!.getTime() - row!.createdAt.getTime()).toBe(90 * 86_400_000);

    const listed = await listApiTokens(database.db, coordinator, sosafe);
    expect(listed[0]).toMatchObject({
      id: issued.id,
      name: 'County dashboard',
      createdBy: 'Casey Coordinator',
    });
    expect(JSON.stringify(listed)).not.toContain(issued.token);

    const events = await auditOf('api_token.issued');
    const event = events.find((e) => e.entityId === String(issued.id));
    expect(event).toMatchObject({ entity: 'api_token', actorUserId: coordinator.userId });
    expect(event!.summary).toContain('County dashboard');
    expect(JSON.stringify(events)).not.toContain(issued.token);
    expect(JSON.stringify(events)).not.toContain(hashToken(issued.token));
  });

  it('revokes once, audited; another partnership’s token is not found', async () => {
    const issued = await issueApiToken(database.db, coordinator, sosafe, { name: 'Power BI' });
    await revokeApiToken(database.db, coordinator, sosafe, issued.id);
    expect((await getApiToken(database.db, coordinator, sosafe, issued.id)).revokedAt).toBeInstanceOf(Date);
    const event = (await auditOf('api_token.revoked')).find((e) => e.entityId === String(issued.id));
    expect(event?.summary).toContain('Power BI');
    await expect(revokeApiToken(database.db, coordinator, sosafe, issued.id)).rejects.toBeInstanceOf(
      ValidationError,
    );

    const nherts = elsewhere.member!.partnershipId;
    const theirs = await issueApiToken(database.db, elsewhere, nherts, { name: 'Theirs' });
    await expect(revokeApiToken(database.db, coordinator, sosafe, theirs.id)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(listApiTokens(database.db, coordinator, sosafe)).resolves.not.toContainEqual(
      expect.objectContaining({ id: theirs.id }),
    );
  });
});

describe('authenticating a token', () => {
  it('answers with the token’s partnership, read-only, and refuses malformed, unknown, revoked and expired tokens', async () => {
    const issued = await issueApiToken(database.db, coordinator, sosafe, { name: 'Excel' });
    const caller = await authenticateApiToken(database.db, issued.token);
    expect(caller?.partnership.slug).toBe('sosafe');
    expect(caller?.actor).toMatchObject({ userId: null, system: false });
    expect(caller?.actor.member).toMatchObject({ partnershipId: sosafe, role: 'board_member' });

    for (const bad of ['', 'pp_short', `${issued.token}x`, `pp_${'A'.repeat(43)}`, issued.token.slice(3)]) {
      expect(await authenticateApiToken(database.db, bad), bad).toBeUndefined();
    }

    const past = new Date(Date.now() - 100 * 86_400_000);
    const expiring = await issueApiToken(
      database.db,
      coordinator,
      sosafe,
      { name: 'Old', expiresInDays: '30' },
      past,
    );
    expect(await authenticateApiToken(database.db, expiring.token)).toBeUndefined();
    expect(
      await authenticateApiToken(database.db, expiring.token, new Date(past.getTime() + 86_400_000)),
    ).toBeDefined();

    await revokeApiToken(database.db, coordinator, sosafe, issued.id);
    expect(await authenticateApiToken(database.db, issued.token)).toBeUndefined();
  });

  it('notes when a token was last used, at most once a minute', async () => {
    const issued = await issueApiToken(database.db, coordinator, sosafe, { name: 'Dashboard' });
    const lastUsed = async () =>
      (await getApiToken(database.db, coordinator, sosafe, issued.id)).lastUsedAt?.getTime() ?? null;
    expect(await lastUsed()).toBeNull();
    const t0 = new Date('2026-01-05T10:00:00Z');
    await authenticateApiToken(database.db, issued.token, t0);
    expect(await lastUsed()).toBe(t0.getTime());
    await authenticateApiToken(database.db, issued.token, new Date(t0.getTime() + 59_000));
    expect(await lastUsed()).toBe(t0.getTime());
    const later = new Date(t0.getTime() + 61_000);
    await authenticateApiToken(database.db, issued.token, later);
    expect(await lastUsed()).toBe(later.getTime());
  });
});
