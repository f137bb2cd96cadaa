/**
 * The stats rollup (job_stats_rollup, src/store/statsRollup.ts) against the
 * computation over every job: random jobs (running ones, array parents with
 * and without children, instance info arriving late), then changes after
 * their buckets were rolled up, deletions by the cleaner, and windows with
 * arbitrary edges at every bucket width. The answers must be the same at any
 * moment: before a roll-up, after it, and in between.
 */
import { expect } from 'chai';
import type { Knex } from 'knex';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { jobStats, jobStatsFromJobs, markedBuckets, statsInterval } from '../../src/store/stats';
import { rebuildStatsRollup, refreshStatsRollup } from '../../src/store/statsRollup';
import { upsertJobs } from '../../src/store/jobs/upsert';
import { upsertTaskInstanceInfo } from '../../src/store/instances';
import { deleteJobsOlderThan } from '../../src/store/jobs/maintenance';
import type { MirroredJob, StatsQuery } from '../../src/types';
import type { JobStatus } from '../../src/domain/jobStatus';
import type { StatsRow } from '../../src/api/contract';
import { mirroredJob } from './fixtures';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const BASE = Date.parse('2026-09-01T00:00:00.000Z');
const DATA_SPAN = 60 * DAY;
const SUMMARY = { starting: 0, failed: 0, running: 0, succeeded: 3, runnable: 0, submitted: 0, pending: 0 };

/** mulberry32: a seeded PRNG, so a failure can be replayed (the seed is in the test's title). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The stats query as it was before the rollup, word for word, run as a full
 * scan: the definition of the right answer.
 */
async function fullScanStats(trx: Knex.Transaction, q: StatsQuery, interval: number): Promise<StatsRow[]> {
  await trx.raw('SET LOCAL enable_indexscan = off');
  await trx.raw('SET LOCAL enable_bitmapscan = off');
  const filters: string[] = [];
  const filterBindings: Knex.RawBinding[] = [];
  if (q.queues.length > 0) {
    filters.push('AND j.job_queue = ANY(?::text[])');
    filterBindings.push(q.queues);
  }
  if (q.statuses.length > 0) {
    filters.push('AND j.status = ANY(?::text[])');
    filterBindings.push(q.statuses);
  }
  const result = await trx.raw<{ rows: Omit<StatsRow, 'interval'>[] }>(
    `WITH runs AS (
      SELECT j.job_queue, j.status,
        (floor(extract(epoch FROM j.run_started_at) / ?) * ?)::bigint AS bucket,
        COALESCE(j.vcpus_exact, j.vcpus)::float8 AS vcpus,
        j.memory::float8 AS memory,
        GREATEST(extract(epoch FROM COALESCE(j.stopped_at, now()) - j.run_started_at), 0)::float8 AS runtime,
        EXISTS (SELECT 1 FROM task_arns_to_instance_info t WHERE t.task_arn = j.task_arn) AS on_instance
      FROM jobs j
      WHERE j.run_started_at >= ? AND j.run_started_at < ?
        AND NOT (j.array_parent_id IS NULL AND (j.array_properties->>'size') IS NOT NULL
          AND EXISTS (SELECT 1 FROM jobs c WHERE c.array_parent_id = j.job_id))
      ${filters.join(' ')}
    )
    SELECT job_queue, status, bucket AS "timestamp",
      SUM(vcpus * runtime)::float8 AS vcpu_seconds, SUM(memory * runtime)::float8 AS memory_seconds,
      SUM(CASE WHEN on_instance THEN runtime ELSE 0 END)::float8 AS instance_seconds, COUNT(*)::int AS job_count
    FROM runs GROUP BY job_queue, status, bucket ORDER BY bucket, job_queue, status`,
    [interval, interval, q.start, q.end, ...filterBindings],
  );
  await trx.raw('SET LOCAL enable_indexscan = on');
  await trx.raw('SET LOCAL enable_bitmapscan = on');
  return result.rows.map((r) => ({ ...r, timestamp: Number(r.timestamp), interval }));
}

// Sums to 1e-9, and to a microsecond where a marked bucket's part was taken out of a larger sum.
const close = (a: number, b: number) => Math.abs(a - b) <= Math.max(1e-6, 1e-9 * Math.abs(b));

