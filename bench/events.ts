/**
 * Events benchmark (npm run bench:events): how fresh the mirror is, and what
 * it costs in AWS calls, with (a) polling only at the default sync_period
 * (30 s) vs (b) job state change events from SQS + reconciliation at the
 * default period with events (SYNC_PERIOD_WITH_EVENTS), on the same
 * workload in the same run.
 *
 * Workload, per mode (a fresh simulator on the real clock, database and Redis
 * prefix each): 1,000 active jobs in one queue, changing state at about 50 a
 * second — 1,000 jobs submitted at the start with runs of 10-120 s, then
 * 8.33 jobs a second with 110 s runs (6 changes each: SUBMITTED, PENDING,
 * RUNNABLE, STARTING, RUNNING, SUCCEEDED). Two worker sets and a scheduler, in
 * this process, with the default aws_calls_per_second.
 *
 * Freshness: from a job's state change in the simulator (its rule's listener,
 * wall clock) to the mirror showing that status or a later one, read from the
 * database the API serves every 20 ms (so figures include up to 20 ms of
 * polling). Changes during the window are counted; after it, the run waits
 * for the last of them (a change not seen by then is reported as missed).
 * AWS calls: the simulator's counters over the window, per hour (ListJobs and
 * DescribeJobs up to the end of a round that started inside the window).
 * The window starts after the warm-up and once the seeding burst's events
 * are drained (the steady 50 a second is what is measured).
 *
 * The machine may be shared: run it as `nice -n -5 npm run bench:events` as
 * root and the bench gives its Postgres backends the same priority; the
 * load average over each window is reported.
 *
 * Env: BENCH_EVENTS_WINDOW_A (s, default 120), BENCH_EVENTS_WINDOW_B (s,
 * default the period with events: one whole reconciliation round falls in
 * it, the one that lists the window's creations), BENCH_EVENTS_WARMUP (s,
 * 20), BENCH_EVENTS_MODES (`ab`, or `b` alone to profile the events path).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { startSimulator, type SimulatorHandle } from 'aws-batch-simulator';
import { CONFIG_DEFAULTS, SYNC_PERIOD_WITH_EVENTS, configWith } from '../src/config/defaults';
import type { Config } from '../src/config/schema';
import { STATUS_RANK } from '../src/domain/jobStatus';
import { metrics } from '../src/pipeline/metrics';
import { startScheduler } from '../src/pipeline/scheduler';
import { startWorkers, type PipelineWorkers } from '../src/pipeline/worker';
import { createDb, migrateLatest } from '../src/store/db';
import { activateQueue } from '../src/store/queues';
import { deleteKeysWithPrefix } from '../test/helpers/redis';
import { createScratchDatabase } from './scratchDatabase';

const WINDOW_A = Number(process.env.BENCH_EVENTS_WINDOW_A ?? 120);
const WINDOW_B = Number(process.env.BENCH_EVENTS_WINDOW_B ?? SYNC_PERIOD_WITH_EVENTS);
const WARMUP = Number(process.env.BENCH_EVENTS_WARMUP ?? 20);
/** `b`: (b) only, for profiling the events path (no ratio then). */
const MODES = process.env.BENCH_EVENTS_MODES ?? 'ab';
const ACTIVE = 1_000;
const RUN_SECONDS = 110;
/** 6 changes a job: 50 changes a second. */
const SUBMIT_PER_SECOND = 50 / 6;
const QUEUE = 'bench-events';
const EVENTS_QUEUE = 'bench-batch-events';
const POLL_MS = 20;
/** Events queued (visible or in flight) that count as no backlog: about a second's worth. */
const SETTLED_BACKLOG = 100;

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * The machine is shared: a bench started at a raised priority (`nice -n -5`,
 * as root) gives the Postgres backends serving its database the same one,
 * checked every second (the pools open connections as they need them).
 */
