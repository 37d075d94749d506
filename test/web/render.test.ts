import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import zlib from 'node:zlib';
import fastifyView from '@fastify/view';
import Fastify from 'fastify';
import nunjucks from 'nunjucks';
import { describe, expect, it, vi } from 'vitest';
import { OneLinePerRequest, redactTokens } from '../../src/web/app.js';
import {
  acceptsGzip,
  configureNunjucks,
  crc32Combine,
  crc32Shift,
  CSRF_HOLE,
  govukDir,
  KeptHtml,
  keptHeaders,
  makeAbbreviator,
  sendView,
  textHelpers,
  viewsDir,
  withKeptPartsInline,
} from '../../src/web/render.js';

const glossary = [
  { term: 'ASB', meaning: 'Anti-social behaviour' },
  { term: 'DA', meaning: 'Domestic Abuse' },
  { term: 'PCC', meaning: 'Police and Crime Commissioner' },
];

describe('plan text on pages', () => {
  it('marks whole-word abbreviations only', () => {
    const abbr = makeAbbreviator(glossary);
    expect(abbr('ASB and DA perps; DATA; PCCs')).toBe(
      '<abbr title="Anti-social behaviour">ASB</abbr> and <abbr title="Domestic Abuse">DA</abbr> perps; DATA; PCCs',
    );
  });

  it('escapes text before adding any markup', () => {
    const abbr = makeAbbreviator(glossary);
    expect(abbr('<img src=x onerror=alert(1)> ASB "quoted"')).toBe(
      '&lt;img src=x onerror=alert(1)&gt; <abbr title="Anti-social behaviour">ASB</abbr> &quot;quoted&quot;',
    );
  });

  it('splits paragraphs on blank lines and lists on lines', () => {
    const fmt = textHelpers(glossary);
    expect(String(fmt.paras('One\nline two\n\nTwo'))).toBe(
      '<p class="govuk-body">One<br>line two</p><p class="govuk-body">Two</p>',
    );
    expect(String(fmt.items(['A', 'B']))).toBe(
      '<ul class="govuk-list govuk-list--bullet"><li>A</li><li>B</li></ul>',
    );
    expect(String(fmt.items('Only'))).toBe('<p class="govuk-body">Only</p>');
  });
});

describe('request logs', () => {
  // app.js is imported with the file, not inside the test: loading the whole app takes seconds on a
  // busy machine, which a test's time limit must not count.
  it('do not carry the secret token of an invitation or reset link', () => {
    expect(redactTokens('/invitations/Zx9-secret_token?x=1')).toBe('/invitations/[token]?x=1');
    expect(redactTokens('/reset-password/secret')).toBe('/reset-password/[token]');
    expect(redactTokens('/p/sosafe/plans/2024-25')).toBe('/p/sosafe/plans/2024-25');
  });

  it('are one line a request, once answered: method, address, status, time taken and request id', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const app = Fastify({ logger: { level: 'info', stream }, logController: new OneLinePerRequest() });
    app.get('/p/:slug', async () => 'ok');
    app.get('/broken', async () => {
      throw new Error('broken');
    });
    await app.inject({ method: 'GET', url: '/p/sosafe?x=1' });
    await app.inject({ method: 'GET', url: '/broken' });
    await app.close();
    const requests = lines.filter((l) => l.reqId !== undefined);
    const completed = requests.filter((l) => l.msg === 'request completed');
    expect(completed).toHaveLength(2);
    expect(requests.some((l) => l.msg === 'incoming request')).toBe(false);
    const first = completed[0]!;
    expect(first.req).toMatchObject({ method: 'GET', url: '/p/sosafe?x=1' });
    expect(first.res).toEqual({ statusCode: 200 });
    expect(typeof first.responseTime).toBe('number');
    expect(completed[1]).toMatchObject({ req: { url: '/broken' }, res: { statusCode: 500 } });
    // The failed request's error line and its completed line share its id.
    const failedId = completed[1]!.reqId;
    expect(requests.filter((l) => l.reqId === failedId).length).toBeGreaterThanOrEqual(2);
  });
});

