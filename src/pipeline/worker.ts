/**
 * Pipeline workers of one process: the sync worker (rounds, per-queue and
 * per-array-parent tasks, round finishing), the maintenance worker, and the
 * job event consumer. Run as many processes as you like against one Redis and
 * one Postgres: BullMQ hands each job to exactly one worker, so every AWS call
 * of a round is made once in total; a worker that dies mid-task has its job
 * moved back to waiting by BullMQ's stalled-job check and retried elsewhere.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlowProducer, Worker, type Job } from 'bullmq';
import type { Knex } from 'knex';
import { createAwsClients, type AwsClients } from '../aws/clients';
import { createLogger, repeatedWarnings, type Logger } from '../log';
import { createDb } from '../store/db';
import type { Config } from '../config/schema';
import { instrumentAwsClients, redisRateLimiter, tallyObject, totalCalls, withCallTally } from './awsCalls';
import { bullConnection, closeRedis, createRedis, pipelineKey } from './connection';
import type { TaskContext } from './context';
import { metrics } from './metrics';
import { MAINTENANCE_JOBS, MAINTENANCE_QUEUE, SYNC_JOBS, SYNC_QUEUE, type MaintenanceJobName } from './names';
import { startJobEventConsumer } from './tasks/applyJobEvents';
import { cleanOldRows } from './tasks/cleanOldRows';
import { killTimedOutJobs } from './tasks/killTimedOutJobs';
import { logComputeEnvironments } from './tasks/logComputeEnvironments';
import { reconcileEcsInstances } from './tasks/reconcileEcsInstances';
import { scaleComputeEnvironments } from './tasks/scaleComputeEnvironments';
import { syncArrayChildren } from './tasks/syncArrayChildren';
import { syncQueue } from './tasks/syncQueue';
import { abandonRound, finishRound, startRound, type FinishRoundData, type SyncTaskData, type TaskFigures } from './tasks/syncRound';
import { terminateStuckInstances } from './tasks/terminateStuckInstances';

export interface WorkerDeps {
  db?: Knex;
  aws?: AwsClients;
  logger?: Logger;
  /** AWS-time "now" for timeouts (tests: the simulator's manual clock). */
  now?: () => Date;
}

export interface PipelineWorkers {
  close(): Promise<void>;
}

const MAINTENANCE_TASKS: Record<MaintenanceJobName, (ctx: TaskContext) => Promise<unknown>> = {
  [MAINTENANCE_JOBS.killTimedOutJobs]: killTimedOutJobs,
  [MAINTENANCE_JOBS.scaleComputeEnvironments]: scaleComputeEnvironments,
  [MAINTENANCE_JOBS.reconcileEcsInstances]: reconcileEcsInstances,
  [MAINTENANCE_JOBS.logComputeEnvironments]: logComputeEnvironments,
  [MAINTENANCE_JOBS.terminateStuckInstances]: terminateStuckInstances,
  [MAINTENANCE_JOBS.cleanOldRows]: cleanOldRows,
};

/** Runs a task body with its AWS calls counted; logs one structured line and records metrics. */
async function instrumented<T>(ctx: TaskContext, job: Job, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const fields = { task: job.name, jobId: job.id, attempt: job.attemptsMade + 1 };
  try {
    const { result, calls } = await withCallTally(fn);
    const durationMs = Date.now() - started;
    // The AWS calls travel with the result: finishRound sums its tasks' into the round's figures.
    const withCalls = { ...(result as object), awsCalls: totalCalls(calls), calls: tallyObject(calls), durationMs };
    ctx.logger.info({ ...fields, ...withCalls }, `${job.name} done`);
    observe(job.name, 'completed', durationMs);
    return withCalls as T;
  } catch (err) {
    const durationMs = Date.now() - started;
    ctx.logger.warn({ ...fields, err: (err as Error).message, durationMs }, `${job.name} failed`);
    observe(job.name, 'failed', durationMs);
    throw err;
  }
}

function observe(task: string, result: string, durationMs: number): void {
  if (task === SYNC_JOBS.queue || task === SYNC_JOBS.arrayChildren) {
    metrics.syncTaskDuration.observe({ task, result }, durationMs / 1000);
  } else if (task in MAINTENANCE_TASKS) {
    metrics.tasks.inc({ task, result });
    metrics.taskDuration.observe({ task }, durationMs / 1000);
  }
}

function isFinalAttempt(job: Job): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