async function shareOwnPriority(admin: Knex, database: string, reniced: Set<number>): Promise<void> {
  const own = os.getPriority();
  if (own >= 0) return;
  const rows: { pid: number }[] = (await admin.raw('SELECT pid FROM pg_stat_activity WHERE datname = ?', [database])).rows;
  for (const { pid } of rows) {
    if (reniced.has(pid)) continue;
    try {
      os.setPriority(pid, own);
      reniced.add(pid);
    } catch {
      // Gone already, or not ours to renice (not root): it keeps its priority.
    }
  }
}

/** The p50 and p95 of a histogram, as the upper bound of their bucket (s). */
async function histogramPercentiles(h: typeof metrics.queueApplyLag): Promise<{ p50: number; p95: number; n: number } | null> {
  const values = (await h.get()).values;
  const buckets = values.filter((v) => v.metricName?.endsWith('_bucket')).map((v) => ({ le: Number(v.labels.le), count: v.value }));
  const n = values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
  if (n === 0) return null;
  const at = (p: number) => buckets.find((b) => b.count >= (p / 100) * n)?.le ?? Infinity;
  return { p50: at(50), p95: at(95), n };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const secs = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

interface ModeResult {
  label: string;
  syncPeriod: number;
  windowSeconds: number;
  changes: number;
  missed: number;
  p50: number;
  p95: number;
  max: number;
  /** Freshness of changes outside / during the seconds a round listed or described. */
  outsideRound: { n: number; p95: number; max: number };
  duringRound: { n: number; p95: number; max: number };
  /** Queue → written (the consumer's histogram, upper bucket bounds in s): null without events. */
  applyLag: { p50: number; p95: number; n: number } | null;
  /** The consumer's write statements (batchiepatchie_job_event_batch_duration_seconds). */
  writes: { p50: number; p95: number; n: number } | null;
  /** This process's event loop delay over the window (ms). */
  loopDelayMs: { p50: number; p99: number; max: number };
  activeMean: number;
  /** Calls per hour: ListJobs + DescribeJobs, every AWS call but SQS, SQS. */
  mirrorPerHour: number;
  awsPerHour: number;
  sqsPerHour: number;
  byOp: Record<string, number>;
  /** 1-minute load average over the window, mean and max (the machine is shared). */
  load: number;
  loadMax: number;
  /** The bench's nice value, and how many Postgres backends shared it. */
  nice: number;
  renicedBackends: number;
}

async function runMode(admin: Knex, label: string, events: boolean, windowSeconds: number): Promise<ModeResult> {
  const scratch = await createScratchDatabase(admin, 'bp_bench_events');
  const sim: SimulatorHandle = await startSimulator({ port: 0, clock: 'real', scenario: 'empty', seed: 11, ...(events ? { eventsQueue: EVENTS_QUEUE } : {}) });
  const prefix = `bp-bench-ev-${randomBytes(3).toString('hex')}`;
  const syncPeriod = events ? SYNC_PERIOD_WITH_EVENTS : CONFIG_DEFAULTS.sync_period;
  const config: Config = configWith({
    database_name: scratch.name,
    aws_endpoint: sim.endpoint,
    redis_prefix: prefix,
    sync_period: syncPeriod,
    log_level: 'warn',
    ...(events ? { events_queue_url: sim.model.sqs.urlOf(sim.model.sqs.find(EVENTS_QUEUE)) } : {}),
  });
  const db = createDb(config);
  const workers: PipelineWorkers[] = [];
  let scheduler: { close(): Promise<void> } | undefined;
  let submitter: NodeJS.Timeout | undefined;
  try {
    await migrateLatest(db);
    sim.model.createComputeEnvironment({ name: 'bench-ce', type: 'UNMANAGED', instances: 75, instanceVcpus: 16 });
    sim.model.createJobQueue({ name: QUEUE, computeEnvironments: ['bench-ce'] });
    await activateQueue(db, QUEUE);

    // Every change, with its wall-clock time; only those inside the window are measured.
    let measuring = false;
    const pending = new Map<string, { rank: number; at: number }[]>();
    const freshness: number[] = [];
    /** When each measured change happened, by the same index as `freshness`. */
    const changedAt: number[] = [];
    let changes = 0;
    sim.model.onJobStateChange((detail) => {
      if (!measuring || !detail.jobId) return;
      changes++;
      const list = pending.get(detail.jobId) ?? [];
      list.push({ rank: STATUS_RANK[detail.status as keyof typeof STATUS_RANK], at: performance.timeOrigin + performance.now() });
      pending.set(detail.jobId, list);
    });
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const ids = [...pending.keys()];
        const rows: { job_id: string; status: string }[] = ids.length ? await db('jobs').select('job_id', 'status').whereRaw('job_id = ANY(?::varchar[])', [ids]) : [];
        const now = performance.timeOrigin + performance.now();
        for (const r of rows) {
          const list = pending.get(r.job_id);
          if (!list) continue;
          const rank = STATUS_RANK[r.status as keyof typeof STATUS_RANK] ?? 0;
          const left = list.filter((c) => {
            if (c.rank > rank) return true;
            freshness.push(now - c.at);
            changedAt.push(c.at);
            return false;
          });
          if (left.length) pending.set(r.job_id, left);
          else pending.delete(r.job_id);
        }
        await sleep(POLL_MS);
      }
    })();

    workers.push(await startWorkers(config), await startWorkers(config));
    scheduler = await startScheduler(config);

    // 1,000 active jobs from the start, then a steady stream keeping it there.
    for (let i = 0; i < ACTIVE; i++) sim.model.submitJob({ jobName: `seed-${i}`, jobQueue: QUEUE, plan: { runSeconds: 10 + ((i * 110) / ACTIVE) } });
    let submitted = 0;
    const started = Date.now();
    submitter = setInterval(() => {
      const due = Math.floor(((Date.now() - started) / 1000) * SUBMIT_PER_SECOND);
      for (; submitted < due; submitted++) sim.model.submitJob({ jobName: `steady-${submitted}`, jobQueue: QUEUE, plan: { runSeconds: RUN_SECONDS } });
    }, 50);

    log(`${label}: warming up ${WARMUP} s (the first round lists the queue's history)`);
    const reniced = new Set<number>();
    for (const end = Date.now() + WARMUP * 1000; Date.now() < end; ) {
      await shareOwnPriority(admin, scratch.name, reniced);
      await sleep(1000);
    }
    // The seeding (1,000 jobs x 5 changes in the first seconds) leaves a backlog of events:
    // the window measures the steady 50 changes a second, so it starts once that is drained.
    const backlog = () => (events ? sim.model.sqs.find(EVENTS_QUEUE).messages.length : 0);
    const seededBacklog = backlog();
    const drainStarted = Date.now();
    while (backlog() > SETTLED_BACKLOG && Date.now() - drainStarted < 120_000) await sleep(100);
    const drainSeconds = (Date.now() - drainStarted) / 1000;
    if (events) log(`${label}: ${seededBacklog} events queued after warm-up, down to ${backlog()} in ${drainSeconds.toFixed(1)} s`);
    sim.counters.reset();
    metrics.queueApplyLag.reset();
    metrics.eventBatchDuration.reset();
    // The simulator, both worker sets, the scheduler and the poller share this event loop.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    measuring = true;
    // Seconds of the window in which the round listed or described (1 s resolution).
    const roundSeconds: [number, number][] = [];
    let lastMirrorCalls = 0;
    const active: number[] = [];
    const windowEnd = Date.now() + windowSeconds * 1000;
    const loads: number[] = [];
    while (Date.now() < windowEnd) {
      await shareOwnPriority(admin, scratch.name, reniced);
      loads.push(os.loadavg()[0]);
      const calls = (sim.counters.get()['Batch.ListJobs'] ?? 0) + (sim.counters.get()['Batch.DescribeJobs'] ?? 0);
      const t = performance.timeOrigin + performance.now();
      if (calls !== lastMirrorCalls) roundSeconds.push([t - 1000, t]);
      lastMirrorCalls = calls;
      const c = sim.model.statusCounts(QUEUE);
      active.push(c.SUBMITTED + c.PENDING + c.RUNNABLE + c.STARTING + c.RUNNING);
      await sleep(1000);
    }
    measuring = false;
    loopDelay.disable();
    const counts = sim.counters.get();
    // A round that started inside the window counts whole: wait until its ListJobs/DescribeJobs stop.
    const mirrorCalls = () => (sim.counters.get()['Batch.ListJobs'] ?? 0) + (sim.counters.get()['Batch.DescribeJobs'] ?? 0);
    let last = mirrorCalls();
    for (let quiet = 0; quiet < 5; ) {
      await sleep(1000);
      const now = mirrorCalls();
      quiet = now === last ? quiet + 1 : 0;
      last = now;
    }
    const afterRound = sim.counters.get();
    clearInterval(submitter);
    submitter = undefined;
    // The window's last changes reach the mirror at the next round (polling) or at once (events).
    const waitUntil = Date.now() + (syncPeriod + 30) * 1000;
    while (pending.size > 0 && Date.now() < waitUntil) await sleep(200);
    polling = false;
    await poller;

    const missed = [...pending.values()].reduce((a, l) => a + l.length, 0);
    const sorted = [...freshness].sort((a, b) => a - b);
    // Changes made while a round listed or described (give or take its second): is the tail the round's?
    const inRound = (at: number) => roundSeconds.some(([from, to]) => at >= from - 1000 && at <= to);
    const duringRound = freshness.filter((_, i) => inRound(changedAt[i])).sort((a, b) => a - b);
    const outsideRound = freshness.filter((_, i) => !inRound(changedAt[i])).sort((a, b) => a - b);
    const lag = await histogramPercentiles(metrics.queueApplyLag);
    const writes = await histogramPercentiles(metrics.eventBatchDuration);
    const perHour = (n: number) => (n * 3600) / windowSeconds;
    const sum = (pred: (op: string) => boolean) => Object.entries(counts).filter(([op]) => pred(op)).reduce((a, [, n]) => a + n, 0);
    const result: ModeResult = {
      label,
      syncPeriod,
      windowSeconds,
      changes,
      missed,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      outsideRound: { n: outsideRound.length, p95: percentile(outsideRound, 95), max: outsideRound.at(-1) ?? NaN },
      duringRound: { n: duringRound.length, p95: percentile(duringRound, 95), max: duringRound.at(-1) ?? NaN },
      applyLag: lag,
      writes,
      loopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
      max: sorted[sorted.length - 1] ?? NaN,
      activeMean: active.reduce((a, b) => a + b, 0) / Math.max(1, active.length),
      mirrorPerHour: perHour((afterRound['Batch.ListJobs'] ?? 0) + (afterRound['Batch.DescribeJobs'] ?? 0)),
      awsPerHour: perHour(sum((op) => !op.startsWith('SQS.'))),
      sqsPerHour: perHour(sum((op) => op.startsWith('SQS.'))),
      byOp: Object.fromEntries(
        Object.entries({ ...counts, 'Batch.ListJobs': afterRound['Batch.ListJobs'] ?? 0, 'Batch.DescribeJobs': afterRound['Batch.DescribeJobs'] ?? 0 }).filter(([, n]) => n > 0),
      ),
      load: loads.reduce((a, b) => a + b, 0) / Math.max(1, loads.length),
      loadMax: Math.max(...loads),
      nice: os.getPriority(),
      renicedBackends: reniced.size,
    };
    log(`${label}: ${JSON.stringify({ ...result, p50: Math.round(result.p50), p95: Math.round(result.p95), max: Math.round(result.max) })}`);
    return result;
  } finally {
    if (submitter) clearInterval(submitter);
    await scheduler?.close();
    await Promise.all(workers.map((w) => w.close()));
    await db.destroy();
    await sim.stop();
    await scratch.drop();
    await deleteKeysWithPrefix(config.redis_url, prefix);
  }
}

