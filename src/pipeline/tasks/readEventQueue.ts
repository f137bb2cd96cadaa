/**
 * readEventQueue — job state change events from SQS (`events_queue_url`),
 * filled by an EventBridge rule (docs/pipeline.md#events-from-sqs).
 *
 * Schedule: continuous, when events_queue_url is set — every worker process
 * runs RECEIVERS long polls (20 s) of the queue. What a receive returns is
 * written at once when no write is in progress; receives that return during
 * a write join the next one (one statement for many receives under a
 * backlog, no waiting when there is none). The write is the same ordered one
 * as notify's events (store/jobEvents.ts: per job the most advanced event
 * wins, and an event never moves a row backwards, whichever worker applies
 * it and in whatever order the queue delivers). An EventBridge envelope
 * from AWS Batch (source aws.batch) is written whole, as a describe would
 * write it, marked event_written until a sync round's listing confirms it
 * (events_write_details; docs/pipeline.md#events-from-sqs); raw job
 * descriptions are hints: status and times only, the next round describes
 * the rest.
 *
 * Retry: a message is deleted only after the statement that applied it has
 * committed. A worker that dies, or a database that fails, leaves its
 * messages to come back after the queue's visibility timeout (to this or
 * another worker); applying one twice changes nothing. A malformed message
 * (not JSON, not a job event) and one the database refuses are logged, counted
 * and never deleted: the queue's redrive policy moves them to its dead-letter
 * queue after maxReceiveCount receives. Well-formed messages that are not job
 * state changes, or carry no job name, are deleted unapplied (skipped).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Knex } from 'knex';
import { type QueueMessage as Message, deleteMessages as deleteFromQueue, hasRedrivePolicy, receiveMessages } from '../../aws/sqs';
import type { JobDetail } from '@aws-sdk/client-batch';
import { applyJobDetailRows, applyJobEventRows, type JobDetailEventRow, type JobEventRow } from '../../store/jobEvents';
import type { TaskContext } from '../context';
import { InvalidJobEventError, JOB_EVENT_DETAIL_TYPE, lacksJobName, parseJobEvent } from '../jobEvents';
import { dependenciesOf, JobMappingError, mapJobDetail } from '../mapping';
import { metrics } from '../metrics';
import { isDataError } from './applyJobEvents';

/**
 * Concurrent long polls per worker process (each returns up to 10 messages):
 * how fast a backlog drains, since a receiver asks again only once its
 * messages are written. Idle, each costs 3 receives a minute.
 */
export const RECEIVERS = 8;
export const WAIT_SECONDS = 20;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What a message holds: hints (status and times, as notify's events) and, with
 * events_write_details, EventBridge events' whole job descriptions.
 */
export interface MessageEvents {
  rows: JobEventRow[];
  details: JobDetailEventRow[];
}

/** What a message is: events to apply, nothing to apply (skipped), or malformed (with why). */
export type DecodedMessage = ({ kind: 'events' } & MessageEvents) | { kind: 'skip'; why: string } | { kind: 'malformed'; problem: string };

export interface DecodeOptions {
  /** Write an EventBridge envelope's job description (events_write_details); else it is a hint like the rest. */
  writeDetails: boolean;
}

/** A raw job description (what DescribeJobs returns), as notify also takes inside `detail`. */
function looksLikeJobDetail(v: Record<string, unknown>): boolean {
  return typeof v.jobId === 'string' && typeof v.status === 'string' && !('detail' in v);
}

/**
 * An EventBridge envelope as AWS Batch sends it (source aws.batch): its
 * detail is AWS's own job description. A raw description in a message, or
 * anything posted to notify, stays a hint.
 */
function isBatchEnvelope(v: Record<string, unknown>): boolean {
  return v.source === 'aws.batch' && v['detail-type'] === JOB_EVENT_DETAIL_TYPE;
}

function decodeOne(value: unknown, index: number, opts: DecodeOptions): JobEventRow | JobDetailEventRow | 'skip' {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidJobEventError(index, 'not a JSON object');
  const obj = value as Record<string, unknown>;
  const event = looksLikeJobDetail(obj) ? { detail: obj } : obj;
  const type = (event as Record<string, unknown>)['detail-type'];
  // Another kind of event (a broader rule): not ours to apply, not malformed either.
  if (type !== undefined && type !== JOB_EVENT_DETAIL_TYPE) return 'skip';
  if (lacksJobName(event)) return 'skip';
  // Validated as a hint first: a description that is not a readable job event is malformed either way.
  const stored = parseJobEvent(event, index);
  if (!opts.writeDetails || !isBatchEnvelope(event)) return { fields: stored.f, eventTime: stored.t };
  const detail = (event as { detail: JobDetail }).detail;
  try {
    return { job: mapJobDetail(detail), dependencies: dependenciesOf(detail), eventTime: stored.t };
  } catch (err) {
    if (err instanceof JobMappingError) throw new InvalidJobEventError(index, err.message);
    throw new InvalidJobEventError(index, 'detail: a field has the wrong type for a Batch job description');
  }
}

const isDetailRow = (r: JobEventRow | JobDetailEventRow): r is JobDetailEventRow => 'job' in r;

/**
 * A message body: an EventBridge "Batch Job State Change" envelope, a raw job
 * description, or an array of either.
 */
export function decodeMessageBody(body: string | undefined, opts: DecodeOptions = { writeDetails: true }): DecodedMessage {
  let value: unknown;
  try {
    value = JSON.parse(body ?? '');
  } catch {
    return { kind: 'malformed', problem: 'body is not JSON' };
  }
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) return { kind: 'malformed', problem: 'an empty array' };
  try {
    const decoded = items.map((item, i) => decodeOne(item, i, opts)).filter((r): r is JobEventRow | JobDetailEventRow => r !== 'skip');
    if (decoded.length === 0) return { kind: 'skip', why: 'not a job state change with a job name' };
    return { kind: 'events', rows: decoded.filter((r): r is JobEventRow => !isDetailRow(r)), details: decoded.filter(isDetailRow) };
  } catch (err) {
    if (err instanceof InvalidJobEventError) return { kind: 'malformed', problem: err.message };
    throw err;
  }
}

