/**
 * README "Scaling workers" / docs/pipeline.md: AWS calls are rate-limited per
 * operation across all worker processes (aws_calls_per_second, a token bucket
 * in Redis used by an SDK middleware), and the limit fails open when Redis is
 * unreachable. Proven on the calls the simulator received: their arrival
 * times, not how long anything took.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DescribeJobQueuesCommand, ListJobsCommand } from '@aws-sdk/client-batch';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { createAwsClients } from '../../src/aws/clients';
import { instrumentAwsClients, redisRateLimiter } from '../../src/aws/calls';
import { metrics } from '../../src/pipeline/metrics';
import type { CallRecord } from 'aws-batch-simulator';
import { startHarness, type Harness } from '../pipeline/harness';
import { startRole, stopRole, tomlFor, waitForOutput } from '../pipeline/processes';
import { REDIS_URL, testRedisPrefix } from '../helpers/redis';

const RATE = 2;
const BURST = Math.ceil(RATE);
/**
 * A call's token is taken in Redis a moment before the call reaches the
 * simulator, and that moment grows with the machine's load; calls of a window
 * may have taken their tokens up to this much earlier.
 */
const TRANSIT_SLACK_MS = 1000;
/**
 * The simulator runs in this process and records a call when its event loop
 * gets to it: a stall of this loop (a long GC or other work of this process,
 * under load) records at one instant the calls whose tokens were taken all
 * along it, so the slack adds the longest stall measured meanwhile.
 */
function watchStalls(): { stop(): number } {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let stalledMs: number | undefined;
  return {
    /** Ends the watch (also when the calls failed); later calls give the same figure. */
    stop() {
      if (stalledMs === undefined) {
        loop.disable();
        stalledMs = Math.round(loop.max / 1e6);
      }
      return stalledMs;
    },
  };
}
/**
 * Beyond this stall the arrival times could no longer tell a broken limit (28
 * calls in well under a second) from a working one: the test says so instead
 * of passing.
 */
const MAX_STALL_MS = 5000;

/**
 * The most calls that arrived inside any window beyond what a token bucket of
 * RATE/s and BURST allows for that window widened by slackMs; 0 when the
 * limit held. Unlimited, 28 calls arrive within a fraction of a second.
 */
function excessOverLimit(calls: CallRecord[], slackMs = TRANSIT_SLACK_MS): number {
  const t = calls.map((c) => c.startedAt).sort((a, b) => a - b);
  let worst = 0;
  for (let i = 0; i < t.length; i++) {
    for (let j = i; j < t.length; j++) {
      const allowed = BURST + (RATE * (t[j] - t[i] + slackMs)) / 1000;
      worst = Math.max(worst, Math.ceil(j - i + 1 - allowed));
    }
  }
  return worst;
}