function expectSameStats(ours: StatsRow[], truth: StatsRow[], label: string): void {
  const key = (r: StatsRow) => `${r.timestamp}/${r.job_queue}/${r.status}/${r.interval}/${r.job_count}`;
  expect(ours.map(key), label).to.deep.equal(truth.map(key));
  ours.forEach((r, i) => {
    const t = truth[i];
    for (const f of ['vcpu_seconds', 'memory_seconds', 'instance_seconds'] as const) {
      expect(close(r[f], t[f]), `${label}: ${key(r)} ${f} ${r[f]} vs ${t[f]}`).to.equal(true);
    }
  });
}

describe('store/stats: the rollup answers as the full scan does', function () {
  this.timeout(120_000);
  const seed = Number(process.env.STATS_SEED ?? Date.now() % 1_000_000);
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const between = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo));
  let t: TestDatabase;
  const jobs = new Map<string, MirroredJob>();
  let n = 0;

  const queues = ['q-a', 'q-b', 'q-c'];
  /** A job that ran in the data span, or recently (then possibly still running). */
  function randomJob(over: Partial<MirroredJob> = {}): MirroredJob {
    n += 1;
    const recent = rnd() < 0.25;
    const started = recent ? Date.now() - between(0, 3 * DAY) : BASE + between(0, DATA_SPAN);
    const running = recent && rnd() < 0.4;
    const neverRan = rnd() < 0.05;
    return mirroredJob({
      job_id: `job-${seed}-${n}`,
      job_queue: pick(queues),
      status: neverRan ? 'RUNNABLE' : running ? 'RUNNING' : pick(['SUCCEEDED', 'SUCCEEDED', 'FAILED'] as const),
      vcpus: between(1, 9),
      vcpus_exact: rnd() < 0.2 ? between(1, 16) / 4 : null,
      memory: 256 * between(1, 16),
      run_started_at: neverRan ? null : new Date(started),
      stopped_at: neverRan || running ? null : new Date(started + between(0, 3 * HOUR)),
      task_arn: rnd() < 0.9 ? `arn:task/${seed}-${n}` : null,
      ...over,
    });
  }

  const dirtyMarks = async () => Number((await t.db('job_stats_dirty').count<{ count: number }[]>('* as count'))[0].count);

  async function write(list: MirroredJob[]): Promise<void> {
    for (const j of list) jobs.set(j.job_id, j);
    await upsertJobs(t.db, list, { batchSize: 97 });
  }

  function windows(): StatsQuery[] {
    const out: StatsQuery[] = [];
    for (const span of [10 * MINUTE, 50 * MINUTE, 2 * HOUR, 5 * HOUR, 2 * DAY, 10 * DAY, 45 * DAY, 90 * DAY]) {
      for (let i = 0; i < 3; i += 1) {
        const start = i === 0 ? BASE + DAY * between(0, 20) : BASE - 5 * DAY + between(0, DATA_SPAN);
        const end = start + span + (i === 2 ? between(0, HOUR) : 0);
        out.push({ start: new Date(start), end: new Date(end), queues: [], statuses: [] });
      }
      // Windows ending now: the running jobs.
      out.push({ start: new Date(Date.now() - span + between(0, MINUTE)), end: new Date(Date.now() + 1000), queues: [], statuses: [] });
    }
    out.push({ start: new Date(BASE - 10 * DAY), end: new Date(Date.now() + DAY), queues: ['q-a', 'q-c'], statuses: ['SUCCEEDED' as JobStatus] });
    // Over a running job that starts later than now (a clock ahead of the database's).
    out.push({ start: new Date(Date.now() - 2 * HOUR - 17), end: new Date(Date.now() + HOUR), queues: [], statuses: [] });
    out.push({ start: new Date(Date.now() - 5 * DAY), end: new Date(Date.now() + DAY), queues: [], statuses: [] });
    out.push({ start: new Date(BASE + 3 * DAY + 1), end: new Date(BASE + 40 * DAY - 1), queues: ['q-b'], statuses: [] });
    return out;
  }

  async function expectExact(moment: string): Promise<void> {
    await t.db.transaction(async (trx) => {
      for (const q of windows()) {
        const label = `seed ${seed}, ${moment}, [${q.start.toISOString()}, ${q.end.toISOString()})`;
        const truth = await fullScanStats(trx, q, statsInterval(q.start, q.end));
        expectSameStats(await jobStats(trx, q), truth, label);
        expectSameStats(await jobStatsFromJobs(trx, q), truth, `${label} (jobs only)`);
      }
    });
  }

  before(async () => {
    t = await createTestDatabase();
  });
  after(async () => t.drop());

  it(`starts exact with nothing rolled up yet, and stays exact once rolled up (seed ${seed})`, async () => {
    const plain = Array.from({ length: 1200 }, () => randomJob());
    // Array parents: finished ones with mirrored children, and ones without (adopted Go rows).
    const parents = Array.from({ length: 10 }, () =>
      randomJob({ status: 'SUCCEEDED', array_properties: { size: 3, status_summary: SUMMARY } }),
    ).map((p) => ({ ...p, stopped_at: p.stopped_at ?? new Date((p.run_started_at ?? new Date(BASE)).getTime() + HOUR), run_started_at: p.run_started_at ?? new Date(BASE + DAY) }));
    const children = parents.slice(0, 5).flatMap((p) =>
      [0, 1, 2].map((i) => randomJob({ job_id: `${p.job_id}:${i}`, array_parent_id: p.job_id, array_index: i, job_queue: p.job_queue })),
    );
    const later = randomJob({ status: 'RUNNING', run_started_at: new Date(Date.now() + 10 * MINUTE), stopped_at: null });
    await write([...plain, ...parents, ...children, later]);
    await upsertTaskInstanceInfo(t.db, [...jobs.values()].filter((j) => j.task_arn && rnd() < 0.3)
      .map((j) => ({ task_arn: j.task_arn!, instance_id: `i-${j.job_id}`, public_ip: '', private_ip: '' })));
    expect(await dirtyMarks()).to.be.greaterThan(0);
    await expectExact('nothing rolled up');

    const refreshed = await refreshStatsRollup(t.db);
    expect(refreshed.buckets).to.be.greaterThan(100);
    // Only the bucket of the job that starts later than now stays marked.
    expect(await t.db('job_stats_dirty').pluck('bucket')).to.deep.equal([Math.floor(later.run_started_at!.getTime() / 300_000) * 300]);
    await expectExact('all rolled up');
  });

  it(`stays exact when rolled-up jobs change, finish, move, get instance info late, gain or lose children, or are deleted (seed ${seed})`, async () => {
    for (let round = 0; round < 2; round += 1) {
      const all = [...jobs.values()];
      const finished = all.filter((j) => j.stopped_at && !j.array_properties);
      const changed: MirroredJob[] = [];
      for (const j of finished.filter(() => rnd() < 0.08)) {
        const move = rnd() < 0.3 ? between(-3 * DAY, 3 * DAY) : 0;
        changed.push({
          ...j,
          status: pick(['SUCCEEDED', 'FAILED'] as const),
          job_queue: rnd() < 0.2 ? pick(queues) : j.job_queue,
          vcpus: between(1, 9),
          run_started_at: new Date(j.run_started_at!.getTime() + move),
          stopped_at: new Date(j.stopped_at!.getTime() + move + between(0, HOUR)),
        });
      }
      // Running jobs finish; a finished one is described as running again.
      for (const j of all.filter((x) => x.run_started_at && !x.stopped_at).slice(0, 20)) {
        changed.push({ ...j, status: 'SUCCEEDED', stopped_at: new Date(Math.min(Date.now(), j.run_started_at!.getTime() + HOUR)) });
      }
      const reopened = finished[between(0, finished.length)];
      changed.push({ ...reopened, status: 'RUNNING', stopped_at: null });
      // A new run in a bucket long rolled up.
      changed.push(randomJob({ status: 'SUCCEEDED', run_started_at: new Date(BASE + 7 * DAY + 1234), stopped_at: new Date(BASE + 7 * DAY + HOUR) }));
      await write(changed);

      // Instance info arriving after the job finished (and rolled up), and some going away.
      const withoutInfo = finished.filter((j) => j.task_arn && rnd() < 0.1);
      await upsertTaskInstanceInfo(t.db, withoutInfo.map((j) => ({ task_arn: j.task_arn!, instance_id: `i-late-${round}`, public_ip: '', private_ip: '' })));
      const infoArns = await t.db('task_arns_to_instance_info').pluck('task_arn');
      await t.db('task_arns_to_instance_info').whereIn('task_arn', infoArns.filter(() => rnd() < 0.05)).del();

      // Children mirrored after their parent was rolled up; another parent's children go.
      const parents = all.filter((j) => j.array_properties && !j.array_parent_id);
      const childless = parents.filter((p) => !all.some((c) => c.array_parent_id === p.job_id));
      const adopted = childless[0];
      if (adopted) {
        await write([0, 1].map((i) => randomJob({ job_id: `${adopted.job_id}:${i}`, array_parent_id: adopted.job_id, array_index: i })));
      }
      const orphaned = parents.find((p) => p !== adopted && all.some((c) => c.array_parent_id === p.job_id));
      if (orphaned) {
        await t.db('jobs').where({ array_parent_id: orphaned.job_id }).del();
        for (const id of [...jobs.keys()]) if (jobs.get(id)!.array_parent_id === orphaned.job_id) jobs.delete(id);
      }

      // The cleaner deletes old finished jobs.
      const doomed = finished.filter((j) => rnd() < 0.05 && ['SUCCEEDED', 'FAILED'].includes(j.status)).map((j) => j.job_id);
      await t.db('jobs').whereIn('job_id', doomed).update({ last_updated: new Date(BASE - 400 * DAY) });
      const cleaned = await deleteJobsOlderThan(t.db, new Date(BASE - 300 * DAY));
      expect(cleaned.jobs).to.be.at.least(doomed.length > 0 ? 1 : 0);
      for (const id of doomed) jobs.delete(id);

      await expectExact(`round ${round}, changes not rolled up`);
      const refreshed = await refreshStatsRollup(t.db);
      expect(refreshed.marks).to.be.greaterThan(0);
      await expectExact(`round ${round}, rolled up`);
    }
  });

  it('a full rebuild gives the same rollup as the marks kept up to date', async () => {
    const kept = await t.db('job_stats_rollup').orderBy(['level', 'bucket', 'job_queue', 'status']);
    await rebuildStatsRollup(t.db);
    const rebuilt = await t.db('job_stats_rollup').orderBy(['level', 'bucket', 'job_queue', 'status']);
    expect(rebuilt.map((r) => [r.level, r.bucket, r.job_queue, r.status, r.job_count])).to.deep.equal(
      kept.map((r) => [r.level, r.bucket, r.job_queue, r.status, r.job_count]),
    );
    rebuilt.forEach((r, i) => expect(close(r.vcpu_seconds, kept[i].vcpu_seconds)).to.equal(true));
  });
});


