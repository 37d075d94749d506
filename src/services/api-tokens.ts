/**
 * Tokens for the read-only JSON API (/api/v1): the coordinator issues and revokes them, so that
 * Power BI, Excel or a county dashboard can pull the partnership's plans.
 *
 * A token is `pp_` and 32 random bytes (base64url), shown once when issued; only its SHA-256 hash
 * is stored, with its first 8 characters (`prefix`) for people to tell tokens apart. Looking a
 * token up by its hash is the constant-time comparison: the secret itself is never compared.
 * Issuing and revoking are audited; the token itself is never stored, logged or audited.
 */
import crypto from 'node:crypto';
import { and, desc, eq, isNull, lt, or } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import * as t from '../db/schema.js';
import { isMember, type Member } from '../domain/permissions.js';
import type { Actor } from './actor.js';
import { hashToken } from './accounts.js';
import { recordAudit } from './audit.js';
import { ForbiddenError, NotFoundError, ValidationError, validate } from './errors.js';
import type { PartnershipRow } from './plan-read.js';

/** How a token looks: anything else is refused before the database is asked. */
export const API_TOKEN_PATTERN = /^pp_[A-Za-z0-9_-]{43}$/;
/** last_used_at is written at most this often per token, not on every request. */
export const LAST_USED_EVERY_MS = 60_000;
/** The expiry choices the issue form offers, in days (empty: never). */
export const EXPIRY_CHOICES = ['', '30', '90', '365'] as const;

export interface ApiTokenRow {
  id: number;
  name: string;
  prefix: string;
  createdAt: Date;
  createdBy: string | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  expiresAt: Date | null;
}

/** Who the API reads as: the token's partnership. */
export interface ApiCaller {
  tokenId: number;
  tokenName: string;
  partnership: PartnershipRow;
  /** Reads with a board member's rights: the whole plan, nothing to write. */
  actor: Actor;
}

/** Issuing and revoking API tokens is the coordinator's. */
export function canManageApiTokens(member: Member | undefined, partnershipId: number): boolean {
  return isMember(member, partnershipId) && member.role === 'coordinator';
}

function requireCoordinator(actor: Actor, partnershipId: number): void {
  if (actor.system) return;
  if (!canManageApiTokens(actor.member, partnershipId)) {
    throw new ForbiddenError('Only the partnership’s coordinator can issue and revoke API tokens');
  }
}

export const issueSchema = z.object({
  name: z
    .string({ error: 'Enter a name for the token' })
    .trim()
    .min(1, 'Enter a name for the token')
    .max(100, 'Name must be 100 characters or fewer'),
  expiresInDays: z
    .preprocess((v) => (v === undefined || v === null ? '' : v), z.string())
    .refine((v) => (EXPIRY_CHOICES as readonly string[]).includes(v), 'Choose when the token stops working'),
});

const columns = {
  id: t.apiTokens.id,
  name: t.apiTokens.name,
  prefix: t.apiTokens.prefix,
  createdAt: t.apiTokens.createdAt,
  createdBy: t.users.name,
  lastUsedAt: t.apiTokens.lastUsedAt,
  revokedAt: t.apiTokens.revokedAt,
  expiresAt: t.apiTokens.expiresAt,
};

/** The partnership's tokens, newest first, revoked ones too (they are never deleted). */
export async function listApiTokens(db: Db, actor: Actor, partnershipId: number): Promise<ApiTokenRow[]> {
  requireCoordinator(actor, partnershipId);
  return db
    .select(columns)
    .from(t.apiTokens)
    .leftJoin(t.users, eq(t.users.id, t.apiTokens.createdBy))
    .where(eq(t.apiTokens.partnershipId, partnershipId))
    .orderBy(desc(t.apiTokens.createdAt), desc(t.apiTokens.id));
}

export async function getApiToken(
  db: Db,
  actor: Actor,
  partnershipId: number,
  tokenId: number,
): Promise<ApiTokenRow> {
  requireCoordinator(actor, partnershipId);
  const [row] = await db
    .select(columns)
    .from(t.apiTokens)
    .leftJoin(t.users, eq(t.users.id, t.apiTokens.createdBy))
    .where(and(eq(t.apiTokens.id, tokenId), eq(t.apiTokens.partnershipId, partnershipId)));
  if (!row) throw new NotFoundError('The API token');
  return row;
}

/**
 * Issues a token (coordinator). input: { name, expiresInDays: '' | '30' | '90' | '365' }.
 * Returns the token: the only time it is ever seen.
 */
