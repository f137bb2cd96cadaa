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
import { jobStats, jobStatsFromJobs } from '../../src/store/stats';
import type { StatsRow } from '../../src/api/contract';
import { mirroredJob } from './fixtures';
import { up as schemaUp } from '../../migrations/20261127000000_batchiepatchie_schema';
import { GO_ARRAY_PARENT_ID, GO_SCHEMA_V23, ID36, ID44, T, createGooseTable, seedGoRows } from './goDatabase';

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

    await seedGoRows(t.db);

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
    const arr = await getJob(t.db, GO_ARRAY_PARENT_ID);
    expect(arr?.array_properties).to.deep.equal({
      size: 10,
      status_summary: { starting: 0, failed: 0, running: 4, succeeded: 6, runnable: 0, submitted: 0, pending: 0 },
    });
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

  it('fills the stats rollup from the adopted jobs, so stats read it at once', async () => {
    expect(await t.db('job_stats_dirty').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
    const fiveMinutes = await t.db('job_stats_rollup').where({ level: 300 }).orderBy(['job_queue', 'status'])
      .select('job_queue', 'status', 'job_count', 'vcpu_seconds', 'instance_seconds', 'run_vcpus');
    // The finished Go jobs (55 s each, 2 vCPUs), and the running array parent (its vCPUs, its seconds counted at each request).
    expect(fiveMinutes).to.deep.equal([
      { job_queue: 'go-queue', status: 'FAILED', job_count: 1, vcpu_seconds: 110, instance_seconds: 0, run_vcpus: 0 },
      { job_queue: 'go-queue', status: 'RUNNING', job_count: 1, vcpu_seconds: 0, instance_seconds: 0, run_vcpus: 2 },
      { job_queue: 'go-queue', status: 'SUCCEEDED', job_count: 1, vcpu_seconds: 110, instance_seconds: 55, run_vcpus: 0 },
      { job_queue: 'go-queue-2', status: 'SUCCEEDED', job_count: 1, vcpu_seconds: 110, instance_seconds: 55, run_vcpus: 0 },
    ]);
    const q = { start: new Date(T.getTime() - 86_400_000), end: new Date(T.getTime() + 40 * 86_400_000), queues: ['go-queue', 'go-queue-2'], statuses: [] };
    const counts = (rows: StatsRow[]) => rows.map((r) => [r.job_queue, r.status, r.job_count]);
    const [ours, fromJobs] = await t.db.transaction(async (trx) => [await jobStats(trx, q), await jobStatsFromJobs(trx, q)]);
    expect(counts(ours)).to.deep.equal(counts(fromJobs));
    expect(counts(ours)).to.deep.include.members([['go-queue', 'RUNNING', 1]]);
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

  it('finds the adopted jobs by status reason and command line (the copy filled by the migration)', async () => {
    const q = { tokens: [], queues: ['go-queue-2'], statuses: [], dateRange: '30d' as const, now: new Date(T.getTime() + 86_400_000),
      sortColumn: 'id' as const, sortDirection: 'ASC' as const, page: 0 };
    expect((await searchJobs(t.db, { ...q, commandWords: ['"RUN"'] })).map((j) => j.job_id)).to.deep.equal([ID44]);
    expect((await searchJobs(t.db, { ...q, reasonWords: ['essential', 'exited'] })).map((j) => j.job_id)).to.deep.equal([ID44]);
    expect(await searchJobs(t.db, { ...q, commandWords: ['walk'] })).to.deep.equal([]);
    const [{ copies }] = await t.db('job_command_lines').count({ copies: '*' });
    const [{ jobs }] = await t.db('jobs').count({ jobs: '*' });
    expect(copies).to.equal(jobs);
  });

  it('fills the search copies of the adopted jobs (texts and names, filled by the migrations)', async () => {
    const texts = await t.db('job_search_texts').orderBy('job_id').select('search_text', 'job_name');
    const adopted: { job_id: string; job_name: string; job_queue: string; image: string }[] = await t.db('jobs').orderBy('job_id');
    expect(texts).to.deep.equal(adopted.map((j) => ({ search_text: `${j.job_id} ${j.job_queue} ${j.image}`, job_name: j.job_name })));
    // Go's trigram index on jobs is gone: tokens are looked up in the copy.
    expect((await t.db.raw("SELECT 1 FROM pg_indexes WHERE indexname = 'trgm_idx_jobs'")).rows).to.have.length(0);
    const names = (await t.db('job_names').pluck('job_name')).sort();
    expect(names).to.deep.equal([...new Set(adopted.map((j) => j.job_name))].sort());
  });

  it('adds job_dependencies, written by the upsert beside the adopted rows', async () => {
    const waiting = mirroredJob({ status: 'PENDING' });
    await upsertJobs(t.db, [waiting], { dependencies: new Map([[waiting.job_id, [{ depends_on_job_id: ID36, type: null }]]]) });
    expect(await t.db('job_dependencies').where({ depends_on_job_id: ID36 }).pluck('job_id')).to.deep.equal([waiting.job_id]);
    await t.db('job_dependencies').del();
    await t.db('jobs').where({ job_id: waiting.job_id }).del();
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
    expect(await t.db.schema.hasTable('job_dependencies'), 'not a Go table').to.equal(false);
    expect(await t.db.schema.hasTable('job_command_lines'), 'not a Go table').to.equal(false);
    expect(await t.db.schema.hasTable('job_search_texts'), 'not a Go table').to.equal(false);
    expect(await t.db.schema.hasTable('job_names'), 'not a Go table').to.equal(false);
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
