/**
 * The first round of a queue holding many retained jobs (bootstrap: all 7
 * statuses listed, everything new) runs as a pipeline: list pages, describe
 * and upsert overlap. It must still write exactly AWS's truth, and a failure
 * mid-pipeline must leave the round failed: nothing GONE, no mark raised.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { getJob } from '../../src/store/jobs/lookups';
import { pipelineKey } from '../../src/pipeline/connection';
import { BoundedQueue } from '../../src/pipeline/boundedQueue';
import { expectConverged } from './converge';
import { startHarness, type Harness } from './harness';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Jobs with dependencies and array jobs, so the bootstrap also writes dependency sets and syncs children. */
function submitMix(h: Harness, queue: string, n: number): void {
  let previous: string | null = null;
  for (let i = 0; i < n; i++) {
    const { jobId } = h.sim.model.submitJob({
      jobName: `mix-${i}`,
      jobQueue: queue,
      arraySize: i % 20 === 0 ? 3 : undefined,
      dependsOn: previous && i % 5 === 1 ? [previous] : undefined,
      plan: { outcome: i % 6 === 0 ? 'FAILED' : 'SUCCEEDED', exitCode: i % 6 === 0 ? 3 : 0, runSeconds: 5 + (i % 30) },
    });
    previous = jobId;
  }
}

