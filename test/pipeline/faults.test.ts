import { expect } from 'chai';
import { ownRedis, type OwnRedis } from '../helpers/ownRedis';
import { getJob } from '../../src/store/jobs/lookups';
import { PG } from '../helpers/db';
import { createDb } from '../../src/store/db';
import { expectConverged } from './converge';
import { startHarness, type Harness } from './harness';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function submitMix(h: Harness, queue: string, n: number): void {
  for (let i = 0; i < n; i++) {
    h.sim.model.submitJob({
      jobName: `mix-${i}`,
      jobQueue: queue,
      vcpus: 1,
      memory: 128,
      arraySize: i % 25 === 0 ? 4 : undefined,
      plan: { outcome: i % 7 === 0 ? 'FAILED' : 'SUCCEEDED', exitCode: i % 7 === 0 ? 2 : 0, runSeconds: 5 + (i % 40) },
    });
  }
}

describe('pipeline under faults: the mirror converges', function () {
  this.timeout(240_000);

  it('with 30% of AWS calls throttled', async () => {
    const h = await startHarness({ workers: 2 });
    try {
      await h.queue('f-throttle', { instances: 4 });
      h.sim.counters.reset();
      h.sim.faults.set({ throttleRate: 0.3 });
      let completed = 0;
      for (let r = 0; r < 8; r++) {
        submitMix(h, 'f-throttle', 40);
        h.sim.model.advance(15_000);
        if ((await h.round()).status === 'completed') completed++;
      }
      const final = await h.round();
      expect(final.status).to.equal('completed');
      expect(completed, 'rounds complete despite throttling').to.be.greaterThan(5);
      // The fault happened: calls of the round's operations were answered with throttling errors.
      const faults = h.sim.counters.faults();
      h.sim.faults.clear();
      expect(faults['Batch.ListJobs']?.throttle, 'ListJobs calls throttled').to.be.greaterThan(0);
      expect(faults['Batch.DescribeJobs']?.throttle, 'DescribeJobs calls throttled').to.be.greaterThan(0);
      expect(Object.values(faults).every((f) => f.error === 0)).to.equal(true);
      expect(await expectConverged(h, ['f-throttle'])).to.be.greaterThan(300);
    } finally {
      await h.close();
    }
  });

  it('with Postgres connections killed mid-upsert', async () => {
    const h = await startHarness({ workers: 2 });
    const admin = createDb({ ...PG, database_name: 'postgres' }, { min: 0, max: 1 });
    try {
      await h.queue('f-pg', { instances: 4 });
      await h.round();
      let kills = 0;
      let upsertsKilled = 0;
      const kill = async (onlyUpserts: boolean) => {
        const res = await admin.raw(
          `SELECT pg_terminate_backend(pid) AS t, query FROM pg_stat_activity
           WHERE datname = ? AND pid <> pg_backend_pid() AND (? OR (state = 'active' AND query LIKE '%json_to_recordset%'))`,
          [h.tdb.name, !onlyUpserts],
        );
        kills += res.rows.length;
        // The upsert (pg_stat_activity shows its first 1 kB: the json_to_recordset input of the INSERT).
        upsertsKilled += res.rows.filter((x: { query: string }) => x.query.includes('json_to_recordset')).length;
      };
      for (let r = 0; r < 4; r++) {
        submitMix(h, 'f-pg', 1500);
        h.sim.model.advance(20_000);
        // Hold the queue's rows so the round's upsert is caught in the middle (waiting on our lock), then kill it.
        const holder = await h.db.transaction();
        await holder.raw("SELECT job_id FROM jobs WHERE job_queue = 'f-pg' FOR UPDATE");
        let done = false;
        const round = h.round().then(
          () => (done = true),
          () => (done = true),
        );
        if (r === 0) await kill(false); // every backend once, whatever it is doing
        const until = Date.now() + 20_000;
        let caught = false;
        while (!done && !caught && Date.now() < until) {
          const before = upsertsKilled;
          await kill(true);
          caught = upsertsKilled > before;
          await sleep(10);
        }
        await holder.commit().catch(() => undefined); // killed with the rest in the first round
        await round;
      }
      expect(kills).to.be.greaterThan(0);
      expect(upsertsKilled, 'connections killed in the middle of an upsert').to.be.greaterThan(0);
      h.sim.model.advance(60_000);
      let final = await h.round();
      if (final.status !== 'completed') final = await h.round();
      expect(final.status).to.equal('completed');
      expect(await expectConverged(h, ['f-pg'])).to.be.greaterThan(6000);
    } finally {
      await admin.destroy();
      await h.close();
    }
  });

  describe('with Redis restarted mid-round', () => {
    let redis: OwnRedis | null = null;
    const startRedis = () => redis!.start();
    const stopRedis = async () => redis?.stop();

    after(async () => stopRedis());

    it('loses nothing: the next rounds and events catch up', async () => {
      redis = await ownRedis();
      await startRedis();
      const h = await startHarness({ workers: 2, redisUrl: redis.url });
      try {
        await h.queue('f-redis', { instances: 4 });
        await h.round();
        submitMix(h, 'f-redis', 800);
        h.sim.model.advance(20_000);
        h.sim.faults.set({ delayMs: 500, operations: ['Batch.DescribeJobs'] }); // a slower AWS keeps the round in flight
        const described = () => h.sim.counters.get()['Batch.DescribeJobs'] ?? 0;
        const describedBefore = described();
        const inFlight = h.round().catch(() => undefined);
        while (described() === describedBefore) await sleep(5);
        const killedAt = performance.timeOrigin + performance.now();
        await stopRedis();
        await sleep(500);
        await startRedis();
        h.sim.faults.clear();
        await Promise.race([inFlight, sleep(3000)]);
        // The round was in flight: one of its DescribeJobs calls was open at AWS when Redis died.
        const open = h.sim.counters.calls().filter((c) => c.operation === 'Batch.DescribeJobs' && c.startedAt < killedAt && c.endedAt > killedAt);
        expect(open, 'DescribeJobs calls open when Redis was killed').to.not.be.empty;

        h.sim.model.advance(30_000);
        let outcome = await h.round();
        for (let i = 0; i < 3 && outcome.status !== 'completed'; i++) outcome = await h.round();
        expect(outcome.status).to.equal('completed');
        expect(await expectConverged(h, ['f-redis'])).to.be.greaterThan(800);

        // Events still flow after the restart (the stream and its group are recreated).
        const { jobId } = h.sim.model.submitJob({ jobName: 'after-restart', jobQueue: 'f-redis', plan: { runSeconds: 100 } });
        h.sim.model.advance(20_000);
        const detail = h.sim.model.getJob(jobId)!;
        await h.pq.enqueueJobEvents([{ 'detail-type': 'Batch Job State Change', time: new Date().toISOString(), detail }]);
        let row = await getJob(h.db, jobId);
        for (let i = 0; i < 150 && row?.status !== detail.status; i++) {
          await sleep(20);
          row = await getJob(h.db, jobId);
        }
        expect(row?.status).to.equal(detail.status);
      } finally {
        await h.close();
      }
    });
  });
});
