/**
 * Child processes and ports for the suites that start real servers: the browser suite's apps
 * (test/e2e/support/app.ts) and the cluster suite's instances and nginx (test/support/cluster.ts).
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

/**
 * Node's own options of `npm start` (package.json: `node <options> --import tsx src/main.ts`): the
 * young generation's size. Every app a suite or a benchmark starts runs with them, as a person's
 * does; a benchmark's limit server too, so that both run on the same runtime.
 */
export function startNodeArgs(): string[] {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    scripts: { start: string };
  };
  const words = pkg.scripts.start.split(/\s+/);
  const end = words.indexOf('--import');
  if (words[0] !== 'node' || end < 0) {
    throw new Error(`npm start is not "node … --import tsx …": ${pkg.scripts.start}`);
  }
  return words.slice(1, end);
}

/** A port nobody listens on right now: bind port 0, read what the system gave, let it go. */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close(() => reject(new Error(`could not read the port of ${String(address)}`)));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** Why a process ended: "exited with code 0", "was killed by SIGKILL". */
export function exitDescription(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${String(code)}`;
}

/** Whether the child has exited within `ms` (at once when it already has). */
export function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/**
 * Sends `signal`, then `kill` if the child has not gone within `graceMs`; resolves once it has
 * exited (or a second grace period has passed).
 */
export async function terminate(
  child: ChildProcess,
  {
    signal = 'SIGTERM',
    kill = 'SIGKILL',
    graceMs,
  }: { signal?: NodeJS.Signals; kill?: NodeJS.Signals; graceMs: number },
): Promise<void> {
  if (await waitForExit(child, 0)) return;
  child.kill(signal);
  if (!(await waitForExit(child, graceMs))) {
    child.kill(kill);
    await waitForExit(child, graceMs);
  }
}
