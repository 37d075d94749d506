/**
 * The embedded default, with no SMTP_URL: email is kept in the outbox and the coordinator reads it
 * in the app, so inviting someone still works end to end.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { createTestApp, DEMO, Session, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('the outbox, without a mail server', () => {
  it('keeps the invitation; the coordinator reads it at /p/sosafe/outbox and its link works', async () => {
    const coordinator = new Session(t.app);
    await coordinator.signIn(DEMO.coordinator);
    const sent = await coordinator.post('/p/sosafe/people/invite', {
      email: 'outbox.person@herts.example',
      name: 'Olu Outbox',
      role: 'partner',
      organisation: '',
      person: '',
    });
    expect(sent.statusCode).toBe(303);
    const people = await coordinator.get('/p/sosafe/people');
    expect(people.body).toContain('An invitation for outbox.person@herts.example is in the outbox');

    const outbox = await coordinator.get('/p/sosafe/outbox');
    expect(outbox.statusCode).toBe(200);
    expect(outbox.body).toContain('Invitation to join the SoSafe Stevenage action plan');
    expect(outbox.body).toContain('outbox.person@herts.example');
    expect(outbox.body).toContain('Kept in the outbox');
    // Without PUBLIC_URL, the link uses the address the coordinator's request came to.
    const link = /(http:\/\/localhost(?::\d+)?)(\/invitations\/[\w-]+)/.exec(outbox.body);
    expect(link).not.toBeNull();

    const [row] = await queryRows<{ transport: string; sent_at: Date | null }>(
      t.database.db,
      sql`select transport, sent_at from emails where to_address = 'outbox.person@herts.example'`,
    );
    expect(row).toEqual({ transport: 'outbox', sent_at: null });

    const invitee = new Session(t.app);
    const accepted = await invitee.post(link![2]!, {
      name: 'Olu Outbox',
      password: 'a password from the outbox',
    });
    expect(accepted.statusCode).toBe(303);
    const plan = await invitee.get('/p/sosafe/plans/2024-25');
    expect(plan.statusCode).toBe(200);
    expect(plan.body).toContain('Olu Outbox (partner)');
  });

  it('does not show password reset email to the coordinator: it would let them take over the account', async () => {
    const reset = await new Session(t.app).post('/forgot-password', { email: DEMO.lead });
    expect(reset.statusCode).toBe(200);
    const [row] = await queryRows<{ partnership_id: number | null; transport: string }>(
      t.database.db,
      sql`select partnership_id, transport from emails where to_address = ${DEMO.lead}`,
    );
    expect(row).toEqual({ partnership_id: null, transport: 'outbox' });
    const coordinator = new Session(t.app);
    await coordinator.signIn(DEMO.coordinator);
    const outbox = await coordinator.get('/p/sosafe/outbox');
    expect(outbox.body).not.toContain('Reset your Partnership Plan password');
    expect(outbox.body).not.toContain('/reset-password/');
  });

  it('is the coordinator’s alone', async () => {
    const lead = new Session(t.app);
    await lead.signIn(DEMO.lead);
    expect((await lead.get('/p/sosafe/outbox')).statusCode).toBe(403);
  });
});
