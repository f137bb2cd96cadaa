import { expect } from 'chai';
import { mapJobDetail } from '../../src/pipeline/mapping';
import { register } from 'prom-client';
import { countActiveByQueue } from '../../src/store/jobs/maintenance';
import { getJob } from '../../src/store/jobs/lookups';
import { activateQueue, deactivateQueue } from '../../src/store/queues';
import type { JobRow } from '../../src/types';
import { awsCounters, startHarness, type Harness } from './harness';

const MIRRORED_FIELDS = [
  'job_id', 'job_name', 'job_definition', 'job_queue', 'image', 'status', 'created_at', 'stopped_at', 'vcpus',
  'vcpus_exact', 'memory', 'timeout', 'command_line', 'status_reason', 'run_started_at', 'exitcode', 'log_stream_name',
  'log_group_name', 'task_arn', 'array_properties', 'array_parent_id', 'array_index', 'attempts', 'platform', 'job_type',
] as const;

/** The mirror equals what AWS (the simulator) reports, field for field. */
async function expectMirrored(h: Harness, jobId: string): Promise<JobRow> {
  const detail = h.sim.model.getJob(jobId);
  expect(detail, `simulator knows ${jobId}`).to.not.equal(undefined);
  const want = mapJobDetail(detail!);
  const row = await getJob(h.db, jobId);
  expect(row, `row of ${jobId}`).to.not.equal(null);
  for (const f of MIRRORED_FIELDS) {
    expect(row![f], `${jobId}.${f}`).to.deep.equal(want[f]);
  }
  return row!;
}

