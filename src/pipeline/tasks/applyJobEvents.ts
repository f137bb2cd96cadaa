/**
 * applyJobEvents — drains the job event stream in batches (up to 1000 events
 * per statement) and applies them with the ordering guard of
 * store/jobEvents.ts: a newer event (more attempts, further status, later
 * time) never loses to an older one.
 *
 * Schedule: continuous — every worker process runs one consumer of the
 * stream's consumer group, blocking up to half a second for new events, so an
 * event is applied well within a second. Retry: a batch is acknowledged only
 * after it is written; on a database error it stays pending and is re-read
 * after a back-off; entries left pending by a dead worker are claimed by
 * another after 30 s (XAUTOCLAIM).
 */
import type { JobDetail } from '@aws-sdk/client-batch';
import type { Redis } from 'ioredis';
import { applyJobEventRows, type JobEventRow } from '../../store/jobEvents';
import type { TaskContext } from '../context';
import { JOB_EVENT_GROUP, eventFieldsOf, jobEventStreamKey, type StoredJobEvent } from '../jobEvents';
import { JobMappingError } from '../mapping';
import { metrics } from '../metrics';

export const EVENT_BATCH_SIZE = 1000;
export const EVENT_BLOCK_MS = 500;
export const EVENT_CLAIM_IDLE_MS = 30_000;
export const CONSUMER_FORGET_IDLE_MS = 3_600_000;

/** Fields are null for an entry deleted while still pending (it is then only acknowledged). */
type StreamEntry = [id: string, fields: string[] | null];
type StreamReply = [key: string, entries: StreamEntry[]][] | null;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** SQLSTATE classes 22 (data exception) and 23 (integrity constraint): the data, not the connection. */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^2[23]/.test(code);
}

interface DecodedEvent {
  row: JobEventRow;
  /** The stored event, for the dead-letter stream. */
  raw: string;
}

/** Entries appended before events were reduced to their fields held the whole description. */
type StoredOrLegacyEvent = StoredJobEvent | { t: number; d: JobDetail };

function decodeStored(event: StoredOrLegacyEvent): JobEventRow {
  if ('d' in event) return { fields: eventFieldsOf(event.d), eventTime: event.t };
  if (typeof event.f?.job_id !== 'string') throw new JobMappingError('stored job event without a job id', undefined);
  return { fields: event.f, eventTime: event.t };
}

function decode(ctx: TaskContext, entries: StreamEntry[]): DecodedEvent[] {
  const rows: DecodedEvent[] = [];
  for (const [id, fields] of entries) {
    if (!fields) continue;
    const raw = fields[fields.indexOf('e') + 1];
    try {
      rows.push({ row: decodeStored(JSON.parse(raw) as StoredOrLegacyEvent), raw });
    } catch (err) {
      // Validated on the way in; anything unreadable here is dropped loudly rather than retried forever.
      if (!(err instanceof JobMappingError) && !(err instanceof SyntaxError)) throw err;
      ctx.logger.error({ entryId: id, err: (err as Error).message }, 'dropping an unreadable job event');
    }
  }
  return rows;
}

export interface JobEventConsumer {
  close(): Promise<void>;
}

