/**
 * Two app instances on one PostgreSQL database behind nginx, round robin (issue 8, item 2): a
 * session made through one works through the other, the reminder job runs once between them, and
 * restarting one while load runs through nginx loses no request. Real processes throughout
 * (test/support/cluster.ts); run by `npm run test:cluster` (scripts/test-cluster.ts).
 */
import http from 'node:http';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, type Db } from '../../src/db/client.js';
import * as t from '../../src/db/schema.js';
import { addDays, londonDate } from '../../src/domain/cycles.js';
import { memberActor } from '../../src/services/actor.js';
import { openQuarter } from '../../src/services/cycles.js';
import { Mailer } from '../../src/services/mail.js';
import { getMember } from '../../src/services/users.js';
import { CLUSTER_DEMO_PASSWORD, startCluster, type Cluster } from '../support/cluster.js';
import { CookieClient, csrfToken, redirectTarget } from '../support/cookie-client.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';

const COORDINATOR = 'coordinator@sosafe.example';
const LEAD_OFFICERS = ['helen.whitehead@sosafe.example', 'tania.king@sosafe.example'];
const DAY = 24 * 60 * 60 * 1000;

let cluster: Cluster;
let smtp: SmtpSink;
let cycleId: number;
let startedAt: number;

/**
 * Q4 2024/25 of SoSafe opened 20 days ago, due 3 days ago, one reminder the day after the due
 * date: that round (2 days ago) is due now and not sent. The opening's own emails go to the outbox.
 */
async function arrangeDueReminderRound(db: Db): Promise<void> {
  const [coordinator] = await queryRows<{ id: number; partnership_id: number }>(
    db,
    sql`select u.id, m.partnership_id from users u join memberships m on m.user_id = u.id where u.email = ${COORDINATOR}`,
  );
  const member = await getMember(db, coordinator!.id, coordinator!.partnership_id);
  const [plan] = await db
    .select({ id: t.plans.id })
    .from(t.plans)
    .where(and(eq(t.plans.partnershipId, coordinator!.partnership_id), eq(t.plans.year, '2024/25')));
  const now = new Date();
  const opened = await openQuarter(
    { db, mailer: new Mailer() },
    memberActor(member!),
    plan!.id,
    { quarter: 4, dueOn: addDays(londonDate(now), -3), reminderOffsets: '1' },
    { baseUrl: 'http://plan.example.test' },
    new Date(now.getTime() - 20 * DAY),
  );
  expect(opened.emails).toBe(LEAD_OFFICERS.length);
  cycleId = opened.cycle.id;
}

beforeAll(async () => {
  smtp = await startSmtpSink();
  cluster = await startCluster({
    prepare: arrangeDueReminderRound,
    env: { SMTP_URL: smtp.url, REMINDERS_EVERY_MINUTES: '15' },
  });
  startedAt = Date.now();
});

afterAll(async () => {
  await cluster?.stop();
  await smtp?.close();
});

