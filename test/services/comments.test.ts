import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import * as t from '../../src/db/schema.js';
import type { Member } from '../../src/domain/permissions.js';
import { memberActor, systemActor, type Actor } from '../../src/services/actor.js';
import {
  addComment,
  archiveComment,
  countComments,
  getComment,
  listComments,
} from '../../src/services/comments.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../src/services/errors.js';
import { archiveAim } from '../../src/services/plan-edit.js';
import { findAim, getPartnershipBySlug, loadPlanTree } from '../../src/services/plan-read.js';
import { addUser, getMember } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let coordinator: Actor;
let lead: Actor;
let partner: Actor;
let secondPartner: Actor;
let board: Actor;
let aimId: number;

async function actorFor(email: string): Promise<Actor> {
  const [user] = await queryRows<{ id: number; partnership_id: number }>(
    database.db,
    sql`select u.id, m.partnership_id from users u join memberships m on m.user_id = u.id where u.email = ${email}`,
  );
  return memberActor((await getMember(database.db, user!.id, user!.partnership_id)) as Member);
}

async function aimIdOf(number: string): Promise<number> {
  const tree = await loadPlanTree(database.db, await getPartnershipBySlug(database.db, 'sosafe'), '2024/25');
  return findAim(tree, number).aim.id;
}

async function auditOf(kind: string) {
  return database.db.select().from(t.auditEvents).where(eq(t.auditEvents.kind, kind));
}

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
  await addUser(
    database.db,
    {
      email: 'second.partner@sosafe.example',
      name: 'Sam Second',
      password: 'a password long enough',
      partnership: 'sosafe',
      role: 'partner',
      organisation: 'SBC',
    },
    systemActor(),
  );
  coordinator = await actorFor('coordinator@sosafe.example');
  lead = await actorFor('helen.whitehead@sosafe.example');
  partner = await actorFor('partner@sosafe.example');
  secondPartner = await actorFor('second.partner@sosafe.example');
  board = await actorFor('board@sosafe.example');
  aimId = await aimIdOf('3.1');
});
afterAll(async () => {
  await database?.drop();
});

describe('comments on an aim', () => {
  it('a partner adds one; the lead officer and the coordinator see it, with its author', async () => {
    const { id } = await addComment(database.db, partner, aimId, {
      text: '  The Lister training dates clash with the JAG.  ',
    });
    for (const reader of [lead, coordinator, partner]) {
      const comments = await listComments(database.db, reader, aimId);
      expect(comments.map((c) => [c.id, c.author, c.organisation, c.text])).toEqual([
        [id, 'Pat Partner', 'Police', 'The Lister training dates clash with the JAG.'],
      ]);
      expect(await countComments(database.db, reader, aimId)).toBe(1);
    }
    const [event] = await auditOf('comment.added');
    expect(event).toMatchObject({
      actorLabel: 'Pat Partner',
      entity: 'comment',
      entityId: String(id),
      summary: 'Commented on aim 3.1',
      after: { aimId, text: 'The Lister training dates clash with the JAG.' },
    });
  });

  it('lead officers and the coordinator comment too', async () => {
    await addComment(database.db, lead, aimId, { text: 'Moved to the Tuesday session.' });
    await addComment(database.db, coordinator, aimId, { text: 'Thanks both.' });
    expect((await listComments(database.db, partner, aimId)).map((c) => c.author)).toEqual([
      'Pat Partner',
      'Helen Whitehead',
      'Casey Coordinator',
    ]);
  });

  it('the board neither sees nor adds them, and is not told how many there are', async () => {
    await expect(listComments(database.db, board, aimId)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(addComment(database.db, board, aimId, { text: 'Board view' })).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    expect(await countComments(database.db, board, aimId)).toBeUndefined();
  });

  it('nobody outside the partnership sees or adds them', async () => {
    const outsider = memberActor({ ...partner.member!, partnershipId: partner.member!.partnershipId + 1000 });
    const signedOut: Actor = { userId: null, label: 'signed out', member: undefined, system: false };
    for (const actor of [outsider, signedOut]) {
      await expect(listComments(database.db, actor, aimId)).rejects.toBeInstanceOf(ForbiddenError);
      await expect(addComment(database.db, actor, aimId, { text: 'Hello' })).rejects.toBeInstanceOf(
        ForbiddenError,
      );
      expect(await countComments(database.db, actor, aimId)).toBeUndefined();
    }
  });

  it('needs text, of at most 5,000 characters', async () => {
    await expect(addComment(database.db, partner, aimId, { text: '   ' })).rejects.toMatchObject({
      problems: [{ field: 'text', message: 'Enter your comment' }],
    });
    await expect(addComment(database.db, partner, aimId, {})).rejects.toBeInstanceOf(ValidationError);
    await expect(addComment(database.db, partner, aimId, { text: 'x'.repeat(5001) })).rejects.toMatchObject({
      problems: [{ field: 'text', message: 'Comment must be 5,000 characters or fewer' }],
    });
    const { id } = await addComment(database.db, partner, aimId, { text: 'y'.repeat(5000) });
    expect((await getComment(database.db, partner, id)).text).toHaveLength(5000);
  });

  it('the author archives their own comment: it leaves the list, is kept, and is recorded', async () => {
    const { id } = await addComment(database.db, secondPartner, aimId, { text: 'I posted this by mistake' });
    const before = await countComments(database.db, partner, aimId);
    const comment = await getComment(database.db, secondPartner, id);
    expect(comment.canArchive).toBe(true);
    expect((await getComment(database.db, partner, id)).canArchive).toBe(false);

    await archiveComment(database.db, secondPartner, id, comment.version);
    expect(await countComments(database.db, partner, aimId)).toBe(before! - 1);
    expect((await listComments(database.db, partner, aimId)).map((c) => c.id)).not.toContain(id);
    await expect(getComment(database.db, partner, id)).rejects.toBeInstanceOf(NotFoundError);
    const [row] = await database.db.select().from(t.comments).where(eq(t.comments.id, id));
    expect(row).toMatchObject({ text: 'I posted this by mistake', version: 2 });
    expect(row!.archivedAt).toBeInstanceOf(Date);
    const events = await auditOf('comment.archived');
    expect(events.at(-1)).toMatchObject({
      actorLabel: 'Sam Second',
      entityId: String(id),
      before: { aimId, text: 'I posted this by mistake' },
    });
  });

  it('others cannot archive someone’s comment; the coordinator can archive any', async () => {
    const { id } = await addComment(database.db, partner, aimId, { text: 'Coordinator will tidy this' });
    for (const actor of [secondPartner, lead, board]) {
      await expect(archiveComment(database.db, actor, id, 1)).rejects.toBeInstanceOf(ForbiddenError);
    }
    await expect(archiveComment(database.db, coordinator, id, 7)).rejects.toBeInstanceOf(ConflictError);
    await archiveComment(database.db, coordinator, id, 1);
    // Archiving again finds nothing to archive.
    await expect(archiveComment(database.db, coordinator, id, 2)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('are not added to an archived aim', async () => {
    const tree = await loadPlanTree(
      database.db,
      await getPartnershipBySlug(database.db, 'sosafe'),
      '2024/25',
    );
    const { aim } = findAim(tree, '1.3');
    await archiveAim(database.db, coordinator, aim.id, aim.version);
    await expect(addComment(database.db, partner, aim.id, { text: 'Too late' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});