async function main(): Promise<void> {
  const admin = createDb({ ...configWith({ database_name: 'postgres' }) }, { min: 0, max: 1 });
  try {
    if (MODES === 'b') {
      await runMode(admin, '(b) SQS events + reconciliation', true, WINDOW_B);
      return;
    }
    const a = await runMode(admin, '(a) polling only', false, WINDOW_A);
    const b = await runMode(admin, '(b) SQS events + reconciliation', true, WINDOW_B);
    const row = (r: ModeResult) =>
      `| ${r.label}, sync_period ${r.syncPeriod} s | ${fmt(r.changes / r.windowSeconds)}/s (${fmt(r.activeMean)} active) | ${secs(r.p50)} | ${secs(r.p95)} | ${secs(r.max)} | ${r.missed} | ${fmt(r.mirrorPerHour)} | ${fmt(r.awsPerHour)} | ${fmt(r.sqsPerHour)} |`;
    const out = [
      '',
      `Run ${new Date().toISOString().slice(0, 16)}Z on ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), node ${process.version}, nice ${b.nice} (Postgres backends reniced: ${a.renicedBackends} (a), ${b.renicedBackends} (b)); load average over the window ${a.load.toFixed(1)} (max ${a.loadMax.toFixed(1)}) (a) / ${b.load.toFixed(1)} (max ${b.loadMax.toFixed(1)}) (b); windows ${WINDOW_A} s (a) and ${WINDOW_B} s (b) after ${WARMUP} s of warm-up.`,
      '',
      `| mode | changes (active jobs) | freshness p50 | p95 | max | missed | ListJobs + DescribeJobs /h | all AWS calls but SQS /h | SQS calls /h |`,
      `|---|---|---|---|---|---|---|---|---|`,
      row(a),
      row(b),
      '',
      `Freshness of changes outside / during the seconds a round listed or described: (a) p95 ${secs(a.outsideRound.p95)} / ${secs(a.duringRound.p95)} (max ${secs(a.outsideRound.max)} / ${secs(a.duringRound.max)}, ${a.outsideRound.n} / ${a.duringRound.n} changes); (b) p95 ${secs(b.outsideRound.p95)} / ${secs(b.duringRound.p95)} (max ${secs(b.outsideRound.max)} / ${secs(b.duringRound.max)}, ${b.outsideRound.n} / ${b.duringRound.n} changes).`,
      b.applyLag ? `(b) queue → written (batchiepatchie_events_queue_apply_lag_seconds, bucket bounds): p50 ≤ ${secs(b.applyLag.p50 * 1000)}, p95 ≤ ${secs(b.applyLag.p95 * 1000)} over ${fmt(b.applyLag.n)} messages${b.writes ? `; its ${fmt(b.writes.n)} write statements p50 ≤ ${secs(b.writes.p50 * 1000)}, p95 ≤ ${secs(b.writes.p95 * 1000)}` : ''}.` : '',
      `Event loop delay of the bench process (simulator, workers, scheduler and poller in one loop): (a) p50 ${secs(a.loopDelayMs.p50)}, p99 ${secs(a.loopDelayMs.p99)}, max ${secs(a.loopDelayMs.max)}; (b) p50 ${secs(b.loopDelayMs.p50)}, p99 ${secs(b.loopDelayMs.p99)}, max ${secs(b.loopDelayMs.max)}.`,
      `(b) vs (a): freshness p95 ${(a.p95 / b.p95).toFixed(0)}x better; ListJobs + DescribeJobs ${(a.mirrorPerHour / b.mirrorPerHour).toFixed(1)}x fewer, all Batch/ECS/EC2 calls ${(a.awsPerHour / b.awsPerHour).toFixed(1)}x fewer.`,
      `Calls in the window — (a): ${JSON.stringify(a.byOp)}; (b): ${JSON.stringify(b.byOp)}.`,
    ];
    log(out.join('\n'));
  } finally {
    await admin.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