/** A bare app with one page (its template given) sent by sendView, as reply.page sends pages. */
async function pageApp(template: string, data: () => Record<string, unknown>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-parts-'));
  fs.writeFileSync(path.join(dir, 'page.njk'), template);
  const app = Fastify();
  await app.register(fastifyView, { engine: { nunjucks }, templates: [dir] });
  app.get('/', (_request, reply) => sendView(reply, 'page.njk', data()));
  app.addHook('onClose', () => fs.rmSync(dir, { recursive: true, force: true }));
  return app;
}

describe('kept parts of a page', () => {
  it('sends the part’s own text in its place, wherever the page puts it, beside escaped text', async () => {
    const part = new KeptHtml('<table><tr><td>Q3 – “on track” £5</td></tr></table>');
    const other = new KeptHtml('<svg>→</svg>');
    const app = await pageApp('<h1>{{ title }}</h1>{{ part }}<p>{{ note }}</p>{{ other }}{{ part }}', () => ({
      title: 'Dashboard · Q3',
      note: `<script>${String(part)}</script>`,
      part,
      other,
    }));
    const response = await app.inject({ url: '/' });
    const expected =
      '<h1>Dashboard · Q3</h1><table><tr><td>Q3 – “on track” £5</td></tr></table>' +
      `<p>&lt;script&gt;&lt;!--${String(part).slice(4, -3)}--&gt;&lt;/script&gt;</p>` +
      '<svg>→</svg><table><tr><td>Q3 – “on track” £5</td></tr></table>';
    expect(response.body).toBe(expected);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(Number(response.headers['content-length'])).toBe(Buffer.byteLength(expected));
    // The same page rendered whole, as one string, from the parts' text.
    const whole = nunjucks.renderString(
      '<h1>{{ title }}</h1>{{ part }}<p>{{ note }}</p>{{ other }}{{ part }}',
      withKeptPartsInline({ title: 'Dashboard · Q3', note: `<script>${String(part)}</script>`, part, other }),
    );
    expect(whole).toBe(expected);
    await app.close();
  });

  it('sends nothing of a kept part the template leaves out', async () => {
    const app = await pageApp('<p>{{ note }}</p>', () => ({
      note: 'a < b',
      unused: new KeptHtml('<b>hidden</b>'),
    }));
    const response = await app.inject({ url: '/' });
    expect(response.body).toBe('<p>a &lt; b</p>');
    await app.close();
  });

  it('gives each part a marker of its own', () => {
    expect(String(new KeptHtml('a'))).not.toBe(String(new KeptHtml('a')));
    expect(new KeptHtml('“quoted”').html()).toBe('“quoted”');
  });

  it('fills a kept form’s CSRF holes with each request’s own token', async () => {
    const form = new KeptHtml(
      `<form><input name="_csrf" value="${CSRF_HOLE}"></form>·<form><input name="_csrf" value="${CSRF_HOLE}"></form>`,
    );
    let n = 0;
    const app = await pageApp('<main>{{ form }}</main>', () => ({ form, csrfToken: `token-${++n}` }));
    for (const token of ['token-1', 'token-2']) {
      const response = await app.inject({ url: '/' });
      expect(response.body).toBe(
        `<main><form><input name="_csrf" value="${token}"></form>·<form><input name="_csrf" value="${token}"></form></main>`,
      );
    }
    expect(withKeptPartsInline({ form, csrfToken: 'inline' }).form!.toString()).toBe(
      '<form><input name="_csrf" value="inline"></form>·<form><input name="_csrf" value="inline"></form>',
    );
    const tokenless = await pageApp('<main>{{ form }}</main>', () => ({ form }));
    expect((await tokenless.inject({ url: '/' })).statusCode, 'a form with no token is a fault').toBe(500);
    await app.close();
    await tokenless.close();
  });
});

