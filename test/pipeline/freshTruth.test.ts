/**
 * Act only on fresh truth (issue 13.2): the timeout killer and the terminator
 * take the mirror's word only as a proposal. Each job they are about to act on
 * is described again right before acting and acted on only when AWS confirms;
 * neither acts on a queue whose last successful sync is older than three sync
 * periods. The simulator's call log shows what reached AWS, in order.
 */
import { expect } from 'chai';
import { getJob } from '../../src/store/jobs/lookups';
import type { KillTimedOutResult } from '../../src/pipeline/tasks/killTimedOutJobs';
import type { TerminatorResult } from '../../src/pipeline/tasks/terminateStuckInstances';
import { startHarness, type Harness } from './harness';

const TIMEOUT_ENV = (seconds: number) => [{ name: 'PYBATCH_TIMEOUT', value: String(seconds) }];

/** Operations that reached the simulator since the last counters reset, in the order they started. */
function callLog(h: Harness): string[] {
  return h.sim.counters
    .calls()
    .slice()
    .sort((a, b) => a.startedAt - b.startedAt)
    .map((c) => c.operation);
}

describe('act only on fresh truth: the timeout killer', function () {
  this.timeout(180_000);
  let h: Harness;

  before(async () => {
    h = await startHarness({ config: { sync_period: 30 } });
    await h.queue('ft-kill', { instances: 2 });
  });
  after(async () => h?.close());

  it('does not terminate a job the mirror has RUNNING past its timeout when AWS says it SUCCEEDED', async () => {
    const { jobId } = h.sim.model.submitJob({ jobName: 'done-meanwhile', jobQueue: 'ft-kill', environment: TIMEOUT_ENV(60), plan: { runSeconds: 90 } });
    h.sim.model.advance(30_000);
    expect((await h.round()).status).to.equal('completed');
    expect(await getJob(h.db, jobId)).to.include({ status: 'RUNNING', timeout: 60 });
    // AWS moves on; the mirror is not synced again: it still says RUNNING, past its timeout.
    h.sim.model.advance(100_000);
    expect(h.sim.model.getJob(jobId)?.status).to.equal('SUCCEEDED');
    expect(await getJob(h.db, jobId)).to.include({ status: 'RUNNING', termination_requested: false });

    h.sim.counters.reset();
    const r = await h.task<KillTimedOutResult>('killTimedOutJobs');
    expect(r.terminated).to.deep.equal([]);
    expect(r.unconfirmed).to.deep.equal([{ jobId, why: 'AWS says SUCCEEDED' }]);
    expect(callLog(h)).to.deep.equal(['Batch.DescribeJobs']);
    expect((await getJob(h.db, jobId))!.termination_requested).to.equal(false);
  });

  it('does not terminate a job whose timeout only the mirror has (AWS has no PYBATCH_TIMEOUT for it)', async () => {
    const { jobId } = h.sim.model.submitJob({ jobName: 'no-timeout', jobQueue: 'ft-kill', plan: { runSeconds: 36_000 } });
    h.sim.model.advance(30_000);
    expect((await h.round()).status).to.equal('completed');
    await h.db('jobs').where({ job_id: jobId }).update({ timeout: 1 }); // a mirror gone wrong
    h.sim.model.advance(5_000);

    h.sim.counters.reset();
    const r = await h.task<KillTimedOutResult>('killTimedOutJobs');
    expect(r.terminated).to.deep.equal([]);
    expect(r.unconfirmed).to.deep.equal([{ jobId, why: 'AWS says it has no PYBATCH_TIMEOUT' }]);
    expect(callLog(h)).to.deep.equal(['Batch.DescribeJobs']);
    expect(h.sim.model.getJob(jobId)?.status).to.equal('RUNNING');
    h.sim.model.terminateJob(jobId, 'test cleanup');
  });

  it('acts on nothing in a queue not synced for three sync periods (or never), and acts once it is synced again', async () => {
    const { jobId } = h.sim.model.submitJob({ jobName: 'overdue', jobQueue: 'ft-kill', environment: TIMEOUT_ENV(60), plan: { runSeconds: 36_000 } });
    h.sim.model.advance(30_000);
    expect((await h.round()).status).to.equal('completed');
    h.sim.model.advance(60_000);
    // Due, and AWS would confirm it; but the queue's last successful sync is 91 s old (> 3 x 30 s).
    await h.db('job_queue_syncs').where({ job_queue: 'ft-kill' }).update({ last_synced_at: h.db.raw("now() - interval '91 seconds'") });
    h.sim.counters.reset();
    let r = await h.task<KillTimedOutResult>('killTimedOutJobs');
    expect(r).to.deep.include({ terminated: [], staleQueues: ['ft-kill'] });
    expect(callLog(h), 'not even described').to.deep.equal([]);

    // Never synced (no record, e.g. before the first round): left alone too.
    await h.db('job_queue_syncs').where({ job_queue: 'ft-kill' }).del();
    r = await h.task<KillTimedOutResult>('killTimedOutJobs');
    expect(r).to.deep.include({ terminated: [], staleQueues: ['ft-kill'] });
    expect(callLog(h)).to.deep.equal([]);
    expect(h.sim.model.getJob(jobId)?.status).to.equal('RUNNING');

    // Synced again: described, confirmed, then terminated — in that order.
    expect((await h.round()).status).to.equal('completed');
    h.sim.counters.reset();
    r = await h.task<KillTimedOutResult>('killTimedOutJobs');
    expect(r).to.deep.include({ terminated: [jobId], staleQueues: [], unconfirmed: [] });
    expect(callLog(h)).to.deep.equal(['Batch.DescribeJobs', 'Batch.TerminateJob']);
    expect((await getJob(h.db, jobId))!.termination_requested).to.equal(true);
    h.sim.model.advance(1_000);
    expect(h.sim.model.getJob(jobId)?.status).to.equal('FAILED');
  });

  it('describes 100 ids a call and terminates only what AWS confirms', async () => {
    const due: string[] = [];
    for (let i = 0; i < 150; i++) {
      due.push(h.sim.model.submitJob({ jobName: `due-${i}`, jobQueue: 'ft-kill', environment: TIMEOUT_ENV(60), plan: { runSeconds: 36_000 } }).jobId);
    }
    h.sim.model.advance(5_000);
    expect((await h.round()).status).to.equal('completed');
    h.sim.model.advance(60_000);
    // Ten of them AWS forgets (the mirror still has them).
    for (const id of due.slice(0, 10)) h.sim.model.forgetJob(id);
    h.sim.counters.reset();
    const r = await h.task<KillTimedOutResult>('killTimedOutJobs');
    expect(r.terminated.slice().sort()).to.deep.equal(due.slice(10).sort());
    expect(r.unconfirmed.map((u) => u.jobId).sort()).to.deep.equal(due.slice(0, 10).sort());
    expect(r.unconfirmed.every((u) => u.why === 'AWS does not know the job')).to.equal(true);
    const log = callLog(h);
    expect(log.filter((op) => op === 'Batch.DescribeJobs')).to.have.length(2);
    expect(log.filter((op) => op === 'Batch.TerminateJob')).to.have.length(140);
    expect(log.lastIndexOf('Batch.DescribeJobs'), 'every describe before the first terminate').to.be.lessThan(log.indexOf('Batch.TerminateJob'));
  });
});

