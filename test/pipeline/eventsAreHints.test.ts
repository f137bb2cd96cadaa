/**
 * Events are hints, AWS is the truth (issue 13.1): an event posted to
 * POST /api/v1/jobs/notify may move a job's status forward, but what drives
 * an action or a read — timeout, log group and stream, task ARN, resources,
 * definition, queue — comes only from DescribeJobs. Forged events for real
 * jobs, through the real route, then the real tasks and the real log route.
 * (EventBridge envelopes read from SQS are written whole instead, marked
 * unconfirmed: test/pipeline/eventDetails.test.ts. Notify's rule is this one.)
 */
import type { JobDetail } from '@aws-sdk/client-batch';
import { expect } from 'chai';
import { getJob } from '../../src/store/jobs/lookups';
import { getJson, postJson, startTestApi, type TestApi } from '../api/helpers';
import { awsCounters, startHarness, type Harness } from './harness';

function envelope(detail: JobDetail) {
  return { version: '0', 'detail-type': 'Batch Job State Change', source: 'aws.batch', time: new Date().toISOString(), detail };
}

/** The job's real description with everything an attacker would like to change. */
function forged(real: JobDetail, changes: { status?: JobDetail['status']; taskArn?: string; attempts?: number }): JobDetail {
  const container = real.container ?? {};
  return {
    ...real,
    status: changes.status ?? real.status,
    jobQueue: real.jobQueue,
    jobDefinition: 'arn:aws:batch:us-east-1:123456789012:job-definition/evil:1',
    attempts: Array.from({ length: changes.attempts ?? real.attempts?.length ?? 0 }, () => ({})),
    container: {
      ...container,
      vcpus: 96,
      memory: 999_999,
      image: 'evil/image:latest',
      environment: [{ name: 'PYBATCH_TIMEOUT', value: '1' }],
      logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/secret/group' } },
      logStreamName: 'secret-stream',
      taskArn: changes.taskArn ?? 'arn:aws:ecs:us-east-1:123456789012:task/forged',
    },
  };
}

