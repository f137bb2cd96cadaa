/**
 * Pipeline benchmark (npm run bench:pipeline).
 *
 * 0. The first round of the queue (bootstrap: all 7 statuses listed, every job
 *    new): ours (runSyncRound: listing, DescribeJobs and upserts overlapping as
 *    a pipeline) vs the sequential way (list every status, then describe every
 *    job, then upsert them in batches of 1,000, into a second fresh database),
 *    on the same simulator state in the same run: wall time, AWS calls, peak
 *    heap. Ours runs first (the sequential way then finds the simulator and the
 *    SDK warmed up).
 * 1. Sync round against the simulator holding BENCH_PIPELINE_FINISHED retained
 *    finished jobs (default 100,000) and BENCH_PIPELINE_ACTIVE active ones
 *    (default 1,000) in one queue: AWS calls and wall time of one round, ours
 *    (active statuses + finished ones since the mark, describe only new/changed) vs
 *    the Go original's way (list all 7 statuses, describe every listed job,
 *    upsert them), on the same state in the same run — a steady round (nothing
 *    changed) and a moving round (30 simulated seconds of transitions).
 * 2. Event ingestion: BENCH_PIPELINE_EVENTS job state change events (default
 *    20,000, for 5,000 jobs) posted one per call by 32 concurrent producers,
 *    applied by two worker processes' consumers; events/s from the first
 *    enqueue to the last applied, zero loss checked row by row; vs the naive
 *    way (one guarded upsert statement per event) on the same events.
 *
 * Own database, own Redis key prefix, simulator on a free port; all removed at
 * the end. Env: BENCH_PIPELINE_FINISHED, BENCH_PIPELINE_ACTIVE, BENCH_PIPELINE_EVENTS,
 * BENCH_PIPELINE_ONLY_FIRST_ROUND=1 (stop after the first-round comparison).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { JobDetail } from '@aws-sdk/client-batch';
import { Redis } from 'ioredis';
import { createAwsClients } from '../src/aws/clients';
import { configWith } from '../src/config/defaults';
import { describeJobs, DESCRIBE_CONCURRENCY, listAllJobs } from '../src/aws/batch';
import { dependenciesOf } from '../src/pipeline/mapping';
import { eventFieldsOf } from '../src/pipeline/jobEvents';
import { mapJobDetail } from '../src/pipeline/mapping';
import { openPipelineQueues } from '../src/pipeline/queues';
import { runSyncRound } from '../src/pipeline/runNow';
import { startWorkers, type PipelineWorkers } from '../src/pipeline/worker';
import { startSimulator, type SimulatorHandle } from 'aws-batch-simulator';
import { createDb, migrateLatest } from '../src/store/db';
import { applyJobEventRows } from '../src/store/jobEvents';
import { upsertJobs } from '../src/store/jobs/upsert';
import { getJobStates } from '../src/store/jobs/sync';
import { activateQueue } from '../src/store/queues';
import { AWS_JOB_STATUSES } from '../src/domain/jobStatus';
import type { Config } from '../src/config/schema';
import { deleteKeysWithPrefix } from '../test/helpers/redis';
import { createScratchDatabase } from './scratchDatabase';

const FINISHED = Number(process.env.BENCH_PIPELINE_FINISHED ?? 100_000);
const ACTIVE = Number(process.env.BENCH_PIPELINE_ACTIVE ?? 1_000);
const EVENTS = Number(process.env.BENCH_PIPELINE_EVENTS ?? 20_000);
const EVENT_JOBS = Math.max(1, Math.floor(EVENTS / 4));
const QUEUE = 'bench-queue';

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (n: number) => n.toLocaleString('en-US');

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

function calls(sim: SimulatorHandle): { total: number; byOp: Record<string, number> } {
  const byOp = Object.fromEntries(Object.entries(sim.counters.get()).filter(([, n]) => n > 0));
  return { total: Object.values(byOp).reduce((a, b) => a + b, 0), byOp };
}

/** The Go original's round: list all 7 statuses, describe every listed job (100 a call), upsert all. */
async function goStyleRound(config: Config, db: ReturnType<typeof createDb>): Promise<number> {
  const aws = createAwsClients({ ...config, maxAttempts: 5 });
  try {
    let described = 0;
    for (const jobStatus of AWS_JOB_STATUSES) {
      const summaries = await listAllJobs(aws.batch, { jobQueue: QUEUE, jobStatus });
      const details = await describeJobs(aws.batch, summaries.map((s) => s.jobId!), 4);
      described += details.length;
      await upsertJobs(db, details.map(mapJobDetail), { batchSize: 1000 });
    }
    return described;
  } finally {
    aws.destroy();
  }
}

