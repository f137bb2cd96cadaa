/**
 * Store benchmark (npm run bench:store).
 *
 * 1. Upserts on BENCH_STORE_JOBS jobs (default 100,000): our batched upsert vs
 *    the Go original's way (its Store statement per job in one transaction,
 *    sent as lib/pq sends it) and vs a lean per-row way (one round trip per
 *    job), measured on the same jobs in the same run, as changed jobs/s.
 * 2. Search latency (p50/p95) of a fixed mix of GET /api/v1/jobs queries on
 *    BENCH_STORE_SEARCH_JOBS generated jobs (default 1,000,000).
 *
 * Uses a database of its own (dropped at the end). Env: BENCH_STORE_JOBS,
 * BENCH_STORE_SEARCH_JOBS, BENCH_STORE_RUNS (timed runs per query, default 20),
 * PGHOST/PGPORT/PGUSER/PGPASSWORD.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import knexFactory from 'knex';
import { createDb, knexSettings, migrateLatest } from '../src/store/db';
import { deleteJobsOlderThan } from '../src/store/jobs/maintenance';
import { jobSearch, searchJobs } from '../src/store/jobs/search';
import { getJob } from '../src/store/jobs/lookups';
import { jobStats, jobStatsFromJobs } from '../src/store/stats';
import { rebuildStatsRollup, refreshStatsRollup } from '../src/store/statsRollup';
import { upsertJobs, type DependencySets } from '../src/store/jobs/upsert';
import type { JobSearch, MirroredJob, StatsQuery } from '../src/types';
import { JOBS_PAGE_SIZE, type StatsRow } from '../src/api/contract';
import type pg from 'pg';
import { execLikeLibPq } from './libpqExec';
import { createScratchDatabase } from './scratchDatabase';
import { dropSecondaryIndexes } from './bulkLoad';
import { JOB_STATS_MARK_UPDATED } from '../migrations/20261203090000_job_stats_marks_changed_inputs';
import { TASK_ARN_INDEXES } from '../migrations/20261205030000_jobs_task_arn_running_stopped';

const JOBS = Number(process.env.BENCH_STORE_JOBS ?? 100_000);
const SEARCH_JOBS = Number(process.env.BENCH_STORE_SEARCH_JOBS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_STORE_RUNS ?? 20);
const BATCH_SIZES = [250, 1000, 5000];

const PG = {
  database_host: process.env.PGHOST ?? '127.0.0.1',
  database_port: Number(process.env.PGPORT ?? 5432),
  database_username: process.env.PGUSER ?? 'postgres',
  database_password: process.env.PGPASSWORD,
};

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

const perSecond = (n: number, ms: number) => Math.round((n / ms) * 1000);

// ------------------------------------------------------------------ upserts

function benchJob(i: number, round: number): MirroredJob {
  const running = round % 2 === 1;
  return {
    job_id: `bench-${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`.slice(0, 36),
    job_name: `bench-job-${i % 5000}`,
    job_definition: 'arn:aws:batch:us-east-1:123456789012:job-definition/bench:1',
    job_queue: `queue-${i % 10}`,
    image: `registry.example.com/bench:${i % 7}`,
    status: running ? 'RUNNING' : 'RUNNABLE',
    created_at: new Date(1_790_000_000_000 + i * 1000),
    stopped_at: null,
    vcpus: 1 + (i % 4),
    vcpus_exact: null,
    memory: 1024,
    timeout: -1,
    command_line: '["python","main.py","--flag"]',
    status_reason: null,
    run_started_at: running ? new Date(1_790_000_000_000 + i * 1000 + round * 60_000) : null,
    exitcode: null,
    log_stream_name: running ? `bench/default/${i}-${round}` : null,
    log_group_name: '/aws/batch/job',
    task_arn: running ? `arn:aws:ecs:us-east-1:123456789012:task/bench/${i}-${round}` : null,
    array_properties: null,
    array_parent_id: null,
    array_index: null,
    attempts: 0,
    platform: 'EC2',
    job_type: 'container',
  };
}

const PER_ROW_COLUMNS = [
  'job_id', 'job_name', 'job_definition', 'job_queue', 'image', 'status', 'created_at', 'stopped_at', 'vcpus',
  'vcpus_exact', 'memory', 'timeout', 'command_line', 'status_reason', 'run_started_at', 'exitcode',
  'log_stream_name', 'log_group_name', 'task_arn', 'array_properties', 'array_parent_id', 'array_index',
  'attempts', 'platform', 'job_type',
] as const;

/** A lean per-row way: one INSERT .. ON CONFLICT per job, one round trip each (node-postgres pipelines it). */
const PER_ROW_SQL = `
  INSERT INTO jobs (${PER_ROW_COLUMNS.join(', ')}, last_updated, last_seen_at)
  VALUES (${PER_ROW_COLUMNS.map(() => '?').join(', ')}, now(), now())
  ON CONFLICT (job_id) DO UPDATE SET
    ${PER_ROW_COLUMNS.filter((c) => c !== 'job_id').map((c) => `${c} = EXCLUDED.${c}`).join(', ')},
    last_updated = now(), last_seen_at = now()`;

async function upsertPerRow(db: Knex, jobs: MirroredJob[]): Promise<number> {
  await db.transaction(async (trx) => {
    for (const job of jobs) {
      const values = PER_ROW_COLUMNS.map((c) => (c === 'array_properties' ? JSON.stringify(job[c]) : job[c]));
      await trx.raw(PER_ROW_SQL, values as Knex.RawBinding[]);
    }
  });
  return jobs.length;
}

/**
 * The Go original's Store (jobs/postgres_store.go): per job, one of two
 * statements (with or without stopped_at), each updating the volatile
 * columns only when one differs, all in one transaction, sent through lib/pq
 * as it sends them (two round trips per statement; see libpqExec.ts).
 */
const GO_WHERE = (status: number, reason: number, exit: number, stream: number, arn: number) =>
  `where jobs.status <> $${status} or jobs.status_reason <> $${reason} or jobs.exitcode <> $${exit}` +
  ` or jobs.log_stream_name <> $${stream} or jobs.task_arn <> $${arn}` +
  ` or (jobs.task_arn is null and $${arn} is not null) or (jobs.log_stream_name is null and $${stream} is not null)` +
  ` or (jobs.status_reason is null and $${reason} is not null) or (jobs.exitcode is null and $${exit} is not null)`;

const GO_STORE_RUNNING = `insert into jobs (job_id, job_name, job_definition, job_queue, image, status, created_at,
    vcpus, memory, timeout, command_line, last_updated, status_reason, run_started_at, exitcode, log_stream_name, task_arn)
  values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
  on conflict (job_id) do update set status = $6, last_updated = $12, status_reason = $13, run_started_at = $14,
    exitcode = $15, log_stream_name = $16, task_arn = $17
  ${GO_WHERE(6, 13, 15, 16, 17)}`;

const GO_STORE_STOPPED = `insert into jobs (job_id, job_name, job_definition, job_queue, image, status, created_at, stopped_at,
    vcpus, memory, timeout, command_line, last_updated, status_reason, run_started_at, exitcode, log_stream_name, task_arn)
  values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
  on conflict (job_id) do update set status = $6, last_updated = $13, stopped_at = $8, status_reason = $14,
    run_started_at = $15, exitcode = $16, log_stream_name = $17, task_arn = $18
  ${GO_WHERE(6, 14, 16, 17, 18)}`;

function goStoreStatement(job: MirroredJob, now: Date): [string, unknown[]] {
  const head = [job.job_id, job.job_name, job.job_definition, job.job_queue, job.image, job.status, job.created_at];
  const tail = [job.vcpus, job.memory, job.timeout, job.command_line, now, job.status_reason, job.run_started_at,
    job.exitcode, job.log_stream_name, job.task_arn];
  return job.stopped_at ? [GO_STORE_STOPPED, [...head, job.stopped_at, ...tail]] : [GO_STORE_RUNNING, [...head, ...tail]];
}

async function upsertGoWay(db: Knex, jobs: MirroredJob[]): Promise<number> {
  const client = (await db.client.acquireConnection()) as pg.PoolClient;
  try {
    await client.query('BEGIN');
    try {
      for (const job of jobs) await execLikeLibPq(client, ...goStoreStatement(job, new Date()));
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    }
  } finally {
    await db.client.releaseConnection(client);
  }
  return jobs.length;
}

/** The per-row ways report nothing back; check that they really wrote every job. */
async function expectStatus(db: Knex, jobs: MirroredJob[], way: string): Promise<void> {
  const { n } = (await db('jobs').whereIn('job_id', jobs.map((j) => j.job_id)).where('status', jobs[0].status).count({ n: '*' }))[0];
  if (Number(n) !== jobs.length) throw new Error(`${way} wrote ${n} of ${jobs.length} jobs`);
}

/** One way of writing changed jobs in the head to head, with its time and WAL so far. */
interface HeadToHeadWay {
  name: string;
  /** Writes the jobs; expectStatus then checks that every one was written. */
  write: (jobs: MirroredJob[]) => Promise<unknown>;
  ms: number;
  wal: WalTotals;
}

interface UpsertFigures {
  batchedPerSec: number;
  goWayPerSec: number;
  leanPerRowPerSec: number;
  ratio: number;
}

const SLICES = 10;

async function changeAll(db: Knex, round: number, opts: { batchSize?: number; concurrency?: number }): Promise<number> {
  const jobs = Array.from({ length: JOBS }, (_, i) => benchJob(i, round));
  await db.raw('VACUUM jobs');
  const r = await timed(() => upsertJobs(db, jobs, opts));
  if (r.value.written !== JOBS) throw new Error(`changed upsert wrote ${r.value.written}, expected ${JOBS}`);
  return perSecond(JOBS, r.ms);
}

