/**
 * dependsOn mirrored by the sync (simulator, real SDK clients, Redis,
 * Postgres): job_dependencies equals what DescribeJobs reports, and the
 * cleaner deletes a job's rows with the job.
 */
import { expect } from 'chai';
import { DescribeJobsCommand } from '@aws-sdk/client-batch';
import { createAwsClients, type AwsClients } from '../../src/aws/clients';
import { waitedOnBy, waitsOn } from '../../src/store/jobDependencies';
import { startHarness, type Harness } from './harness';

describe('pipeline: job dependencies mirrored from DescribeJobs', function () {
  this.timeout(120_000);
  let h: Harness;
  let aws: AwsClients;

  before(async () => {
    h = await startHarness({ config: { retention_days: 30, use_cleaner: true } });
    await h.queue('q-deps');
    await h.queue('q-unmirrored', { activate: false });
    aws = createAwsClients({ region: 'us-east-1', aws_endpoint: h.sim.endpoint, maxAttempts: 1 });
  });
  after(async () => {
    aws?.destroy();
    await h?.close();
  });

  /** job → the jobs it depends on, as AWS (the simulator, through the SDK) describes them. */
  async function awsDependencies(ids: string[]): Promise<Record<string, string[]>> {
    const out = await aws.batch.send(new DescribeJobsCommand({ jobs: ids }));
    return Object.fromEntries((out.jobs ?? []).map((j) => [j.jobId as string, (j.dependsOn ?? []).map((d) => d.jobId as string).sort()]));
  }

  async function mirrored(ids: string[]): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const id of ids) out[id] = (await waitsOn(h.db, id)).map((d) => d.job_id);
    return out;
  }

  it('stores each job\'s dependsOn as AWS reports it, and the cleaner deletes it with the job', async () => {
    const sim = h.sim.model;
    const elsewhere = sim.submitJob({ jobName: 'elsewhere', jobQueue: 'q-unmirrored', plan: { runSeconds: 30 } }).jobId;
    const extract = sim.submitJob({ jobName: 'extract', jobQueue: 'q-deps', plan: { runSeconds: 60 } }).jobId;
    const transform = sim.submitJob({ jobName: 'transform', jobQueue: 'q-deps', dependsOn: [extract], plan: { runSeconds: 30 } }).jobId;
    const load = sim.submitJob({ jobName: 'load', jobQueue: 'q-deps', dependsOn: [transform, extract, elsewhere], plan: { runSeconds: 30 } }).jobId;
    const ids = [extract, transform, load];

    sim.advance(5_000); // past SUBMITTED: the dependents wait in PENDING
    await h.round();
    const want = await awsDependencies(ids);
    expect(want[load], 'the simulator reports dependsOn').to.have.length(3);
    expect(await mirrored(ids)).to.deep.equal(want);
    const loadWaits = await waitsOn(h.db, load);
    expect(loadWaits.find((d) => d.job_id === elsewhere), 'a queue not mirrored: no name or status').to.include({ job_name: null, status: null });
    expect(loadWaits.find((d) => d.job_id === transform)).to.include({ job_name: 'transform', status: 'PENDING' });
    expect((await waitedOnBy(h.db, extract, 100)).rows.map((d) => [d.job_id, d.status])).to.deep.equal(
      [[transform, 'PENDING'], [load, 'PENDING']].sort(),
    );

    // The chain runs to the end; rounds on the way leave the rows as they are.
    for (let i = 0; i < 12; i++) {
      sim.advance(20_000);
      await h.round();
    }
    const states = await h.db('jobs').whereIn('job_id', ids).orderBy('job_id').pluck('status');
    expect(states).to.deep.equal(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(await mirrored(ids)).to.deep.equal(want);

    // The cleaner: transform is old enough to go; load's row naming it as waited on stays (load is still here).
    await h.db('jobs').where({ job_id: transform }).update({ last_updated: h.db.raw("now() - interval '31 days'") });
    expect((await h.task<{ jobs: number }>('cleanOldRows')).jobs).to.equal(1);
    expect(await h.db('job_dependencies').where({ job_id: transform }).pluck('depends_on_job_id')).to.deep.equal([]);
    expect((await waitsOn(h.db, load)).find((d) => d.job_id === transform)).to.include({ status: null });
    expect((await waitedOnBy(h.db, extract, 100)).rows.map((d) => d.job_id), 'transform, deleted, waits on nothing now').to.deep.equal([load]);
  });
});
