import { expect } from 'chai';
import { getJob } from '../../src/store/jobs/lookups';
import { jobStats, jobStatsFromJobs } from '../../src/store/stats';
import type { StatsRow } from '../../src/api/contract';
import { setForcedScaling } from '../../src/store/queues';
import { applySchedules } from '../../src/pipeline/scheduler';
import { openPipelineQueues } from '../../src/pipeline/queues';
import { configWith } from '../../src/config/defaults';
import { testRedisPrefix } from '../helpers/redis';
import { startHarness, type Harness } from './harness';

describe('pipeline maintenance tasks', function () {
  this.timeout(120_000);
  let h: Harness;

  before(async () => {
    h = await startHarness({ config: { stuck_starting_seconds: 600, retention_days: 30, kill_stuck_jobs: true, use_cleaner: true } });
    await h.queue('q-m', { instances: 2, maxvCpus: 10 });
  });
  after(async () => h?.close());

  it('terminates jobs past their PYBATCH_TIMEOUT (since creation), once', async () => {
    const env = [{ name: 'PYBATCH_TIMEOUT', value: '60' }];
    const { jobId } = h.sim.model.submitJob({ jobName: 'slow', jobQueue: 'q-m', environment: env, plan: { runSeconds: 10_000 } });
    const { jobId: fine } = h.sim.model.submitJob({ jobName: 'no-timeout', jobQueue: 'q-m', plan: { runSeconds: 10_000 } });
    h.sim.model.advance(30_000);
    await h.round();
    expect((await h.task<{ terminated: string[] }>('killTimedOutJobs')).terminated).to.deep.equal([]);
    h.sim.model.advance(40_000);
    await h.round();
    const r = await h.task<{ terminated: string[] }>('killTimedOutJobs');
    expect(r.terminated).to.deep.equal([jobId]);
    expect((await getJob(h.db, jobId))!.termination_requested).to.equal(true);
    expect((await getJob(h.db, fine))!.termination_requested).to.equal(false);
    // Already asked: not terminated again.
    expect((await h.task<{ terminated: string[] }>('killTimedOutJobs')).terminated).to.deep.equal([]);
    h.sim.model.advance(30_000);
    await h.round();
    expect((await getJob(h.db, jobId))!.status).to.equal('FAILED');
    expect((await getJob(h.db, fine))!.status).to.equal('RUNNING');
    h.sim.model.terminateJob(fine, 'test cleanup');
  });

  it('reconciles ECS/EC2 instances and joins instance info to jobs', async () => {
    const { jobId } = h.sim.model.submitJob({ jobName: 'where', jobQueue: 'q-m', vcpus: 1, plan: { runSeconds: 10_000 } });
    h.sim.model.advance(60_000);
    await h.round();
    const r = await h.task<{ instances: number; tasks: number }>('reconcileEcsInstances');
    expect(r.instances).to.be.greaterThan(0);
    const job = (await getJob(h.db, jobId))!;
    expect(job.status).to.equal('RUNNING');
    expect(job.instance_id, 'instance id joined').to.be.a('string');
    const inst = h.sim.model.instances.get(job.instance_id!)!;
    expect(job.private_ip).to.equal(inst.privateIp);
    expect(job.public_ip).to.equal(inst.publicIp);
    const rows = await h.db('instances').where({ instance_id: job.instance_id });
    expect(rows[0]).to.include({ instance_type: inst.type, ami: inst.ami, availability_zone: inst.availabilityZone });
    expect(rows[0].disappeared_at).to.equal(null);
    const log = await h.db('instance_event_log').where({ instance_id: job.instance_id });
    expect(log.some((l: { active_jobs: string[] }) => l.active_jobs.includes(job.task_arn!))).to.equal(true);

    // A task never moves: the next run describes only the task started since, and places both.
    const { jobId: later } = h.sim.model.submitJob({ jobName: 'where-later', jobQueue: 'q-m', vcpus: 1, plan: { runSeconds: 10_000 } });
    h.sim.model.advance(60_000);
    await h.round();
    h.sim.counters.reset();
    const again = await h.task<{ tasks: number }>('reconcileEcsInstances');
    expect(h.sim.counters.get()['ECS.DescribeTasks'], 'one DescribeTasks, for the new task').to.equal(1);
    expect(again.tasks).to.equal(r.tasks + 1);
    expect((await getJob(h.db, later))!.instance_id, 'the new task placed').to.be.a('string');
    expect((await getJob(h.db, jobId))!.instance_id, 'the known task still placed').to.equal(job.instance_id);
    h.sim.counters.reset();
    await h.task('reconcileEcsInstances');
    expect(h.sim.counters.get()['ECS.DescribeTasks'] ?? 0, 'nothing new: no DescribeTasks').to.equal(0);
    const latest = await h.db('instance_event_log').where({ instance_id: job.instance_id }).orderBy('timestamp', 'desc').first();
    expect(latest.active_jobs, 'the known task still logged on its instance').to.include(job.task_arn);
    h.sim.model.terminateJob(jobId, 'test cleanup');
    h.sim.model.terminateJob(later, 'test cleanup');
  });

  it('terminates the instance of a job stuck in STARTING (by AWS time) once AWS confirms it', async () => {
    const { jobId } = h.sim.model.submitJob({ jobName: 'stuck', jobQueue: 'q-m', vcpus: 1, plan: { startingSeconds: 100_000, runSeconds: 10_000 } });
    for (let i = 0; i < 120 && h.sim.model.getJob(jobId)!.status !== 'STARTING'; i++) h.sim.model.advance(500);
    expect(h.sim.model.getJob(jobId)!.status).to.equal('STARTING');
    await h.round();
    await h.task('reconcileEcsInstances');
    const job = (await getJob(h.db, jobId))!;
    expect(job.status).to.equal('STARTING');
    expect(job.instance_id).to.be.a('string');
    expect((await h.task<{ terminated: string[] }>('terminateStuckInstances')).terminated, 'not stuck yet').to.deep.equal([]);
    h.sim.model.advance(601_000);
    await h.round();
    h.sim.counters.reset();
    const r = await h.task<{ terminated: string[]; jobIds: Record<string, string[]> }>('terminateStuckInstances');
    expect(r.terminated).to.deep.equal([job.instance_id]);
    expect(r.jobIds).to.deep.equal({ [job.instance_id!]: [jobId] });
    expect(h.sim.counters.get()['EC2.TerminateInstances']).to.equal(1);
    // The manual clock has not moved: AWS is still shutting it down.
    expect(h.sim.model.instances.get(job.instance_id!)!.state).to.equal('shutting-down');
  });

  it('scales the first compute environment of forced-scaling queues (minvCpus = active vCPUs, capped at maxvCpus)', async () => {
    await h.queue('q-scale', { instances: 0, minvCpus: 0, maxvCpus: 10 });
    await h.queue('q-noscale', { instances: 0, minvCpus: 0, maxvCpus: 64 });
    await setForcedScaling(h.db, 'q-scale', true);
    for (let i = 0; i < 3; i++) h.sim.model.submitJob({ jobName: `big-${i}`, jobQueue: 'q-scale', vcpus: 4, plan: { runSeconds: 10_000 } });
    h.sim.model.submitJob({ jobName: 'other', jobQueue: 'q-noscale', vcpus: 8, plan: { runSeconds: 10_000 } });
    await h.round();
    const r = await h.task<{ changes: { computeEnvironment: string; to: number }[] }>('scaleComputeEnvironments');
    expect(r.changes).to.deep.equal([{ computeEnvironment: 'q-scale-ce', from: 0, to: 10 }]);
    expect(h.sim.model.computeEnvironment('q-scale-ce')!.computeResources!.minvCpus).to.equal(10);
    expect(h.sim.model.computeEnvironment('q-noscale-ce')!.computeResources!.minvCpus).to.equal(0);
    // Unchanged demand: no update call.
    h.sim.counters.reset();
    expect((await h.task<{ changes: unknown[] }>('scaleComputeEnvironments')).changes).to.deep.equal([]);
    expect(h.sim.counters.get()['Batch.UpdateComputeEnvironment'] ?? 0).to.equal(0);
  });

  it('logs compute environment states only when they change', async () => {
    await h.task('logComputeEnvironments');
    const n1 = Number((await h.db('compute_environment_event_log').count({ n: '*' }))[0].n);
    expect(n1).to.be.greaterThan(0);
    await h.task('logComputeEnvironments');
    const n2 = Number((await h.db('compute_environment_event_log').count({ n: '*' }))[0].n);
    expect(n2).to.equal(n1);
    const latest = await h.db('compute_environment_event_log').where({ compute_environment: 'q-scale-ce' }).orderBy('timestamp', 'desc').first();
    expect(latest.min_vcpus).to.equal(10);
  });

  it('cleans only old finished rows', async () => {
    const ids = await h.db('jobs').select('job_id', 'status').orderBy('job_id');
    const finished = ids.filter((r: { status: string }) => ['SUCCEEDED', 'FAILED'].includes(r.status)).map((r: { job_id: string }) => r.job_id);
    const active = ids.filter((r: { status: string }) => ['RUNNING', 'RUNNABLE', 'STARTING', 'SUBMITTED', 'PENDING'].includes(r.status)).map((r: { job_id: string }) => r.job_id);
    expect(finished.length).to.be.greaterThan(0);
    expect(active.length).to.be.greaterThan(0);
    const oldFinished = finished[0];
    const oldActive = active[0];
    await h.db('jobs').whereIn('job_id', [oldFinished, oldActive]).update({ last_updated: h.db.raw("now() - interval '31 days'") });
    await h.db('instance_event_log').insert({ timestamp: h.db.raw("now() - interval '31 days'"), instance_id: 'i-old', active_jobs: JSON.stringify([]) });
    const r = await h.task<{ jobs: number; instanceEvents: number }>('cleanOldRows');
    expect(r.jobs).to.equal(1);
    expect(r.instanceEvents).to.equal(1);
    expect(await getJob(h.db, oldFinished)).to.equal(null);
    expect(await getJob(h.db, oldActive)).to.not.equal(null);
    expect(Number((await h.db('jobs').count({ n: '*' }))[0].n)).to.equal(ids.length - 1);
  });

  it('rolls up the stats of what changed: the marks the writes left are taken, the answer stays the same', async () => {
    const marks = async () => Number((await h.db('job_stats_dirty').count({ n: '*' }))[0].n);
    expect(await marks(), 'the rounds and the cleaner left marks').to.be.greaterThan(0);
    // Wide enough for the simulator's clock: daily buckets, whole days from the rollup.
    const q = { start: new Date('2020-01-01T00:00:00Z'), end: new Date('2040-01-01T00:00:00Z'), queues: [], statuses: [] };
    // Rows and counts, and the seconds to a millionth (the rollup adds sums of sums).
    const answers = () => h.db.transaction(async (trx) => {
      const shape = (rows: StatsRow[]) => rows.map((r) => [r.timestamp, r.job_queue, r.status, r.job_count, Math.round(r.vcpu_seconds * 1e6)]);
      return [shape(await jobStats(trx, q)), shape(await jobStatsFromJobs(trx, q))];
    });
    const [before, fromJobs] = await answers();
    expect(fromJobs).to.have.length.greaterThan(0);
    expect(before).to.deep.equal(fromJobs);
    const r = await h.task<{ marks: number; buckets: number }>('rollUpStats');
    expect(r.marks).to.be.greaterThan(0);
    // What stays marked: buckets of running jobs that start after the database's now() (the simulator's clock may be ahead).
    const later = await h.db.raw("SELECT count(DISTINCT floor(extract(epoch FROM run_started_at) / 300)) AS n FROM jobs WHERE stopped_at IS NULL AND run_started_at > now()");
    expect(await marks()).to.equal(Number(later.rows[0].n));
    expect(Number((await h.db('job_stats_rollup').count({ n: '*' }))[0].n)).to.be.greaterThan(0);
    const [after, fromJobsAfter] = await answers();
    expect(after).to.deep.equal(fromJobsAfter);
  });
});

