import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DEMO, Session, type TestApp } from '../support/app.js';

let t: TestApp;
const s: Record<'coordinator' | 'lead' | 'partner' | 'board', Session> = {} as never;
beforeAll(async () => {
  t = await createTestApp();
  for (const role of ['coordinator', 'lead', 'partner', 'board'] as const) {
    s[role] = new Session(t.app);
    await s[role].signIn(DEMO[role]);
  }
});
afterAll(async () => {
  await t?.close();
});

const base = '/p/sosafe/plans/2024-25';
const audit = '/p/sosafe/audit';

/** The aim's sub-navigation links, as text. */
function tabs(body: string): string[] {
  const nav = /<nav class="app-sub-navigation[\s\S]*?<\/nav>/.exec(body)?.[0] ?? '';
  return [...nav.matchAll(/data-testid="tab-\w+">([^<]+)</g)].map((m) => m[1]!);
}

function trailRows(body: string): string[][] {
  return [...body.matchAll(/<tr class="govuk-table__row" data-testid="trail-row">([\s\S]*?)<\/tr>/g)].map(
    (row) =>
      [...row[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) =>
        cell[1]!.replace(/<[^>]+>/g, '').trim(),
      ),
  );
}

describe('an aim’s History', () => {
  it('shows a progress change made through the pages, with the person and a word diff', async () => {
    const aim = await s.lead.get(`${base}/aims/3.1`);
    const actionId = /actions\/(\d+)\/progress\?quarter=4" data-testid="add-q4-1"/.exec(aim.body)?.[1];
    expect(actionId).toBeDefined();
    const formUrl = `${base}/actions/${actionId}/progress?quarter=4`;
    expect(
      (await s.lead.post(formUrl, { quarter: '4', status: 'on_track', text: 'Courses have been run' }))
        .statusCode,
    ).toBe(303);
    const form = await s.lead.get(formUrl);
    const version = /name="version" value="(\d+)"/.exec(form.body)![1]!;
    expect(
      (await s.lead.post(formUrl, { quarter: '4', status: 'on_track', text: 'Courses were run', version }))
        .statusCode,
    ).toBe(303);

    const history = await s.partner.get(`${base}/aims/3.1/history`);
    expect(history.statusCode).toBe(200);
    expect(tabs(history.body)).toEqual(['Actions and progress', 'Comments (0)', 'History']);
    expect(history.body).toContain('aria-current="page" data-testid="tab-history">History</a>');
    const entry = /<li class="app-history__entry" data-testid="history-entry">([\s\S]*?)<\/li>/.exec(
      history.body,
    )![1]!;
    expect(entry).toContain('Changed the Q4 progress update');
    expect(entry).toContain('Action 1');
    expect(entry).toMatch(/data-testid="history-who">Helen Whitehead, <time datetime="[^"]+">/);
    expect(entry).toContain(
      'Courses <del><span class="govuk-visually-hidden">removed: </span>have been</del>',
    );
    expect(entry).toContain('<ins><span class="govuk-visually-hidden">added: </span>were</ins> run');
    // The first save is there too, and the import is the oldest entry.
    expect(history.body).toContain('Added the Q4 progress update');
    expect(history.body).toContain('Came in with the plan 2024/25');
  });

  it('shows text escaped', async () => {
    const aim = await s.coordinator.get(`${base}/aims/2.1`);
    const actionId = /actions\/(\d+)\/progress/.exec(aim.body)![1];
    const formUrl = `${base}/actions/${actionId}/progress?quarter=4`;
    const version = /name="version" value="(\d+)"/.exec((await s.coordinator.get(formUrl)).body)?.[1];
    const saved = await s.coordinator.post(formUrl, {
      quarter: '4',
      status: 'complete',
      text: 'Done <img src=x onerror=alert(1)>',
      ...(version ? { version } : {}),
    });
    expect(saved.statusCode).toBe(303);
    const history = await s.board.get(`${base}/aims/2.1/history`);
    expect(history.statusCode).toBe(200);
    expect(history.body).not.toContain('<img src=x');
    expect(history.body).toContain('Done &lt;img src=x onerror=alert(1)&gt;');
  });

  it('sends a signed-out reader to sign in', async () => {
    const response = await new Session(t.app).get(`${base}/aims/3.1/history`);
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe(
      `/sign-in?returnTo=${encodeURIComponent(`${base}/aims/3.1/history`)}`,
    );
  });

  it('is a 404 for an aim that does not exist', async () => {
    expect((await s.partner.get(`${base}/aims/9.9/history`)).statusCode).toBe(404);
  });
});