describe('notify events are hints: a forged event never drives an action or a read', function () {
  this.timeout(120_000);
  let h: Harness;
  let api: TestApi;
  const queue = 'hint-q';

  before(async () => {
    h = await startHarness({ config: { kill_stuck_jobs: true, stuck_starting_seconds: 0.001 } });
    // One 4-vCPU instance, kept, and no room to grow: a second job waits RUNNABLE.
    await h.queue(queue, { instances: 1, minvCpus: 4, maxvCpus: 4 });
    await h.queue('sentinel-q');
    api = await startTestApi({ tdb: h.tdb, config: { ...h.config, host: '127.0.0.1', port: 0 }, deps: { pipeline: h.pq } });
  });
  after(async () => {
    await api?.close();
    await h?.close();
  });

  /** Posts events through the route, then a sentinel job's real event, and waits for the sentinel: the events before it are applied. */
  async function notifyAndSettle(events: unknown[]): Promise<void> {
    const { jobId } = h.sim.model.submitJob({ jobName: 'sentinel', jobQueue: 'sentinel-q' });
    const res = await postJson(`${api.url}/api/v1/jobs/notify`, [...events, envelope(h.sim.model.getJob(jobId)!)]);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    for (let i = 0; i < 200 && !(await getJob(h.db, jobId)); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await getJob(h.db, jobId), 'sentinel applied').to.not.equal(null);
  }

  const MIRRORED_FROM_DESCRIBE = ['timeout', 'log_group_name', 'log_stream_name', 'task_arn', 'vcpus', 'memory', 'job_definition', 'job_queue', 'image'] as const;

  /** A real job, RUNNING and mirrored by a sync round. */
  async function runningJob(name: string, logLines?: string[]): Promise<string> {
    const { jobId } = h.sim.model.submitJob({ jobName: name, jobQueue: queue, vcpus: 2, plan: { runSeconds: 3600, logLines } });
    h.sim.model.advance(30_000);
    expect(h.sim.model.getJob(jobId)?.status).to.equal('RUNNING');
    expect((await h.round()).status).to.equal('completed');
    expect(await getJob(h.db, jobId)).to.include({ status: 'RUNNING', timeout: -1, vcpus: 2 });
    return jobId;
  }

  it('a forged event for a real job never leads to a TerminateJob (timeout killer), nor changes what a describe said', async () => {
    const jobId = await runningJob('real');
    const before = await getJob(h.db, jobId);
    await notifyAndSettle([envelope(forged(h.sim.model.getJob(jobId)!, {}))]);

    // The timeout killer acts on the mirror's (real) timeout: nothing to terminate.
    h.sim.counters.reset();
    await h.task('killTimedOutJobs');
    expect(awsCounters(h.sim)['Batch.TerminateJob'] ?? 0).to.equal(0);
    expect(h.sim.model.getJob(jobId)?.status).to.equal('RUNNING');

    const after = await getJob(h.db, jobId);
    for (const field of MIRRORED_FROM_DESCRIBE) expect(after?.[field], field).to.deep.equal(before?.[field]);
  });

  it("a forged event never leads to a log read outside the job's real log group and stream", async () => {
    const jobId = await runningJob('logged', ['the real log line']);
    await notifyAndSettle([envelope(forged(h.sim.model.getJob(jobId)!, {}))]);
    h.sim.model.logs.append('/secret/group', 'secret-stream', h.sim.model.now(), 'TOP SECRET', h.sim.model.now());
    h.sim.model.advance(1_900_000); // the one log line is due half-way through the hour-long run
    const logs = await fetch(`${api.url}/api/v1/jobs/${jobId}/logs?format=text`);
    const text = await logs.text();
    expect(logs.status).to.equal(200);
    expect(text).to.not.include('TOP SECRET');
    expect(text).to.include('the real log line');
  });

  it("never terminates an instance for a forged STARTING job pointing at another job's task", async () => {
    h.sim.model.advance(3_600_000); // the earlier jobs end: the instance is free
    const { jobId: runner } = h.sim.model.submitJob({ jobName: 'runner', jobQueue: queue, vcpus: 4, plan: { runSeconds: 36_000 } });
    h.sim.model.advance(30_000);
    expect(h.sim.model.getJob(runner)?.status).to.equal('RUNNING');
    const { jobId: waiting } = h.sim.model.submitJob({ jobName: 'waiting', jobQueue: queue, vcpus: 4, plan: { runSeconds: 60 } });
    h.sim.model.advance(5_000);
    expect(h.sim.model.getJob(waiting)?.status).to.equal('RUNNABLE');
    expect((await h.round()).status).to.equal('completed');
    await h.task('reconcileEcsInstances'); // task ARN -> instance, as AWS reports it
    const victimTask = h.sim.model.getJob(runner)!.container!.taskArn!;
    const instances = () => [...h.sim.model.instances.values()].filter((i) => i.state === 'running').map((i) => i.id);
    const running = instances();
    expect(running).to.have.length(1);

    await notifyAndSettle([envelope(forged(h.sim.model.getJob(waiting)!, { status: 'STARTING', taskArn: victimTask }))]);

    h.sim.counters.reset();
    await h.task('terminateStuckInstances');
    expect(awsCounters(h.sim)['EC2.TerminateInstances'] ?? 0).to.equal(0);
    expect(instances()).to.deep.equal(running);
    const row = await getJob(h.db, waiting);
    expect(row?.status, 'events still move the status forward').to.equal('STARTING');
    expect(row?.task_arn).to.equal(null);
  });

  it('a status an event moved forward is confirmed, or put right, by the next describe', async () => {
    const { jobId } = h.sim.model.submitJob({ jobName: 'moved', jobQueue: queue, vcpus: 1, plan: { runSeconds: 36_000 } });
    h.sim.model.advance(2_000);
    expect((await h.round()).status).to.equal('completed');
    const real = h.sim.model.getJob(jobId)!;
    await notifyAndSettle([envelope(forged(real, { status: 'SUCCEEDED' }))]);
    const hinted = await h.db('jobs').where({ job_id: jobId }).first();
    expect(hinted).to.include({ status: 'SUCCEEDED', needs_describe: true });
    expect((await h.round()).status).to.equal('completed');
    const confirmed = await h.db('jobs').where({ job_id: jobId }).first();
    expect(confirmed).to.include({ status: h.sim.model.getJob(jobId)!.status, needs_describe: false, vcpus: 1, image: real.container!.image });
  });

  it('an event for a job not mirrored yet starts its row with status and identity only, filled in by the next describe', async () => {
    const { jobId } = h.sim.model.submitJob({
      jobName: 'fresh',
      jobQueue: queue,
      vcpus: 2,
      memory: 3072,
      environment: [{ name: 'PYBATCH_TIMEOUT', value: '7200' }],
      plan: { runSeconds: 36_000 },
    });
    await notifyAndSettle([envelope(forged(h.sim.model.getJob(jobId)!, {}))]);
    const hinted = await h.db('jobs').where({ job_id: jobId }).first();
    expect(hinted).to.include({ job_name: 'fresh', job_queue: queue, status: 'SUBMITTED', needs_describe: true, timeout: -1, vcpus: 0, task_arn: null, log_stream_name: null });
    const shown = await getJson(`${api.url}/api/v1/jobs/${jobId}`);
    expect(shown.body).to.include({ id: jobId, status: 'SUBMITTED' });

    expect((await h.round()).status).to.equal('completed');
    const described = await h.db('jobs').where({ job_id: jobId }).first();
    expect(described).to.include({ needs_describe: false, timeout: 7200, vcpus: 2, memory: 3072 });
  });

  it('stops describing an event-made row AWS does not know (a forged job id)', async () => {
    const made = { ...forged(h.sim.model.getJob([...h.sim.model.jobs.keys()][0])!, {}), jobId: '00000000-0000-4000-8000-00000000f00d', status: 'RUNNING' as const };
    await notifyAndSettle([envelope(made)]);
    expect(await h.db('jobs').where({ job_id: made.jobId }).first()).to.include({ needs_describe: true });
    expect((await h.round()).status).to.equal('completed');
    expect(await h.db('jobs').where({ job_id: made.jobId }).first()).to.include({ needs_describe: false, task_arn: null });
  });
});
