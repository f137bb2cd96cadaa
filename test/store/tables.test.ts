import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { activateQueue, deactivateQueue, listActivatedQueues, setForcedScaling } from '../../src/store/queues';
import { recordComputeEnvironmentState, recordJobSummary } from '../../src/store/eventLogs';
import {
  appendInstanceEventLog,
  deleteInstanceEventLogOlderThan,
  markInstancesDisappeared,
  upsertInstances,
  upsertTaskInstanceInfo,
  type InstanceInput,
} from '../../src/store/instances';

const T0 = new Date('2026-11-20T12:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

function instance(id: string, overrides: Partial<InstanceInput> = {}): InstanceInput {
  return {
    instance_id: id,
    launched_at: at(-3600),
    ami: 'ami-1',
    instance_type: 'm5.large',
    compute_environment_arn: 'arn:ce/one',
    ecs_cluster_arn: 'arn:cluster/one',
    availability_zone: 'us-east-1a',
    spot_instance_request_id: null,
    private_ip_address: '10.0.0.1',
    public_ip_address: null,
    ...overrides,
  };
}

describe('store: queues, event logs, instances', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
  });
  after(async () => t.drop());

  describe('queues', () => {
    it('activates idempotently, keeps forced_scaling, deactivates, lists sorted', async () => {
      await activateQueue(t.db, 'q-b');
      await activateQueue(t.db, 'q-a');
      await setForcedScaling(t.db, 'q-b', true);
      await activateQueue(t.db, 'q-b');
      expect(await listActivatedQueues(t.db)).to.deep.equal([
        { job_queue: 'q-a', forced_scaling: false },
        { job_queue: 'q-b', forced_scaling: true },
      ]);
      expect(await setForcedScaling(t.db, 'q-b', false)).to.equal(true);
      expect(await setForcedScaling(t.db, 'not-activated', true)).to.equal(false);
      await deactivateQueue(t.db, 'q-a');
      await deactivateQueue(t.db, 'never-there');
      expect(await listActivatedQueues(t.db)).to.deep.equal([{ job_queue: 'q-b', forced_scaling: false }]);
    });
  });

  describe('event logs', () => {
    it('records a job summary only when it differs from the latest row of that queue', async () => {
      const c1 = { submitted: 1, pending: 0, runnable: 2, starting: 0, running: 3 };
      expect(await recordJobSummary(t.db, 'q1', c1, at(0))).to.equal(true);
      expect(await recordJobSummary(t.db, 'q1', { ...c1 }, at(1))).to.equal(false);
      expect(await recordJobSummary(t.db, 'q2', c1, at(1))).to.equal(true);
      expect(await recordJobSummary(t.db, 'q1', { ...c1, running: 4 }, at(2))).to.equal(true);
      expect(await recordJobSummary(t.db, 'q1', c1, at(3))).to.equal(true);
      expect(await recordJobSummary(t.db, 'q1', c1)).to.equal(false);
      const rows = await t.db('job_summary_event_log').where({ job_queue: 'q1' }).orderBy('timestamp');
      expect(rows.map((r) => [r.timestamp.getTime(), r.running])).to.deep.equal([
        [at(0).getTime(), 3],
        [at(2).getTime(), 4],
        [at(3).getTime(), 3],
      ]);
    });

    it('records a compute environment state only when something changed, nulls included', async () => {
      const s = { compute_environment: 'ce1', desired_vcpus: 4, max_vcpus: 64, min_vcpus: 0, state: 'ENABLED', service_role: null };
      expect(await recordComputeEnvironmentState(t.db, s, at(0))).to.equal(true);
      expect(await recordComputeEnvironmentState(t.db, { ...s }, at(1))).to.equal(false);
      expect(await recordComputeEnvironmentState(t.db, { ...s, service_role: 'role' }, at(2))).to.equal(true);
      expect(await recordComputeEnvironmentState(t.db, { ...s, service_role: 'role', min_vcpus: 4 }, at(3))).to.equal(true);
      expect(await recordComputeEnvironmentState(t.db, { ...s, compute_environment: 'ce2' }, at(3))).to.equal(true);
      expect(await t.db('compute_environment_event_log').where({ compute_environment: 'ce1' })).to.have.length(3);
    });
  });

  describe('instances', () => {
    it('upserts instances: new ones appear at now, unchanged ones are not rewritten', async () => {
      expect(await upsertInstances(t.db, [instance('i-1'), instance('i-2')], at(0))).to.equal(2);
      expect(await upsertInstances(t.db, [instance('i-1'), instance('i-2')], at(10))).to.equal(0);
      expect(await upsertInstances(t.db, [instance('i-1', { public_ip_address: '1.1.1.1' }), instance('i-2')], at(20))).to.equal(1);
      const i1 = await t.db('instances').where({ instance_id: 'i-1' }).first();
      expect(i1.appeared_at.getTime()).to.equal(at(0).getTime());
      expect(i1.public_ip_address).to.equal('1.1.1.1');
      expect(await upsertInstances(t.db, [], at(0))).to.equal(0);
    });

    it('marks absent instances disappeared once, and a returning one present again', async () => {
      expect(await markInstancesDisappeared(t.db, ['i-1'], at(30))).to.deep.equal(['i-2']);
      expect(await markInstancesDisappeared(t.db, ['i-1'], at(40))).to.deep.equal([]);
      const i2 = await t.db('instances').where({ instance_id: 'i-2' }).first();
      expect(i2.disappeared_at.getTime()).to.equal(at(30).getTime());
      expect(await upsertInstances(t.db, [instance('i-2')], at(50))).to.equal(1);
      expect((await t.db('instances').where({ instance_id: 'i-2' }).first()).disappeared_at).to.equal(null);
      expect(await markInstancesDisappeared(t.db, [], at(60))).to.deep.equal(['i-1', 'i-2']);
    });

    it('appends the instance event log and deletes old entries', async () => {
      expect(await appendInstanceEventLog(t.db, [{ instance_id: 'i-1', active_jobs: ['arn:a', 'arn:b'] }, { instance_id: 'i-2', active_jobs: [] }], at(0))).to.equal(2);
      expect(await appendInstanceEventLog(t.db, [{ instance_id: 'i-1', active_jobs: ['arn:a'] }], at(0))).to.equal(0);
      expect(await appendInstanceEventLog(t.db, [{ instance_id: 'i-1', active_jobs: ['arn:a'] }], at(100))).to.equal(1);
      const first = await t.db('instance_event_log').where({ instance_id: 'i-1', timestamp: at(0) }).first();
      expect(first.active_jobs).to.deep.equal(['arn:a', 'arn:b']);
      expect(await deleteInstanceEventLogOlderThan(t.db, at(50))).to.equal(2);
      expect(await t.db('instance_event_log')).to.have.length(1);
    });

    it('upserts task -> instance info, rewriting only changed IPs', async () => {
      const row = { task_arn: 'arn:task/1', instance_id: 'i-1', public_ip: '', private_ip: '10.0.0.1' };
      expect(await upsertTaskInstanceInfo(t.db, [row, { ...row, task_arn: 'arn:task/2' }])).to.equal(2);
      expect(await upsertTaskInstanceInfo(t.db, [row])).to.equal(0);
      expect(await upsertTaskInstanceInfo(t.db, [{ ...row, public_ip: '3.3.3.3' }])).to.equal(1);
      expect(await t.db('task_arns_to_instance_info').where({ task_arn: 'arn:task/1' }).first()).to.include({ public_ip: '3.3.3.3' });
    });
  });
});
