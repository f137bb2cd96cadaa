import type { Knex } from 'knex';

/**
 * The whole Batchiepatchie schema, written so that one path serves both cases:
 * a fresh database, and adoption of a Go-Batchiepatchie database (goose at
 * version 23). Every statement is idempotent (IF NOT EXISTS, CREATE OR REPLACE),
 * so on a Go database it only adds what the Go schema lacks and widens job ids,
 * keeping every row. Table, column and index names are the Go original's.
 */

const GO_SCHEMA_MIN_VERSION = 23;

async function goVersion(knex: Knex): Promise<number | null> {
  const exists = await knex.schema.hasTable('goose_db_version');
  if (!exists) return null;
  const row = await knex('goose_db_version')
    .where({ is_applied: true })
    .max<{ max: number | string | null }>('version_id as max')
    .first();
  return row?.max == null ? 0 : Number(row.max);
}

export async function up(knex: Knex): Promise<void> {
  const version = await goVersion(knex);
  if (version !== null && version < GO_SCHEMA_MIN_VERSION) {
    throw new Error(
      `This database was made by Go-Batchiepatchie at goose version ${version}; ` +
        `adoption needs version ${GO_SCHEMA_MIN_VERSION} or later. Run the Go migrations up first (goose up).`,
    );
  }

  await knex.raw('CREATE EXTENSION IF NOT EXISTS pg_trgm');

  await knex.raw(`
    CREATE TABLE IF NOT EXISTS jobs (
      job_id         VARCHAR(64) NOT NULL PRIMARY KEY,
      job_name       TEXT NOT NULL,
      job_definition TEXT NOT NULL,
      job_queue      TEXT NOT NULL,
      image          TEXT NOT NULL,
      status         VARCHAR(9) NOT NULL,
      created_at     TIMESTAMP WITH TIME ZONE NOT NULL,
      stopped_at     TIMESTAMP WITH TIME ZONE,
      vcpus          INTEGER NOT NULL,
      memory         INTEGER NOT NULL,
      timeout        INTEGER,
      command_line   TEXT NOT NULL,
      last_updated   TIMESTAMP WITH TIME ZONE NOT NULL
    )`);
  // Dropped here and re-created at the end: the update trigger's WHEN clause
  // references `status`, whose type is altered below.
  await knex.raw('DROP TRIGGER IF EXISTS job_status_update_trigger_insert ON jobs');
  await knex.raw('DROP TRIGGER IF EXISTS job_status_update_trigger_update ON jobs');
  // Columns the Go migrations added one by one (present on an adopted database).
  await knex.raw(`
    ALTER TABLE jobs
      ADD COLUMN IF NOT EXISTS status_reason TEXT,
      ADD COLUMN IF NOT EXISTS run_started_at TIMESTAMP WITH TIME ZONE,
      ADD COLUMN IF NOT EXISTS exitcode INTEGER,
      ADD COLUMN IF NOT EXISTS log_stream_name TEXT,
      ADD COLUMN IF NOT EXISTS termination_requested BOOLEAN NOT NULL DEFAULT FALSE,
      ADD COLUMN IF NOT EXISTS task_arn TEXT,
      ADD COLUMN IF NOT EXISTS array_properties JSONB,
      ADD COLUMN IF NOT EXISTS log_group_name TEXT`);
  // Ours: modern Batch, and the bookkeeping GONE needs.
  await knex.raw(`
    ALTER TABLE jobs
      ADD COLUMN IF NOT EXISTS vcpus_exact DOUBLE PRECISION,
      ADD COLUMN IF NOT EXISTS array_parent_id VARCHAR(64),
      ADD COLUMN IF NOT EXISTS array_index INTEGER,
      ADD COLUMN IF NOT EXISTS attempts INTEGER NOT NULL DEFAULT 0,
      ADD COLUMN IF NOT EXISTS platform TEXT,
      ADD COLUMN IF NOT EXISTS job_type TEXT NOT NULL DEFAULT 'container',
      ADD COLUMN IF NOT EXISTS last_seen_at TIMESTAMP WITH TIME ZONE`);
  // Go had 36 then 44 characters; array children ("<uuid>:<index>") and other
  // id shapes fit in 64. Widening a varchar keeps every value.
  await knex.raw('ALTER TABLE jobs ALTER COLUMN job_id TYPE VARCHAR(64)');
  // GONE did not fit the Go column in some versions; keep it wide enough.
  await knex.raw('ALTER TABLE jobs ALTER COLUMN status TYPE VARCHAR(16)');

  await knex.raw('CREATE INDEX IF NOT EXISTS jobs_created_at_timestamp ON jobs (created_at)');
  await knex.raw('CREATE INDEX IF NOT EXISTS jobs_stopped_at_timestamp ON jobs (stopped_at)');
  await knex.raw('CREATE INDEX IF NOT EXISTS jobs_last_updated_timestamp ON jobs (last_updated)');
  await knex.raw('CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status)');
  await knex.raw('CREATE INDEX IF NOT EXISTS job_queue_timestamp_jobs ON jobs (job_queue, last_updated)');
  await knex.raw('CREATE INDEX IF NOT EXISTS jobs_array_parent_id ON jobs (array_parent_id) WHERE array_parent_id IS NOT NULL');
  await knex.raw(
    'CREATE INDEX IF NOT EXISTS trgm_idx_jobs ON jobs USING gin ((job_id || job_name || job_queue || image) gin_trgm_ops)',
  );

  await knex.raw(`
    CREATE TABLE IF NOT EXISTS activated_job_queues (
      job_queue TEXT NOT NULL PRIMARY KEY
    )`);
  await knex.raw(
    'ALTER TABLE activated_job_queues ADD COLUMN IF NOT EXISTS forced_scaling BOOLEAN NOT NULL DEFAULT FALSE',
  );

  await knex.raw(`
    CREATE TABLE IF NOT EXISTS job_summary_event_log (
      timestamp TIMESTAMP WITH TIME ZONE NOT NULL,
      job_queue TEXT NOT NULL,
      submitted INTEGER NOT NULL,
      pending   INTEGER NOT NULL,
      runnable  INTEGER NOT NULL,
      starting  INTEGER NOT NULL,
      running   INTEGER NOT NULL
    )`);
  await knex.raw('CREATE INDEX IF NOT EXISTS job_summary_event_log_timestamp ON job_summary_event_log (timestamp)');
  await knex.raw(
    'CREATE INDEX IF NOT EXISTS job_summary_event_log_job_queue ON job_summary_event_log (job_queue, timestamp)',
  );

  await knex.raw(`
    CREATE TABLE IF NOT EXISTS compute_environment_event_log (
      timestamp           TIMESTAMP WITH TIME ZONE NOT NULL,
      compute_environment TEXT NOT NULL,
      desired_vcpus       INTEGER,
      max_vcpus           INTEGER,
      min_vcpus           INTEGER,
      state               TEXT,
      service_role        TEXT
    )`);
  await knex.raw(
    'CREATE INDEX IF NOT EXISTS compute_environment_event_log_timestamp ON compute_environment_event_log (timestamp)',
  );
  await knex.raw(
    'CREATE INDEX IF NOT EXISTS compute_environment_event_log_compute_environment ON compute_environment_event_log (compute_environment, timestamp)',
  );

  await knex.raw(`
    CREATE TABLE IF NOT EXISTS instances (
      appeared_at              TIMESTAMP WITH TIME ZONE NOT NULL,
      disappeared_at           TIMESTAMP WITH TIME ZONE,
      launched_at              TIMESTAMP WITH TIME ZONE,
      ami                      TEXT NOT NULL,
      instance_id              TEXT NOT NULL PRIMARY KEY,
      instance_type            TEXT NOT NULL,
      compute_environment_arn  TEXT NOT NULL,
      ecs_cluster_arn          TEXT NOT NULL,
      availability_zone        TEXT NOT NULL,
      spot_instance_request_id TEXT,
      private_ip_address       TEXT,
      public_ip_address        TEXT
    )`);
  await knex.raw('CREATE INDEX IF NOT EXISTS instances_disappeared_at ON instances (disappeared_at)');
  await knex.raw('CREATE INDEX IF NOT EXISTS instances_launched_at ON instances (launched_at)');
  await knex.raw('CREATE INDEX IF NOT EXISTS instances_appeared_at ON instances (appeared_at)');

  await knex.raw(`
    CREATE TABLE IF NOT EXISTS instance_event_log (
      timestamp   TIMESTAMP WITH TIME ZONE NOT NULL,
      instance_id TEXT NOT NULL,
      active_jobs JSONB NOT NULL,
      PRIMARY KEY (timestamp, instance_id)
    )`);
  await knex.raw('CREATE INDEX IF NOT EXISTS instance_event_log_instance_id ON instance_event_log (instance_id)');

  await knex.raw(`
    CREATE TABLE IF NOT EXISTS task_arns_to_instance_info (
      task_arn    TEXT NOT NULL,
      instance_id TEXT NOT NULL,
      public_ip   TEXT NOT NULL,
      private_ip  TEXT NOT NULL,
      PRIMARY KEY (task_arn, instance_id)
    )`);
  await knex.raw('CREATE INDEX IF NOT EXISTS task_arns_task_arns ON task_arns_to_instance_info (task_arn)');
  await knex.raw('CREATE INDEX IF NOT EXISTS task_arns_instance_id ON task_arns_to_instance_info (instance_id)');

  await knex.raw(`
    CREATE TABLE IF NOT EXISTS job_status_events (
      job_id  VARCHAR(64) NOT NULL PRIMARY KEY,
      updated TIMESTAMP WITH TIME ZONE NOT NULL
    )`);
  await knex.raw('ALTER TABLE job_status_events ALTER COLUMN job_id TYPE VARCHAR(64)');
  // No index on `updated`: every status change rewrites its job's row here, and
  // without an index on the changed column that rewrite is a cheap HOT update.

  // Status-change triggers (same function names as the Go original, so an
  // adopted database keeps exactly one pair). They also NOTIFY, so a listener
  // can learn of changes without polling job_status_events.
  await knex.raw(`
    CREATE OR REPLACE FUNCTION job_status_update_insert() RETURNS trigger AS $body$
    BEGIN
      INSERT INTO job_status_events (job_id, updated) VALUES (NEW.job_id, now())
        ON CONFLICT (job_id) DO UPDATE SET updated = now();
      PERFORM pg_notify('job_status_events', NEW.job_id);
      RETURN NEW;
    END;
    $body$ LANGUAGE plpgsql`);
  await knex.raw(`
    CREATE OR REPLACE FUNCTION job_status_update_update() RETURNS trigger AS $body$
    BEGIN
      IF NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO job_status_events (job_id, updated) VALUES (NEW.job_id, now())
          ON CONFLICT (job_id) DO UPDATE SET updated = now();
        PERFORM pg_notify('job_status_events', NEW.job_id);
      END IF;
      RETURN NEW;
    END;
    $body$ LANGUAGE plpgsql`);
  await createRowStatusTriggers(knex);
}