describe('comments', () => {
  it('a partner adds one; the lead officer and the coordinator see it and the count', async () => {
    const added = await s.partner.post(`${base}/aims/3.1/comments`, {
      text: 'The Lister sessions need a new date.',
    });
    expect(added.statusCode).toBe(303);
    expect(added.headers.location).toBe(`${base}/aims/3.1/comments#comments`);
    for (const who of [s.lead, s.coordinator, s.partner]) {
      const page = await who.get(`${base}/aims/3.1/comments`);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('The Lister sessions need a new date.');
      expect(page.body).toMatch(/Pat Partner, <abbr[^>]*>Police<\/abbr>|Pat Partner, Police/);
      expect(tabs((await who.get(`${base}/aims/3.1`)).body)).toEqual([
        'Actions and progress',
        'Comments (1)',
        'History',
      ]);
    }
  });

  it('the board gets no Comments link, and a 403 at the address', async () => {
    const aim = await s.board.get(`${base}/aims/3.1`);
    expect(aim.statusCode).toBe(200);
    expect(tabs(aim.body)).toEqual(['Actions and progress', 'History']);
    expect(aim.body).not.toContain('/comments');
    expect((await s.board.get(`${base}/aims/3.1/comments`)).statusCode).toBe(403);
    const token = /name="_csrf" value="([^"]+)"/.exec(aim.body)![1]!;
    const attempt = await s.board.postRaw(`${base}/aims/3.1/comments`, { _csrf: token, text: 'Board says' });
    expect(attempt.statusCode).toBe(403);
    expect((await s.partner.get(`${base}/aims/3.1/comments`)).body).not.toContain('Board says');
  });

  it('sends a signed-out reader to sign in', async () => {
    const response = await new Session(t.app).get(`${base}/aims/3.1/comments`);
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe(
      `/sign-in?returnTo=${encodeURIComponent(`${base}/aims/3.1/comments`)}`,
    );
  });

  it('renders a stored script attempt as text', async () => {
    const added = await s.partner.post(`${base}/aims/2.2/comments`, {
      text: '<script>alert("comment")</script> and <b onmouseover="x()">bold</b>',
    });
    expect(added.statusCode).toBe(303);
    const page = await s.lead.get(`${base}/aims/2.2/comments`);
    expect(page.body).not.toContain('<script>alert("comment")</script>');
    expect(page.body).not.toContain('<b onmouseover');
    expect(page.body).toContain('&lt;script&gt;alert(&quot;comment&quot;)&lt;/script&gt;');
  });

  it('shows the error summary and keeps what was typed', async () => {
    const empty = await s.partner.post(`${base}/aims/3.1/comments`, { text: '   ' });
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toContain('govuk-error-summary');
    expect(empty.body).toContain('<a href="#text">Enter your comment</a>');
    const long = `Kept words ${'x'.repeat(5000)}`;
    const tooLong = await s.partner.post(`${base}/aims/3.1/comments`, { text: long });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.body).toContain('Comment must be 5,000 characters or fewer');
    expect(tooLong.body).toContain(long);
  });

  it('refuses a comment without its CSRF token', async () => {
    const response = await s.partner.postRaw(`${base}/aims/3.1/comments`, { text: 'no token' });
    expect(response.statusCode).toBe(403);
    expect((await s.partner.get(`${base}/aims/3.1/comments`)).body).not.toContain('no token');
  });

  it('the author archives their comment after confirming; others may not', async () => {
    expect(
      (await s.partner.post(`${base}/aims/4.1/comments`, { text: 'Posted on the wrong aim' })).statusCode,
    ).toBe(303);
    const page = await s.partner.get(`${base}/aims/4.1/comments`);
    const archiveUrl = /href="([^"]+\/comments\/\d+\/archive)"/.exec(page.body)?.[1];
    expect(archiveUrl).toBeDefined();
    // The lead officer sees the comment but no archive link, and is refused at the address.
    const leadView = await s.lead.get(`${base}/aims/4.1/comments`);
    expect(leadView.body).toContain('Posted on the wrong aim');
    expect(leadView.body).not.toContain('/archive');
    expect((await s.lead.get(archiveUrl!)).statusCode).toBe(403);
    expect((await s.board.get(archiveUrl!)).statusCode).toBe(403);

    const confirm = await s.partner.get(archiveUrl!);
    expect(confirm.body).toContain('Are you sure you want to archive this comment?');
    const archived = await s.partner.post(archiveUrl!, {
      version: /name="version" value="(\d+)"/.exec(confirm.body)![1]!,
    });
    expect(archived.statusCode).toBe(303);
    const after = await s.partner.get(`${base}/aims/4.1/comments`);
    expect(after.body).toContain('The comment has been archived');
    expect(after.body).not.toContain('Posted on the wrong aim');
    expect(tabs(after.body)).toContain('Comments (0)');
  });
});