/**
 * The first round done one stage after the other (the way the sync worked
 * before the pipeline, without its 5,000-job steps): list all 7 statuses (in
 * parallel), read our rows of the listed ids (all new here), then describe
 * every job (100 ids a call, the same number of calls in flight), then upsert
 * them all in batches of 1,000 with their dependency sets.
 */
async function sequentialFirstRound(config: Config, db: ReturnType<typeof createDb>, phases: number[]): Promise<number> {
  const aws = createAwsClients({ ...config, maxAttempts: 5 });
  try {
    const list = await timed(async () => {
      const lists = await Promise.all(AWS_JOB_STATUSES.map((jobStatus) => listAllJobs(aws.batch, { jobQueue: QUEUE, jobStatus })));
      const ids = lists.flat().map((s) => s.jobId!);
      const states = await getJobStates(db, ids);
      return ids.filter((id) => !states.has(id));
    });
    const describe = await timed(() => describeJobs(aws.batch, list.value, DESCRIBE_CONCURRENCY));
    const details = describe.value;
    const upsert = await timed(async () => {
      const dependencies = new Map(details.map((d) => [d.jobId!, dependenciesOf(d)]));
      await upsertJobs(db, details.map(mapJobDetail), { batchSize: 1000, dependencies });
    });
    phases.push(list.ms, describe.ms, upsert.ms);
    return details.length;
  } finally {
    aws.destroy();
  }
}

interface RoundFigures {
  calls: number;
  ms: number;
  byOp: Record<string, number>;
  /** Highest heap growth while it ran, MiB (sampled every 10 ms, from the heap in use before; garbage not yet collected included). */
  peakHeapMiB: number;
  /** CPU time of this process (workers, SDK and simulator) while it ran: the rest of the wall time is Postgres and waiting. */
  cpuMs: number;
}

