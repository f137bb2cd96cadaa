import { expect } from 'chai';
import pg from 'pg';
import type { JobDetail } from '@aws-sdk/client-batch';
import { Redis } from 'ioredis';
import { InvalidJobEventError, JOB_EVENT_GROUP, jobEventStreamKey } from '../../src/pipeline/jobEvents';
import { getJob } from '../../src/store/jobs/lookups';
import { activateQueue } from '../../src/store/queues';
import { PG } from '../helpers/db';
import { startHarness, type Harness } from './harness';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function event(detail: JobDetail, time: number) {
  return { version: '0', 'detail-type': 'Batch Job State Change', source: 'aws.batch', time: new Date(time).toISOString(), detail };
}

async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await sleep(20);
  }
}

describe('pipeline job events', function () {
  this.timeout(60_000);
  let h: Harness;

  before(async () => {
    h = await startHarness();
    await h.queue('q-ev');
  });
  after(async () => h?.close());

  /** Snapshots of one job's description as it moves, from the simulator. */
  function lifeOf(plan = { runSeconds: 30 }): { id: string; snapshots: JobDetail[] } {
    const { jobId } = h.sim.model.submitJob({ jobName: 'ev', jobQueue: 'q-ev', plan });
    const snapshots: JobDetail[] = [h.sim.model.getJob(jobId)!];
    for (let i = 0; i < 12; i++) {
      h.sim.model.advance(5_000);
      const d = h.sim.model.getJob(jobId)!;
      if (d.status !== snapshots[snapshots.length - 1].status) snapshots.push(d);
    }
    return { id: jobId, snapshots };
  }

  /**
   * Sends a sentinel event after the events under test and waits until it is
   * applied. The harness runs one consumer, which reads the stream in order and
   * re-reads a failed batch before anything newer: once the sentinel's row is
   * there, every event sent before it has been applied (or dropped), so an
   * absence checked afterwards is real, not a wait that was too short.
   */
  async function sentinelApplied(): Promise<void> {
    const { jobId } = h.sim.model.submitJob({ jobName: 'sentinel', jobQueue: 'q-ev' });
    await h.pq.enqueueJobEvents([event(h.sim.model.getJob(jobId)!, h.sim.model.now())]);
    const row = await waitFor(() => getJob(h.db, jobId), (r) => r !== null, 15_000);
    expect(row?.status, 'the sentinel event was applied').to.equal('SUBMITTED');
  }

  // How fast (enqueue -> applied) is measured by bench/pipeline.ts, not asserted here.
  it('applies an event, the mirror equal to the event', async () => {
    const { id, snapshots } = lifeOf();
    const running = snapshots.find((s) => s.status === 'RUNNING')!;
    expect(await h.pq.enqueueJobEvents([event(running, h.sim.model.now())])).to.deep.equal({ accepted: 1, skipped: 0 });
    const row = await waitFor(() => getJob(h.db, id), (r) => r?.status === 'RUNNING');
    expect(row?.status).to.equal('RUNNING');
    expect(row?.run_started_at?.getTime()).to.equal(running.startedAt);
    expect(row?.job_name).to.equal(running.jobName);
  });

  it('never lets an older event win over a newer one, in one batch or across batches', async () => {
    const a = lifeOf();
    const b = lifeOf();
    expect(a.snapshots.map((s) => s.status)).to.include.members(['SUBMITTED', 'RUNNING', 'SUCCEEDED']);
    const now = h.sim.model.now();
    // One call, newest first.
    await h.pq.enqueueJobEvents([...a.snapshots].reverse().map((s, i) => event(s, now - i * 1000)));
    // Separate calls, newest first, each applied before the next arrives.
    const reversed = [...b.snapshots].reverse();
    await h.pq.enqueueJobEvents([event(reversed[0], now)]);
    await waitFor(() => getJob(h.db, b.id), (r) => r?.status === 'SUCCEEDED');
    for (const s of reversed.slice(1)) {
      await h.pq.enqueueJobEvents([event(s, now - 5000)]);
    }
    await sentinelApplied();
    expect((await getJob(h.db, a.id))?.status).to.equal('SUCCEEDED');
    expect((await getJob(h.db, b.id))?.status).to.equal('SUCCEEDED');
    expect((await getJob(h.db, b.id))?.stopped_at).to.not.equal(null);
  });

  it('applies a retry (a new attempt moves RUNNING back to RUNNABLE)', async () => {
    const { jobId } = h.sim.model.submitJob({ jobName: 'retry', jobQueue: 'q-ev', retryAttempts: 2, plan: { failAttempts: 1, runSeconds: 10 } });
    const seen: JobDetail[] = [];
    for (let i = 0; i < 20; i++) {
      h.sim.model.advance(2_000);
      seen.push(h.sim.model.getJob(jobId)!);
    }
    const firstRun = seen.find((s) => s.status === 'RUNNING' && (s.attempts?.length ?? 0) === 0);
    const retried = seen.find((s) => s.status === 'RUNNABLE' && (s.attempts?.length ?? 0) === 1);
    expect(firstRun && retried, 'simulator produced a retry').to.be.ok;
    await h.pq.enqueueJobEvents([event(firstRun!, 1)]);
    await waitFor(() => getJob(h.db, jobId), (r) => r?.status === 'RUNNING');
    await h.pq.enqueueJobEvents([event(retried!, 2)]);
    const row = await waitFor(() => getJob(h.db, jobId), (r) => r?.status === 'RUNNABLE');
    expect(row?.status).to.equal('RUNNABLE');
    expect(row?.attempts).to.equal(1);
  });

  it('ignores events of queues that are not activated', async () => {
    await h.queue('q-not-active', { activate: false });
    const { jobId } = h.sim.model.submitJob({ jobName: 'x', jobQueue: 'q-not-active' });
    await h.pq.enqueueJobEvents([event(h.sim.model.getJob(jobId)!, 1)]);
    await sentinelApplied();
    expect(await getJob(h.db, jobId)).to.equal(null);
    await activateQueue(h.db, 'q-not-active');
  });

  it('rejects invalid events with a clear error and enqueues none of the call', async () => {
    const { jobId } = h.sim.model.submitJob({ jobName: 'valid', jobQueue: 'q-ev' });
    const good = event(h.sim.model.getJob(jobId)!, 1);
    for (const [bad, message] of [
      [{ detail: { jobId: 'x', jobName: 'n' } }, /event 1: detail\.jobQueue/],
      [{ ...good, detail: { ...good.detail, status: 'EXPLODED' } }, /event 1: detail\.status/],
      [{ ...good, 'detail-type': 'EC2 Instance State-change Notification' }, /event 1: detail-type/],
      ['nonsense', /event 1/],
    ] as const) {
      let error: unknown;
      try {
        await h.pq.enqueueJobEvents([good, bad]);
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(InvalidJobEventError);
      expect((error as Error).message).to.match(message);
    }
    await sentinelApplied();
    expect(await getJob(h.db, jobId)).to.equal(null);
  });

  it('a pipeline write notifies job_status_events listeners (live status)', async () => {
    const client = new pg.Client({ host: PG.database_host, port: PG.database_port, user: PG.database_username, password: PG.database_password, database: h.tdb.name });
    await client.connect();
    try {
      const heard: string[] = [];
      client.on('notification', (n) => n.payload && heard.push(n.payload));
      await client.query('LISTEN job_status_events');
      const { jobId } = h.sim.model.submitJob({ jobName: 'live', jobQueue: 'q-ev', plan: { runSeconds: 1000 } });
      expect((await h.round()).status).to.equal('completed');
      await waitFor(async () => heard, (x) => x.includes(jobId));
      expect(heard).to.include(jobId);
      heard.length = 0;
      h.sim.model.advance(30_000);
      await h.round();
      await waitFor(async () => heard, (x) => x.includes(jobId));
      expect(heard, 'status change notified').to.include(jobId);
    } finally {
      await client.end();
    }
  });

  it('a worker that stops leaves the consumer group tidy', async () => {
    const redis = new Redis(h.config.redis_url);
    try {
      const key = jobEventStreamKey(h.config);
      const consumers = async () => ((await redis.xinfo('CONSUMERS', key, JOB_EVENT_GROUP)) as unknown[]).length;
      const before = await consumers();
      await h.startWorkers(1);
      await waitFor(consumers, (n) => n === before + 1);
      expect(await consumers()).to.equal(before + 1);
      await h.workers.pop()!.close();
      expect(await consumers()).to.equal(before);
    } finally {
      redis.disconnect();
    }
  });

  it('dead-letters an event the database refuses, without holding up the others', async () => {
    const { jobId: good } = h.sim.model.submitJob({ jobName: 'good', jobQueue: 'q-ev' });
    const { jobId: bad } = h.sim.model.submitJob({ jobName: 'bad', jobQueue: 'q-ev' });
    const badDetail = h.sim.model.getJob(bad)!;
    badDetail.container = { ...badDetail.container, exitCode: 1e12 }; // beyond the INTEGER column
    await h.pq.enqueueJobEvents([event(badDetail, 1), event(h.sim.model.getJob(good)!, 1)]);
    const row = await waitFor(() => getJob(h.db, good), (r) => r !== null);
    expect(row?.status).to.equal('SUBMITTED');
    expect(await getJob(h.db, bad)).to.equal(null);
    const redis = new Redis(h.config.redis_url);
    try {
      const dead = await waitFor(async () => redis.xrange(`${jobEventStreamKey(h.config)}:dead`, '-', '+'), (d) => d.length > 0);
      expect(dead).to.have.length(1);
      expect(dead[0][1].join(' ')).to.include(bad).and.to.match(/out of range/);
    } finally {
      redis.disconnect();
    }
  });

  it('keeps at most events_dead_letter_max_length dead letters: the newest', async () => {
    await h.stopWorkers();
    await h.startWorkers(1, { events_dead_letter_max_length: 2 });
    const redis = new Redis(h.config.redis_url);
    try {
      const bad = ['b1', 'b2', 'b3'].map((name) => {
        const detail = h.sim.model.getJob(h.sim.model.submitJob({ jobName: name, jobQueue: 'q-ev' }).jobId)!;
        detail.container = { ...detail.container, exitCode: 1e12 };
        return detail;
      });
      const { jobId: sentinel } = h.sim.model.submitJob({ jobName: 'after-bad', jobQueue: 'q-ev' });
      await h.pq.enqueueJobEvents([...bad.map((d) => event(d, 1)), event(h.sim.model.getJob(sentinel)!, 1)]);
      await waitFor(() => getJob(h.db, sentinel), (r) => r !== null);
      const dead = await redis.xrange(`${jobEventStreamKey(h.config)}:dead`, '-', '+');
      expect(dead.map(([, f]) => (JSON.parse(f[1]) as { f: { job_id: string } }).f.job_id)).to.deep.equal([bad[1].jobId, bad[2].jobId]);
    } finally {
      redis.disconnect();
      await h.stopWorkers();
      await h.startWorkers(1);
    }
  });
});
