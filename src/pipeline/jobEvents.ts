/**
 * Job state change events (EventBridge "Batch Job State Change", as posted to
 * POST /api/v1/jobs/notify): validated on arrival, reduced to what an event
 * may write (status and times: events are hints, DescribeJobs is the truth),
 * made durable in a capped Redis stream, applied in batches by the workers
 * (tasks/applyJobEvents.ts).
 */
import { z } from 'zod';
import type { JobDetail } from '@aws-sdk/client-batch';
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema';
import { AWS_JOB_STATUSES } from '../domain/jobStatus';
import { pipelineKey } from './connection';
import type { JobEventFields } from '../store/jobEvents';
import { JobMappingError, mapJobDetail } from './mapping';
import { metrics } from './metrics';

export const JOB_EVENT_DETAIL_TYPE = 'Batch Job State Change';

export function jobEventStreamKey(config: Pick<Config, 'redis_prefix'>): string {
  return pipelineKey(config, 'job-events');
}
export const JOB_EVENT_GROUP = 'appliers';

const eventSchema = z.object({
  'detail-type': z.literal(JOB_EVENT_DETAIL_TYPE).optional(),
  time: z.string().optional(),
  detail: z
    .object({
      jobId: z.string().min(1).max(64),
      jobName: z.string(),
      jobQueue: z.string().min(1),
      status: z.enum(AWS_JOB_STATUSES),
      createdAt: z.number().finite(),
      // The other fields an event may write from, when present, of the type AWS sends.
      statusReason: z.string().optional(),
      startedAt: z.number().finite().optional(),
      stoppedAt: z.number().finite().optional(),
      attempts: z.array(z.looseObject({})).optional(),
      container: z.looseObject({ exitCode: z.number().int().optional(), reason: z.string().optional() }).optional(),
      arrayProperties: z.looseObject({ index: z.number().int().optional() }).optional(),
    })
    .passthrough(),
});

/** The stored form: the event's time (ms) and what an event may write (store/jobEvents.ts). */
export interface StoredJobEvent {
  t: number;
  f: JobEventFields;
}

export class InvalidJobEventError extends Error {
  constructor(
    readonly index: number,
    readonly problem: string,
  ) {
    super(`event ${index}: ${problem}`);
    this.name = 'InvalidJobEventError';
  }
}

/** The event backlog is at its cap (events_stream_max_length): the caller should retry later. */
export class JobEventBacklogFullError extends Error {
  constructor(readonly max: number) {
    super(`the job event backlog is full (${max} events waiting); retry later`);
    this.name = 'JobEventBacklogFullError';
  }
}

/** ISO-8601, or a mapping error for a time no calendar holds (an epoch in the wrong unit, say). */
function iso(d: Date | null, jobId: string): string | null {
  if (!d) return null;
  if (Number.isNaN(d.getTime())) throw new JobMappingError(`job ${jobId}: a time out of range`, jobId);
  return d.toISOString();
}

/** What an event may write, from a job description (the same reading of it as a describe's). */
export function eventFieldsOf(detail: JobDetail): JobEventFields {
  const job = mapJobDetail(detail);
  return {
    job_id: job.job_id,
    status: job.status as JobEventFields['status'],
    status_reason: job.status_reason,
    run_started_at: iso(job.run_started_at, job.job_id),
    stopped_at: iso(job.stopped_at, job.job_id),
    exitcode: job.exitcode,
    attempts: job.attempts,
    job_name: job.job_name,
    job_queue: job.job_queue,
    created_at: iso(job.created_at, job.job_id) as string,
    array_parent_id: job.array_parent_id,
    array_index: job.array_index,
  };
}

/**
 * Events that carry no job name are skipped, as the Go original did ("barely
 * any details in them"): no detail, or a jobName missing, null or empty.
 */
export function lacksJobName(raw: unknown): boolean {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return false;
  const detail = (raw as { detail?: unknown }).detail;
  if (detail === undefined || detail === null) return true;
  if (typeof detail !== 'object' || Array.isArray(detail)) return false;
  const name = (detail as { jobName?: unknown }).jobName;
  return name === undefined || name === null || name === '';
}

