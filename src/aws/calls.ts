/**
 * Every AWS call Batchiepatchie makes (pipeline and API) goes through one SDK
 * middleware that (1) waits for a token of a Redis-backed bucket per
 * operation, shared by all processes (Config.aws_calls_per_second), and
 * (2) counts the call:
 * a Prometheus counter, and the per-task tally the task's log line reports
 * (AsyncLocalStorage, so concurrent tasks in one process keep their own).
 * The SDK's own retry (with back-off on throttling) sits outside this
 * middleware, so retries take tokens and are counted too.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Redis } from 'ioredis';
import type { AwsClients } from './clients';
import { awsMetrics as metrics } from './metrics';

/** Calls per operation ("Batch.ListJobs") made inside one task. */
export type CallTally = Map<string, number>;

const tallies = new AsyncLocalStorage<CallTally>();

/** Runs fn with a fresh tally; returns fn's result and the calls it made. */
export async function withCallTally<T>(fn: () => Promise<T>): Promise<{ result: T; calls: CallTally }> {
  const calls: CallTally = new Map();
  const result = await tallies.run(calls, fn);
  return { result, calls };
}

export function totalCalls(calls: CallTally): number {
  let n = 0;
  for (const v of calls.values()) n += v;
  return n;
}

export function tallyObject(calls: CallTally): Record<string, number> {
  return Object.fromEntries([...calls.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Token bucket in one Lua call: refill by elapsed time (Redis clock, so all
 * processes agree), take a token if there is one, else say how long to wait.
 */
const TAKE_TOKEN_LUA = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local data = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(data[1])
local ts = tonumber(data[2])
if tokens == nil then tokens = burst; ts = now end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], 60000)
return wait`;

export interface RateLimiter {
  /** Resolves when a call of this operation may go out. */
  take(operation: string): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The longest the first calls wait for the limiter's first connection to Redis. */
export const FIRST_CONNECTION_WAIT_MS = 2_000;

/**
 * Resolves when the client's first connection is ready, has failed, or after
 * FIRST_CONNECTION_WAIT_MS. A fail-fast client (no offline queue) rejects
 * commands until then, which the limiter would take for Redis being down: every
 * process would make its first calls unlimited.
 */
function firstConnection(redis: Redis): Promise<void> {
  if (redis.status === 'wait') redis.connect().catch(() => undefined); // lazyConnect: the outcome comes as events
  if (redis.status !== 'connecting' && redis.status !== 'connect') return Promise.resolve();
  return new Promise((resolve) => {
    const events = ['ready', 'error', 'close', 'end'] as const;
    const done = () => {
      clearTimeout(timer);
      for (const e of events) redis.off(e, done);
      resolve();
    };
    const timer = setTimeout(done, FIRST_CONNECTION_WAIT_MS);
    for (const e of events) redis.once(e, done);
  });
}

/**
 * A rate limiter shared through Redis. When Redis is unreachable it lets calls
 * through (fails open): AWS throttling plus SDK back-off still protect us, and
 * a Redis blip must not stop the mirror. A client still making its first
 * connection is not unreachable: calls wait for it (bounded).
 */
export function redisRateLimiter(redis: Redis, keyPrefix: string, callsPerSecond: number): RateLimiter {
  const rate = Math.max(0.1, callsPerSecond);
  const burst = Math.max(1, Math.ceil(rate));
  let connected: Promise<void> | undefined;
  return {
    async take(operation) {
      await (connected ??= firstConnection(redis));
      for (let i = 0; i < 1000; i++) {
        let wait: number;
        try {
          wait = Number(await redis.eval(TAKE_TOKEN_LUA, 1, `${keyPrefix}:${operation}`, rate, burst));
        } catch {
          return;
        }
        if (!(wait > 0)) return;
        metrics.awsThrottleWaits.inc({ operation });
        // Jitter so waiting workers do not all retry at the same instant.
        await sleep(wait + Math.random() * wait * 0.5);
      }
    },
  };
}

export const noRateLimit: RateLimiter = { async take() {} };

/** "BatchClient" + "ListJobsCommand" -> "Batch.ListJobs" (the simulator's counter keys). */
export function operationName(clientName: string | undefined, commandName: string | undefined): string {
  const service = (clientName ?? 'Unknown').replace(/Client$/, '');
  const op = (commandName ?? 'Unknown').replace(/Command$/, '');
  return `${service === 'CloudWatchLogs' ? 'Logs' : service}.${op}`;
}

interface MiddlewareContext {
  clientName?: string;
  commandName?: string;
}

type Stack = {
  add(
    mw: (next: (args: unknown) => Promise<unknown>, context: MiddlewareContext) => (args: unknown) => Promise<unknown>,
    opts: { step: 'finalizeRequest'; priority: 'low'; name: string },
  ): void;
};

type SomeClients = Partial<Pick<AwsClients, 'batch' | 'ecs' | 'ec2' | 'logs' | 's3'>>;

/** Adds the limiting + counting middleware to each client given (once per client). */
export function instrumentAwsClients<T extends SomeClients>(clients: T, limiter: RateLimiter): T {
  for (const client of [clients.batch, clients.ecs, clients.ec2, clients.logs, clients.s3]) {
    if (!client) continue;
    const stack = client.middlewareStack as unknown as Stack & { identify?(): string[] };
    if (stack.identify?.().some((s) => s.startsWith('batchiepatchieCalls'))) continue;
    stack.add(
      (next, context) => async (args) => {
        const operation = operationName(context.clientName, context.commandName);
        await limiter.take(operation);
        metrics.awsCalls.inc({ operation });
        const tally = tallies.getStore();
        if (tally) tally.set(operation, (tally.get(operation) ?? 0) + 1);
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'batchiepatchieCalls' },
    );
  }
  return clients;
}