describe('store/stats: the rollup is what answers', () => {
  let t: TestDatabase;
  const T0 = new Date('2026-11-20T00:00:00.000Z');
  const q: StatsQuery = { start: new Date(T0.getTime() - 10 * DAY), end: new Date(T0.getTime() + 80 * DAY + 17), queues: [], statuses: [] };
  before(async () => {
    t = await createTestDatabase();
    await upsertJobs(t.db, [mirroredJob({ job_id: 'r1', status: 'SUCCEEDED', vcpus: 2, run_started_at: new Date(T0.getTime() + 5 * DAY),
      stopped_at: new Date(T0.getTime() + 5 * DAY + 100_000) })]);
    await refreshStatsRollup(t.db);
  });
  after(async () => t.drop());

  it('takes a rolled-up bucket from the rollup, not from jobs (a change behind the triggers shows only in jobs)', async () => {
    const trx = await t.db.transaction();
    try {
      // Replica mode skips the triggers: the row changes and nothing marks its bucket.
      await trx.raw('SET LOCAL session_replication_role = replica');
      await trx('jobs').where({ job_id: 'r1' }).update({ vcpus: 3 });
      expect((await jobStats(trx, q)).map((r) => r.vcpu_seconds)).to.deep.equal([200]);
      expect((await jobStatsFromJobs(trx, q)).map((r) => r.vcpu_seconds)).to.deep.equal([300]);
    } finally {
      await trx.rollback();
    }
    // Through the triggers the change marks the bucket, and the answer follows at once.
    await t.db('jobs').where({ job_id: 'r1' }).update({ vcpus: 3 });
    expect((await jobStats(t.db, q)).map((r) => r.vcpu_seconds)).to.deep.equal([300]);
  });

  it('reads the rollup, and jobs only through indexes', async () => {
    await refreshStatsRollup(t.db);
    const plan = await t.db.transaction(async (trx) => {
      // A tiny table would be scanned whatever indexes exist; forbidding the scan shows whether one can serve the query.
      await trx.raw('SET LOCAL enable_seqscan = off');
      // The forbidden scans' huge costs would make Postgres compile the query (seconds, for a tiny table).
      await trx.raw('SET LOCAL jit = off');
      const queries: { sql: string; bindings: readonly unknown[] }[] = [];
      const capture = (x: { sql: string; bindings?: readonly unknown[] }) => queries.push({ sql: x.sql, bindings: x.bindings ?? [] });
      trx.client.on('query', capture);
      try {
        await jobStats(trx, q);
      } finally {
        trx.client.removeListener('query', capture);
      }
      const stats = queries.filter((x) => /job_stats_rollup/.test(x.sql));
      expect(stats).to.have.length(1);
      // The event carries Postgres's $n placeholders, each used once and in order.
      const r = await trx.raw(`EXPLAIN ${stats[0].sql.replace(/\$\d+/g, '?')}`, stats[0].bindings as readonly never[]);
      return r.rows.map((row: { 'QUERY PLAN': string }) => row['QUERY PLAN']).join('\n');
    });
    expect(plan).to.match(/job_stats_rollup_pkey on job_stats_rollup/);
    expect(plan).to.match(/jobs_run_started_at/);
    // The instance-seconds test compares bytes through the hash index, not in the database collation.
    expect(plan).to.match(/task_arns_task_arn_bytes on task_arns_to_instance_info/);
    expect(plan).not.to.match(/Seq Scan on jobs\b/);
  });
});

