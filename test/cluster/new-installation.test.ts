/**
 * Two instances of a new installation started together on one empty PostgreSQL database: one
 * migrates and loads the demo, the other waits and finds it loaded (src/main.ts), and both serve it.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { DEMO_ACCOUNTS } from '../../src/services/demo.js';
import { CLUSTER_DEMO_PASSWORD, startCluster, type Cluster } from '../support/cluster.js';
import { CookieClient } from '../support/cookie-client.js';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ empty: true });
});

afterAll(async () => {
  await cluster?.stop();
});

it('loads the demo once when two instances start together on an empty database', async () => {
  const loaded = cluster.instances.filter((i) => i.output().includes('Loaded the demo partnership: SoSafe'));
  expect(loaded, cluster.output()).toHaveLength(1);

  const [counts] = await queryRows<{ partnerships: number; users: number; plans: number }>(
    cluster.database.db,
    sql`select (select count(*)::int from partnerships) as partnerships,
               (select count(*)::int from users) as users,
               (select count(*)::int from plans) as plans`,
  );
  expect(counts).toEqual({ partnerships: 2, users: DEMO_ACCOUNTS.length, plans: 2 });

  // The demo's password works through nginx, on whichever instance answers.
  const browser = new CookieClient();
  const signIn = await browser.signIn(cluster.proxyUrl, 'coordinator@sosafe.example', CLUSTER_DEMO_PASSWORD);
  expect(signIn.status).toBe(302);
  for (const instance of cluster.instances) {
    const account = await browser.get(`${instance.baseUrl}/account`);
    expect(account.status, instance.name).toBe(200);
    await account.body?.cancel();
  }
});
