/**
 * Accounts end to end, with email through a real SMTP server on 127.0.0.1: invitations, password
 * reset and change, signing out everywhere, deactivation, and who may manage people.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { hashToken } from '../../src/services/accounts.js';
import { createTestApp, DEMO, Session, TEST_PASSWORD, type TestApp } from '../support/app.js';
import { linkIn, startSmtpSink, type SmtpSink } from '../support/smtp.js';

const PUBLIC_URL = 'https://plan.sosafe.example';
const plan = '/p/sosafe/plans/2024-25';

let t: TestApp;
let smtp: SmtpSink;
beforeAll(async () => {
  smtp = await startSmtpSink({ refuse: (address) => address.startsWith('bounce') });
  t = await createTestApp({
    env: { SMTP_URL: smtp.url, PUBLIC_URL, MAIL_FROM: 'SoSafe Plan <plan@sosafe.example>' },
  });
});
afterAll(async () => {
  await t?.close();
  await smtp?.close();
});

async function rows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  return queryRows<T>(t.database.db, query);
}

async function signedIn(email: string, password = TEST_PASSWORD): Promise<Session> {
  const session = new Session(t.app);
  await session.signIn(email, password);
  return session;
}

/** The flash banner's text on the page a redirect leads to. */
async function flashAfter(session: Session, response: { headers: Record<string, unknown> }): Promise<string> {
  const page = await session.get(String(response.headers.location));
  return (
    /data-testid="flash"[\s\S]*?<p class="govuk-notification-banner__heading">\s*([^<]+?)\s*<\/p>/.exec(
      page.body,
    )?.[1] ?? ''
  );
}

function membershipId(peoplePage: string, email: string): string {
  const id = new RegExp(
    `data-testid="member-${email.replace(/\./g, '\\.')}"[\\s\\S]*?/people/(\\d+)/role`,
  ).exec(peoplePage)?.[1];
  if (!id) throw new Error(`${email} is not on the people page`);
  return id;
}

/** Makes the member a partner through the role form, with the version the form gives. */
async function makePartner(coordinator: Session, id: string) {
  const form = await coordinator.get(`/p/sosafe/people/${id}/role`);
  const version = /name="version" value="(\d+)"/.exec(form.body)![1]!;
  const changed = await coordinator.post(`/p/sosafe/people/${id}/role`, {
    role: 'partner',
    organisation: '',
    person: '',
    version,
  });
  return { changed, version };
}

/** Opens a confirmation page and presses its button, as a person would. */
async function confirm(session: Session, url: string) {
  const page = await session.get(url);
  const token = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
  const version = /name="version" value="(\d+)"/.exec(page.body)![1]!;
  return session.postRaw(url, { _csrf: token, version });
}

async function invite(coordinator: Session, fields: Record<string, string>) {
  return coordinator.post('/p/sosafe/people/invite', {
    role: 'partner',
    organisation: '',
    person: '',
    ...fields,
  });
}

async function userSessions(email: string): Promise<number> {
  const [row] = await rows<{ n: number }>(
    sql`select count(*)::int as n from sessions s join users u on u.id = s.user_id where u.email = ${email}`,
  );
  return row!.n;
}

