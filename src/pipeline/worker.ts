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
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createAwsClients, createSqsClient, type AwsClients } from '../aws/clients';
import { createLogger, repeatedWarnings, type Logger } from '../log';
import { createDb } from '../store/db';
import type { Config } from '../config/schema';
import { instrumentAwsClients, tallyObject, totalCalls, withCallTally } from '../aws/calls';
import { bullConnection, closeRedis, createRedis, openRateLimiter } from './connection';
import type { TaskContext } from './context';
import { metrics, reportSyncRoundAgeFrom } from './metrics';
import { MAINTENANCE_QUEUE, SYNC_QUEUE, type PipelineQueueName } from './names';
import { isSwitchedOn, type TaskDefinition, type TaskRun } from './task';
import { taskNamed } from './tasks';
import { startJobEventConsumer } from './tasks/applyJobEvents';
import { startEventQueueConsumer } from './tasks/readEventQueue';

export interface WorkerDeps {
  db?: Knex;
  aws?: AwsClients;
  /** The client for events_queue_url (default: built from the config). */
  sqs?: SQSClient;
  logger?: Logger;
  /** AWS-time "now" for timeouts (tests: the simulator's manual clock). */
  now?: () => Date;
}

export interface PipelineWorkers {
  close(): Promise<void>;
}

/** Runs a task body with its AWS calls counted; logs one structured line and records metrics. */
async function instrumented<T>(ctx: TaskContext, task: TaskDefinition, job: Job, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const fields = { task: job.name, jobId: job.id, attempt: job.attemptsMade + 1 };
  try {
    const { result, calls } = await withCallTally(fn);
    const durationMs = Date.now() - started;
    // The AWS calls travel with the result: finishRound sums its tasks' into the round's figures.
    const withCalls = { ...(result as object), awsCalls: totalCalls(calls), calls: tallyObject(calls), durationMs };
    ctx.logger.info({ ...fields, ...withCalls }, `${job.name} done`);
    observe(task, 'completed', durationMs);
    return withCalls as T;
  } catch (err) {
    const durationMs = Date.now() - started;
    ctx.logger.warn({ ...fields, err: (err as Error).message, durationMs }, `${job.name} failed`);
    observe(task, 'failed', durationMs);
    throw err;
  }
}

function observe(task: TaskDefinition, result: 'completed' | 'failed', durationMs: number): void {
  if (task.metric === 'syncTask') {
    metrics.syncTaskDuration.observe({ task: task.name, result }, durationMs / 1000);
  } else if (task.metric === 'task') {
    metrics.tasks.inc({ task: task.name, result });
    metrics.taskDuration.observe({ task: task.name }, durationMs / 1000);
  }
}

function isFinalAttempt(job: Job): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

function taskRun(job: Job, flow: FlowProducer): TaskRun {
  return {
    id: job.id ?? `${job.name}-${Date.now()}`,
    flow,
    childResults: async <T>() => Object.values(await job.getChildrenValues<T>()),
  };
}

/**
 * What a switched-off task does when a job of it arrives anyway (added by
 * hand in bull-board, a stale scheduler, a process with another config):
 * nothing, and says why. The job completes, so BullMQ does not retry it.
 */
function refuseSwitchedOff(ctx: TaskContext, task: TaskDefinition, job: Job): { skipped: string } {
  const reason = `switched off: ${task.switchedOnBy} = false in this worker's config`;
  ctx.logger.warn({ task: job.name, jobId: job.id, switchedOnBy: task.switchedOnBy }, `${job.name} not run: ${reason}`);
  if (task.metric === 'task') metrics.tasks.inc({ task: task.name, result: 'skipped' });
  return { skipped: reason };
}

/** The processor of one BullMQ queue: each job runs the task definition of its name. */
function processorFor(queue: PipelineQueueName, ctx: TaskContext, flow: FlowProducer) {
  return async (job: Job) => {
    const task = taskNamed(job.name, queue);
    if (!task) throw new Error(`unknown ${queue} job ${job.name}`);
    if (!isSwitchedOn(task, ctx.config)) return refuseSwitchedOff(ctx, task, job);
    try {
      return await instrumented(ctx, task, job, () => task.run(ctx, job.data, taskRun(job, flow)));
    } catch (err) {
      if (task.onFinalFailure && isFinalAttempt(job)) await task.onFinalFailure(ctx, job.data).catch(() => undefined);
      throw err;
    }
  };
}

export async function startWorkers(config: Config, deps: WorkerDeps = {}): Promise<PipelineWorkers> {
  const logger = deps.logger ?? createLogger(config.log_level, { role: 'worker' });
  const ownDb = !deps.db;
  const db = deps.db ?? createDb(config);
  const ownAws = !deps.aws;
  const rateLimit = openRateLimiter(config, 'bp-rate-limit');
  const aws = instrumentAwsClients(deps.aws ?? createAwsClients(config), rateLimit.limiter);
  const redis = createRedis(config, { name: 'bp-worker' });
  const blocking = createRedis(config, { name: 'bp-events' });
  const ctx: TaskContext = { config, db, aws, redis, logger, now: deps.now ?? (() => new Date()) };
  const stopRoundAge = reportSyncRoundAgeFrom(db); // batchiepatchie_sync_round_age_seconds on metrics_port

  const connection = bullConnection(config);
  const prefix = config.redis_prefix;
  // The flow producer's client is ours, so a shutdown can drop it even while Redis is unreachable.
  const flowRedis = createRedis(config, { name: 'bp-flow' });
  const flow = new FlowProducer({ connection: flowRedis, prefix });
  const warnRepeated = repeatedWarnings(logger);
  flow.on('error', (err) => warnRepeated({ err: err.message }, 'flow producer error'));
  const common = { connection, prefix, maxStalledCount: 3, stalledInterval: 15_000, lockDuration: 30_000 };
  const workers = [
    new Worker(SYNC_QUEUE, processorFor(SYNC_QUEUE, ctx, flow), { ...common, concurrency: config.worker_concurrency }),
    new Worker(MAINTENANCE_QUEUE, processorFor(MAINTENANCE_QUEUE, ctx, flow), { ...common, concurrency: 2 }),
  ];
  for (const w of workers) w.on('error', (err) => warnRepeated({ err: err.message, queue: w.name }, 'worker error'));
  const consumerName = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const consumer = startJobEventConsumer(ctx, blocking, consumerName);
  const ownSqs = !deps.sqs;
  const sqs = config.events_queue_url ? (deps.sqs ?? createSqsClient(config)) : undefined;
  const queueConsumer = sqs && config.events_queue_url ? startEventQueueConsumer(ctx, sqs, config.events_queue_url) : undefined;
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
      await queueConsumer?.close();
      if (ownSqs) sqs?.destroy();
      // Unreachable, the consumer's pending read never settles (ioredis keeps it queued): give it a second.
      await (reachable ? consumer.close() : Promise.race([consumer.close(), sleep(1000)]));
      await flow.close();
      await Promise.all([closeRedis(flowRedis), closeRedis(redis), closeRedis(blocking), rateLimit.close()]);
      stopRoundAge();
      if (ownAws) aws.destroy();
      if (ownDb) await db.destroy();
    },
  };
}