describe('store/stats: an update marks what it changes in the stats, and only that', () => {
  let t: TestDatabase;
  const T0 = Date.parse('2026-10-10T00:00:00.000Z');
  const SIZE3 = { size: 3, status_summary: SUMMARY };
  const whole: StatsQuery = { start: new Date(T0 - 10 * DAY), end: new Date(T0 + 10 * DAY), queues: [], statuses: [] };
  const stored = new Map<string, MirroredJob>();
  const ran = (job_id: string, startOffset: number, over: Partial<MirroredJob> = {}): MirroredJob =>
    mirroredJob({ job_id, status: 'SUCCEEDED', vcpus: 2, memory: 1024, run_started_at: new Date(T0 + startOffset),
      stopped_at: new Date(T0 + startOffset + 20 * MINUTE), task_arn: `arn:task/${job_id}`, ...over });

  const marks = async () => Number((await t.db('job_stats_dirty').count<{ count: number }[]>('* as count'))[0].count);
  async function write(list: MirroredJob[]): Promise<void> {
    for (const j of list) stored.set(j.job_id, j);
    await upsertJobs(t.db, list);
  }
  /** The rollup's answer equals the full scan's, now (marks pending) and after a roll-up. */
  async function expectExact(label: string): Promise<void> {
    for (const moment of ['marked', 'rolled up']) {
      if (moment === 'rolled up') await refreshStatsRollup(t.db);
      await t.db.transaction(async (trx) => {
        for (const q of [whole, { ...whole, start: new Date(T0 - HOUR), end: new Date(T0 + 3 * HOUR) }]) {
          expectSameStats(await jobStats(trx, q), await fullScanStats(trx, q, statsInterval(q.start, q.end)), `${label}, ${moment}`);
        }
      });
    }
    expect(await marks(), `${label}: marks left after the roll-up`).to.equal(0);
  }

  before(async () => {
    t = await createTestDatabase();
    await write([
      ran('fin', 0),
      ran('run', 40 * MINUTE, { status: 'RUNNING', stopped_at: null }),
      mirroredJob({ job_id: 'wait', status: 'SUBMITTED' }),
      ran('parent', HOUR, { array_properties: SIZE3 }),
      ran('parent:0', HOUR + MINUTE, { array_parent_id: 'parent', array_index: 0 }),
      ran('lone', 2 * HOUR, { array_properties: SIZE3 }),
      ran('placed', 3 * HOUR),
    ]);
    await upsertTaskInstanceInfo(t.db, [{ task_arn: 'arn:task/placed', instance_id: 'i-1', public_ip: '', private_ip: '' }]);
    await expectExact('the first rows');
  });
  after(async () => t.drop());

  it('leaves no mark for updates that change nothing the stats read', async () => {
    const j = (id: string) => stored.get(id)!;
    await write([
      { ...j('fin'), status_reason: 'Essential container in task exited', exitcode: 0, log_stream_name: 'a/b/c', attempts: 1 },
      { ...j('run'), log_stream_name: 'run/default/1', status_reason: 'still going', image: 'busybox:2' },
      { ...j('wait'), status: 'PENDING' },
      { ...j('parent'), array_properties: { size: 3, status_summary: { ...SUMMARY, succeeded: 2, running: 1 } } },
      { ...j('parent:0'), status_reason: 'done', log_group_name: '/aws/batch/job' },
    ]);
    await write([{ ...j('wait'), status: 'RUNNABLE' }]);
    await write([{ ...j('wait'), status: 'STARTING' }]);
    expect(await marks()).to.equal(0);
    await expectExact('updates outside the stats');
  });

  it('finds the jobs of a late task ARN whether they run or stopped, each through its partial index', async () => {
    // Instance info arriving late for the running job and for a finished one: a task mark each.
    await upsertTaskInstanceInfo(t.db, ['run', 'fin'].map((id) => ({ task_arn: `arn:task/${id}`, instance_id: 'i-late-2', public_ip: '', private_ip: '' })));
    const buckets = await t.db.raw<{ rows: { bucket: string | number }[] }>(`SELECT bucket FROM (${markedBuckets('job_stats_dirty')}) marked ORDER BY 1`);
    const bucketOf = (id: string) => Math.floor(stored.get(id)!.run_started_at!.getTime() / 1000 / 300) * 300;
    expect(buckets.rows.map((r) => Number(r.bucket))).to.include.members([bucketOf('run'), bucketOf('fin')]);
    // Enough running jobs that scanning them all for each mark costs more than a lookup.
    await write(Array.from({ length: 300 }, (_, i) => ran(`busy-${i}`, 50 * MINUTE, { status: 'RUNNING', stopped_at: null })));
    await t.db.raw('ANALYZE jobs');
    const plan = await t.db.transaction(async (trx) => {
      // Tiny tables are scanned and hashed whatever indexes exist; without those ways, a mark must find its jobs through an index.
      for (const off of ['enable_seqscan', 'enable_hashjoin', 'enable_mergejoin', 'enable_material', 'jit']) await trx.raw(`SET LOCAL ${off} = off`);
      const r = await trx.raw<{ rows: { 'QUERY PLAN': string }[] }>(`EXPLAIN SELECT * FROM (${markedBuckets('job_stats_dirty')}) marked`);
      return r.rows.map((row) => row['QUERY PLAN']).join('\n');
    });
    expect(plan).to.match(/jobs_task_arn_running on jobs/);
    expect(plan).to.match(/jobs_task_arn_stopped on jobs/);
    await expectExact('instance info late for a running and a stopped job');
  });

  // Each input of the stats changed alone on rolled-up rows: the answer must follow at once.
  const changes: [string, (j: (id: string) => MirroredJob) => MirroredJob[]][] = [
    ['a run start (the job moves to another bucket)', (j) => [{ ...j('fin'), run_started_at: new Date(T0 + DAY), stopped_at: new Date(T0 + DAY + MINUTE) }]],
    ['a first run start', (j) => [{ ...j('wait'), status: 'RUNNING', run_started_at: new Date(T0 + 5 * MINUTE) }]],
    ['a stop', (j) => [{ ...j('run'), stopped_at: new Date(T0 + 50 * MINUTE) }]],
    ['a status alone', (j) => [{ ...j('run'), status: 'FAILED' }]],
    ['a queue', (j) => [{ ...j('fin'), job_queue: 'queue-z' }]],
    ['vCPUs', (j) => [{ ...j('fin'), vcpus: 7 }]],
    ['exact vCPUs', (j) => [{ ...j('fin'), vcpus_exact: 0.25 }]],
    ['memory', (j) => [{ ...j('fin'), memory: 4096 }]],
    ['a task ARN with instance info', (j) => [{ ...j('fin'), task_arn: 'arn:task/placed' }]],
    ['a child moving to a childless parent', (j) => [{ ...j('parent:0'), array_parent_id: 'lone' }]],
    ['a child leaving its parent', (j) => [{ ...j('parent:0'), array_parent_id: null }]],
    ['an array size (no longer a parent)', (j) => [{ ...j('lone'), array_properties: null }]],
    ['an array size (a parent again)', (j) => [{ ...j('lone'), array_properties: SIZE3 }, { ...j('parent:0'), array_parent_id: 'lone' }]],
  ];
  for (const [what, change] of changes) {
    it(`marks ${what}`, async () => {
      await write(change((id) => stored.get(id)!));
      expect(await marks()).to.be.greaterThan(0);
      await expectExact(what);
    });
  }
});

