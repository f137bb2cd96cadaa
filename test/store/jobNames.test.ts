import { expect } from 'chai';
import { createDb } from '../../src/store/db';
import { deleteJobsOlderThan } from '../../src/store/jobs/maintenance';
import { upsertJobs } from '../../src/store/jobs/upsert';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { mirroredJob } from './fixtures';

const OLD = new Date('2020-01-01T00:00:00Z');
const CUTOFF = new Date('2021-01-01T00:00:00Z');

/** The names job_names holds, sorted. */
async function storedNames(db: TestDatabase['db']): Promise<string[]> {
  return (await db('job_names').pluck('job_name')).sort();
}

describe('store/jobs job_names upkeep: the cleaner prunes names left without a job', function () {
  this.timeout(30_000);
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase();
  });
  afterEach(async () => t.drop());

  it('deletes the names whose every job was cleaned and keeps the others', async () => {
    await upsertJobs(t.db, [
      mirroredJob({ job_id: 'gone-1', job_name: 'gone', status: 'SUCCEEDED' }),
      mirroredJob({ job_id: 'gone-2', job_name: 'gone', status: 'FAILED' }),
      mirroredJob({ job_id: 'half-old', job_name: 'half', status: 'SUCCEEDED' }),
      mirroredJob({ job_id: 'half-new', job_name: 'half', status: 'SUCCEEDED' }),
      mirroredJob({ job_id: 'running', job_name: 'running', status: 'RUNNING' }),
    ]);
    await t.db('jobs').whereNot({ job_id: 'half-new' }).update({ last_updated: OLD });
    const cleaned = await deleteJobsOlderThan(t.db, CUTOFF);
    expect(cleaned).to.deep.equal({ jobs: 3, taskInfo: 0, names: 1, writersStillOpen: false });
    expect(await storedNames(t.db)).to.deep.equal(['half', 'running']);
  });

  it('puts back a name a writer open during the prune gave a new job', async () => {
    await upsertJobs(t.db, [mirroredJob({ job_id: 'old', job_name: 'reused', status: 'SUCCEEDED' })]);
    await t.db('jobs').update({ last_updated: OLD });
    // A writer inserts a job of that name and stays open: its trigger finds the name there and adds nothing.
    const writerDb = createDb(t.config, { min: 1, max: 1 });
    try {
      const writer = await writerDb.transaction();
      await upsertJobs(writer, [mirroredJob({ job_id: 'new', job_name: 'reused', status: 'RUNNABLE' })]);
      // The prune cannot see the writer's job, so it deletes the name, then waits for the writer to end.
      const cleaning = deleteJobsOlderThan(t.db, CUTOFF);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await storedNames(t.db), 'pruned while the writer is open').to.deep.equal([]);
      await writer.commit();
      expect(await cleaning).to.deep.equal({ jobs: 1, taskInfo: 0, names: 0, writersStillOpen: false });
    } finally {
      await writerDb.destroy();
    }
    expect(await storedNames(t.db)).to.deep.equal(['reused']);
  });
});