/** The stats rollup's part of the write path: its statement triggers on jobs and its three indexes. */
async function rollupWritePath(db: Knex, on: boolean): Promise<void> {
  const triggers = ['job_stats_jobs_insert', 'job_stats_jobs_update', 'job_stats_jobs_delete'];
  for (const t of triggers) await db.raw(`ALTER TABLE jobs ${on ? 'ENABLE' : 'DISABLE'} TRIGGER ??`, [t]);
  if (on) {
    for (const [name, definition] of TASK_ARN_INDEXES) await db.raw(`CREATE INDEX ?? ON jobs ${definition}`, [name]);
    await db.raw('CREATE INDEX jobs_running_run_started_at ON jobs (run_started_at) WHERE stopped_at IS NULL AND run_started_at IS NOT NULL');
  } else {
    for (const [name] of TASK_ARN_INDEXES) await db.raw('DROP INDEX ??', [name]);
    await db.raw('DROP INDEX jobs_running_run_started_at');
  }
}

type RollupMode = 'now' | 'before' | 'off';

/** Puts the write path in `mode`: the marks of this version, those before 20261203090000 (every update), or no rollup at all. */
async function rollupMode(db: Knex, mode: RollupMode, on: boolean): Promise<void> {
  if (mode === 'off') await rollupWritePath(db, on);
  if (mode === 'before') await db.raw(on ? JOB_STATS_MARK_UPDATED.changedInputs : JOB_STATS_MARK_UPDATED.everyUpdate);
}

/**
 * What the stats rollup costs the batched upsert, and what marking only
 * changed stats inputs saved: each tenth of the jobs changed with the marks
 * of this version, with the marks as before (every updated row that ran),
 * and without the rollup (its triggers disabled, its three indexes dropped and
 * built again), in a rotating order, so all see the same load; defaults
 * (2 connections, committed). Two kinds of change: finished or not (each
 * change makes or unmakes a finished job: every row leaves marks, the worst
 * case), and changes outside the stats (a waiting job's status, a running
 * job's reason: the common case, which now leaves none).
 */
async function benchRollupWriteCost(db: Knex, lastRound: number): Promise<number> {
  // Half the jobs running, half waiting (written untimed), for the first kind.
  const mixed = (i: number) => benchJob(i, lastRound + 1 + (i % 2));
  let round = lastRound + 2;
  await upsertJobs(db, Array.from({ length: JOBS }, (_, i) => mixed(i)));
  const kinds: [string, () => (i: number) => MirroredJob][] = [
    // RUNNABLE jobs go to STARTING and back, RUNNING ones get a new reason: no stats input changes.
    ['changes outside the stats (waiting status, running reason)', () => (i) => {
      const j = mixed(i);
      return { ...j, status: j.status === 'RUNNING' ? 'RUNNING' : round % 2 === 0 ? 'RUNNABLE' : 'STARTING', status_reason: `poll ${round}` };
    }],
    // Odd rounds: the running job of benchJob, finished; even rounds: RUNNABLE again.
    ['finished or not (every change marks)', () => (i) => {
      const j = benchJob(i, round);
      return round % 2 === 0 ? j : { ...j, status: 'SUCCEEDED', stopped_at: new Date(j.run_started_at!.getTime() + 60_000) };
    }],
  ];
  const modes: RollupMode[] = ['now', 'before', 'off'];
  const slice = Math.ceil(JOBS / SLICES);
  for (const [kind, jobOf] of kinds) {
    const ms: Record<RollupMode, number> = { now: 0, before: 0, off: 0 };
    for (let from = 0, k = 0; from < JOBS; from += slice, k += 1) {
      const ids = Array.from({ length: Math.min(slice, JOBS - from) }, (_, x) => from + x);
      for (let n = 0; n < modes.length; n += 1) {
        const mode = modes[(n + k) % modes.length];
        await rollupMode(db, mode, false);
        round += 1;
        const jobs = ids.map(jobOf());
        const r = await timed(() => upsertJobs(db, jobs));
        if (r.value.written !== ids.length) throw new Error(`rollup cost pass wrote ${r.value.written}, expected ${ids.length}`);
        ms[mode] += r.ms;
        await rollupMode(db, mode, true);
      }
    }
    const [now, before, off] = modes.map((m) => perSecond(JOBS, ms[m]));
    const slower = (x: number) => `${(((off - x) / off) * 100).toFixed(1)} %`;
    log(`stats rollup, ${kind}: marks of changed inputs ${now} changed jobs/s (${slower(now)} below no rollup), ` +
      `marks of every update (before) ${before} (${slower(before)}), no rollup ${off}`);
  }
  await db.raw(JOB_STATS_MARK_UPDATED.changedInputs);
  return round;
}

/** One thing a changed batch pays for, and how to take it away inside a rolled-back transaction. */
interface WritePathPart {
  name: string;
  /** Removes the part (DDL inside the pass's transaction: the rollback restores it, no rebuild). */
  off: (trx: Knex.Transaction) => Promise<void>;
  /** The pass without it leaves out the dependency sets instead. */
  withoutDependencies?: boolean;
}

/** The Go original's trigram index on jobs, which migration 20261206010000 drops. */
const GO_TRIGRAM_INDEX = 'CREATE INDEX trgm_idx_jobs ON jobs USING gin ((job_id || job_name || job_queue || image) gin_trgm_ops)';

/** Merges the pending list of every GIN index of `jobs` into its trees. */
async function mergeGinPendingLists(db: Knex): Promise<void> {
  await db.raw(`SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
    WHERE i.indrelid = 'jobs'::regclass AND am.amname = 'gin'`);
}

const dropTriggers = (...names: string[]) => async (trx: Knex.Transaction) => {
  for (const name of names) await trx.raw('DROP TRIGGER ?? ON jobs', [name]);
};

/**
 * The parts of the write path: each statement trigger pair (dropped, not
 * disabled: a disabled trigger still makes the statement collect its
 * transition tables), both (the transition tables are shared between them),
 * the dependency sets, every secondary index of jobs, and all of it at once
 * (what is left: reading, comparing, the heap and the primary key).
 */
async function writePathParts(db: Knex): Promise<WritePathPart[]> {
  const indexes = (
    await db.raw<{ rows: { name: string }[] }>(
      "SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'jobs' AND indexname <> 'jobs_pkey' ORDER BY 1",
    )
  ).rows.map((r) => r.name);
  const statusEvents = ['job_status_update_trigger_insert', 'job_status_update_trigger_update'];
  const rollupMarks = ['job_stats_jobs_insert', 'job_stats_jobs_update'];
  const commandLines = ['job_command_lines_insert', 'job_command_lines_update'];
  const searchTexts = ['job_search_texts_insert', 'job_search_texts_update'];
  const all = [...statusEvents, ...rollupMarks, ...commandLines, ...searchTexts];
  return [
    { name: 'trigger: job_status_events + notify', off: dropTriggers(...statusEvents) },
    { name: 'trigger: stats rollup marks', off: dropTriggers(...rollupMarks) },
    { name: 'trigger: command lines copy', off: dropTriggers(...commandLines) },
    { name: 'trigger: search texts copy', off: dropTriggers(...searchTexts) },
    { name: 'all triggers (+ transition tables)', off: dropTriggers(...all) },
    { name: 'dependency sets', off: async () => {}, withoutDependencies: true },
    // Negative: what the marks of every update (before 20261203090000) would add.
    { name: 'marks of changed inputs, with those of every update', off: async (trx) => { await trx.raw(JOB_STATS_MARK_UPDATED.everyUpdate); } },
    // Negative: what job_status_events packed full (before 20261204150000: no room for HOT updates) would add.
    { name: 'job_status_events half empty, packed full', off: async (trx) => {
      await trx.raw('ALTER TABLE job_status_events SET (fillfactor = 100)');
      await trx.raw('CLUSTER job_status_events USING job_status_events_pkey');
    } },
    // Negative: what Go's index on created_at (dropped by 20261204151000) would add.
    { name: "no created_at index, with Go's", off: async (trx) => { await trx.raw('CREATE INDEX jobs_created_at_timestamp ON jobs (created_at)'); } },
    // Negative: what Go's trigram index on jobs (dropped by 20261206010000) would add.
    { name: "tokens looked up in the copy, with Go's trgm_idx_jobs", off: async (trx) => { await trx.raw(GO_TRIGRAM_INDEX); } },
    ...indexes.map((name) => ({ name: `index ${name}`, off: async (trx: Knex.Transaction) => { await trx.raw('DROP INDEX ??', [name]); } })),
    {
      name: 'all of the above',
      withoutDependencies: true,
      off: async (trx: Knex.Transaction) => {
        await dropTriggers(...all)(trx);
        for (const name of indexes) await trx.raw('DROP INDEX ??', [name]);
      },
    },
  ];
}

/**
 * Where a changed batch's time goes. Each slice of the jobs is changed
 * (as in the head to head: RUNNABLE and RUNNING in turn, with dependency
 * sets) once as is and once without each part, in a rotating order so load
 * and table state fall on all alike; every pass runs in a transaction that
 * is rolled back, so every pass changes the same rows from the same state.
 * One connection (the dropped part holds the table); the share of each part
 * is what the default 2 connections pay too.
 */
async function benchWriteBreakdown(db: Knex, lastRound: number): Promise<void> {
  const parts = await writePathParts(db);
  const passes: (WritePathPart | null)[] = [null, ...parts];
  const ms = new Array<number>(passes.length).fill(0);
  // As many slices as passes: each pass comes at each place in a slice once (later places
  // meet more rolled-back row versions), so no part gains from its place.
  const slice = Math.ceil(JOBS / passes.length);
  const next = lastRound + 1;
  await db.raw('VACUUM jobs');
  await mergeGinPendingLists(db);
  for (let from = 0, k = 0; from < JOBS; from += slice, k += 1) {
    const ids = Array.from({ length: Math.min(slice, JOBS - from) }, (_, x) => from + x);
    const jobs = ids.map((i) => benchJob(i, next));
    const dependencies = benchDependencies(jobs);
    for (let n = 0; n < passes.length; n += 1) {
      const p = (n + k) % passes.length;
      const part = passes[p];
      const trx = await db.transaction();
      try {
        await part?.off(trx);
        const r = await timed(() => upsertJobs(trx, jobs, part?.withoutDependencies ? {} : { dependencies }));
        if (r.value.written !== ids.length) throw new Error(`breakdown pass wrote ${r.value.written}, expected ${ids.length}`);
        ms[p] += r.ms;
        // A GIN index's new entries wait in its pending list, merged when it fills (by whichever
        // pass comes then) or by VACUUM: merged here, so each pass pays for its own.
        ms[p] += (await timed(() => mergeGinPendingLists(trx))).ms;
      } finally {
        await trx.rollback();
      }
    }
    await db.raw('VACUUM jobs');
  }
  const total = ms[0];
  log(`\nwhere a changed batch's time goes (as in the head to head; 1 connection, each pass rolled back, GIN pending lists merged in each, interleaved): ${perSecond(JOBS, total)} changed jobs/s as is`);
  for (let p = 1; p < passes.length; p += 1) {
    const share = ((total - ms[p]) / total) * 100;
    log(`  without ${passes[p]!.name.padEnd(50)} ${String(perSecond(JOBS, ms[p])).padStart(6)} changed jobs/s: ${share.toFixed(1).padStart(5)} % of the time`);
  }
}

