/** The partnership-wide lists: organisations, people, principles, glossary. */
import { asc, eq, and, isNull } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import * as t from '../db/schema.js';

export async function listGlossary(db: Db, partnershipId: number) {
  return db
    .select({ term: t.glossaryTerms.term, meaning: t.glossaryTerms.meaning })
    .from(t.glossaryTerms)
    .where(eq(t.glossaryTerms.partnershipId, partnershipId))
    .orderBy(asc(t.glossaryTerms.term));
}

export async function listPrinciples(db: Db, partnershipId: number) {
  return db
    .select({ number: t.principles.number, text: t.principles.text })
    .from(t.principles)
    .where(eq(t.principles.partnershipId, partnershipId))
    .orderBy(asc(t.principles.number));
}

export async function listOrganisations(db: Db, partnershipId: number) {
  return db
    .select({ id: t.organisations.id, name: t.organisations.name, fullName: t.organisations.fullName })
    .from(t.organisations)
    .where(and(eq(t.organisations.partnershipId, partnershipId), isNull(t.organisations.archivedAt)))
    .orderBy(asc(t.organisations.name));
}

export async function listPeople(db: Db, partnershipId: number) {
  return db
    .select({ id: t.people.id, name: t.people.name })
    .from(t.people)
    .where(and(eq(t.people.partnershipId, partnershipId), isNull(t.people.archivedAt)))
    .orderBy(asc(t.people.name));
}