describe('pipeline sync rounds (simulator + Redis + Postgres)', function () {
  this.timeout(120_000);
  let h: Harness;

  before(async () => {
    h = await startHarness();
    await h.queue('q-main');
  });
  after(async () => h?.close());

  it('mirrors submitted jobs with every field, then follows their status changes', async () => {
    const { jobId: plain } = h.sim.model.submitJob({
      jobName: 'plain',
      jobQueue: 'q-main',
      image: 'busybox:1',
      command: ['echo', 'hi'],
      vcpus: 2,
      memory: 1024,
      environment: [{ name: 'PYBATCH_TIMEOUT', value: '3600' }],
      plan: { outcome: 'SUCCEEDED', runSeconds: 30 },
    });
    const { jobId: fargate } = h.sim.model.submitJob({
      jobName: 'fargate',
      jobQueue: 'q-main',
      fargate: true,
      resourceRequirements: [
        { type: 'VCPU', value: '0.25' },
        { type: 'MEMORY', value: '512' },
      ],
    });
    const { jobId: failing } = h.sim.model.submitJob({
      jobName: 'failing',
      jobQueue: 'q-main',
      resourceRequirements: [
        { type: 'VCPU', value: '1' },
        { type: 'MEMORY', value: '2048' },
      ],
      plan: { outcome: 'FAILED', exitCode: 3, reason: 'boom', runSeconds: 20 },
    });
    const { jobId: multi } = h.sim.model.submitJob({ jobName: 'mnp', jobQueue: 'q-main', multiNode: true, vcpus: 1, memory: 256 });
    const { jobId: array } = h.sim.model.submitJob({ jobName: 'arr', jobQueue: 'q-main', arraySize: 3, vcpus: 1, memory: 128 });

    const r1 = await h.round();
    expect(r1.status).to.equal('completed');
    for (const id of [plain, fargate, failing, multi, array]) await expectMirrored(h, id);
    expect((await getJob(h.db, plain))!.status).to.equal('SUBMITTED');
    expect((await getJob(h.db, fargate))!.vcpus_exact).to.equal(0.25);

    // Let them run to the end, checking the mirror at each round.
    for (let i = 0; i < 12; i++) {
      h.sim.model.advance(10_000);
      expect((await h.round()).status).to.equal('completed');
      for (const id of [plain, fargate, failing, multi, array]) await expectMirrored(h, id);
    }
    expect((await getJob(h.db, plain))!.status).to.equal('SUCCEEDED');
    const failed = await expectMirrored(h, failing);
    expect(failed.status).to.equal('FAILED');
    expect(failed.exitcode).to.equal(3);
    expect((await getJob(h.db, multi))!.status).to.equal('SUCCEEDED');
    expect((await getJob(h.db, array))!.status).to.equal('SUCCEEDED');
    // Array children are mirrored too, each equal to AWS.
    for (let i = 0; i < 3; i++) await expectMirrored(h, `${array}:${i}`);
  });

  it('mirrors the children of an array parent first seen running, in that same round', async () => {
    await h.round();
    const { jobId: array } = h.sim.model.submitJob({ jobName: 'arr-late', jobQueue: 'q-main', arraySize: 4, vcpus: 1, memory: 128, plan: { runSeconds: 600 } });
    h.sim.model.advance(30_000);
    const parent = h.sim.model.getJob(array)!;
    expect(parent.status, 'the parent runs when the mirror first sees it').to.be.oneOf(['RUNNING', 'STARTING', 'RUNNABLE', 'PENDING']);
    expect((await h.round()).status).to.equal('completed');
    await expectMirrored(h, array);
    for (let i = 0; i < 4; i++) await expectMirrored(h, `${array}:${i}`);
    // Leave nothing running for the next tests' steady rounds.
    h.sim.model.advance(700_000);
    expect((await h.round()).status).to.equal('completed');
    expect((await getJob(h.db, `${array}:3`))!.status).to.equal('SUCCEEDED');
  });

  it('catches a short job created and finished between two rounds', async () => {
    await h.round();
    const { jobId } = h.sim.model.submitJob({ jobName: 'blink', jobQueue: 'q-main', plan: { runSeconds: 1 } });
    h.sim.model.advance(120_000);
    expect(h.sim.model.getJob(jobId)!.status).to.equal('SUCCEEDED');
    expect((await h.round()).status).to.equal('completed');
    const row = await expectMirrored(h, jobId);
    expect(row.status).to.equal('SUCCEEDED');
  });

  it('describes only new or changed jobs in a steady round', async () => {
    for (let i = 0; i < 30; i++) h.sim.model.submitJob({ jobName: `steady-${i}`, jobQueue: 'q-main', plan: { runSeconds: 100_000 } });
    h.sim.model.advance(60_000);
    await h.round();
    h.sim.counters.reset();
    const r = await h.round();
    expect(r.status).to.equal('completed');
    const calls = awsCounters(h.sim);
    expect(calls['Batch.DescribeJobs'] ?? 0).to.equal(0);
    // 5 active statuses, then SUCCEEDED and FAILED since the mark: one page each.
    expect(calls['Batch.ListJobs']).to.equal(7);
  });

  it('stops syncing a deactivated queue', async () => {
    await h.queue('q-off');
    const { jobId } = h.sim.model.submitJob({ jobName: 'off', jobQueue: 'q-off' });
    await h.round();
    expect((await getJob(h.db, jobId))!.status).to.equal('SUBMITTED');
    await deactivateQueue(h.db, 'q-off');
    h.sim.model.advance(60_000);
    const r = await h.round();
    expect(r.queues).to.not.include('q-off');
    expect((await getJob(h.db, jobId))!.status).to.equal('SUBMITTED');
  });

  it('does not let an activated queue AWS does not know block the round', async () => {
    await activateQueue(h.db, 'q-deleted-in-aws');
    const { jobId } = h.sim.model.submitJob({ jobName: 'alive', jobQueue: 'q-main' });
    const r = await h.round();
    expect(r.status).to.equal('completed');
    expect(r.queues).to.include('q-deleted-in-aws');
    expect((await getJob(h.db, jobId))!.status).to.equal('SUBMITTED');
    await deactivateQueue(h.db, 'q-deleted-in-aws');
  });

  it('never overlaps two rounds of one queue: a slow round makes the next skip it', async () => {
    h.sim.model.submitJob({ jobName: 'slow', jobQueue: 'q-main' });
    h.sim.faults.set({ delayMs: 3000, operations: ['Batch.ListJobs'] });
    const listed = () => h.sim.counters.get()['Batch.ListJobs'] ?? 0;
    const before = listed();
    const slow = h.round();
    // The slow round holds q-main's lock once its ListJobs calls reach AWS.
    while (listed() === before) await new Promise((resolve) => setTimeout(resolve, 10));
    const next = await h.round();
    h.sim.faults.clear();
    expect(next.skipped).to.include('q-main');
    expect(next.queues).to.not.include('q-main');
    expect((await slow).status).to.equal('completed');
    const after = await h.round();
    expect(after.status).to.equal('completed');
    expect(after.queues).to.include('q-main');
  });

  it('frees its queues when a round fails to start, so the next round syncs them', async () => {
    // The round locks its queues, then reads the jobs table: make that read fail.
    await h.db.raw('ALTER TABLE jobs RENAME TO jobs_away');
    let failure: unknown = null;
    try {
      await h.round().catch((err: unknown) => (failure = err));
    } finally {
      await h.db.raw('ALTER TABLE jobs_away RENAME TO jobs');
    }
    expect(String(failure)).to.match(/jobs/);
    const next = await h.round();
    expect(next.skipped).to.not.include('q-main');
    expect(next.status).to.equal('completed');
    expect(next.queues).to.include('q-main');
  });

  it('writes the job summary log and the metrics of each round', async () => {
    const rows = await h.db('job_summary_event_log').where({ job_queue: 'q-main' }).orderBy('timestamp');
    expect(rows.length).to.be.greaterThan(1);
    const counts = await countActiveByQueue(h.db, ['q-main']);
    const last = rows[rows.length - 1];
    expect({ submitted: last.submitted, pending: last.pending, runnable: last.runnable, starting: last.starting, running: last.running }).to.deep.equal(
      counts.get('q-main'),
    );
    // The registry is the process's: earlier rounds (and test files) filled it, so compare one round's increase.
    const metric = async (name: string, label: string, value: string) =>
      (await register.getSingleMetric(name)!.get()).values.find((v) => v.labels[label] === value)?.value ?? 0;
    const listJobsBefore = await metric('batchiepatchie_aws_calls_total', 'operation', 'Batch.ListJobs');
    const describedBefore = await metric('batchiepatchie_sync_jobs_described_total', 'queue', 'q-main');
    for (let i = 0; i < 3; i++) h.sim.model.submitJob({ jobName: `metered-${i}`, jobQueue: 'q-main', plan: { runSeconds: 1000 } });
    h.sim.counters.reset();
    const r = await h.round();
    expect(r.status).to.equal('completed');
    const listJobs = (await metric('batchiepatchie_aws_calls_total', 'operation', 'Batch.ListJobs')) - listJobsBefore;
    expect(listJobs, 'ListJobs calls counted').to.equal(h.sim.counters.get()['Batch.ListJobs']);
    expect(listJobs).to.be.at.least(5); // the five active statuses
    expect((await metric('batchiepatchie_sync_jobs_described_total', 'queue', 'q-main')) - describedBefore).to.equal(3);
  });
});
