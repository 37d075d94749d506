/**
 * No lost updates: fifty people save the same form at once, each from their own session, all
 * from the same version. Each save either lands or is shown the conflict page (the other version
 * beside what they typed); the audit trail has one event for each save that landed, and the row
 * ends as one of those saves.
 */
import { and, eq } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, progressUpdates } from '../../src/db/schema.js';
import { systemActor } from '../../src/services/actor.js';
import { findAim } from '../../src/services/plan-read.js';
import { escapeHtml } from '../../src/domain/text.js';
import { createTestApp, DEMO, Session, type TestApp } from '../support/app.js';

const base = '/p/sosafe/plans/2024-25';
const SAVES = 50;
// Sign-in allows 60 a minute from one address: the 50 coordinator sessions sign in from one, the
// lead officer's 25 from another (as people in two offices would).
const LEAD_SESSIONS = 25;

let t: TestApp;
const coordinators: Session[] = [];
const leads: Session[] = [];

beforeAll(async () => {
  t = await createTestApp();
  // Everyone signs in at once (the password checks run side by side on libuv's threads).
  coordinators.push(...Array.from({ length: SAVES }, () => new Session(t.app)));
  leads.push(
    ...Array.from({ length: LEAD_SESSIONS }, () => new Session(t.app, { remoteAddress: '192.0.2.25' })),
  );
  await Promise.all([
    ...coordinators.map((s) => s.signIn(DEMO.coordinator)),
    ...leads.map((s) => s.signIn(DEMO.lead)),
  ]);
});
afterAll(async () => {
  await t?.close();
});

async function demoAction(aim: string, place: number) {
  const tree = (await t.services.plans.openPlan(systemActor(), 'sosafe', '2024/25')).tree;
  const action = findAim(tree, aim).aim.actions[place - 1];
  if (!action) throw new Error(`No action ${place} of aim ${aim}`);
  return action;
}

/** Loads each session's form first, then sends every save at once. */
async function saveAllAtOnce(
  sessions: Session[],
  formUrl: string,
  postUrl: string,
  fields: (i: number, form: string) => Record<string, string>,
): Promise<LightMyRequestResponse[]> {
  const forms = await Promise.all(sessions.map((s) => s.get(formUrl)));
  const ready = forms.map((form, i) => {
    expect(form.statusCode, `form for session ${i}`).toBe(200);
    const token = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1];
    const title = /<title>([^<]*)<\/title>/.exec(form.body)?.[1];
    expect(token, `session ${i} has no form on the page titled ${title}`).toBeDefined();
    return { session: sessions[i]!, fields: { _csrf: token!, ...fields(i, form.body) } };
  });
  return Promise.all(ready.map((r) => r.session.postRaw(postUrl, r.fields)));
}

function versionIn(form: string): string {
  const version = /name="version" value="(\d+)"/.exec(form)?.[1];
  if (!version) throw new Error('The form carries no version');
  return version;
}

/** The textarea's content as rendered (escaped). */
function textareaValue(page: string, name: string): string | undefined {
  const match = new RegExp(`<textarea[^>]*name="${name}"[^>]*>([\\s\\S]*?)</textarea>`).exec(page);
  return match?.[1]?.trim();
}

async function auditKinds(kind: string, entityId: number) {
  return t.database.db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.kind, kind), eq(auditEvents.entityId, String(entityId))));
}

describe('fifty people save the same action at once', () => {
  it('one save lands, every other one is shown the conflict with what they typed kept', async () => {
    const action = await demoAction('3.1', 2);
    const formUrl = `${base}/actions/${action.id}/edit`;
    const typed = (i: number) => `Concurrent description number ${i} of ${SAVES}`;
    const responses = await saveAllAtOnce(coordinators, formUrl, formUrl, (i, form) => ({
      description: typed(i),
      leads: 'CCSU: Helen Whitehead\nSBC',
      partners: 'Police',
      resources: 'Social Media',
      expectedOutcomes: 'Raising awareness',
      version: versionIn(form),
    }));

    const landed = responses.flatMap((r, i) => (r.statusCode === 303 ? [i] : []));
    const conflicted = responses.flatMap((r, i) => (r.statusCode === 409 ? [i] : []));
    expect(landed.length + conflicted.length, 'every save lands or conflicts').toBe(SAVES);
    // All fifty started from the same version: only one of them can be applied to it.
    expect(landed).toHaveLength(1);
    const winner = landed[0]!;

    for (const i of conflicted) {
      const page = responses[i]!.body;
      expect(page).toContain('data-testid="conflict"');
      // The other version (the one that landed) beside what this person typed, which is kept.
      const start = page.indexOf('data-testid="conflict"');
      const banner = page.slice(start, page.indexOf('<form', start));
      expect(banner).toContain(escapeHtml(typed(winner)));
      expect(textareaValue(page, 'description')).toBe(escapeHtml(typed(i)));
      // Saving again from this page would be against the version that now stands.
      expect(versionIn(page)).toBe(String(action.version + 1));
    }

    const events = await auditKinds('action.updated', action.id);
    expect(events).toHaveLength(landed.length);
    expect((events[0]!.after as { description: string }).description).toBe(typed(winner));
    expect(events[0]!.actorLabel).toBe('Casey Coordinator');

    const after = await demoAction('3.1', 2);
    expect(after.description).toBe(typed(winner));
    expect(after.version).toBe(action.version + 1);
  });

  it('a save from a conflict page, with the version it now carries, lands', async () => {
    const action = await demoAction('3.1', 2);
    const formUrl = `${base}/actions/${action.id}/edit`;
    const response = await coordinators[0]!.post(formUrl, {
      description: 'Saved after the conflict',
      version: String(action.version),
    });
    expect(response.statusCode).toBe(303);
    expect((await demoAction('3.1', 2)).description).toBe('Saved after the conflict');
  });
});

