import { expect } from 'chai';
import pino from 'pino';
import { configWith } from '../../src/config/defaults';
import type { Config } from '../../src/config/schema';
import { openPipelineQueues } from '../../src/pipeline/queues';
import { waitForJob } from '../../src/pipeline/runNow';
import { applySchedules } from '../../src/pipeline/scheduler';
import { isSwitchedOn, type TaskDefinition } from '../../src/pipeline/task';
import { SCHEDULED_TASKS, TASKS, taskNamed } from '../../src/pipeline/tasks';
import { startWorkers, type PipelineWorkers } from '../../src/pipeline/worker';
import { getJob } from '../../src/store/jobs/lookups';
import { upsertJobs } from '../../src/store/jobs/upsert';
import { setForcedScaling } from '../../src/store/queues';
import { testRedisPrefix } from '../helpers/redis';
import { mirroredJob } from '../store/fixtures';
import { awsCounters, startHarness, type Harness } from './harness';

/** The retry and keep options a BullMQ job got, in the shape of a definition's policies. */
function policyOf(opts: Record<string, unknown>) {
  const { attempts, backoff, removeOnComplete, removeOnFail } = opts;
  return { attempts, backoff, removeOnComplete, removeOnFail };
}

const expectedPolicy = (task: TaskDefinition) => policyOf({ ...task.retry, ...task.keep });

describe('pipeline task definitions', () => {
  it('name every task once, each on a queue of the pipeline', () => {
    const names = TASKS.map((t) => t.name);
    expect(new Set(names).size).to.equal(names.length);
    for (const task of TASKS) expect(taskNamed(task.name, task.queue)).to.equal(task);
    expect(taskNamed('syncRound', 'bp-maintenance'), 'a name is only dispatched on its own queue').to.equal(undefined);
    expect(taskNamed('noSuchTask')).to.equal(undefined);
  });

  it('the terminator runs once per period: no retries (its prose and its definition agree)', () => {
    expect(taskNamed('terminateStuckInstances')!.retry.attempts).to.equal(1);
  });

  for (const [label, switches] of [
    ['every switch on', { kill_stuck_jobs: true, use_cleaner: true, use_auto_scaler: true }],
    ['every switch off', { kill_stuck_jobs: false, use_cleaner: false, use_auto_scaler: false }],
    ['the defaults', {}],
  ] as const) {
    it(`and the registered job schedulers agree (${label})`, async () => {
      const redis = testRedisPrefix();
      const config: Config = configWith({ database_name: 'unused', redis_prefix: redis.prefix, sync_period: 11, scale_period: 13, clean_period: 17, ...switches });
      const pq = openPipelineQueues(config);
      try {
        const queues = { [pq.sync.name]: pq.sync, [pq.maintenance.name]: pq.maintenance };
        // A scheduler with every task on ran before: switched-off ones must go.
        await applySchedules({ ...config, kill_stuck_jobs: true, use_cleaner: true, use_auto_scaler: true }, queues);
        await applySchedules(config, queues);
        const registered = [
          ...(await pq.sync.getJobSchedulers()).map((s) => ({ ...s, queue: pq.sync.name })),
          ...(await pq.maintenance.getJobSchedulers()).map((s) => ({ ...s, queue: pq.maintenance.name })),
        ];
        const on = SCHEDULED_TASKS.filter((t) => isSwitchedOn(t, config));
        expect(registered.map((s) => s.key).sort()).to.deep.equal(on.map((t) => t.schedule.schedulerId).sort());
        for (const task of on) {
          const s = registered.find((r) => r.key === task.schedule.schedulerId)!;
          expect({ name: s.name, queue: s.queue, every: s.every }, task.name).to.deep.equal({
            name: task.name,
            queue: task.queue,
            every: task.schedule.everyMs(config),
          });
          expect(policyOf(s.template?.opts ?? {}), `${task.name}'s retry and keep policy`).to.deep.equal(expectedPolicy(task));
        }
        for (const task of SCHEDULED_TASKS.filter((t) => !isSwitchedOn(t, config))) {
          expect(registered.map((s) => s.key), `${task.name} is switched off`).to.not.include(task.schedule.schedulerId);
        }
      } finally {
        await pq.close();
        await redis.cleanup();
      }
    });
  }
});

