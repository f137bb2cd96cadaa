import { expect } from 'chai';
import pg from 'pg';
import { createTestDatabase, PG, type TestDatabase } from '../helpers/db';
import { upsertJobs } from '../../src/store/jobs/upsert';
import { mirroredJob } from './fixtures';

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

  it('creates every table of the schema with pg_trgm and the trigram indexes', async () => {
    for (const table of TABLES) expect(await t.db.schema.hasTable(table), table).to.equal(true);
    const ext = await t.db.raw("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'");
    expect(ext.rows).to.have.length(1);
    // Tokens are looked up in the insert-only copy (20261206010000); on jobs only the partial reason index is a trigram one.
    const trigram = await t.db.raw("SELECT tablename, indexname FROM pg_indexes WHERE indexdef LIKE '%gin_trgm_ops%' ORDER BY indexname");
    expect(trigram.rows.filter((r: { tablename: string }) => r.tablename === 'jobs').map((r: { indexname: string }) => r.indexname)).to.deep.equal([
      'jobs_status_reason_trgm',
    ]);
    const tokens = await t.db.raw("SELECT indexdef FROM pg_indexes WHERE indexname = 'job_search_texts_tokens_trgm'");
    expect(tokens.rows[0].indexdef).to.include("(((search_text || ' '::text) || job_name)) gin_trgm_ops");
    // Every sortable column has an index ordered by (column, job_id).
    const sortIndexes = await t.db.raw("SELECT indexdef FROM pg_indexes WHERE tablename = 'jobs'");
    const defs: string[] = sortIndexes.rows.map((r: { indexdef: string }) => r.indexdef);
    for (const column of ['job_name', 'status', 'stopped_at', 'last_updated']) {
      expect(defs.some((d) => d.includes(`(${column}, job_id)`)), column).to.equal(true);
    }
    // The name index holds every column a search token is tested against.
    expect(defs.find((d) => d.includes('(job_name, job_id)'))).to.match(/INCLUDE \(last_updated, status, job_queue, image\)/);
    // No query reads Go's index on created_at; it only cost an entry per status change.
    expect(defs.some((d) => /\(created_at\)/.test(d)), 'created_at index').to.equal(false);
    // New versions of a job's row stay on its page or the newest ones (20261205020000).
    const options = await t.db.raw("SELECT reloptions FROM pg_class WHERE oid = 'jobs'::regclass");
    expect(options.rows[0].reloptions).to.deep.equal(['fillfactor=90']);
    // A task ARN's jobs: running ones in a small index of their own, stopped ones in another (20261205030000).
    const taskIndexes = defs.filter((d) => /task_arn\)/.test(d)).map((d) => d.replace(/^.* USING /, ''));
    expect(taskIndexes.sort()).to.deep.equal([
      'btree (hashtext(task_arn)) WHERE ((stopped_at IS NOT NULL) AND (task_arn IS NOT NULL))',
      'btree (hashtext(task_arn)) WHERE ((stopped_at IS NULL) AND (task_arn IS NOT NULL))',
    ]);
  });

  it("plans a task ARN's lookup as one job, through the statistics of its hash code", async () => {
    const own = await createTestDatabase();
    try {
      await own.db.raw(
        `INSERT INTO jobs (job_id, job_name, job_definition, job_queue, image, status, created_at, stopped_at, task_arn, last_updated,
           vcpus, memory, timeout, command_line)
         SELECT 'j-' || g, 'n', 'd', 'q', 'i', 'SUCCEEDED', now(), now(), 'arn:task/' || g, now(), 1, 512, -1, '[]'
         FROM generate_series(1, 5000) g`,
      );
      await own.db.raw('ANALYZE jobs');
      const plan = await own.db.raw("EXPLAIN SELECT 1 FROM jobs WHERE hashtext(task_arn) = 42 AND stopped_at IS NOT NULL AND task_arn IS NOT NULL");
      // Without them (a partial index's expression has none) the planner takes a share of the table: 25 of these 5,000 jobs.
      expect(plan.rows[0]['QUERY PLAN']).to.match(/rows=1 /);
    } finally {
      await own.drop();
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

  it('fires the status triggers once per statement: one event and one NOTIFY per new or re-statused job', async () => {
    const triggers = await t.db.raw(
      `SELECT tgname, (tgtype & 1) = 1 AS per_row FROM pg_trigger
       WHERE tgrelid = 'jobs'::regclass AND NOT tgisinternal AND tgname LIKE 'job_status%' ORDER BY tgname`,
    );
    expect(triggers.rows).to.deep.equal([
      { tgname: 'job_status_update_trigger_insert', per_row: false },
      { tgname: 'job_status_update_trigger_update', per_row: false },
    ]);
    const listener = new pg.Client({
      host: PG.database_host, port: PG.database_port, user: PG.database_username, password: PG.database_password, database: t.name,
    });
    await listener.connect();
    const notified: string[] = [];
    listener.on('notification', (n) => notified.push(n.payload ?? ''));
    await listener.query('LISTEN job_status_events');
    // Notifications reach the listener asynchronously, in commit order: wait for the ones asked for.
    const received = async (ids: string[]) => {
      for (let i = 0; i < 400 && !ids.every((id) => notified.includes(id)); i++) await new Promise((r) => setTimeout(r, 25));
      expect(notified, 'notifications received').to.include.members(ids);
    };
    try {
      const old = Array.from({ length: 5 }, () => mirroredJob({ status: 'RUNNABLE' }));
      await upsertJobs(t.db, old);
      await received(old.map((j) => j.job_id)); // else they could arrive after the reset below
      await t.db('job_status_events').del();
      notified.length = 0;
      // One statement: 2 new jobs, 2 status changes, 1 other change, 1 unchanged.
      const fresh = [mirroredJob(), mirroredJob()];
      const batch = [
        ...fresh,
        { ...old[0], status: 'RUNNING' as const },
        { ...old[1], status: 'FAILED' as const },
        { ...old[2], status_reason: 'reason only' },
        old[3],
      ];
      expect((await upsertJobs(t.db, batch)).written).to.equal(5);
      const expected = [...fresh.map((j) => j.job_id), old[0].job_id, old[1].job_id].sort();
      expect((await t.db('job_status_events').pluck('job_id')).sort()).to.deep.equal(expected);
      // A set-wide UPDATE without status changes records nothing.
      await t.db('jobs').update({ last_seen_at: new Date() });
      expect((await t.db('job_status_events').pluck('job_id')).sort()).to.deep.equal(expected);
      // A sentinel job after everything above: once its notification is in, every earlier one is.
      const sentinel = mirroredJob();
      await upsertJobs(t.db, [sentinel]);
      await received([sentinel.job_id]);
      expect(notified.filter((id) => id !== sentinel.job_id).sort()).to.deep.equal(expected);
    } finally {
      await listener.end();
    }
  });

  it('rolls back the statement triggers to row triggers that still record status changes', async () => {
    await t.db.migrate.down({ name: '20261127020000_statement_status_triggers.ts' });
    const triggers = await t.db.raw(
      `SELECT tgname, (tgtype & 1) = 1 AS per_row FROM pg_trigger
       WHERE tgrelid = 'jobs'::regclass AND NOT tgisinternal AND tgname LIKE 'job_status%' ORDER BY tgname`,
    );
    expect(triggers.rows.map((r: { per_row: boolean }) => r.per_row)).to.deep.equal([true, true]);
    const job = mirroredJob({ status: 'RUNNABLE' });
    await upsertJobs(t.db, [job]);
    await t.db('job_status_events').del();
    await upsertJobs(t.db, [{ ...job, status: 'RUNNING' }]);
    expect(await t.db('job_status_events').pluck('job_id')).to.deep.equal([job.job_id]);
    await t.db.migrate.latest();
  });

  it("rewrites this project's earlier array_properties to the Go original's shape, leaving Go rows and children alone", async () => {
    const name = '20261203020000_array_properties_go_shape.ts';
    await t.db.migrate.down({ name });
    const goShape = { size: 4, status_summary: { starting: 0, failed: 1, running: 0, succeeded: 3, runnable: 0, submitted: 0, pending: 0 } };
    const base = { job_name: 'n', job_definition: 'd', job_queue: 'q', image: 'i', status: 'RUNNING', created_at: new Date(),
      vcpus: 1, memory: 128, command_line: '[]', last_updated: new Date() };
    await t.db('jobs').insert([
      { ...base, job_id: 'ap-old', array_properties: JSON.stringify({ size: 10, statusSummary: { RUNNING: 4, SUCCEEDED: 6 } }) },
      { ...base, job_id: 'ap-go', array_properties: JSON.stringify(goShape) },
      { ...base, job_id: 'ap-old:3', array_properties: JSON.stringify({ index: 3 }) },
    ]);
    await t.db.migrate.latest();
    const rows = Object.fromEntries(
      (await t.db('jobs').whereIn('job_id', ['ap-old', 'ap-go', 'ap-old:3']).select('job_id', 'array_properties')).map((r) => [r.job_id, r.array_properties]),
    );
    expect(rows['ap-old']).to.deep.equal({
      size: 10,
      status_summary: { starting: 0, failed: 0, running: 4, succeeded: 6, runnable: 0, submitted: 0, pending: 0 },
    });
    expect(rows['ap-go']).to.deep.equal(goShape);
    expect(rows['ap-old:3']).to.deep.equal({ index: 3 });
  });

  it('rolls back to an empty database and migrates up again', async () => {
    await t.db.migrate.rollback(undefined, true);
    for (const table of TABLES) expect(await t.db.schema.hasTable(table), table).to.equal(false);
    await t.db.migrate.latest();
    for (const table of TABLES) expect(await t.db.schema.hasTable(table), table).to.equal(true);
  });
});
