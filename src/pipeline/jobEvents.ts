/**
 * Job state change events (EventBridge "Batch Job State Change", as posted to
 * POST /api/v1/jobs/notify): validated on arrival, made durable in a Redis
 * stream, applied in batches by the workers (tasks/applyJobEvents.ts).
 */
import { z } from 'zod';
import type { JobDetail } from '@aws-sdk/client-batch';
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema';
import { AWS_JOB_STATUSES } from '../domain/jobStatus';
import { pipelineKey } from './connection';
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
    })
    .passthrough(),
});

/** The stored form: the event's time (ms) and the job description. */
export interface StoredJobEvent {
  t: number;
  d: JobDetail;
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

/** Validates one event; throws InvalidJobEventError saying what is wrong. */
export function parseJobEvent(raw: unknown, index = 0): StoredJobEvent {
  const parsed = eventSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidJobEventError(index, `${issue.path.join('.') || '(event)'}: ${issue.message}`);
  }
  const detail = parsed.data.detail as unknown as JobDetail;
  try {
    mapJobDetail(detail);
  } catch (err) {
    if (err instanceof JobMappingError) throw new InvalidJobEventError(index, err.message);
    throw err;
  }
  const time = parsed.data.time ? Date.parse(parsed.data.time) : NaN;
  return { t: Number.isFinite(time) ? time : Date.now(), d: detail };
}

/**
 * Validates every event first (all or nothing: a bad one rejects the call
 * with InvalidJobEventError), then appends them to the stream in one round
 * trip. Returns how many were enqueued.
 */
export async function enqueueJobEventsTo(redis: Redis, config: Pick<Config, 'redis_prefix'>, events: unknown[]): Promise<number> {
  if (!Array.isArray(events)) throw new InvalidJobEventError(0, 'expected an array of events');
  const stored = events.map((e, i) => parseJobEvent(e, i));
  if (stored.length === 0) return 0;
  const key = jobEventStreamKey(config);
  const pipeline = redis.pipeline();
  for (const e of stored) pipeline.xadd(key, '*', 'e', JSON.stringify(e));
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([err]) => err);
  if (failed) throw failed[0]!;
  metrics.eventsEnqueued.inc(stored.length);
  return stored.length;
}
