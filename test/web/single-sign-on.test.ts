/**
 * Single sign-on against a real OpenID provider (oidc-provider) on 127.0.0.1: the app listens on
 * its own port, and a cookie-keeping HTTP client walks the whole journey as a browser would,
 * through the provider's login and consent pages and back.
 */
import { and, desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as t from '../../src/db/schema.js';
import { emailFromClaims } from '../../src/services/oidc.js';
import { findFreePort } from '../support/processes.js';
import { createTestApp, DEMO, Session, type TestApp } from '../support/app.js';
import { CookieClient, redirectTarget } from '../support/cookie-client.js';
import { startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.js';

const LABEL = 'Sign in with your council account';
const PLAN = '/p/sosafe/plans/2024-25';
const NO_ACCOUNT = 'Ask your partnership’s coordinator to invite you.';

function decodeHtml(text: string): string {
  return text
    .replace(/&#x2F;/gi, '/')
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

describe('single sign-on with an OpenID provider', () => {
  let provider: TestOidcProvider;
  let testApp: TestApp;
  let baseUrl: string;
  let callbackPath: string;

  beforeAll(async () => {
    provider = await startOidcProvider();
    const port = await findFreePort();
    baseUrl = `http://127.0.0.1:${port}`;
    callbackPath = '/sign-in/sso/callback';
    testApp = await createTestApp({
      env: {
        OIDC_ISSUER: provider.issuer,
        OIDC_CLIENT_ID: provider.clientId,
        OIDC_CLIENT_SECRET: provider.clientSecret,
        OIDC_LABEL: LABEL,
        PUBLIC_URL: baseUrl,
      },
    });
    await provider.register(`${baseUrl}${callbackPath}`);
    await testApp.app.listen({ host: '127.0.0.1', port });
    provider.accounts.set('helen-at-ccsu', DEMO.lead);
    provider.accounts.set('someone-else-at-ccsu', DEMO.lead);
    provider.accounts.set('stranger', 'Nobody@Elsewhere.example');
    provider.accounts.set('new-officer', 'Sam.Newcomer@Herts.example');
    provider.accounts.set('late-officer', 'late.officer@herts.example');
  });
  afterAll(async () => {
    await testApp?.close();
    await provider?.close();
  });

  /**
   * From `startPath` on the app, through the provider's login (as `subject`) and consent pages,
   * to the moment the provider sends the browser back: returns that callback address, unvisited.
   */
  async function throughProvider(client: CookieClient, subject: string, startPath = '/sign-in/sso') {
    let url = `${baseUrl}${startPath}`;
    let response = await client.get(url);
    for (let step = 0; step < 20; step++) {
      const next = redirectTarget(url, response);
      if (next) {
        await response.body?.cancel();
        if (next.startsWith(`${baseUrl}${callbackPath}`)) return next;
        url = next;
        response = await client.get(url);
        continue;
      }
      const html = await response.text();
      if (response.status !== 200)
        throw new Error(`${url} answered ${response.status}: ${html.slice(0, 800)}`);
      const action = /<form[^>]*\saction="([^"]+)"/.exec(html)?.[1];
      const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
      if (!action || !prompt) throw new Error(`No login or consent form at ${url}: ${html.slice(0, 800)}`);
      const target = new URL(decodeHtml(action), url).href;
      response = await client.postForm(
        target,
        prompt === 'login' ? { prompt, login: subject, password: 'any password will do' } : { prompt },
      );
      url = target;
    }
    throw new Error(`The provider did not send the browser back to the app (last at ${url})`);
  }

  async function isSignedIn(client: CookieClient): Promise<boolean> {
    const response = await client.get(`${baseUrl}/`);
    await response.body?.cancel();
    return !(response.status === 302 && response.headers.get('location') === '/sign-in');
  }

  async function userByEmail(email: string) {
    const [user] = await testApp.database.db.select().from(t.users).where(eq(t.users.email, email));
    return user;
  }

  async function identitiesOf(userId: number) {
    return testApp.database.db.select().from(t.userIdentities).where(eq(t.userIdentities.userId, userId));
  }

  async function invite(email: string, name: string, expiresAt: Date) {
    const [sosafe] = await testApp.database.db
      .select({ id: t.partnerships.id })
      .from(t.partnerships)
      .where(eq(t.partnerships.slug, 'sosafe'));
    const [row] = await testApp.database.db
      .insert(t.invitations)
      .values({
        partnershipId: sosafe!.id,
        email,
        name,
        role: 'partner',
        tokenHash: `${email}-${expiresAt.getTime()}`,
        expiresAt,
      })
      .returning({ id: t.invitations.id });
    return row!.id;
  }

  it('offers the single sign-on button on the sign-in page, carrying where to go next', async () => {
    const page = await new Session(testApp.app).get(`/sign-in?returnTo=${encodeURIComponent(PLAN)}`);
    expect(page.statusCode).toBe(200);
    const button = /<a [^>]*data-testid="sign-in-sso"[^>]*>[\s\S]*?<\/a>/.exec(page.body)?.[0] ?? '';
    expect(button).toContain(LABEL);
    expect(button).toContain(`href="/sign-in/sso?returnTo=${encodeURIComponent(PLAN)}"`);
    expect(button).toContain('govuk-button--secondary');
  });

  it('sends a person to the provider with PKCE, state and nonce', async () => {
    const response = await new CookieClient().get(`${baseUrl}/sign-in/sso`);
    expect(response.status).toBe(302);
    const to = new URL(response.headers.get('location')!);
    expect(`${to.protocol}//${to.host}`).toBe(provider.issuer);
    expect(to.searchParams.get('client_id')).toBe(provider.clientId);
    expect(to.searchParams.get('redirect_uri')).toBe(`${baseUrl}${callbackPath}`);
    expect(to.searchParams.get('response_type')).toBe('code');
    expect(to.searchParams.get('code_challenge_method')).toBe('S256');
    expect(to.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(to.searchParams.get('state')).toMatch(/^[\w-]{20,}$/);
    expect(to.searchParams.get('nonce')).toMatch(/^[\w-]{20,}$/);
    expect(to.searchParams.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['openid', 'email']));
  });

  it('signs in the lead officer through the provider and lands on the plan, linking her identity', async () => {
    const helen = (await userByEmail(DEMO.lead))!;
    expect(await identitiesOf(helen.id)).toEqual([]);

    const client = new CookieClient();
    const callback = await throughProvider(
      client,
      'helen-at-ccsu',
      `/sign-in/sso?returnTo=${encodeURIComponent(PLAN)}`,
    );
    const landing = await client.get(callback);
    expect(landing.status).toBe(302);
    expect(landing.headers.get('location')).toBe(PLAN);

    const plan = await client.get(`${baseUrl}${PLAN}`);
    expect(plan.status).toBe(200);
    const html = await plan.text();
    expect(html).toContain('Action plan 2024/25');
    expect(html).toContain('Helen Whitehead');
    expect(html).toContain('Sign out');

    const identities = await identitiesOf(helen.id);
    expect(identities).toHaveLength(1);
    expect(identities[0]).toMatchObject({ issuer: provider.issuer, subject: 'helen-at-ccsu' });

    const [event] = await testApp.database.db
      .select()
      .from(t.auditEvents)
      .where(and(eq(t.auditEvents.kind, 'user.signed_in'), eq(t.auditEvents.actorUserId, helen.id)))
      .orderBy(desc(t.auditEvents.id))
      .limit(1);
    expect(event).toMatchObject({
      entity: 'user',
      entityId: String(helen.id),
      actorLabel: 'Helen Whitehead',
    });
    expect(event!.partnershipId).not.toBeNull();
    expect(event!.after).toMatchObject({ method: 'single sign-on', issuer: provider.issuer, firstUse: true });
  });

  it('signs her in again with the same identity, without linking it twice', async () => {
    const client = new CookieClient();
    const landing = await client.get(await throughProvider(client, 'helen-at-ccsu'));
    expect(landing.status).toBe(302);
    expect(landing.headers.get('location')).toBe('/');
    expect(await isSignedIn(client)).toBe(true);
    expect(await identitiesOf((await userByEmail(DEMO.lead))!.id)).toHaveLength(1);
  });

  it('refuses a different identity at the provider claiming her email address', async () => {
    const client = new CookieClient();
    const answer = await client.get(await throughProvider(client, 'someone-else-at-ccsu'));
    expect(answer.status).toBe(403);
    const html = await answer.text();
    expect(html).toContain('This account is linked to someone else’s sign-in');
    expect(html).toContain(DEMO.lead);
    expect(await isSignedIn(client)).toBe(false);
    const identities = await identitiesOf((await userByEmail(DEMO.lead))!.id);
    expect(identities.map((i) => i.subject)).toEqual(['helen-at-ccsu']);
  });

  it('tells a person with no account or invitation to ask the coordinator, and does not sign them in', async () => {
    const client = new CookieClient();
    const answer = await client.get(await throughProvider(client, 'stranger'));
    expect(answer.status).toBe(403);
    const html = await answer.text();
    expect(html).toContain(
      `There is no account for nobody@elsewhere.example in Partnership Plan. ${NO_ACCOUNT}`,
    );
    expect(await isSignedIn(client)).toBe(false);
    expect(await userByEmail('nobody@elsewhere.example')).toBeUndefined();
    const links = await testApp.database.db
      .select()
      .from(t.userIdentities)
      .where(eq(t.userIdentities.subject, 'stranger'));
    expect(links).toEqual([]);
  });

  it('refuses a callback whose state was tampered with, and the genuine one cannot be replayed after', async () => {
    const client = new CookieClient();
    const callback = new URL(await throughProvider(client, 'helen-at-ccsu'));
    const tampered = new URL(callback);
    tampered.searchParams.set('state', 'not-the-state-we-sent');
    const answer = await client.get(tampered.href);
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('Your sign-in could not be completed');
    expect(await isSignedIn(client)).toBe(false);

    const replay = await client.get(callback.href);
    expect(replay.status).toBe(400);
    await replay.body?.cancel();
    expect(await isSignedIn(client)).toBe(false);
  });

  it('refuses a callback with no state', async () => {
    const client = new CookieClient();
    const callback = new URL(await throughProvider(client, 'helen-at-ccsu'));
    callback.searchParams.delete('state');
    const answer = await client.get(callback.href);
    expect(answer.status).toBe(400);
    await answer.body?.cancel();
    expect(await isSignedIn(client)).toBe(false);
  });

  it('refuses a callback in a browser that never started a sign-in', async () => {
    const callback = await throughProvider(new CookieClient(), 'helen-at-ccsu');
    const elsewhere = new CookieClient();
    const answer = await elsewhere.get(callback);
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('Start signing in again');
    expect(await isSignedIn(elsewhere)).toBe(false);
  });

  it('reports a sign-in cancelled at the provider', async () => {
    const client = new CookieClient();
    const callback = new URL(await throughProvider(client, 'helen-at-ccsu'));
    const cancelled = new URL(callback.pathname, baseUrl);
    cancelled.searchParams.set('error', 'access_denied');
    cancelled.searchParams.set('state', callback.searchParams.get('state')!);
    cancelled.searchParams.set('iss', callback.searchParams.get('iss') ?? provider.issuer);
    const answer = await client.get(cancelled.href);
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('The sign-in was cancelled');
    expect(await isSignedIn(client)).toBe(false);
  });

  it('accepts a pending invitation: makes the account without a password, with the invited role', async () => {
    const invitationId = await invite(
      'sam.newcomer@herts.example',
      'Sam Newcomer',
      new Date(Date.now() + 86_400_000),
    );
    const client = new CookieClient();
    const landing = await client.get(await throughProvider(client, 'new-officer'));
    expect(landing.status).toBe(302);
    expect(await isSignedIn(client)).toBe(true);

    const sam = (await userByEmail('sam.newcomer@herts.example'))!;
    expect(sam).toMatchObject({ name: 'Sam Newcomer', passwordHash: null, deactivatedAt: null });
    const memberships = await testApp.database.db
      .select()
      .from(t.memberships)
      .where(eq(t.memberships.userId, sam.id));
    expect(memberships).toHaveLength(1);
    expect(memberships[0]).toMatchObject({ role: 'partner', deactivatedAt: null });
    const [invitation] = await testApp.database.db
      .select()
      .from(t.invitations)
      .where(eq(t.invitations.id, invitationId));
    expect(invitation!.acceptedAt).toBeInstanceOf(Date);
    expect(await identitiesOf(sam.id)).toMatchObject([{ subject: 'new-officer' }]);
    const accepted = await testApp.database.db
      .select()
      .from(t.auditEvents)
      .where(and(eq(t.auditEvents.kind, 'invitation.accepted'), eq(t.auditEvents.actorUserId, sam.id)));
    expect(accepted).toHaveLength(1);
  });

  it('refuses an invitation that has expired', async () => {
    await invite('late.officer@herts.example', 'Late Officer', new Date(Date.now() - 60_000));
    const client = new CookieClient();
    const answer = await client.get(await throughProvider(client, 'late-officer'));
    expect(answer.status).toBe(403);
    expect(await answer.text()).toContain(
      `There is no account for late.officer@herts.example in Partnership Plan.`,
    );
    expect(await isSignedIn(client)).toBe(false);
    expect(await userByEmail('late.officer@herts.example')).toBeUndefined();
  });

  it('sends a person who is already signed in straight on', async () => {
    const client = new CookieClient();
    await client.get(await throughProvider(client, 'helen-at-ccsu'));
    const again = await client.get(`${baseUrl}/sign-in/sso?returnTo=${encodeURIComponent(PLAN)}`);
    expect(again.status).toBe(302);
    expect(again.headers.get('location')).toBe(PLAN);
  });
});

describe('single sign-on while the provider is unavailable', () => {
  let provider: TestOidcProvider;
  let testApp: TestApp;

  beforeAll(async () => {
    provider = await startOidcProvider();
    testApp = await createTestApp({
      env: {
        OIDC_ISSUER: provider.issuer,
        OIDC_CLIENT_ID: provider.clientId,
        OIDC_CLIENT_SECRET: provider.clientSecret,
      },
    });
  });
  afterAll(async () => {
    await testApp?.close();
    await provider?.close();
  });

  it('shows an error page, keeps password sign-in working, and tries again on the next visit', async () => {
    const session = new Session(testApp.app);
    const down = await session.get('/sign-in/sso');
    expect(down.statusCode).toBe(503);
    expect(down.body).toContain('Single sign-on is not working at the moment');
    const signIn = await session.get('/sign-in');
    expect(signIn.statusCode).toBe(200);
    expect(signIn.body).toContain('data-testid="sign-in-sso"');

    // Without PUBLIC_URL, the callback address is the one the request came to.
    await provider.register('http://localhost/sign-in/sso/callback');
    const up = await session.get('/sign-in/sso');
    expect(up.statusCode).toBe(302);
    const to = new URL(String(up.headers.location));
    expect(to.origin).toBe(provider.issuer);
    expect(to.searchParams.get('redirect_uri')).toBe('http://localhost/sign-in/sso/callback');
  });
});

describe('without single sign-on configured', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await createTestApp();
  });
  afterAll(async () => {
    await testApp?.close();
  });

  it('shows no single sign-on button, and both its addresses are not found', async () => {
    const session = new Session(testApp.app);
    const page = await session.get('/sign-in');
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('sign-in-sso');
    expect(page.body).not.toContain('/sign-in/sso');
    expect((await session.get('/sign-in/sso')).statusCode).toBe(404);
    expect((await session.get('/sign-in/sso/callback?code=x&state=y')).statusCode).toBe(404);
  });
});

describe('the email address in the ID token', () => {
  it('is `email`, lower-cased, else an Entra ID username that is an address', () => {
    expect(emailFromClaims({ email: 'Helen.Whitehead@SoSafe.example' })).toBe(
      'helen.whitehead@sosafe.example',
    );
    expect(emailFromClaims({ preferred_username: 'pat@police.example' })).toBe('pat@police.example');
    expect(emailFromClaims({ upn: 'Casey@Council.example' })).toBe('casey@council.example');
    expect(emailFromClaims({ preferred_username: 'not an address', upn: 'x@y.example' })).toBe('x@y.example');
    expect(emailFromClaims({ preferred_username: 'casey' })).toBeUndefined();
    expect(emailFromClaims({})).toBeUndefined();
  });

  it('does not use an email the provider says is unverified', () => {
    expect(emailFromClaims({ email: 'a@b.example', email_verified: false })).toBeUndefined();
    expect(emailFromClaims({ email: 'a@b.example', email_verified: false, upn: 'c@d.example' })).toBe(
      'c@d.example',
    );
  });
});
