import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/db';

const TABLES = [
  'jobs',
  'activated_job_queues',
  'job_summary_event_log',
  'compute_environment_event_log',
  'instances',
  'instance_event_log',
  'task_arns_to_instance_info',
  'job_status_events',
];

describe('migrations', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
  });
  after(async () => t.drop());

  it('creates every table of the schema with pg_trgm and the trigram index', async () => {
    for (const table of TABLES) expect(await t.db.schema.hasTable(table), table).to.equal(true);
    const ext = await t.db.raw("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'");
    expect(ext.rows).to.have.length(1);
    const idx = await t.db.raw("SELECT indexdef FROM pg_indexes WHERE indexname = 'trgm_idx_jobs'");
    expect(idx.rows[0].indexdef).to.match(/gin_trgm_ops/);
    // Every sortable column has an index ordered by (column, job_id).
    const sortIndexes = await t.db.raw("SELECT indexdef FROM pg_indexes WHERE tablename = 'jobs'");
    const defs: string[] = sortIndexes.rows.map((r: { indexdef: string }) => r.indexdef);
    for (const column of ['job_name', 'status', 'stopped_at', 'last_updated']) {
      expect(defs.some((d) => d.includes(`(${column}, job_id)`)), column).to.equal(true);
    }
  });

  it('records status changes in job_status_events through the triggers', async () => {
    const job = {
      job_id: 'j-1', job_name: 'n', job_definition: 'd', job_queue: 'q', image: 'i', status: 'RUNNABLE',
      created_at: new Date(), vcpus: 1, memory: 128, command_line: '[]', last_updated: new Date(),
    };
    await t.db('jobs').insert(job);
    expect(await t.db('job_status_events').where({ job_id: 'j-1' })).to.have.length(1);
    await t.db('job_status_events').del();
    await t.db('jobs').where({ job_id: 'j-1' }).update({ job_name: 'renamed' });
    expect(await t.db('job_status_events')).to.have.length(0);
    await t.db('jobs').where({ job_id: 'j-1' }).update({ status: 'RUNNING' });
    expect(await t.db('job_status_events')).to.have.length(1);
  });

  it('rolls back to an empty database and migrates up again', async () => {
    await t.db.migrate.rollback(undefined, true);
    for (const table of TABLES) expect(await t.db.schema.hasTable(table), table).to.equal(false);
    await t.db.migrate.latest();
    for (const table of TABLES) expect(await t.db.schema.hasTable(table), table).to.equal(true);
  });
});