/** The search's partial index of never-stopped jobs (migration 20261203070000). */
const NOT_STOPPED_INDEX = 'CREATE INDEX jobs_not_stopped_status ON jobs (status, job_id) INCLUDE (last_updated, job_queue) WHERE stopped_at IS NULL';

/**
 * What jobs_not_stopped_status costs the batched upsert: each tenth of the
 * jobs changed with the index and once without (dropped, then built again),
 * in turn. The jobs never stop (RUNNABLE and RUNNING in turn), so every new
 * row version enters the index: its worst case.
 */
async function benchNotStoppedIndexWriteCost(db: Knex, lastRound: number): Promise<void> {
  // Every job written at one round first (untimed): the parts before leave
  // slices at rounds whose waiting jobs equal the next round's, so a pass
  // could change nothing. From here each pass flips every job's status.
  let round = lastRound + 1;
  await upsertJobs(db, Array.from({ length: JOBS }, (_, i) => benchJob(i, round)));
  const slice = Math.ceil(JOBS / SLICES);
  const ms = { on: 0, off: 0 };
  for (let from = 0, k = 0; from < JOBS; from += slice, k += 1) {
    const ids = Array.from({ length: Math.min(slice, JOBS - from) }, (_, x) => from + x);
    for (const mode of k % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
      if (mode === 'off') await db.raw('DROP INDEX jobs_not_stopped_status');
      round += 1;
      const r = await timed(() => upsertJobs(db, ids.map((i) => benchJob(i, round))));
      if (r.value.written !== ids.length) throw new Error(`index cost pass wrote ${r.value.written}, expected ${ids.length}`);
      ms[mode] += r.ms;
      if (mode === 'off') await db.raw(NOT_STOPPED_INDEX);
    }
  }
  const on = perSecond(JOBS, ms.on);
  const off = perSecond(JOBS, ms.off);
  log(`never-stopped jobs' index (jobs_not_stopped_status, interleaved): with ${on} changed jobs/s, without ${off} (${(((off - on) / off) * 100).toFixed(1)} % slower with)`);
}

/** The search's part of the write path: the status reason's trigram index and the command lines' copy (triggers). */
async function searchWritePath(db: Knex, on: boolean): Promise<void> {
  const triggers = ['job_command_lines_insert', 'job_command_lines_update', 'job_command_lines_delete'];
  for (const t of triggers) await db.raw(`ALTER TABLE jobs ${on ? 'ENABLE' : 'DISABLE'} TRIGGER ??`, [t]);
  if (on) await db.raw('CREATE INDEX jobs_status_reason_trgm ON jobs USING gin (status_reason gin_trgm_ops) WHERE status_reason IS NOT NULL');
  else await db.raw('DROP INDEX jobs_status_reason_trgm');
}

/** A command line as AWS Batch jobs have them (~150 characters): what the trigram index would hold. */
const LONG_COMMAND = (i: number) =>
  JSON.stringify(['python', '-m', 'jobs.ingest', '--shard', String(i % 64), '--input', `s3://bucket-${i % 30}/daily/2026-12-03/part-${i}.parquet`,
    '--output', `s3://warehouse/ingest/part-${i}`, '--log-level', 'info']);

/**
 * What searching by reason and command line costs the batched upsert: each
 * tenth of the jobs changed with the reason index and the command-line
 * triggers and once without (index dropped, triggers disabled), in turn, as
 * for the rollup. Jobs carry a ~150-character command line; every change
 * finishes a job (SUCCEEDED, with AWS's reason) or makes it RUNNABLE again
 * (no reason), so every other change indexes a reason: more than real jobs
 * (one reason per job's life). Then new jobs inserted, both ways (each new
 * job's command line copied and indexed).
 */
async function benchSearchWriteCost(db: Knex, lastRound: number): Promise<number> {
  let round = lastRound;
  const job = (i: number): MirroredJob => {
    const j = { ...benchJob(i, round), command_line: LONG_COMMAND(i) };
    return round % 2 === 0 ? j : { ...j, status: 'SUCCEEDED', stopped_at: new Date(j.run_started_at!.getTime() + 60_000), status_reason: 'Essential container in task exited' };
  };
  round += 1;
  await upsertJobs(db, Array.from({ length: JOBS }, (_, i) => job(i))); // the long command lines in place, untimed
  await db.raw('VACUUM ANALYZE jobs, job_command_lines');
  const slice = Math.ceil(JOBS / SLICES);
  const ms = { on: 0, off: 0 };
  const inserted = { on: 0, off: 0 };
  for (let from = 0, k = 0; from < JOBS; from += slice, k += 1) {
    const ids = Array.from({ length: Math.min(slice, JOBS - from) }, (_, x) => from + x);
    for (const mode of k % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
      if (mode === 'off') await searchWritePath(db, false);
      round += 1;
      const jobs = ids.map(job);
      const r = await timed(() => upsertJobs(db, jobs));
      if (r.value.written !== ids.length) throw new Error(`search cost pass wrote ${r.value.written}, expected ${ids.length}`);
      ms[mode] += r.ms;
      const fresh = ids.map((i) => ({ ...job(i), job_id: `${mode}-${round}-${i}` }));
      const n = await timed(() => upsertJobs(db, fresh));
      if (n.value.written !== ids.length) throw new Error(`search cost insert wrote ${n.value.written}, expected ${ids.length}`);
      inserted[mode] += n.ms;
      if (mode === 'off') await searchWritePath(db, true);
    }
  }
  await db.raw("DELETE FROM jobs WHERE job_id LIKE 'on-%' OR job_id LIKE 'off-%'");
  // The short command lines back (untimed), so the next part's changes do not rewrite them.
  round += 1;
  await upsertJobs(db, Array.from({ length: JOBS }, (_, i) => benchJob(i, round)));
  const pct = (on: number, off: number) => `${(((off - on) / off) * 100).toFixed(1)} % slower with`;
  const [on, off] = [perSecond(JOBS, ms.on), perSecond(JOBS, ms.off)];
  log(`reason/cmd search's write path (status changes, interleaved): with ${on} changed jobs/s, without ${off} (${pct(on, off)})`);
  const [insOn, insOff] = [perSecond(JOBS, inserted.on), perSecond(JOBS, inserted.off)];
  log(`reason/cmd search's write path (new jobs, interleaved):       with ${insOn} jobs/s, without ${insOff} (${pct(insOn, insOff)})`);
  return round;
}

/** How many writers write at once in benchConcurrentWriters. */
const WRITER_COUNTS = [1, 2, 4];

/**
 * Concurrent batched writers, as the pipeline writes: every sync worker
 * (a process of its own, BullMQ hands each queue's round to one) upserts
 * its jobs in batches of 1,000 on one connection (reconcileListing). Here
 * 1, 2 and 4 writers, each with a connection pool of its own, change
 * disjoint shares of the jobs at once (committed, with dependency sets);
 * the figure is all writers' changed jobs over the wall time, best of the
 * passes. Passes rotate the counts, so load falls on all alike.
 */
async function benchConcurrentWriters(db: Knex, lastRound: number): Promise<number> {
  const database = (await db.raw<{ rows: { name: string }[] }>('SELECT current_database() AS name')).rows[0].name;
  const pools = Array.from({ length: Math.max(...WRITER_COUNTS) }, () => createDb({ ...PG, database_name: database }, { min: 1, max: 1 }));
  // Every job written at one round first (untimed), so each pass after it changes every job.
  let round = lastRound + 1;
  await upsertJobs(db, Array.from({ length: JOBS }, (_, i) => benchJob(i, round)));
  const best = new Map<number, number>(WRITER_COUNTS.map((n) => [n, 0]));
  try {
    await Promise.all(pools.map((p) => p.raw('SELECT 1')));
    for (let pass = 0; pass < 3; pass += 1) {
      for (let c = 0; c < WRITER_COUNTS.length; c += 1) {
        const writers = WRITER_COUNTS[(c + pass) % WRITER_COUNTS.length];
        round += 1;
        const jobs = Array.from({ length: JOBS }, (_, i) => benchJob(i, round));
        const shares = Array.from({ length: writers }, (_, w) => jobs.filter((_, i) => i % writers === w));
        await db.raw('VACUUM jobs');
        const r = await timed(() =>
          Promise.all(shares.map((share, w) => upsertJobs(pools[w], share, { concurrency: 1, dependencies: benchDependencies(share) }))),
        );
        const written = r.value.reduce((n, x) => n + x.written, 0);
        if (written !== JOBS) throw new Error(`${writers} writers wrote ${written}, expected ${JOBS}`);
        best.set(writers, Math.max(best.get(writers)!, perSecond(JOBS, r.ms)));
      }
    }
  } finally {
    await Promise.all(pools.map((p) => p.destroy()));
  }
  const one = best.get(1)!;
  log(`\nconcurrent batched writers (disjoint jobs, 1 connection each, batches of 1,000, committed; best of 3):`);
  for (const n of WRITER_COUNTS) log(`  ${n} writer${n > 1 ? 's' : ' '}: ${String(best.get(n)).padStart(6)} changed jobs/s in all (${(best.get(n)! / one).toFixed(2)}x one)`);
  return round;
}

/** The write path's costs alone (BENCH_STORE_PARTS=writecost): the breakdown and the rollup's marks. */
async function benchWriteCost(db: Knex): Promise<void> {
  log(`\n## The write path's costs on ${JOBS.toLocaleString('en-US')} jobs`);
  const initial = Array.from({ length: JOBS }, (_, i) => benchJob(i, 0));
  await upsertJobs(db, initial, { dependencies: benchDependencies(initial) });
  await benchWriteBreakdown(db, 0);
  await benchRollupWriteCost(db, 0);
  await benchSearchTextsInsertCost(db);
}