describe('a session across instances', () => {
  it('signing in through A works on B, a form from A is accepted by B, and signing out on B ends it on A', async () => {
    const [a, b] = cluster.instances;
    const browser = new CookieClient();
    // Cookies are per host, not port: one browser session for A, B and nginx, all on 127.0.0.1.
    const signIn = await browser.signIn(a.baseUrl, COORDINATOR, CLUSTER_DEMO_PASSWORD);
    expect(signIn.status).toBe(302);
    expect(browser.cookiesFor(a.baseUrl).join(';')).toContain('pp_session=');

    const accountOnB = await browser.get(`${b.baseUrl}/account`);
    expect(accountOnB.status).toBe(200);
    expect(await accountOnB.text()).toContain(COORDINATOR);
    for (let i = 0; i < 4; i++) {
      const throughProxy = await browser.get(`${cluster.proxyUrl}/account`);
      expect(throughProxy.status).toBe(200);
      await throughProxy.body?.cancel();
    }

    // A comment: the form (and its CSRF token) from A, posted to B. B checks the token: a wrong
    // one is refused.
    const commentsPath = '/p/sosafe/plans/2024-25/aims/1.1/comments';
    const page = await browser.get(`${a.baseUrl}${commentsPath}`);
    expect(page.status).toBe(200);
    const text = `Posted through instance B at ${new Date().toISOString()}`;
    const forged = await browser.postForm(`${b.baseUrl}${commentsPath}`, { _csrf: 'not-the-token', text });
    expect(forged.status).toBe(403);
    const posted = await browser.postForm(`${b.baseUrl}${commentsPath}`, {
      _csrf: csrfToken(await page.text()),
      text,
    });
    expect(posted.status).toBe(303);
    expect(redirectTarget(b.baseUrl + commentsPath, posted)).toContain(commentsPath);
    const comments = await cluster.database.db
      .select({ id: t.comments.id })
      .from(t.comments)
      .where(eq(t.comments.text, text));
    expect(comments).toHaveLength(1);
    const audited = await queryRows<{ n: number }>(
      cluster.database.db,
      sql`select count(*)::int as n from audit_events where kind = 'comment.added' and entity_id = ${comments[0]!.id}`,
    );
    expect(audited[0]?.n).toBe(1);
    // The comment page, read back through A at once, shows it: B's answer marked the browser as
    // having just written, so A reads its session and the page afresh rather than from what it
    // kept before it heard of B's write.
    expect(browser.cookiesFor(a.baseUrl).join(';')).toContain('pp_wrote=');
    expect(await (await browser.get(`${a.baseUrl}${commentsPath}`)).text()).toContain(text);

    // Signing out on B (with a token from a page B served) ends the session on A too.
    const kept = browser.cookiesFor(a.baseUrl).filter((cookie) => cookie.startsWith('pp_session='));
    const accountPage = await browser.get(`${b.baseUrl}/account`);
    const signOut = await browser.postForm(`${b.baseUrl}/sign-out`, {
      _csrf: csrfToken(await accountPage.text()),
    });
    expect(signOut.status).toBe(302);
    // The old session cookie alone, replayed on A (by someone who copied it), no longer signs
    // anyone in once A has heard of the sign-out, a moment after B committed it.
    const replay = () =>
      fetch(`${a.baseUrl}/account`, { headers: { cookie: kept.join('; ') }, redirect: 'manual' });
    await expect.poll(async () => (await replay()).status, { timeout: 5_000 }).not.toBe(200);
    expect(await (await replay()).text()).not.toContain(COORDINATOR);
  });
});

describe('the reminder job with two instances', () => {
  it('sends a due round once: one cycle_reminders row, one cycle.reminded event, one email per lead officer', async () => {
    const deadline = Date.now() + 20_000;
    let rows: { offsetDays: number; recipients: number }[] = [];
    while (Date.now() < deadline) {
      rows = await cluster.database.db
        .select({ offsetDays: t.cycleReminders.offsetDays, recipients: t.cycleReminders.recipients })
        .from(t.cycleReminders)
        .where(eq(t.cycleReminders.cycleId, cycleId));
      if (rows.length && smtp.messages.filter((m) => m.subject.includes('reminder')).length >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Both schedulers run a second after their start; give the later one time to finish its run.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, startedAt + 3_000 - Date.now())));

    expect(rows).toEqual([{ offsetDays: 1, recipients: LEAD_OFFICERS.length }]);
    const events = await queryRows<{ actor_label: string }>(
      cluster.database.db,
      sql`select actor_label from audit_events where kind = 'cycle.reminded' and entity_id = ${cycleId}`,
    );
    expect(events).toHaveLength(1);
    const reminders = smtp.messages.filter((m) => m.subject.includes('reminder'));
    expect(reminders.map((m) => m.to).sort()).toEqual(LEAD_OFFICERS.map((email) => [email]));
    const recorded = await queryRows<{ n: number }>(
      cluster.database.db,
      sql`select count(*)::int as n from emails where subject like '%reminder%'`,
    );
    expect(recorded[0]?.n).toBe(LEAD_OFFICERS.length);
  });
});

interface LoadResult {
  requests: number;
  failures: string[];
}

/** `concurrency` loops of signed-in GETs through nginx (kept-alive connections) until `stop` says so. */
async function loadThroughProxy(
  url: string,
  cookie: string,
  concurrency: number,
  running: () => boolean,
): Promise<LoadResult> {
  const result: LoadResult = { requests: 0, failures: [] };
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (running()) {
        try {
          const response = await fetch(url, { headers: { cookie }, redirect: 'manual' });
          await response.arrayBuffer();
          if (response.status !== 200) result.failures.push(`${response.status}`);
        } catch (error) {
          result.failures.push(
            error instanceof Error ? `${error.message} ${String(error.cause)}` : String(error),
          );
        }
        result.requests++;
      }
    }),
  );
  return result;
}