export async function issueApiToken(
  db: Db,
  actor: Actor,
  partnershipId: number,
  input: Record<string, unknown>,
  now = new Date(),
): Promise<{ id: number; name: string; prefix: string; token: string; expiresAt: Date | null }> {
  requireCoordinator(actor, partnershipId);
  const { name, expiresInDays } = validate(issueSchema, input);
  const token = `pp_${crypto.randomBytes(32).toString('base64url')}`;
  const prefix = token.slice(0, 8);
  const expiresAt = expiresInDays ? new Date(now.getTime() + Number(expiresInDays) * 86_400_000) : null;
  const id = await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(t.apiTokens)
      .values({
        partnershipId,
        name,
        tokenHash: hashToken(token),
        prefix,
        createdBy: actor.userId,
        createdAt: now,
        expiresAt,
      })
      .returning({ id: t.apiTokens.id });
    await recordAudit(tx, actor, {
      partnershipId,
      kind: 'api_token.issued',
      entity: 'api_token',
      entityId: row!.id,
      summary: `Issued the API token “${name}” (${prefix}…)`,
      after: { name, prefix, expiresAt: expiresAt?.toISOString() ?? null },
    });
    return row!.id;
  });
  return { id, name, prefix, token, expiresAt };
}

/** Revokes a token (coordinator): it stops working at once. */
export async function revokeApiToken(
  db: Db,
  actor: Actor,
  partnershipId: number,
  tokenId: number,
): Promise<{ name: string; prefix: string }> {
  requireCoordinator(actor, partnershipId);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(t.apiTokens)
      .where(and(eq(t.apiTokens.id, tokenId), eq(t.apiTokens.partnershipId, partnershipId)))
      .for('update');
    if (!row) throw new NotFoundError('The API token');
    if (row.revokedAt) {
      throw new ValidationError([
        { field: 'confirm', message: `The API token “${row.name}” has already been revoked` },
      ]);
    }
    await tx.update(t.apiTokens).set({ revokedAt: new Date() }).where(eq(t.apiTokens.id, row.id));
    await recordAudit(tx, actor, {
      partnershipId,
      kind: 'api_token.revoked',
      entity: 'api_token',
      entityId: row.id,
      summary: `Revoked the API token “${row.name}” (${row.prefix}…)`,
      before: { name: row.name, prefix: row.prefix, lastUsedAt: row.lastUsedAt?.toISOString() ?? null },
    });
    return { name: row.name, prefix: row.prefix };
  });
}

/**
 * The caller a bearer token stands for, or undefined for a token that is malformed, unknown,
 * revoked or expired (all one answer). Notes the use, at most once a minute per token.
 */
export async function authenticateApiToken(
  db: Db,
  token: string,
  now = new Date(),
): Promise<ApiCaller | undefined> {
  if (!API_TOKEN_PATTERN.test(token)) return undefined;
  const [row] = await db
    .select({
      id: t.apiTokens.id,
      name: t.apiTokens.name,
      lastUsedAt: t.apiTokens.lastUsedAt,
      revokedAt: t.apiTokens.revokedAt,
      expiresAt: t.apiTokens.expiresAt,
      partnership: {
        id: t.partnerships.id,
        slug: t.partnerships.slug,
        name: t.partnerships.name,
        area: t.partnerships.area,
        principlesIntro: t.partnerships.principlesIntro,
      },
    })
    .from(t.apiTokens)
    .innerJoin(t.partnerships, eq(t.partnerships.id, t.apiTokens.partnershipId))
    .where(eq(t.apiTokens.tokenHash, hashToken(token)));
  if (!row || row.revokedAt || (row.expiresAt && row.expiresAt.getTime() <= now.getTime())) return undefined;
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= LAST_USED_EVERY_MS) {
    // Conditional, so several instances answering at once write it once.
    const cutoff = new Date(now.getTime() - LAST_USED_EVERY_MS);
    await db
      .update(t.apiTokens)
      .set({ lastUsedAt: now })
      .where(
        and(
          eq(t.apiTokens.id, row.id),
          or(isNull(t.apiTokens.lastUsedAt), lt(t.apiTokens.lastUsedAt, cutoff)),
        ),
      );
  }
  const label = `API token “${row.name}”`;
  const member: Member = {
    // No account stands behind a token: 0 matches no user.
    userId: 0,
    name: label,
    partnershipId: row.partnership.id,
    role: 'board_member',
    organisationId: null,
    personId: null,
    reviewsUpdates: false,
  };
  return {
    tokenId: row.id,
    tokenName: row.name,
    partnership: row.partnership,
    actor: { userId: null, label, member, system: false },
  };
}
