import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { openPipelineQueues } from '../../src/pipeline/queues';
import { getJob } from '../../src/store/jobs/lookups';
import { expectConverged } from './converge';
import { freePort } from '../helpers/net';
import { deleteKeysWithPrefix } from '../helpers/redis';
import { awsCounters, startHarness, type Harness } from './harness';
import { startRole as startWorkerProcess, tomlFor, waitForOutput } from './processes';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once a Redis answers on `port`: ioredis itself reconnects every 100 ms meanwhile (about 5 s in all). */
async function redisAnswers(port: number): Promise<void> {
  const redis = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 50, retryStrategy: () => 100 });
  redis.on('error', () => undefined);
  try {
    await redis.ping();
  } finally {
    redis.disconnect();
  }
}

describe('pipeline worker processes (batchiepatchie worker)', function () {
  this.timeout(300_000);
  let h: Harness;
  let dir: string;

  before(async () => {
    // No in-process worker: the CLI processes do the work.
    h = await startHarness({ workers: 0 });
    await h.queue('p-a', { instances: 4 });
    await h.queue('p-b', { instances: 4 });
    dir = mkdtempSync(path.join(tmpdir(), 'bp-worker-'));
    writeFileSync(path.join(dir, 'config.toml'), tomlFor(h));
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs rounds, logs each task as JSON, and stops cleanly on SIGTERM', async () => {
    const w = startWorkerProcess(path.join(dir, 'config.toml'));
    try {
      await waitForOutput(w.output, /pipeline workers started/);
      for (let i = 0; i < 20; i++) h.sim.model.submitJob({ jobName: `cli-${i}`, jobQueue: 'p-a', plan: { runSeconds: 5 } });
      expect((await h.round()).status).to.equal('completed');
      await waitForOutput(w.output, /"task":"syncQueue".*"queue":"p-a"/);
      const line = w.output().split('\n').find((l) => l.includes('"task":"syncQueue"') && l.includes('"queue":"p-a"'))!;
      const entry = JSON.parse(line);
      expect(entry).to.include.keys('listed', 'described', 'changed', 'awsCalls', 'calls', 'durationMs');
      expect(entry.listed).to.equal(20);
      expect(entry.awsCalls).to.equal(entry.calls['Batch.ListJobs'] + (entry.calls['Batch.DescribeJobs'] ?? 0));
      expect(entry.calls['Batch.DescribeJobs']).to.equal(1);
    } finally {
      const exited = new Promise<number | null>((resolve) => w.child.once('exit', (code) => resolve(code)));
      w.child.kill('SIGTERM');
      expect(await exited).to.equal(0);
      expect(w.output()).to.match(/worker stopped/);
    }
  });

  it('started while Redis is unreachable: keeps retrying, warns once per kind (not at every reconnect), stops on SIGTERM', async () => {
    const deadPort = await freePort(); // nothing listens there
    const configPath = path.join(dir, 'no-redis.toml');
    writeFileSync(configPath, tomlFor(h).replace(/^redis_url = .*$/m, `redis_url = "redis://127.0.0.1:${deadPort}"`));
    const w = startWorkerProcess(configPath);
    try {
      // The sentinel: 30 s after a kind's first warning, its next one says how many were held back meanwhile.
      await waitForOutput(w.output, /"repeated":\d+/, 120_000);
      const lines = w.logs();
      const firstRepeat = lines.findIndex((l) => typeof l.repeated === 'number');
      const kindOf = (e: Record<string, unknown>) => `${e.msg}|${e.queue ?? ''}|${e.err}`;
      const warnings = lines.slice(0, firstRepeat).filter((l) => /worker error|flow producer error/.test(String(l.msg)));
      const kinds = new Set(warnings.map(kindOf));
      expect(warnings.length, JSON.stringify(warnings)).to.equal(kinds.size);
      expect(warnings.length).to.be.within(1, 3); // sync and maintenance workers, the flow producer
      expect(JSON.stringify(warnings)).to.include(`ECONNREFUSED 127.0.0.1:${deadPort}`);
      // Reconnect errors did happen meanwhile: several of that kind, held back instead of logged.
      const repeat = lines[firstRepeat];
      expect(kinds.has(kindOf(repeat)), 'the repeated kind was warned once before').to.equal(true);
      expect(repeat.repeated, 'reconnect errors held back in 30 s').to.be.at.least(5);
      expect(w.child.exitCode).to.equal(null);
      const exited = new Promise<number | null>((resolve) => w.child.once('exit', (code) => resolve(code)));
      w.child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(15_000).then(() => 'still running')]);
      expect(code, w.output()).to.equal(0);
      expect(w.output()).to.match(/Redis unreachable: closing the workers without waiting for it/);
    } finally {
      if (w.child.exitCode === null) w.child.kill('SIGKILL');
    }
  });

  it('stops on SIGTERM when Redis went away after it connected', async () => {
    // A Redis of this test's own, so it can be stopped under the worker.
    const port = await freePort();
    const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    let serverError: Error | null = null;
    server.once('error', (err) => (serverError = err)); // e.g. no redis-server binary
    const configPath = path.join(dir, 'own-redis.toml');
    writeFileSync(configPath, tomlFor(h).replace(/^redis_url = .*$/m, `redis_url = "redis://127.0.0.1:${port}"`));
    let w: ReturnType<typeof startWorkerProcess> | null = null;
    try {
      await redisAnswers(port).catch((err: Error) => {
        throw new Error(`the test's own redis-server did not answer (${serverError?.message ?? err.message}); Debian's redis-server package has it`);
      });
      w = startWorkerProcess(configPath);
      await waitForOutput(w.output, /pipeline workers started/);
      await sleep(500);
      server.kill('SIGKILL');
      await waitForOutput(w.output, /worker error/);
      const exited = new Promise<number | null>((resolve) => w!.child.once('exit', (code) => resolve(code)));
      w.child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(15_000).then(() => 'still running')]);
      expect(code, w.output()).to.equal(0);
      expect(w.output()).to.match(/Redis unreachable: closing the workers without waiting for it/);
    } finally {
      if (w && w.child.exitCode === null) w.child.kill('SIGKILL');
      if (server.exitCode === null) server.kill('SIGKILL');
    }
  });

  it('loses nothing when a worker process is killed mid-round: another takes the task over', async () => {
    const victim = startWorkerProcess(path.join(dir, 'config.toml'));
    await waitForOutput(victim.output, /pipeline workers started/);
    for (const q of ['p-a', 'p-b']) {
      for (let i = 0; i < 300; i++) h.sim.model.submitJob({ jobName: `k-${i}`, jobQueue: q, arraySize: i % 50 === 0 ? 3 : undefined, plan: { runSeconds: 3 } });
    }
    h.sim.model.advance(10_000);
    h.sim.faults.set({ delayMs: 200, operations: ['Batch.DescribeJobs'] }); // keeps the tasks in flight
    const described = () => h.sim.counters.get()['Batch.DescribeJobs'] ?? 0;
    const describedBefore = described();
    const round = h.round();
    // The victim is the only worker: a syncQueue job active in BullMQ while DescribeJobs calls reach AWS is one it holds.
    let held: string[] = [];
    for (let i = 0; i < 1000 && (held.length === 0 || described() === describedBefore); i++) {
      held = (await h.pq.sync.getJobs(['active'])).filter((j) => j.name === 'syncQueue').map((j) => j.id!);
      await sleep(20);
    }
    expect(held, 'syncQueue tasks held by the victim').to.not.be.empty;
    expect(described(), 'the victim is describing jobs').to.be.greaterThan(describedBefore);
    expect(victim.output(), 'none of them finished yet').to.not.match(/"task":"syncQueue"/);
    victim.child.kill('SIGKILL');
    await new Promise((resolve) => victim.child.once('exit', resolve));
    h.sim.faults.clear();
    // A survivor picks the stalled tasks up (BullMQ stalled-job check) and the round completes.
    const survivor = startWorkerProcess(path.join(dir, 'config.toml'));
    try {
      const outcome = await round;
      expect(outcome.status).to.equal('completed');
      for (const id of held) {
        const job = await Job.fromId(h.pq.sync, id);
        expect(job?.stalledCounter, `${id} moved back by the stalled check`).to.be.at.least(1);
        expect(await job?.getState(), id).to.equal('completed');
      }
      expect(survivor.output(), 'the survivor ran the tasks the victim held').to.match(/"task":"syncQueue"/);
      h.sim.model.advance(60_000);
      expect((await h.round()).status).to.equal('completed');
      expect(await expectConverged(h, ['p-a', 'p-b'])).to.be.greaterThan(600);
    } finally {
      survivor.child.kill('SIGTERM');
      await new Promise((resolve) => survivor.child.once('exit', resolve));
    }
  });

  it('serves the pipeline metrics of a worker process on metrics_port', async () => {
    const port = await freePort();
    writeFileSync(path.join(dir, 'metrics.toml'), `${tomlFor(h)}\nhost = "127.0.0.1"\nmetrics_port = ${port}\n`);
    const w = startWorkerProcess(path.join(dir, 'metrics.toml'));
    try {
      await waitForOutput(w.output, /pipeline workers started/);
      h.sim.model.submitJob({ jobName: 'metered', jobQueue: 'p-a', plan: { runSeconds: 5 } });
      expect((await h.round()).status).to.equal('completed');
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).to.equal(200);
      const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(body).to.match(/batchiepatchie_aws_calls_total\{operation="Batch\.ListJobs"\} [1-9]/);
      expect(body).to.match(/batchiepatchie_sync_task_duration_seconds_count\{[^}]*task="syncQueue"[^}]*\} [1-9]/);
      expect(body).to.include('process_cpu_user_seconds_total');
      expect((await fetch(`http://127.0.0.1:${port}/nothing`)).status).to.equal(404);
    } finally {
      const exited = new Promise((resolve) => w.child.once('exit', resolve));
      w.child.kill('SIGTERM');
      await exited;
    }
  });

  it('batchiepatchie scheduler + worker: the scheduled rounds mirror jobs without anyone asking', async () => {
    writeFileSync(path.join(dir, 'scheduled.toml'), `${tomlFor(h)}\nsync_period = 1\nscale_period = 1\n`);
    const scheduler = startWorkerProcess(path.join(dir, 'scheduled.toml'), 'scheduler');
    const worker = startWorkerProcess(path.join(dir, 'scheduled.toml'));
    try {
      await waitForOutput(scheduler.output, /job schedulers registered/);
      const registered = JSON.parse(scheduler.output().split('\n').find((l) => l.includes('job schedulers registered'))!);
      expect(registered.registered).to.include.members(['sync-round', 'reconcile-ecs-instances', 'kill-timed-out-jobs']);
      const { jobId } = h.sim.model.submitJob({ jobName: 'scheduled', jobQueue: 'p-b', plan: { runSeconds: 1000 } });
      let row = await getJob(h.db, jobId);
      for (let i = 0; i < 200 && !row; i++) {
        await sleep(50);
        row = await getJob(h.db, jobId);
      }
      expect(row?.status).to.equal('SUBMITTED');
      await waitForOutput(worker.output, /"task":"reconcileEcsInstances"/);
    } finally {
      for (const p of [scheduler, worker]) {
        const exited = new Promise<number | null>((resolve) => p.child.once('exit', (code) => resolve(code)));
        p.child.kill('SIGTERM');
        expect(await exited).to.equal(0);
      }
      // Job schedulers outlive the scheduler process (they live in Redis): remove them and what they
      // queued, or their 1 s rounds would hold the queue locks in the tests that follow.
      const pipeline = openPipelineQueues(h.config);
      try {
        for (const queue of pipeline.queues) {
          for (const s of await queue.getJobSchedulers()) await queue.removeJobScheduler(s.key);
          await queue.drain(true);
        }
      } finally {
        await pipeline.close();
      }
      // A round drained mid-flight never reaches its finishRound, which releases its queue locks.
      await deleteKeysWithPrefix(h.config.redis_url, `${h.config.redis_prefix}:bp:lock:`);
    }
  });

  it('makes each AWS call of a round once, with 1, 2 and 4 worker processes', async () => {
    const queues = ['p-a', 'p-b'];
    const busyRound = async (): Promise<Record<string, number>> => {
      // Settle, move the created mark with a sentinel, then 150 new jobs per queue.
      h.sim.model.advance(120_000);
      for (const q of queues) h.sim.model.submitJob({ jobName: 'sentinel', jobQueue: q, plan: { runSeconds: 100_000 } });
      expect((await h.round()).status).to.equal('completed');
      for (const q of queues) {
        for (let i = 0; i < 150; i++) h.sim.model.submitJob({ jobName: `n-${i}`, jobQueue: q, plan: { runSeconds: 100_000 } });
      }
      h.sim.counters.reset();
      const r = await h.round();
      expect(r.status).to.equal('completed');
      return awsCounters(h.sim);
    };
    const results: Record<number, Record<string, number>> = {};
    for (const n of [1, 2, 4]) {
      const procs = Array.from({ length: n }, () => startWorkerProcess(path.join(dir, 'config.toml')));
      try {
        for (const p of procs) await waitForOutput(p.output, /pipeline workers started/);
        results[n] = await busyRound();
      } finally {
        await Promise.all(
          procs.map((p) => {
            const exited = new Promise((resolve) => p.child.once('exit', resolve));
            p.child.kill('SIGTERM');
            return exited;
          }),
        );
      }
    }
    expect(results[1]['Batch.DescribeJobs']).to.equal(4); // 150 new jobs per queue: 2 calls of <= 100 ids each
    expect(results[2]).to.deep.equal(results[1]);
    expect(results[4]).to.deep.equal(results[1]);
  });
});