async function measure(sim: SimulatorHandle, fn: () => Promise<unknown>): Promise<RoundFigures> {
  sim.counters.reset();
  (global as { gc?: () => void }).gc?.(); // with --expose-gc (npm run bench:pipeline): growth from a clean heap
  const base = process.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  let peak = base;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 10);
  try {
    const { ms } = await timed(fn);
    const cpu = process.cpuUsage(cpu0);
    const c = calls(sim);
    return { calls: c.total, ms, byOp: c.byOp, peakHeapMiB: Math.round((peak - base) / 2 ** 20), cpuMs: (cpu.user + cpu.system) / 1000 };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * When each stage of the round ran, from the simulator's call log (the first
 * round's calls fit in it) and the rows' last_updated: the stages overlap.
 */
async function stageSpans(sim: SimulatorHandle, db: ReturnType<typeof createDb>): Promise<string> {
  const log = sim.counters.calls();
  const t0 = Math.min(...log.map((c) => c.startedAt));
  const s = (ms: number) => `${(ms / 1000).toFixed(1)}`;
  const span = (op: string) => {
    const x = log.filter((c) => c.operation === op);
    return `${s(Math.min(...x.map((c) => c.startedAt)) - t0)}–${s(Math.max(...x.map((c) => c.endedAt)) - t0)} s`;
  };
  const w = (await db('jobs').select(db.raw('min(last_updated) AS a, max(last_updated) AS b')))[0] as { a: Date; b: Date };
  return `ListJobs ${span('Batch.ListJobs')}, DescribeJobs ${span('Batch.DescribeJobs')}, upserts ${s(w.a.getTime() - t0)}–${s(w.b.getTime() - t0)} s`;
}

const secs = (f: RoundFigures) => `${(f.ms / 1000).toFixed(2)} s`;

function row(label: string, ours: RoundFigures, go: RoundFigures): string {
  return `| ${label} | ${fmt(ours.calls)} | ${(ours.ms / 1000).toFixed(2)} s | ${fmt(go.calls)} | ${(go.ms / 1000).toFixed(2)} s | ${(go.calls / Math.max(1, ours.calls)).toFixed(1)}x fewer calls, ${(go.ms / ours.ms).toFixed(1)}x faster |`;
}

/** A job description at a given step of its life (0 SUBMITTED .. 3 SUCCEEDED). */
function eventDetail(i: number, step: number, base: number): JobDetail {
  const statuses = ['SUBMITTED', 'RUNNABLE', 'RUNNING', 'SUCCEEDED'] as const;
  return {
    jobId: `evt-${String(i).padStart(8, '0')}-${base}`.slice(0, 64),
    jobName: `event-job-${i}`,
    jobQueue: `arn:aws:batch:us-east-1:123456789012:job-queue/${QUEUE}`,
    jobDefinition: 'arn:aws:batch:us-east-1:123456789012:job-definition/evt:1',
    status: statuses[step],
    createdAt: base + i,
    startedAt: step >= 2 ? base + i + 10_000 : undefined,
    stoppedAt: step === 3 ? base + i + 20_000 : undefined,
    container: { image: 'busybox', vcpus: 1, memory: 128, command: ['true'], exitCode: step === 3 ? 0 : undefined },
  };
}

async function eventBench(config: Config, db: ReturnType<typeof createDb>): Promise<string[]> {
  const pq = openPipelineQueues(config);
  const base = Date.now();
  // Each job gets its 4 events; producers send them shuffled, so many arrive out of order.
  const events: { detail: JobDetail; time: number }[] = [];
  for (let i = 0; i < EVENT_JOBS; i++) for (let step = 0; step < 4; step++) events.push({ detail: eventDetail(i, step, base), time: base + step * 1000 });
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [events[i], events[j]] = [events[j], events[i]];
  }
  const countDone = async () =>
    Number((await db('jobs').where('job_id', 'like', `evt-%-${base}`).where('status', 'SUCCEEDED').count({ n: '*' }))[0].n);

  const { ms } = await timed(async () => {
    let next = 0;
    const producer = async () => {
      while (next < events.length) {
        const e = events[next++];
        await pq.enqueueJobEvents([{ 'detail-type': 'Batch Job State Change', time: new Date(e.time).toISOString(), detail: e.detail }]);
      }
    };
    await Promise.all(Array.from({ length: 32 }, producer));
    while ((await countDone()) < EVENT_JOBS) await sleep(20);
  });
  // Zero loss and order: every job ends exactly as its newest event says.
  const rows: { job_id: string; status: string; stopped_at: Date | null }[] = await db('jobs')
    .where('job_id', 'like', `evt-%-${base}`)
    .select('job_id', 'status', 'stopped_at');
  const wrong = rows.filter((r) => r.status !== 'SUCCEEDED' || r.stopped_at === null).length;
  const lost = EVENT_JOBS - rows.length;
  await pq.close();

  // Naive: one guarded upsert statement per event, 8 at a time (the pool's share), same events.
  const naiveBase = base + 1;
  const naiveEvents = events.map((e) => ({ ...e, detail: { ...e.detail, jobId: e.detail.jobId!.replace(`-${base}`, `-${naiveBase}`) } }));
  const naive = await timed(async () => {
    let next = 0;
    const one = async () => {
      while (next < naiveEvents.length) {
        const e = naiveEvents[next++];
        await applyJobEventRows(db, [{ fields: eventFieldsOf(e.detail), eventTime: e.time }]);
      }
    };
    await Promise.all(Array.from({ length: 8 }, one));
  });
  const oursRate = (events.length / ms) * 1000;
  const naiveRate = (naiveEvents.length / naive.ms) * 1000;
  return [
    `| events (jobs) | ours: enqueue -> applied | events/s | naive: one statement per event | events/s | lost | wrong final state |`,
    `|---|---|---|---|---|---|---|`,
    `| ${fmt(events.length)} (${fmt(EVENT_JOBS)}) | ${(ms / 1000).toFixed(2)} s | **${fmt(Math.round(oursRate))}** | ${(naive.ms / 1000).toFixed(2)} s | ${fmt(Math.round(naiveRate))} (ours ${(oursRate / naiveRate).toFixed(1)}x) | ${lost} | ${wrong} |`,
  ];
}

