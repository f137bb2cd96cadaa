import {
  CancelJobCommand,
  DescribeComputeEnvironmentsCommand,
  DescribeJobQueuesCommand,
  DescribeJobsCommand,
  type JobDetail,
  type JobSummary,
  ListJobsCommand,
  type ListJobsCommandInput,
  SubmitJobCommand,
  TerminateJobCommand,
  UpdateComputeEnvironmentCommand,
} from '@aws-sdk/client-batch';
import { expect } from 'chai';
import { type TestSim, basicInfra, errorOf, rawPost, startTestSim } from './helpers';

async function listAll(t: TestSim, input: ListJobsCommandInput): Promise<{ jobs: JobSummary[]; pages: number[] }> {
  const jobs: JobSummary[] = [];
  const pages: number[] = [];
  let nextToken: string | undefined = input.nextToken;
  do {
    const out = await t.aws.batch.send(new ListJobsCommand({ ...input, nextToken }));
    jobs.push(...(out.jobSummaryList ?? []));
    pages.push(out.jobSummaryList?.length ?? 0);
    nextToken = out.nextToken;
  } while (nextToken);
  return { jobs, pages };
}

describe('simulator: Batch (REST-JSON) through @aws-sdk/client-batch', () => {
  let t: TestSim;
  let queue: string;

  beforeEach(async () => {
    t = await startTestSim();
    ({ queue } = basicInfra(t.sim));
  });
  afterEach(async () => t.close());

  it('moves a submitted job SUBMITTED → … → SUCCEEDED on the clock, visible through ListJobs and DescribeJobs', async () => {
    const { jobId } = await t.aws.batch.send(new SubmitJobCommand({ jobName: 'hello', jobQueue: queue, jobDefinition: 'hello:3' }));
    const statusOf = async () => (await t.aws.batch.send(new DescribeJobsCommand({ jobs: [jobId as string] }))).jobs?.[0];
    expect((await statusOf())?.status).to.equal('SUBMITTED');
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) {
      t.sim.model.advance(1000);
      const d = await statusOf();
      seen.add(d?.status as string);
      if (d?.status === 'RUNNING') {
        expect(d.container?.taskArn).to.match(/^arn:aws:ecs:.*:task\//);
        expect(d.container?.containerInstanceArn).to.match(/container-instance/);
        expect(d.container?.logStreamName).to.match(/^hello\/default\/[0-9a-f]{32}$/);
        const running = await t.aws.batch.send(new ListJobsCommand({ jobQueue: queue }));
        expect(running.jobSummaryList?.map((j) => j.jobId)).to.deep.equal([jobId]);
      }
    }
    expect([...seen]).to.include.members(['PENDING', 'RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED']);
    const done = await statusOf();
    expect(done?.status).to.equal('SUCCEEDED');
    expect(done?.attempts).to.have.length(1);
    expect(done?.container?.exitCode).to.equal(0);
    expect(done?.jobDefinition).to.match(/job-definition\/hello:3$/);
    expect(done?.createdAt).to.be.a('number');
    expect(done?.stoppedAt).to.be.greaterThan(done?.startedAt as number);
    const listed = await t.aws.batch.send(new ListJobsCommand({ jobQueue: queue, jobStatus: 'SUCCEEDED' }));
    expect(listed.jobSummaryList?.[0]).to.include({ jobId, status: 'SUCCEEDED', jobName: 'hello' });
    expect(listed.jobSummaryList?.[0].container?.exitCode).to.equal(0);
  });

  it('pages ListJobs by status to the end (1000 a page), newest first, and rejects maxResults above 1000', async () => {
    t.sim.model.bulkLoad({ queue, finished: 2600, active: 0 });
    const counts = t.sim.model.statusCounts(queue);
    const { jobs, pages } = await listAll(t, { jobQueue: queue, jobStatus: 'SUCCEEDED' });
    expect(pages[0]).to.equal(1000);
    expect(jobs).to.have.length(counts.SUCCEEDED);
    expect(new Set(jobs.map((j) => j.jobId)).size).to.equal(jobs.length);
    const created = jobs.map((j) => j.createdAt as number);
    expect(created).to.deep.equal([...created].sort((a, b) => b - a));
    const small = await listAll(t, { jobQueue: queue, jobStatus: 'FAILED', maxResults: 100 });
    expect(small.jobs).to.have.length(counts.FAILED);
    expect(small.pages.length).to.equal(Math.ceil(counts.FAILED / 100));
    const err = await errorOf(t.aws.batch.send(new ListJobsCommand({ jobQueue: queue, jobStatus: 'SUCCEEDED', maxResults: 1001 })));
    expect(err).to.include({ name: 'ClientException', status: 400 });
  });

  it('keeps paging consistent while jobs change status between pages', async () => {
    t.sim.model.bulkLoad({ queue, finished: 1500, active: 0 });
    for (let i = 0; i < 30; i++) t.sim.model.submitJob({ jobName: `late-${i}`, jobQueue: queue, plan: { runSeconds: 5 } });
    const first = await t.aws.batch.send(new ListJobsCommand({ jobQueue: queue, jobStatus: 'SUCCEEDED', maxResults: 500 }));
    t.sim.model.advance(120_000); // the late jobs finish: they join SUCCEEDED ahead of the cursor
    const rest = await listAll(t, { jobQueue: queue, jobStatus: 'SUCCEEDED', nextToken: first.nextToken });
    const ids = [...(first.jobSummaryList ?? []), ...rest.jobs].map((j) => j.jobId);
    expect(new Set(ids).size).to.equal(ids.length);
    expect(ids.length).to.equal(t.sim.model.statusCounts(queue).SUCCEEDED - 30);
  });

  it('applies the ListJobs filters (status ignored, 100 a page) and allows only one', async () => {
    const model = t.sim.model;
    const ids: string[] = [];
    for (let i = 0; i < 130; i++) {
      ids.push(model.submitJob({ jobName: `Nightly-${i}`, jobQueue: queue, jobDefinition: i % 2 ? 'nightly:2' : 'nightly:1' }).jobId);
      model.advance(1000);
    }
    model.submitJob({ jobName: 'other', jobQueue: queue, jobDefinition: 'other:1' });
    const byPrefix = await listAll(t, { jobQueue: queue, filters: [{ name: 'JOB_NAME', values: ['nightly-*'] }] });
    expect(byPrefix.pages[0]).to.equal(100);
    expect(byPrefix.jobs).to.have.length(130);
    expect(new Set(byPrefix.jobs.map((j) => j.status)).size).to.be.greaterThan(1);
    const exact = await listAll(t, { jobQueue: queue, filters: [{ name: 'JOB_NAME', values: ['NIGHTLY-7'] }] });
    expect(exact.jobs.map((j) => j.jobId)).to.deep.equal([ids[7]]);
    const createdOf7 = (await t.aws.batch.send(new DescribeJobsCommand({ jobs: [ids[7]] }))).jobs?.[0].createdAt as number;
    const after = await listAll(t, { jobQueue: queue, filters: [{ name: 'AFTER_CREATED_AT', values: [String(createdOf7)] }] });
    expect(after.jobs).to.have.length(123); // Nightly-8..129 and "other"
    const before = await listAll(t, { jobQueue: queue, filters: [{ name: 'BEFORE_CREATED_AT', values: [String(createdOf7)] }] });
    expect(before.jobs.map((j) => j.jobName).sort()).to.deep.equal([0, 1, 2, 3, 4, 5, 6].map((i) => `Nightly-${i}`));
    const rev2 = await listAll(t, { jobQueue: queue, filters: [{ name: 'JOB_DEFINITION', values: ['nightly:2'] }] });
    expect(rev2.jobs).to.have.length(65);
    const anyRev = await listAll(t, { jobQueue: queue, filters: [{ name: 'JOB_DEFINITION', values: ['nightly'] }] });
    expect(anyRev.jobs).to.have.length(130);
    const byArn = await listAll(t, { jobQueue: queue, filters: [{ name: 'JOB_DEFINITION', values: ['arn:aws:batch:us-east-1:123456789012:job-definition/nightly:1'] }] });
    expect(byArn.jobs).to.have.length(65);
    const byPrefixDef = await listAll(t, { jobQueue: queue, filters: [{ name: 'JOB_DEFINITION', values: ['oth*'] }] });
    expect(byPrefixDef.jobs.map((j) => j.jobName)).to.deep.equal(['other']);
    const two = await errorOf(
      t.aws.batch.send(new ListJobsCommand({ jobQueue: queue, filters: [{ name: 'JOB_NAME', values: ['a'] }, { name: 'JOB_DEFINITION', values: ['b'] }] })),
    );
    expect(two.name).to.equal('ClientException');
    const bad = await errorOf(t.aws.batch.send(new ListJobsCommand({ jobQueue: queue, filters: [{ name: 'AFTER_CREATED_AT', values: ['yesterday'] }] })));
    expect(bad.name).to.equal('ClientException');
  });

  it('answers DescribeJobs with more than 100 ids with a ClientException, and skips unknown ids', async () => {
    const err = await errorOf(t.aws.batch.send(new DescribeJobsCommand({ jobs: Array.from({ length: 101 }, (_, i) => `id-${i}`) })));
    expect(err).to.include({ name: 'ClientException', status: 400 });
    const out = await t.aws.batch.send(new DescribeJobsCommand({ jobs: ['nope'] }));
    expect(out.jobs).to.deep.equal([]);
  });

  it('runs array jobs: children parent:index listed by arrayJobId, parent statusSummary, failure of a child fails the parent', async () => {
    const { jobId } = t.sim.model.submitJob({ jobName: 'arr', jobQueue: queue, arraySize: 5, plan: { runSeconds: 10, failChildren: [3] } });
    expect((await listAll(t, { arrayJobId: jobId, jobStatus: 'PENDING' })).jobs).to.deep.equal([]);
    t.sim.model.advance(1500); // spawned: children appear in PENDING, the parent is still SUBMITTED
    const spawned = await listAll(t, { arrayJobId: jobId, jobStatus: 'PENDING' });
    expect(spawned.jobs).to.have.length(5);
    expect(spawned.jobs[0].createdAt).to.be.greaterThan(t.sim.model.getJob(jobId)?.createdAt as number);
    expect(t.sim.model.getJob(jobId)?.status).to.equal('SUBMITTED');
    t.sim.model.advance(1500);
    const children = await listAll(t, { arrayJobId: jobId, jobStatus: 'RUNNABLE' });
    expect(t.sim.model.getJob(jobId)?.status).to.equal('PENDING');
    expect(children.jobs.map((j) => j.jobId)).to.deep.equal([0, 1, 2, 3, 4].map((i) => `${jobId}:${i}`));
    expect(children.jobs[2].arrayProperties).to.deep.include({ index: 2 });
    const parentSummary = (await t.aws.batch.send(new ListJobsCommand({ jobQueue: queue, jobStatus: 'PENDING' }))).jobSummaryList;
    expect(parentSummary?.map((j) => j.jobId)).to.deep.equal([jobId]);
    expect(parentSummary?.[0].arrayProperties?.size).to.equal(5);
    t.sim.model.advance(60_000);
    const parent = (await t.aws.batch.send(new DescribeJobsCommand({ jobs: [jobId] }))).jobs?.[0];
    expect(parent?.status).to.equal('FAILED');
    expect(parent?.arrayProperties?.statusSummary).to.deep.include({ SUCCEEDED: 4, FAILED: 1 });
    const failed = await listAll(t, { arrayJobId: jobId, jobStatus: 'FAILED' });
    expect(failed.jobs.map((j) => j.jobId)).to.deep.equal([`${jobId}:3`]);
    const child = (await t.aws.batch.send(new DescribeJobsCommand({ jobs: [`${jobId}:3`] }))).jobs?.[0];
    expect(child?.arrayProperties?.index).to.equal(3);
    expect(child?.container?.exitCode).to.equal(1);
  });

  it('describes Fargate jobs with resourceRequirements and no container instance', async () => {
    basicInfra(t.sim, { queue: 'q-fargate', ce: 'ce-fargate', fargate: true });
    const { jobId } = t.sim.model.submitJob({
      jobName: 'tiny',
      jobQueue: 'q-fargate',
      resourceRequirements: [
        { type: 'VCPU', value: '0.25' },
        { type: 'MEMORY', value: '512' },
      ],
    });
    t.sim.model.advance(10_000);
    const d = (await t.aws.batch.send(new DescribeJobsCommand({ jobs: [jobId] }))).jobs?.[0];
    expect(d?.status).to.equal('RUNNING');
    expect(d?.platformCapabilities).to.deep.equal(['FARGATE']);
    expect(d?.container?.resourceRequirements).to.deep.equal([
      { type: 'VCPU', value: '0.25' },
      { type: 'MEMORY', value: '512' },
    ]);
    expect(d?.container?.vcpus).to.equal(undefined);
    expect(d?.container?.taskArn).to.match(/:task\//);
    expect(d?.container?.containerInstanceArn).to.equal(undefined);
  });

  it('describes multi-node jobs without a container and lists their nodes by multiNodeJobId', async () => {
    const { jobId } = t.sim.model.submitJob({ jobName: 'mpi', jobQueue: queue, multiNode: true, numNodes: 3 });
    const d = (await t.aws.batch.send(new DescribeJobsCommand({ jobs: [jobId] }))).jobs?.[0];
    expect(d?.container).to.equal(undefined);
    expect(d?.nodeProperties).to.deep.include({ numNodes: 3, mainNode: 0 });
    const nodes = await listAll(t, { multiNodeJobId: jobId, jobStatus: 'SUBMITTED' });
    expect(nodes.jobs.map((j) => j.jobId)).to.deep.equal([`${jobId}#0`, `${jobId}#1`, `${jobId}#2`]);
    expect(nodes.jobs[0].nodeProperties).to.deep.include({ isMainNode: true, nodeIndex: 0, numNodes: 3 });
    const node = (await t.aws.batch.send(new DescribeJobsCommand({ jobs: [`${jobId}#1`] }))).jobs?.[0];
    expect(node?.nodeDetails).to.deep.include({ nodeIndex: 1, isMainNode: false });
  });

  it('retries failed attempts (one attempts entry per try) and reports the failure reason', async () => {
    const { jobId } = t.sim.model.submitJob({ jobName: 'flaky', jobQueue: queue, retryAttempts: 3, plan: { outcome: 'FAILED', exitCode: 3, reason: 'boom', runSeconds: 5 } });
    t.sim.model.advance(120_000);
    const d = (await t.aws.batch.send(new DescribeJobsCommand({ jobs: [jobId] }))).jobs?.[0];
    expect(d?.status).to.equal('FAILED');
    expect(d?.attempts).to.have.length(3);
    expect(d?.attempts?.map((a) => a.container?.exitCode)).to.deep.equal([3, 3, 3]);
    expect(new Set(d?.attempts?.map((a) => a.container?.taskArn)).size).to.equal(3);
    expect(d?.statusReason).to.equal('boom');
    const { jobId: second } = t.sim.model.submitJob({ jobName: 'flaky-once', jobQueue: queue, retryAttempts: 2, plan: { failAttempts: 1, runSeconds: 5 } });
    t.sim.model.advance(120_000);
    const s = (await t.aws.batch.send(new DescribeJobsCommand({ jobs: [second] }))).jobs?.[0];
    expect(s?.status).to.equal('SUCCEEDED');
    expect(s?.attempts?.map((a) => a.container?.exitCode)).to.deep.equal([1, 0]);
  });

  it('ends an attempt that outlives its job definition timeout (attemptDurationSeconds), retrying while attempts remain', async () => {
    const { jobId } = await t.aws.batch.send(
      new SubmitJobCommand({
        jobName: 'slowpoke',
        jobQueue: queue,
        jobDefinition: 'slow:1',
        timeout: { attemptDurationSeconds: 60 },
        retryStrategy: { attempts: 2 },
        containerOverrides: { environment: [{ name: 'SIM_RUN_SECONDS', value: '600' }] },
      }),
    );
    t.sim.model.advance(300_000);
    const d = (await t.aws.batch.send(new DescribeJobsCommand({ jobs: [jobId as string] }))).jobs?.[0];
    expect(d?.status).to.equal('FAILED');
    expect(d?.statusReason).to.equal('Job attempt duration exceeded timeout');
    expect(d?.timeout?.attemptDurationSeconds).to.equal(60);
    expect(d?.attempts).to.have.length(2);
    expect(d?.attempts?.map((a) => (a.stoppedAt as number) - (a.startedAt as number))).to.deep.equal([60_000, 60_000]);
    expect(d?.container?.exitCode).to.equal(137);
  });

  it('holds a job in PENDING until its dependencies succeed, and fails it when one fails (dependsOn)', async () => {
    const first = t.sim.model.submitJob({ jobName: 'first', jobQueue: queue, plan: { runSeconds: 60 } }).jobId;
    const broken = t.sim.model.submitJob({ jobName: 'broken', jobQueue: queue, plan: { runSeconds: 10, outcome: 'FAILED' } }).jobId;
    const { jobId: second } = await t.aws.batch.send(new SubmitJobCommand({ jobName: 'second', jobQueue: queue, jobDefinition: 'd:1', dependsOn: [{ jobId: first }] }));
    const orphan = t.sim.model.submitJob({ jobName: 'orphan', jobQueue: queue, dependsOn: [broken] }).jobId;
    t.sim.model.advance(40_000);
    expect(t.sim.model.getJob(first)?.status).to.equal('RUNNING');
    const waiting = (await t.aws.batch.send(new DescribeJobsCommand({ jobs: [second as string] }))).jobs?.[0];
    expect(waiting?.status).to.equal('PENDING');
    expect(waiting?.dependsOn).to.deep.equal([{ jobId: first }]);
    expect(t.sim.model.getJob(orphan)).to.deep.include({ status: 'FAILED', statusReason: 'Dependent Job failed' });
    t.sim.model.advance(120_000);
    expect(t.sim.model.getJob(first)?.status).to.equal('SUCCEEDED');
    const done = t.sim.model.getJob(second as string);
    expect(done?.status).to.equal('SUCCEEDED');
    expect(done?.startedAt).to.be.greaterThan(t.sim.model.getJob(first)?.stoppedAt as number);
    const missing = await errorOf(t.aws.batch.send(new SubmitJobCommand({ jobName: 'x', jobQueue: queue, jobDefinition: 'd:1', dependsOn: [{ jobId: 'nope' }] })));
    expect(missing.name).to.equal('ClientException');
  });

  it('TerminateJob kills a running job (FAILED, exit 137, reason from the request) and fails a waiting one', async () => {
    const { jobId } = t.sim.model.submitJob({ jobName: 'long', jobQueue: queue, plan: { runSeconds: 3600 } });
    t.sim.model.advance(20_000);
    expect(t.sim.model.getJob(jobId)?.status).to.equal('RUNNING');
    await t.aws.batch.send(new TerminateJobCommand({ jobId, reason: 'Terminated by batchiepatchie' }));
    const d = (await t.aws.batch.send(new DescribeJobsCommand({ jobs: [jobId] }))).jobs?.[0];
    expect(d?.status).to.equal('FAILED');
    expect(d?.statusReason).to.equal('Terminated by batchiepatchie');
    expect(d?.container?.exitCode).to.equal(137);
    const waiting = t.sim.model.submitJob({ jobName: 'waiting', jobQueue: queue }).jobId;
    await t.aws.batch.send(new TerminateJobCommand({ jobId: waiting, reason: 'not needed' }));
    const w = t.sim.model.getJob(waiting);
    expect(w?.status).to.equal('FAILED');
    expect(w?.statusReason).to.equal('not needed');
    expect(w?.container?.exitCode).to.equal(undefined);
  });

  it('forgets finished jobs after the retention time', async () => {
    await t.close();
    t = await startTestSim({ retentionSeconds: 600 });
    ({ queue } = basicInfra(t.sim));
    const { jobId } = t.sim.model.submitJob({ jobName: 'short', jobQueue: queue, plan: { runSeconds: 5 } });
    t.sim.model.advance(60_000);
    expect((await t.aws.batch.send(new DescribeJobsCommand({ jobs: [jobId] }))).jobs).to.have.length(1);
    t.sim.model.advance(600_000);
    expect((await t.aws.batch.send(new DescribeJobsCommand({ jobs: [jobId] }))).jobs).to.have.length(0);
    expect((await t.aws.batch.send(new ListJobsCommand({ jobQueue: queue, jobStatus: 'SUCCEEDED' }))).jobSummaryList).to.have.length(0);
    const { jobId: arr } = t.sim.model.submitJob({ jobName: 'arr', jobQueue: queue, arraySize: 2, plan: { runSeconds: 5 } });
    t.sim.model.advance(60_000);
    expect(t.sim.model.getJob(`${arr}:1`)?.status).to.equal('SUCCEEDED');
    t.sim.model.advance(600_000);
    expect(t.sim.model.getJob(arr)).to.equal(undefined);
    expect(t.sim.model.getJob(`${arr}:1`)).to.equal(undefined); // children go with their parent
    const other = t.sim.model.submitJob({ jobName: 'forget-me', jobQueue: queue }).jobId;
    expect(t.sim.model.forgetJob(other)).to.equal(true);
    expect(t.sim.model.getJob(other)).to.equal(undefined);
  });

  it('describes job queues and compute environments with pagination, and UpdateComputeEnvironment changes them', async () => {
    for (let i = 0; i < 4; i++) {
      t.sim.model.createComputeEnvironment({ name: `ce-${i}` });
      t.sim.model.createJobQueue({ name: `q-${i}`, computeEnvironments: [`ce-${i}`] });
    }
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const out = await t.aws.batch.send(new DescribeComputeEnvironmentsCommand({ maxResults: 2, nextToken }));
      names.push(...(out.computeEnvironments ?? []).map((c) => c.computeEnvironmentName as string));
      nextToken = out.nextToken;
    } while (nextToken);
    expect(names.sort()).to.deep.equal(['ce-0', 'ce-1', 'ce-2', 'ce-3', 'ce-main']);
    const queues = await t.aws.batch.send(new DescribeJobQueuesCommand({ jobQueues: ['q-2'] }));
    expect(queues.jobQueues?.[0].computeEnvironmentOrder?.[0].computeEnvironment).to.match(/compute-environment\/ce-2$/);
    const qPage = await t.aws.batch.send(new DescribeJobQueuesCommand({ maxResults: 3 }));
    expect(qPage.jobQueues).to.have.length(3);
    expect(qPage.nextToken).to.be.a('string');
    await t.aws.batch.send(new UpdateComputeEnvironmentCommand({ computeEnvironment: 'ce-1', computeResources: { minvCpus: 8, maxvCpus: 64, desiredvCpus: 16 } }));
    const ce = (await t.aws.batch.send(new DescribeComputeEnvironmentsCommand({ computeEnvironments: ['ce-1'] }))).computeEnvironments?.[0];
    expect(ce?.computeResources).to.deep.include({ minvCpus: 8, maxvCpus: 64, desiredvCpus: 16 });
    t.sim.model.advance(30_000);
    expect(t.sim.model.computeEnvironment('ce-1')?.computeResources?.desiredvCpus).to.equal(16);
    const err = await errorOf(t.aws.batch.send(new UpdateComputeEnvironmentCommand({ computeEnvironment: 'ce-1', computeResources: { minvCpus: 100 } })));
    expect(err.name).to.equal('ClientException');
    const missing = await errorOf(t.aws.batch.send(new UpdateComputeEnvironmentCommand({ computeEnvironment: 'nope', state: 'DISABLED' })));
    expect(missing.name).to.equal('ClientException');
  });

  it('SubmitJob over the wire: array size, retries, node count and the SIM_* steering variables; CancelJob spares running jobs', async () => {
    const arr = await t.aws.batch.send(new SubmitJobCommand({ jobName: 'wire-array', jobQueue: queue, jobDefinition: 'wire:2', arrayProperties: { size: 3 } }));
    const failing = await t.aws.batch.send(
      new SubmitJobCommand({
        jobName: 'wire-fail',
        jobQueue: queue,
        jobDefinition: 'wire:2',
        retryStrategy: { attempts: 2 },
        containerOverrides: {
          command: ['false'],
          environment: [
            { name: 'SIM_OUTCOME', value: 'FAILED' },
            { name: 'SIM_EXIT_CODE', value: '42' },
            { name: 'SIM_RUN_SECONDS', value: '5' },
            { name: 'KEEP', value: 'me' },
          ],
        },
      }),
    );
    const mnp = await t.aws.batch.send(new SubmitJobCommand({ jobName: 'wire-mnp', jobQueue: queue, jobDefinition: 'mpi:1', nodeOverrides: { numNodes: 4 } }));
    const cancelled = await t.aws.batch.send(new SubmitJobCommand({ jobName: 'wire-cancel', jobQueue: queue, jobDefinition: 'wire:2' }));
    await t.aws.batch.send(new CancelJobCommand({ jobId: cancelled.jobId, reason: 'changed my mind' }));
    const running = await t.aws.batch.send(new SubmitJobCommand({ jobName: 'wire-running', jobQueue: queue, jobDefinition: 'wire:2', containerOverrides: { environment: [{ name: 'SIM_RUN_SECONDS', value: '600' }] } }));
    t.sim.model.advance(20_000);
    await t.aws.batch.send(new CancelJobCommand({ jobId: running.jobId, reason: 'too late' }));
    t.sim.model.advance(100_000);
    const jobs = (await t.aws.batch.send(new DescribeJobsCommand({ jobs: [arr.jobId, failing.jobId, mnp.jobId, cancelled.jobId, running.jobId] as string[] }))).jobs ?? [];
    const byName: Record<string, JobDetail> = Object.fromEntries(jobs.map((j) => [j.jobName as string, j]));
    expect(byName['wire-array'].arrayProperties?.size).to.equal(3);
    expect(byName['wire-fail'].status).to.equal('FAILED');
    expect(byName['wire-fail'].attempts?.map((a) => a.container?.exitCode)).to.deep.equal([42, 42]);
    expect(byName['wire-fail'].container?.command).to.deep.equal(['false']);
    expect(byName['wire-fail'].container?.environment).to.deep.equal([{ name: 'KEEP', value: 'me' }]);
    expect(byName['wire-mnp'].nodeProperties?.numNodes).to.equal(4);
    expect(byName['wire-cancel']).to.deep.include({ status: 'FAILED', statusReason: 'changed my mind' });
    expect(byName['wire-running'].status).to.equal('RUNNING');
    const disabled = await errorOf(t.aws.batch.send(new SubmitJobCommand({ jobName: 'x', jobQueue: 'nope', jobDefinition: 'd' })));
    expect(disabled.name).to.equal('ClientException');
  });

  it('answers unknown operations and malformed bodies in the REST-JSON error shape', async () => {
    const unknown = await rawPost(t.sim.endpoint, '/v1/describejobdefinitionsx', '{}');
    expect(unknown.status).to.equal(404);
    expect(unknown.headers.get('x-amzn-errortype')).to.equal('UnknownOperationException');
    const bad = await rawPost(t.sim.endpoint, '/v1/listjobs', '{not json');
    expect(bad.status).to.equal(400);
    expect(JSON.parse(bad.text)).to.have.property('message');
    const wrongType = await rawPost(t.sim.endpoint, '/v1/describejobs', '{"jobs": "abc"}');
    expect(wrongType.status).to.equal(400);
    expect(wrongType.headers.get('x-amzn-errortype')).to.equal('ClientException');
  });
});
