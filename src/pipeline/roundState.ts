/**
 * Round bookkeeping in Redis: per-queue locks (two rounds of one queue never
 * overlap) and per-queue creation marks (how far back the next round lists
 * finished jobs).
 */
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema';
import { pipelineKey } from './connection';
import type { TaskContext } from './context';
import { metrics } from './metrics';

type KeyConfig = Pick<Config, 'redis_prefix'>;

/** Deletes the key only while it still holds our value. */
const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/**
 * Takes the queue's lock for a round, or confirms the round already holds it
 * (a retried round job). The TTL frees it if everything holding it died.
 */
export async function tryLockQueue(redis: Redis, config: KeyConfig, queue: string, roundId: string, ttlMs: number): Promise<boolean> {
  const key = pipelineKey(config, 'lock', 'queue', queue);
  const ok = await redis.set(key, roundId, 'PX', ttlMs, 'NX');
  if (ok === 'OK') return true;
  return (await redis.get(key)) === roundId;
}

export async function releaseQueueLocks(redis: Redis, config: KeyConfig, queues: string[], roundId: string): Promise<void> {
  for (const queue of queues) {
    await redis.eval(RELEASE_LUA, 1, pipelineKey(config, 'lock', 'queue', queue), roundId);
  }
}

/** What every task of a round carries: the round and every queue it locked. */
export interface RoundTaskData {
  roundId: string;
  /** Released all at once if a task of the round fails for good. */
  lockedQueues: string[];
}

/**
 * A task of the round (or its finishing step) failed for good: free the
 * round's queues so the next round is not blocked until the locks expire.
 * A sibling task still running may then overlap the next round's task of its
 * queue once; both only read AWS and upsert, so the mirror stays right.
 */
export async function abandonRound(ctx: TaskContext, data: RoundTaskData): Promise<void> {
  await releaseQueueLocks(ctx.redis, ctx.config, data.lockedQueues, data.roundId);
  metrics.rounds.inc({ result: 'failed' });
}

/**
 * How far back finished jobs are listed (before the margin): the later of the
 * newest createdAt seen and the (wall-clock) start of the last successful
 * sync of the queue — every job created after that start is newer than both.
 * Null before the first successful sync (the bootstrap round lists all statuses).
 */
export async function getCreatedMark(redis: Redis, config: KeyConfig, queue: string): Promise<number | null> {
  const [created, synced] = await Promise.all([
    redis.hget(pipelineKey(config, 'created-mark'), queue),
    redis.hget(pipelineKey(config, 'synced-at'), queue),
  ]);
  if (created === null && synced === null) return null;
  return Math.max(Number(created ?? 0), Number(synced ?? 0));
}

/** Records the start time of a successful sync of the queue. */
export async function recordSyncedAt(redis: Redis, config: KeyConfig, queue: string, startedAt: number): Promise<void> {
  await redis.eval(RAISE_MARK_LUA, 1, pipelineKey(config, 'synced-at'), queue, String(startedAt));
}

/** Only moves forward, atomically, whatever order concurrent writers finish in. */
const RAISE_MARK_LUA = `
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
if cur == nil or cur < tonumber(ARGV[2]) then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1`;

export async function raiseCreatedMark(redis: Redis, config: KeyConfig, queue: string, mark: number): Promise<void> {
  await redis.eval(RAISE_MARK_LUA, 1, pipelineKey(config, 'created-mark'), queue, String(mark));
}