describe('AWS rate limit per operation, shared by all workers', function () {
  this.timeout(300_000);
  let h: Harness;
  let dir: string;

  before(async () => {
    h = await startHarness({ workers: 0 });
    for (const q of ['r-a', 'r-b', 'r-c', 'r-d']) await h.queue(q);
    dir = mkdtempSync(path.join(tmpdir(), 'bp-rate-'));
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`two worker processes at aws_calls_per_second = ${RATE}: the simulator receives ListJobs no faster than that`, async () => {
    const configPath = path.join(dir, 'slow.toml');
    // One task at a time per process: while one lists (slowly, at the limit), the other takes the next queue.
    writeFileSync(
      configPath,
      tomlFor(h)
        .replace(/^aws_calls_per_second = .*$/m, `aws_calls_per_second = ${RATE}`)
        .replace(/^worker_concurrency = .*$/m, 'worker_concurrency = 1'),
    );
    const workers = [startRole(configPath), startRole(configPath)];
    try {
      for (const w of workers) await waitForOutput(w.output, /pipeline workers started/);
      h.sim.counters.reset();
      const stalls = watchStalls();
      // The first round of 4 queues lists all 7 statuses of each: 28 ListJobs calls.
      const outcome = await h.round().finally(() => stalls.stop());
      expect(outcome.status).to.equal('completed');
      const stallMs = stalls.stop();
      expect(stallMs, "the simulator's event loop stalled").to.be.below(MAX_STALL_MS);
      const slackMs = TRANSIT_SLACK_MS + stallMs;
      const listJobs = h.sim.counters.calls().filter((c) => c.operation === 'Batch.ListJobs');
      expect(listJobs).to.have.length(28);
      // Both processes made some of them: the bucket is shared, not per process.
      const callsBy = workers.map((w) =>
        w
          .logs()
          .filter((l) => l.task === 'syncQueue')
          .reduce((n, l) => n + ((l.calls as Record<string, number>)['Batch.ListJobs'] ?? 0), 0),
      );
      expect(callsBy.every((n) => n > 0), `ListJobs calls per process: ${callsBy}`).to.equal(true);
      expect(callsBy[0] + callsBy[1]).to.equal(28);
      expect(excessOverLimit(listJobs, slackMs), `calls beyond the limit in some window (slack ${slackMs} ms)`).to.equal(0);
      // Visibly spaced: the 26 tokens after the burst of 2 take 13 s to come at 2/s.
      const span = Math.max(...listJobs.map((c) => c.startedAt)) - Math.min(...listJobs.map((c) => c.startedAt));
      expect(span).to.be.at.least(((28 - BURST) / RATE) * 1000 - slackMs);
    } finally {
      for (const w of workers) await stopRole(w);
    }
  });

  it('the same round without the limit is not spaced (the check above can fail)', async () => {
    h.sim.counters.reset();
    await h.startWorkers(2);
    try {
      // New queues list all 7 statuses again: as many calls as above, made as fast as the workers go.
      for (const q of ['r-e', 'r-f', 'r-g', 'r-h']) await h.queue(q);
      for (const q of ['r-a', 'r-b', 'r-c', 'r-d']) await h.db('activated_job_queues').where({ job_queue: q }).delete();
      expect((await h.round()).status).to.equal('completed');
    } finally {
      await h.stopWorkers();
    }
    const listJobs = h.sim.counters.calls().filter((c) => c.operation === 'Batch.ListJobs');
    expect(listJobs).to.have.length(28);
    expect(excessOverLimit(listJobs)).to.be.greaterThan(0);
  });

  it('is the SDK middleware of the clients, and lets calls through when Redis is unreachable', async () => {
    const waits = async () => (await metrics.awsThrottleWaits.get()).values.find((v) => v.labels.operation === 'Batch.ListJobs')?.value ?? 0;
    const { prefix, cleanup } = testRedisPrefix();
    const live = new Redis(REDIS_URL);
    const dead = new Redis({ port: 1, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    dead.on('error', () => undefined);
    const limited = instrumentAwsClients(createAwsClients({ region: 'us-east-1', aws_endpoint: h.sim.endpoint }), redisRateLimiter(live, `${prefix}:rate`, 1));
    const unlimited = instrumentAwsClients(createAwsClients({ region: 'us-east-1', aws_endpoint: h.sim.endpoint }), redisRateLimiter(dead, `${prefix}:rate`, 1));
    try {
      // A first call on a bucket of its own opens the client's connection: the measured calls' way to AWS is warm.
      await limited.batch.send(new DescribeJobQueuesCommand({}));
      // Through Redis at 1/s, burst 1: of three calls made at once, the second and third wait for tokens before
      // they reach AWS. At once, not one after another: however slow the machine, all three want a token together.
      const before = await waits();
      h.sim.counters.reset();
      const stalls = watchStalls();
      await Promise.all([0, 1, 2].map(() => limited.batch.send(new ListJobsCommand({ jobQueue: 'r-a' })))).finally(() => stalls.stop());
      expect((await waits()) - before, 'waits for a token').to.be.at.least(2);
      const spaced = h.sim.counters
        .calls()
        .map((c) => c.startedAt)
        .sort((a, b) => a - b);
      expect(spaced).to.have.length(3);
      // The third token comes 2 s after the first; less the first call's transit and any stall of the simulator.
      expect(spaced[2] - spaced[0], 'two tokens at 1/s after the first').to.be.at.least(2000 - TRANSIT_SLACK_MS - stalls.stop());
      // Redis unreachable: every call goes out, none waited, none failed.
      const offline = await waits();
      h.sim.counters.reset();
      for (let i = 0; i < 5; i++) await unlimited.batch.send(new ListJobsCommand({ jobQueue: 'r-a' }));
      expect(h.sim.counters.get()['Batch.ListJobs']).to.equal(5);
      expect(await waits(), 'no call waited').to.equal(offline);
    } finally {
      limited.destroy();
      unlimited.destroy();
      live.disconnect();
      dead.disconnect();
      await cleanup();
    }
  });
});
