/**
 * The coordinator's changes to the plan's structure: sections, aims and actions are created,
 * edited, reordered and archived (never deleted). Each write checks permission, validates, writes
 * with a version check and appends its audit event, in one transaction.
 */
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { Db, Tx } from '../db/client.js';
import * as t from '../db/schema.js';
import { londonDate } from '../domain/cycles.js';
import { isAimNumber, nextAimNumber, sectionOfAimNumber } from '../domain/numbering.js';
import { parseLines, parseParties, type PartyText } from '../domain/parties.js';
import { canEditActionDetails, canEditPlanStructure } from '../domain/permissions.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, validate } from './errors.js';
import { actionLeadership } from './progress.js';

function requireCoordinator(actor: Actor, partnershipId: number): void {
  if (actor.system) return;
  if (!canEditPlanStructure(actor.member, partnershipId)) {
    throw new ForbiddenError(
      'Only the partnership’s coordinator can change the plan’s sections, aims and actions',
    );
  }
}

const version = z.coerce.number().int().positive();

export const sectionFormSchema = z.object({
  number: z.coerce
    .number({ error: 'Enter the section number' })
    .int('Section number must be a whole number')
    .min(1)
    .max(99),
  title: z
    .string()
    .trim()
    .min(1, 'Enter the section’s title')
    .max(500, 'Title must be 500 characters or fewer'),
});

export const aimFormSchema = z.object({
  number: z.string().trim().refine(isAimNumber, 'Enter the aim number like 3.1'),
  title: z.string().trim().min(1, 'Enter the aim').max(1000, 'Aim must be 1000 characters or fewer'),
});

export const actionFormSchema = z.object({
  description: z
    .string()
    .trim()
    .min(1, 'Enter what will be done')
    .max(10000, 'Action must be 10,000 characters or fewer'),
  leads: z.string().max(5000).default(''),
  partners: z.string().max(5000).default(''),
  resources: z.string().max(10000).default(''),
  expectedOutcomes: z.string().max(10000).default(''),
});

type Scoped = { id: number; partnershipId: number; version: number };

async function lockRow<T extends Scoped>(
  tx: Tx,
  table: PgTable & { id: AnyPgColumn },
  id: number,
  what: string,
): Promise<T> {
  const rows = (await tx.select().from(table).where(eq(table.id, id)).for('update')) as unknown as T[];
  const row = rows[0];
  if (!row) throw new NotFoundError(what);
  return row;
}

function assertVersion<T extends Scoped>(row: T, expected: number): void {
  if (row.version !== expected) throw new ConflictError(row);
}

async function planOf(tx: Tx, planId: number) {
  const [plan] = await tx.select().from(t.plans).where(eq(t.plans.id, planId));
  if (!plan) throw new NotFoundError('The plan');
  return plan;
}

// ——— Sections ———

export async function createSection(db: Db, actor: Actor, planId: number, input: unknown) {
  const form = validate(sectionFormSchema, input);
  return db.transaction(async (tx) => {
    const plan = await planOf(tx, planId);
    requireCoordinator(actor, plan.partnershipId);
    await assertSectionNumberFree(tx, planId, form.number);
    const [{ next } = { next: 1 }] = await tx
      .select({ next: sql<number>`coalesce(max(${t.sections.position}), 0)::int + 1` })
      .from(t.sections)
      .where(eq(t.sections.planId, planId));
    const [row] = await tx
      .insert(t.sections)
      .values({
        partnershipId: plan.partnershipId,
        planId,
        number: form.number,
        title: form.title,
        position: next,
      })
      .returning();
    await recordAudit(tx, actor, {
      partnershipId: plan.partnershipId,
      kind: 'section.created',
      entity: 'section',
      entityId: row!.id,
      summary: `Added section ${form.number}. ${form.title}`,
      after: form,
    });
    return row!;
  });
}

