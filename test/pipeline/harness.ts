/** One simulator (manual clock) + one test database + one Redis prefix + N in-process pipeline workers. */
import type { Knex } from 'knex';
import { startSimulator, type SimulatorHandle } from 'aws-batch-simulator';
import { openPipelineQueues, type PipelineQueuesInternal } from '../../src/pipeline/queues';
import { startWorkers, type PipelineWorkers } from '../../src/pipeline/worker';
import { runSyncRound, runMaintenanceTask, type RoundOutcome } from '../../src/pipeline/runNow';
import type { MaintenanceTaskName } from '../../src/pipeline/tasks';
import { activateQueue } from '../../src/store/queues';
import type { Config } from '../../src/config/schema';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { testRedisPrefix } from '../helpers/redis';

export interface Harness {
  sim: SimulatorHandle;
  tdb: TestDatabase;
  db: Knex;
  config: Config;
  pq: PipelineQueuesInternal;
  workers: PipelineWorkers[];
  round(): Promise<RoundOutcome>;
  task<T = unknown>(name: MaintenanceTaskName): Promise<T>;
  /** Sets up a compute environment + queue in the simulator and activates it. */
  queue(name: string, opts?: { activate?: boolean; instances?: number; minvCpus?: number; maxvCpus?: number }): Promise<void>;
  startWorkers(n: number, extra?: Partial<Config>): Promise<void>;
  stopWorkers(): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(opts: { workers?: number; config?: Partial<Config>; redisUrl?: string } = {}): Promise<Harness> {
  const sim = await startSimulator({ port: 0, clock: 'manual', scenario: 'empty' });
  const tdb = await createTestDatabase();
  const redis = testRedisPrefix();
  const config: Config = {
    ...tdb.config,
    aws_endpoint: sim.endpoint,
    redis_prefix: redis.prefix,
    aws_calls_per_second: 10_000,
    worker_concurrency: 4,
    log_level: 'silent',
    ...(opts.redisUrl ? { redis_url: opts.redisUrl } : {}),
    ...opts.config,
  };
  const pq = openPipelineQueues(config);
  const h: Harness = {
    sim,
    tdb,
    db: tdb.db,
    config,
    pq,
    workers: [],
    round: () => runSyncRound(pq, { timeoutMs: 60_000 }),
    task: (name) => runMaintenanceTask(pq, name, { timeoutMs: 60_000 }),
    async queue(name, q = {}) {
      sim.model.createComputeEnvironment({
        name: `${name}-ce`,
        instances: q.instances ?? 1,
        minvCpus: q.minvCpus ?? 0,
        maxvCpus: q.maxvCpus ?? 256,
      });
      sim.model.createJobQueue({ name, computeEnvironments: [`${name}-ce`] });
      if (q.activate !== false) await activateQueue(tdb.db, name);
    },
    async startWorkers(n, extra = {}) {
      for (let i = 0; i < n; i++) {
        h.workers.push(
          await startWorkers({ ...config, ...extra }, { now: () => new Date(sim.model.now()) }),
        );
      }
    },
    async stopWorkers() {
      await Promise.all(h.workers.map((w) => w.close()));
      h.workers = [];
    },
    async close() {
      await h.stopWorkers();
      await pq.close();
      await sim.stop();
      await tdb.drop();
      await redis.cleanup();
    },
  };
  await h.startWorkers(opts.workers ?? 1);
  return h;
}

/** Only the AWS operations of the pipeline, without the simulator's zero entries. */
export function awsCounters(sim: SimulatorHandle): Record<string, number> {
  return Object.fromEntries(Object.entries(sim.counters.get()).filter(([, n]) => n > 0).sort(([a], [b]) => a.localeCompare(b)));
}
