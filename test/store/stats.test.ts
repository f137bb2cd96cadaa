import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { jobStats, statsInterval } from '../../src/store/stats';
import { upsertJobs } from '../../src/store/jobs/upsert';
import { upsertTaskInstanceInfo } from '../../src/store/instances';
import { mirroredJob } from './fixtures';

const T0 = new Date('2026-11-20T12:00:00.000Z'); // on an hour (and 5-minute) boundary
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const HOUR = 3600;
const DAY = 24 * HOUR;

describe('store/stats', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
    await upsertJobs(t.db, [
      // Two EC2 jobs in the first 5-minute bucket of q1, one known to have run on an instance.
      mirroredJob({ job_id: 's1', job_queue: 'q1', status: 'SUCCEEDED', vcpus: 2, memory: 1024,
        run_started_at: at(10), stopped_at: at(110), task_arn: 'arn:t1' }),
      mirroredJob({ job_id: 's2', job_queue: 'q1', status: 'SUCCEEDED', vcpus: 1, vcpus_exact: 0.5, memory: 512,
        run_started_at: at(200), stopped_at: at(260) }),
      // Next bucket, another status.
      mirroredJob({ job_id: 's3', job_queue: 'q1', status: 'FAILED', vcpus: 4, memory: 100,
        run_started_at: at(310), stopped_at: at(320) }),
      mirroredJob({ job_id: 's4', job_queue: 'q2', status: 'SUCCEEDED', vcpus: 1, memory: 10,
        run_started_at: at(20), stopped_at: at(30) }),
      // Outside the window, and a job that never ran.
      mirroredJob({ job_id: 's5', job_queue: 'q1', status: 'SUCCEEDED', run_started_at: at(-10), stopped_at: at(5) }),
      mirroredJob({ job_id: 's6', job_queue: 'q1', status: 'FAILED', run_started_at: null }),
    ]);
    await upsertTaskInstanceInfo(t.db, [{ task_arn: 'arn:t1', instance_id: 'i-1', public_ip: '', private_ip: '' }]);
  });
  after(async () => t.drop());

  it('picks the SPEC intervals at each boundary', () => {
    const span = (s: number) => statsInterval(T0, at(s));
    expect([span(HOUR - 1), span(HOUR), span(4 * HOUR - 1), span(4 * HOUR), span(3 * DAY - 1), span(3 * DAY),
      span(30 * DAY - 1), span(30 * DAY)]).to.deep.equal([300, 900, 900, 3600, 3600, 21600, 21600, 86400]);
  });

  it('aggregates vCPU, memory and instance seconds per queue, status and run-start bucket', async () => {
    const rows = await jobStats(t.db, { start: T0, end: at(1800), queues: [], statuses: [] });
    const ts = T0.getTime() / 1000;
    expect(rows).to.deep.equal([
      { job_queue: 'q1', status: 'SUCCEEDED', timestamp: ts, vcpu_seconds: 2 * 100 + 0.5 * 60,
        memory_seconds: 1024 * 100 + 512 * 60, instance_seconds: 100, job_count: 2, interval: 300 },
      { job_queue: 'q2', status: 'SUCCEEDED', timestamp: ts, vcpu_seconds: 10, memory_seconds: 100,
        instance_seconds: 0, job_count: 1, interval: 300 },
      { job_queue: 'q1', status: 'FAILED', timestamp: ts + 300, vcpu_seconds: 40, memory_seconds: 1000,
        instance_seconds: 0, job_count: 1, interval: 300 },
    ]);
  });

  it('filters by queue and status, and uses wider buckets for longer spans', async () => {
    const q1Failed = await jobStats(t.db, { start: T0, end: at(1800), queues: ['q1'], statuses: ['FAILED'] });
    expect(q1Failed.map((r) => r.job_count)).to.deep.equal([1]);
    const wide = await jobStats(t.db, { start: T0, end: at(2 * DAY), queues: ['q1'], statuses: [] });
    expect(wide.map((r) => [r.status, r.job_count, r.interval, r.timestamp])).to.deep.equal([
      ['FAILED', 1, 3600, T0.getTime() / 1000],
      ['SUCCEEDED', 2, 3600, T0.getTime() / 1000],
    ]);
    expect(await jobStats(t.db, { start: at(10), end: at(10), queues: [], statuses: [] })).to.deep.equal([]);
  });

  it('counts a running job up to now', async () => {
    const startedAt = Date.now() - 60_000;
    const running = mirroredJob({ job_id: 's7', job_queue: 'q3', status: 'RUNNING', vcpus: 1, run_started_at: new Date(startedAt) });
    await upsertJobs(t.db, [running]);
    // "now" is the query's: between the moments just before and just after it, however long it took.
    const before = Date.now();
    const rows = await jobStats(t.db, { start: new Date(Date.now() - 600_000), end: new Date(Date.now() + 1000), queues: ['q3'], statuses: [] });
    const after = Date.now();
    expect(rows).to.have.length(1);
    expect(rows[0].vcpu_seconds).to.be.within((before - startedAt) / 1000 - 1, (after - startedAt) / 1000 + 1);
  });
  it('counts an array parent only when its children are not mirrored (its children are the work)', async () => {
    const summary = { starting: 0, failed: 0, running: 0, succeeded: 2, runnable: 0, submitted: 0, pending: 0 };
    const parent = (id: string) => mirroredJob({ job_id: id, job_queue: 'q-arr', status: 'SUCCEEDED', vcpus: 1, memory: 1,
      run_started_at: at(0), stopped_at: at(100), array_properties: { size: 2, status_summary: summary } });
    await upsertJobs(t.db, [
      parent('ap1'),
      ...[0, 1].map((i) => mirroredJob({ job_id: `ap1:${i}`, job_queue: 'q-arr', status: 'SUCCEEDED', vcpus: 1, memory: 1,
        run_started_at: at(0), stopped_at: at(40), array_parent_id: 'ap1', array_index: i, array_properties: { index: i } })),
      // An adopted Go row: a parent whose children were never mirrored.
      parent('ap2'),
    ]);
    const rows = await jobStats(t.db, { start: T0, end: at(1800), queues: ['q-arr'], statuses: [] });
    // ap1's two children (40 s each) and ap2 (100 s); ap1 itself (100 s) is not added on top.
    expect(rows.map((r) => [r.job_count, r.vcpu_seconds])).to.deep.equal([[3, 40 + 40 + 100]]);
  });
});

