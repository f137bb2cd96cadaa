/**
 * Adoption of a Go-Batchiepatchie database: the Go schema at goose version 23
 * (as its 23 migrations leave it) with rows in every table is migrated in
 * place, every row stays readable through the store, and rollback returns to
 * the Go schema with the rows kept.
 */
import { expect } from 'chai';
import type { Knex } from 'knex';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { migrateLatest } from '../../src/store/db';
import { getJob, getJobStatus } from '../../src/store/jobs/lookups';
import { searchJobs } from '../../src/store/jobs/search';
import { upsertJobs } from '../../src/store/jobs/upsert';
import { listActivatedQueues } from '../../src/store/queues';
import { recordJobSummary } from '../../src/store/eventLogs';
import { mirroredJob } from './fixtures';
import { up as schemaUp } from '../../migrations/20261127000000_batchiepatchie_schema';

/** The Go schema after goose migrations 1..23, written out as its final shape. */
const GO_SCHEMA_V23 = [
  `CREATE EXTENSION IF NOT EXISTS pg_trgm`,
  `CREATE TABLE jobs (
     job_id VARCHAR(44) NOT NULL PRIMARY KEY,
     job_name TEXT NOT NULL, job_definition TEXT NOT NULL, job_queue TEXT NOT NULL, image TEXT NOT NULL,
     status VARCHAR(9) NOT NULL,
     created_at TIMESTAMP WITH TIME ZONE NOT NULL, stopped_at TIMESTAMP WITH TIME ZONE,
     vcpus INTEGER NOT NULL, memory INTEGER NOT NULL, timeout INTEGER, command_line TEXT NOT NULL,
     last_updated TIMESTAMP WITH TIME ZONE NOT NULL,
     status_reason TEXT, run_started_at TIMESTAMP WITH TIME ZONE, exitcode INTEGER, log_stream_name TEXT,
     termination_requested BOOLEAN NOT NULL DEFAULT 'f', task_arn TEXT, array_properties JSONB)`,
  `CREATE INDEX jobs_created_at_timestamp ON jobs (created_at)`,
  `CREATE INDEX jobs_stopped_at_timestamp ON jobs (stopped_at)`,
  `CREATE INDEX jobs_last_updated_timestamp ON jobs (last_updated)`,
  `CREATE INDEX jobs_status ON jobs (status)`,
  `CREATE INDEX job_queue_timestamp_jobs ON jobs (job_queue, last_updated)`,
  `CREATE INDEX trgm_idx_jobs ON jobs USING gin ((job_id || job_name || job_queue || image) gin_trgm_ops)`,
  `CREATE TABLE compute_environment_event_log (
     timestamp TIMESTAMP WITH TIME ZONE NOT NULL, compute_environment TEXT NOT NULL,
     desired_vcpus INTEGER, max_vcpus INTEGER, min_vcpus INTEGER, state TEXT, service_role TEXT)`,
  `CREATE INDEX compute_environment_event_log_timestamp ON compute_environment_event_log (timestamp)`,
  `CREATE INDEX compute_environment_event_log_compute_environment ON compute_environment_event_log (compute_environment, timestamp)`,
  `CREATE TABLE job_summary_event_log (
     timestamp TIMESTAMP WITH TIME ZONE NOT NULL, job_queue TEXT NOT NULL,
     submitted INTEGER NOT NULL, pending INTEGER NOT NULL, runnable INTEGER NOT NULL,
     starting INTEGER NOT NULL, running INTEGER NOT NULL)`,
  `CREATE INDEX job_summary_event_log_timestamp ON job_summary_event_log (timestamp)`,
  `CREATE INDEX job_summary_event_log_job_queue ON job_summary_event_log (job_queue, timestamp)`,
  `CREATE TABLE activated_job_queues (job_queue TEXT NOT NULL PRIMARY KEY, forced_scaling BOOLEAN NOT NULL DEFAULT 'f')`,
  `CREATE TABLE task_arns_to_instance_info (
     task_arn TEXT NOT NULL, instance_id TEXT NOT NULL, public_ip TEXT NOT NULL, private_ip TEXT NOT NULL,
     PRIMARY KEY (task_arn, instance_id))`,
  `CREATE INDEX task_arns_task_arns ON task_arns_to_instance_info (task_arn)`,
  `CREATE INDEX task_arns_instance_id ON task_arns_to_instance_info (instance_id)`,
  `CREATE TABLE instances (
     appeared_at TIMESTAMP WITH TIME ZONE NOT NULL, disappeared_at TIMESTAMP WITH TIME ZONE,
     launched_at TIMESTAMP WITH TIME ZONE, ami TEXT NOT NULL, instance_id TEXT NOT NULL PRIMARY KEY,
     instance_type TEXT NOT NULL, compute_environment_arn TEXT NOT NULL, ecs_cluster_arn TEXT NOT NULL,
     availability_zone TEXT NOT NULL, spot_instance_request_id TEXT, private_ip_address TEXT, public_ip_address TEXT)`,
  `CREATE TABLE instance_event_log (
     timestamp TIMESTAMP WITH TIME ZONE NOT NULL, instance_id TEXT NOT NULL, active_jobs JSONB NOT NULL,
     PRIMARY KEY (timestamp, instance_id))`,
  `CREATE INDEX instances_disappeared_at ON instances (disappeared_at)`,
  `CREATE INDEX instances_launched_at ON instances (launched_at)`,
  `CREATE INDEX instances_appeared_at ON instances (appeared_at)`,
  `CREATE INDEX instance_event_log_instance_id ON instance_event_log (instance_id)`,
  // Go kept job_status_events.job_id at CHAR(36) when it widened jobs.job_id.
  `CREATE TABLE job_status_events (job_id CHAR(36) NOT NULL PRIMARY KEY, updated TIMESTAMP WITH TIME ZONE NOT NULL)`,
  `CREATE FUNCTION job_status_update_update() RETURNS trigger AS $b$
   BEGIN
     IF NEW.status <> OLD.status THEN
       INSERT INTO job_status_events (job_id, updated) VALUES (NEW.job_id, now())
         ON CONFLICT (job_id) DO UPDATE SET updated = now();
     END IF;
     RETURN NEW;
   END; $b$ LANGUAGE plpgsql`,
  `CREATE FUNCTION job_status_update_insert() RETURNS trigger AS $b$
   BEGIN
     INSERT INTO job_status_events (job_id, updated) VALUES (NEW.job_id, now())
       ON CONFLICT (job_id) DO UPDATE SET updated = now();
     RETURN NEW;
   END; $b$ LANGUAGE plpgsql`,
  `CREATE TRIGGER job_status_update_trigger_insert AFTER INSERT ON jobs FOR EACH ROW EXECUTE PROCEDURE job_status_update_insert()`,
  `CREATE TRIGGER job_status_update_trigger_update AFTER UPDATE ON jobs FOR EACH ROW EXECUTE PROCEDURE job_status_update_update()`,
];