/** Attempts of a write Postgres chose as a deadlock's victim (SQLSTATE 40P01). */
export const DEADLOCK_ATTEMPTS = 3;

/**
 * A statement locking the same rows in another order (a round's
 * last-seen update) can make ours a deadlock's victim: it is run again after
 * 50-100 ms, rather than its messages waiting for the visibility timeout (and
 * counting towards the dead-letter queue).
 */
async function applyRetryingDeadlocks(db: Knex, events: MessageEvents): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (events.rows.length > 0 && events.details.length > 0) {
        // One transaction: a batch's hints and descriptions are committed (and so deleted) together.
        await db.transaction(async (trx) => {
          await applyJobEventRows(trx, events.rows);
          await applyJobDetailRows(trx, events.details);
        });
      } else if (events.details.length > 0) await applyJobDetailRows(db, events.details);
      else await applyJobEventRows(db, events.rows);
      return;
    } catch (err) {
      if ((err as { code?: unknown }).code !== '40P01' || attempt >= DEADLOCK_ATTEMPTS) throw err;
      metrics.queueDeadlockRetries.inc();
      // Long enough for the other transaction to take the locks it was waiting for (else the same cycle again).
      await sleep(50 + Math.random() * 50);
    }
  }
}

export interface EventQueueConsumer {
  close(): Promise<void>;
}

interface Received {
  message: Message;
  decoded: DecodedMessage;
}

