/**
 * The web layer's defences, tried as an attacker would: stored and reflected script in every
 * free-text field, forged form posts, the session cookie's flags, the Content-Security-Policy and
 * the other security headers, oversized bodies, and what a server error shows in production.
 */
import { count } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../../src/db/schema.js';
import { systemActor } from '../../src/services/actor.js';
import { findAim, type PlanTree } from '../../src/services/plan-read.js';
import { escapeHtml } from '../../src/domain/text.js';
import { createTestApp, DEMO, Session, TEST_PASSWORD, type TestApp } from '../support/app.js';

const base = '/p/sosafe/plans/2024-25';
const SCRIPT = '<script>alert(1)</script>';
const IMG = '"><img src=x onerror=alert(1)>';
const JS_URL = 'javascript:alert(1)';
/** What an attacker types into a field; the label says which field it went into. */
const attack = (label: string) => `${label} ${SCRIPT} ${IMG} ${JS_URL}`;

// ——— Reading a page's markup: its tags and their attributes, quoted values kept whole ———
interface Tag {
  name: string;
  attributes: Map<string, string>;
}

function tagsOf(html: string): Tag[] {
  const tagPattern =
    /<([a-zA-Z][\w:-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*\/?>/g;
  const attributePattern = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  return [...html.matchAll(tagPattern)].map((m) => ({
    name: m[1]!.toLowerCase(),
    attributes: new Map(
      [...(m[2] ?? '').matchAll(attributePattern)].map((a) => [
        a[1]!.toLowerCase(),
        a[2] ?? a[3] ?? a[4] ?? '',
      ]),
    ),
  }));
}

function scriptNonce(response: LightMyRequestResponse): string {
  const csp = String(response.headers['content-security-policy'] ?? '');
  const nonce = /script-src[^;]*'nonce-([^']+)'/.exec(csp)?.[1];
  if (!nonce) throw new Error(`No script nonce in the Content-Security-Policy: ${csp}`);
  return nonce;
}

/**
 * Nothing typed has become markup: no payload unescaped, no event-handler attribute, no
 * javascript: link, and every script is ours (from /public/, or inline with this response's nonce).
 */
