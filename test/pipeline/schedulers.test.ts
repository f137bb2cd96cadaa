/**
 * README "Horizontally scaled" / SPEC section 2: with several scheduler and
 * worker processes against one Redis, every periodic task still runs once per
 * period, never N times. Two `batchiepatchie scheduler` and three
 * `batchiepatchie worker` processes run every task each second; their task
 * log lines are counted per period.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { openPipelineQueues } from '../../src/pipeline/queues';
import { startHarness, type Harness } from './harness';
import { startRole, stopRole, tomlFor, waitForOutput, type RoleProcess } from './processes';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every periodic task, as `<scheduler id>` in its job ids (repeat:<scheduler id>:<period start ms>). */
const SCHEDULERS = [
  'sync-round',
  'kill-timed-out-jobs',
  'scale-compute-environments',
  'reconcile-ecs-instances',
  'log-compute-environments',
  'terminate-stuck-instances',
  'clean-old-rows',
  'roll-up-stats',
];
const PERIODS_WANTED = 3;

interface TaskRun {
  task: string;
  jobId: string;
  process: number;
}

describe('pipeline: several schedulers and workers run each periodic task once per period', function () {
  this.timeout(300_000);
  let h: Harness;
  let dir: string;
  const processes: RoleProcess[] = [];

  before(async () => {
    h = await startHarness({ workers: 0 });
    await h.queue('o-a');
    await h.queue('o-b');
    dir = mkdtempSync(path.join(tmpdir(), 'bp-schedulers-'));
  });
  after(async () => {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Completed task runs, from every worker's "<task> done" log lines. */
  function completedRuns(workers: RoleProcess[]): TaskRun[] {
    return workers.flatMap((w, i) =>
      w
        .logs()
        .filter((l) => typeof l.task === 'string' && l.msg === `${l.task} done`)
        .map((l) => ({ task: String(l.task), jobId: String(l.jobId), process: i })),
    );
  }

  /** Period start (ms) of each completed run of one scheduler. */
  function periodsOf(runs: TaskRun[], scheduler: string): number[] {
    const prefix = `repeat:${scheduler}:`;
    return runs.filter((r) => r.jobId.startsWith(prefix)).map((r) => Number(r.jobId.slice(prefix.length)));
  }

  it('two schedulers, three workers, every task each second', async () => {
    const configPath = path.join(dir, 'every-second.toml');
    writeFileSync(
      configPath,
      tomlFor(h, ['sync_period = 1', 'scale_period = 1', 'clean_period = 1', 'use_cleaner = true', 'kill_stuck_jobs = true', 'use_auto_scaler = true']),
    );
    const schedulers = [startRole(configPath, 'scheduler'), startRole(configPath, 'scheduler')];
    const workers = [startRole(configPath), startRole(configPath), startRole(configPath)];
    processes.push(...schedulers, ...workers);
    try {
      for (const s of schedulers) await waitForOutput(s.output, /job schedulers registered/);
      for (const w of workers) await waitForOutput(w.output, /pipeline workers started/);
      for (const s of schedulers) {
        const registered = s.logs().find((l) => l.msg === 'job schedulers registered')!;
        expect(registered.registered, 'each scheduler registered every task').to.have.members(SCHEDULERS);
      }
      // Until every task ran in PERIODS_WANTED periods (however long the machine's load makes that).
      const enough = () => SCHEDULERS.every((s) => new Set(periodsOf(completedRuns(workers), s)).size >= PERIODS_WANTED);
      for (let i = 0; i < 2400 && !enough(); i++) await sleep(50);
      expect(enough(), JSON.stringify(completedRuns(workers).map((r) => r.jobId))).to.equal(true);
    } finally {
      for (const s of schedulers) expect(await stopRole(s), s.output()).to.equal(0);
      // Job schedulers outlive the scheduler processes (they live in Redis): remove them, then stop the workers.
      const pipeline = openPipelineQueues(h.config);
      try {
        for (const queue of pipeline.queues) {
          for (const s of await queue.getJobSchedulers()) await queue.removeJobScheduler(s.key);
          await queue.drain(true);
        }
      } finally {
        await pipeline.close();
      }
      for (const w of workers) expect(await stopRole(w), w.output().slice(-5000)).to.equal(0);
    }

    const runs = completedRuns(workers);
    for (const scheduler of SCHEDULERS) {
      const periods = periodsOf(runs, scheduler);
      // Once per period: no period ran twice, and two runs are at least a period (1 s) apart.
      expect(new Set(periods).size, `${scheduler}: one run per period`).to.equal(periods.length);
      const sorted = [...periods].sort((a, b) => a - b);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i] - sorted[i - 1], `${scheduler} periods`).to.be.at.least(1000);
    }
    // A round syncs each queue at most once (a queue still locked by a slow round is skipped, not synced twice).
    const queueRuns = runs.filter((r) => r.task === 'syncQueue').map((r) => r.jobId);
    expect(new Set(queueRuns).size, 'no queue synced twice in a round').to.equal(queueRuns.length);
    expect(queueRuns.length).to.be.at.least(2);
    // The work was shared: more than one worker process ran tasks.
    expect(new Set(runs.map((r) => r.process)).size, 'workers that ran tasks').to.be.at.least(2);
  });
});