describe('store/stats: marked 5-minute parts inside rolled-up coarse buckets', () => {
  let t: TestDatabase;
  // A day boundary: also a 6-hour, an hour and a 5-minute one.
  const T0 = Date.parse('2026-10-01T00:00:00.000Z');
  const stored = new Map<string, MirroredJob>();
  let n = 0;
  /** A finished job starting at T0 + `at`, 20 minutes long. */
  const ran = (at: number, over: Partial<MirroredJob> = {}): MirroredJob => {
    n += 1;
    return mirroredJob({ job_id: `edge-${n}`, job_queue: n % 2 === 0 ? 'q-a' : 'q-b', status: n % 3 === 0 ? 'FAILED' : 'SUCCEEDED',
      vcpus: 1 + (n % 4), memory: 512 * (1 + (n % 3)), run_started_at: new Date(T0 + at), stopped_at: new Date(T0 + at + 20 * MINUTE),
      task_arn: `arn:task/edge-${n}`, ...over });
  };
  // Jobs on the edges of every level's buckets (first and last millisecond), and inside them.
  const EDGES = [0, 5 * MINUTE - 1, 5 * MINUTE, HOUR - 1, HOUR, 6 * HOUR - 1, 6 * HOUR, 12 * HOUR + 7 * MINUTE, DAY - 5 * MINUTE, DAY - 1];
  const marks = async () => Number((await t.db('job_stats_dirty').count<{ count: number }[]>('* as count'))[0].count);
  async function write(list: MirroredJob[]): Promise<void> {
    for (const j of list) stored.set(j.job_id, j);
    await upsertJobs(t.db, list);
  }

  /** Windows of every stats interval, with edges inside marked 5-minute parts, on edges, and between; each filter. */
  function windows(): StatsQuery[] {
    const spans: [number, number][] = [
      [-3 * DAY + 17_000, 40 * DAY - 5_000], // daily
      [2 * DAY + 100_000, 35 * DAY + DAY - 3 * MINUTE], // daily, both ends inside marked parts
      [0, 31 * DAY], // daily, aligned
      [DAY + 6 * HOUR - MINUTE, 9 * DAY + 6 * HOUR + 1_000], // 6 hours
      [2 * DAY - HOUR - 1, 3 * DAY + HOUR], // hourly
      [5 * DAY + 23 * HOUR - 7_000, 6 * DAY + HOUR], // 15 minutes
      [7 * DAY + 5 * HOUR + 40 * MINUTE + 3_000, 7 * DAY + 6 * HOUR + 20 * MINUTE], // 5 minutes
      [7 * DAY + 6 * HOUR - MINUTE, 7 * DAY + 6 * HOUR + 2 * MINUTE], // inside one marked 5-minute part and the one before
    ];
    const filters: Pick<StatsQuery, 'queues' | 'statuses'>[] = [
      { queues: [], statuses: [] },
      { queues: ['q-a'], statuses: [] },
      { queues: [], statuses: ['FAILED' as JobStatus] },
      { queues: ['q-b', 'q-c'], statuses: ['SUCCEEDED' as JobStatus] },
    ];
    return spans.flatMap(([a, b]) => filters.map((f) => ({ start: new Date(T0 + a), end: new Date(T0 + b), ...f })));
  }

  async function expectExact(label: string): Promise<void> {
    await t.db.transaction(async (trx) => {
      for (const q of windows()) {
        const what = `${label} [${q.start.toISOString()}, ${q.end.toISOString()}) ${q.queues.join('+')} ${q.statuses.join('+')}`;
        const truth = await fullScanStats(trx, q, statsInterval(q.start, q.end));
        expect(truth.length, what).to.be.greaterThan(0);
        expectSameStats(await jobStats(trx, q), truth, what);
      }
    });
  }

  before(async () => {
    t = await createTestDatabase();
    const list: MirroredJob[] = [];
    for (let day = -2; day < 38; day += 1) for (const at of EDGES) list.push(ran(day * DAY + at));
    await write(list);
    await upsertTaskInstanceInfo(t.db, list.filter((_, i) => i % 4 === 0)
      .map((j) => ({ task_arn: j.task_arn!, instance_id: `i-${j.job_id}`, public_ip: '', private_ip: '' })));
    await refreshStatsRollup(t.db);
    expect(await marks()).to.equal(0);
    await expectExact('rolled up');
  });
  after(async () => t.drop());

  it('answers as the full scan with marks on the edges of daily, 6-hour and hourly buckets, and after their roll-up', async () => {
    const at = (offset: number) => [...stored.values()].find((j) => j.run_started_at!.getTime() === T0 + offset)!;
    const fresh = ran(4 * DAY + 12 * HOUR - 1);
    await write([
      { ...at(2 * DAY), vcpus: 9 }, // a day's first 5-minute part
      { ...at(5 * DAY + DAY - 1), status: 'FAILED' }, // a day's last
      { ...at(7 * DAY + 6 * HOUR), job_queue: 'q-c' }, // a 6-hour bucket's first, moved to another queue
      { ...at(7 * DAY + 6 * HOUR - 1), stopped_at: new Date(T0 + 7 * DAY + 9 * HOUR) }, // the 5-minute part before it
      { ...at(9 * DAY + HOUR), run_started_at: new Date(T0 + 20 * DAY + HOUR - 1), stopped_at: new Date(T0 + 20 * DAY + 2 * HOUR) }, // moved across days
      fresh, // a new job in a rolled-up bucket
    ]);
    // Instance info arriving late for a job on a 6-hour edge; a job on an hour edge deleted.
    const late = at(3 * DAY + 6 * HOUR - 1);
    await upsertTaskInstanceInfo(t.db, [{ task_arn: late.task_arn!, instance_id: 'i-late', public_ip: '', private_ip: '' }]);
    const gone = at(8 * DAY + HOUR);
    await t.db('jobs').where({ job_id: gone.job_id }).del();
    stored.delete(gone.job_id);
    expect(await marks()).to.be.greaterThan(0);
    await expectExact('marked');
    await refreshStatsRollup(t.db);
    expect(await marks()).to.equal(0);
    await expectExact('rolled up again');
  });

  it('keeps a write that commits while a roll-up is under way (its mark stays for the next one)', async () => {
    const start = T0 + 11 * DAY + 6 * HOUR;
    const target = [...stored.values()].find((j) => j.run_started_at!.getTime() === start)!;
    await write([{ ...target, vcpus: 5 }]); // a mark the roll-up will take
    expect(await marks()).to.be.greaterThan(0);
    // The roll-up takes the marks and recomputes the 5-minute rows, then waits for the hourly row held here:
    // a write to the same bucket commits meanwhile, after the roll-up read jobs and before it commits.
    const blocker = await t.db.transaction();
    try {
      await blocker.raw('SELECT 1 FROM job_stats_rollup WHERE level = ? AND bucket = ? FOR UPDATE', [3600, start / 1000]);
      const rolling = refreshStatsRollup(t.db);
      for (let i = 0; ; i += 1) {
        const waiting = await t.db.raw<{ rows: unknown[] }>(
          "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
        if (waiting.rows.length > 0) break;
        if (i > 500) throw new Error('the roll-up never waited for the hourly row');
        await new Promise((r) => setTimeout(r, 10));
      }
      await write([{ ...target, vcpus: 7, job_queue: 'q-c' }, ran(11 * DAY + 6 * HOUR + 1)]);
      await blocker.commit();
      await rolling;
    } finally {
      if (!blocker.isCompleted()) await blocker.rollback();
    }
    expect(await marks(), 'the overtaking write\'s mark').to.be.greaterThan(0);
    await expectExact('after a roll-up that a write overtook');
    await refreshStatsRollup(t.db);
    expect(await marks()).to.equal(0);
    await expectExact('rolled up once more');
  });
});