function expectInert(response: LightMyRequestResponse, where: string): void {
  const body = response.body;
  expect(body, where).not.toContain(SCRIPT);
  expect(body, where).not.toContain('<img src=x');
  const nonce = scriptNonce(response);
  for (const tag of tagsOf(body)) {
    for (const [name, value] of tag.attributes) {
      expect(name, `${where}: <${tag.name} ${name}>`).not.toMatch(/^on/);
      if (['href', 'src', 'action', 'formaction'].includes(name)) {
        expect(value, `${where}: <${tag.name} ${name}>`).not.toMatch(/^\s*javascript:/i);
      }
    }
    if (tag.name === 'img') expect(tag.attributes.get('src'), where).not.toBe('x');
    if (tag.name === 'script') {
      const src = tag.attributes.get('src');
      if (src !== undefined) expect(src, where).toMatch(/^\/public\//);
      else expect(tag.attributes.get('nonce'), `${where}: an inline script without the nonce`).toBe(nonce);
    }
  }
}

/** The payload is on the page (so the check above means something), escaped. */
function expectShownEscaped(response: LightMyRequestResponse, label: string, where: string): void {
  expect(response.body, where).toContain(escapeHtml(`${label} ${SCRIPT}`));
}

async function auditCount(t: TestApp): Promise<number> {
  const [row] = await t.database.db.select({ n: count() }).from(auditEvents);
  return Number(row?.n ?? 0);
}

async function demoTree(t: TestApp): Promise<PlanTree> {
  return (await t.services.plans.openPlan(systemActor(), 'sosafe', '2024/25')).tree;
}

function tokenIn(page: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
  if (!token) throw new Error('No CSRF token on the page');
  return token;
}

function cookieOf(response: LightMyRequestResponse): string {
  const set = response.headers['set-cookie'];
  const cookie = (Array.isArray(set) ? set : [String(set ?? '')]).find((c) => c.startsWith('pp_session='));
  if (!cookie) throw new Error('No session cookie was set');
  return cookie;
}

describe('the app as it runs in development and tests', () => {
  let t: TestApp;
  let coordinator: Session;
  let partner: Session;
  let lead: Session;
  beforeAll(async () => {
    t = await createTestApp();
    coordinator = new Session(t.app);
    await coordinator.signIn(DEMO.coordinator);
    partner = new Session(t.app);
    await partner.signIn(DEMO.partner);
    lead = new Session(t.app);
    await lead.signIn(DEMO.lead);
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('script typed into any field stays text', () => {
    let sectionId: string;
    let actionId: number;
    let organisationId: number;

    beforeAll(async () => {
      const section = await coordinator.post(`${base}/sections/new`, {
        number: '7',
        title: attack('Section title'),
      });
      expect(section.statusCode).toBe(303);
      const plan = await coordinator.get(base);
      sectionId =
        /sections\/(\d+)\/aims\/new">Add an aim<span class="govuk-visually-hidden"> to section 7</.exec(
          plan.body,
        )![1]!;
      const aim = await coordinator.post(`${base}/sections/${sectionId}/aims/new`, {
        number: '7.1',
        title: attack('Aim title'),
      });
      expect(aim.statusCode).toBe(303);
      const action = await coordinator.post(`${base}/aims/7.1/actions/new`, {
        description: `${attack('Action description')}\nA second line ${IMG}`,
        leads: `${attack('Lead organisation').replace(JS_URL, '')}: ${attack('Lead officer')}`,
        partners: attack('Partner organisation').replace(JS_URL, ''),
        resources: attack('Resources'),
        expectedOutcomes: attack('Expected outcomes'),
      });
      expect(action.statusCode).toBe(303);

      const tree = await demoTree(t);
      const actionNode = findAim(tree, '7.1').aim.actions[0]!;
      actionId = actionNode.id;
      organisationId = actionNode.leads[0]!.organisationId;
      const progress = await coordinator.post(`${base}/actions/${actionId}/progress?quarter=1`, {
        quarter: '1',
        status: 'on_track',
        text: `${attack('Progress text')}\n\nAnother paragraph ${IMG}`,
      });
      expect(progress.statusCode).toBe(303);
    });

    it('the plan, as the coordinator and as a partner', async () => {
      for (const s of [coordinator, partner]) {
        const page = await s.get(base);
        expect(page.statusCode).toBe(200);
        expectInert(page, 'plan');
        expectShownEscaped(page, 'Section title', 'plan');
        expectShownEscaped(page, 'Aim title', 'plan');
        expectShownEscaped(page, 'Progress text', 'plan');
      }
    });

    it('the aim, with its action, leads, partners, resources, outcomes and progress', async () => {
      for (const s of [coordinator, partner]) {
        const page = await s.get(`${base}/aims/7.1`);
        expect(page.statusCode).toBe(200);
        expectInert(page, 'aim');
        for (const label of [
          'Aim title',
          'Action description',
          'Lead organisation',
          'Lead officer',
          'Partner organisation',
          'Resources',
          'Expected outcomes',
          'Progress text',
        ]) {
          expectShownEscaped(page, label, `aim: ${label}`);
        }
      }
    });

    it('the whole plan', async () => {
      const page = await partner.get(`${base}/document`);
      expect(page.statusCode).toBe(200);
      expectInert(page, 'document');
      for (const label of ['Section title', 'Aim title', 'Action description', 'Lead organisation'])
        expectShownEscaped(page, label, `document: ${label}`);
      // The filter lists organisations by name, in <option>s.
      const filtered = await partner.get(`${base}/document?lead=${organisationId}&section=7`);
      expectInert(filtered, 'document filtered');
      expectShownEscaped(filtered, 'Lead organisation', 'document filtered');
    });

    it('search: the results, their snippets, and the query shown back', async () => {
      for (const q of ['alert', 'script', 'onerror', attack('Query')]) {
        const page = await partner.get(`${base}/search?q=${encodeURIComponent(q)}`);
        expect(page.statusCode).toBe(200);
        expectInert(page, `search for ${q}`);
      }
      const results = await partner.get(`${base}/search?q=alert`);
      expect(results.body).toContain(`href="${base}/aims/7.1"`);
      expect(results.body).toContain('&lt;script&gt;');
      const reflected = await partner.get(`${base}/search?q=${encodeURIComponent(attack('Query'))}`);
      expectShownEscaped(reflected, 'Query', 'search query');
    });

    it('organisations, an organisation, and about the plan', async () => {
      const list = await partner.get(`${base}/organisations`);
      expectInert(list, 'organisations');
      expectShownEscaped(list, 'Lead organisation', 'organisations');
      expectShownEscaped(list, 'Partner organisation', 'organisations');
      const one = await partner.get(`${base}/organisations/${organisationId}`);
      expect(one.statusCode).toBe(200);
      expectInert(one, 'organisation');
      expectShownEscaped(one, 'Lead organisation', 'organisation');
      expectShownEscaped(one, 'Aim title', 'organisation');
      const about = await partner.get(`${base}/about`);
      expect(about.statusCode).toBe(200);
      expectInert(about, 'about');
    });

    it('the forms that show it again: change, archive and progress', async () => {
      const forms: [string, string[]][] = [
        [`${base}/sections/${sectionId}/edit`, ['Section title']],
        [`${base}/sections/${sectionId}/archive`, ['Section title']],
        [`${base}/sections/${sectionId}/aims/new`, []],
        [`${base}/aims/7.1/edit`, ['Aim title']],
        [`${base}/aims/7.1/archive`, ['Aim title']],
        [`${base}/aims/7.1/actions/new`, ['Aim title']],
        [
          `${base}/actions/${actionId}/edit`,
          [
            'Action description',
            'Lead organisation',
            'Partner organisation',
            'Resources',
            'Expected outcomes',
          ],
        ],
        [`${base}/actions/${actionId}/archive`, ['Action description']],
        [`${base}/actions/${actionId}/progress?quarter=1`, ['Action description', 'Progress text']],
        // The Q1 update shown as the previous one.
        [`${base}/actions/${actionId}/progress?quarter=2`, ['Progress text']],
      ];
      for (const [url, labels] of forms) {
        const page = await coordinator.get(url);
        expect(page.statusCode, url).toBe(200);
        expectInert(page, url);
        for (const label of labels) expectShownEscaped(page, label, `${url}: ${label}`);
      }
    });

    it('a form sent back with an error, and a conflict page, keep it as text', async () => {
      const invalid = await coordinator.post(`${base}/aims/7.1/edit`, {
        number: 'not a number',
        title: attack('Typed aim title'),
        version: '1',
      });
      expect(invalid.statusCode).toBe(400);
      expectInert(invalid, 'aim form with an error');
      expectShownEscaped(invalid, 'Typed aim title', 'aim form with an error');

      const form = await coordinator.get(`${base}/actions/${actionId}/edit`);
      const version = /name="version" value="(\d+)"/.exec(form.body)![1]!;
      const fields = {
        leads: 'SBC',
        partners: '',
        resources: '',
        expectedOutcomes: '',
        version,
      };
      const first = await coordinator.post(`${base}/actions/${actionId}/edit`, {
        ...fields,
        description: attack('Saved description'),
      });
      expect(first.statusCode).toBe(303);
      const stale = await coordinator.post(`${base}/actions/${actionId}/edit`, {
        ...fields,
        description: attack('Stale description'),
      });
      expect(stale.statusCode).toBe(409);
      expectInert(stale, 'action conflict');
      expectShownEscaped(stale, 'Saved description', 'action conflict: theirs');
      expectShownEscaped(stale, 'Stale description', 'action conflict: yours');

      const progressForm = await lead.get(`${base}/actions/${await firstActionOf('3.1')}/progress?quarter=1`);
      const progressVersion = /name="version" value="(\d+)"/.exec(progressForm.body)![1]!;
      const progressUrl = `${base}/actions/${await firstActionOf('3.1')}/progress`;
      const landed = await lead.postRaw(progressUrl, {
        _csrf: tokenIn(progressForm.body),
        quarter: '1',
        status: 'at_risk',
        text: attack('Their progress'),
        version: progressVersion,
      });
      expect(landed.statusCode).toBe(303);
      const conflict = await lead.postRaw(progressUrl, {
        _csrf: tokenIn(progressForm.body),
        quarter: '1',
        status: 'at_risk',
        text: attack('My progress'),
        version: progressVersion,
      });
      expect(conflict.statusCode).toBe(409);
      expectInert(conflict, 'progress conflict');
      expectShownEscaped(conflict, 'Their progress', 'progress conflict: theirs');
      expectShownEscaped(conflict, 'My progress', 'progress conflict: yours');
    });

    async function firstActionOf(aim: string): Promise<number> {
      return findAim(await demoTree(t), aim).aim.actions[0]!.id;
    }

    it('comments: on the aim’s comments page, and when archiving one', async () => {
      const added = await partner.post(`${base}/aims/7.1/comments`, { text: attack('Comment text') });
      expect(added.statusCode).toBe(303);
      for (const s of [partner, coordinator, lead]) {
        const page = await s.get(`${base}/aims/7.1/comments`);
        expect(page.statusCode).toBe(200);
        expectInert(page, 'comments');
        expectShownEscaped(page, 'Comment text', 'comments');
      }
      const list = await partner.get(`${base}/aims/7.1/comments`);
      const id = /comments\/(\d+)\/archive/.exec(list.body)?.[1];
      expect(id).toBeDefined();
      const confirm = await partner.get(`${base}/aims/7.1/comments/${id}/archive`);
      expect(confirm.statusCode).toBe(200);
      expectInert(confirm, 'archive a comment');
      expectShownEscaped(confirm, 'Comment text', 'archive a comment');
    });

    it('the aim’s history (word-level differences) and the audit trail', async () => {
      const history = await partner.get(`${base}/aims/7.1/history`);
      expect(history.statusCode).toBe(200);
      expectInert(history, 'history');
      expect(history.body).toContain(escapeHtml(SCRIPT));
      const trail = await coordinator.get('/p/sosafe/audit?kind=section.created');
      expect(trail.statusCode).toBe(200);
      expectInert(trail, 'audit trail');
      expectShownEscaped(trail, 'Section title', 'audit trail');
      const all = await coordinator.get('/p/sosafe/audit');
      expectInert(all, 'audit trail, unfiltered');
    });

    it('people: an invitation’s name, the outbox, the invitation page, and the account made from it', async () => {
      const invited = await coordinator.post('/p/sosafe/people/invite', {
        email: 'invited.attacker@example.org',
        name: attack('Invitee name'),
        role: 'partner',
      });
      expect(invited.statusCode).toBe(303);
      const people = await coordinator.get('/p/sosafe/people');
      expectInert(people, 'people');
      expectShownEscaped(people, 'Invitee name', 'people');
      const outbox = await coordinator.get('/p/sosafe/outbox');
      expectInert(outbox, 'outbox');
      expectShownEscaped(outbox, 'Invitee name', 'outbox');

      const token = /\/invitations\/([\w-]+)/.exec(outbox.body)?.[1];
      expect(token).toBeDefined();
      const invitee = new Session(t.app);
      const page = await invitee.get(`/invitations/${token}`);
      expect(page.statusCode).toBe(200);
      expectInert(page, 'invitation');
      expectShownEscaped(page, 'Invitee name', 'invitation');
      const joined = await invitee.post(`/invitations/${token}`, {
        name: attack('Account name'),
        password: 'a long enough password for this',
      });
      expect(joined.statusCode).toBe(303);
      for (const url of ['/account', base]) {
        const shown = await invitee.get(url);
        expect(shown.statusCode, url).toBe(200);
        expectInert(shown, url);
        expectShownEscaped(shown, 'Account name', url);
      }
      const forgot = await new Session(t.app).post('/forgot-password', { email: attack('Forgotten') });
      expect(forgot.statusCode).toBe(400);
      expectInert(forgot, 'forgot password');
      expectShownEscaped(forgot, 'Forgotten', 'forgot password');
    });

    it('what is typed never reaches a response header: an aim number with a line break', async () => {
      // The number is trimmed when saved; the redirect must use that, not the raw field (a raw
      // line break in Location made Node throw after the write, leaving the request unanswered).
      const added = await coordinator.post(`${base}/sections/${sectionId}/aims/new`, {
        number: '\r\n7.2 ',
        title: 'Pasted with a line break',
      });
      expect(added.statusCode).toBe(303);
      expect(added.headers.location).toBe(`${base}/aims/7.2`);
      const form = await coordinator.get(`${base}/aims/7.2/edit`);
      const changed = await coordinator.post(`${base}/aims/7.2/edit`, {
        number: '7.3\r\nSet-Cookie: pp_session=forged',
        title: 'Header injection attempt',
        version: /name="version" value="(\d+)"/.exec(form.body)![1]!,
      });
      expect(changed.statusCode).toBe(400);
      const renumbered = await coordinator.post(`${base}/aims/7.2/edit`, {
        number: ' 7.3\n',
        title: 'Renumbered',
        version: /name="version" value="(\d+)"/.exec(form.body)![1]!,
      });
      expect(renumbered.statusCode).toBe(303);
      expect(renumbered.headers.location).toBe(`${base}/aims/7.3`);
    });

    it('sign-in shows the email address typed back as text, and the return address safely', async () => {
      const anon = new Session(t.app);
      const failed = await anon.post('/sign-in', { email: attack('Email'), password: 'not the password' });
      expect(failed.statusCode).toBe(401);
      expectInert(failed, 'sign-in failed');
      expectShownEscaped(failed, 'Email', 'sign-in failed');

      const returnTo = `/${IMG}`;
      const page = await anon.get(`/sign-in?returnTo=${encodeURIComponent(returnTo)}`);
      expectInert(page, 'sign-in with a return address');
    });

    it('sign-in follows a return address only to a path of this site that a header can carry', async () => {
      const back = `${base}/search?q=hate%20crime&x=(1)`;
      const ok = await new Session(t.app).post('/sign-in', {
        email: DEMO.partner,
        password: TEST_PASSWORD,
        returnTo: back,
      });
      expect(ok.headers.location).toBe(back);

      const offSite = [JS_URL, '//evil.example/', 'https://evil.example/', '/\\evil.example'];
      // Characters a Location header cannot carry: Node refused to send the answer at all.
      const unsendable = ['/plan\u0001', '/caf\u00e9', '/a b', '/line\r\nSet-Cookie: x=y'];
      for (const returnTo of [...offSite, ...unsendable]) {
        const s = new Session(t.app);
        const response = await s.post('/sign-in', {
          email: DEMO.partner,
          password: TEST_PASSWORD,
          returnTo,
        });
        expect(response.statusCode).toBe(302);
        expect(response.headers.location, returnTo).toBe('/');
        // Signed in, the sign-in page sends on to the return address at once.
        const again = await s.get(`/sign-in?returnTo=${encodeURIComponent(returnTo)}`);
        expect(again.statusCode).toBe(302);
        expect(again.headers.location, returnTo).toBe('/');
      }
    });
  });

  describe('a form sent without its CSRF token is refused, and changes nothing', () => {
    it('the coordinator’s aim form: no token, a wrong token, another session’s token', async () => {
      const before = await auditCount(t);
      const form = await coordinator.get(`${base}/aims/3.1/edit`);
      const version = /name="version" value="(\d+)"/.exec(form.body)![1]!;
      const fields = { number: '3.1', title: 'Changed by a forged form', version };
      const anon = new Session(t.app);
      const othersToken = tokenIn((await anon.get('/sign-in')).body);
      const attempts = [
        await coordinator.postRaw(`${base}/aims/3.1/edit`, fields),
        await coordinator.postRaw(`${base}/aims/3.1/edit`, { _csrf: 'not-the-token', ...fields }),
        await coordinator.postRaw(`${base}/aims/3.1/edit`, { _csrf: `${tokenIn(form.body)}x`, ...fields }),
        await coordinator.postRaw(`${base}/aims/3.1/edit`, { _csrf: othersToken, ...fields }),
      ];
      for (const response of attempts) {
        expect(response.statusCode).toBe(403);
        expect(response.body).toContain('This form has expired');
      }
      expect(findAim(await demoTree(t), '3.1').aim.title).toBe('To promote reporting of Hate Crime.');
      expect((await coordinator.get(`${base}/aims/3.1`)).body).not.toContain('Changed by a forged form');
      expect(await auditCount(t)).toBe(before);
    });

    it('a token with no session cookie is refused', async () => {
      const form = await coordinator.get(`${base}/aims/3.1/edit`);
      const response = await t.app.inject({
        method: 'POST',
        url: `${base}/aims/3.1/edit`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({
          _csrf: tokenIn(form.body),
          number: '3.1',
          title: 'No cookie',
        }).toString(),
      });
      expect(response.statusCode).toBe(403);
    });

    it('a lead officer’s progress, without a token', async () => {
      const before = await auditCount(t);
      const actionId = findAim(await demoTree(t), '3.1').aim.actions[1]!.id;
      const response = await lead.postRaw(`${base}/actions/${actionId}/progress`, {
        quarter: '4',
        status: 'complete',
        text: 'Forged progress',
      });
      expect(response.statusCode).toBe(403);
      const action = findAim(await demoTree(t), '3.1').aim.actions[1]!;
      expect(action.progress.some((p) => p.text === 'Forged progress')).toBe(false);
      expect(await auditCount(t)).toBe(before);
    });

    it('signing out without a token leaves the session signed in', async () => {
      const s = new Session(t.app);
      await s.signIn(DEMO.board);
      const response = await s.postRaw('/sign-out', {});
      expect(response.statusCode).toBe(403);
      expect((await s.get(base)).statusCode).toBe(200);
    });

    it('signing in without a token does not sign in', async () => {
      const s = new Session(t.app);
      await s.get('/sign-in');
      const response = await s.postRaw('/sign-in', { email: DEMO.board, password: TEST_PASSWORD });
      expect(response.statusCode).toBe(403);
      const after = await s.get(base);
      expect(after.statusCode).toBe(302);
      expect(after.headers.location).toMatch(/^\/sign-in/);
    });
  });

  describe('the session cookie', () => {
    /** The partner signs in through the form with a new session: the sign-in page, and the POST's answer. */
    async function signInThroughTheForm() {
      const page = await t.app.inject({ method: 'GET', url: '/sign-in' });
      const response = await t.app.inject({
        method: 'POST',
        url: '/sign-in',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: cookieOf(page).split(';')[0]!,
        },
        payload: new URLSearchParams({
          _csrf: tokenIn(page.body),
          email: DEMO.partner,
          password: TEST_PASSWORD,
        }).toString(),
      });
      return { page, response };
    }

    it('is HttpOnly, SameSite=Lax and for the whole site; not Secure over plain HTTP', async () => {
      const page = await t.app.inject({ method: 'GET', url: '/sign-in' });
      const cookie = cookieOf(page);
      expect(cookie).toMatch(/;\s*HttpOnly/i);
      expect(cookie).toMatch(/;\s*SameSite=Lax/i);
      expect(cookie).toMatch(/;\s*Path=\/(;|$)/);
      expect(cookie).not.toMatch(/;\s*Secure/i);
    });

    it('keeps its flags when signing in starts a new session', async () => {
      const { page, response } = await signInThroughTheForm();
      expect(response.statusCode).toBe(302);
      const cookie = cookieOf(response);
      expect(cookie.split(';')[0]).not.toBe(cookieOf(page).split(';')[0]);
      expect(cookie).toMatch(/;\s*HttpOnly/i);
      expect(cookie).toMatch(/;\s*SameSite=Lax/i);
    });

    it('on PostgreSQL, a request that wrote marks the browser to be read afresh for a while; one that only read does not', async () => {
      const wroteMark = (response: LightMyRequestResponse) => {
        const set = response.headers['set-cookie'];
        return (Array.isArray(set) ? set : [String(set ?? '')]).find((c) => c.startsWith('pp_wrote='));
      };
      const { response: signIn } = await signInThroughTheForm();
      expect(signIn.statusCode).toBe(302);
      // The first page after signing in keeps the session's new CSRF secret (a write); the next only reads.
      const session = { cookie: cookieOf(signIn).split(';')[0]! };
      expect((await t.app.inject({ method: 'GET', url: base, headers: session })).statusCode).toBe(200);
      const read = await t.app.inject({ method: 'GET', url: base, headers: session });
      expect(read.statusCode).toBe(200);
      expect(wroteMark(read), 'a page that only read').toBeUndefined();
      if (t.database.kind === 'pglite') {
        // One process owns the embedded database and reads every write it made: no mark needed.
        expect(wroteMark(signIn)).toBeUndefined();
        return;
      }
      const mark = wroteMark(signIn)!;
      expect(mark).toMatch(/^pp_wrote=\d+;/);
      expect(Number(/^pp_wrote=(\d+)/.exec(mark)![1]) - Date.now()).toBeGreaterThan(20_000);
      expect(mark).toMatch(/;\s*Max-Age=30(;|$)/);
      expect(mark).toMatch(/;\s*HttpOnly/i);
      expect(mark).toMatch(/;\s*SameSite=Lax/i);
    });

    it('ignores X-Forwarded-Proto unless the app is told it is behind a proxy', async () => {
      const page = await t.app.inject({
        method: 'GET',
        url: '/sign-in',
        headers: { 'x-forwarded-proto': 'https' },
      });
      expect(cookieOf(page)).not.toMatch(/;\s*Secure/i);
    });
  });

  describe('headers', () => {
    it('a Content-Security-Policy with a fresh nonce for scripts and no unsafe-inline', async () => {
      const first = await partner.get(base);
      const second = await partner.get(base);
      for (const response of [first, second]) {
        const csp = String(response.headers['content-security-policy']);
        const directives = new Map(
          csp.split(';').map((d) => {
            const [name, ...values] = d.trim().split(/\s+/);
            return [name!, values];
          }),
        );
        const scriptSrc = directives.get('script-src') ?? [];
        expect(scriptSrc).toContain("'self'");
        expect(scriptSrc.some((v) => /^'nonce-[A-Za-z0-9+/=_-]{16,}'$/.test(v))).toBe(true);
        expect(scriptSrc).not.toContain("'unsafe-inline'");
        expect(scriptSrc).not.toContain("'unsafe-eval'");
        expect(directives.get('default-src')).toEqual(["'self'"]);
        expect(directives.get('object-src')).toEqual(["'none'"]);
        expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
        expect(directives.get('base-uri')).toEqual(["'self'"]);
        expect(directives.get('form-action')).toEqual(["'self'"]);
        // The page's inline script (GOV.UK Frontend's js-enabled class) carries that nonce.
        const nonce = scriptNonce(response);
        const inline = tagsOf(response.body).filter(
          (tag) => tag.name === 'script' && !tag.attributes.has('src'),
        );
        expect(inline.length).toBeGreaterThan(0);
        for (const tag of inline) expect(tag.attributes.get('nonce')).toBe(nonce);
        expectInert(response, 'plan');
      }
      expect(scriptNonce(first)).not.toBe(scriptNonce(second));
    });

    it('helmet’s headers; no HSTS outside production', async () => {
      for (const url of ['/sign-in', base, '/public/app.css', '/no-such-page']) {
        const response = await partner.get(url);
        expect(response.headers['x-content-type-options'], url).toBe('nosniff');
        expect(response.headers['x-frame-options'], url).toBe('SAMEORIGIN');
        expect(response.headers['referrer-policy'], url).toBe('no-referrer');
        expect(response.headers['cross-origin-opener-policy'], url).toBe('same-origin');
        expect(response.headers['x-powered-by'], url).toBeUndefined();
        expect(response.headers['strict-transport-security'], url).toBeUndefined();
      }
    });
  });

  describe('a request body over the limit (256 KB)', () => {
    it('is refused with 413, and nothing is written', async () => {
      const before = await auditCount(t);
      const form = await coordinator.get(`${base}/aims/3.1/edit`);
      const version = /name="version" value="(\d+)"/.exec(form.body)![1]!;
      const huge = 'x'.repeat(300 * 1024);
      const response = await coordinator.postRaw(`${base}/aims/3.1/edit`, {
        _csrf: tokenIn(form.body),
        number: '3.1',
        title: huge,
        version,
      });
      expect(response.statusCode).toBe(413);
      expect(response.body).toContain('Too much data');
      const json = await t.app.inject({
        method: 'POST',
        url: `${base}/aims/3.1/edit`,
        headers: { 'content-type': 'application/json', cookie: coordinator.cookie },
        payload: JSON.stringify({ _csrf: tokenIn(form.body), number: '3.1', title: huge, version }),
      });
      expect(json.statusCode).toBe(413);
      expect(findAim(await demoTree(t), '3.1').aim.title).toBe('To promote reporting of Hate Crime.');
      expect(await auditCount(t)).toBe(before);
    });
  });
});

describe('the app in production, behind an HTTPS proxy', () => {
  const INTERNALS = 'relation "secret_table" does not exist (select password_hash from users)';
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: { NODE_ENV: 'production', TRUST_PROXY: 'true' },
      // Search fails as a broken database would, to see what a server error shows.
      services: (services) => ({
        ...services,
        plans: {
          ...services.plans,
          searchPlan: () => Promise.reject(new Error(INTERNALS)),
        },
      }),
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const https = { 'x-forwarded-proto': 'https' };

  it('the session cookie is Secure, HttpOnly and SameSite=Lax over HTTPS', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/sign-in', headers: https });
    const cookie = cookieOf(page);
    expect(cookie).toMatch(/;\s*Secure/i);
    expect(cookie).toMatch(/;\s*HttpOnly/i);
    expect(cookie).toMatch(/;\s*SameSite=Lax/i);

    const signedIn = await t.app.inject({
      method: 'POST',
      url: '/sign-in',
      headers: {
        ...https,
        'content-type': 'application/x-www-form-urlencoded',
        cookie: cookie.split(';')[0]!,
      },
      payload: new URLSearchParams({
        _csrf: tokenIn(page.body),
        email: DEMO.partner,
        password: TEST_PASSWORD,
      }).toString(),
    });
    expect(signedIn.statusCode).toBe(302);
    expect(cookieOf(signedIn)).toMatch(/;\s*Secure/i);
  });

  it('sends HSTS, and the same Content-Security-Policy', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/sign-in', headers: https });
    expect(response.headers['strict-transport-security']).toMatch(/max-age=\d{7,}/);
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toMatch(/script-src 'self' 'nonce-/);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain('upgrade-insecure-requests');
  });

  it('a server error shows the error page and nothing of the internals', async () => {
    const partner = new Session(t.app);
    await partner.signIn(DEMO.partner);
    const response = await partner.get(`${base}/search?q=hate`);
    expect(response.statusCode).toBe(500);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toContain('Sorry, there is a problem with the service');
    for (const leak of ['secret_table', 'password_hash', 'Error:', 'search.ts', 'node_modules', '/work/']) {
      expect(response.body).not.toContain(leak);
    }
    expect(response.body).not.toMatch(/\bat .+:\d+:\d+/);
    expectInert(response, 'server error');
  });

  it('a 404 in production is the plain not-found page', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/no-such-page', headers: https });
    expect(response.statusCode).toBe(404);
    expect(response.body).toContain('Page not found');
  });
});
