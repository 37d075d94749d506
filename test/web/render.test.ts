import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { OneLinePerRequest, redactTokens } from '../../src/web/app.js';
import { makeAbbreviator, textHelpers } from '../../src/web/render.js';

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
