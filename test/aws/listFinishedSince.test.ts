/**
 * A steady round's listing (`finishedSince`): the active lists in the order a
 * job moves through them, then SUCCEEDED and FAILED newest first only as far
 * back as the mark, 1,000 a page. Against the simulator's ListJobs with the
 * real Batch client; the out-of-order answers AWS does not document (and the
 * simulator never gives) through a stubbed client.
 */
import { BatchClient, ListJobsCommand, type JobSummary, type ListJobsCommandInput } from '@aws-sdk/client-batch';
import { mockClient } from 'aws-sdk-client-mock';
import { startSimulator, type SimulatorHandle } from 'aws-batch-simulator';
import { expect } from 'chai';
import { createAwsClients, type AwsClients } from '../../src/aws/clients';
import { forEachJobPage, type ListJobsQuery } from '../../src/aws/batch';
import { awsMetrics } from '../../src/aws/metrics';

async function listAll(batch: BatchClient, query: ListJobsQuery): Promise<JobSummary[]> {
  const out: JobSummary[] = [];
  await forEachJobPage(batch, query, async (page) => {
    out.push(...page);
  });
  return out;
}

describe('aws: listing active jobs and the finished jobs since a mark', () => {
  describe('against the simulator', () => {
    let sim: SimulatorHandle;
    let aws: AwsClients;
    let mark = 0;
    const early = new Set<string>();
    const late = new Set<string>();

    before(async () => {
      sim = await startSimulator({ port: 0, clock: 'manual', scenario: 'empty' });
      aws = createAwsClients({ region: 'us-east-1', aws_endpoint: sim.endpoint });
      sim.model.createComputeEnvironment({ name: 'ce', instances: 50, minvCpus: 0, maxvCpus: 4096 });
      sim.model.createJobQueue({ name: 'q', computeEnvironments: ['ce'] });
      // 3,000 jobs finished before the mark, then 2,400 created after it: most finished, some failed, some still active.
      for (let i = 0; i < 3_000; i++) early.add(sim.model.submitJob({ jobName: `old-${i}`, jobQueue: 'q', plan: { runSeconds: 1 } }).jobId);
      sim.model.advance(600_000);
      mark = sim.model.now();
      sim.model.advance(1_000);
      for (let i = 0; i < 2_400; i++) {
        const plan = i % 10 === 0 ? { runSeconds: 100_000 } : i % 7 === 0 ? { runSeconds: 1, outcome: 'FAILED' as const } : { runSeconds: 1 };
        late.add(sim.model.submitJob({ jobName: `new-${i}`, jobQueue: 'q', plan }).jobId);
        if (i % 100 === 0) sim.model.advance(1_000);
      }
      sim.model.advance(120_000);
    });
    after(async () => {
      aws?.destroy();
      await sim?.stop();
    });
    beforeEach(() => sim.counters.reset());

    it('returns every job created after the mark, with a tenth of the AFTER_CREATED_AT calls', async () => {
      const walked = await listAll(aws.batch, { jobQueue: 'q', finishedSince: mark });
      const walkCalls = sim.counters.get()['Batch.ListJobs'];
      const ids = new Set(walked.map((s) => s.jobId!));
      for (const id of late) expect(ids.has(id), id).to.equal(true);
      const statuses = new Set(walked.filter((s) => late.has(s.jobId!)).map((s) => s.status));
      expect([...statuses].sort()).to.deep.equal(['FAILED', 'RUNNING', 'SUCCEEDED']);

      sim.counters.reset();
      const filtered = await listAll(aws.batch, { jobQueue: 'q', afterCreatedAt: mark });
      const filterCalls = sim.counters.get()['Batch.ListJobs'];
      expect(new Set(filtered.map((s) => s.jobId!))).to.deep.equal(new Set([...late]));
      // 5 active lists + 2 SUCCEEDED pages (1,852 since the mark, the second page reaching past it) + 1 FAILED page,
      // where the filter takes 24 pages of 100.
      expect(walkCalls).to.equal(8);
      expect(filterCalls).to.equal(24);
    });

    it('stops a finished list at the first page that reaches the mark', async () => {
      const all = await listAll(aws.batch, { jobQueue: 'q', finishedSince: 0 });
      expect(sim.counters.get()['Batch.ListJobs']).to.equal(5 + 5 + 1); // 4,852 SUCCEEDED need 5 pages
      expect(all.filter((s) => early.has(s.jobId!))).to.have.length(3_000);
    });
  });

  describe('lists AWS might answer out of order (stubbed client)', () => {
    const batch = new BatchClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const stub = mockClient(batch);
    afterEach(() => stub.reset());
    after(() => batch.destroy());

    const summary = (id: string, status: string, createdAt: number | undefined): JobSummary =>
      ({ jobId: id, jobName: id, status, createdAt }) as JobSummary;

    function answer(byStatus: Record<string, JobSummary[][]>, filtered: JobSummary[]): ListJobsCommandInput[] {
      const asked: ListJobsCommandInput[] = [];
      stub.on(ListJobsCommand).callsFake((input: ListJobsCommandInput) => {
        asked.push(input);
        if (input.filters) return { jobSummaryList: filtered };
        const pages = byStatus[input.jobStatus ?? 'RUNNING'] ?? [[]];
        const i = input.nextToken ? Number(input.nextToken) : 0;
        return { jobSummaryList: pages[i], nextToken: i + 1 < pages.length ? String(i + 1) : undefined };
      });
      return asked;
    }

    const unordered = () => awsMetrics.unorderedFinishedLists.get().then((m) => m.values.reduce((n, v) => n + v.value, 0));

    it('reads the active lists in a job\'s own order before the finished ones, and walks no further than the mark', async () => {
      const asked = answer(
        {
          SUCCEEDED: [[summary('s3', 'SUCCEEDED', 300), summary('s2', 'SUCCEEDED', 200)], [summary('s1', 'SUCCEEDED', 90)], [summary('s0', 'SUCCEEDED', 50)]],
          FAILED: [[summary('f1', 'FAILED', 250)]],
        },
        [],
      );
      const before = await unordered();
      const got = await listAll(batch, { jobQueue: 'q', finishedSince: 100 });
      expect(asked.map((a) => `${a.jobStatus ?? 'filter'}${a.nextToken ? `#${a.nextToken}` : ''}`)).to.deep.equal([
        'SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED', 'SUCCEEDED#1', 'FAILED',
      ]);
      expect(got.map((s) => s.jobId)).to.deep.equal(['s3', 's2', 's1', 'f1']);
      expect(await unordered()).to.equal(before);
    });

    it('lists with AFTER_CREATED_AT when a finished list is not newest first', async () => {
      const asked = answer(
        { SUCCEEDED: [[summary('s3', 'SUCCEEDED', 300), summary('s2', 'SUCCEEDED', 200)], [summary('s9', 'SUCCEEDED', 900)]] },
        [summary('s9', 'SUCCEEDED', 900), summary('s3', 'SUCCEEDED', 300), summary('s2', 'SUCCEEDED', 200)],
      );
      const before = await unordered();
      const got = await listAll(batch, { jobQueue: 'q', finishedSince: 100 });
      const last = asked[asked.length - 1];
      expect(last.filters).to.deep.equal([{ name: 'AFTER_CREATED_AT', values: ['100'] }]);
      expect(asked.filter((a) => a.jobStatus === 'FAILED'), 'the filter lists every status').to.have.length(0);
      expect(new Set(got.map((s) => s.jobId))).to.deep.equal(new Set(['s9', 's3', 's2']));
      expect(await unordered()).to.equal(before + 1);
    });

    it('does not trust a finished list without creation times', async () => {
      const asked = answer(
        { FAILED: [[summary('f1', 'FAILED', undefined)]] },
        [summary('f1', 'FAILED', 500)],
      );
      const got = await listAll(batch, { jobQueue: 'q', finishedSince: 100 });
      expect(asked[asked.length - 1].filters).to.deep.equal([{ name: 'AFTER_CREATED_AT', values: ['100'] }]);
      expect(got.map((s) => s.jobId)).to.deep.equal(['f1']);
    });
  });
});