/**
 * What job_search_texts (the name-cluster split's copy) costs a new job:
 * each tenth of JOBS new jobs inserted with its triggers and once without
 * (disabled), in turn; a status change never calls them (their WHEN), which
 * the breakdown above measures. The copy's rows are deleted after each pass.
 */
async function benchSearchTextsInsertCost(db: Knex): Promise<void> {
  const triggers = ['job_search_texts_insert', 'job_search_texts_delete'];
  const slice = Math.ceil(JOBS / SLICES);
  const ms = { on: 0, off: 0 };
  for (let from = 0, k = 0; from < JOBS; from += slice, k += 1) {
    const ids = Array.from({ length: Math.min(slice, JOBS - from) }, (_, x) => from + x);
    for (const mode of k % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
      if (mode === 'off') for (const t of triggers) await db.raw('ALTER TABLE jobs DISABLE TRIGGER ??', [t]);
      const fresh = ids.map((i) => ({ ...benchJob(i, 0), job_id: `new-${mode}-${i}` }));
      const r = await timed(() => upsertJobs(db, fresh));
      if (r.value.written !== ids.length) throw new Error(`search texts insert wrote ${r.value.written}, expected ${ids.length}`);
      ms[mode] += r.ms;
      if (mode === 'off') for (const t of triggers) await db.raw('ALTER TABLE jobs ENABLE TRIGGER ??', [t]);
    }
  }
  await db.raw("DELETE FROM job_search_texts WHERE job_id LIKE 'new-%'");
  await db.raw("DELETE FROM jobs WHERE job_id LIKE 'new-%'");
  const [on, off] = [perSecond(JOBS, ms.on), perSecond(JOBS, ms.off)];
  log(`search texts' copy (new jobs, interleaved): with ${on} jobs/s, without ${off} (${(((off - on) / off) * 100).toFixed(1)} % slower with)`);
}

/** WAL bytes written, summed over the writes measured. */
interface WalTotals { bytes: number }

/**
 * Runs `write`, adding the WAL the server inserted meanwhile to `sum`: the
 * distance between insert positions, exact at once (pg_stat_wal's counters
 * reach shared memory up to a second late). The bench is the server's only writer.
 */
