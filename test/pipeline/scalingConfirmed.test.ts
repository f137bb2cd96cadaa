import { expect } from 'chai';
import { setForcedScaling } from '../../src/store/queues';
import { startHarness, type Harness } from './harness';

/**
 * The scaling hack changes AWS (UpdateComputeEnvironment), so it acts only on
 * the demand AWS reports just before, not on a mirror that may be stale.
 */
describe('scaling acts only on demand AWS confirms', function () {
  this.timeout(120_000);
  let h: Harness;

  before(async () => {
    h = await startHarness({ config: { use_auto_scaler: true } });
  });
  after(async () => h?.close());

  async function scale(): Promise<{ changes: { computeEnvironment: string; from: number; to: number }[] }> {
    return h.task('scaleComputeEnvironments');
  }
  const minvCpus = (ce: string) => h.sim.model.computeEnvironment(ce)!.computeResources!.minvCpus;

  it('does not raise minvCpus for jobs the mirror still shows active but AWS has finished', async () => {
    await h.queue('q-stale', { instances: 0, minvCpus: 0, maxvCpus: 64 });
    await setForcedScaling(h.db, 'q-stale', true);
    const ids = [0, 1, 2].map((i) => h.sim.model.submitJob({ jobName: `s-${i}`, jobQueue: 'q-stale', vcpus: 4, plan: { runSeconds: 10_000 } }).jobId);
    await h.round();
    // AWS ends them; no sync round runs, so the mirror still has 12 active vCPUs.
    for (const id of ids) h.sim.model.terminateJob(id, 'ended outside the mirror');
    const mirrored = await h.db('jobs').whereIn('job_id', ids).whereNotIn('status', ['SUCCEEDED', 'FAILED']).count({ n: '*' });
    expect(Number(mirrored[0].n)).to.equal(3);

    h.sim.counters.reset();
    expect((await scale()).changes).to.deep.equal([]);
    expect(minvCpus('q-stale-ce')).to.equal(0);
    expect(h.sim.counters.get()['Batch.UpdateComputeEnvironment'] ?? 0).to.equal(0);
    // It asked AWS before deciding.
    expect(h.sim.counters.get()['Batch.ListJobs'] ?? 0).to.be.greaterThan(0);
  });

  it('counts what AWS lists, describing jobs the mirror has not described and array parents', async () => {
    await h.queue('q-fresh', { instances: 0, minvCpus: 0, maxvCpus: 64 });
    await setForcedScaling(h.db, 'q-fresh', true);
    h.sim.model.submitJob({ jobName: 'known', jobQueue: 'q-fresh', vcpus: 2, plan: { runSeconds: 10_000 } });
    const array = h.sim.model.submitJob({ jobName: 'array', jobQueue: 'q-fresh', vcpus: 1, arraySize: 5, plan: { runSeconds: 10_000 } });
    // Children exist once the parent leaves SUBMITTED; nothing can run (no instances), so all stay active.
    h.sim.model.advance(5_000);
    expect(h.sim.model.getJob(array.jobId)!.arrayProperties!.statusSummary!.RUNNABLE).to.equal(5);
    await h.round();
    // Submitted after the round: the mirror does not know it.
    h.sim.model.submitJob({ jobName: 'unseen', jobQueue: 'q-fresh', vcpus: 8, plan: { runSeconds: 10_000 } });

    const r = await scale();
    // 2 (known) + 5 children × 1 (array) + 8 (unseen, described now).
    expect(r.changes).to.deep.equal([{ computeEnvironment: 'q-fresh-ce', from: 0, to: 15 }]);
    expect(minvCpus('q-fresh-ce')).to.equal(15);
  });

  it('does not lower minvCpus while AWS still reports the jobs active', async () => {
    // The mirror is emptied of q-fresh's jobs: its sum (0) says lower, AWS says 15.
    await h.db('jobs').where({ job_queue: 'q-fresh' }).delete();
    h.sim.counters.reset();
    expect((await scale()).changes).to.deep.equal([]);
    expect(minvCpus('q-fresh-ce')).to.equal(15);
    expect(h.sim.counters.get()['Batch.UpdateComputeEnvironment'] ?? 0).to.equal(0);
  });
});