describe('the first round of a queue with many retained jobs (pipelined)', function () {
  this.timeout(300_000);

  it('writes exactly the simulator\'s truth, describing each job once, with listing, describing and writing overlapping', async () => {
    const h = await startHarness({ workers: 1 });
    try {
      await h.queue('fr-big', { instances: 4 });
      submitMix(h, 'fr-big', 200);
      // All finished: array parents finishing in this round get their children mirrored first (the
      // children of a parent still open are the next round's syncArrayChildren's, as before).
      h.sim.model.advance(180_000);
      h.sim.model.bulkLoad({ queue: 'fr-big', finished: 12_000, active: 300 });
      const total = [...h.sim.model.jobs.keys()].length;
      // A slower AWS (20 ms a call) makes the stages' overlap measurable in the call log.
      h.sim.faults.set({ delayMs: 20, operations: ['Batch.ListJobs', 'Batch.DescribeJobs'] });
      h.sim.counters.reset();
      const r = await h.round();
      h.sim.faults.clear();
      expect(r.status).to.equal('completed');

      expect(await expectConverged(h, ['fr-big'])).to.equal(total);
      const deps = Number((await h.db('job_dependencies').count({ n: '*' }))[0].n);
      expect(deps, 'dependency sets written').to.be.greaterThan(30);

      const calls = h.sim.counters.calls();
      const describes = calls.filter((c) => c.operation === 'Batch.DescribeJobs');
      const lists = calls.filter((c) => c.operation === 'Batch.ListJobs');
      // Top-level jobs in full chunks of 100 (one partial chunk per describe pipeline), plus the array parents' own.
      const parents = 10;
      expect(describes.length, 'each job described about once').to.be.at.most(Math.ceil(12_500 / 100) + 2 + 2 * parents);
      expect(describes.length).to.be.at.least(Math.ceil(12_500 / 100));

      // Listing and describing overlap: DescribeJobs calls went out before the last list page was asked for.
      const firstDescribe = Math.min(...describes.map((c) => c.startedAt));
      const lastListStart = Math.max(...lists.map((c) => c.startedAt));
      expect(firstDescribe, 'a describe before the listing ended').to.be.lessThan(lastListStart);
      // Describing and writing overlap: rows were written well before the last DescribeJobs call went out.
      const lastDescribeStart = Math.max(...describes.map((c) => c.startedAt));
      const firstWrite = (await h.db('jobs').where('job_queue', 'fr-big').min({ t: 'last_updated' }))[0].t as Date;
      expect(firstWrite.getTime(), 'rows written while describing went on').to.be.lessThan(lastDescribeStart - 200);
    } finally {
      await h.close();
    }
  });

  it('fails the round on a DescribeJobs failure mid-pipeline: nothing GONE, no mark raised; the next round converges', async () => {
    const h = await startHarness({ workers: 1, config: { gone_after_seconds: 600 } });
    const redis = new Redis(h.config.redis_url, { maxRetriesPerRequest: 1 });
    const marks = async () => ({
      created: await redis.hget(pipelineKey(h.config, 'created-mark'), 'fr-fail'),
      synced: await redis.hget(pipelineKey(h.config, 'synced-at'), 'fr-fail'),
    });
    try {
      await h.queue('fr-fail', { instances: 4 });
      const { jobId: forgotten } = h.sim.model.submitJob({ jobName: 'forgotten', jobQueue: 'fr-fail', plan: { runSeconds: 100_000 } });
      h.sim.model.advance(30_000);
      expect((await h.round()).status).to.equal('completed');
      expect((await getJob(h.db, forgotten))!.status).to.equal('RUNNING');
      h.sim.model.forgetJob(forgotten);
      // Last seen long ago: a successful round would mark it GONE.
      await h.db('jobs').where('job_id', forgotten).update({ last_seen_at: new Date(Date.now() - 3_600_000) });

      const before = await marks();
      h.sim.model.bulkLoad({ queue: 'fr-fail', finished: 0, active: 6_000 });
      h.sim.faults.set({ delayMs: 30, operations: ['Batch.DescribeJobs'] });
      const described = () => h.sim.counters.get()['Batch.DescribeJobs'] ?? 0;
      const start = described();
      const round = h.round();
      // Mid-pipeline: some describes answered and some rows written, then every DescribeJobs fails.
      const written = async () => Number((await h.db('jobs').where('job_queue', 'fr-fail').count({ n: '*' }))[0].n);
      while (described() < start + 15 || (await written()) < 500) await sleep(5);
      h.sim.faults.set({ errorRate: 1, operations: ['Batch.DescribeJobs'] });
      const failed = await round;
      h.sim.faults.clear();
      expect(failed.status).to.equal('failed');
      const partial = await written();
      expect(partial, 'the pipeline had written part of the jobs').to.be.within(500, 5_999);
      expect(h.sim.counters.faults()['Batch.DescribeJobs']?.error).to.be.greaterThan(0);
      expect((await getJob(h.db, forgotten))!.status, 'a failed round marks nothing GONE').to.equal('RUNNING');
      expect(await marks(), 'the created mark and synced-at stay where they were').to.deep.equal(before);

      const ok = await h.round();
      expect(ok.status).to.equal('completed');
      expect(ok.status === 'completed' && ok.gone).to.deep.equal([forgotten]);
      expect(await marks()).to.not.deep.equal(before);
      const rows = await h.db('jobs').where('job_queue', 'fr-fail').whereNot('job_id', forgotten).count({ n: '*' });
      expect(Number(rows[0].n)).to.equal(6_000);
    } finally {
      redis.disconnect();
      await h.close();
    }
  });
});

describe('BoundedQueue (the pipeline stages\' hand-over)', () => {
  it('holds producers while full, hands out full batches until closed, and fails every stage at once', async () => {
    const q = new BoundedQueue<number>(3);
    let pushed = false;
    const push = q.push([1, 2, 3, 4]).then(() => (pushed = true));
    await sleep(5);
    expect(pushed, 'full: the producer waits').to.equal(false);
    expect(await q.take(2)).to.deep.equal([1, 2]);
    await push;
    expect(pushed).to.equal(true);
    let batch: number[] | null = null;
    const take = q.take(3).then((b) => (batch = b));
    await sleep(5);
    expect(batch, 'waits for a full batch').to.equal(null);
    q.close();
    await take;
    expect(batch, 'the rest once closed').to.deep.equal([3, 4]);
    expect(await q.take(3)).to.equal(null);

    const f = new BoundedQueue<number>(1);
    const waiting = f.take(5);
    const blocked = f.push([1, 2]);
    f.abort(new Error('boom'));
    const reason = (p: Promise<unknown>) => p.then(() => 'resolved', (err: Error) => err.message);
    expect(await reason(waiting)).to.equal('boom');
    expect(await reason(blocked)).to.equal('boom');
    expect(await reason(f.push([3]))).to.equal('boom');
  });
});
