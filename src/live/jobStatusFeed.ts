/**
 * Job status changes across processes. The migration's triggers run
 * `pg_notify('job_status_events', job_id)` on insert and on status change, so
 * whichever process writes (worker, notify endpoint, another API replica),
 * every API process hears it here: one dedicated Postgres connection per
 * process LISTENs and fans the ids out to in-process subscribers.
 * The connection reconnects with back-off; after a reconnect every subscriber
 * is told "something may have changed", since notifications sent while we
 * were away are lost.
 */
import { Client, type ClientConfig, type Notification } from 'pg';
import { knexSettings, type DbConfig } from '../store/db';
import type { Logger } from '../log';

export const JOB_STATUS_CHANNEL = 'job_status_events';

export type JobStatusListener = (jobId: string) => void;

export interface JobStatusFeed {
  /** Calls `listener` whenever job `jobId` may have changed status; returns the unsubscribe. */
  subscribe(jobId: string, listener: JobStatusListener): () => void;
  /** Resolves once LISTEN is in place (first connection). */
  ready(): Promise<void>;
  /** Live subscriptions, for metrics and tests. */
  subscriberCount(): number;
  close(): Promise<void>;
}

function pgClientConfig(config: DbConfig): ClientConfig {
  const settings = knexSettings(config);
  return { ...(settings.connection as ClientConfig), application_name: 'batchiepatchie-live' };
}

export function startJobStatusFeed(config: DbConfig, logger: Logger, opts: { maxBackoffMs?: number } = {}): JobStatusFeed {
  const subscribers = new Map<string, Set<JobStatusListener>>();
  const maxBackoffMs = opts.maxBackoffMs ?? 10_000;
  let client: Client | null = null;
  let closed = false;
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | null = null;
  let resolveReady!: () => void;
  const readyPromise = new Promise<void>((resolve) => (resolveReady = resolve));

  function dispatch(jobId: string): void {
    for (const listener of subscribers.get(jobId) ?? []) {
      try {
        listener(jobId);
      } catch (err) {
        logger.warn({ err, jobId }, 'job status listener failed');
      }
    }
  }

  function onNotification(message: Notification): void {
    if (message.channel === JOB_STATUS_CHANNEL && message.payload) dispatch(message.payload);
  }

  function scheduleReconnect(reason: unknown): void {
    if (closed || retryTimer) return;
    const delay = Math.min(maxBackoffMs, 250 * 2 ** Math.min(attempt, 8));
    attempt += 1;
    logger.warn({ err: reason, delayMs: delay }, 'live job status listener lost its connection; reconnecting');
    retryTimer = setTimeout(() => {
      retryTimer = null;
      void connect();
    }, delay);
  }

  async function connect(): Promise<void> {
    const next = new Client(pgClientConfig(config));
    next.on('notification', onNotification);
    next.on('error', (err) => {
      if (client === next) client = null;
      next.end().catch(() => undefined);
      scheduleReconnect(err);
    });
    next.on('end', () => {
      if (client === next) {
        client = null;
        scheduleReconnect(new Error('connection ended'));
      }
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${JOB_STATUS_CHANNEL}`);
    } catch (err) {
      next.removeAllListeners('end');
      next.end().catch(() => undefined);
      scheduleReconnect(err);
      return;
    }
    if (closed) {
      await next.end().catch(() => undefined);
      return;
    }
    const wasReconnect = attempt > 0;
    client = next;
    attempt = 0;
    resolveReady();
    if (wasReconnect) for (const jobId of subscribers.keys()) dispatch(jobId);
  }

  void connect();

  return {
    subscribe(jobId, listener) {
      let set = subscribers.get(jobId);
      if (!set) subscribers.set(jobId, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0 && subscribers.get(jobId) === set) subscribers.delete(jobId);
      };
    },
    ready: () => readyPromise,
    subscriberCount: () => [...subscribers.values()].reduce((n, s) => n + s.size, 0),
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      const current = client;
      client = null;
      resolveReady();
      if (current) {
        current.removeAllListeners('end');
        await current.end().catch(() => undefined);
      }
      subscribers.clear();
    },
  };
}