function syncProcessor(ctx: TaskContext, flow: FlowProducer) {
  return async (job: Job) => {
    switch (job.name) {
      case SYNC_JOBS.round:
        return instrumented(ctx, job, () => startRound(ctx, flow, job.id ?? `round-${Date.now()}`));
      case SYNC_JOBS.finish: {
        const data = job.data as FinishRoundData;
        try {
          return await instrumented(ctx, job, async () =>
            finishRound(ctx, data, Object.values(await job.getChildrenValues<TaskFigures>())),
          );
        } catch (err) {
          if (isFinalAttempt(job)) await abandonRound(ctx, { roundId: data.roundId, lockedQueues: data.queues }).catch(() => undefined);
          throw err;
        }
      }
      case SYNC_JOBS.queue:
      case SYNC_JOBS.arrayChildren: {
        const data = job.data as SyncTaskData;
        try {
          return await instrumented<unknown>(ctx, job, () =>
            data.queue !== undefined ? syncQueue(ctx, data.queue) : syncArrayChildren(ctx, data.parentId!),
          );
        } catch (err) {
          if (isFinalAttempt(job)) await abandonRound(ctx, data).catch(() => undefined);
          throw err;
        }
      }
      default:
        throw new Error(`unknown sync job ${job.name}`);
    }
  };
}

function maintenanceProcessor(ctx: TaskContext) {
  return async (job: Job) => {
    const task = MAINTENANCE_TASKS[job.name as MaintenanceJobName];
    if (!task) throw new Error(`unknown maintenance job ${job.name}`);
    return instrumented(ctx, job, () => task(ctx));
  };
}

export async function startWorkers(config: Config, deps: WorkerDeps = {}): Promise<PipelineWorkers> {
  const logger = deps.logger ?? createLogger(config.log_level, { role: 'worker' });
  const ownDb = !deps.db;
  const db = deps.db ?? createDb(config);
  const ownAws = !deps.aws;
  const limiterRedis = createRedis(config, { failFast: true, name: 'bp-rate-limit' });
  const limiter = redisRateLimiter(limiterRedis, pipelineKey(config, 'rate'), config.aws_calls_per_second);
  const aws = instrumentAwsClients(deps.aws ?? createAwsClients(config), limiter);
  const redis = createRedis(config, { name: 'bp-worker' });
  const blocking = createRedis(config, { name: 'bp-events' });
  const ctx: TaskContext = { config, db, aws, redis, logger, now: deps.now ?? (() => new Date()) };

  const connection = bullConnection(config);
  const prefix = config.redis_prefix;
  // The flow producer's client is ours, so a shutdown can drop it even while Redis is unreachable.
  const flowRedis = createRedis(config, { name: 'bp-flow' });
  const flow = new FlowProducer({ connection: flowRedis, prefix });
  const warnRepeated = repeatedWarnings(logger);
  flow.on('error', (err) => warnRepeated({ err: err.message }, 'flow producer error'));
  const common = { connection, prefix, maxStalledCount: 3, stalledInterval: 15_000, lockDuration: 30_000 };
  const workers = [
    new Worker(SYNC_QUEUE, syncProcessor(ctx, flow), { ...common, concurrency: config.worker_concurrency }),
    new Worker(MAINTENANCE_QUEUE, maintenanceProcessor(ctx), { ...common, concurrency: 2 }),
  ];
  for (const w of workers) w.on('error', (err) => warnRepeated({ err: err.message, queue: w.name }, 'worker error'));
  const consumerName = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const consumer = startJobEventConsumer(ctx, blocking, consumerName);
  logger.info({ concurrency: config.worker_concurrency, consumer: consumerName }, 'pipeline workers started');

  return {
    async close() {
      // With Redis unreachable no active job can be completed or handed back,
      // and a graceful close would wait for Redis forever (BullMQ's, and the
      // event consumer's blocking read): close by force instead. Another worker
      // takes the jobs over once they stall.
      const reachable = redis.status === 'ready';
      if (!reachable) logger.warn('Redis unreachable: closing the workers without waiting for it');
      await Promise.all(workers.map((w) => w.close(!reachable)));
      // Unreachable, the consumer's pending read never settles (ioredis keeps it queued): give it a second.
      await (reachable ? consumer.close() : Promise.race([consumer.close(), sleep(1000)]));
      await flow.close();
      await Promise.all([closeRedis(flowRedis), closeRedis(redis), closeRedis(blocking), closeRedis(limiterRedis)]);
      if (ownAws) aws.destroy();
      if (ownDb) await db.destroy();
    },
  };
}