describe('pipeline job schedulers', () => {
  it('registers idempotently, follows period changes and removes switched-off tasks', async () => {
    const redis = testRedisPrefix();
    const config = configWith({ database_name: 'unused', redis_prefix: redis.prefix, use_cleaner: true, kill_stuck_jobs: true });
    const pq = openPipelineQueues(config);
    try {
      const queues = { [pq.sync.name]: pq.sync, [pq.maintenance.name]: pq.maintenance };
      await applySchedules(config, queues);
      await applySchedules(config, queues); // a second scheduler process
      const all = async () => [...(await pq.sync.getJobSchedulers()), ...(await pq.maintenance.getJobSchedulers())];
      expect((await all()).map((s) => s.key).sort()).to.deep.equal([
        'clean-old-rows',
        'kill-timed-out-jobs',
        'log-compute-environments',
        'reconcile-ecs-instances',
        'roll-up-stats',
        'scale-compute-environments',
        'sync-round',
        'terminate-stuck-instances',
      ]);
      const changed = { ...config, sync_period: 7, use_cleaner: false, use_auto_scaler: false };
      const applied = await applySchedules(changed, queues);
      expect(applied.removed.sort()).to.deep.equal(['clean-old-rows', 'scale-compute-environments']);
      const now = await all();
      expect(now.map((s) => s.key).sort()).to.deep.equal([
        'kill-timed-out-jobs',
        'log-compute-environments',
        'reconcile-ecs-instances',
        'roll-up-stats',
        'sync-round',
        'terminate-stuck-instances',
      ]);
      expect(now.find((s) => s.key === 'sync-round')!.every).to.equal(7000);
    } finally {
      await pq.close();
      await redis.cleanup();
    }
  });
});
