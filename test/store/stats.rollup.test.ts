import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { jobStats, jobStatsFullScan, rollupPieces } from '../../src/store/stats';
import { upsertJobs } from '../../src/store/jobs/upsert';
import { deleteJobsOlderThan } from '../../src/store/jobs/maintenance';
import { upsertTaskInstanceInfo } from '../../src/store/instances';
import type { MirroredJob, StatsQuery, StatsRow } from '../../src/types';
import { mirroredJob } from './fixtures';

const DAY = 86_400;

/** A small deterministic PRNG (mulberry32): the same data set every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Counts equal; sums equal up to float rounding (they are added in another order). */
function expectSameStats(actual: StatsRow[], expected: StatsRow[], what: string): void {
  const key = (r: StatsRow) => `${r.timestamp}/${r.job_queue}/${r.status}`;
  expect(actual.map(key), what).to.deep.equal(expected.map(key));
  actual.forEach((row, i) => {
    const want = expected[i];
    expect([row.job_count, row.interval], `${what} ${key(row)}`).to.deep.equal([want.job_count, want.interval]);
    for (const f of ['vcpu_seconds', 'memory_seconds', 'instance_seconds'] as const) {
      expect(row[f], `${what} ${key(row)} ${f}`).to.be.closeTo(want[f], 1e-9 * Math.max(1, Math.abs(want[f])));
    }
  });
}