async function assertSectionNumberFree(tx: Tx, planId: number, number: number, exceptId?: number) {
  const clash = await tx
    .select({ id: t.sections.id })
    .from(t.sections)
    .where(and(eq(t.sections.planId, planId), eq(t.sections.number, number), isNull(t.sections.archivedAt)));
  if (clash.some((c) => c.id !== exceptId)) {
    throw new ValidationError([
      { field: 'number', message: `Section ${number} already exists in this plan` },
    ]);
  }
}

export async function updateSection(db: Db, actor: Actor, sectionId: number, input: unknown) {
  const form = validate(sectionFormSchema.extend({ version }), input);
  return db.transaction(async (tx) => {
    const row = await lockRow<typeof t.sections.$inferSelect>(tx, t.sections, sectionId, 'The section');
    requireCoordinator(actor, row.partnershipId);
    assertVersion(row, form.version);
    if (form.number !== row.number) await assertSectionNumberFree(tx, row.planId, form.number, row.id);
    const [updated] = await tx
      .update(t.sections)
      .set({ number: form.number, title: form.title, version: row.version + 1, updatedAt: new Date() })
      .where(and(eq(t.sections.id, sectionId), eq(t.sections.version, form.version)))
      .returning();
    await recordAudit(tx, actor, {
      partnershipId: row.partnershipId,
      kind: 'section.updated',
      entity: 'section',
      entityId: row.id,
      summary: `Changed section ${form.number}`,
      before: { number: row.number, title: row.title },
      after: { number: form.number, title: form.title },
    });
    return updated!;
  });
}

export async function archiveSection(db: Db, actor: Actor, sectionId: number, expectedVersion: number) {
  return db.transaction(async (tx) => {
    const row = await lockRow<typeof t.sections.$inferSelect>(tx, t.sections, sectionId, 'The section');
    requireCoordinator(actor, row.partnershipId);
    assertVersion(row, expectedVersion);
    await tx
      .update(t.sections)
      .set({ archivedAt: new Date(), version: row.version + 1, updatedAt: new Date() })
      .where(eq(t.sections.id, sectionId));
    await recordAudit(tx, actor, {
      partnershipId: row.partnershipId,
      kind: 'section.archived',
      entity: 'section',
      entityId: row.id,
      summary: `Archived section ${row.number}. ${row.title}`,
      before: { number: row.number, title: row.title },
    });
  });
}

// ——— Aims ———

async function liveAimNumbers(tx: Tx, planId: number): Promise<{ id: number; number: string }[]> {
  return tx
    .select({ id: t.aims.id, number: t.aims.number })
    .from(t.aims)
    .where(and(eq(t.aims.planId, planId), isNull(t.aims.archivedAt)));
}

/** The number a new aim in this section would get: the next after the section's highest. */
export async function suggestAimNumber(db: Db, sectionId: number): Promise<string> {
  const [section] = await db.select().from(t.sections).where(eq(t.sections.id, sectionId));
  if (!section) throw new NotFoundError('The section');
  const existing = await db
    .select({ number: t.aims.number })
    .from(t.aims)
    .where(and(eq(t.aims.planId, section.planId), isNull(t.aims.archivedAt)));
  return nextAimNumber(
    section.number,
    existing.map((a) => a.number),
  );
}

export async function createAim(db: Db, actor: Actor, sectionId: number, input: unknown, now = new Date()) {
  const form = validate(aimFormSchema, input);
  return db.transaction(async (tx) => {
    const section = await lockRow<typeof t.sections.$inferSelect>(tx, t.sections, sectionId, 'The section');
    requireCoordinator(actor, section.partnershipId);
    if (sectionOfAimNumber(form.number) !== section.number) {
      throw new ValidationError([
        {
          field: 'number',
          message: `An aim in section ${section.number} must be numbered ${section.number}.something`,
        },
      ]);
    }
    if ((await liveAimNumbers(tx, section.planId)).some((a) => a.number === form.number)) {
      throw new ValidationError([
        { field: 'number', message: `Aim ${form.number} already exists in this plan` },
      ]);
    }
    const plan = await planOf(tx, section.planId);
    const today = londonDate(now);
    const addedOn = today > plan.startsOn ? today : null;
    const [{ next } = { next: 1 }] = await tx
      .select({ next: sql<number>`coalesce(max(${t.aims.position}), 0)::int + 1` })
      .from(t.aims)
      .where(eq(t.aims.sectionId, sectionId));
    const [row] = await tx
      .insert(t.aims)
      .values({
        partnershipId: section.partnershipId,
        planId: section.planId,
        sectionId,
        number: form.number,
        title: form.title,
        position: next,
        addedOn,
      })
      .returning();
    await recordAudit(tx, actor, {
      partnershipId: section.partnershipId,
      kind: 'aim.created',
      entity: 'aim',
      entityId: row!.id,
      summary: `Added aim ${form.number} ${form.title}`,
      after: { ...form, addedOn },
    });
    return row!;
  });
}

