import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { expect } from 'chai';
import { describeExistingInstances, missingInstanceIds } from '../../src/pipeline/tasks/reconcileEcsInstances';
import { basicInfra, startTestSim, type TestSim } from '../helpers/sim';

/** EC2 forgets terminated instances while ECS may still name them; reconciliation must not stall on that. */
describe('reconcileEcsInstances: instances EC2 has forgotten', () => {
  let t: TestSim;
  before(async () => {
    t = await startTestSim();
    basicInfra(t.sim, { instances: 3 });
  });
  after(async () => t.close());

  async function knownIds(): Promise<string[]> {
    const r = await t.aws.ec2.send(new DescribeInstancesCommand({}));
    return (r.Reservations ?? []).flatMap((res) => res.Instances ?? []).map((i) => i.InstanceId!).sort();
  }

  it('describes the instances EC2 knows and drops the ones it answers NotFound for', async () => {
    const known = await knownIds();
    expect(known).to.have.length(3);
    const forgotten = ['i-0000000000000dead', 'i-0000000000000beef'];
    t.sim.counters.reset();
    const found = await describeExistingInstances(t.aws.ec2, [forgotten[0], ...known, forgotten[1]]);
    expect(found.map((i) => i.InstanceId).sort()).to.deep.equal(known);
    // One failed call naming both forgotten ids, then one that succeeds.
    expect(t.sim.counters.get()['EC2.DescribeInstances']).to.equal(2);
  });

  it('returns nothing (and does not loop) when every id is forgotten', async () => {
    expect(await describeExistingInstances(t.aws.ec2, ['i-0000000000000dead'])).to.deep.equal([]);
  });

  it('still fails on other EC2 errors', async () => {
    const known = await knownIds();
    t.sim.faults.set({ errorRate: 1, operations: ['EC2.DescribeInstances'] });
    try {
      let failed: unknown = null;
      await describeExistingInstances(t.aws.ec2, known).catch((err: unknown) => (failed = err));
      expect(failed).to.be.instanceOf(Error);
      expect(missingInstanceIds(failed)).to.deep.equal([]);
    } finally {
      t.sim.faults.clear();
    }
  });
});
