/**
 * Child processes and ports for the suites that start real servers: the browser suite's apps
 * (test/e2e/support/app.ts) and the cluster suite's instances and nginx (test/support/cluster.ts).
 */
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';

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