describe('store/stats: served by an index', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
  });
  after(async () => t.drop());

  it('reads the jobs of the window through the run_started_at index, not the whole table', async () => {
    const plans = await t.db.transaction(async (trx) => {
      // A tiny table would be scanned whatever indexes exist; forbidding the scan shows whether one can serve the query.
      await trx.raw('SET LOCAL enable_seqscan = off');
      const queries: { sql: string; bindings: readonly unknown[] }[] = [];
      const capture = (q: { sql: string; bindings?: readonly unknown[] }) => queries.push({ sql: q.sql, bindings: q.bindings ?? [] });
      trx.client.on('query', capture);
      try {
        await jobStats(trx, { start: T0, end: at(DAY), queues: [], statuses: [] });
      } finally {
        trx.client.removeListener('query', capture);
      }
      const stats = queries.filter((q) => /run_started_at/.test(q.sql));
      expect(stats, 'the stats query ran').to.have.length.greaterThan(0);
      const out: string[] = [];
      for (const q of stats) {
        // The event carries Postgres's $n placeholders, each used once and in order.
        const r = await trx.raw(`EXPLAIN ${q.sql.replace(/\$\d+/g, '?')}`, q.bindings as readonly never[]);
        out.push(r.rows.map((row: { 'QUERY PLAN': string }) => row['QUERY PLAN']).join('\n'));
      }
      return out;
    });
    for (const plan of plans) {
      expect(plan).to.match(/jobs_run_started_at/);
      expect(plan).not.to.match(/Seq Scan on jobs j\b/);
    }
  });
});
