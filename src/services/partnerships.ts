/** Creating a partnership: the operator's first step on a new production server. */
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import * as t from '../db/schema.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { ForbiddenError, ValidationError, validate } from './errors.js';

export const newPartnershipSchema = z.object({
  slug: z
    .string()
    .trim()
    .regex(
      /^[a-z0-9][a-z0-9-]{1,40}$/,
      'must be 2 to 41 lower-case letters, digits and hyphens, like "sosafe"',
    ),
  name: z.string().trim().min(1, 'enter the partnership’s name').max(200),
  area: z.string().trim().max(200).optional(),
});

export async function createPartnership(db: Db, actor: Actor, input: z.input<typeof newPartnershipSchema>) {
  if (!actor.system) throw new ForbiddenError('Only the operator can create a partnership');
  const form = validate(newPartnershipSchema, input, 'partnership');
  return db.transaction(async (tx) => {
    const [clash] = await tx
      .select({ id: t.partnerships.id })
      .from(t.partnerships)
      .where(eq(t.partnerships.slug, form.slug));
    if (clash)
      throw new ValidationError([{ field: 'slug', message: `a partnership "${form.slug}" already exists` }]);
    const [row] = await tx
      .insert(t.partnerships)
      .values({ slug: form.slug, name: form.name, area: form.area ?? null })
      .returning();
    await recordAudit(tx, actor, {
      partnershipId: row!.id,
      kind: 'partnership.created',
      entity: 'partnership',
      entityId: row!.id,
      summary: `Created the partnership ${form.name}`,
      after: form,
    });
    return row!;
  });
}
