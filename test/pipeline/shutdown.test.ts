/**
 * docs/pipeline.md, Processes: "SIGTERM/SIGINT close it gracefully: running
 * tasks finish, nothing new is taken; a second signal exits at once." Proven
 * on a real `batchiepatchie worker` process holding a task whose AWS call the
 * simulator keeps open.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Job } from 'bullmq';
import { expect } from 'chai';
import { finishRoundTask } from '../../src/pipeline/tasks/finishRound';
import { syncQueueTask } from '../../src/pipeline/tasks/syncQueue';
import { startHarness, type Harness } from './harness';
import { startRole, stopRole, tomlFor, waitForOutput, type RoleProcess } from './processes';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('pipeline worker process: shutdown on signals', function () {
  this.timeout(240_000);
  let h: Harness;
  let dir: string;
  let configPath: string;
  const started: RoleProcess[] = [];

  before(async () => {
    h = await startHarness({ workers: 0 });
    await h.queue('s-a');
    dir = mkdtempSync(path.join(tmpdir(), 'bp-shutdown-'));
    configPath = path.join(dir, 'config.toml');
    writeFileSync(configPath, tomlFor(h));
  });
  after(async () => {
    for (const p of started) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    h.sim.faults.clear();
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function workerProcess(): Promise<RoleProcess> {
    const p = startRole(configPath);
    started.push(p);
    await waitForOutput(p.output, /pipeline workers started/);
    return p;
  }

  /**
   * Starts a round whose syncQueue task is held in DescribeJobs for `holdMs`; resolves once that call reached
   * AWS, with the round's outcome still to come (wrapped, so that awaiting this does not wait for the round).
   */
  async function roundHeldInDescribe(holdMs: number): Promise<{ outcome: ReturnType<Harness['round']> }> {
    h.sim.model.submitJob({ jobName: 'held', jobQueue: 's-a', plan: { runSeconds: 1000 } });
    h.sim.faults.set({ delayMs: holdMs, operations: ['Batch.DescribeJobs'] });
    const described = () => h.sim.counters.get()['Batch.DescribeJobs'] ?? 0;
    const before = described();
    const outcome = h.round();
    outcome.catch(() => undefined); // a test that needs it awaits it
    while (described() === before) await sleep(10);
    return { outcome };
  }

  it('SIGTERM lets the running task finish, takes nothing new, and exits 0', async () => {
    const worker = await workerProcess();
    const round = await roundHeldInDescribe(3000);
    const active = (await h.pq.sync.getJobs(['active'])).filter((j) => j.name === syncQueueTask.name);
    expect(active, 'the worker holds the queue task').to.have.length(1);
    const taskId = active[0].id!;

    worker.child.kill('SIGTERM');
    expect(await worker.exited).to.equal(0);

    const lines = worker.logs().map((l) => String(l.msg));
    const shuttingDown = lines.indexOf('worker shutting down');
    const taskDone = lines.indexOf(`${syncQueueTask.name} done`);
    expect(shuttingDown, lines.join('\n')).to.be.at.least(0);
    expect(taskDone, 'the running task finished after the signal').to.be.greaterThan(shuttingDown);
    expect(lines.indexOf('worker stopped')).to.be.greaterThan(taskDone);
    const task = await Job.fromId(h.pq.sync, taskId);
    expect(await task!.getState()).to.equal('completed');
    expect(task!.stalledCounter, 'finished by its own worker, not taken over').to.equal(0);
    // Nothing new taken: the round's last step became ready while closing and still waits for a worker.
    const finish = await Job.fromId(h.pq.sync, task!.parent!.id!);
    expect(await finish!.getState()).to.equal('waiting');
    expect(lines).to.not.include(`${finishRoundTask.name} done`);

    h.sim.faults.clear();
    await h.startWorkers(1);
    try {
      expect((await round.outcome).status).to.equal('completed');
    } finally {
      await h.stopWorkers();
    }
  });

  it('a second signal exits at once, without waiting for the running task', async () => {
    const worker = await workerProcess();
    // Held far longer than the test runs: the task cannot finish before the process exits.
    await roundHeldInDescribe(600_000);
    worker.child.kill('SIGTERM');
    await waitForOutput(worker.output, /worker shutting down/);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).to.equal(130);
    expect(worker.output()).to.not.match(/syncQueue done|worker stopped/);
    const answered = h.sim.counters.calls().filter((c) => c.operation === 'Batch.DescribeJobs' && c.endedAt > 0);
    const held = h.sim.counters.get()['Batch.DescribeJobs'] - answered.length;
    expect(held, 'its DescribeJobs call is still open at AWS').to.equal(1);
  });
});