export async function updateAim(db: Db, actor: Actor, aimId: number, input: unknown) {
  const form = validate(aimFormSchema.extend({ version }), input);
  return db.transaction(async (tx) => {
    const row = await lockRow<typeof t.aims.$inferSelect>(tx, t.aims, aimId, 'The aim');
    requireCoordinator(actor, row.partnershipId);
    assertVersion(row, form.version);
    if (form.number !== row.number) {
      const [section] = await tx.select().from(t.sections).where(eq(t.sections.id, row.sectionId));
      if (sectionOfAimNumber(form.number) !== section?.number) {
        throw new ValidationError([
          {
            field: 'number',
            message: `An aim in section ${section?.number} must be numbered ${section?.number}.something`,
          },
        ]);
      }
      if ((await liveAimNumbers(tx, row.planId)).some((a) => a.number === form.number && a.id !== aimId)) {
        throw new ValidationError([
          { field: 'number', message: `Aim ${form.number} already exists in this plan` },
        ]);
      }
    }
    const [updated] = await tx
      .update(t.aims)
      .set({ number: form.number, title: form.title, version: row.version + 1, updatedAt: new Date() })
      .where(and(eq(t.aims.id, aimId), eq(t.aims.version, form.version)))
      .returning();
    await recordAudit(tx, actor, {
      partnershipId: row.partnershipId,
      kind: 'aim.updated',
      entity: 'aim',
      entityId: aimId,
      summary: `Changed aim ${form.number}`,
      before: { number: row.number, title: row.title },
      after: { number: form.number, title: form.title },
    });
    return updated!;
  });
}

export async function archiveAim(db: Db, actor: Actor, aimId: number, expectedVersion: number) {
  return db.transaction(async (tx) => {
    const row = await lockRow<typeof t.aims.$inferSelect>(tx, t.aims, aimId, 'The aim');
    requireCoordinator(actor, row.partnershipId);
    assertVersion(row, expectedVersion);
    await tx
      .update(t.aims)
      .set({ archivedAt: new Date(), version: row.version + 1, updatedAt: new Date() })
      .where(eq(t.aims.id, aimId));
    await recordAudit(tx, actor, {
      partnershipId: row.partnershipId,
      kind: 'aim.archived',
      entity: 'aim',
      entityId: aimId,
      summary: `Archived aim ${row.number} ${row.title}`,
      before: { number: row.number, title: row.title },
    });
  });
}

// ——— Actions ———

async function writeActionParties(
  tx: Tx,
  partnershipId: number,
  actionId: number,
  role: 'lead' | 'partner',
  parties: PartyText[],
) {
  for (const [i, party] of parties.entries()) {
    let [org] = await tx
      .select({ id: t.organisations.id })
      .from(t.organisations)
      .where(
        and(eq(t.organisations.partnershipId, partnershipId), eq(t.organisations.name, party.organisation)),
      );
    if (!org) {
      [org] = await tx
        .insert(t.organisations)
        .values({ partnershipId, name: party.organisation })
        .returning({ id: t.organisations.id });
    }
    const [row] = await tx
      .insert(t.actionParties)
      .values({
        partnershipId,
        actionId,
        organisationId: org!.id,
        role,
        position: i + 1,
        officers: party.officers,
      })
      .returning({ id: t.actionParties.id });
    if (party.officers.length) {
      const people = await tx
        .select({ id: t.people.id, name: t.people.name })
        .from(t.people)
        .where(eq(t.people.partnershipId, partnershipId));
      const ids = people.filter((p) => party.officers.includes(p.name)).map((p) => p.id);
      if (ids.length) {
        await tx
          .insert(t.actionPartyPeople)
          .values(ids.map((personId) => ({ partnershipId, actionPartyId: row!.id, personId })));
      }
    }
  }
}