/**
 * A POST straight to an instance whose body is sent in two halves: the request is in progress
 * (routed, body half read) until finish() is called.
 */
function requestInProgress(url: string): {
  finish(): void;
  answer: Promise<{ status: number; connection: string | undefined }>;
} {
  const body = 'text=first-half&more=second-half';
  const request = http.request(url, {
    method: 'POST',
    agent: new http.Agent({ keepAlive: true }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length },
  });
  const answer = new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
    request.once('response', (response) => {
      response.resume();
      response.once('end', () =>
        resolve({ status: response.statusCode ?? 0, connection: response.headers.connection }),
      );
    });
    request.once('error', reject);
  });
  request.write(body.slice(0, 15));
  return { finish: () => request.end(body.slice(15)), answer };
}

describe('restarting one instance under load', () => {
  it('loses no request: nginx passes on what the stopping instance could not answer', async () => {
    const [a] = cluster.instances;
    const browser = new CookieClient();
    const signIn = await browser.signIn(cluster.proxyUrl, COORDINATOR, CLUSTER_DEMO_PASSWORD);
    expect(signIn.status).toBe(302);
    const cookie = browser.cookiesFor(cluster.proxyUrl).join('; ');
    const logBefore = cluster.accessLog().length;

    let running = true;
    const loadStarted = Date.now() / 1000;
    const load = loadThroughProxy(`${cluster.proxyUrl}/account`, cookie, 16, () => running);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // A request in progress on A when it is told to stop is answered, and its connection closed.
    const inProgress = requestInProgress(`${a.baseUrl}/sign-in`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stopAt = Date.now() / 1000;
    const stopping = a.stop('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    inProgress.finish();
    const answered = await inProgress.answer;
    const ended = await stopping;
    const stoppedAt = Date.now() / 1000;
    await a.start();
    const backAt = Date.now() / 1000;
    // The load goes on until nginx has sent A a few requests again (it tries an instance it found
    // down again after fail_timeout, 2 s), for at most 15 s.
    const servedByA = () =>
      cluster
        .accessLog()
        .filter((e) => e.time > backAt && e.upstreams.at(-1) === a.address && e.status === 200).length;
    for (let waited = 0; waited < 15_000 && servedByA() < 10; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    running = false;
    const { requests, failures } = await load;
    const loadEnded = Date.now() / 1000;

    // nginx writes a request's log line once it has sent the answer: the client may have the last
    // answer a moment before its line is written. Wait for it (at most 5 s); the count is then checked.
    const accountEntries = () =>
      cluster
        .accessLog()
        .slice(logBefore)
        .filter((e) => e.path === '/account');
    for (let waited = 0; waited < 5_000 && accountEntries().length < requests; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const entries = accountEntries();
    const servedBy = (from: number, to: number) => {
      const counts: Record<string, number> = {};
      for (const e of entries) {
        if (e.time < from || e.time > to) continue;
        const last = e.upstreams.at(-1) ?? '-';
        counts[last] = (counts[last] ?? 0) + 1;
      }
      return counts;
    };
    const passedOn = entries.filter((e) => e.upstreams.length > 1);
    const figures = {
      requests,
      failures: failures.length,
      seconds: Number((loadEnded - loadStarted).toFixed(1)),
      stopSeconds: Number((stoppedAt - stopAt).toFixed(2)),
      restartSeconds: Number((backAt - stoppedAt).toFixed(2)),
      instanceExit: ended,
      before: servedBy(loadStarted, stopAt),
      duringRestart: servedBy(stopAt, backAt),
      after: servedBy(backAt, loadEnded),
      passedOn: passedOn.length,
      passedOnBecause: [...new Set(passedOn.map((e) => e.upstreamStatuses.join(',')))],
    };
    process.stdout.write(`cluster restart under load: ${JSON.stringify(figures)}\n`);

    expect(failures, cluster.output()).toEqual([]);
    expect(ended).toBe('exited with code 0');
    // Refused for want of a CSRF token: an answer from the app, not the 503 of a closing server.
    expect(answered).toEqual({ status: 403, connection: 'close' });
    expect(entries.length).toBe(requests);
    expect(entries.every((e) => e.status === 200)).toBe(true);
    for (const instance of cluster.instances) {
      expect(figures.before[instance.address], `${instance.name} before`).toBeGreaterThan(0);
      expect(figures.after[instance.address], `${instance.name} after`).toBeGreaterThan(0);
    }
  });
});