async function createGooseTable(db: Knex, version: number): Promise<void> {
  await db.raw(`CREATE TABLE goose_db_version (
    id SERIAL PRIMARY KEY, version_id BIGINT NOT NULL, is_applied BOOLEAN NOT NULL, tstamp TIMESTAMP NULL DEFAULT now())`);
  for (let v = 0; v <= version; v += 1) await db('goose_db_version').insert({ version_id: v, is_applied: true });
}

const ID36 = '0f8e2f4a-1b2c-4d3e-8f9a-0123456789ab';
const ID44 = 'job-0123456789abcdef0123456789abcdef01234567';
const T = new Date('2026-10-01T10:00:00.000Z');

function goJob(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    job_id: id, job_name: `name-${id.slice(0, 8)}`, job_definition: 'arn:def/go:3', job_queue: 'go-queue',
    image: 'go/image:1', status: 'SUCCEEDED', created_at: T, stopped_at: new Date(T.getTime() + 60_000),
    vcpus: 2, memory: 2048, timeout: 3600, command_line: '["run"]', last_updated: new Date(T.getTime() + 60_000),
    status_reason: 'Essential container in task exited', run_started_at: new Date(T.getTime() + 5_000), exitcode: 0,
    log_stream_name: `def/default/${id.slice(0, 8)}`, termination_requested: false, task_arn: `arn:ecs:task/${id}`,
    array_properties: null,
    ...overrides,
  };
}

/** Every table's rows, ordered, as plain JSON for comparison before and after. */
async function snapshot(db: Knex, columnsOf: Record<string, string[]>): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [table, columns] of Object.entries(columnsOf)) {
    const rows = await db(table).select(columns).orderBy(columns.slice(0, 2));
    out[table] = JSON.parse(JSON.stringify(rows));
  }
  return out;
}

async function columnNames(db: Knex, table: string): Promise<string[]> {
  const rows = await db('information_schema.columns').where({ table_name: table, table_schema: 'public' }).orderBy('column_name').pluck('column_name');
  return rows as string[];
}