export function startJobEventConsumer(ctx: TaskContext, blocking: Redis, consumerName: string): JobEventConsumer {
  const key = jobEventStreamKey(ctx.config);
  const deadKey = `${key}:dead`;
  let stopping = false;
  let failures = 0;
  let lastClaim = 0;
  let groupReady = false;

  const ensureGroup = async () => {
    try {
      await blocking.xgroup('CREATE', key, JOB_EVENT_GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
  };

  /**
   * One statement for the batch. If the database refuses the data itself
   * (a value out of range...), the batch is applied event by event and the
   * events it still refuses go to the dead-letter stream: one bad event must
   * not block every event behind it. Connection errors are thrown (retried).
   */
  const write = async (events: DecodedEvent[]): Promise<string[]> => {
    try {
      return await applyJobEventRows(ctx.db, events.map((e) => e.row));
    } catch (err) {
      if (!isDataError(err)) throw err;
      const written: string[] = [];
      for (const event of events) {
        try {
          written.push(...(await applyJobEventRows(ctx.db, [event.row])));
        } catch (single) {
          if (!isDataError(single)) throw single;
          const message = (single as Error).message.split(' - ').pop() ?? String(single);
          // Capped exactly (dead letters are rare): the oldest go first; each is logged as it comes.
          await blocking.xadd(deadKey, 'MAXLEN', ctx.config.events_dead_letter_max_length, '*', 'e', event.raw, 'error', message);
          metrics.eventsDeadLettered.inc();
          ctx.logger.error({ task: 'applyJobEvents', jobId: event.row.fields.job_id, err: message }, 'job event refused by the database: dead-lettered');
        }
      }
      return written;
    }
  };

  const apply = async (entries: StreamEntry[]) => {
    if (entries.length === 0) return;
    const end = metrics.eventBatchDuration.startTimer();
    const written = await write(decode(ctx, entries));
    const ids = entries.map(([id]) => id);
    await blocking.multi().xack(key, JOB_EVENT_GROUP, ...ids).xdel(key, ...ids).exec();
    end();
    metrics.eventsApplied.inc(entries.length);
    metrics.eventsWritten.inc(written.length);
    ctx.logger.debug({ task: 'applyJobEvents', events: entries.length, written: written.length }, 'applied job events');
  };

  const ensureGroupOnce = async () => {
    if (groupReady) return;
    await ensureGroup();
    groupReady = true;
  };

  /** Consumers of processes long gone, with nothing pending, are removed from the group. */
  const forgetIdleConsumers = async () => {
    const consumers = (await blocking.xinfo('CONSUMERS', key, JOB_EVENT_GROUP)) as unknown[][];
    for (const fields of consumers) {
      const info: Record<string, unknown> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) info[String(fields[i])] = fields[i + 1];
      if (info.name !== consumerName && Number(info.pending) === 0 && Number(info.idle) > CONSUMER_FORGET_IDLE_MS) {
        await blocking.xgroup('DELCONSUMER', key, JOB_EVENT_GROUP, String(info.name));
      }
    }
  };

  const readOnce = async () => {
    if (Date.now() - lastClaim > EVENT_CLAIM_IDLE_MS / 3) {
      lastClaim = Date.now();
      const claimed = (await blocking.xautoclaim(key, JOB_EVENT_GROUP, consumerName, EVENT_CLAIM_IDLE_MS, '0', 'COUNT', EVENT_BATCH_SIZE)) as [
        string,
        StreamEntry[],
      ];
      await apply(claimed[1]);
      await forgetIdleConsumers();
    }
    // Our own pending entries first (a batch whose write failed), then new ones.
    const pending = (await blocking.xreadgroup('GROUP', JOB_EVENT_GROUP, consumerName, 'COUNT', EVENT_BATCH_SIZE, 'STREAMS', key, '0')) as StreamReply;
    const mine = pending?.[0]?.[1] ?? [];
    if (mine.length > 0) return apply(mine);
    const fresh = (await blocking.xreadgroup(
      'GROUP',
      JOB_EVENT_GROUP,
      consumerName,
      'COUNT',
      EVENT_BATCH_SIZE,
      'BLOCK',
      EVENT_BLOCK_MS,
      'STREAMS',
      key,
      '>',
    )) as StreamReply;
    await apply(fresh?.[0]?.[1] ?? []);
  };

  const loop = (async () => {
    while (!stopping) {
      try {
        await ensureGroupOnce();
        await readOnce();
        failures = 0;
      } catch (err) {
        // Knex puts the whole statement in front of the database's message: keep the message.
        const full = (err as Error).message ?? String(err);
        const message = full.includes(' - ') ? full.slice(full.lastIndexOf(' - ') + 3) : full;
        if (message.includes('NOGROUP')) groupReady = false; // Redis lost the stream (restart): recreate it.
        if (stopping) break;
        failures++;
        ctx.logger.warn({ task: 'applyJobEvents', err: message, failures }, 'applying job events failed; retrying');
        await sleep(Math.min(5000, 100 * 2 ** Math.min(failures, 6)) * (0.5 + Math.random() / 2));
      }
    }
  })();

  return {
    async close() {
      stopping = true;
      await loop;
      // Leave the group tidy; a consumer with pending entries stays so another can claim them.
      try {
        const summary = (await blocking.xpending(key, JOB_EVENT_GROUP, '-', '+', 1, consumerName)) as unknown[];
        if (summary.length === 0) await blocking.xgroup('DELCONSUMER', key, JOB_EVENT_GROUP, consumerName);
      } catch {
        // Redis unreachable or the group gone: nothing to tidy.
      }
    },
  };
}
