import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DEMO, Session, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const base = '/p/sosafe/plans/2024-25';

describe('the plan pages, signed in as a partner', () => {
  let s: Session;
  beforeAll(async () => {
    s = new Session(t.app);
    await s.signIn(DEMO.partner);
  });

  it('sends a signed-out reader to sign in, and back afterwards', async () => {
    const anon = new Session(t.app);
    const response = await anon.get(`${base}/aims/3.1`);
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe(`/sign-in?returnTo=${encodeURIComponent(`${base}/aims/3.1`)}`);
  });

  it('the plan shows every section and aim, with the latest progress', async () => {
    const response = await s.get(base);
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain(
      'Divert young people from becoming involved in crime and <abbr title="Anti-social behaviour">ASB</abbr>',
    );
    for (const n of ['1.1', '2.4', '3.1', '4.0', '4.1', '5.0', '5.7'])
      expect(response.body).toContain(`data-testid="aim-${n}"`);
    // 1.1's latest progress is its Q3 text.
    expect(response.body).toContain('Promotion of NMSY at Jackmans community day in Letchworth');
    expect(response.body).toContain('Added August 2024');
  });

  it('an aim shows each action with its lead and its progress by quarter', async () => {
    const response = await s.get(`${base}/aims/3.1`);
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain(
      'Training and ongoing work with the NHS at the Lister to encourage the reporting of hate crime',
    );
    expect(response.body).toContain('Helen Whitehead');
    expect(response.body.match(/data-testid="action-\d"/g)).toHaveLength(3);
    // A partner cannot record progress.
    expect(response.body).not.toContain('Record progress');
  });

  it('marks abbreviations with their meaning, escaped', async () => {
    const response = await s.get(`${base}/aims/2.1`);
    expect(response.body).toContain('<abbr title="Survivors Against Domestic Abuse">SADA</abbr>');
  });

  it('the document view filters by lead organisation and quarter, from the address', async () => {
    const all = await s.get(`${base}/document`);
    expect(all.body).toContain('Showing all 34 actions');
    const lead = /<option value="(\d+)">SADA<\/option>/.exec(all.body)?.[1];
    expect(lead).toBeDefined();
    const filtered = await s.get(`${base}/document?lead=${lead}&quarter=3`);
    expect(filtered.statusCode).toBe(200);
    expect(filtered.body).toContain('Work has commenced with the food bank at North Herts');
    expect(filtered.body).not.toContain('data-testid="row-3.1"');
    expect(filtered.body).not.toContain('Funding received to continue with the work with children');
  });

  it('search finds text in progress and links to its aim', async () => {
    const response = await s.get(`${base}/search?q=${encodeURIComponent('Jackmans')}`);
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain(`href="${base}/aims/1.1"`);
    expect(response.body).toContain('<mark>Jackmans</mark>');
  });

  it('search escapes what it shows', async () => {
    const response = await s.get(`${base}/search?q=${encodeURIComponent('<script>alert(1)</script>')}`);
    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain('<script>alert(1)</script>');
  });

  it('an organisation page lists what it leads and partners on', async () => {
    const list = await s.get(`${base}/organisations`);
    const id = /href="[^"]+\/organisations\/(\d+)"><abbr title="Survivors Against Domestic Abuse">SADA/.exec(
      list.body,
    )?.[1];
    expect(id).toBeDefined();
    const page = await s.get(`${base}/organisations/${id}`);
    expect(page.body).toContain(
      '2.2 Expansion of <abbr title="Survivors Against Domestic Abuse">SADA</abbr> refuge provision',
    );
  });

  it('about the plan shows priorities with their aims, objectives, principles and glossary', async () => {
    const response = await s.get(`${base}/about`);
    expect(response.body).toContain(
      'Fraud has been added following strategic conversations at the SoSafe meeting',
    );
    expect(response.body).toContain('Understand the underlining causes');
    expect(response.body).toContain('Early intervention is usually a better solution than intervention.');
    expect(response.body).toContain('Welwyn Hatfield Borough Council');
  });
});