describe('store/stats rollup', () => {
  let t: TestDatabase;
  let now: number;
  const rand = prng(18);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];

  /** A job that started in the last 100 days (or in the future, or never), finished or not. */
  function randomJob(i: number, nowSec: number): MirroredJob {
    const started = rand() < 0.05 ? null : nowSec - rand() * 100 * DAY + (rand() < 0.03 ? 2 * 3600 : 0);
    const finished = started !== null && rand() < 0.7;
    const parent = rand() < 0.05;
    return mirroredJob({
      job_id: `stats-${i}`,
      job_queue: pick(['q1', 'q2', 'q3']),
      status: finished ? pick(['SUCCEEDED', 'FAILED'] as const) : pick(['RUNNING', 'STARTING', 'RUNNABLE'] as const),
      vcpus: 1 + Math.floor(rand() * 8),
      vcpus_exact: rand() < 0.2 ? Math.round(rand() * 400) / 100 : null,
      memory: 128 * (1 + Math.floor(rand() * 16)),
      run_started_at: started === null ? null : new Date(Math.round(started * 1000)),
      stopped_at: finished && started !== null ? new Date(Math.round((started + rand() * 7200 - 60) * 1000)) : null,
      task_arn: rand() < 0.8 ? `arn:task/${i}` : null,
      array_properties: parent ? { size: 3 } : null,
    });
  }

  async function compareAll(what: string): Promise<void> {
    const queries: [string, StatsQuery][] = [];
    for (const days of [1, 7, 30, 90]) {
      queries.push([`${days}d`, { start: new Date((now - days * DAY) * 1000), end: new Date(now * 1000), queues: [], statuses: [] }]);
    }
    queries.push(['unaligned 3h', { start: new Date((now - 5 * DAY - 10_007) * 1000), end: new Date((now - 5 * DAY) * 1000 + 777), queues: [], statuses: [] }]);
    queries.push(['40 min', { start: new Date((now - 2 * DAY + 123) * 1000), end: new Date((now - 2 * DAY + 2523) * 1000), queues: [], statuses: [] }]);
    queries.push(['into the future', { start: new Date((now - 10 * DAY + 61) * 1000), end: new Date((now + 3 * DAY) * 1000), queues: [], statuses: [] }]);
    queries.push(['filtered 30d', { start: new Date((now - 30 * DAY) * 1000), end: new Date(now * 1000), queues: ['q1', 'q3'], statuses: ['SUCCEEDED', 'RUNNING'] }]);
    for (const [name, q] of queries) {
      expectSameStats(await jobStats(t.db, q, now), await jobStatsFullScan(t.db, q, now), `${what}, ${name}`);
    }
  }

  before(async () => {
    t = await createTestDatabase();
    const r = await t.db.raw<{ rows: { now: number }[] }>('SELECT extract(epoch FROM now())::float8 AS now');
    now = Math.floor(Number(r.rows[0].now));
    await upsertJobs(t.db, Array.from({ length: 3000 }, (_, i) => randomJob(i, now)));
    await upsertTaskInstanceInfo(
      t.db,
      Array.from({ length: 3000 }, (_, i) => i).filter((i) => i % 3 === 0).map((i) => ({
        task_arn: `arn:task/${i}`, instance_id: `i-${i}`, public_ip: '', private_ip: '',
      })),
    );
  });
  after(async () => t.drop());

  it('splits a range into whole days, hours and 5-minute buckets that fit the interval', () => {
    const h = 3600;
    expect(rollupPieces(DAY - 600, 3 * DAY + 2 * h + 300, DAY)).to.deep.equal([
      { level: 300, from: DAY - 600, to: DAY },
      { level: DAY, from: DAY, to: 3 * DAY },
      { level: h, from: 3 * DAY, to: 3 * DAY + 2 * h },
      { level: 300, from: 3 * DAY + 2 * h, to: 3 * DAY + 2 * h + 300 },
    ]);
    // 6-hour buckets take no whole days; 15-minute ones only 5-minute buckets.
    expect(rollupPieces(0, 2 * DAY, 6 * h)).to.deep.equal([{ level: h, from: 0, to: 2 * DAY }]);
    expect(rollupPieces(0, h, 900)).to.deep.equal([{ level: 300, from: 0, to: h }]);
  });

  it('answers what a full scan computes, for 1, 7, 30 and 90 days and unaligned ranges', async () => {
    const { n } = (await t.db('job_stats_rollup').count({ n: '*' }))[0];
    expect(Number(n)).to.be.greaterThan(100);
    await compareAll('after insert');
  });

  it('stays equal through updates, instance info coming and going, and the cleaner', async () => {
    // Jobs finish, move queue, change vCPUs; some never-started start.
    const changed: MirroredJob[] = [];
    for (let i = 0; i < 3000; i += 4) {
      const job = randomJob(i, now);
      changed.push(i % 8 === 0 ? { ...job, run_started_at: job.run_started_at ?? new Date((now - 3 * DAY) * 1000) } : job);
    }
    await upsertJobs(t.db, changed);
    // New info rows (first and second for a task), and some removed.
    await upsertTaskInstanceInfo(
      t.db,
      Array.from({ length: 3000 }, (_, i) => i).filter((i) => i % 5 === 0).map((i) => ({
        task_arn: `arn:task/${i}`, instance_id: `i-b${i}`, public_ip: '', private_ip: '',
      })),
    );
    await t.db('task_arns_to_instance_info').where('instance_id', 'like', 'i-b%').whereRaw("right(task_arn, 1) IN ('0', '2')").del();
    await t.db('task_arns_to_instance_info').whereRaw("right(task_arn, 1) = '3'").del();
    // Status updates outside the upsert, as the event path writes them.
    await t.db('jobs').whereRaw("right(job_id, 1) = '7'").update({ status: 'FAILED', stopped_at: t.db.raw('run_started_at + interval \'10 minutes\'') });
    await compareAll('after updates');
    // The cleaner deletes old finished jobs with their task info.
    await t.db('jobs').whereRaw("right(job_id, 1) IN ('1', '5')").update({ last_updated: new Date((now - 200 * DAY) * 1000) });
    const cleaned = await deleteJobsOlderThan(t.db, new Date((now - 100 * DAY) * 1000));
    expect(cleaned.jobs).to.be.greaterThan(0);
    expect(cleaned.taskInfo).to.be.greaterThan(0);
    await compareAll('after the cleaner');
  });
});
