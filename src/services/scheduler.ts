/**
 * Jobs that run inside the app on a timer (reminders, email retries). Each job runs soon after
 * start and then every interval, never overlapping itself; a failure is logged and the next run
 * goes ahead. The timers do not keep the process alive, and stop() waits for a run in progress.
 *
 * With several instances every one runs the jobs: each job makes itself safe for that (the
 * reminders take a PostgreSQL advisory lock and claim each round by inserting it; email retries
 * claim their messages with FOR UPDATE SKIP LOCKED).
 */

export interface ScheduledJob {
  name: string;
  run: () => Promise<unknown>;
}

/** pino's shape (Fastify's app.log): an object first, then the message. */
export interface SchedulerLog {
  error(details: object, message: string): void;
  debug?(details: object, message: string): void;
}

export interface SchedulerOptions {
  /** Time between the starts of two runs of a job. */
  intervalMs: number;
  jobs: readonly ScheduledJob[];
  log: SchedulerLog;
  /** Delay before the first run (default 1 second: soon, but after the server has started). */
  firstRunAfterMs?: number;
}

export interface Scheduler {
  /** No more runs; resolves when a run in progress has finished. */
  stop(): Promise<void>;
}

export function startScheduler(options: SchedulerOptions): Scheduler {
  const { intervalMs, log } = options;
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();

  const schedule = (job: ScheduledJob, delay: number) => {
    if (stopped) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (stopped) return;
      const started = Date.now();
      const run = (async () => {
        try {
          const result = await job.run();
          log.debug?.({ job: job.name, result }, 'scheduled job ran');
        } catch (error) {
          log.error({ err: error, job: job.name }, `scheduled job "${job.name}" failed`);
        }
      })();
      running.add(run);
      void run.then(() => {
        running.delete(run);
        // The next run starts an interval after this one started, or at once if this one overran.
        schedule(job, Math.max(0, intervalMs - (Date.now() - started)));
      });
    }, delay);
    timer.unref();
    timers.add(timer);
  };

  for (const job of options.jobs) schedule(job, options.firstRunAfterMs ?? 1000);

  return {
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.all([...running]);
    },
  };
}