async function main(): Promise<void> {
  const admin = createDb({ ...configWith({ database_name: 'postgres' }) }, { min: 0, max: 1 });
  const scratch = await createScratchDatabase(admin, 'bp_bench_pipeline');
  const sim = await startSimulator({ port: 0, clock: 'manual', scenario: 'empty', retentionSeconds: 7 * 86_400 });
  const prefix = `bp-bench-${randomBytes(3).toString('hex')}`;
  const config = configWith({
    database_name: scratch.name,
    aws_endpoint: sim.endpoint,
    redis_prefix: prefix,
    aws_calls_per_second: 100_000,
    worker_concurrency: 8,
    log_level: 'warn',
  });
  const db = createDb(config);
  const seqScratch = await createScratchDatabase(admin, 'bp_bench_pipeline_seq');
  const seqDb = createDb(configWith({ database_name: seqScratch.name }));
  const workers: PipelineWorkers[] = [];
  const out: string[] = [];
  try {
    await migrateLatest(db);
    await migrateLatest(seqDb);
    sim.model.createComputeEnvironment({ name: 'bench-ce', instances: 2, maxvCpus: 4096 });
    sim.model.createJobQueue({ name: QUEUE, computeEnvironments: ['bench-ce'] });
    await activateQueue(db, QUEUE);
    const load = await timed(async () => sim.model.bulkLoad({ queue: QUEUE, finished: FINISHED, active: ACTIVE }));
    log(`simulator: ${fmt(FINISHED)} finished + ${fmt(ACTIVE)} active jobs loaded in ${(load.ms / 1000).toFixed(1)} s`);

    workers.push(await startWorkers(config, {}), await startWorkers(config, {}));
    const pq = openPipelineQueues(config);
    const round = async () => {
      const r = await runSyncRound(pq, { timeoutMs: 600_000 });
      if (r.status !== 'completed') throw new Error(`round ${r.status}`);
    };

    const bootstrap = await measure(sim, round);
    log(`ours, first round (bootstrap, pipelined): ${fmt(bootstrap.calls)} calls ${JSON.stringify(bootstrap.byOp)}, ${secs(bootstrap)}, peak heap growth ${bootstrap.peakHeapMiB} MiB`);
    const oursRows = Number((await db('jobs').count({ n: '*' }))[0].n);
    const overlap = await stageSpans(sim, db);
    log(`ours, stages: ${overlap}; node CPU ${(bootstrap.cpuMs / 1000).toFixed(1)} s`);
    const phases: number[] = [];
    const sequential = await measure(sim, () => sequentialFirstRound(config, seqDb, phases));
    const phaseText = `list + read rows ${(phases[0] / 1000).toFixed(1)} s + describe ${(phases[1] / 1000).toFixed(1)} s + upsert ${(phases[2] / 1000).toFixed(1)} s`;
    log(`sequential first round (list all, then describe all, then upsert): ${fmt(sequential.calls)} calls ${JSON.stringify(sequential.byOp)}, ${secs(sequential)} (${phaseText}), peak heap growth ${sequential.peakHeapMiB} MiB`);
    const seqRows = Number((await seqDb('jobs').count({ n: '*' }))[0].n);
    if (oursRows !== seqRows || oursRows !== FINISHED + ACTIVE) throw new Error(`first round rows: ours ${oursRows}, sequential ${seqRows}, expected ${FINISHED + ACTIVE}`);
    if (process.env.BENCH_PIPELINE_ONLY_FIRST_ROUND === '1') {
      await pq.close();
      log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ${(sequential.ms / bootstrap.ms).toFixed(2)}x`);
      return;
    }
    const oursSteady = await measure(sim, round);
    log(`ours, steady round: ${fmt(oursSteady.calls)} calls ${JSON.stringify(oursSteady.byOp)}, ${(oursSteady.ms / 1000).toFixed(2)} s`);
    const goSteady = await measure(sim, () => goStyleRound(config, db));
    log(`Go way, steady round: ${fmt(goSteady.calls)} calls ${JSON.stringify(goSteady.byOp)}, ${(goSteady.ms / 1000).toFixed(2)} s`);

    // 30 simulated seconds: jobs move; measure ours first, then rewind is impossible, so the Go way runs
    // on the state ours just mirrored (it still lists and describes everything).
    sim.model.advance(30_000);
    const oursMoving = await measure(sim, round);
    log(`ours, moving round: ${fmt(oursMoving.calls)} calls ${JSON.stringify(oursMoving.byOp)}, ${(oursMoving.ms / 1000).toFixed(2)} s`);
    const goMoving = await measure(sim, () => goStyleRound(config, db));
    log(`Go way, moving round: ${fmt(goMoving.calls)} calls, ${(goMoving.ms / 1000).toFixed(2)} s`);
    await pq.close();

    out.push(
      `Run ${new Date().toISOString().slice(0, 16)}Z on ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')};`,
      `simulator with ${fmt(FINISHED)} retained finished + ${fmt(ACTIVE)} active jobs in one queue; two worker sets (startWorkers twice, one process).`,
      '',
      `| first round of the queue (${fmt(FINISHED + ACTIVE)} jobs written) | AWS calls | wall | peak heap growth |`,
      `|---|---|---|---|`,
      `| ours: list, describe, upsert pipelined | ${fmt(bootstrap.calls)} | **${secs(bootstrap)}** | ${bootstrap.peakHeapMiB} MiB |`,
      `| sequential: list all, then describe all, then upsert | ${fmt(sequential.calls)} | ${secs(sequential)} (${phaseText}) | ${sequential.peakHeapMiB} MiB |`,
      `| ratio | | ${(sequential.ms / bootstrap.ms).toFixed(2)}x faster | |`,
      '',
      `Ours, stages: ${overlap}; this process's CPU ${(bootstrap.cpuMs / 1000).toFixed(1)} s (the rest is Postgres and waiting).`,
      '',
      `| round | ours: AWS calls | ours: wall | Go way: AWS calls | Go way: wall | ratio |`,
      `|---|---|---|---|---|---|`,
      row('steady (nothing changed)', oursSteady, goSteady),
      row('moving (30 s of transitions)', oursMoving, goMoving),
      '',
      `Ours, steady: ${JSON.stringify(oursSteady.byOp)}; moving: ${JSON.stringify(oursMoving.byOp)}. First round, ours: ${JSON.stringify(bootstrap.byOp)}; sequential: ${JSON.stringify(sequential.byOp)}.`,
      '',
    );

    log('event ingestion...');
    const eventsTable = await eventBench(config, db);
    out.push(...eventsTable);
    log('');
    log(out.join('\n'));
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await db.destroy();
    await seqDb.destroy();
    await sim.stop();
    await scratch.drop();
    await seqScratch.drop();
    await admin.destroy();
    await deleteKeysWithPrefix(config.redis_url, prefix);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