describe('act only on fresh truth: the stuck-instance terminator', function () {
  this.timeout(180_000);
  let h: Harness;
  let n = 0;

  before(async () => {
    h = await startHarness({ config: { sync_period: 30, kill_stuck_jobs: true, stuck_starting_seconds: 600 } });
  });
  after(async () => h?.close());

  /** A queue of its own on `instances` 2-vCPU instances that stay, each job taking a whole one. */
  async function queueOf(instances: number): Promise<string> {
    const name = `ft-stuck-${++n}`;
    h.sim.model.createComputeEnvironment({ name: `${name}-ce`, instances, instanceVcpus: 2, minvCpus: instances * 2, maxvCpus: instances * 2 });
    h.sim.model.createJobQueue({ name, computeEnvironments: [`${name}-ce`] });
    await h.db('activated_job_queues').insert({ job_queue: name });
    return name;
  }

  /** Jobs that stay in STARTING (an image pull that hangs), one per instance, mirrored with their instances. */
  async function stuckJobs(queue: string, count: number, plan: { startingSeconds: number; runSeconds?: number } = { startingSeconds: 100_000 }): Promise<string[]> {
    const ids = Array.from({ length: count }, (_, i) => h.sim.model.submitJob({ jobName: `stuck-${i}`, jobQueue: queue, vcpus: 2, plan: { runSeconds: 10, ...plan } }).jobId);
    for (let i = 0; i < 120 && ids.some((id) => h.sim.model.getJob(id)!.status !== 'STARTING'); i++) h.sim.model.advance(500);
    for (const id of ids) expect(h.sim.model.getJob(id)!.status, id).to.equal('STARTING');
    expect((await h.round()).status).to.equal('completed');
    await h.task('reconcileEcsInstances');
    for (const id of ids) expect(await getJob(h.db, id)).to.include({ status: 'STARTING' });
    return ids;
  }

  const instanceOf = (jobId: string) => h.sim.model.getJob(jobId)!.container!.containerInstanceArn!;
  const ec2Of = async (jobId: string) => (await getJob(h.db, jobId))!.instance_id!;
  const stateOf = (instanceId: string) => h.sim.model.instances.get(instanceId)!.state;

  it('terminates every stuck instance of a run, each confirmed by AWS first', async () => {
    const queue = await queueOf(3);
    const ids = await stuckJobs(queue, 3);
    const instances = await Promise.all(ids.map(ec2Of));
    expect(new Set(instances).size, 'one job per instance').to.equal(3);
    expect(new Set(ids.map(instanceOf)).size).to.equal(3);

    expect((await h.task<TerminatorResult>('terminateStuckInstances')).terminated, 'not stuck for long enough yet').to.deep.equal([]);
    h.sim.model.advance(601_000);
    expect((await h.round()).status).to.equal('completed');
    h.sim.counters.reset();
    const r = await h.task<TerminatorResult>('terminateStuckInstances');
    expect(r.terminated.slice().sort()).to.deep.equal(instances.slice().sort());
    expect(r).to.deep.include({ failed: [], overCap: [], unconfirmed: [], staleQueues: [] });
    expect(Object.fromEntries(Object.entries(r.jobIds).map(([i, j]) => [i, j]))).to.deep.equal(
      Object.fromEntries(instances.map((i, k) => [i, [ids[k]]])),
    );
    // Confirmed right before acting: the job (Batch), its task and the task's instance (ECS), then the terminations.
    expect(callLog(h)).to.deep.equal([
      'Batch.DescribeJobs',
      'ECS.DescribeTasks',
      'ECS.DescribeContainerInstances',
      'EC2.TerminateInstances',
      'EC2.TerminateInstances',
      'EC2.TerminateInstances',
    ]);
    for (const i of instances) expect(stateOf(i), i).to.equal('shutting-down');
  });

  it('terminates at most terminator_max_instances_per_run instances a run; the rest the next run', async () => {
    await h.stopWorkers();
    await h.startWorkers(1, { terminator_max_instances_per_run: 2 });
    try {
      const queue = await queueOf(3);
      const ids = await stuckJobs(queue, 3);
      const instances = await Promise.all(ids.map(ec2Of));
      h.sim.model.advance(601_000);
      expect((await h.round()).status).to.equal('completed');
      h.sim.counters.reset();
      const first = await h.task<TerminatorResult>('terminateStuckInstances');
      expect(first.terminated).to.have.length(2);
      expect(first.overCap).to.have.length(1);
      expect([...first.terminated, ...first.overCap].sort()).to.deep.equal(instances.slice().sort());
      expect(h.sim.counters.get()['EC2.TerminateInstances']).to.equal(2);
      expect(stateOf(first.overCap[0])).to.equal('running');

      const second = await h.task<TerminatorResult>('terminateStuckInstances');
      expect(second.terminated).to.deep.equal(first.overCap);
      expect(second.overCap).to.deep.equal([]);
      expect(h.sim.counters.get()['EC2.TerminateInstances']).to.equal(3);
    } finally {
      await h.stopWorkers();
      await h.startWorkers(1);
    }
  });

  it('leaves the instance alone when AWS says the job is no longer STARTING', async () => {
    const queue = await queueOf(1);
    const [jobId] = await stuckJobs(queue, 1, { startingSeconds: 650, runSeconds: 36_000 });
    const instance = await ec2Of(jobId);
    h.sim.model.advance(700_000); // AWS: RUNNING now; the mirror still says STARTING (no sync since)
    expect(h.sim.model.getJob(jobId)!.status).to.equal('RUNNING');
    expect(await getJob(h.db, jobId)).to.include({ status: 'STARTING' });
    h.sim.counters.reset();
    const r = await h.task<TerminatorResult>('terminateStuckInstances');
    expect(r.terminated).to.deep.equal([]);
    expect(r.unconfirmed).to.deep.equal([{ jobId, why: 'AWS says RUNNING' }]);
    expect(callLog(h)).to.deep.equal(['Batch.DescribeJobs']);
    expect(stateOf(instance)).to.equal('running');
    h.sim.model.terminateJob(jobId, 'test cleanup');
  });

  it('leaves the instance alone when ECS says the job has been starting for less than stuck_starting_seconds', async () => {
    // One instance, busy: the second job waits RUNNABLE for 11 minutes (created long ago), then starts.
    const queue = await queueOf(1);
    const { jobId: busy } = h.sim.model.submitJob({ jobName: 'busy', jobQueue: queue, vcpus: 2, plan: { runSeconds: 36_000 } });
    h.sim.model.advance(30_000);
    const { jobId: late } = h.sim.model.submitJob({ jobName: 'late', jobQueue: queue, vcpus: 2, plan: { startingSeconds: 100_000, runSeconds: 10 } });
    h.sim.model.advance(660_000);
    expect(h.sim.model.getJob(late)!.status).to.equal('RUNNABLE');
    h.sim.model.terminateJob(busy, 'make room');
    for (let i = 0; i < 120 && h.sim.model.getJob(late)!.status !== 'STARTING'; i++) h.sim.model.advance(500);
    expect(h.sim.model.getJob(late)!.status).to.equal('STARTING');
    expect((await h.round()).status).to.equal('completed');
    await h.task('reconcileEcsInstances');
    const instance = await ec2Of(late);
    h.sim.counters.reset();
    const r = await h.task<TerminatorResult>('terminateStuckInstances');
    expect(r.terminated).to.deep.equal([]);
    expect(r.unconfirmed).to.deep.equal([{ jobId: late, why: 'ECS says its task started less than stuck_starting_seconds ago' }]);
    expect(callLog(h)).to.deep.equal(['Batch.DescribeJobs', 'ECS.DescribeTasks', 'ECS.DescribeContainerInstances']);
    expect(stateOf(instance)).to.equal('running');
    h.sim.model.terminateJob(late, 'test cleanup');
  });

  it('acts on nothing in a queue not synced for three sync periods', async () => {
    const queue = await queueOf(1);
    const [jobId] = await stuckJobs(queue, 1);
    const instance = await ec2Of(jobId);
    h.sim.model.advance(601_000);
    expect((await h.round()).status).to.equal('completed');
    await h.db('job_queue_syncs').where({ job_queue: queue }).update({ last_synced_at: h.db.raw("now() - interval '91 seconds'") });
    h.sim.counters.reset();
    const r = await h.task<TerminatorResult>('terminateStuckInstances');
    expect(r).to.deep.include({ terminated: [], staleQueues: [queue] });
    expect(callLog(h)).to.deep.equal([]);
    expect(stateOf(instance)).to.equal('running');
    // Synced again: acted on.
    expect((await h.round()).status).to.equal('completed');
    expect((await h.task<TerminatorResult>('terminateStuckInstances')).terminated).to.deep.equal([instance]);
  });
});