async function countingWal<T>(db: Knex, sum: WalTotals, write: () => Promise<T>): Promise<T> {
  const start = (await db.raw<{ rows: { lsn: string }[] }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn;
  const value = await write();
  const r = await db.raw<{ rows: { bytes: string }[] }>('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), ?::pg_lsn)::bigint AS bytes', [start]);
  sum.bytes += Number(r.rows[0].bytes);
  return value;
}

const walPerJob = (w: WalTotals, jobs: number) => `${Math.round(w.bytes / jobs).toLocaleString('en-US')} B`;

async function benchUpserts(db: Knex, opts: { sweep: boolean }): Promise<UpsertFigures> {
  log(`\n## Upserts on ${JOBS.toLocaleString('en-US')} jobs`);
  let round = 0;
  const initial = Array.from({ length: JOBS }, (_, i) => benchJob(i, round));
  const insert = await timed(() => upsertJobs(db, initial, { dependencies: benchDependencies(initial) }));
  if (insert.value.written !== JOBS) throw new Error(`insert wrote ${insert.value.written}, expected ${JOBS}`);
  log(`batched insert of new jobs:            ${perSecond(JOBS, insert.ms)} jobs/s`);

  // Head to head, interleaved: each tenth of the jobs is changed once our way,
  // once the Go way and once the lean per-row way, so all three see the same
  // machine load. Which way writes a slice first rotates: the first write to
  // a page after a checkpoint carries its full-page image, so a way always
  // first would pay them for the other two.
  await db.raw('VACUUM jobs');
  const slice = Math.ceil(JOBS / SLICES);
  const ways: HeadToHeadWay[] = [
    { name: 'batched', ms: 0, wal: { bytes: 0 }, write: (jobs) => upsertJobs(db, jobs, { dependencies: benchDependencies(jobs) }) },
    { name: 'the Go way', ms: 0, wal: { bytes: 0 }, write: (jobs) => upsertGoWay(db, jobs) },
    { name: 'the lean per-row way', ms: 0, wal: { bytes: 0 }, write: (jobs) => upsertPerRow(db, jobs) },
  ];
  for (let from = 0, s = 0; from < JOBS; from += slice, s += 1) {
    const ids = Array.from({ length: Math.min(slice, JOBS - from) }, (_, k) => from + k);
    // These jobs were last written at round 0 (status by round parity): an
    // odd round, then even, then odd, so each way changes every job.
    round += round % 2 === 0 ? 1 : 2;
    for (let k = 0; k < ways.length; k += 1) {
      const way = ways[(k + s) % ways.length];
      const jobs = ids.map((i) => benchJob(i, round + k));
      way.ms += (await countingWal(db, way.wal, () => timed(() => way.write(jobs)))).ms;
      await expectStatus(db, jobs, way.name);
    }
    round += ways.length - 1;
  }
  const [batched, goWay, lean] = ways;
  const batchedPerSec = perSecond(JOBS, batched.ms);
  const goWayPerSec = perSecond(JOBS, goWay.ms);
  const leanPerRowPerSec = perSecond(JOBS, lean.ms);
  const ratio = batchedPerSec / goWayPerSec;
  log(`batched upsert (defaults), all changed: ${batchedPerSec} changed jobs/s`);
  log(`Go's Store way (per job, lib/pq):       ${goWayPerSec} changed jobs/s`);
  log(`ratio batched / Go way:                 ${ratio.toFixed(1)}x`);
  log(`lean per-row (1 round trip per job):    ${leanPerRowPerSec} changed jobs/s (ratio ${(batchedPerSec / leanPerRowPerSec).toFixed(1)}x)`);
  log(`WAL per changed job, batched:           ${walPerJob(batched.wal, JOBS)}; the Go way ${walPerJob(goWay.wal, JOBS)}; the lean way ${walPerJob(lean.wal, JOBS)}`);

  if (!opts.sweep) return { batchedPerSec, goWayPerSec, leanPerRowPerSec, ratio };
  // How the knobs matter (each a full pass over all jobs).
  for (const batchSize of BATCH_SIZES) {
    round += 1;
    log(`  batch ${String(batchSize).padStart(4)}, 2 connections:          ${await changeAll(db, round, { batchSize })} changed jobs/s`);
  }
  round += 1;
  log(`  batch 1000, 1 connection:            ${await changeAll(db, round, { concurrency: 1 })} changed jobs/s`);

  const same = Array.from({ length: JOBS }, (_, i) => benchJob(i, round));
  const unchanged = await timed(() => upsertJobs(db, same));
  if (unchanged.value.written !== 0) throw new Error(`unchanged upsert wrote ${unchanged.value.written}`);
  log(`batched upsert, nothing changed:       ${perSecond(JOBS, unchanged.ms)} jobs/s checked, 0 written`);
  const last = await benchDependencyCost(db, round);
  await benchWriteBreakdown(db, last);
  const afterSearch = await benchSearchWriteCost(db, last);
  const afterRollup = await benchRollupWriteCost(db, afterSearch);
  await benchNotStoppedIndexWriteCost(db, afterRollup);
  await benchConcurrentWriters(db, afterRollup + 2 * SLICES);
  return { batchedPerSec, goWayPerSec, leanPerRowPerSec, ratio };
}

/**
 * The dependency sets a describe of these jobs reports, as the sync passes
 * them: every job's set known, one job in five waiting on the two before it.
 */
function benchDependencies(jobs: MirroredJob[]): DependencySets {
  return new Map(
    jobs.map((job) => {
      const i = Number(job.job_id.slice('bench-'.length, 'bench-'.length + 8));
      const waits = i % 5 === 4 ? [i - 1, i - 2].map((d) => ({ depends_on_job_id: benchJob(d, 0).job_id, type: null })) : [];
      return [job.job_id, waits];
    }),
  );
}

/**
 * What mirroring dependsOn costs the upsert: the same writes with and without
 * each job's dependency set (unchanged since the insert, the usual case),
 * interleaved per tenth of the jobs; then a pass where nothing changed, both ways.
 */
/** Returns the round the jobs were last written at. */
async function benchDependencyCost(db: Knex, firstRound: number): Promise<number> {
  let round = firstRound;
  const slice = Math.ceil(JOBS / SLICES);
  let withMs = 0;
  let withoutMs = 0;
  await db.raw('VACUUM jobs');
  for (let from = 0; from < JOBS; from += slice) {
    const ids = Array.from({ length: Math.min(slice, JOBS - from) }, (_, k) => from + k);
    round += 1;
    const a = ids.map((i) => benchJob(i, round));
    withMs += (await timed(() => upsertJobs(db, a, { dependencies: benchDependencies(a) }))).ms;
    round += 1;
    const b = ids.map((i) => benchJob(i, round));
    withoutMs += (await timed(() => upsertJobs(db, b))).ms;
  }
  log(`with dependency sets, all changed:     ${perSecond(JOBS, withMs)} changed jobs/s (without: ${perSecond(JOBS, withoutMs)}, ratio ${(withoutMs / withMs).toFixed(2)})`);
  const same = Array.from({ length: JOBS }, (_, i) => benchJob(i, round));
  const sets = benchDependencies(same);
  await upsertJobs(db, same, { dependencies: sets }); // the tenths above were last written at different rounds
  let sameWithMs = 0;
  let sameWithoutMs = 0;
  for (let pass = 0; pass < 3; pass += 1) {
    sameWithMs += (await timed(() => upsertJobs(db, same, { dependencies: sets }))).ms;
    sameWithoutMs += (await timed(() => upsertJobs(db, same))).ms;
  }
  log(`with dependency sets, nothing changed: ${perSecond(3 * JOBS, sameWithMs)} jobs/s checked (without: ${perSecond(3 * JOBS, sameWithoutMs)}, ratio ${(sameWithoutMs / sameWithMs).toFixed(2)})`);
  const expected = [...sets.values()].reduce((total, links) => total + links.length, 0);
  const { n } = (await db('job_dependencies').count({ n: '*' }))[0];
  if (Number(n) !== expected) throw new Error(`job_dependencies holds ${n} rows, expected ${expected}`);
  return round;
}

// ------------------------------------------------------------------ search

/**
 * Generates jobs in SQL: 20 queues, 30 images, 8 name stems, statuses in
 * realistic proportions, last_updated spread over 60 days (half inside the
 * default 30-day range). Triggers are off: this is bulk loading, not mirroring.
 */
export async function generateJobs(db: Knex, n: number): Promise<void> {
  await reniceBackends(db);
  await db.raw('TRUNCATE jobs, job_status_events, task_arns_to_instance_info');
  // Bulk load without the secondary indexes (the copies' too), built after it.
  const indexes = await dropSecondaryIndexes(db, ['jobs', 'job_command_lines', 'job_search_texts']);
  await db.raw('ALTER TABLE jobs DISABLE TRIGGER USER');
  await db.raw(
    `INSERT INTO jobs (job_id, job_name, job_definition, job_queue, image, status, created_at, stopped_at,
       vcpus, memory, timeout, command_line, last_updated, status_reason, run_started_at, exitcode,
       log_stream_name, task_arn, attempts, platform, job_type, last_seen_at)
     SELECT
       md5(g::text)::uuid::text,
       (ARRAY['etl','report','train','ingest','export','backfill','score','sync'])[1 + h.a % 8]
         || '-' || (ARRAY['daily','hourly','adhoc','weekly'])[1 + h.b % 4] || '-' || (h.c % 5000),
       'arn:aws:batch:us-east-1:123456789012:job-definition/def-' || (h.a % 40) || ':1',
       'queue-' || (h.d % 20),
       'registry.example.com/team-' || (h.f % 30) || '/app:' || (h.f % 7),
       s.status,
       t.updated - interval '20 minutes',
       CASE WHEN s.status IN ('SUCCEEDED','FAILED','GONE') THEN t.updated END,
       1 + h.a % 8, 512 * (1 + h.b % 8), CASE WHEN h.c % 10 = 0 THEN 3600 ELSE -1 END,
       '["python","-m","jobs.' || (ARRAY['etl','report','train','ingest','export','backfill','score','sync'])[1 + h.a % 8]
         || '","--shard","' || (h.c % 64) || '","--input","s3://bucket-' || (h.f % 30) || '/' || g || '"]',
       t.updated,
       CASE WHEN s.status = 'FAILED' THEN (ARRAY['Essential container in task exited',
           'OutOfMemoryError: Container killed due to memory usage', 'Host EC2 (instance i-0' || (h.b % 100000)
           || ') terminated.', 'CannotPullContainerError: pull image manifest has been retried 5 time(s)'])[1 + h.f % 4]
         WHEN s.status = 'SUCCEEDED' THEN 'Essential container in task exited' END,
       CASE WHEN s.status IN ('RUNNING','SUCCEEDED','FAILED') THEN t.updated - interval '15 minutes' END,
       CASE WHEN s.status = 'SUCCEEDED' THEN 0 WHEN s.status = 'FAILED' THEN 1 END,
       'def/default/' || md5(g::text),
       'arn:aws:ecs:us-east-1:123456789012:task/c/' || md5(g::text),
       1, 'EC2', 'container', t.updated
     FROM generate_series(1, ?::int) AS g
     -- Independent pseudo-random draws per attribute (no accidental correlations).
     CROSS JOIN LATERAL (SELECT abs(hashint4(g)) AS a, abs(hashint4(g + 7919)) AS b, abs(hashint4(g + 104729)) AS c,
       abs(hashint4(g + 1299709)) AS d, abs(hashint4(g + 15485863)) AS e, abs(hashint4(g + 179424673)) AS f) h
     CROSS JOIN LATERAL (SELECT now() - (h.c % 5184000) * interval '1 second' AS updated) t
     CROSS JOIN LATERAL (SELECT CASE
         WHEN h.e % 100 < 70 THEN 'SUCCEEDED' WHEN h.e % 100 < 80 THEN 'FAILED'
         WHEN h.e % 100 < 85 THEN 'RUNNING' WHEN h.e % 100 < 88 THEN 'RUNNABLE'
         WHEN h.e % 100 < 90 THEN 'STARTING' WHEN h.e % 100 < 93 THEN 'PENDING'
         WHEN h.e % 100 < 95 THEN 'SUBMITTED' ELSE 'GONE' END AS status) s
     -- Rows arrive in time order, as a mirror writes them.
     ORDER BY t.updated`,
    [n],
  );
  // A tenth of the jobs that ran have their EC2 placement known (instance seconds in stats, the detail's join).
  await db.raw(
    `INSERT INTO task_arns_to_instance_info (task_arn, instance_id, public_ip, private_ip)
     SELECT task_arn, 'i-0' || substr(md5(job_id), 1, 16), '', '10.0.' || (abs(hashtext(job_id)) % 250) || '.' || (abs(hashtext(job_id || 'x')) % 250)
     FROM jobs WHERE run_started_at IS NOT NULL AND abs(hashtext(job_id)) % 10 = 0`,
  );
  // The command lines' copy, as its triggers would have written it (they were off for the load).
  await db.raw('INSERT INTO job_command_lines (job_id, command_line) SELECT job_id, command_line FROM jobs');
  await db.raw(`INSERT INTO job_search_texts (job_id, search_text, job_name)
    SELECT job_id, job_id || ' ' || job_queue || ' ' || image, job_name FROM jobs`);
  await db.raw('INSERT INTO job_names (job_name) SELECT DISTINCT job_name FROM jobs ON CONFLICT DO NOTHING');
  await db.raw('ALTER TABLE jobs ENABLE TRIGGER USER');
  await db.raw("SET maintenance_work_mem = '256MB'");
  for (const indexdef of indexes) {
    await reniceBackends(db);
    await db.raw(indexdef);
  }
  await db.raw('VACUUM ANALYZE jobs, task_arns_to_instance_info, job_command_lines, job_search_texts, job_names');
  // The stats rollup's triggers were off during the load.
  await rebuildStatsRollup(db);
  await db.raw('VACUUM ANALYZE job_stats_rollup, job_stats_dirty');
}

/**
 * The machine is shared: the Postgres backends serving this database (all of
 * them this run's own connections) run at the lowest CPU priority, as the bench
 * process itself should (`nice -n 19 npm run bench:store`). Parallel workers
 * would escape that, so maintenance runs without them. Best effort: needs the
 * right to renice the server's processes (same user or root).
 */
export async function reniceBackends(db: Knex): Promise<void> {
  await db.raw('SET max_parallel_maintenance_workers = 0');
  const pids = (
    await db.raw<{ rows: { pid: number }[] }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()')
  ).rows.map((r) => String(r.pid));
  if (pids.length === 0) return;
  try {
    execFileSync('renice', ['-n', '19', '-p', ...pids], { stdio: 'ignore' });
  } catch {
    // not allowed here: the figures are the same, the neighbours wait longer
  }
}

/** Bumped when generateJobs changes what it generates: a kept database is then generated again. */
const GENERATOR_VERSION = 2;

/**
 * Generates `n` jobs unless the database already holds exactly that generation
 * (a kept database, BENCH_STORE_DB: generating 10,000,000 jobs takes tens of
 * minutes, so it is done once and reused). Returns whether it generated.
 */
export async function ensureGenerated(db: Knex, n: number): Promise<boolean> {
  await db.raw('CREATE TABLE IF NOT EXISTS bench_store_generated (jobs bigint NOT NULL, version int NOT NULL)');
  const marker = (await db.raw<{ rows: { jobs: number; version: number }[] }>('SELECT jobs, version FROM bench_store_generated')).rows[0];
  if (marker && Number(marker.jobs) === n && marker.version === GENERATOR_VERSION) return false;
  await db.raw('DELETE FROM bench_store_generated');
  await generateJobs(db, n);
  await db.raw('INSERT INTO bench_store_generated (jobs, version) VALUES (?, ?)', [n, GENERATOR_VERSION]);
  return true;
}

const search = jobSearch;

/** The fixed query mix: what the UI sends most, plus each filter, sort and range. */
export function queryMix(rareIdPrefix: string): [string, JobSearch][] {
  const mix: [string, JobSearch][] = [
    ['default (30d, last_updated DESC)', search({})],
    ['token common "etl"', search({ tokens: ['etl'] })],
    ['token rare (id prefix)', search({ tokens: [rareIdPrefix] })],
    ['two tokens "report team-7"', search({ tokens: ['report', 'team-7'] })],
    ['token without match', search({ tokens: ['zzqqxx'] })],
    ['token + sort name ASC', search({ tokens: ['ingest'], sortColumn: 'name', sortDirection: 'ASC' })],
    ['queue filter', search({ queues: ['queue-3'] })],
    ['status FAILED', search({ statuses: ['FAILED'] })],
    ['status RUNNING (5%)', search({ statuses: ['RUNNING'] })],
    ['queues + statuses', search({ queues: ['queue-3', 'queue-4'], statuses: ['RUNNING', 'RUNNABLE'] })],
    ['queue + status + token', search({ queues: ['queue-5'], statuses: ['SUCCEEDED'], tokens: ['daily'] })],
    ['queue + status, no match', search({ queues: ['queue-99'], statuses: ['FAILED'] })],
    ['queue + status, sort name', search({ queues: ['queue-7'], statuses: ['RUNNING'], sortColumn: 'name', sortDirection: 'ASC' })],
    // Status reason (`reason:`) and command line (`cmd:`) words.
    ['reason common "essential" (72 %)', search({ reasonWords: ['essential'] })],
    ['reason "OutOfMemory" (2.5 %)', search({ reasonWords: ['OutOfMemory'] })],
    ['reason rare "i-053476" (an instance)', search({ reasonWords: ['i-053476'] })],
    ['reason without match', search({ reasonWords: ['zzqqxx'] })],
    ['reason "OutOfMemory" + queue', search({ reasonWords: ['OutOfMemory'], queues: ['queue-3'] })],
    ['reason "OutOfMemory", sort name ASC', search({ reasonWords: ['OutOfMemory'], sortColumn: 'name', sortDirection: 'ASC' })],
    ['cmd common "--shard" (all)', search({ commandWords: ['--shard'] })],
    ['cmd "jobs.train" (12.5 %)', search({ commandWords: ['jobs.train'] })],
    ['cmd rare "bucket-7/4242"', search({ commandWords: ['bucket-7/4242'] })],
    ['cmd without match', search({ commandWords: ['zzqqxx'] })],
    ['cmd "jobs.train" + status FAILED', search({ commandWords: ['jobs.train'], statuses: ['FAILED'] })],
    ['reason + cmd "OutOfMemory" "jobs.etl"', search({ reasonWords: ['OutOfMemory'], commandWords: ['jobs.etl'] })],
    ['cmd "jobs.train", sort id ASC', search({ commandWords: ['jobs.train'], sortColumn: 'id', sortDirection: 'ASC' })],
  ];
  for (const sortColumn of ['id', 'name', 'status', 'stopped_at', 'last_updated'] as const) {
    for (const sortDirection of ['ASC', 'DESC'] as const) {
      mix.push([`sort ${sortColumn} ${sortDirection}`, search({ sortColumn, sortDirection })]);
    }
  }
  for (const dateRange of ['10m', '1h', '1d', '7d'] as const) mix.push([`dateRange ${dateRange}`, search({ dateRange })]);
  mix.push(['deep page 50 (offset 5000)', search({ page: 50 })]);
  mix.push(['deep page 20, sort name DESC', search({ page: 20, sortColumn: 'name', sortDirection: 'DESC' })]);
  mix.push(['status + sort stopped_at DESC', search({ statuses: ['SUCCEEDED'], sortColumn: 'stopped_at', sortDirection: 'DESC' })]);
  return mix;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

interface SearchFigure {
  name: string;
  p50: number;
  p95: number;
  rows: number;
}


/**
 * The Go original's search (jobs/postgres_store.go, Find), written here from
 * its description: every token an ILIKE on the concatenated columns, IN lists,
 * the date range, ORDER BY the column alone, LIMIT/OFFSET, one statement.
 */
export function goFindStatement(q: JobSearch): [string, Knex.RawBinding[]] {
  const where: string[] = ["last_updated > (now() - ?::interval)"];
  const bindings: Knex.RawBinding[] = [{ '10m': '10 minutes', '1h': '1 hour', '1d': '1 day', '2d': '2 days', '3d': '3 days', '7d': '7 days', '30d': '30 days' }[q.dateRange]];
  for (const token of q.tokens) {
    where.push('(job_id || job_name || job_queue || image) ILIKE ?');
    bindings.push(`%${token.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  }
  if (q.statuses.length > 0) {
    where.push(`status IN (${q.statuses.map(() => '?').join(', ')})`);
    bindings.push(...q.statuses);
  }
  if (q.queues.length > 0) {
    where.push(`job_queue IN (${q.queues.map(() => '?').join(', ')})`);
    bindings.push(...q.queues);
  }
  // Not in the Go original: the naive way to search the status reason and the command line.
  for (const [column, words] of [['status_reason', q.reasonWords], ['command_line', q.commandWords]] as const) {
    for (const word of words ?? []) {
      where.push(`${column} ILIKE ?`);
      bindings.push(`%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    }
  }
  const column = { id: 'job_id', name: 'job_name', status: 'status', stopped_at: 'stopped_at', last_updated: 'last_updated' }[q.sortColumn];
  return [
    `SELECT job_id, job_name, status, job_definition, last_updated, job_queue, image, created_at, stopped_at, vcpus,
       memory, timeout, command_line, status_reason, run_started_at, exitcode, log_stream_name, termination_requested,
       task_arn, array_properties
     FROM jobs WHERE ${where.join(' AND ')} ORDER BY ${column} ${q.sortDirection} LIMIT ? OFFSET ?`,
    [...bindings, JOBS_PAGE_SIZE, q.page * JOBS_PAGE_SIZE],
  ];
}

async function goSearch(db: Knex, q: JobSearch): Promise<number> {
  const [sql, bindings] = goFindStatement(q);
  const r = await db.raw<{ rows: unknown[] }>(sql, bindings);
  return r.rows.length;
}

/** The shapes outside the mix that were slow at 10,000,000 jobs (issue 18), and every sort with filters. */
export function slowShapes(): [string, JobSearch][] {
  const shapes: [string, JobSearch][] = [
    ['common token "etl" by name ASC', search({ tokens: ['etl'], sortColumn: 'name', sortDirection: 'ASC' })],
    ['common token "etl" by name DESC', search({ tokens: ['etl'], sortColumn: 'name', sortDirection: 'DESC' })],
    ['token "sync" by name DESC', search({ tokens: ['sync'], sortColumn: 'name', sortDirection: 'DESC' })],
    ['two tokens "report daily" by name ASC', search({ tokens: ['report', 'daily'], sortColumn: 'name', sortDirection: 'ASC' })],
    ['two tokens "report daily" by name DESC', search({ tokens: ['report', 'daily'], sortColumn: 'name', sortDirection: 'DESC' })],
    ['two tokens "report team-7" by name DESC', search({ tokens: ['report', 'team-7'], sortColumn: 'name', sortDirection: 'DESC' })],
    ['4-digit id fragment "7431"', search({ tokens: ['7431'] })],
    ['4-digit id fragment "7431" by name', search({ tokens: ['7431'], sortColumn: 'name', sortDirection: 'ASC' })],
    ['deep page 99 (offset 9900)', search({ page: 99 })],
    ['deep page 30, token "daily"', search({ page: 30, tokens: ['daily'] })],
    ['deep page 50, sort stopped_at ASC', search({ page: 50, sortColumn: 'stopped_at', sortDirection: 'ASC' })],
  ];
  const filters: [string, Partial<JobSearch>][] = [
    ['status FAILED', { statuses: ['FAILED'] }],
    ['queue + status', { queues: ['queue-3'], statuses: ['SUCCEEDED', 'FAILED'] }],
    ['token "score", 7d', { tokens: ['score'], dateRange: '7d' }],
  ];
  for (const sortColumn of ['id', 'name', 'status', 'stopped_at', 'last_updated'] as const) {
    for (const sortDirection of ['ASC', 'DESC'] as const) {
      for (const [name, f] of filters) shapes.push([`${name}, sort ${sortColumn} ${sortDirection}`, search({ ...f, sortColumn, sortDirection })]);
    }
  }
  return shapes;
}

const NAIVE_RUNS = Number(process.env.BENCH_STORE_NAIVE_RUNS ?? 2);
/** Which parts run (comma list of upserts, search, stats, cleaner; searchwrites: only the reason/cmd write cost of upserts; writecost: only the breakdown and the rollup cost of upserts; writers: only the concurrent writers, which upserts ends with, at 10M too); all but searchwrites, writecost and writers by default. */
const PARTS = new Set((process.env.BENCH_STORE_PARTS ?? 'upserts,search,stats,cleaner').split(','));
const NAIVE_TIMEOUT_MS = Number(process.env.BENCH_STORE_NAIVE_TIMEOUT_MS ?? 10_000);

/** p50/p95 of `runs` timed calls (after one warm-up unless `cold`); null when a call ran past the statement timeout. */
async function latency(runs: number, fn: () => Promise<unknown>, cold = false): Promise<{ p50: number; p95: number } | null> {
  try {
    if (!cold) await fn();
    const times: number[] = [];
    for (let i = 0; i < runs; i += 1) times.push((await timed(fn)).ms);
    times.sort((a, b) => a - b);
    return { p50: percentile(times, 50), p95: percentile(times, 95) };
  } catch (err) {
    if (err instanceof Error && /statement timeout/.test(err.message)) return null;
    throw err;
  }
}

const fmt = (f: { p50: number; p95: number } | null) =>
  f ? `p50 ${f.p50.toFixed(1).padStart(8)} ms  p95 ${f.p95.toFixed(1).padStart(8)} ms` : `> ${NAIVE_TIMEOUT_MS / 1000} s (timeout)`.padEnd(34);

/** Ours beside the Go way, shape by shape (the Go way with fewer runs, under a statement timeout). */
async function benchSearchVsGo(db: Knex, naive: Knex, shapes: [string, JobSearch][]): Promise<SearchFigure[]> {
  const figures: SearchFigure[] = [];
  for (const [name, q] of shapes) {
    const rows = (await searchJobs(db, q)).length;
    const ours = await latency(RUNS, () => searchJobs(db, q));
    if (!ours) throw new Error(`${name}: timed out`);
    const go = await latency(NAIVE_RUNS, () => goSearch(naive, q), true);
    figures.push({ name, ...ours, rows });
    const ratio = go ? `${(go.p50 / ours.p50).toFixed(1)}x` : `> ${(NAIVE_TIMEOUT_MS / ours.p50).toFixed(0)}x`;
    log(`${name.padEnd(44)} ours ${fmt(ours)} | Go ILIKE ${fmt(go)} | ${ratio} (${rows} rows)`);
  }
  return figures;
}

async function benchDetail(db: Knex, n: number): Promise<{ p50: number; p95: number }> {
  const ids = (
    await db.raw<{ rows: { id: string }[] }>(
      'SELECT md5(g::text)::uuid::text AS id FROM (SELECT 1 + (abs(hashint4(k)) % ?) AS g FROM generate_series(1, 500) k) s',
      [n],
    )
  ).rows.map((r) => r.id);
  const times: number[] = [];
  for (const id of ids) {
    const r = await timed(() => getJob(db, id));
    if (!r.value) throw new Error(`job ${id} not found`);
    times.push(r.ms);
  }
  times.sort((a, b) => a - b);
  const f = { p50: percentile(times, 50), p95: percentile(times, 95) };
  log(`job detail (500 random ids, instance join)    p50 ${f.p50.toFixed(2)} ms  p95 ${f.p95.toFixed(2)} ms`);
  return f;
}

/**
 * The stats computed from `jobs` as before the run_started_at index: the
 * index is dropped inside a transaction that is rolled back (the bench's own
 * database; the drop holds the table for the query's duration).
 */
async function withoutRunStartIndex<T>(db: Knex, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  const trx = await db.transaction();
  try {
    await trx.raw('DROP INDEX IF EXISTS jobs_run_started_at');
    return await work(trx);
  } finally {
    await trx.rollback();
  }
}

const jobStatsFullScan = (db: Knex, q: StatsQuery): Promise<StatsRow[]> => withoutRunStartIndex(db, (trx) => jobStatsFromJobs(trx, q));

function sameStats(a: StatsRow[], b: StatsRow[]): boolean {
  const close = (x: number, y: number) => Math.abs(x - y) <= Math.max(1e-6, 1e-9 * Math.abs(y));
  return a.length === b.length && a.every((r, i) => {
    const e = b[i];
    return r.timestamp === e.timestamp && r.job_queue === e.job_queue && r.status === e.status && r.job_count === e.job_count &&
      close(r.vcpu_seconds, e.vcpu_seconds) && close(r.memory_seconds, e.memory_seconds) && close(r.instance_seconds, e.instance_seconds);
  });
}

/** The rollup, the index alone and the full scan in one transaction (one now(), so running jobs count alike): equal or throws. */
async function expectStatsAgree(db: Knex, q: StatsQuery, label: string): Promise<StatsRow[]> {
  const trx = await db.transaction();
  try {
    const rollup = await jobStats(trx, q);
    const index = await jobStatsFromJobs(trx, q);
    await trx.raw('DROP INDEX IF EXISTS jobs_run_started_at');
    const scan = await jobStatsFromJobs(trx, q);
    if (!sameStats(rollup, scan)) throw new Error(`stats ${label}: the rollup differs from the full scan`);
    if (!sameStats(index, scan)) throw new Error(`stats ${label}: the index differs from the full scan`);
    return rollup;
  } finally {
    await trx.rollback();
  }
}

type Latency = { p50: number; p95: number };
interface StatsFigure { days: number; rollup: Latency; index: Latency | null; scan: Latency | null }

/**
 * GET /api/v1/jobs/stats over 1, 7, 30 and 90 days ending now: the rollup
 * (jobStats) vs the same computation from jobs through the run_started_at
 * index alone and as a full scan, answers compared; then with buckets marked
 * by writes since the last roll-up (computed from jobs), and the roll-up of those.
 */
async function benchStats(db: Knex, naive: Knex): Promise<StatsFigure[]> {
  log(`\n## Stats (GET /api/v1/jobs/stats), ${RUNS} runs the rollup, ${NAIVE_RUNS} the index alone and the full scan (no warm-up)`);
  await refreshStatsRollup(db, 600_000);
  const now = async () => Number((await db.raw<{ rows: { now: number }[] }>('SELECT extract(epoch FROM now())::float8 AS now')).rows[0].now);
  const window = (end: number, days: number): StatsQuery => ({ start: new Date((end - days * 86_400) * 1000), end: new Date(end * 1000), queues: [], statuses: [] });
  const out: StatsFigure[] = [];
  for (const days of [1, 7, 30, 90]) {
    const q = window(await now(), days);
    const rows = await expectStatsAgree(db, q, `over ${days} days`);
    const jobsIn = rows.reduce((sum, r) => sum + r.job_count, 0);
    const rollup = await latency(RUNS, () => jobStats(db, q));
    if (!rollup) throw new Error('stats timed out');
    const index = await latency(NAIVE_RUNS, () => jobStatsFromJobs(naive, q), true);
    const scan = await latency(NAIVE_RUNS, () => jobStatsFullScan(naive, q), true);
    const ratio = (f: Latency | null) => (f ? `${(f.p50 / rollup.p50).toFixed(0)}x` : `> ${(NAIVE_TIMEOUT_MS / rollup.p50).toFixed(0)}x`);
    log(`${String(days).padStart(2)} days (${rows.length} rows, ${jobsIn.toLocaleString('en-US')} jobs, all three agree)`.padEnd(52) +
      ` rollup ${fmt(rollup)} | index alone ${fmt(index)} ${ratio(index)} | full scan ${fmt(scan)} ${ratio(scan)}`);
    out.push({ days, rollup, index, scan });
  }
  // Writes between two roll-ups: the last hour's 12 buckets and 88 older ones marked.
  const end = await now();
  const marked = [...Array(12).keys()].map((i) => Math.floor(end / 300) * 300 - i * 300)
    .concat([...Array(88).keys()].map((i) => Math.floor((end - 86_400 * (1 + ((i * 7919) % 89))) / 300) * 300));
  await db.raw('INSERT INTO job_stats_dirty (bucket) SELECT unnest(?::bigint[])', [marked]);
  for (const days of [1, 90]) {
    const q = window(await now(), days);
    await expectStatsAgree(db, q, `over ${days} days, 100 buckets marked`);
    const f = await latency(RUNS, () => jobStats(db, q));
    log(`${String(days).padStart(2)} days, 100 buckets marked since the last roll-up`.padEnd(52) + ` rollup ${fmt(f)}`);
  }
  const refresh = await timed(() => refreshStatsRollup(db));
  log(`roll-up of those 100 buckets (the rollUpStats task): ${refresh.ms.toFixed(0)} ms`);
  return out;
}

/** Table, TOAST and index bytes of jobs, per row, and its dead rows. */
async function benchSize(db: Knex): Promise<void> {
  const r = (
    await db.raw<{ rows: { rows: number; heap: number; toast: number; indexes: number; dead: number }[] }>(
      `SELECT c.reltuples::float8 AS rows, pg_relation_size(c.oid)::float8 AS heap,
         COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0)::float8 AS toast,
         pg_indexes_size(c.oid)::float8 AS indexes, s.n_dead_tup::float8 AS dead
       FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = 'jobs'::regclass`,
    )
  ).rows[0];
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  log(`\n## Size: jobs ${Math.round(r.rows).toLocaleString('en-US')} rows: heap ${mb(r.heap)}, TOAST ${mb(r.toast)}, indexes ${mb(r.indexes)}; ` +
    `${Math.round((r.heap + r.toast + r.indexes) / r.rows)} bytes per row with its indexes (heap ${Math.round(r.heap / r.rows)}); ` +
    `dead rows ${Math.round(r.dead).toLocaleString('en-US')}`);
  const per = (
    await db.raw<{ rows: { indexrelname: string; size: number }[] }>(
      "SELECT indexrelname, pg_relation_size(indexrelid)::float8 AS size FROM pg_stat_user_indexes WHERE relname = 'jobs' ORDER BY 2 DESC",
    )
  ).rows;
  log(`   indexes: ${per.map((i) => `${i.indexrelname} ${mb(i.size)}`).join(', ')}`);
  // The search's copies, written once per job: with them, what a job costs in all.
  const copies = (
    await db.raw<{ rows: { relname: string; heap: number; indexes: number }[] }>(
      `SELECT c.relname, pg_relation_size(c.oid)::float8 AS heap, pg_indexes_size(c.oid)::float8 AS indexes FROM pg_class c
       WHERE c.relname IN ('job_search_texts', 'job_command_lines', 'job_names') AND c.relkind = 'r' ORDER BY 1`,
    )
  ).rows;
  const copyBytes = copies.reduce((sum, c) => sum + c.heap + c.indexes, 0);
  log(`   search copies: ${copies.map((c) => `${c.relname} ${mb(c.heap)} + indexes ${mb(c.indexes)}`).join(', ')}; ` +
    `with them ${Math.round((r.heap + r.toast + r.indexes + copyBytes) / r.rows)} bytes per job`);
}

/**
 * The cleaner on a full table: `n` finished jobs last updated 400 days ago are
 * added (the month the cleaner is due to delete), then deleteJobsOlderThan
 * runs while an upsert loop (1,000 changed jobs a call) and a search loop
 * (the landing page) keep going; their slowest call and the longest lock wait
 * any backend of this database showed are what the cleaner costs them.
 */
async function benchCleaner(db: Knex, n: number): Promise<void> {
  log(`\n## Cleaner: ${n.toLocaleString('en-US')} old finished jobs deleted beside a sync and a search`);
  const add = await timed(async () => {
    for (let from = 0; from < n; from += 100_000) {
      await reniceBackends(db);
      await db.raw(
        `INSERT INTO jobs (job_id, job_name, job_definition, job_queue, image, status, created_at, stopped_at, vcpus, memory,
           timeout, command_line, last_updated, status_reason, run_started_at, exitcode, log_stream_name, task_arn, attempts,
           platform, job_type, last_seen_at)
         SELECT 'old-' || md5(g::text), 'old-job-' || (g % 5000), 'def', 'queue-' || (g % 20), 'registry.example.com/old:1',
           CASE WHEN g % 5 = 0 THEN 'FAILED' ELSE 'SUCCEEDED' END, t - interval '20 minutes', t, 1 + g % 4, 1024, -1,
           '["python","old.py"]', t, 'Essential container in task exited', t - interval '15 minutes', 0,
           'old/' || g, 'arn:aws:ecs:us-east-1:123456789012:task/old/' || g, 1, 'EC2', 'container', t
         FROM generate_series(?::int, ?::int) g CROSS JOIN LATERAL (SELECT now() - interval '400 days' - (g % 2592000) * interval '1 second' AS t) x`,
        [from + 1, Math.min(n, from + 100_000)],
      );
    }
    await db.raw(
      `INSERT INTO task_arns_to_instance_info (task_arn, instance_id, public_ip, private_ip)
       SELECT task_arn, 'i-old', '', '' FROM jobs WHERE job_id >= 'old-' AND job_id < 'old.' AND abs(hashtext(job_id)) % 10 = 0`,
    );
    await db.raw('VACUUM ANALYZE jobs');
  });
  log(`added in ${(add.ms / 1000).toFixed(0)} s`);

  const probes = (round: number) => Array.from({ length: 1000 }, (_, i) => ({ ...benchJob(i, round), job_id: `probe-${String(i).padStart(6, '0')}` }));
  await upsertJobs(db, probes(0));
  const baseline = { upsert: [] as number[], search: [] as number[] };
  let round = 0;
  for (let i = 0; i < 10; i += 1) {
    round += 1;
    baseline.upsert.push((await timed(() => upsertJobs(db, probes(round)))).ms);
    baseline.search.push((await timed(() => searchJobs(db, search({})))).ms);
  }
  let done = false;
  const during = { upsert: [] as number[], search: [] as number[] };
  let longestLockWait = 0;
  const upsertLoop = (async () => {
    while (!done) {
      round += 1;
      during.upsert.push((await timed(() => upsertJobs(db, probes(round)))).ms);
    }
  })();
  const searchLoop = (async () => {
    while (!done) during.search.push((await timed(() => searchJobs(db, search({})))).ms);
  })();
  const lockLoop = (async () => {
    while (!done) {
      const r = await db.raw<{ rows: { wait: number | null }[] }>(
        `SELECT max(extract(epoch FROM clock_timestamp() - query_start))::float8 AS wait FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      longestLockWait = Math.max(longestLockWait, Number(r.rows[0]?.wait ?? 0) * 1000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const cutoff = new Date(Date.now() - 300 * 86_400_000);
  const clean = await timed(() => deleteJobsOlderThan(db, cutoff));
  done = true;
  await Promise.all([upsertLoop, searchLoop, lockLoop]);
  if (clean.value.jobs !== n) throw new Error(`the cleaner deleted ${clean.value.jobs} jobs, expected ${n}`);
  const max = (xs: number[]) => Math.max(...xs);
  const p50 = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
  log(`cleaner: ${clean.value.jobs.toLocaleString('en-US')} jobs (+${clean.value.taskInfo.toLocaleString('en-US')} task info rows) in ${(clean.ms / 1000).toFixed(1)} s, ${perSecond(clean.value.jobs, clean.ms)} jobs/s`);
  log(`upsert of 1,000 changed jobs: before p50 ${p50(baseline.upsert).toFixed(0)} / max ${max(baseline.upsert).toFixed(0)} ms; ` +
    `during p50 ${p50(during.upsert).toFixed(0)} / max ${max(during.upsert).toFixed(0)} ms (${during.upsert.length} calls)`);
  log(`search (landing page):        before p50 ${p50(baseline.search).toFixed(0)} / max ${max(baseline.search).toFixed(0)} ms; ` +
    `during p50 ${p50(during.search).toFixed(0)} / max ${max(during.search).toFixed(0)} ms (${during.search.length} calls)`);
  log(`longest lock wait seen (any backend of this database, sampled every 20 ms): ${longestLockWait.toFixed(0)} ms`);
  await benchSize(db);
  await db.raw("DELETE FROM jobs WHERE job_id >= 'probe-' AND job_id < 'probe.'");
  await reniceBackends(db);
  const vac = await timed(() => db.raw('VACUUM ANALYZE jobs'));
  log(`VACUUM ANALYZE jobs after the cleaner: ${(vac.ms / 1000).toFixed(0)} s`);
}

/** Removes what the upsert bench added to a kept database; the number of jobs removed. */
async function removeBenchJobs(db: Knex, prefix = 'bench'): Promise<number> {
  const range = [`${prefix}-`, `${prefix}.`];
  await db.raw('DELETE FROM job_status_events WHERE job_id >= ? AND job_id < ?', range);
  const r = await db.raw<{ rowCount: number }>('DELETE FROM jobs WHERE job_id >= ? AND job_id < ?', range);
  return r.rowCount;
}

/**
 * A kept database holds only the generated jobs between runs; an earlier run
 * stopped midway leaves its own (the upserts' and the cleaner's), the newest
 * rows of the table, which every search walking from the newest update would
 * pass first (~100,000 of them: ~280 ms added to the landing page at 10M).
 */
async function removeLeftovers(db: Knex): Promise<void> {
  let removed = 0;
  for (const prefix of ['bench', 'probe', 'old']) removed += await removeBenchJobs(db, prefix);
  if (removed === 0) return;
  await db.raw("DELETE FROM task_arns_to_instance_info WHERE instance_id = 'i-old'");
  await db.raw('VACUUM ANALYZE jobs, job_status_events, job_search_texts, job_command_lines');
  log(`removed ${removed.toLocaleString('en-US')} jobs an earlier run left, then VACUUM ANALYZE`);
}

// ------------------------------------------------------------------ main

const KEEP_DB = process.env.BENCH_STORE_DB ?? (SEARCH_JOBS >= 10_000_000 ? 'bp_bench_10m' : '');

async function main(): Promise<void> {
  const admin = createDb({ ...PG, database_name: 'postgres' }, { min: 0, max: 1 });
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | null = null;
  if (KEEP_DB) {
    const exists = (await admin.raw<{ rows: unknown[] }>('SELECT 1 FROM pg_database WHERE datname = ?', [KEEP_DB])).rows.length > 0;
    if (!exists) await admin.raw('CREATE DATABASE ??', [KEEP_DB]);
  } else {
    scratch = await createScratchDatabase(admin, 'bp_bench_store');
  }
  const name = KEEP_DB || (scratch?.name ?? '');
  const db = createDb({ ...PG, database_name: name }, { min: 1, max: 4 });
  // The Go way's statements may run for minutes at this size: each is cut at NAIVE_TIMEOUT_MS.
  const naiveSettings = knexSettings({ ...PG, database_name: name }, { min: 0, max: 1 });
  naiveSettings.connection = { ...(naiveSettings.connection as object), options: `-c statement_timeout=${NAIVE_TIMEOUT_MS}` };
  const naive = knexFactory(naiveSettings);
  try {
    await db.raw('SELECT 1');
    await reniceBackends(db);
    await migrateLatest(db);
    const version = (await db.raw<{ rows: { server_version: string }[] }>('SHOW server_version')).rows[0].server_version;
    log(`# bench:store — PostgreSQL ${version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
    log(`database ${name}${KEEP_DB ? ' (kept between runs)' : ''}; load average at start: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    let up: UpsertFigures | null = null;
    if (!KEEP_DB && PARTS.has('upserts')) up = await benchUpserts(db, { sweep: true });
    else if (!KEEP_DB && PARTS.has('searchwrites')) {
      // The reason/cmd search's write cost alone (it is also part of `upserts`).
      log(`\n## Upserts on ${JOBS.toLocaleString('en-US')} jobs: the reason/cmd search's write cost`);
      await upsertJobs(db, Array.from({ length: JOBS }, (_, i) => benchJob(i, 0)));
      await benchSearchWriteCost(db, 0);
    }
    if (!KEEP_DB && PARTS.has('writecost')) await benchWriteCost(db);
    if (!KEEP_DB && PARTS.has('writers') && !PARTS.has('upserts')) {
      log(`\n## Concurrent writers on ${JOBS.toLocaleString('en-US')} jobs`);
      const initial = Array.from({ length: JOBS }, (_, i) => benchJob(i, 0));
      await upsertJobs(db, initial, { dependencies: benchDependencies(initial) });
      await benchConcurrentWriters(db, 0);
    }

    // The generated jobs only for the parts that read them (or a kept database's).
    if (KEEP_DB || PARTS.has('search') || PARTS.has('stats')) {
      log(`\n## Search on ${SEARCH_JOBS.toLocaleString('en-US')} generated jobs (${RUNS} timed runs per query after a warm-up, the Go way ${NAIVE_RUNS} without)`);
      const gen = await timed(() => ensureGenerated(db, SEARCH_JOBS));
      log(gen.value ? `generated + indexes + VACUUM ANALYZE in ${(gen.ms / 1000).toFixed(1)} s` : 'generated by an earlier run: reused');
      if (KEEP_DB && !gen.value) await removeLeftovers(db);
    }
    await reniceBackends(db);
    const rare = ((await db.raw<{ rows: { id: string }[] }>('SELECT md5(?::text)::uuid::text AS id', [String(Math.floor(SEARCH_JOBS / 3))])).rows[0].id).slice(0, 8);
    const figures: SearchFigure[] = [];
    let detail: { p50: number; p95: number } | null = null;
    if (PARTS.has('search')) {
      figures.push(...(await benchSearchVsGo(db, naive, queryMix(rare))));
      if (KEEP_DB || process.env.BENCH_STORE_SLOW_SHAPES) {
        log('\n### The slow shapes of issue 18 and every sort with filters');
        figures.push(...(await benchSearchVsGo(db, naive, slowShapes())));
      }
      detail = await benchDetail(db, SEARCH_JOBS);
    }
    const stats = PARTS.has('stats') ? await benchStats(db, naive) : [];
    if (KEEP_DB) {
      await benchSize(db);
      if (PARTS.has('upserts')) {
        up = await benchUpserts(db, { sweep: false });
        await benchConcurrentWriters(db, 1_000);
        await removeBenchJobs(db);
      }
      if (PARTS.has('cleaner')) await benchCleaner(db, Math.round(SEARCH_JOBS / 10));
    }

    const worstP95 = Math.max(0, ...figures.map((f) => f.p95));
    const worst = figures.find((f) => f.p95 === worstP95);
    const searchTarget = SEARCH_JOBS >= 10_000_000 ? 150 : 100;
    const worstStats = Math.max(0, ...stats.map((s) => s.rollup.p95));
    log(`\nload average at end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    log('\n## Summary');
    if (up) {
      log(`batched changed jobs/s: ${up.batchedPerSec} (target >= 20000) ${up.batchedPerSec >= 20_000 ? 'OK' : 'MISSED'}`);
      log(`vs Go's Store way:     ${up.ratio.toFixed(1)}x`);
      log(`vs lean per-row:       ${(up.batchedPerSec / up.leanPerRowPerSec).toFixed(1)}x (1 round trip per job; for comparison)`);
    }
    log(`worst search p95:      ${worstP95.toFixed(1)} ms, ${worst?.name} (target <= ${searchTarget} ms) ${worstP95 <= searchTarget ? 'OK' : 'MISSED'}`);
    if (detail) log(`job detail p95:        ${detail.p95.toFixed(2)} ms (target <= 10 ms) ${detail.p95 <= 10 ? 'OK' : 'MISSED'}`);
    log(`worst stats p95:       ${worstStats.toFixed(1)} ms (target <= 300 ms) ${worstStats <= 300 ? 'OK' : 'MISSED'}`);
  } finally {
    await naive.destroy();
    await db.destroy();
    await scratch?.drop();
    await admin.destroy();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench:store failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  });
}
