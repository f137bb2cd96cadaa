import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { MIRRORED_NAMES, mirroredBatchJson, upsertJobs } from '../../src/store/jobs/upsert';
import { getJob } from '../../src/store/jobs/lookups';
import { getJobStates } from '../../src/store/jobs/sync';
import { mirroredJob } from './fixtures';

describe('store/jobs upsertJobs', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
  });
  after(async () => t.drop());
  beforeEach(async () => {
    await t.db('jobs').del();
    await t.db('job_status_events').del();
  });

  it('inserts new jobs and reports them all as written', async () => {
    const jobs = [mirroredJob(), mirroredJob({ vcpus_exact: 0.25, array_properties: { size: 3 } }), mirroredJob()];
    const result = await upsertJobs(t.db, jobs);
    expect(result.written).to.equal(3);
    expect(result.changedIds.sort()).to.deep.equal(jobs.map((j) => j.job_id).sort());
    const stored = await getJob(t.db, jobs[1].job_id);
    expect(stored).to.include({ job_name: jobs[1].job_name, vcpus_exact: 0.25, termination_requested: false });
    expect(stored?.array_properties).to.deep.equal({ size: 3 });
    expect(stored?.created_at.toISOString()).to.equal(jobs[1].created_at.toISOString());
    expect(stored?.last_seen_at).to.be.instanceOf(Date);
  });

  it('writes nothing when nothing changed: no new tuple, no row lock, no status event, last_updated kept', async () => {
    const jobs = [mirroredJob({ array_properties: { size: 2, status_summary: { starting: 0, failed: 0, running: 1, succeeded: 0, runnable: 0, submitted: 0, pending: 0 } } }), mirroredJob()];
    await upsertJobs(t.db, jobs);
    await t.db('job_status_events').del();
    const before = await t.db('jobs').select('job_id', 'last_updated', t.db.raw('xmin::text AS xmin'), t.db.raw('xmax::text AS xmax')).orderBy('job_id');
    // Same values again, in new objects (and a jsonb with keys in another order).
    const again = jobs.map((j) => ({
      ...j,
      created_at: new Date(j.created_at.getTime()),
      array_properties: j.array_properties ? { status_summary: j.array_properties.status_summary, size: j.array_properties.size } : null,
    }));
    const result = await upsertJobs(t.db, again);
    expect(result).to.deep.equal({ written: 0, changedIds: [] });
    const after = await t.db('jobs').select('job_id', 'last_updated', t.db.raw('xmin::text AS xmin'), t.db.raw('xmax::text AS xmax')).orderBy('job_id');
    expect(after).to.deep.equal(before);
    expect(await t.db('job_status_events')).to.have.length(0);
  });

  it('rewrites only the rows whose mirrored fields changed and fires the status trigger once', async () => {
    const [a, b, c] = [mirroredJob(), mirroredJob(), mirroredJob()];
    await upsertJobs(t.db, [a, b, c]);
    await t.db('job_status_events').del();
    await t.db('jobs').where({ job_id: b.job_id }).update({ last_updated: new Date('2026-01-01T00:00:00Z') });
    const result = await upsertJobs(t.db, [a, { ...b, status: 'RUNNING', run_started_at: new Date() }, { ...c, status_reason: 'x' }]);
    expect(result.changedIds.sort()).to.deep.equal([b.job_id, c.job_id].sort());
    const events = await t.db('job_status_events').select('job_id');
    expect(events.map((e) => e.job_id)).to.deep.equal([b.job_id]);
    const stored = await getJob(t.db, b.job_id);
    expect(stored?.status).to.equal('RUNNING');
    expect(stored?.last_updated.getTime()).to.be.greaterThan(new Date('2026-01-02T00:00:00Z').getTime());
  });

  it('detects a change in every mirrored field, including null <-> value', async () => {
    const base = mirroredJob();
    await upsertJobs(t.db, [base]);
    const changes: Partial<typeof base>[] = [
      { job_name: 'other' }, { job_definition: 'd2' }, { job_queue: 'q2' }, { image: 'img2' }, { status: 'FAILED' },
      { created_at: new Date('2026-11-02T00:00:00Z') }, { stopped_at: new Date() }, { vcpus: 4 }, { vcpus_exact: 0.5 },
      { memory: 1024 }, { timeout: 60 }, { command_line: '[]' }, { status_reason: 'r' }, { run_started_at: new Date() },
      { exitcode: 0 }, { log_stream_name: 's' }, { log_group_name: 'g' }, { task_arn: 'arn' },
      { array_properties: { size: 1 } }, { array_parent_id: 'p' }, { array_index: 0 }, { attempts: 1 },
      { platform: null }, { job_type: 'multinode' },
    ];
    for (const change of changes) {
      const r = await upsertJobs(t.db, [{ ...base, ...change }]);
      expect(r.written, JSON.stringify(change)).to.equal(1);
      const back = await upsertJobs(t.db, [base]);
      expect(back.written, `back from ${JSON.stringify(change)}`).to.equal(1);
    }
  });

  it('stores text exactly through the JSON batch: quotes, backslashes, newlines, JSON-looking and non-ASCII text', async () => {
    const odd = mirroredJob({
      job_name: 'say "hi" \\ back\\slash',
      command_line: '["sh","-c","echo \\"a\\tb\\"\\n"]',
      status_reason: 'line one\nline two\ttabbed — ünïcödé 🚀 日本',
      image: '{"not":"json"}',
      array_properties: { size: 2, status_summary: { starting: 0, failed: 0, running: 1, succeeded: 1, runnable: 0, submitted: 0, pending: 0 } },
    });
    expect((await upsertJobs(t.db, [odd])).written).to.equal(1);
    const stored = await getJob(t.db, odd.job_id);
    expect(stored).to.include({
      job_name: odd.job_name,
      command_line: odd.command_line,
      status_reason: odd.status_reason,
      image: odd.image,
    });
    expect(stored?.array_properties).to.deep.equal(odd.array_properties);
    expect((await upsertJobs(t.db, [{ ...odd }])).written, 'the same text again is no change').to.equal(0);
  });

  it('carries every mirrored column through the short-keyed batch, and nulls as NULL', async () => {
    const full = mirroredJob({
      stopped_at: new Date('2026-11-20T10:00:00.123Z'),
      vcpus_exact: 0.5,
      status_reason: 'Essential container in task exited',
      run_started_at: new Date('2026-11-20T09:00:00.000Z'),
      exitcode: 3,
      log_stream_name: 'def/default/abc',
      log_group_name: '/aws/batch/job',
      task_arn: 'arn:aws:ecs:us-east-1:1:task/c/abc',
      array_properties: { size: 4 },
      array_parent_id: 'parent-1',
      array_index: 2,
      attempts: 2,
      platform: 'FARGATE',
    });
    const batch = JSON.parse(mirroredBatchJson([full, { ...full, exitcode: null, stopped_at: null }])) as Record<string, unknown>[];
    expect(Object.keys(batch[0])).to.have.length(MIRRORED_NAMES.length);
    expect(Object.keys(batch[1]), 'null fields are left out').to.have.length(MIRRORED_NAMES.length - 2);
    expect(JSON.stringify(batch), 'column names are not sent').not.to.include('job_name');

    await upsertJobs(t.db, [full]);
    const stored = await t.db('jobs').where({ job_id: full.job_id }).first();
    for (const column of MIRRORED_NAMES) {
      expect(stored[column], column).to.deep.equal(full[column]);
    }
    await upsertJobs(t.db, [{ ...full, exitcode: null, stopped_at: null, vcpus_exact: Number.NaN }]);
    expect(await t.db('jobs').where({ job_id: full.job_id }).first()).to.include({
      exitcode: null,
      stopped_at: null,
      vcpus_exact: null,
    });
  });

  it('leaves termination_requested alone', async () => {
    const a = mirroredJob();
    await upsertJobs(t.db, [a]);
    await t.db('jobs').where({ job_id: a.job_id }).update({ termination_requested: true });
    await upsertJobs(t.db, [{ ...a, status: 'RUNNING' }]);
    const states = await getJobStates(t.db, [a.job_id]);
    expect(states.get(a.job_id)).to.include({ status: 'RUNNING', termination_requested: true });
  });

  it('handles duplicates within one call (last wins), 64-char ids, and many batches', async () => {
    const longId = `${'f'.repeat(36)}:${'9'.repeat(27)}`;
    expect(longId).to.have.length(64);
    const first = mirroredJob({ job_id: longId, job_name: 'first' });
    const jobs = [first, ...Array.from({ length: 250 }, () => mirroredJob()), { ...first, job_name: 'last' }];
    const result = await upsertJobs(t.db, jobs, { batchSize: 7 });
    expect(result.written).to.equal(251);
    expect((await getJob(t.db, longId))?.job_name).to.equal('last');
    expect(await upsertJobs(t.db, jobs.slice(0, -1), { batchSize: 100 })).to.deep.include({ written: 1 });
  });

  it('runs inside a caller transaction (one connection) and rolls back with it', async () => {
    const jobs = Array.from({ length: 30 }, () => mirroredJob());
    await t.db
      .transaction(async (trx) => {
        const r = await upsertJobs(trx, jobs, { batchSize: 4, concurrency: 3 });
        expect(r.written).to.equal(30);
        throw new Error('roll back');
      })
      .catch((e: Error) => expect(e.message).to.equal('roll back'));
    expect(await t.db('jobs').count<{ n: number }[]>('* as n')).to.deep.equal([{ n: 0 }]);
  });

  it('reports a bad row as an error and writes nothing of its batch', async () => {
    const good = mirroredJob();
    const bad = mirroredJob({ job_id: 'x'.repeat(65) });
    let error: unknown;
    try {
      await upsertJobs(t.db, [good, bad], { batchSize: 10 });
    } catch (e) {
      error = e;
    }
    expect(String(error)).to.match(/too long/);
    expect(await getJob(t.db, good.job_id)).to.equal(null);
  });

  it('rewrites job_status_events rows in place (HOT) at a status change; one row per changed job, a duplicate in a call once', async () => {
    const jobs = Array.from({ length: 400 }, () => mirroredJob({ status: 'RUNNABLE' }));
    await upsertJobs(t.db, jobs);
    // The page each job's event row is on: a HOT update puts the new version on the old one's page.
    const pages = async () =>
      new Map(
        (await t.db.raw<{ rows: { job_id: string; page: number }[] }>('SELECT job_id, (ctid::text::point)[0] AS page FROM job_status_events')).rows.map(
          (r) => [r.job_id, r.page],
        ),
      );
    const before = await pages();
    // Every job changes status; the first one twice in this call (the last version wins, one event).
    const batch = [{ ...jobs[0], status: 'PENDING' as const }, ...jobs.map((j) => ({ ...j, status: 'RUNNING' as const }))];
    expect((await upsertJobs(t.db, batch)).written).to.equal(jobs.length);
    const after = await pages();
    expect([...after.keys()].sort()).to.deep.equal(jobs.map((j) => j.job_id).sort());
    // Full pages (fillfactor 100) kept none of the rows in place: each new version went elsewhere with a new index entry.
    // (Later changes need the old versions pruned first, which a transaction open anywhere on the server delays.)
    expect(jobs.filter((j) => after.get(j.job_id) === before.get(j.job_id))).to.have.length(jobs.length);
    expect(await t.db('jobs').where({ status: 'RUNNING' }).count({ n: '*' })).to.deep.equal([{ n: jobs.length }]);
  });

  it('accepts an empty list', async () => {
    expect(await upsertJobs(t.db, [])).to.deep.equal({ written: 0, changedIds: [] });
  });
});