describe('adoption of a Go-Batchiepatchie database (goose version 23)', () => {
  let t: TestDatabase;
  let goColumns: Record<string, string[]>;
  let goRows: Record<string, unknown[]>;

  before(async function (this: Mocha.Context) {
    this.timeout(60_000);
    t = await createTestDatabase({ migrate: false });
    for (const sql of GO_SCHEMA_V23) await t.db.raw(sql);
    await createGooseTable(t.db, 23);

    await t.db('jobs').insert([
      goJob(ID36),
      goJob('a0000000-0000-4000-8000-000000000001', { status: 'RUNNING', stopped_at: null, exitcode: null,
        array_properties: JSON.stringify({ size: 10, statusSummary: { RUNNING: 4, SUCCEEDED: 6 } }) }),
      goJob('a0000000-0000-4000-8000-000000000002', { status: 'FAILED', timeout: null, termination_requested: true,
        task_arn: null, log_stream_name: null, exitcode: 1 }),
    ]);
    // The Go schema's job_status_events.job_id is CHAR(36): its insert trigger
    // fails for a 44-character id, so such rows can only exist with it off.
    await t.db.raw('ALTER TABLE jobs DISABLE TRIGGER job_status_update_trigger_insert');
    await t.db('jobs').insert(goJob(ID44, { job_queue: 'go-queue-2' }));
    await t.db.raw('ALTER TABLE jobs ENABLE TRIGGER job_status_update_trigger_insert');

    await t.db('activated_job_queues').insert([{ job_queue: 'go-queue', forced_scaling: true }, { job_queue: 'go-queue-2' }]);
    await t.db('job_summary_event_log').insert({ timestamp: T, job_queue: 'go-queue', submitted: 1, pending: 2, runnable: 3, starting: 4, running: 5 });
    await t.db('compute_environment_event_log').insert({ timestamp: T, compute_environment: 'go-ce', desired_vcpus: 4, max_vcpus: 256, min_vcpus: 0, state: 'ENABLED', service_role: 'arn:role' });
    await t.db('instances').insert({ appeared_at: T, disappeared_at: null, launched_at: T, ami: 'ami-go', instance_id: 'i-0go',
      instance_type: 'c5.xlarge', compute_environment_arn: 'arn:ce/go', ecs_cluster_arn: 'arn:cluster/go', availability_zone: 'us-east-1b',
      spot_instance_request_id: 'sir-1', private_ip_address: '10.1.1.1', public_ip_address: '54.1.1.1' });
    await t.db('instance_event_log').insert({ timestamp: T, instance_id: 'i-0go', active_jobs: JSON.stringify([`arn:ecs:task/${ID36}`]) });
    await t.db('task_arns_to_instance_info').insert([
      { task_arn: `arn:ecs:task/${ID36}`, instance_id: 'i-0go', public_ip: '54.1.1.1', private_ip: '10.1.1.1' },
      { task_arn: `arn:ecs:task/${ID44}`, instance_id: 'i-0go', public_ip: '54.1.1.1', private_ip: '10.1.1.1' },
    ]);

    goColumns = {};
    for (const table of ['jobs', 'activated_job_queues', 'job_summary_event_log', 'compute_environment_event_log',
      'instances', 'instance_event_log', 'task_arns_to_instance_info', 'job_status_events']) {
      goColumns[table] = await columnNames(t.db, table);
    }
    // Put the key columns first so the snapshot order is stable.
    goColumns.jobs = ['job_id', ...goColumns.jobs.filter((c) => c !== 'job_id')];
    goColumns.instance_event_log = ['timestamp', 'instance_id', 'active_jobs'];
    goColumns.task_arns_to_instance_info = ['task_arn', 'instance_id', 'public_ip', 'private_ip'];
    goColumns.job_status_events = ['job_id', 'updated'];
    goRows = await snapshot(t.db, goColumns);
    expect(goRows.jobs).to.have.length(4);
    expect(goRows.job_status_events).to.have.length(3);

    await migrateLatest(t.db);
  });
  after(async () => t.drop());

  it('keeps every row of every Go table', async () => {
    const after = await snapshot(t.db, goColumns);
    expect(after).to.deep.equal(goRows);
  });

  it('makes the adopted rows readable through the store', async () => {
    const j36 = await getJob(t.db, ID36);
    expect(j36).to.include({ job_id: ID36, status: 'SUCCEEDED', vcpus: 2, vcpus_exact: null, instance_id: 'i-0go',
      public_ip: '54.1.1.1', private_ip: '10.1.1.1', attempts: 0, job_type: 'container', last_seen_at: null });
    expect(j36?.created_at.toISOString()).to.equal(T.toISOString());
    const j44 = await getJob(t.db, ID44);
    expect(j44).to.include({ job_id: ID44, job_queue: 'go-queue-2', instance_id: 'i-0go' });
    const arr = await getJob(t.db, 'a0000000-0000-4000-8000-000000000001');
    expect(arr?.array_properties).to.deep.equal({ size: 10, statusSummary: { RUNNING: 4, SUCCEEDED: 6 } });
    expect(await getJobStatus(t.db, 'a0000000-0000-4000-8000-000000000002')).to.deep.equal({
      id: 'a0000000-0000-4000-8000-000000000002', status: 'FAILED',
    });
    const found = await searchJobs(t.db, { tokens: ['go/IMAGE'], queues: ['go-queue', 'go-queue-2'], statuses: [],
      dateRange: '30d', sortColumn: 'id', sortDirection: 'ASC', page: 0, now: new Date(T.getTime() + 86_400_000) });
    expect(found.map((j) => j.job_id)).to.deep.equal(['0f8e2f4a-1b2c-4d3e-8f9a-0123456789ab',
      'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000002', ID44].sort());
    expect(await listActivatedQueues(t.db)).to.deep.equal([
      { job_queue: 'go-queue', forced_scaling: true },
      { job_queue: 'go-queue-2', forced_scaling: false },
    ]);
    // The event log's latest Go row counts as the previous state.
    expect(await recordJobSummary(t.db, 'go-queue', { submitted: 1, pending: 2, runnable: 3, starting: 4, running: 5 })).to.equal(false);
  });

  it('accepts 64-character ids and keeps exactly one pair of status triggers, each firing once', async () => {
    const id64 = `${'b'.repeat(36)}:${'1'.repeat(27)}`;
    await t.db('job_status_events').del();
    const result = await upsertJobs(t.db, [mirroredJob({ job_id: id64, status: 'RUNNABLE' })]);
    expect(result.written).to.equal(1);
    expect(await t.db('job_status_events').pluck('job_id')).to.deep.equal([id64]);
    await t.db('job_status_events').del();
    await t.db('jobs').where({ job_id: ID36 }).update({ status: 'GONE' });
    expect(await t.db('job_status_events').pluck('job_id')).to.deep.equal([ID36]);
    const triggers = await t.db('pg_trigger')
      .join('pg_class', 'pg_class.oid', 'pg_trigger.tgrelid')
      .where('pg_class.relname', 'jobs')
      .where('pg_trigger.tgisinternal', false)
      .where('tgname', 'like', 'job_status%')
      .orderBy('tgname')
      .pluck('tgname');
    expect(triggers).to.deep.equal(['job_status_update_trigger_insert', 'job_status_update_trigger_update']);
    await t.db('jobs').where({ job_id: ID36 }).update({ status: 'SUCCEEDED' });
  });

  it('running the schema migration again changes nothing (it is idempotent)', async () => {
    const snap = await snapshot(t.db, goColumns);
    await schemaUp(t.db);
    expect(await snapshot(t.db, goColumns)).to.deep.equal(snap);
  });

  it('rolls back to the Go schema with the rows kept', async () => {
    const goJobColumns = goColumns.jobs.slice().sort();
    await t.db.migrate.rollback(undefined, true);
    expect(await columnNames(t.db, 'jobs')).to.deep.equal(goJobColumns);
    for (const table of Object.keys(goColumns)) expect(await t.db.schema.hasTable(table), table).to.equal(true);
    const rows = await t.db('jobs').orderBy('job_id').pluck('job_id');
    expect(rows).to.include.members([ID36, ID44]);
    expect(rows).to.have.length(5);
    // The Go trigger semantics are back (no NOTIFY), and still fire once.
    await t.db('job_status_events').del();
    await t.db('jobs').where({ job_id: ID36 }).update({ status: 'FAILED' });
    expect(await t.db('job_status_events').pluck('job_id')).to.deep.equal([ID36]);
    const indexes = await t.db.raw("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'jobs' ORDER BY indexname");
    const defs = Object.fromEntries(indexes.rows.map((r: { indexname: string; indexdef: string }) => [r.indexname, r.indexdef]));
    expect(defs.jobs_status).to.match(/\(status\)$/);
    expect(defs.jobs_stopped_at_timestamp).to.match(/\(stopped_at\)$/);
    expect(defs.jobs_last_updated_timestamp).to.match(/\(last_updated\)$/);
    expect(defs.job_queue_timestamp_jobs).to.match(/\(job_queue, last_updated\)$/);
    expect(Object.keys(defs).sort()).to.deep.equal([
      'job_queue_timestamp_jobs', 'jobs_created_at_timestamp', 'jobs_last_updated_timestamp', 'jobs_pkey',
      'jobs_status', 'jobs_stopped_at_timestamp', 'trgm_idx_jobs',
    ]);
    const fn = await t.db.raw("SELECT prosrc FROM pg_proc WHERE proname = 'job_status_update_insert'");
    expect(fn.rows[0].prosrc).to.not.match(/pg_notify/);
  });
});

describe('adoption refuses a Go database below goose version 23', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase({ migrate: false });
    await createGooseTable(t.db, 22);
  });
  after(async () => t.drop());

  it('fails with a message that names the version and what to do', async () => {
    let error: unknown;
    try {
      await migrateLatest(t.db);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.match(/goose version 22/).and.to.match(/version 23/).and.to.match(/goose up/);
    expect(await t.db.schema.hasTable('jobs')).to.equal(false);
  });
});