export function startEventQueueConsumer(ctx: TaskContext, sqs: SQSClient, queueUrl: string): EventQueueConsumer {
  const log = ctx.logger.child({ task: 'readEventQueue' });
  const decodeOptions: DecodeOptions = { writeDetails: ctx.config.events_write_details };
  const abort = new AbortController();
  let stopping = false;
  /** The messages waiting for the next write, and its outcome. */
  let next: { items: Received[]; done: Promise<void>; settle: (err?: unknown) => void } | null = null;
  let writing: Promise<void> | null = null;
  const deletes = new Set<Promise<void>>();

  const deleteMessages = async (messages: Message[]) => {
    // A failed delete only means a redelivery later (applying it again changes nothing).
    for (const f of await deleteFromQueue(sqs, queueUrl, messages)) {
      log.warn({ code: f.code, err: f.message }, 'deleting an applied message failed; it will come back and be applied again');
    }
  };

  /** One statement for the batch; if the database refuses the data, message by message (the refused ones stay). */
  const write = async (items: Received[]): Promise<Received[]> => {
    const events: MessageEvents = {
      rows: items.flatMap((r) => (r.decoded.kind === 'events' ? r.decoded.rows : [])),
      details: items.flatMap((r) => (r.decoded.kind === 'events' ? r.decoded.details : [])),
    };
    try {
      await applyRetryingDeadlocks(ctx.db, events);
      return items;
    } catch (err) {
      if (!isDataError(err)) throw err;
      const committed: Received[] = [];
      for (const item of items) {
        try {
          if (item.decoded.kind === 'events') await applyRetryingDeadlocks(ctx.db, item.decoded);
          committed.push(item);
        } catch (single) {
          if (!isDataError(single)) throw single;
          metrics.queueRejected.inc({ reason: 'refused' });
          log.error(
            { messageId: item.message.MessageId, receiveCount: item.message.Attributes?.ApproximateReceiveCount, err: (single as Error).message.split(' - ').pop() },
            'job event refused by the database: left for the dead-letter queue',
          );
        }
      }
      return committed;
    }
  };

  /** Writes what can be applied; returns the messages now committed (to delete). */
  const applyBatch = async (items: Received[]): Promise<Received[]> => {
    const usable = items.filter((r) => {
      if (r.decoded.kind !== 'malformed') return true;
      metrics.queueRejected.inc({ reason: 'malformed' });
      log.warn(
        { messageId: r.message.MessageId, receiveCount: r.message.Attributes?.ApproximateReceiveCount, problem: r.decoded.problem },
        'malformed message in the events queue: left for the dead-letter queue',
      );
      return false;
    });
    const end = metrics.eventBatchDuration.startTimer();
    const committed = await write(usable);
    end();
    const now = Date.now();
    for (const r of committed) {
      if (r.decoded.kind === 'events') metrics.queueApplied.inc();
      else metrics.queueSkipped.inc();
      const sent = Number(r.message.Attributes?.SentTimestamp);
      if (Number.isFinite(sent)) metrics.queueApplyLag.observe(Math.max(0, (now - sent) / 1000));
    }
    return committed;
  };

  const finishBatch = async (items: Received[], committed: Received[]) => {
    await deleteMessages(committed.map((r) => r.message));
    log.debug({ messages: items.length, deleted: committed.length }, 'applied events from the queue');
  };

  /**
   * Writes a receive's messages now, or with the next write when one is in
   * progress; resolves once they are written and deleted (or failed).
   */
  const submit = (items: Received[]): Promise<void> => {
    if (!next) {
      let settle!: (err?: unknown) => void;
      const done = new Promise<void>((resolve, reject) => (settle = (err) => (err === undefined ? resolve() : reject(err))));
      next = { items: [], done, settle };
    }
    next.items.push(...items);
    const joined = next.done;
    writing ??= writeQueued();
    return joined;
  };

  /** One write at a time; its deletes go on beside the next write (a failed delete only means a redelivery). */
  const writeQueued = async () => {
    while (next) {
      const batch = next;
      next = null;
      try {
        const committed = await applyBatch(batch.items);
        const deleting = finishBatch(batch.items, committed).then(() => batch.settle(), batch.settle);
        deletes.add(deleting);
        void deleting.finally(() => deletes.delete(deleting));
      } catch (err) {
        batch.settle(err ?? new Error('writing job events failed'));
      }
    }
    writing = null;
  };

  const receiveOnce = async () => {
    const messages = await receiveMessages(sqs, queueUrl, WAIT_SECONDS, abort.signal);
    if (messages.length === 0) {
      metrics.queueOldestAge.set(0);
      return;
    }
    metrics.queueReceived.inc(messages.length);
    const sent = messages.map((m) => Number(m.Attributes?.SentTimestamp)).filter(Number.isFinite);
    if (sent.length) metrics.queueOldestAge.set(Math.max(0, (Date.now() - Math.min(...sent)) / 1000));
    await submit(messages.map((message) => ({ message, decoded: decodeMessageBody(message.Body, decodeOptions) })));
  };

  const receiver = async (n: number) => {
    let failures = 0;
    while (!stopping) {
      try {
        await receiveOnce();
        failures = 0;
      } catch (err) {
        if (stopping) break;
        failures++;
        const full = (err as Error).message ?? String(err);
        log.warn({ receiver: n, err: full.includes(' - ') ? full.slice(full.lastIndexOf(' - ') + 3) : full, failures }, 'reading the events queue failed; retrying');
        await sleep(Math.min(10_000, 200 * 2 ** Math.min(failures, 6)) * (0.5 + Math.random() / 2));
      }
    }
  };

  const receivers = Array.from({ length: RECEIVERS }, (_, n) => receiver(n));
  void checkRedrivePolicy(sqs, queueUrl, log);
  log.info({ queueUrl, receivers: RECEIVERS }, 'reading job state change events from SQS');

  return {
    async close() {
      stopping = true;
      // Long polls end now; a batch being applied is finished (and its messages deleted) first.
      abort.abort();
      await Promise.all(receivers);
      await writing;
      await Promise.all(deletes);
    },
  };
}

/** Without a redrive policy a malformed message would come back for ever: say so once, at start. */
async function checkRedrivePolicy(sqs: SQSClient, queueUrl: string, log: TaskContext['logger']): Promise<void> {
  try {
    if (!(await hasRedrivePolicy(sqs, queueUrl))) {
      log.warn({ queueUrl }, 'the events queue has no redrive policy: a malformed message will be received again and again; give it a dead-letter queue (docs/pipeline.md)');
    }
  } catch (err) {
    log.warn({ queueUrl, err: (err as Error).message }, 'could not read the events queue attributes');
  }
}