describe('fifty people save the same progress update at once', () => {
  const sessions = () => [...coordinators.slice(0, SAVES - LEAD_SESSIONS), ...leads];

  it('changing an existing update: one lands, the rest see the update as it now stands', async () => {
    const action = await demoAction('3.1', 1);
    const existing = action.progress.find((p) => p.quarter === 3);
    expect(existing).toBeDefined();
    const formUrl = `${base}/actions/${action.id}/progress?quarter=3`;
    const postUrl = `${base}/actions/${action.id}/progress`;
    const typed = (i: number) => `Concurrent Q3 progress number ${i} of ${SAVES}`;
    const responses = await saveAllAtOnce(sessions(), formUrl, postUrl, (i, form) => ({
      quarter: '3',
      status: i % 2 ? 'on_track' : 'at_risk',
      text: typed(i),
      version: versionIn(form),
    }));

    const landed = responses.flatMap((r, i) => (r.statusCode === 303 ? [i] : []));
    const conflicted = responses.flatMap((r, i) => (r.statusCode === 409 ? [i] : []));
    expect(landed.length + conflicted.length, 'every save lands or conflicts').toBe(SAVES);
    expect(landed).toHaveLength(1);
    const winner = landed[0]!;
    for (const i of conflicted) {
      const page = responses[i]!.body;
      expect(page).toContain('data-testid="conflict"');
      const start = page.indexOf('data-testid="conflict"');
      const banner = page.slice(start, page.indexOf('<form', start));
      expect(banner).toContain(escapeHtml(typed(winner)));
      expect(textareaValue(page, 'text')).toBe(escapeHtml(typed(i)));
      expect(versionIn(page)).toBe(String(existing!.version + 1));
    }

    const [row] = await t.database.db
      .select()
      .from(progressUpdates)
      .where(and(eq(progressUpdates.actionId, action.id), eq(progressUpdates.quarter, 3)));
    const events = await auditKinds('progress.updated', row!.id);
    expect(events).toHaveLength(landed.length);
    expect(row!.text).toBe(typed(winner));
    expect(row!.status).toBe(winner % 2 ? 'on_track' : 'at_risk');
    expect(row!.version).toBe(existing!.version + 1);
  });

  it('adding the first update of a quarter: one is added, the rest see it', async () => {
    const action = await demoAction('3.1', 1);
    expect(action.progress.find((p) => p.quarter === 4)).toBeUndefined();
    const formUrl = `${base}/actions/${action.id}/progress?quarter=4`;
    const postUrl = `${base}/actions/${action.id}/progress`;
    const typed = (i: number) => `Concurrent first Q4 progress number ${i}`;
    const responses = await saveAllAtOnce(sessions(), formUrl, postUrl, (i, form) => {
      expect(form).not.toMatch(/name="version"/);
      return { quarter: '4', status: 'complete', text: typed(i) };
    });

    const landed = responses.flatMap((r, i) => (r.statusCode === 303 ? [i] : []));
    const conflicted = responses.flatMap((r, i) => (r.statusCode === 409 ? [i] : []));
    expect(landed.length + conflicted.length, 'every save lands or conflicts').toBe(SAVES);
    expect(landed).toHaveLength(1);
    for (const i of conflicted) {
      const page = responses[i]!.body;
      expect(page).toContain(escapeHtml(typed(landed[0]!)));
      expect(textareaValue(page, 'text')).toBe(escapeHtml(typed(i)));
    }
    const rows = await t.database.db
      .select()
      .from(progressUpdates)
      .where(and(eq(progressUpdates.actionId, action.id), eq(progressUpdates.quarter, 4)));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.text).toBe(typed(landed[0]!));
    expect(await auditKinds('progress.added', rows[0]!.id)).toHaveLength(1);
  });
});
