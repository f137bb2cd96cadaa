/**
 * docs/pipeline.md, Job events: "A batch that fails to write stays pending and
 * is retried with back-off; entries left by a dead worker are claimed by
 * another after 30 s." Both proven on the real stream, consumer group and
 * database.
 */
import { Writable } from 'node:stream';
import type { JobDetail } from '@aws-sdk/client-batch';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import pino from 'pino';
import { JOB_EVENT_GROUP, jobEventStreamKey } from '../../src/pipeline/jobEvents';
import { EVENT_CLAIM_IDLE_MS } from '../../src/pipeline/tasks/applyJobEvents';
import { startWorkers } from '../../src/pipeline/worker';
import { getJob } from '../../src/store/jobs/lookups';
import { startHarness, type Harness } from './harness';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function event(detail: JobDetail) {
  return { 'detail-type': 'Batch Job State Change', source: 'aws.batch', time: new Date().toISOString(), detail };
}

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await sleep(50);
  }
}

describe('pipeline job events: recovery', function () {
  this.timeout(180_000);
  let h: Harness;
  let redis: Redis;
  let key: string;

  before(async () => {
    h = await startHarness(); // one worker: its consumer creates the stream's group
    await h.queue('q-rec');
    redis = new Redis(h.config.redis_url);
    key = jobEventStreamKey(h.config);
    await until(async () => (await redis.exists(key)) === 1, (x) => x, 'the event stream and its group');
  });
  after(async () => {
    redis?.disconnect();
    await h?.close();
  });

  /** Pending entries per consumer of the group. */
  async function pendingOf(): Promise<Record<string, number>> {
    const [, , , consumers] = (await redis.xpending(key, JOB_EVENT_GROUP)) as [number, string | null, string | null, [string, string][] | null];
    return Object.fromEntries((consumers ?? []).map(([name, n]) => [name, Number(n)]));
  }

  it("a dead worker's unacknowledged entries are claimed and applied by another", async () => {
    // No live consumer while the entries are read by the one that is about to "die".
    await h.stopWorkers();
    const jobs = Array.from({ length: 3 }, (_, i) => h.sim.model.submitJob({ jobName: `orphan-${i}`, jobQueue: 'q-rec' }).jobId);
    await h.pq.enqueueJobEvents(jobs.map((id) => event(h.sim.model.getJob(id)!)));
    const read = (await redis.xreadgroup('GROUP', JOB_EVENT_GROUP, 'dead-worker', 'COUNT', 100, 'STREAMS', key, '>')) as [string, [string, string[]][]][];
    const ids = read[0][1].map(([id]) => id);
    expect(ids).to.have.length(3);
    // The dead worker never acknowledges them. Make them as old as a crash long ago (XCLAIM ... IDLE), past the claim threshold.
    await redis.xclaim(key, JOB_EVENT_GROUP, 'dead-worker', 0, ...ids, 'IDLE', EVENT_CLAIM_IDLE_MS * 2);
    expect(await pendingOf()).to.deep.equal({ 'dead-worker': 3 });
    for (const id of jobs) expect(await getJob(h.db, id)).to.equal(null);

    // A live worker: entries already delivered to another consumer reach it only by claiming them.
    await h.startWorkers(1);
    for (const id of jobs) {
      const row = await until(() => getJob(h.db, id), (r) => r !== null, `job ${id} applied`);
      expect(row?.status).to.equal('SUBMITTED');
    }
    await until(pendingOf, (p) => Object.values(p).every((n) => n === 0), 'the claimed entries acknowledged');
    expect((await redis.xrange(key, '-', '+')).map(([id]) => id)).to.not.include.members(ids);
  });

  it('a batch whose write failed stays pending and is applied once the database is back', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, cb) => (lines.push(JSON.parse(String(chunk))), cb()) }));
    await h.stopWorkers();
    const worker = await startWorkers(h.config, { logger });
    try {
      await h.db.raw('ALTER TABLE jobs RENAME TO jobs_away');
      let restored = false;
      try {
        const { jobId } = h.sim.model.submitJob({ jobName: 'retried', jobQueue: 'q-rec' });
        h.sim.model.advance(20_000);
        const detail = h.sim.model.getJob(jobId)!;
        await h.pq.enqueueJobEvents([event(detail)]);
        // The write failed (logged) and the entry is still pending, neither lost nor dead-lettered.
        await until(async () => lines.filter((l) => l.msg === 'applying job events failed; retrying').length, (n) => n >= 2, 'two failed attempts');
        expect(Object.values(await pendingOf()).reduce((a, b) => a + b, 0), 'entries pending').to.equal(1);
        expect(await redis.xlen(`${key}:dead`)).to.equal(0);
        await h.db.raw('ALTER TABLE jobs_away RENAME TO jobs');
        restored = true;
        const row = await until(() => getJob(h.db, jobId), (r) => r !== null, 'the event applied after the retry');
        expect(row?.status).to.equal(detail.status);
        await until(pendingOf, (p) => Object.values(p).every((n) => n === 0), 'the entry acknowledged');
        const failures = lines.filter((l) => l.msg === 'applying job events failed; retrying').map((l) => Number(l.failures));
        expect(failures.slice(0, 2), 'consecutive failures counted, for the back-off').to.deep.equal([1, 2]);
      } finally {
        if (!restored) await h.db.raw('ALTER TABLE jobs_away RENAME TO jobs');
      }
    } finally {
      await worker.close();
    }
  });
});