async function replaceActionParties(
  tx: Tx,
  partnershipId: number,
  actionId: number,
  leads: PartyText[],
  partners: PartyText[],
) {
  const old = await tx
    .select({ id: t.actionParties.id })
    .from(t.actionParties)
    .where(eq(t.actionParties.actionId, actionId));
  for (const party of old) {
    await tx.delete(t.actionPartyPeople).where(eq(t.actionPartyPeople.actionPartyId, party.id));
  }
  await tx.delete(t.actionParties).where(eq(t.actionParties.actionId, actionId));
  await writeActionParties(tx, partnershipId, actionId, 'lead', leads);
  await writeActionParties(tx, partnershipId, actionId, 'partner', partners);
}

function actionValues(form: z.infer<typeof actionFormSchema>) {
  return {
    description: form.description
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean)
      .join('\n'),
    resources: parseLines(form.resources),
    expectedOutcomes: parseLines(form.expectedOutcomes),
    leads: parseParties(form.leads),
    partners: parseParties(form.partners),
  };
}

export async function createAction(db: Db, actor: Actor, aimId: number, input: unknown) {
  const values = actionValues(validate(actionFormSchema, input));
  return db.transaction(async (tx) => {
    const aim = await lockRow<typeof t.aims.$inferSelect>(tx, t.aims, aimId, 'The aim');
    requireCoordinator(actor, aim.partnershipId);
    const [{ next } = { next: 1 }] = await tx
      .select({ next: sql<number>`coalesce(max(${t.actions.position}), 0)::int + 1` })
      .from(t.actions)
      .where(eq(t.actions.aimId, aimId));
    const [row] = await tx
      .insert(t.actions)
      .values({
        partnershipId: aim.partnershipId,
        aimId,
        position: next,
        description: values.description,
        resources: values.resources,
        expectedOutcomes: values.expectedOutcomes,
      })
      .returning();
    await writeActionParties(tx, aim.partnershipId, row!.id, 'lead', values.leads);
    await writeActionParties(tx, aim.partnershipId, row!.id, 'partner', values.partners);
    await recordAudit(tx, actor, {
      partnershipId: aim.partnershipId,
      kind: 'action.created',
      entity: 'action',
      entityId: row!.id,
      summary: `Added an action to aim ${aim.number}`,
      after: { aimId, ...values },
    });
    return row!;
  });
}

async function currentParties(tx: Tx, actionId: number) {
  const rows = await tx
    .select({
      role: t.actionParties.role,
      organisation: t.organisations.name,
      officers: t.actionParties.officers,
    })
    .from(t.actionParties)
    .innerJoin(t.organisations, eq(t.organisations.id, t.actionParties.organisationId))
    .where(eq(t.actionParties.actionId, actionId))
    .orderBy(asc(t.actionParties.position));
  const pick = (role: string) =>
    rows.filter((r) => r.role === role).map((r) => ({ organisation: r.organisation, officers: r.officers }));
  return { leads: pick('lead'), partners: pick('partner') };
}