describe('pages gzipped for a browser that accepts it', () => {
  const CHROMIUM = 'gzip, deflate, br, zstd';

  it('reads which encodings a browser takes, q-values included', () => {
    expect(acceptsGzip(CHROMIUM)).toBe(true);
    expect(acceptsGzip('gzip')).toBe(true);
    expect(acceptsGzip('*')).toBe(true);
    expect(acceptsGzip('br;q=1.0, gzip;q=0.8, *;q=0.1')).toBe(true);
    expect(acceptsGzip(undefined)).toBe(false);
    expect(acceptsGzip('')).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
    expect(acceptsGzip('br, zstd')).toBe(false);
    expect(acceptsGzip('gzip;q=0, br')).toBe(false);
  });

  it('sends a page with kept parts and CSRF holes as one gzip body of the very same bytes', async () => {
    // A large kept part (compressed once), forms with holes (each answer's token a stored block),
    // text beyond ASCII on both sides of every seam, and a part at the very start of the page.
    const rows = Array.from(
      { length: 400 },
      (_, i) => `<tr><td>Aim ${i} – “on track”</td><td>£${i}</td></tr>`,
    );
    const table = new KeptHtml(`<table>${rows.join('')}</table>`);
    const form = new KeptHtml(
      `<form>’<input name="_csrf" value="${CSRF_HOLE}"></form><form><input name="_csrf" value="${CSRF_HOLE}">…</form>`,
    );
    let n = 0;
    const app = await pageApp(
      '{{ form }}<h1>{{ title }}</h1><p>{{ long }}</p>{{ table }}<p>{{ note }}</p>{{ form }}',
      () => ({
        title: 'Dashboard · Q3',
        long: 'é'.repeat(300),
        note: '<b>',
        table,
        form,
        csrfToken: `token-${++n}-’`,
      }),
    );
    const deflate = vi.spyOn(zlib, 'deflateRawSync');
    try {
      const text = await app.inject({ url: '/' });
      expect(text.headers['content-encoding']).toBeUndefined();
      expect(text.headers.vary).toBe('Accept-Encoding');
      const gzipped = await app.inject({ url: '/', headers: { 'accept-encoding': CHROMIUM } });
      expect(gzipped.headers['content-encoding']).toBe('gzip');
      expect(gzipped.headers.vary).toBe('Accept-Encoding');
      expect(gzipped.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(Number(gzipped.headers['content-length'])).toBe(gzipped.rawPayload.length);
      // gunzip checks the trailer's CRC-32 and length: a wrong one throws.
      const unzipped = zlib.gunzipSync(gzipped.rawPayload).toString('utf8');
      expect(unzipped).toBe(text.body.replaceAll('token-1-’', 'token-2-’'));
      expect(unzipped).toContain('<form>’<input name="_csrf" value="token-2-’"></form>');
      expect(gzipped.rawPayload.length).toBeLessThan(text.rawPayload.length / 5);
      // The parts' pieces were compressed for that answer; the next compresses only its own text.
      const tableBytes = table.pieces[0]!;
      const ofTable = () => deflate.mock.calls.filter(([bytes]) => bytes === tableBytes).length;
      expect(ofTable()).toBe(1);
      deflate.mockClear();
      const again = await app.inject({ url: '/', headers: { 'accept-encoding': 'gzip' } });
      expect(zlib.gunzipSync(again.rawPayload).toString('utf8')).toBe(
        unzipped.replaceAll('token-2-’', 'token-3-’'),
      );
      expect(ofTable()).toBe(0);
      expect(deflate.mock.calls.length, 'the page’s own long runs, no part').toBeGreaterThan(0);
    } finally {
      deflate.mockRestore();
      await app.close();
    }
  });

  it('gzips a page without kept parts; sends the text to a browser that refuses gzip', async () => {
    const app = await pageApp(
      '<main>{% for i in range(0, 200) %}<p>{{ i }} – {{ note }}</p>{% endfor %}</main>',
      () => ({
        note: '<script>',
      }),
    );
    const text = await app.inject({ url: '/' });
    expect(text.body).toContain('<p>199 – &lt;script&gt;</p>');
    const gzipped = await app.inject({ url: '/', headers: { 'accept-encoding': 'gzip' } });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(gzipped.rawPayload).toString('utf8')).toBe(text.body);
    for (const refused of ['gzip;q=0', 'identity', 'br']) {
      const response = await app.inject({ url: '/', headers: { 'accept-encoding': refused } });
      expect(response.headers['content-encoding'], refused).toBeUndefined();
      expect(response.body, refused).toBe(text.body);
    }
    await app.close();
  });

  it('compresses a part with many forms as one, whatever its tokens’ length', async () => {
    // The plan page: one kept part, a form for each of its actions, each with a CSRF hole.
    const actions = Array.from(
      { length: 40 },
      (_, i) =>
        `<li><h3>Action ${i + 1}: reduce repeat ASB – “hot spots”</h3><form method="post" action="/p/sosafe/actions/${i + 1}/comments">` +
        `<input type="hidden" name="_csrf" value="${CSRF_HOLE}"><textarea class="govuk-textarea" name="text"></textarea>` +
        '<button type="submit" class="govuk-button govuk-button--secondary" data-module="govuk-button">Add a comment</button></form></li>',
    );
    const plan = new KeptHtml(`<ol class="app-plan">${actions.join('')}</ol>`);
    let token = '';
    const app = await pageApp('<main>{{ plan }}</main>', () => ({ plan, csrfToken: token }));
    try {
      for (token of ['x'.repeat(36), 'y'.repeat(36), 'a-much-longer-token-’'.repeat(4), '', 'z'.repeat(36)]) {
        const text = await app.inject({ url: '/' });
        const gzipped = await app.inject({ url: '/', headers: { 'accept-encoding': 'gzip' } });
        expect(zlib.gunzipSync(gzipped.rawPayload).toString('utf8'), `token ${token}`).toBe(text.body);
        expect(text.body.split(`value="${token}"`).length - 1).toBe(40);
        if (token.length !== 36) continue;
        // As long as a CSRF token is. Each piece compressed apart could point back only into itself.
        const apart = plan.pieces
          .map((piece) => zlib.deflateRawSync(piece, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).length)
          .reduce((sum, length) => sum + length);
        expect(gzipped.rawPayload.length, `token ${token}`).toBeLessThan(apart / 2);
      }
    } finally {
      await app.close();
    }
  });

  it('combines CRC-32s as zlib would compute them over the bytes joined', () => {
    const random = (length: number) =>
      Buffer.from(Array.from({ length }, () => Math.floor(Math.random() * 256)));
    for (const [a, b] of [
      [0, 0],
      [0, 7],
      [5, 0],
      [1, 1],
      [300, 70_000],
      [70_000, 3],
      [12, 1_000_003],
    ] as const) {
      const first = random(a);
      const second = random(b);
      expect(crc32Combine(zlib.crc32(first), zlib.crc32(second), crc32Shift(b)), `${a} then ${b}`).toBe(
        zlib.crc32(Buffer.concat([first, second])),
      );
    }
  });

  it('keeps a Vary the route set, and adds Accept-Encoding to it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gzipped-pages-'));
    fs.writeFileSync(path.join(dir, 'page.njk'), '<p>{{ x }}</p>');
    const app = Fastify();
    await app.register(fastifyView, { engine: { nunjucks }, templates: [dir] });
    app.get('/', (_request, reply) => sendView(reply.header('vary', 'Cookie'), 'page.njk', { x: 1 }));
    const response = await app.inject({ url: '/', headers: { 'accept-encoding': 'gzip' } });
    expect(response.headers.vary).toBe('Cookie, Accept-Encoding');
    expect(zlib.gunzipSync(response.rawPayload).toString('utf8')).toBe('<p>1</p>');
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('the page header, made once and kept', () => {
  /** The app's own templates and Nunjucks set-up, as buildApp registers them. */
  async function viewsApp() {
    const app = Fastify();
    await app.register(fastifyView, {
      engine: { nunjucks },
      templates: [viewsDir, govukDir],
      options: { onConfigure: configureNunjucks },
    });
    await app.ready();
    return app;
  }

  const coordinatorPage = (name = 'Helen Whitehead') => ({
    serviceName: 'Partnership Plan',
    title: 'Page not found',
    base: '/p/sosafe/plans/2024-25',
    nav: 'dashboard',
    partnership: { id: 1, name: 'SoSafe Stevenage', slug: 'sosafe', area: 'Stevenage', notInHeader: 'x' },
    member: { partnershipId: 1, role: 'coordinator', organisation: 'SBC' },
    user: { id: 7, name, email: 'helen@example.org', partnerships: 2 },
    csrfToken: 'token-of-this-answer',
    cspNonce: 'nonce',
  });

  it('shows what the layout renders itself, with each answer’s own token', async () => {
    const app = await viewsApp();
    const header = keptHeaders((template, data) => app.view(template, data));
    const data = coordinatorPage('Ann <O’Brien>');
    const part = await header(data);
    expect(part).toBeInstanceOf(KeptHtml);
    const kept = await app.view('errors/not-found.njk', withKeptPartsInline({ ...data, headerHtml: part }));
    const itself = await app.view('errors/not-found.njk', data);
    expect(kept).toBe(itself);
    expect(kept).toContain('Ann &lt;O’Brien&gt; (coordinator)');
    expect(kept).toContain('value="token-of-this-answer"');
    expect(kept).toContain('href="/p/sosafe/audit"');
    expect(kept).toContain('href="/county"');
    await app.close();
  });

  it('is kept for what it shows: the same part again, a new one when its name, role or place changes', async () => {
    let renders = 0;
    const header = keptHeaders(async () => `<header>${++renders}</header>`, 3);
    const first = await header(coordinatorPage());
    // Fields the header does not show, and the token, do not make a new one.
    expect(await header({ ...coordinatorPage(), csrfToken: 'another token', title: 'Other' })).toBe(first);
    expect(
      await header({ ...coordinatorPage(), user: { ...coordinatorPage().user, email: 'new@example.org' } }),
    ).toBe(first);
    expect(renders).toBe(1);
    const renamed = await header(coordinatorPage('Helen Smith'));
    const otherNav = await header({ ...coordinatorPage(), nav: 'plan' });
    const partner = await header({ ...coordinatorPage(), member: { partnershipId: 1, role: 'partner' } });
    expect(new Set([first, renamed, otherNav, partner]).size).toBe(4);
    // Three kept: the least recently used (the first) went when the fourth was made.
    expect(await header(coordinatorPage())).not.toBe(first);
    expect(renders).toBe(5);
  });

  it('keeps the headers used last: a header shown again outlasts one made after it', async () => {
    let renders = 0;
    const header = keptHeaders(async () => `<header>${++renders}</header>`, 2);
    const first = await header(coordinatorPage('First'));
    const second = await header(coordinatorPage('Second'));
    expect(await header(coordinatorPage('First'))).toBe(first);
    await header(coordinatorPage('Third'));
    expect(await header(coordinatorPage('First'))).toBe(first);
    expect(await header(coordinatorPage('Second'))).not.toBe(second);
    expect(renders).toBe(4);
  });

  it('is not made for a page without a CSRF token, nor kept when its render fails', async () => {
    let fail = true;
    const header = keptHeaders(async () => {
      if (fail) throw new Error('template error');
      return '<header></header>';
    });
    expect(header({ ...coordinatorPage(), csrfToken: undefined })).toBeUndefined();
    await expect(header(coordinatorPage())).rejects.toThrow('template error');
    fail = false;
    expect(await header(coordinatorPage())).toBeInstanceOf(KeptHtml);
  });
});