describe('the audit trail', () => {
  it('is the coordinator’s: others get 403, the signed out are sent to sign in', async () => {
    const page = await s.coordinator.get(audit);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(
      '<caption class="govuk-table__caption govuk-table__caption--m" id="trail-caption">Audit trail of SoSafe',
    );
    // The coordinator finds it in the header, on the plan's pages too.
    const navLink = /href="\/p\/sosafe\/audit"[^>]*>\s*(<strong[^>]*>)?Audit trail/;
    expect(page.body).toMatch(navLink);
    expect((await s.coordinator.get(`${base}/aims/3.1`)).body).toMatch(navLink);
    for (const who of [s.lead, s.partner, s.board]) {
      expect((await who.get(audit)).statusCode).toBe(403);
      expect((await who.get(`${audit}.csv`)).statusCode).toBe(403);
      expect((await who.get(`${base}/aims/3.1`)).body).not.toContain(`href="${audit}"`);
    }
    const signedOut = await new Session(t.app).get(`${audit}?kind=comment.added`);
    expect(signedOut.statusCode).toBe(302);
    expect(signedOut.headers.location).toBe(
      `/sign-in?returnTo=${encodeURIComponent(`${audit}?kind=comment.added`)}`,
    );
    expect((await new Session(t.app).get(`${audit}.csv`)).statusCode).toBe(302);
  });

  it('filters by person', async () => {
    const page = await s.coordinator.get(audit);
    const helen = /<option value="(\d+)">Helen Whitehead<\/option>/.exec(page.body)?.[1];
    expect(helen).toBeDefined();
    const filtered = await s.coordinator.get(`${audit}?person=${helen}`);
    const rows = trailRows(filtered.body);
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r[1]))).toEqual(new Set(['Helen Whitehead']));
    expect(rows.map((r) => r[3])).toContain('Changed the Q4 progress update');
    expect(filtered.body).toMatch(new RegExp(`<option value="${helen}" selected>Helen Whitehead</option>`));
    expect(filtered.body).toContain('(filtered)');
  });

  it('filters by kind', async () => {
    const rows = trailRows((await s.coordinator.get(`${audit}?kind=comment.added`)).body);
    expect(rows.map((r) => [r[1], r[3], r[4]])).toEqual([
      ['Pat Partner', 'Added a comment', '4.1 history'],
      ['Pat Partner', 'Added a comment', '2.2 history'],
      ['Pat Partner', 'Added a comment', '3.1 history'],
    ]);
  });

  it('filters by the person’s organisation', async () => {
    const page = await s.coordinator.get(audit);
    const police = /<option value="(\d+)">Police<\/option>/.exec(page.body)?.[1];
    expect(police).toBeDefined();
    const rows = trailRows((await s.coordinator.get(`${audit}?organisation=${police}`)).body);
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => `${r[1]} (${r[2]})`))).toEqual(new Set(['Pat Partner (Police)']));
  });

  it('filters by date, in London days', async () => {
    const today = new Date().toLocaleDateString('en-CA', { timeZone: 'Europe/London' });
    const [year, month, day] = today.split('-');
    const todays = await s.coordinator.get(
      `${audit}?kind=comment.added&from-day=${day}&from-month=${month}&from-year=${year}&to-day=${day}&to-month=${month}&to-year=${year}`,
    );
    expect(trailRows(todays.body)).toHaveLength(3);
    const before = await s.coordinator.get(`${audit}?kind=comment.added&to-day=31&to-month=3&to-year=2024`);
    expect(trailRows(before.body)).toHaveLength(0);
    expect(before.body).toContain('No events match these filters.');
  });

  it('explains a date that is not real, keeping what was typed', async () => {
    const response = await s.coordinator.get(`${audit}?from-day=31&from-month=2&from-year=2025`);
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('govuk-error-summary');
    expect(response.body).toContain('<a href="#from-day">Date from must be a real date</a>');
    expect(response.body).toMatch(/id="from-day" name="from-day" type="text" value="31"/);
  });

  it('downloads the filtered trail as CSV with a header row, and records the download', async () => {
    const page = await s.coordinator.get(`${audit}?kind=comment.added`);
    expect(page.body).toContain(`href="${audit}.csv?kind=comment.added"`);
    const response = await s.coordinator.get(`${audit}.csv?kind=comment.added`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toMatch(
      /^attachment; filename="sosafe-audit-trail-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    const records = parse(response.body, { bom: true }) as string[][];
    expect(records[0]!.slice(0, 6)).toEqual([
      'When (Europe/London)',
      'When (UTC)',
      'Person',
      'Organisation',
      'What',
      'Summary',
    ]);
    expect(records.slice(1).map((r) => [r[2], r[3], r[4], r[6], r[7]])).toEqual([
      ['Pat Partner', 'Police', 'Added a comment', '4.1 (2024/25)', 'comment.added'],
      ['Pat Partner', 'Police', 'Added a comment', '2.2 (2024/25)', 'comment.added'],
      ['Pat Partner', 'Police', 'Added a comment', '3.1 (2024/25)', 'comment.added'],
    ]);

    const exports = trailRows((await s.coordinator.get(`${audit}?kind=audit.exported`)).body);
    expect(exports).toHaveLength(1);
    expect(exports[0]!.slice(1)).toEqual([
      'Casey Coordinator',
      'SBC',
      'Exported the audit trail',
      '',
      'Exported the audit trail as CSV (3 events)',
    ]);
  });
});
