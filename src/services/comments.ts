/**
 * Comments on an aim: the working discussion of the partnership's coordinator, lead officers and
 * partners. Internal only: not for the board, not for anyone outside the partnership, never on a
 * public page. A comment is archived (by its author or the coordinator), never deleted.
 */
import { and, asc, count, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, Tx } from '../db/client.js';
import * as t from '../db/schema.js';
import { canArchiveComment, canComment, canReadComments } from '../domain/permissions.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { ConflictError, ForbiddenError, NotFoundError, validate } from './errors.js';
import { cachedRead, type ReadStamp } from './read-cache.js';

export const COMMENT_MAX_LENGTH = 5000;

export const commentFormSchema = z.object({
  text: z
    .string({ error: 'Enter your comment' })
    .trim()
    .min(1, 'Enter your comment')
    .max(COMMENT_MAX_LENGTH, 'Comment must be 5,000 characters or fewer'),
});

const NOT_FOR_YOU =
  'Comments are for the partnership’s coordinator, lead officers and partners. Sign in with an account that holds one of those roles.';

function mayRead(actor: Actor, partnershipId: number): boolean {
  return actor.system || canReadComments(actor.member, partnershipId);
}

async function aimOf(db: Db | Tx, aimId: number) {
  const [aim] = await db
    .select({
      id: t.aims.id,
      partnershipId: t.aims.partnershipId,
      number: t.aims.number,
      archivedAt: t.aims.archivedAt,
    })
    .from(t.aims)
    .where(eq(t.aims.id, aimId));
  if (!aim) throw new NotFoundError('The aim');
  return aim;
}

export interface CommentView {
  id: number;
  aimId: number;
  authorUserId: number;
  author: string;
  /** The author's organisation in this partnership, through their membership. */
  organisation: string | null;
  text: string;
  createdAt: Date;
  version: number;
  /** Whether the person reading may archive it. */
  canArchive: boolean;
}

async function selectComments(db: Db, where: ReturnType<typeof and>) {
  return db
    .select({
      id: t.comments.id,
      aimId: t.comments.aimId,
      partnershipId: t.comments.partnershipId,
      authorUserId: t.comments.authorUserId,
      author: t.users.name,
      organisation: t.organisations.name,
      text: t.comments.text,
      createdAt: t.comments.createdAt,
      version: t.comments.version,
      archivedAt: t.comments.archivedAt,
    })
    .from(t.comments)
    .innerJoin(t.users, eq(t.users.id, t.comments.authorUserId))
    .leftJoin(
      t.memberships,
      and(
        eq(t.memberships.userId, t.comments.authorUserId),
        eq(t.memberships.partnershipId, t.comments.partnershipId),
      ),
    )
    .leftJoin(t.organisations, eq(t.organisations.id, t.memberships.organisationId))
    .where(where)
    .orderBy(asc(t.comments.createdAt), asc(t.comments.id));
}

function toView(actor: Actor, row: Awaited<ReturnType<typeof selectComments>>[number]): CommentView {
  return {
    id: row.id,
    aimId: row.aimId,
    authorUserId: row.authorUserId,
    author: row.author,
    organisation: row.organisation,
    text: row.text,
    createdAt: row.createdAt,
    version: row.version,
    canArchive: canArchiveComment(actor.member, row),
  };
}

/** An aim's comments that are not archived, oldest first, as a conversation reads. */
export async function listComments(db: Db, actor: Actor, aimId: number): Promise<CommentView[]> {
  const aim = await aimOf(db, aimId);
  if (!mayRead(actor, aim.partnershipId)) throw new ForbiddenError(NOT_FOR_YOU);
  const rows = await selectComments(db, and(eq(t.comments.aimId, aimId), isNull(t.comments.archivedAt)));
  return rows.map((row) => toView(actor, row));
}

/** How many comments an aim has, for its "Comments (n)" link; undefined for those who may not read them. */
export async function countComments(
  db: Db,
  actor: Actor,
  aimId: number,
  stamp?: ReadStamp,
): Promise<number | undefined> {
  const aim = await cachedRead(db, stamp, `comment-aim:${aimId}`, () => aimOf(db, aimId));
  if (!mayRead(actor, aim.partnershipId)) return undefined;
  return cachedRead(db, stamp, `comment-count:${aimId}`, async () => {
    const [row] = await db
      .select({ n: count() })
      .from(t.comments)
      .where(and(eq(t.comments.aimId, aimId), isNull(t.comments.archivedAt)));
    return row?.n ?? 0;
  });
}

/** One comment that is not archived, for the page that confirms archiving it. */
export async function getComment(db: Db, actor: Actor, commentId: number): Promise<CommentView> {
  const [row] = await selectComments(db, and(eq(t.comments.id, commentId), isNull(t.comments.archivedAt)));
  if (!row) throw new NotFoundError('The comment');
  if (!mayRead(actor, row.partnershipId)) throw new ForbiddenError(NOT_FOR_YOU);
  return toView(actor, row);
}

export async function addComment(
  db: Db,
  actor: Actor,
  aimId: number,
  input: unknown,
): Promise<{ id: number }> {
  const aim = await aimOf(db, aimId);
  // A comment needs a person to be its author: the command line cannot comment.
  if (actor.userId === null || !canComment(actor.member, aim.partnershipId)) {
    throw new ForbiddenError(NOT_FOR_YOU);
  }
  const { text } = validate(commentFormSchema, input, 'text');
  const authorUserId = actor.userId;
  return db.transaction(async (tx) => {
    const live = await aimOf(tx, aimId);
    if (live.archivedAt) throw new NotFoundError('The aim');
    const [row] = await tx
      .insert(t.comments)
      .values({ partnershipId: aim.partnershipId, aimId, authorUserId, text })
      .returning({ id: t.comments.id });
    await recordAudit(tx, actor, {
      partnershipId: aim.partnershipId,
      kind: 'comment.added',
      entity: 'comment',
      entityId: row!.id,
      summary: `Commented on aim ${aim.number}`,
      after: { aimId, text },
    });
    return { id: row!.id };
  });
}

/** Archives a comment: its author may, and the coordinator may archive any. */
export async function archiveComment(
  db: Db,
  actor: Actor,
  commentId: number,
  expectedVersion: number,
): Promise<void> {
  await db.transaction(async (tx) => {
    const [row] = await tx.select().from(t.comments).where(eq(t.comments.id, commentId)).for('update');
    if (!row || row.archivedAt) throw new NotFoundError('The comment');
    if (!actor.system && !canArchiveComment(actor.member, row)) {
      throw new ForbiddenError(
        mayRead(actor, row.partnershipId)
          ? 'Only the comment’s author and the coordinator can archive it.'
          : NOT_FOR_YOU,
      );
    }
    if (row.version !== expectedVersion) throw new ConflictError(row);
    const aim = await aimOf(tx, row.aimId);
    await tx
      .update(t.comments)
      .set({ archivedAt: new Date(), version: row.version + 1 })
      .where(and(eq(t.comments.id, commentId), eq(t.comments.version, row.version)));
    await recordAudit(tx, actor, {
      partnershipId: row.partnershipId,
      kind: 'comment.archived',
      entity: 'comment',
      entityId: row.id,
      summary: `Archived a comment on aim ${aim.number}`,
      before: { aimId: row.aimId, authorUserId: row.authorUserId, text: row.text },
    });
  });
}
