import { DescribeJobsCommand, ListJobsCommand, type JobDetail } from '@aws-sdk/client-batch';
import { DescribeLogStreamsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { expect } from 'chai';
import { type TestSim, startTestSim } from './helpers';
import { DEMO_CHAIN, LONG_LOG_LINES } from '../src/scenarios';

async function describeAll(t: TestSim, queue: string): Promise<JobDetail[]> {
  const ids: string[] = [];
  for (const jobStatus of ['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const) {
    let nextToken: string | undefined;
    do {
      const out = await t.aws.batch.send(new ListJobsCommand({ jobQueue: queue, jobStatus, nextToken }));
      ids.push(...(out.jobSummaryList ?? []).map((j) => j.jobId as string));
      nextToken = out.nextToken;
    } while (nextToken);
  }
  const jobs: JobDetail[] = [];
  for (let i = 0; i < ids.length; i += 100) jobs.push(...((await t.aws.batch.send(new DescribeJobsCommand({ jobs: ids.slice(i, i + 100) }))).jobs ?? []));
  return jobs;
}

describe('simulator scenarios', () => {
  let t: TestSim | undefined;
  afterEach(async () => t?.close());

  it('demo: a steady trickle of varied jobs over several queues, with logs', async () => {
    t = await startTestSim({ scenario: 'demo', seed: 11 });
    for (let i = 0; i < 30; i++) t.sim.model.advance(60_000);
    const queues = t.sim.model.jobQueues().map((q) => q.jobQueueName);
    expect(queues).to.include.members(['etl-prod', 'ml-training', 'reports-fargate']);
    const jobs = (await Promise.all(['etl-prod', 'ml-training', 'reports-fargate'].map((q) => describeAll(t as TestSim, q)))).flat();
    expect(jobs.length).to.be.greaterThan(200);
    const statuses = new Set(jobs.map((j) => j.status));
    expect([...statuses]).to.include.members(['SUCCEEDED', 'FAILED', 'RUNNING']);
    expect(jobs.some((j) => j.arrayProperties?.size)).to.equal(true);
    expect(jobs.some((j) => j.platformCapabilities?.includes('FARGATE'))).to.equal(true);
    expect(jobs.some((j) => j.nodeProperties && !j.container)).to.equal(true);
    expect(jobs.some((j) => (j.attempts?.length ?? 0) > 1)).to.equal(true);
    expect(jobs.some((j) => (j.dependsOn?.length ?? 0) > 0)).to.equal(true);
    // The nightly chain: its last step waits on a job that waits on a job that waits on another.
    const byId = new Map(jobs.map((j) => [j.jobId, j]));
    const upstreamOf = (j: JobDetail | undefined) => byId.get(j?.dependsOn?.[0]?.jobId ?? '');
    const last = jobs.find((j) => j.jobName?.startsWith(`${DEMO_CHAIN[3]}-`) && j.dependsOn?.length);
    expect([upstreamOf(last), upstreamOf(upstreamOf(last)), upstreamOf(upstreamOf(upstreamOf(last)))].map((j) => j?.jobName?.replace(/-\d+$/, ''))).to.deep.equal(
      [DEMO_CHAIN[2], DEMO_CHAIN[1], DEMO_CHAIN[0]],
    );
    expect(jobs.some((j) => j.container?.environment?.some((e) => e.name === 'PYBATCH_TIMEOUT'))).to.equal(true);
    expect(new Set(jobs.map((j) => j.container?.image).filter(Boolean)).size).to.be.greaterThan(3);
    const streams = await t.aws.logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/batch/job', logStreamNamePrefix: 'etl-runner/default/' }));
    expect(streams.logStreams?.length).to.be.greaterThan(0);
    // One job writes a long log (the log viewer's demo): all of it once it has run.
    const reindex = jobs.find((j) => j.jobName?.startsWith('search-reindex-') && j.status === 'SUCCEEDED');
    const stream = t.sim.model.logs.groups.get('/aws/batch/job')?.streams.get(reindex?.container?.logStreamName ?? '');
    expect(stream?.events.length).to.equal(LONG_LOG_LINES);
    // Multi-node training jobs run, each node writing its own log.
    const mnp = jobs.find((j) => j.nodeProperties && j.status === 'SUCCEEDED');
    const node1 = (await t.aws.batch.send(new DescribeJobsCommand({ jobs: [`${mnp?.jobId}#1`] }))).jobs?.[0];
    const nodeEvents = t.sim.model.logs.groups.get('/aws/batch/job')?.streams.get(node1?.container?.logStreamName ?? '')?.events ?? [];
    expect(nodeEvents.map((e) => e.message).join('\n')).to.match(/^INFO {2}worker 1: joined main node/);
  });

  it('bulkLoad: one queue holding the requested retained and active jobs', async () => {
    t = await startTestSim({ scenario: 'bulkLoad', bulk: { finished: 20_000, active: 500 } });
    const counts = t.sim.model.statusCounts('bulk-queue');
    expect(counts.SUCCEEDED + counts.FAILED).to.equal(20_000);
    expect(counts.SUBMITTED + counts.PENDING + counts.RUNNABLE + counts.STARTING + counts.RUNNING).to.equal(500);
    const page = await t.aws.batch.send(new ListJobsCommand({ jobQueue: 'bulk-queue', jobStatus: 'SUCCEEDED' }));
    expect(page.jobSummaryList).to.have.length(1000);
    const d = (await t.aws.batch.send(new DescribeJobsCommand({ jobs: [page.jobSummaryList?.[0].jobId as string] }))).jobs?.[0];
    expect(d?.attempts).to.have.length(1);
    expect(d?.container?.logStreamName).to.be.a('string');
  });
});
