import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { upsertJobs, type DependencySets } from '../../src/store/jobs/upsert';
import { deleteJobsOlderThan } from '../../src/store/jobs/maintenance';
import { waitedOnBy, waitsOn, withMirroredJobs } from '../../src/store/jobDependencies';
import type { JobDependencyLink } from '../../src/types';
import { mirroredJob } from './fixtures';

const MIGRATION = '20261203050000_job_dependencies.ts';
const on = (id: string, type: string | null = null): JobDependencyLink => ({ depends_on_job_id: id, type });

describe('store: job_dependencies (written by the upsert, read both ways)', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
  });
  after(async () => t.drop());
  beforeEach(async () => {
    await t.db('jobs').del();
    await t.db('job_dependencies').del();
  });

  /** The stored rows with their row versions (xmin changes when a row is rewritten). */
  async function stored(jobId?: string): Promise<{ job_id: string; depends_on_job_id: string; type: string | null; xmin: string }[]> {
    const q = t.db('job_dependencies').select('job_id', 'depends_on_job_id', 'type', t.db.raw('xmin::text AS xmin')).orderBy(['job_id', 'depends_on_job_id']);
    return jobId ? q.where({ job_id: jobId }) : q;
  }
  const pairs = async (jobId?: string) => (await stored(jobId)).map((r) => [r.job_id, r.depends_on_job_id, r.type]);

  it('writes a job\'s set at its first describe, leaves it untouched after, and replaces it when the row awaits a describe', async () => {
    const a = mirroredJob({ job_id: 'dep-a', status: 'RUNNING' });
    const b = mirroredJob({ job_id: 'dep-b', status: 'PENDING' });
    const c = mirroredJob({ job_id: 'dep-c', status: 'PENDING' });
    const sets: DependencySets = new Map([
      ['dep-a', []],
      ['dep-b', [on('dep-a')]],
      ['dep-c', [on('dep-a', 'SEQUENTIAL'), on('dep-b')]],
    ]);
    await upsertJobs(t.db, [a, b, c], { dependencies: sets });
    expect(await pairs()).to.deep.equal([
      ['dep-b', 'dep-a', null],
      ['dep-c', 'dep-a', 'SEQUENTIAL'],
      ['dep-c', 'dep-b', null],
    ]);

    // The same sets again, the jobs changed or not: no dependency row is rewritten.
    const before = await stored();
    const again = await upsertJobs(t.db, [a, { ...b, status: 'RUNNABLE' }, c], { dependencies: sets });
    expect(again.changedIds, 'only the job row that changed').to.deep.equal(['dep-b']);
    expect(await stored()).to.deep.equal(before);

    // A described row that changed keeps its set: AWS never changes dependsOn, so it is not compared again.
    const cRunning = { ...c, status: 'RUNNING' as const };
    await upsertJobs(t.db, [cRunning], { dependencies: new Map([['dep-c', [on('dep-x')]]]) });
    expect(await stored()).to.deep.equal(before);

    // Awaiting a describe (an event moved it), c now waits on a (type changed) and x (new), no longer on b;
    // b's set is not given (unknown): kept.
    await t.db('jobs').where({ job_id: 'dep-c' }).update({ needs_describe: true });
    await upsertJobs(t.db, [cRunning], { dependencies: new Map([['dep-c', [on('dep-a', 'N_TO_N'), on('dep-x')]]]) });
    expect(await pairs()).to.deep.equal([
      ['dep-b', 'dep-a', null],
      ['dep-c', 'dep-a', 'N_TO_N'],
      ['dep-c', 'dep-x', null],
    ]);
    const bRow = before.find((r) => r.job_id === 'dep-b');
    expect((await stored('dep-b'))[0].xmin, "a job outside the batch's sets keeps its row as it was").to.equal(bRow?.xmin);

    // An unchanged row skips the comparison (AWS never changes a job's dependsOn); a job to describe
    // (needs_describe: an event's row, or a row mirrored before the table) is compared even when equal.
    await upsertJobs(t.db, [cRunning], { dependencies: new Map([['dep-c', []]]) });
    expect(await pairs('dep-c')).to.have.length(2);
    await t.db('jobs').where({ job_id: 'dep-c' }).update({ needs_describe: true });
    await upsertJobs(t.db, [cRunning], { dependencies: new Map([['dep-c', []]]) });
    expect(await pairs('dep-c'), 'an empty set clears').to.deep.equal([]);
    // An upsert without sets (not a describe) changes nothing.
    await upsertJobs(t.db, [{ ...b, status: 'RUNNING' }]);
    expect(await pairs()).to.deep.equal([['dep-b', 'dep-a', null]]);
  });

  it('writes sets across batches and concurrent connections', async () => {
    const jobs = Array.from({ length: 30 }, (_, i) => mirroredJob({ job_id: `bat-${String(i).padStart(2, '0')}` }));
    const sets: DependencySets = new Map(jobs.map((j, i) => [j.job_id, i === 0 ? [] : [on(jobs[i - 1].job_id)]]));
    await upsertJobs(t.db, jobs, { dependencies: sets, batchSize: 4, concurrency: 3 });
    expect(Number((await t.db('job_dependencies').count<{ n: number | string }[]>({ n: '*' }))[0].n)).to.equal(29);
    expect(await pairs('bat-29')).to.deep.equal([['bat-29', 'bat-28', null]]);
  });

  it('reads what a job waits on and what waits on it, with the mirror\'s name and status (null when not mirrored)', async () => {
    const up = mirroredJob({ job_id: 'read-up', job_name: 'extract', status: 'FAILED', exitcode: 137, status_reason: 'Terminated by alice' });
    const mid = mirroredJob({ job_id: 'read-mid', job_name: 'transform', status: 'PENDING' });
    const waiting = Array.from({ length: 7 }, (_, i) => mirroredJob({ job_id: `read-w${i}`, job_name: `load-${i}`, status: 'PENDING' }));
    await upsertJobs(t.db, [up, mid, ...waiting], {
      dependencies: new Map<string, JobDependencyLink[]>([
        ['read-mid', [on('read-up'), on('read-elsewhere')]],
        ...waiting.map((w): [string, JobDependencyLink[]] => [w.job_id, [on('read-mid', 'SEQUENTIAL')]]),
      ]),
    });

    expect(await waitsOn(t.db, 'read-mid')).to.deep.equal([
      { job_id: 'read-elsewhere', type: null, job_name: null, status: null, exitcode: null, status_reason: null, termination_requested: null },
      { job_id: 'read-up', type: null, job_name: 'extract', status: 'FAILED', exitcode: 137, status_reason: 'Terminated by alice', termination_requested: false },
    ]);
    const by = await waitedOnBy(t.db, 'read-mid', 5);
    expect(by.total).to.equal(7);
    expect(by.rows.map((r) => [r.job_id, r.job_name, r.status, r.type])).to.deep.equal(
      [0, 1, 2, 3, 4].map((i) => [`read-w${i}`, `load-${i}`, 'PENDING', 'SEQUENTIAL']),
    );
    expect(await waitedOnBy(t.db, 'read-w0', 5)).to.deep.equal({ rows: [], total: 0 });
    expect(await waitsOn(t.db, 'read-up')).to.deep.equal([]);

    const live = await withMirroredJobs(t.db, [
      { job_id: 'read-up', type: 'N_TO_N' },
      { job_id: 'nowhere', type: null },
    ]);
    expect(live.map((r) => [r.job_id, r.type, r.job_name, r.status])).to.deep.equal([
      ['read-up', 'N_TO_N', 'extract', 'FAILED'],
      ['nowhere', null, null, null],
    ]);
  });

  it('reads the first dependents and their count from the (depends_on_job_id, job_id) index', async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => ({ job_id: `many-${String(i).padStart(4, '0')}`, depends_on_job_id: 'many-root', type: null }));
    await t.db.batchInsert('job_dependencies', rows, 500);
    await t.db.raw('ANALYZE job_dependencies');
    const plan = await t.db.raw<{ rows: { 'QUERY PLAN': string }[] }>(
      "EXPLAIN SELECT job_id, type FROM job_dependencies WHERE depends_on_job_id = 'many-root' ORDER BY job_id LIMIT 100",
    );
    const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).to.contain('job_dependencies_depends_on_job_id');
    expect(text, 'no sort of all dependents').to.not.match(/Sort/);
    const by = await waitedOnBy(t.db, 'many-root', 100);
    expect(by.total).to.equal(2000);
    expect(by.rows).to.have.length(100);
    expect(by.rows[99].job_id).to.equal('many-0099');
  });

  it('its migration marks jobs waiting (SUBMITTED, PENDING) for one describe, so rows mirrored before get their sets', async () => {
    const [pending, submitted, running] = [
      mirroredJob({ job_id: 'mig-pending', status: 'PENDING' }),
      mirroredJob({ job_id: 'mig-submitted', status: 'SUBMITTED' }),
      mirroredJob({ job_id: 'mig-running', status: 'RUNNING' }),
    ];
    await upsertJobs(t.db, [pending, submitted, running]);
    await t.db.migrate.down({ name: MIGRATION });
    expect(await t.db.schema.hasTable('job_dependencies')).to.equal(false);
    await t.db.migrate.up({ name: MIGRATION });
    expect(await t.db.schema.hasTable('job_dependencies')).to.equal(true);
    expect(await t.db('jobs').where({ needs_describe: true }).orderBy('job_id').pluck('job_id')).to.deep.equal(['mig-pending', 'mig-submitted']);
  });

  it('the cleaner deletes a deleted job\'s rows; rows of jobs still waiting on it stay', async () => {
    const old = mirroredJob({ job_id: 'clean-old', status: 'SUCCEEDED' });
    const older = mirroredJob({ job_id: 'clean-older', status: 'SUCCEEDED' });
    const waiting = mirroredJob({ job_id: 'clean-waiting', status: 'PENDING' });
    await upsertJobs(t.db, [old, older, waiting], {
      dependencies: new Map([
        ['clean-old', [on('clean-older')]],
        ['clean-waiting', [on('clean-old')]],
      ]),
    });
    await t.db('jobs').update({ last_updated: new Date('2020-01-01T00:00:00Z') });
    expect(await deleteJobsOlderThan(t.db, new Date('2021-01-01T00:00:00Z'))).to.include({ jobs: 2, taskInfo: 0 });
    expect(await pairs()).to.deep.equal([['clean-waiting', 'clean-old', null]]);
    expect((await waitsOn(t.db, 'clean-waiting'))[0]).to.include({ job_id: 'clean-old', status: null });
  });
});
