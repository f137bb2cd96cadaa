import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { activeVcpusByQueue, countActiveByQueue, deleteJobsOlderThan, findStuckStartingCandidates, findTimedOutJobs, markTerminationRequested } from '../../src/store/jobs/maintenance';
import { getArrayChildren } from '../../src/store/jobs/lookups';
import { confirmEventWritten, getJobStates, listOpenArrayParents, markGone, touchLastSeen } from '../../src/store/jobs/sync';
import { upsertJobs } from '../../src/store/jobs/upsert';
import { upsertTaskInstanceInfo } from '../../src/store/instances';
import { mirroredJob } from './fixtures';

const T0 = new Date('2026-11-20T12:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

describe('store/jobs bookkeeping operations', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
  });
  after(async () => t.drop());
  beforeEach(async () => {
    await t.db('jobs').del();
    await t.db('job_status_events').del();
    await t.db('task_arns_to_instance_info').del();
  });

  it('getJobStates returns the states of known ids only', async () => {
    const a = mirroredJob({ status: 'RUNNING', attempts: 2, array_properties: { size: 2 } });
    await upsertJobs(t.db, [a]);
    const states = await getJobStates(t.db, [a.job_id, 'unknown']);
    expect([...states.keys()]).to.deep.equal([a.job_id]);
    const { version, ...state } = states.get(a.job_id)!;
    expect(state).to.deep.equal({
      job_id: a.job_id, status: 'RUNNING', status_reason: null, stopped_at: null, run_started_at: null, exitcode: null,
      attempts: 2, array_properties: { size: 2 }, termination_requested: false, event_written: false,
    });
    expect(version).to.match(/^[0-9]+$/);
    expect((await getJobStates(t.db, [])).size).to.equal(0);
  });

  it('confirmEventWritten clears the mark only of rows not written again since they were read', async () => {
    const [kept, rewritten] = [mirroredJob({ status: 'RUNNING' }), mirroredJob({ status: 'RUNNING' })];
    await upsertJobs(t.db, [kept, rewritten]);
    await t.db('jobs').update({ event_written: true });
    const read = await getJobStates(t.db, [kept.job_id, rewritten.job_id]);
    // Another event writes one of them after the listing read it.
    await t.db('jobs').where({ job_id: rewritten.job_id }).update({ status: 'SUCCEEDED' });
    expect(await confirmEventWritten(t.db, [...read.values()])).to.equal(1);
    const marks = Object.fromEntries((await t.db('jobs').select('job_id', 'event_written')).map((r) => [r.job_id, r.event_written]));
    expect(marks).to.deep.equal({ [kept.job_id]: false, [rewritten.job_id]: true });
  });

  it('touchLastSeen marks non-terminal rows only', async () => {
    const [live, done] = [mirroredJob({ status: 'RUNNING' }), mirroredJob({ status: 'SUCCEEDED' })];
    await upsertJobs(t.db, [live, done]);
    expect(await touchLastSeen(t.db, [live.job_id, done.job_id, 'unknown'], at(5))).to.equal(1);
    const states = await t.db('jobs').select('job_id', 'last_seen_at');
    const seen = Object.fromEntries(states.map((r) => [r.job_id, r.last_seen_at.getTime()]));
    expect(seen[live.job_id]).to.equal(at(5).getTime());
    expect(seen[done.job_id]).to.not.equal(at(5).getTime());
  });

  it('markGone turns unseen non-terminal jobs of the given queues GONE, and nothing else', async () => {
    const stale = mirroredJob({ status: 'RUNNING', job_queue: 'q1' });
    const fresh = mirroredJob({ status: 'RUNNING', job_queue: 'q1' });
    const finished = mirroredJob({ status: 'SUCCEEDED', job_queue: 'q1' });
    const otherQueue = mirroredJob({ status: 'RUNNING', job_queue: 'q2' });
    const neverSeen = mirroredJob({ status: 'PENDING', job_queue: 'q1' });
    await upsertJobs(t.db, [stale, fresh, finished, otherQueue, neverSeen]);
    await t.db('jobs').update({ last_seen_at: at(0), last_updated: at(0) });
    await touchLastSeen(t.db, [fresh.job_id], at(100));
    // COALESCE(last_seen_at, last_updated): a row never seen falls back to last_updated.
    await t.db('jobs').where({ job_id: neverSeen.job_id }).update({ last_seen_at: null, last_updated: at(10) });
    await t.db('job_status_events').del();
    const gone = await markGone(t.db, ['q1'], at(50));
    expect(gone).to.deep.equal([stale.job_id, neverSeen.job_id].sort());
    const states = await getJobStates(t.db, [stale.job_id, fresh.job_id, finished.job_id, otherQueue.job_id]);
    expect(states.get(stale.job_id)?.status).to.equal('GONE');
    expect(states.get(fresh.job_id)?.status).to.equal('RUNNING');
    expect(states.get(finished.job_id)?.status).to.equal('SUCCEEDED');
    expect(states.get(otherQueue.job_id)?.status).to.equal('RUNNING');
    expect(await t.db('job_status_events').pluck('job_id')).to.have.members(gone);
    expect(await markGone(t.db, [], at(50))).to.deep.equal([]);
  });

  it('getArrayChildren lists children by index; listOpenArrayParents lists unfinished parents', async () => {
    const parent = mirroredJob({ job_id: 'p1', status: 'PENDING', array_properties: { size: 3 }, job_queue: 'q1' });
    const doneParent = mirroredJob({ job_id: 'p2', status: 'SUCCEEDED', array_properties: { size: 1 }, job_queue: 'q1' });
    const otherParent = mirroredJob({ job_id: 'p3', status: 'RUNNING', array_properties: { size: 1 }, job_queue: 'q2' });
    const children = [2, 0, 1].map((i) =>
      mirroredJob({ job_id: `p1:${i}`, array_parent_id: 'p1', array_index: i, array_properties: { index: i }, job_queue: 'q1' }),
    );
    await upsertJobs(t.db, [parent, doneParent, otherParent, ...children, mirroredJob({ job_queue: 'q1' })]);
    expect((await getArrayChildren(t.db, 'p1')).map((j) => j.job_id)).to.deep.equal(['p1:0', 'p1:1', 'p1:2']);
    expect(await getArrayChildren(t.db, 'nope')).to.deep.equal([]);
    expect(await listOpenArrayParents(t.db, ['q1'])).to.deep.equal(['p1']);
    expect(await listOpenArrayParents(t.db, ['q1', 'q2'])).to.deep.equal(['p1', 'p3']);
  });

  it('markTerminationRequested flags the given jobs', async () => {
    const [a, b] = [mirroredJob(), mirroredJob()];
    await upsertJobs(t.db, [a, b]);
    expect(await markTerminationRequested(t.db, [a.job_id, 'unknown'])).to.equal(1);
    const states = await getJobStates(t.db, [a.job_id, b.job_id]);
    expect(states.get(a.job_id)?.termination_requested).to.equal(true);
    expect(states.get(b.job_id)?.termination_requested).to.equal(false);
  });

  it('findTimedOutJobs finds non-terminal jobs past their timeout since creation, not yet asked to stop', async () => {
    const due = mirroredJob({ timeout: 60, created_at: at(-120), status: 'RUNNING' });
    const notYet = mirroredJob({ timeout: 600, created_at: at(-120), status: 'RUNNING' });
    const none = mirroredJob({ timeout: -1, created_at: at(-9999), status: 'RUNNING' });
    const finished = mirroredJob({ timeout: 60, created_at: at(-120), status: 'FAILED' });
    const asked = mirroredJob({ timeout: 60, created_at: at(-120), status: 'RUNNABLE' });
    await upsertJobs(t.db, [due, notYet, none, finished, asked]);
    await markTerminationRequested(t.db, [asked.job_id]);
    const found = await findTimedOutJobs(t.db, T0);
    expect(found).to.deep.equal([{ job_id: due.job_id, job_queue: due.job_queue, timeout: 60, created_at: due.created_at }]);
  });

  it('findStuckStartingCandidates lists STARTING jobs created before the cutoff with their task\'s instance and cluster', async () => {
    const stuck1 = mirroredJob({ job_id: 's1', status: 'STARTING', task_arn: 'arn:t1', created_at: at(-1000) });
    const stuck2 = mirroredJob({ job_id: 's2', status: 'STARTING', task_arn: 'arn:t2', created_at: at(-1000) });
    const recent = mirroredJob({ job_id: 's3', status: 'STARTING', task_arn: 'arn:t3', created_at: at(0) });
    const running = mirroredJob({ job_id: 's4', status: 'RUNNING', task_arn: 'arn:t4', created_at: at(-1000) });
    const noInstance = mirroredJob({ job_id: 's5', status: 'STARTING', task_arn: 'arn:t5', created_at: at(-1000) });
    const other = mirroredJob({ job_id: 's6', status: 'STARTING', task_arn: 'arn:t6', created_at: at(-1000) });
    await upsertJobs(t.db, [stuck1, stuck2, recent, running, noInstance, other]);
    await upsertTaskInstanceInfo(t.db, [
      { task_arn: 'arn:t1', instance_id: 'i-1', public_ip: '', private_ip: '10.0.0.1' },
      { task_arn: 'arn:t2', instance_id: 'i-1', public_ip: '', private_ip: '10.0.0.1' },
      { task_arn: 'arn:t3', instance_id: 'i-2', public_ip: '', private_ip: '10.0.0.2' },
      { task_arn: 'arn:t4', instance_id: 'i-3', public_ip: '', private_ip: '10.0.0.3' },
      { task_arn: 'arn:t6', instance_id: 'i-4', public_ip: '', private_ip: '10.0.0.4' },
    ]);
    await t.db('instances').insert({
      instance_id: 'i-1',
      ecs_cluster_arn: 'arn:cluster/a',
      appeared_at: T0,
      ami: 'ami-1',
      instance_type: 'm5.large',
      compute_environment_arn: 'arn:ce/a',
      availability_zone: 'us-east-1a',
    });
    const q = stuck1.job_queue;
    expect(await findStuckStartingCandidates(t.db, at(-500))).to.deep.equal([
      { job_id: 's1', job_queue: q, task_arn: 'arn:t1', instance_id: 'i-1', ecs_cluster_arn: 'arn:cluster/a' },
      { job_id: 's2', job_queue: q, task_arn: 'arn:t2', instance_id: 'i-1', ecs_cluster_arn: 'arn:cluster/a' },
      { job_id: 's6', job_queue: q, task_arn: 'arn:t6', instance_id: 'i-4', ecs_cluster_arn: null },
    ]);
  });

  it('activeVcpusByQueue sums exact vCPUs of active jobs, leaving out array parents', async () => {
    await upsertJobs(t.db, [
      mirroredJob({ job_queue: 'q1', status: 'RUNNING', vcpus: 1, vcpus_exact: 0.25 }),
      mirroredJob({ job_queue: 'q1', status: 'SUBMITTED', vcpus: 2 }),
      mirroredJob({ job_queue: 'q1', status: 'SUCCEEDED', vcpus: 8 }),
      mirroredJob({ job_queue: 'q1', status: 'PENDING', vcpus: 4, array_properties: { size: 10 } }),
      mirroredJob({ job_queue: 'q1', status: 'RUNNABLE', vcpus: 4, array_parent_id: 'x', array_properties: { index: 0 } }),
      mirroredJob({ job_queue: 'q2', status: 'STARTING', vcpus: 16 }),
    ]);
    const totals = await activeVcpusByQueue(t.db, ['q1', 'q3']);
    expect([...totals.entries()]).to.deep.equal([['q1', 6.25], ['q3', 0]]);
  });

  it('countActiveByQueue counts each active status per queue', async () => {
    await upsertJobs(t.db, [
      mirroredJob({ job_queue: 'q1', status: 'RUNNING' }),
      mirroredJob({ job_queue: 'q1', status: 'RUNNING' }),
      mirroredJob({ job_queue: 'q1', status: 'RUNNABLE' }),
      mirroredJob({ job_queue: 'q1', status: 'FAILED' }),
      mirroredJob({ job_queue: 'q2', status: 'SUBMITTED' }),
    ]);
    const counts = await countActiveByQueue(t.db, ['q1', 'q2', 'q3']);
    expect(counts.get('q1')).to.deep.equal({ submitted: 0, pending: 0, runnable: 1, starting: 0, running: 2 });
    expect(counts.get('q2')).to.deep.equal({ submitted: 1, pending: 0, runnable: 0, starting: 0, running: 0 });
    expect(counts.get('q3')).to.deep.equal({ submitted: 0, pending: 0, runnable: 0, starting: 0, running: 0 });
  });

  it('deleteJobsOlderThan deletes old terminal jobs and their task info, in batches', async () => {
    const old = Array.from({ length: 5200 }, (_, i) => mirroredJob({ status: 'SUCCEEDED', task_arn: `arn:old:${i}` }));
    const oldActive = mirroredJob({ status: 'RUNNING', task_arn: 'arn:old-active' });
    const recent = mirroredJob({ status: 'FAILED', task_arn: 'arn:recent' });
    await upsertJobs(t.db, [...old, oldActive, recent]);
    await t.db('jobs').update({ last_updated: at(-100_000) });
    await t.db('jobs').where({ job_id: recent.job_id }).update({ last_updated: at(0) });
    await upsertTaskInstanceInfo(t.db, [
      ...old.slice(0, 3).map((j) => ({ task_arn: j.task_arn as string, instance_id: 'i-1', public_ip: '', private_ip: '' })),
      { task_arn: 'arn:old-active', instance_id: 'i-1', public_ip: '', private_ip: '' },
      { task_arn: 'arn:recent', instance_id: 'i-1', public_ip: '', private_ip: '' },
    ]);
    expect(await deleteJobsOlderThan(t.db, at(-10))).to.include({ jobs: 5200, taskInfo: 3, writersStillOpen: false });
    expect((await t.db('jobs').pluck('job_id')).sort()).to.deep.equal([oldActive.job_id, recent.job_id].sort());
    expect((await t.db('task_arns_to_instance_info').pluck('task_arn')).sort()).to.deep.equal(['arn:old-active', 'arn:recent']);
    expect((await t.db('job_status_events').pluck('job_id')).sort()).to.deep.equal([oldActive.job_id, recent.job_id].sort());
  });
});