describe('pipeline task definitions at work', function () {
  this.timeout(120_000);
  let h: Harness;

  before(async () => {
    h = await startHarness({ workers: 0, config: { kill_stuck_jobs: false, use_cleaner: false, use_auto_scaler: false } });
    await h.queue('q-t', { instances: 2, minvCpus: 0, maxvCpus: 8 });
  });
  after(async () => h?.close());

  it("give a round's jobs their own definitions' retry and keep policies", async () => {
    await h.startWorkers(1);
    try {
      h.sim.model.submitJob({ jobName: 'array', jobQueue: 'q-t', arraySize: 3, plan: { runSeconds: 10_000 } });
      h.sim.model.advance(5_000);
      await h.round(); // the parent is now mirrored and open
      const outcome = await h.round();
      expect(outcome.status).to.equal('completed');
      // The round job itself was added by runNow (the scheduled one's policy is checked above).
      const jobs = (await h.pq.sync.getJobs(['completed'])).filter((j) => j.id?.includes(outcome.roundId) && j.name !== 'syncRound');
      expect(jobs.map((j) => j.name).sort()).to.deep.equal(['finishRound', 'syncArrayChildren', 'syncQueue']);
      for (const job of jobs) {
        expect(policyOf(job.opts as Record<string, unknown>), job.name).to.deep.equal(expectedPolicy(taskNamed(job.name)!));
      }
    } finally {
      await h.stopWorkers();
    }
  });

  it('a switched-off task added straight to its BullMQ queue runs nothing and logs why', async () => {
    // What each switched-off task would act on: a job stuck in STARTING on an
    // instance, a forced-scaling queue with demand, an old finished row.
    const { jobId: stuck } = h.sim.model.submitJob({ jobName: 'stuck', jobQueue: 'q-t', vcpus: 1, plan: { startingSeconds: 100_000, runSeconds: 10_000 } });
    for (let i = 0; i < 120 && h.sim.model.getJob(stuck)!.status !== 'STARTING'; i++) h.sim.model.advance(500);
    expect(h.sim.model.getJob(stuck)!.status).to.equal('STARTING');
    for (let i = 0; i < 2; i++) h.sim.model.submitJob({ jobName: `big-${i}`, jobQueue: 'q-t', vcpus: 4, plan: { runSeconds: 10_000 } });
    await setForcedScaling(h.db, 'q-t', true);
    await h.startWorkers(1);
    await h.round();
    await h.task('reconcileEcsInstances');
    await h.stopWorkers();
    const instance = (await getJob(h.db, stuck))!.instance_id!;
    expect(instance).to.be.a('string');
    // Stuck by AWS's own account (the terminator confirms it): STARTING for longer than stuck_starting_seconds.
    h.sim.model.advance((h.config.stuck_starting_seconds + 1) * 1000);
    expect(h.sim.model.getJob(stuck)!.status).to.equal('STARTING');
    const old = mirroredJob({ job_queue: 'q-t', status: 'SUCCEEDED' });
    await upsertJobs(h.db, [old]);
    await h.db('jobs').where({ job_id: old.job_id }).update({ last_updated: h.db.raw("now() - interval '400 days'") });
    const oldId = old.job_id;

    const lines: { msg: string; task?: string; switchedOnBy?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const switchedOff = ['terminateStuckInstances', 'scaleComputeEnvironments', 'cleanOldRows'] as const;
    const run = async (workerConfig: Config) => {
      const workers: PipelineWorkers = await startWorkers(workerConfig, { logger, now: () => new Date(h.sim.model.now()) });
      try {
        h.sim.counters.reset();
        const results: Record<string, unknown> = {};
        for (const name of switchedOff) {
          // As bull-board's "add job" does: the name, empty data, the queue's defaults.
          const job = await h.pq.maintenance.add(name, {}, { attempts: 3 });
          results[name] = await waitForJob(h.pq.maintenance, job.id!, 60_000);
        }
        return { results, calls: awsCounters(h.sim) };
      } finally {
        await workers.close();
      }
    };

    const off = await run(h.config);
    expect(off.calls, 'no AWS call at all').to.deep.equal({});
    expect(h.sim.model.instances.get(instance)!.state).to.equal('running');
    expect(h.sim.model.computeEnvironment('q-t-ce')!.computeResources!.minvCpus).to.equal(0);
    expect(await getJob(h.db, oldId), 'the old row is kept').to.not.equal(null);
    for (const [name, key] of [
      ['terminateStuckInstances', 'kill_stuck_jobs'],
      ['scaleComputeEnvironments', 'use_auto_scaler'],
      ['cleanOldRows', 'use_cleaner'],
    ] as const) {
      expect(off.results[name], name).to.deep.equal({ skipped: `switched off: ${key} = false in this worker's config` });
      const line = lines.find((l) => l.task === name);
      expect(line, `a log line for ${name}`).to.include({ switchedOnBy: key, msg: `${name} not run: switched off: ${key} = false in this worker's config` });
    }

    // The same jobs with the switches on do act: what was refused above was there to act on.
    const on = await run({ ...h.config, kill_stuck_jobs: true, use_cleaner: true, use_auto_scaler: true });
    expect(on.calls['EC2.TerminateInstances'], 'the terminator acts').to.equal(1);
    expect(on.calls['Batch.UpdateComputeEnvironment'], 'the scaler acts').to.equal(1);
    expect(await getJob(h.db, oldId), 'the cleaner deletes').to.equal(null);
  });
});