// Out-of-range integers are left to the database, which refuses them into the dead-letter stream.
const isInt = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v);
const isText = (v: unknown) => typeof v === 'string' && !v.includes('\u0000');

/** Wrong types and NUL in text (which no text column holds), said before enqueuing. */
function storableProblem(f: JobEventFields): string | null {
  if (!isText(f.job_name) || !isText(f.job_queue)) return 'detail: jobName and jobQueue must be text without NUL characters';
  if (f.status_reason !== null && !isText(f.status_reason)) return 'detail: the status reason must be text without NUL characters';
  if (f.exitcode !== null && !isInt(f.exitcode)) return 'detail: exitCode must be an integer';
  if (!isInt(f.attempts) || f.attempts < 0) return 'detail: attempts must be a list';
  if (f.array_index !== null && !isInt(f.array_index)) return 'detail: arrayProperties.index must be an integer';
  return null;
}

/** Validates one event; throws InvalidJobEventError saying what is wrong. */
export function parseJobEvent(raw: unknown, index = 0): StoredJobEvent {
  const parsed = eventSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidJobEventError(index, `${issue.path.join('.') || '(event)'}: ${issue.message}`);
  }
  let fields: JobEventFields;
  try {
    fields = eventFieldsOf(parsed.data.detail as unknown as JobDetail);
  } catch (err) {
    if (err instanceof JobMappingError) throw new InvalidJobEventError(index, err.message);
    // Any other failure is a field of the wrong type somewhere in the detail (the event is untrusted input).
    throw new InvalidJobEventError(index, 'detail: a field has the wrong type for a Batch job description');
  }
  const problem = storableProblem(fields);
  if (problem) throw new InvalidJobEventError(index, problem);
  const time = parsed.data.time ? Date.parse(parsed.data.time) : NaN;
  return { t: Number.isFinite(time) ? time : Date.now(), f: fields };
}

export interface EnqueueResult {
  /** Events taken; they are applied within a second or so. */
  accepted: number;
  /** Events without a job name, left out. */
  skipped: number;
}

/**
 * Appends all of a call's events, or none when they would take the stream
 * past its cap (-1): the check and the appends are one atomic step, and
 * nothing already waiting is ever trimmed away (XADD MAXLEN would drop
 * events not applied yet).
 */
const APPEND_CAPPED = `
local room = tonumber(ARGV[1]) - redis.call('XLEN', KEYS[1])
if room < #ARGV - 1 then return -1 end
for i = 2, #ARGV do redis.call('XADD', KEYS[1], '*', 'e', ARGV[i]) end
return #ARGV - 1`;

/**
 * Validates every event first (all or nothing: a bad one rejects the call
 * with InvalidJobEventError; events without a job name are skipped), then
 * appends them to the stream in one atomic step, refused with
 * JobEventBacklogFullError when the backlog would pass `events_stream_max_length`.
 */
export async function enqueueJobEventsTo(
  redis: Redis,
  config: Pick<Config, 'redis_prefix' | 'events_stream_max_length'>,
  events: unknown[],
): Promise<EnqueueResult> {
  if (!Array.isArray(events)) throw new InvalidJobEventError(0, 'expected an array of events');
  const named = events.map((e, i) => ({ e, i })).filter(({ e }) => !lacksJobName(e));
  const stored = named.map(({ e, i }) => parseJobEvent(e, i));
  const skipped = events.length - named.length;
  if (skipped > 0) metrics.eventsSkipped.inc(skipped);
  if (stored.length === 0) return { accepted: 0, skipped };
  const appended = (await redis.eval(
    APPEND_CAPPED,
    1,
    jobEventStreamKey(config),
    String(config.events_stream_max_length),
    ...stored.map((e) => JSON.stringify(e)),
  )) as number;
  if (appended < 0) {
    metrics.eventsRefusedFull.inc(stored.length);
    throw new JobEventBacklogFullError(config.events_stream_max_length);
  }
  metrics.eventsEnqueued.inc(stored.length);
  return { accepted: stored.length, skipped };
}
