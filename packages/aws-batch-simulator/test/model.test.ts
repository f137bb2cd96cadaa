import { expect } from 'chai';
import { LogStore } from '../src/logStore';
import { SimModel, TIMING } from '../src/model';

describe('simulator model internals', () => {
  it('bounds the work of one huge clock jump (coarser ticks), keeping job events exact', () => {
    const model = new SimModel({ clock: 'manual', seed: 3, retentionSeconds: 30 * 86_400 });
    model.createComputeEnvironment({ name: 'ce', instances: 1 });
    model.createJobQueue({ name: 'q', computeEnvironments: ['ce'] });
    let ticks = 0;
    model.onTick(() => ticks++);
    model.advance(60_000);
    expect(ticks).to.equal(60); // normal pace: one tick a simulated second
    ticks = 0;
    const { jobId } = model.submitJob({ jobName: 'j', jobQueue: 'q', plan: { runSeconds: 10 } });
    const before = model.now();
    model.advance(7 * 86_400_000);
    expect(ticks).to.be.at.most(TIMING.maxTicksPerSync + 1);
    expect(ticks).to.be.greaterThan(1000);
    const job = model.getJob(jobId);
    expect(job?.status).to.equal('SUCCEEDED');
    expect((job?.stoppedAt as number) - (job?.startedAt as number)).to.equal(10_000); // the run itself kept its exact length
    expect(job?.createdAt).to.equal(before);
  });

  it('drops the oldest log streams beyond its event budget', () => {
    const logs = new LogStore(100);
    for (let s = 0; s < 15; s++) for (let e = 0; e < 10; e++) logs.append('/g', `stream-${String(s).padStart(2, '0')}`, e, `line ${e}`, e);
    const group = logs.groups.get('/g');
    const names = group?.allNames() ?? [];
    const total = names.reduce((n, name) => n + (group?.streams.get(name)?.events.length ?? 0), 0);
    expect(total).to.be.at.most(100);
    expect(names).to.include('stream-14');
    expect(names).to.not.include('stream-00');
  });
});