describe('inviting someone by email', () => {
  it('the invitee gets an email with a link; accepting it creates their account and signs them in with the role', async () => {
    const coordinator = await signedIn(DEMO.coordinator);
    const form = await coordinator.get('/p/sosafe/people/invite');
    expect(form.statusCode).toBe(200);
    const sbc = /<option value="(\d+)">SBC<\/option>/.exec(form.body)?.[1];
    expect(sbc).toBeDefined();

    const sent = await invite(coordinator, {
      email: 'Nia.Officer@Herts.example',
      name: 'Nia Officer',
      role: 'lead_officer',
      organisation: sbc!,
    });
    expect(sent.statusCode).toBe(303);
    expect(sent.headers.location).toBe('/p/sosafe/people');
    expect(await flashAfter(coordinator, sent)).toBe(
      'An invitation has been sent to nia.officer@herts.example',
    );
    expect((await coordinator.get('/p/sosafe/people')).body).toContain(
      'data-testid="invitation-nia.officer@herts.example"',
    );

    const email = await smtp.waitFor((m) => m.to.includes('nia.officer@herts.example'), 'the invitation');
    expect(email.subject).toBe('Invitation to join the SoSafe Stevenage action plan');
    expect(email.headers.from).toBe('SoSafe Plan <plan@sosafe.example>');
    expect(email.text).toContain(
      'Casey Coordinator has invited you to join the SoSafe Stevenage action plan',
    );
    expect(email.text).toContain('as a lead officer');
    const link = linkIn(email, '/invitations/');
    expect(link.origin).toBe(PUBLIC_URL);
    const token = link.pathname.split('/').pop()!;

    // Only the token's hash is kept, and the message is recorded as sent.
    const [stored] = await rows<{ token_hash: string }>(
      sql`select token_hash from invitations where email = 'nia.officer@herts.example'`,
    );
    expect(stored!.token_hash).toBe(hashToken(token));
    const kept = await rows<{ n: number }>(
      sql`select count(*)::int as n from invitations where token_hash = ${token}`,
    );
    expect(kept[0]!.n).toBe(0);
    const [record] = await rows<{ transport: string; sent_at: Date | null; error: string | null }>(
      sql`select transport, sent_at, error from emails where to_address = 'nia.officer@herts.example'`,
    );
    expect(record).toMatchObject({ transport: 'smtp', error: null });
    expect(record!.sent_at).not.toBeNull();

    const invitee = new Session(t.app);
    const page = await invitee.get(link.pathname);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Create a password');
    const tooShort = await invitee.post(link.pathname, { name: 'Nia Officer', password: 'short' });
    expect(tooShort.statusCode).toBe(400);
    expect(tooShort.body).toContain('Password must be 12 characters or more');
    expect(tooShort.body).toContain('value="Nia Officer"');

    const accepted = await invitee.post(link.pathname, {
      name: 'Nia Officer',
      password: 'a new officer password',
    });
    expect(accepted.statusCode).toBe(303);
    expect(accepted.headers.location).toBe('/p/sosafe');
    const planPage = await invitee.get(plan);
    expect(planPage.statusCode).toBe(200);
    expect(planPage.body).toContain('Nia Officer (lead officer)');

    // The new account signs in with the password chosen.
    await signedIn('nia.officer@herts.example', 'a new officer password');
    const audit = await rows<{ kind: string }>(
      sql`select kind from audit_events where kind like 'invitation.%' order by id`,
    );
    expect(audit.map((a) => a.kind)).toEqual(['invitation.sent', 'invitation.accepted']);

    // The link works once.
    const again = await new Session(t.app).get(link.pathname);
    expect(again.statusCode).toBe(404);
    expect(again.body).toContain('This invitation link does not work');
    const reused = await new Session(t.app).post(
      '/forgot-password',
      { name: 'Someone', password: 'another long password' },
      link.pathname,
    );
    expect(reused.statusCode).toBe(404);
  });

  it('a link is refused once 7 days have passed, and when withdrawn, with the same message', async () => {
    const coordinator = await signedIn(DEMO.coordinator);
    await invite(coordinator, { email: 'late@herts.example', name: 'Late Person' });
    const late = linkIn(await smtp.waitFor((m) => m.to.includes('late@herts.example')), '/invitations/');
    expect((await new Session(t.app).get(late.pathname)).statusCode).toBe(200);
    await rows(
      sql`update invitations set expires_at = now() - interval '1 minute' where email = 'late@herts.example'`,
    );
    const expired = await new Session(t.app).get(late.pathname);
    expect(expired.statusCode).toBe(404);
    expect(expired.body).toContain('This invitation link does not work');

    await invite(coordinator, { email: 'withdrawn@herts.example', name: 'Withdrawn Person' });
    const withdrawn = linkIn(
      await smtp.waitFor((m) => m.to.includes('withdrawn@herts.example')),
      '/invitations/',
    );
    const people = await coordinator.get('/p/sosafe/people');
    const withdrawForm = people.body
      .split('<form')
      .find((f) => f.includes('the invitation to withdrawn@herts.example'));
    const invitationId = /invitations\/(\d+)\/revoke/.exec(withdrawForm ?? '')?.[1];
    expect(invitationId).toBeDefined();
    const revoked = await coordinator.post(
      '/p/sosafe/people',
      {},
      `/p/sosafe/invitations/${invitationId}/revoke`,
    );
    expect(revoked.statusCode).toBe(303);
    const refused = await new Session(t.app).get(withdrawn.pathname);
    expect(refused.statusCode).toBe(404);
    expect(refused.body).toContain('This invitation link does not work');
    expect((await coordinator.get('/p/sosafe/people')).body).not.toContain(
      'data-testid="invitation-withdrawn@herts.example"',
    );

    const unknown = await new Session(t.app).get(`/invitations/${'x'.repeat(43)}`);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body).toContain('This invitation link does not work');
  });

  it('says the same for an address that already has an account; accepting then needs that account’s password', async () => {
    // An account that holds a role elsewhere, not in SoSafe.
    const { createPartnership } = await import('../../src/services/partnerships.js');
    const { addUser } = await import('../../src/services/users.js');
    const { systemActor } = await import('../../src/services/actor.js');
    await createPartnership(t.database.db, systemActor(), { slug: 'nherts', name: 'North Herts CSP' });
    await addUser(
      t.database.db,
      {
        email: 'inspector@police.example',
        name: 'Ian Inspector',
        password: 'the inspector password',
        partnership: 'nherts',
        role: 'partner',
      },
      systemActor(),
    );

    const coordinator = await signedIn(DEMO.coordinator);
    const known = await invite(coordinator, { email: 'inspector@police.example', name: 'Ian Inspector' });
    const knownFlash = await flashAfter(coordinator, known);
    const unknown = await invite(coordinator, { email: 'nobody.yet@police.example', name: 'Ian Inspector' });
    const unknownFlash = await flashAfter(coordinator, unknown);
    expect(known.statusCode).toBe(303);
    expect(known.statusCode).toBe(unknown.statusCode);
    expect(known.headers.location).toBe(unknown.headers.location);
    expect(knownFlash).toContain('An invitation has been sent to');
    expect(knownFlash.replace('inspector@', 'X@')).toBe(unknownFlash.replace('nobody.yet@', 'X@'));
    const knownEmail = await smtp.waitFor((m) => m.to.includes('inspector@police.example'));
    const unknownEmail = await smtp.waitFor((m) => m.to.includes('nobody.yet@police.example'));
    const neutral = (text: string) =>
      text
        .replace(/\/invitations\/[\w-]+/, '/invitations/TOKEN')
        .replace(/until .+ \(UK time\)/, 'until TIME');
    expect(neutral(knownEmail.text)).toBe(neutral(unknownEmail.text));
    expect(knownEmail.subject).toBe(unknownEmail.subject);

    const link = linkIn(knownEmail, '/invitations/');
    const invitee = new Session(t.app);
    expect((await invitee.get(link.pathname)).body).toContain('You already have a Partnership Plan account');
    const wrong = await invitee.post(link.pathname, { password: 'not the inspector password' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('The password is not right');
    const right = await invitee.post(link.pathname, { password: 'the inspector password' });
    expect(right.statusCode).toBe(303);
    expect((await invitee.get(plan)).body).toContain('Ian Inspector (partner)');
    // The account keeps its other partnership.
    expect((await invitee.get('/')).body).toContain('North Herts CSP');
    const accounts = await rows<{ n: number }>(
      sql`select count(*)::int as n from users where email = 'inspector@police.example'`,
    );
    expect(accounts[0]!.n).toBe(1);
  });

  it('keeps what was typed and explains a mistake; records a refused email and says so', async () => {
    const coordinator = await signedIn(DEMO.coordinator);
    const bad = await invite(coordinator, { email: 'not an address', name: 'Typed Name', role: '' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('Enter an email address in the correct format');
    expect(bad.body).toContain('href="#role"');
    expect(bad.body).toContain('value="Typed Name"');
    expect(bad.body).toContain('value="not an address"');

    const member = await invite(coordinator, { email: DEMO.partner, name: 'Pat Partner' });
    expect(member.statusCode).toBe(400);
    expect(member.body).toContain('is already a member of this partnership');

    const bounced = await invite(coordinator, { email: 'bounce@herts.example', name: 'Bounced' });
    expect(bounced.statusCode).toBe(303);
    expect(await flashAfter(coordinator, bounced)).toContain('the email could not be sent');
    const [record] = await rows<{ sent_at: Date | null; error: string | null }>(
      sql`select sent_at, error from emails where to_address = 'bounce@herts.example'`,
    );
    expect(record!.sent_at).toBeNull();
    expect(record!.error).toContain('Mailbox unavailable');
    expect((await coordinator.get('/p/sosafe/outbox')).body).toContain('Not sent');
  });
});

describe('a forgotten password', () => {
  it('says the same for a known and an unknown address, and emails only the account', async () => {
    const known = await new Session(t.app).post('/forgot-password', { email: DEMO.board });
    const unknown = await new Session(t.app).post('/forgot-password', { email: 'nobody@nowhere.example' });
    expect(known.statusCode).toBe(200);
    expect(unknown.statusCode).toBe(200);
    const main = (body: string, email: string) =>
      /<main[\s\S]*<\/main>/
        .exec(body)![0]
        .replace(email, 'EMAIL')
        .replace(/value="[^"]+"/g, '');
    expect(main(known.body, DEMO.board)).toBe(main(unknown.body, 'nobody@nowhere.example'));
    expect(known.body).toContain('Check your email');

    await smtp.waitFor((m) => m.to.includes(DEMO.board), 'the reset email');
    const recorded = await rows<{ to_address: string }>(
      sql`select to_address from emails where subject = 'Reset your Partnership Plan password'`,
    );
    expect(recorded.map((r) => r.to_address)).toEqual([DEMO.board]);
  });

  it('resets through the link in the email: the old password and every session end, the link works once', async () => {
    const elsewhere = await signedIn(DEMO.partner);
    expect((await elsewhere.get(plan)).statusCode).toBe(200);

    await new Session(t.app).post('/forgot-password', { email: DEMO.partner });
    const email = await smtp.waitFor((m) => m.to.includes(DEMO.partner), 'the reset email');
    expect(email.subject).toBe('Reset your Partnership Plan password');
    const link = linkIn(email, '/reset-password/');
    expect(link.origin).toBe(PUBLIC_URL);

    const person = new Session(t.app);
    const form = await person.get(link.pathname);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain(DEMO.partner);
    const short = await person.post(link.pathname, { password: 'too short' });
    expect(short.statusCode).toBe(400);
    expect(short.body).toContain('Password must be 12 characters or more');

    const done = await person.post(link.pathname, { password: 'a brand new partner password' });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe('/sign-in');
    expect(await flashAfter(person, done)).toContain('Your password has been changed');

    // The session signed in before the reset is over.
    const after = await elsewhere.get(plan);
    expect(after.statusCode).toBe(302);
    expect(String(after.headers.location)).toMatch(/^\/sign-in/);
    expect(await userSessions(DEMO.partner)).toBe(0);

    expect(
      (await new Session(t.app).post('/sign-in', { email: DEMO.partner, password: TEST_PASSWORD }))
        .statusCode,
    ).toBe(401);
    await signedIn(DEMO.partner, 'a brand new partner password');

    const reused = await new Session(t.app).get(link.pathname);
    expect(reused.statusCode).toBe(404);
    expect(reused.body).toContain('This password reset link does not work');
    const [audit] = await rows<{ n: number }>(
      sql`select count(*)::int as n from audit_events where kind = 'user.password_reset'`,
    );
    expect(audit!.n).toBe(1);
  });

  it('refuses a reset link more than an hour old', async () => {
    await new Session(t.app).post('/forgot-password', { email: DEMO.lead });
    const link = linkIn(await smtp.waitFor((m) => m.to.includes(DEMO.lead)), '/reset-password/');
    await rows(
      sql`update password_resets set expires_at = now() - interval '1 minute' where token_hash = ${hashToken(link.pathname.split('/').pop()!)}`,
    );
    const expired = await new Session(t.app).get(link.pathname);
    expect(expired.statusCode).toBe(404);
    const attempt = await new Session(t.app).post(
      '/forgot-password',
      { password: 'a long enough new password' },
      link.pathname,
    );
    expect(attempt.statusCode).toBe(404);
    await signedIn(DEMO.lead);
  });
});

describe('sessions', () => {
  it('changing your password keeps this session and ends the others', async () => {
    const { addUser } = await import('../../src/services/users.js');
    const { systemActor } = await import('../../src/services/actor.js');
    await addUser(
      t.database.db,
      {
        email: 'changer@sosafe.example',
        name: 'Chris Changer',
        password: 'the first password',
        partnership: 'sosafe',
        role: 'partner',
      },
      systemActor(),
    );
    const here = await signedIn('changer@sosafe.example', 'the first password');
    const there = await signedIn('changer@sosafe.example', 'the first password');

    const wrong = await here.post('/account/password', {
      current: 'not my password',
      password: 'the second password',
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('Your current password is not right');
    expect((await there.get('/account')).statusCode).toBe(200);

    const changed = await here.post('/account/password', {
      current: 'the first password',
      password: 'the second password',
    });
    expect(changed.statusCode).toBe(303);
    expect((await here.get('/account')).statusCode).toBe(200);
    const ended = await there.get('/account');
    expect(ended.statusCode).toBe(302);
    expect(await userSessions('changer@sosafe.example')).toBe(1);
    await signedIn('changer@sosafe.example', 'the second password');
    const [row] = await rows<{ changed: Date | null }>(
      sql`select password_changed_at as changed from users where email = 'changer@sosafe.example'`,
    );
    expect(row!.changed).not.toBeNull();
  });

  it('"sign out everywhere" ends every session of the account, this one too', async () => {
    const one = await signedIn(DEMO.board);
    const two = await signedIn(DEMO.board);
    const account = await one.get('/account');
    expect(account.body).toContain('Bobbie Board');
    expect(account.body).toContain('SoSafe Stevenage');
    const out = await one.post('/account', {}, '/account/sign-out-everywhere');
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/sign-in');
    expect(await flashAfter(one, out)).toContain('signed out on every device');
    expect((await one.get('/account')).statusCode).toBe(302);
    expect((await two.get(plan)).statusCode).toBe(302);
    expect(await userSessions(DEMO.board)).toBe(0);
  });

  it('an idle session is refused once its expiry has passed', async () => {
    const s = await signedIn(DEMO.coordinator);
    expect((await s.get(plan)).statusCode).toBe(200);
    const [user] = await rows<{ id: number }>(sql`select id from users where email = ${DEMO.coordinator}`);
    // What SESSION_IDLE_MINUTES without a request leaves behind: an expiry in the past.
    await rows(
      sql`update sessions set expires_at = now() - interval '1 second' where user_id = ${user!.id} and sid = ${s.sid}`,
    );
    const idle = await s.get(plan);
    expect(idle.statusCode).toBe(302);
    expect(idle.headers.location).toBe(`/sign-in?returnTo=${encodeURIComponent(plan)}`);
  });

  it('a request moves the session’s expiry on (rolling)', async () => {
    const s = await signedIn(DEMO.coordinator);
    const { sid } = s;
    await rows(sql`update sessions set expires_at = now() + interval '1 minute' where sid = ${sid}`);
    await s.get(plan);
    const [row] = await rows<{ minutes: number }>(
      sql`select extract(epoch from expires_at - now()) / 60 as minutes from sessions where sid = ${sid}`,
    );
    expect(Number(row!.minutes)).toBeGreaterThan(100);
  });
});

describe('managing people', () => {
  it('is the coordinator’s alone: others get 403, signed-out readers are sent to sign in', async () => {
    for (const email of [DEMO.lead, DEMO.partner, DEMO.board]) {
      const s = await signedIn(
        email,
        email === DEMO.partner ? 'a brand new partner password' : TEST_PASSWORD,
      );
      for (const url of ['/p/sosafe/people', '/p/sosafe/people/invite', '/p/sosafe/outbox']) {
        expect((await s.get(url)).statusCode, `${email} ${url}`).toBe(403);
      }
      const token = /name="_csrf" value="([^"]+)"/.exec((await s.get(plan)).body)![1]!;
      const attempt = await s.postRaw('/p/sosafe/people/invite', {
        _csrf: token,
        email: 'sneaky@herts.example',
        name: 'Sneaky',
        role: 'coordinator',
      });
      expect(attempt.statusCode).toBe(403);
      // No People or Outbox in their navigation.
      expect((await s.get(plan)).body).not.toContain('/p/sosafe/outbox');
    }
    const [none] = await rows<{ n: number }>(
      sql`select count(*)::int as n from invitations where email = 'sneaky@herts.example'`,
    );
    expect(none!.n).toBe(0);
    const anon = await new Session(t.app).get('/p/sosafe/people');
    expect(anon.statusCode).toBe(302);
    expect(anon.headers.location).toBe(`/sign-in?returnTo=${encodeURIComponent('/p/sosafe/people')}`);
    expect((await new Session(t.app).get('/account')).statusCode).toBe(302);
    const coordinatorPlan = await (await signedIn(DEMO.coordinator)).get(plan);
    expect(coordinatorPlan.body).toContain('href="/p/sosafe/people"');
    expect(coordinatorPlan.body).toContain('href="/p/sosafe/outbox"');
  });

  it('a deactivated member is signed out and can no longer use the partnership, until reactivated', async () => {
    const lead = await signedIn(DEMO.lead);
    expect((await lead.get(plan)).statusCode).toBe(200);
    const coordinator = await signedIn(DEMO.coordinator);
    const id = membershipId((await coordinator.get('/p/sosafe/people')).body, DEMO.lead);

    const page = await coordinator.get(`/p/sosafe/people/${id}/deactivate`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Deactivate Helen Whitehead?');
    const done = await confirm(coordinator, `/p/sosafe/people/${id}/deactivate`);
    expect(done.statusCode).toBe(303);
    expect(await flashAfter(coordinator, done)).toContain('Helen Whitehead has been deactivated');

    expect((await lead.get(plan)).statusCode).toBe(302);
    const again = await signedIn(DEMO.lead);
    expect((await again.get(plan)).statusCode).toBe(403);
    expect((await again.get('/')).body).toContain('does not hold a role in any partnership');
    expect((await coordinator.get('/p/sosafe/people')).body).toMatch(
      /data-testid="member-helen\.whitehead@sosafe\.example"[\s\S]*?Deactivated/,
    );

    const back = await confirm(coordinator, `/p/sosafe/people/${id}/reactivate`);
    expect(back.statusCode).toBe(303);
    expect((await again.get(plan)).statusCode).toBe(200);
    const kinds = await rows<{ kind: string }>(
      sql`select kind from audit_events where kind like 'member.%' order by id`,
    );
    expect(kinds.map((k) => k.kind)).toEqual(['member.deactivated', 'member.reactivated']);
  });

  it('changes a role, and a stale form is a conflict', async () => {
    const coordinator = await signedIn(DEMO.coordinator);
    const id = membershipId((await coordinator.get('/p/sosafe/people')).body, DEMO.board);
    const { changed, version } = await makePartner(coordinator, id);
    expect(changed.statusCode).toBe(303);
    expect(await flashAfter(coordinator, changed)).toBe('Bobbie Board is now a partner');
    const stale = await coordinator.post(`/p/sosafe/people/${id}/role`, {
      role: 'board_member',
      organisation: '',
      person: '',
      version,
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.body).toContain('Someone else changed this');
    const [row] = await rows<{ role: string }>(
      sql`select m.role from memberships m join users u on u.id = m.user_id where u.email = ${DEMO.board}`,
    );
    expect(row!.role).toBe('partner');
  });

  it('a changed role holds from the member’s next request (their standing is not kept past a change)', async () => {
    const updates = `${plan}/quarters/4/updates`;
    const lead = await signedIn(DEMO.lead);
    expect((await lead.get(updates)).statusCode).toBe(200);
    const coordinator = await signedIn(DEMO.coordinator);
    const id = membershipId((await coordinator.get('/p/sosafe/people')).body, DEMO.lead);
    const [before] = await rows<{ role: string; organisation_id: number | null; person_id: number | null }>(
      sql`select m.role, m.organisation_id, m.person_id from memberships m where m.id = ${Number(id)}`,
    );
    expect((await makePartner(coordinator, id)).changed.statusCode).toBe(303);
    expect((await lead.get(updates)).statusCode, 'a partner sends no quarterly updates').toBe(403);
    await rows(
      sql`update memberships set role = ${before!.role}, organisation_id = ${before!.organisation_id},
          person_id = ${before!.person_id} where id = ${Number(id)}`,
    );
    expect((await lead.get(updates)).statusCode).toBe(200);
  });

  it('the only coordinator can neither deactivate nor demote themselves', async () => {
    const coordinator = await signedIn(DEMO.coordinator);
    const id = membershipId((await coordinator.get('/p/sosafe/people')).body, DEMO.coordinator);
    const deactivate = await confirm(coordinator, `/p/sosafe/people/${id}/deactivate`);
    expect(deactivate.statusCode).toBe(400);
    expect(deactivate.body).toContain('You are the partnership’s only coordinator');
    expect(deactivate.body).toContain('href="#confirm"');
    expect(deactivate.body).toContain('id="confirm"');
    const demote = (await makePartner(coordinator, id)).changed;
    expect(demote.statusCode).toBe(400);
    expect(demote.body).toContain('You are the partnership’s only coordinator');
    expect((await coordinator.get('/p/sosafe/people')).statusCode).toBe(200);
  });
});