/**
 * The status triggers of this migration, one call per row (a later migration
 * replaces them with statement triggers, and its rollback calls this).
 */
export async function createRowStatusTriggers(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS job_status_update_trigger_insert ON jobs');
  await knex.raw('DROP TRIGGER IF EXISTS job_status_update_trigger_update ON jobs');
  await knex.raw(`
    CREATE TRIGGER job_status_update_trigger_insert AFTER INSERT ON jobs
      FOR EACH ROW EXECUTE PROCEDURE job_status_update_insert()`);
  // WHEN: updates that leave the status alone (last_seen_at, termination
  // flags, other fields) do not even call the function.
  await knex.raw(`
    CREATE TRIGGER job_status_update_trigger_update AFTER UPDATE ON jobs
      FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE PROCEDURE job_status_update_update()`);
}

/**
 * Rolling back an adopted database returns it to the Go schema (our columns
 * dropped, Go's kept with their rows); rolling back a fresh one drops it all.
 */
export async function down(knex: Knex): Promise<void> {
  const version = await goVersion(knex);
  if (version !== null) {
    await downToGoSchema(knex, version);
    return;
  }
  await knex.raw('DROP TRIGGER IF EXISTS job_status_update_trigger_insert ON jobs');
  await knex.raw('DROP TRIGGER IF EXISTS job_status_update_trigger_update ON jobs');
  await knex.raw('DROP FUNCTION IF EXISTS job_status_update_insert()');
  await knex.raw('DROP FUNCTION IF EXISTS job_status_update_update()');
  for (const table of [
    'job_status_events',
    'task_arns_to_instance_info',
    'instance_event_log',
    'instances',
    'compute_environment_event_log',
    'job_summary_event_log',
    'activated_job_queues',
    'jobs',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}

/**
 * Back to what Go-Batchiepatchie (at its goose version) expects: our columns
 * and indexes dropped, the trigger functions without NOTIFY. Job ids stay
 * VARCHAR(64): narrowing could fail on (or truncate) ids written since, and
 * the Go code reads a wider column just the same.
 */
async function downToGoSchema(knex: Knex, version: number): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS jobs_array_parent_id');
  await knex.raw('DROP INDEX IF EXISTS job_status_events_updated');
  await knex.raw(`
    ALTER TABLE jobs
      DROP COLUMN IF EXISTS vcpus_exact,
      DROP COLUMN IF EXISTS array_parent_id,
      DROP COLUMN IF EXISTS array_index,
      DROP COLUMN IF EXISTS attempts,
      DROP COLUMN IF EXISTS platform,
      DROP COLUMN IF EXISTS job_type,
      DROP COLUMN IF EXISTS last_seen_at`);
  // Go added log_group_name in its version 24.
  if (version < 24) await knex.raw('ALTER TABLE jobs DROP COLUMN IF EXISTS log_group_name');
  await knex.raw(`
    CREATE OR REPLACE FUNCTION job_status_update_insert() RETURNS trigger AS $body$
    BEGIN
      INSERT INTO job_status_events (job_id, updated) VALUES (NEW.job_id, now())
        ON CONFLICT (job_id) DO UPDATE SET updated = now();
      RETURN NEW;
    END;
    $body$ LANGUAGE plpgsql`);
  await knex.raw(`
    CREATE OR REPLACE FUNCTION job_status_update_update() RETURNS trigger AS $body$
    BEGIN
      IF NEW.status <> OLD.status THEN
        INSERT INTO job_status_events (job_id, updated) VALUES (NEW.job_id, now())
          ON CONFLICT (job_id) DO UPDATE SET updated = now();
      END IF;
      RETURN NEW;
    END;
    $body$ LANGUAGE plpgsql`);
  await knex.raw('DROP TRIGGER IF EXISTS job_status_update_trigger_update ON jobs');
  await knex.raw(`
    CREATE TRIGGER job_status_update_trigger_update AFTER UPDATE ON jobs
      FOR EACH ROW EXECUTE PROCEDURE job_status_update_update()`);
}
