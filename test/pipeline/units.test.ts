import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { JobSummary } from '@aws-sdk/client-batch';
import { FIRST_CONNECTION_WAIT_MS, operationName, redisRateLimiter } from '../../src/aws/calls';
import { closeRedis, createRedis, openRateLimiter } from '../../src/pipeline/connection';
import { metrics } from '../../src/pipeline/metrics';
import { summaryChanged } from '../../src/pipeline/summaryDiff';
import { type JobEventFields, latestPerJob } from '../../src/store/jobEvents';
import { ListedJobs } from '../../src/pipeline/reconcileListing';
import { queueListQueries } from '../../src/pipeline/tasks/syncQueue';
import type { JobState } from '../../src/store/jobs/sync';
import { REDIS_URL, testRedisPrefix } from '../helpers/redis';

const state = (over: Partial<JobState> = {}): JobState => ({
  job_id: 'j',
  status: 'RUNNING',
  status_reason: null,
  stopped_at: null,
  run_started_at: new Date(1000),
  exitcode: null,
  attempts: 0,
  array_properties: null,
  termination_requested: false,
  event_written: false,
  version: '1',
  ...over,
});

describe('pipeline units', () => {
  describe('summaryChanged', () => {
    const summary = (over: Partial<JobSummary> = {}): JobSummary => ({ jobId: 'j', jobName: 'n', status: 'RUNNING', startedAt: 1000, ...over });

    it('is true for unknown jobs and any difference a summary can show', () => {
      expect(summaryChanged(summary(), undefined)).to.equal(true);
      expect(summaryChanged(summary(), state())).to.equal(false);
      expect(summaryChanged(summary({ status: 'SUCCEEDED' }), state())).to.equal(true);
      expect(summaryChanged(summary({ startedAt: 2000 }), state())).to.equal(true);
      expect(summaryChanged(summary({ stoppedAt: 5 }), state())).to.equal(true);
      expect(summaryChanged(summary({ container: { exitCode: 1 } }), state())).to.equal(true);
      expect(summaryChanged(summary({ statusReason: 'why' }), state())).to.equal(true);
      expect(summaryChanged(summary({ statusReason: 'why' }), state({ status_reason: 'why' }))).to.equal(false);
      // Our reason may be the last attempt's container reason: either summary reason matches.
      expect(summaryChanged(summary({ statusReason: 'job', container: { reason: 'ctr' } }), state({ status_reason: 'ctr' }))).to.equal(false);
      expect(summaryChanged(summary(), state({ status: 'GONE' }))).to.equal(true);
    });

    it('compares array parents by child counts, and describes open parents whose summary lacks them', () => {
      const parent = { size: 3, statusSummary: { RUNNING: 1, SUCCEEDED: 2 } };
      const stored = state({ array_properties: { size: 3, status_summary: { starting: 0, failed: 0, running: 1, succeeded: 2, runnable: 0, submitted: 0, pending: 0 } } });
      expect(summaryChanged(summary({ arrayProperties: parent }), stored)).to.equal(false);
      expect(summaryChanged(summary({ arrayProperties: { size: 3, statusSummary: { SUCCEEDED: 3 } } }), stored)).to.equal(true);
      expect(summaryChanged(summary({ arrayProperties: { size: 3 } }), stored)).to.equal(true);
      expect(summaryChanged(summary({ status: 'SUCCEEDED', arrayProperties: { size: 3 } }), { ...stored, status: 'SUCCEEDED' })).to.equal(false);
    });
  });

  it('lists every status on the first round of a queue, then the finished jobs since the mark less a margin and a period', () => {
    expect(queueListQueries('q', null, 30_000).map((q) => ('jobStatus' in q ? q.jobStatus : null))).to.deep.equal([
      'SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED', 'FAILED',
    ]);
    expect(queueListQueries('q', 1_000_000, 30_000)).to.deep.equal([{ jobQueue: 'q', finishedSince: 910_000 }]);
    expect(queueListQueries('q', 1_000_000, 1_800_000)).to.deep.equal([{ jobQueue: 'q', finishedSince: 0 }]);
  });

  it('keeps the most advanced summary of a job listed twice, and describes again a job that moved on after its describe', () => {
    const listed = new ListedJobs();
    expect(listed.offer({ jobId: 'a', jobName: 'a', status: 'STARTING', createdAt: 5 }), 'first summary: compare with our row').to.equal(true);
    expect(listed.queue('a')).to.equal(true);
    expect(listed.queue('a'), 'queued once').to.equal(false);
    expect(listed.offer({ jobId: 'a', jobName: 'a', status: 'RUNNING', createdAt: 5 }), 'queued: its describe is still to come').to.equal(false);
    expect(listed.offer({ jobId: 'a', jobName: 'a', status: 'RUNNABLE', createdAt: 5 }), 'an older view').to.equal(false);
    expect(listed.activeNow.has('a')).to.equal(true);
    listed.sent('a');
    expect(listed.offer({ jobId: 'a', jobName: 'a', status: 'RUNNING', createdAt: 5 }), 'as advanced as already seen').to.equal(false);
    expect([...listed.late]).to.deep.equal([]);
    expect(listed.offer({ jobId: 'a', jobName: 'a', status: 'SUCCEEDED', createdAt: 5 })).to.equal(false);
    expect([...listed.late], 'moved on after its DescribeJobs went out').to.deep.equal(['a']);
    expect(listed.activeNow.has('a'), 'finished: not marked seen').to.equal(false);
    expect(listed.offer({ jobId: 'b', jobName: 'b', status: 'RUNNING', createdAt: 9 })).to.equal(true);
    expect(listed.offer({ jobId: 'b', jobName: 'b', status: 'RUNNING', createdAt: 9 }), 'unchanged so far: compare the newer summary').to.equal(true);
    expect(listed.size).to.equal(2);
    expect(listed.newestCreatedAt).to.equal(9);
  });

  it('keeps, per job, the most advanced event of a batch (attempts, status, then time)', () => {
    const job = (status: JobEventFields['status'], attempts: number) => ({ job_id: 'x', status, attempts }) as JobEventFields;
    const pick = (rows: [JobEventFields, number][]) => latestPerJob(rows.map(([f, t]) => ({ fields: f, eventTime: t })))[0];
    expect(pick([[job('SUCCEEDED', 1), 1], [job('RUNNING', 1), 2]]).status).to.equal('SUCCEEDED');
    expect(pick([[job('RUNNING', 0), 5], [job('RUNNABLE', 1), 1]]).status).to.equal('RUNNABLE');
    expect(pick([[job('FAILED', 1), 9], [job('SUCCEEDED', 1), 3]]).status).to.equal('FAILED');
  });

  it('names operations as the simulator counts them', () => {
    expect(operationName('BatchClient', 'ListJobsCommand')).to.equal('Batch.ListJobs');
    expect(operationName('EC2Client', 'DescribeInstancesCommand')).to.equal('EC2.DescribeInstances');
    expect(operationName('ECSClient', 'ListTasksCommand')).to.equal('ECS.ListTasks');
  });

  it('rate-limits one operation across limiters sharing Redis, and fails open without Redis', async function () {
    this.timeout(20_000);
    const { prefix, cleanup } = testRedisPrefix();
    const a = new Redis(REDIS_URL);
    const b = new Redis(REDIS_URL);
    const waits = async (operation: string) =>
      (await metrics.awsThrottleWaits.get()).values.find((v) => v.labels.operation === operation)?.value ?? 0;
    try {
      const rate = 20;
      const la = redisRateLimiter(a, `${prefix}:rate`, rate);
      const lb = redisRateLimiter(b, `${prefix}:rate`, rate);
      const listWaits = await waits('Batch.ListJobs');
      const started = Date.now();
      await Promise.all([
        ...Array.from({ length: 30 }, () => la.take('Batch.ListJobs')),
        ...Array.from({ length: 30 }, () => lb.take('Batch.ListJobs')),
      ]);
      const elapsed = Date.now() - started;
      // 60 calls at 20/s with a burst of 20: at least (60 - 20) / 20 = 2 s (a floor: load only adds to it).
      expect(elapsed).to.be.greaterThan(1900);
      // The calls beyond the burst waited, whichever limiter they came through (the bucket refills meanwhile, so not all 40).
      expect((await waits('Batch.ListJobs')) - listWaits).to.be.at.least(20);
      // Another operation has its own bucket: it goes through without waiting.
      const describeWaits = await waits('Batch.DescribeJobs');
      await la.take('Batch.DescribeJobs');
      expect(await waits('Batch.DescribeJobs')).to.equal(describeWaits);
      // Redis unreachable: the call goes through at once (a wait would be counted) instead of failing.
      const dead = new Redis({ port: 1, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
      dead.on('error', () => undefined);
      const offlineWaits = await waits('Batch.ListJobs');
      await redisRateLimiter(dead, 'x', 1).take('Batch.ListJobs');
      await redisRateLimiter(dead, 'x', 1).take('Batch.ListJobs');
      expect(await waits('Batch.ListJobs')).to.equal(offlineWaits);
      dead.disconnect();
    } finally {
      a.disconnect();
      b.disconnect();
      await cleanup();
    }
  });

  it('waits for its first connection to Redis: a process does not start with unlimited calls', async function () {
    this.timeout(20_000);
    const { prefix, cleanup } = testRedisPrefix();
    const waits = async () => (await metrics.awsThrottleWaits.get()).values.find((v) => v.labels.operation === 'Batch.DescribeJobs')?.value ?? 0;
    const before = await waits();
    // Used at once, as a process's first task would: its fail-fast client is still connecting.
    const { limiter, close } = openRateLimiter({ redis_url: REDIS_URL, redis_prefix: prefix, aws_calls_per_second: 1 }, 'bp-test-rate');
    let refused: Redis | undefined;
    try {
      // 1/s, burst 1: the second call, a Redis round trip after the first, waits for the next token.
      await limiter.take('Batch.DescribeJobs');
      await limiter.take('Batch.DescribeJobs');
      const waited = (await waits()) - before;
      expect(waited, 'waits for a token').to.be.at.least(1);
      // A Redis that refuses the first connection is unreachable: open at once, not after the bounded wait.
      const started = Date.now();
      refused = createRedis({ redis_url: 'redis://127.0.0.1:1', redis_prefix: prefix }, { failFast: true });
      await redisRateLimiter(refused, `${prefix}:rate`, 1).take('Batch.DescribeJobs');
      await redisRateLimiter(refused, `${prefix}:rate`, 1).take('Batch.DescribeJobs');
      expect(Date.now() - started).to.be.below(FIRST_CONNECTION_WAIT_MS);
      expect((await waits()) - before, 'no call waited').to.equal(waited);
    } finally {
      await close();
      if (refused) await closeRedis(refused);
      await cleanup();
    }
  });
});
