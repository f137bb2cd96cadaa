/**
 * Redis connections of the pipeline. BullMQ gets connection options (it opens
 * what it needs); our own keys (locks, marks, rate limits, the event stream)
 * live under the same Config.redis_prefix so deployments and tests sharing one
 * Redis never see each other's data.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'bullmq';
import { redisRateLimiter, type RateLimiter } from '../aws/calls';
import type { Config } from '../config/schema';

export type PipelineRedisConfig = Pick<Config, 'redis_url' | 'redis_prefix'>;

/** Options for BullMQ queues and workers (maxRetriesPerRequest null, as BullMQ requires for workers). */
export function bullConnection(config: PipelineRedisConfig): ConnectionOptions {
  return { url: config.redis_url, maxRetriesPerRequest: null };
}

/**
 * A plain ioredis client for our own keys. `failFast` clients error at once
 * while Redis is unreachable (the rate limiter fails open on that) instead of
 * queueing commands until it is back.
 */
export function createRedis(config: PipelineRedisConfig, opts: { failFast?: boolean; name?: string } = {}): Redis {
  const options: RedisOptions = opts.failFast
    ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectionName: opts.name }
    : { maxRetriesPerRequest: null, connectionName: opts.name };
  const redis = new Redis(config.redis_url, options);
  // Connection errors are retried by ioredis; commands report their own failures.
  redis.on('error', () => undefined);
  return redis;
}

/** "<prefix>:bp:<parts...>" — our keys, beside BullMQ's "<prefix>:<queue>:..." keys. */
export function pipelineKey(config: Pick<Config, 'redis_prefix'>, ...parts: string[]): string {
  return [config.redis_prefix, 'bp', ...parts].join(':');
}

/** Closes a client without waiting on a dead server. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await Promise.race([redis.quit(), new Promise((resolve) => setTimeout(resolve, 1000))]);
  } catch {
    // already closed or unreachable
  }
  redis.disconnect();
}

/**
 * The AWS rate limiter every process shares (Config.aws_calls_per_second per
 * operation), on a fail-fast client of its own so an unreachable Redis lets
 * calls through at once.
 */
export function openRateLimiter(
  config: PipelineRedisConfig & Pick<Config, 'aws_calls_per_second'>,
  name: string,
): { limiter: RateLimiter; close(): Promise<void> } {
  const redis = createRedis(config, { failFast: true, name });
  const limiter = redisRateLimiter(redis, pipelineKey(config, 'rate'), config.aws_calls_per_second);
  return { limiter, close: () => closeRedis(redis) };
}