describe('recording progress', () => {
  it('a lead officer adds a Q4 update to an action she leads, and it shows on the plan', async () => {
    const s = new Session(t.app);
    await s.signIn(DEMO.lead);
    const aim = await s.get(`${base}/aims/3.1`);
    const actionId = /actions\/(\d+)\/progress\?quarter=4" data-testid="add-q4-1"/.exec(aim.body)?.[1];
    expect(actionId).toBeDefined();
    const saved = await s.post(`${base}/actions/${actionId}/progress?quarter=4`, {
      quarter: '4',
      status: 'on_track',
      text: 'Hate crime reporting centres refreshed & relaunched <b>in March</b>',
    });
    expect(saved.statusCode).toBe(303);
    const plan = await s.get(base);
    expect(plan.body).toContain(
      'Hate crime reporting centres refreshed &amp; relaunched &lt;b&gt;in March&lt;/b&gt;',
    );
    expect(plan.body).toMatch(
      /data-testid="aim-3.1-status"><strong class="govuk-tag govuk-tag--green">On track/,
    );
  });

  it('refuses a lead officer on an action she does not lead, even by address', async () => {
    const s = new Session(t.app);
    await s.signIn(DEMO.lead);
    const coordinator = new Session(t.app);
    await coordinator.signIn(DEMO.coordinator);
    const aim = await coordinator.get(`${base}/aims/2.1`);
    const actionId = /actions\/(\d+)\/progress/.exec(aim.body)?.[1];
    expect(actionId).toBeDefined();
    expect((await s.get(`${base}/actions/${actionId}/progress`)).statusCode).toBe(403);
    const form = await s.get(`${base}/aims/3.1`);
    const token = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
    const attempt = await s.postRaw(`${base}/actions/${actionId}/progress`, {
      _csrf: token,
      quarter: '4',
      status: 'complete',
      text: 'not mine',
    });
    expect(attempt.statusCode).toBe(403);
    expect((await coordinator.get(`${base}/aims/2.1`)).body).not.toContain('not mine');
  });

  it('shows the error summary and keeps what was typed', async () => {
    const s = new Session(t.app);
    await s.signIn(DEMO.coordinator);
    const aim = await s.get(`${base}/aims/1.1`);
    const actionId = /actions\/(\d+)\/progress/.exec(aim.body)![1];
    const response = await s.post(`${base}/actions/${actionId}/progress`, {
      quarter: '4',
      text: 'Half written',
    });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('There is a problem');
    expect(response.body).toContain('href="#status"');
    expect(response.body).toContain('Half written');
  });

  it('a form without its CSRF token is refused and changes nothing', async () => {
    const s = new Session(t.app);
    await s.signIn(DEMO.coordinator);
    const aim = await s.get(`${base}/aims/1.1`);
    const actionId = /actions\/(\d+)\/progress/.exec(aim.body)![1];
    const response = await s.postRaw(`${base}/actions/${actionId}/progress`, {
      quarter: '4',
      status: 'complete',
      text: 'no token',
    });
    expect(response.statusCode).toBe(403);
    expect((await s.get(`${base}/aims/1.1`)).body).not.toContain('no token');
  });

  it('a stale save is a conflict that keeps both versions', async () => {
    const a = new Session(t.app);
    await a.signIn(DEMO.coordinator);
    const aim = await a.get(`${base}/aims/1.2`);
    const actionId = /actions\/(\d+)\/progress/.exec(aim.body)![1];
    const formUrl = `${base}/actions/${actionId}/progress?quarter=3`;
    const first = await a.get(formUrl);
    const version = /name="version" value="(\d+)"/.exec(first.body)![1]!;
    const token = /name="_csrf" value="([^"]+)"/.exec(first.body)![1]!;
    const b = new Session(t.app);
    await b.signIn(DEMO.coordinator);
    expect(
      (await b.post(formUrl, { quarter: '3', status: 'at_risk', text: 'B was first', version })).statusCode,
    ).toBe(303);
    const stale = await a.postRaw(`${base}/actions/${actionId}/progress`, {
      _csrf: token,
      quarter: '3',
      status: 'complete',
      text: 'A typed this',
      version,
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.body).toContain('Someone else changed this update');
    expect(stale.body).toContain('B was first');
    expect(stale.body).toContain('A typed this');
  });
});

describe('signing in', () => {
  it('says the same, with the same status, for an unknown address and a wrong password', async () => {
    const unknown = await new Session(t.app).post('/sign-in', {
      email: 'nobody@nowhere.example',
      password: 'whatever it is',
    });
    const wrong = await new Session(t.app).post('/sign-in', {
      email: DEMO.partner,
      password: 'not the password',
    });
    expect(unknown.statusCode).toBe(401);
    expect(wrong.statusCode).toBe(401);
    const message = (body: string) =>
      /govuk-error-summary__list[\s\S]*?<a href="#email">([^<]+)<\/a>/.exec(body)?.[1];
    expect(message(unknown.body)).toBe('The email address or password is not right');
    expect(message(wrong.body)).toBe(message(unknown.body));
  });

  it('asks for what is missing', async () => {
    const response = await new Session(t.app).post('/sign-in', { email: '', password: '' });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('Enter your email address');
    expect(response.body).toContain('Enter your password');
  });
});

describe('guessing a password', () => {
  it('locks an account out after 10 attempts in 10 minutes, with a clear message', async () => {
    const s = new Session(t.app);
    for (let i = 0; i < 10; i++) {
      expect((await s.post('/sign-in', { email: DEMO.board, password: `guess ${i}` })).statusCode).toBe(401);
    }
    const locked = await s.post('/sign-in', { email: DEMO.board, password: 'guess 11' });
    expect(locked.statusCode).toBe(429);
    expect(locked.body).toContain('Too many attempts');
    // Another account from the same address is not locked out.
    expect(
      (await new Session(t.app).post('/sign-in', { email: DEMO.partner, password: 'wrong again' }))
        .statusCode,
    ).toBe(401);
  });
});
