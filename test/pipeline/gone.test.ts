import { expect } from 'chai';
import { getJob } from '../../src/store/jobs/lookups';
import { awsCounters, startHarness, type Harness } from './harness';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('pipeline GONE and horizontally scaled workers', function () {
  this.timeout(180_000);

  describe('GONE', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ config: { gone_after_seconds: 2 } });
      await h.queue('q-gone');
    });
    after(async () => h?.close());

    it('turns a job AWS forgot GONE only after gone_after_seconds, and never after a round with an AWS error', async () => {
      const { jobId } = h.sim.model.submitJob({ jobName: 'forgotten', jobQueue: 'q-gone', plan: { runSeconds: 10_000 } });
      const { jobId: kept } = h.sim.model.submitJob({ jobName: 'kept', jobQueue: 'q-gone', plan: { runSeconds: 10_000 } });
      h.sim.model.advance(60_000);
      expect((await h.round()).status).to.equal('completed');
      expect((await getJob(h.db, jobId))!.status).to.equal('RUNNING');

      h.sim.model.forgetJob(jobId);
      expect((await h.round()).status).to.equal('completed');
      expect((await getJob(h.db, jobId))!.status, 'not GONE before gone_after_seconds').to.equal('RUNNING');

      await sleep(2_200);
      h.sim.faults.set({ errorRate: 1, operations: ['Batch.ListJobs'] });
      const failed = await h.round();
      h.sim.faults.clear();
      expect(failed.status).to.equal('failed');
      expect((await getJob(h.db, jobId))!.status, 'a failed round marks nothing GONE').to.equal('RUNNING');

      const ok = await h.round();
      expect(ok.status).to.equal('completed');
      expect(ok.status === 'completed' && ok.gone).to.deep.equal([jobId]);
      expect(ok.status === 'completed' && ok.goneCount).to.equal(1);
      expect((await getJob(h.db, jobId))!.status).to.equal('GONE');
      expect((await getJob(h.db, kept))!.status).to.equal('RUNNING');
    });
  });

  describe('each AWS call once per round, whatever the number of workers', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ workers: 1 });
      for (const q of ['w-a', 'w-b', 'w-c']) await h.queue(q);
    });
    after(async () => h?.close());

    /** A round that has work to do: 150 new jobs and one new array job per queue. */
    async function busyRound(): Promise<Record<string, number>> {
      // Settle the previous round's jobs and move past the listing's margin, so every measured round is alike.
      // A sentinel per queue moves the created mark (the simulator's manual clock runs ahead of the wall clock).
      h.sim.model.advance(120_000);
      for (const q of ['w-a', 'w-b', 'w-c']) h.sim.model.submitJob({ jobName: 'sentinel', jobQueue: q, plan: { runSeconds: 100_000 } });
      await h.round();
      for (const q of ['w-a', 'w-b', 'w-c']) {
        for (let i = 0; i < 150; i++) h.sim.model.submitJob({ jobName: `w-${i}`, jobQueue: q, plan: { runSeconds: 100_000 } });
      }
      h.sim.counters.reset();
      const r = await h.round();
      expect(r.status).to.equal('completed');
      const counted = awsCounters(h.sim);
      // The round's own tally (summed over its tasks, whichever worker ran them) matches the simulator's.
      if (r.status === 'completed') expect(r.round.calls).to.deep.equal(counted);
      return counted;
    }

    it('makes the same calls with 1, 2 and 4 worker processes', async () => {
      await h.round(); // bootstrap listing of finished statuses
      await h.round();
      const one = await busyRound();
      expect(one['Batch.ListJobs']).to.equal(21); // 3 queues x (5 active statuses + SUCCEEDED + FAILED since the mark)
      expect(one['Batch.DescribeJobs']).to.equal(6); // 150 new jobs per queue = 2 calls of <= 100 ids
      for (const n of [2, 4]) {
        await h.stopWorkers();
        await h.startWorkers(n);
        const many = await busyRound();
        expect(many, `${n} workers`).to.deep.equal(one);
      }
    });
  });
});