export async function updateAction(db: Db, actor: Actor, actionId: number, input: unknown) {
  const form = validate(actionFormSchema.extend({ version }), input);
  const values = actionValues(form);
  return db.transaction(async (tx) => {
    const row = await lockRow<typeof t.actions.$inferSelect>(tx, t.actions, actionId, 'The action');
    const coordinator = actor.system || canEditPlanStructure(actor.member, row.partnershipId);
    if (!coordinator && !canEditActionDetails(actor.member, await actionLeadership(tx, actionId))) {
      throw new ForbiddenError('Only the coordinator and the action’s lead officers can change it');
    }
    assertVersion(row, form.version);
    const parties = await currentParties(tx, actionId);
    const before = {
      description: row.description,
      resources: row.resources,
      expectedOutcomes: row.expectedOutcomes,
      ...parties,
    };
    // A lead officer may change the action's details, not who leads it.
    if (!coordinator) values.leads = parties.leads;
    const [updated] = await tx
      .update(t.actions)
      .set({
        description: values.description,
        resources: values.resources,
        expectedOutcomes: values.expectedOutcomes,
        version: row.version + 1,
        updatedAt: new Date(),
      })
      .where(and(eq(t.actions.id, actionId), eq(t.actions.version, form.version)))
      .returning();
    await replaceActionParties(tx, row.partnershipId, actionId, values.leads, values.partners);
    await recordAudit(tx, actor, {
      partnershipId: row.partnershipId,
      kind: 'action.updated',
      entity: 'action',
      entityId: actionId,
      summary: 'Changed an action',
      before,
      after: { aimId: row.aimId, ...values },
    });
    return updated!;
  });
}

export async function archiveAction(db: Db, actor: Actor, actionId: number, expectedVersion: number) {
  return db.transaction(async (tx) => {
    const row = await lockRow<typeof t.actions.$inferSelect>(tx, t.actions, actionId, 'The action');
    requireCoordinator(actor, row.partnershipId);
    assertVersion(row, expectedVersion);
    await tx
      .update(t.actions)
      .set({ archivedAt: new Date(), version: row.version + 1, updatedAt: new Date() })
      .where(eq(t.actions.id, actionId));
    await recordAudit(tx, actor, {
      partnershipId: row.partnershipId,
      kind: 'action.archived',
      entity: 'action',
      entityId: actionId,
      summary: 'Archived an action',
      before: { aimId: row.aimId, description: row.description },
    });
  });
}

// ——— Reordering ———

type Movable = 'section' | 'aim' | 'action';

/** Moves a section, aim or action one place up or down among its live siblings. */
export async function move(db: Db, actor: Actor, kind: Movable, id: number, direction: 'up' | 'down') {
  return db.transaction(async (tx) => {
    const table = kind === 'section' ? t.sections : kind === 'aim' ? t.aims : t.actions;
    const row = await lockRow<
      Scoped & { position: number; planId?: number; sectionId?: number; aimId?: number }
    >(tx, table, id, `The ${kind}`);
    requireCoordinator(actor, row.partnershipId);
    const siblings =
      kind === 'section'
        ? await tx
            .select({ id: t.sections.id })
            .from(t.sections)
            .where(and(eq(t.sections.planId, row.planId!), isNull(t.sections.archivedAt)))
            .orderBy(asc(t.sections.position), asc(t.sections.id))
        : kind === 'aim'
          ? await tx
              .select({ id: t.aims.id })
              .from(t.aims)
              .where(and(eq(t.aims.sectionId, row.sectionId!), isNull(t.aims.archivedAt)))
              .orderBy(asc(t.aims.position), asc(t.aims.id))
          : await tx
              .select({ id: t.actions.id })
              .from(t.actions)
              .where(and(eq(t.actions.aimId, row.aimId!), isNull(t.actions.archivedAt)))
              .orderBy(asc(t.actions.position), asc(t.actions.id));
    const order = siblings.map((s) => s.id);
    const at = order.indexOf(id);
    const to = direction === 'up' ? at - 1 : at + 1;
    if (at < 0 || to < 0 || to >= order.length) return false;
    [order[at], order[to]] = [order[to]!, order[at]!];
    for (const [i, siblingId] of order.entries()) {
      await tx
        .update(table)
        .set({ position: i + 1 })
        .where(eq(table.id, siblingId));
    }
    await recordAudit(tx, actor, {
      partnershipId: row.partnershipId,
      kind: `${kind}.moved`,
      entity: kind,
      entityId: id,
      summary: `Moved a ${kind} ${direction}`,
      before: { position: at + 1 },
      after: { position: to + 1 },
    });
    return true;
  });
}
