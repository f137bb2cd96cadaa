/**
 * A Go-Batchiepatchie database as the original leaves it: its schema at goose
 * version 23 and rows in every table, written the way the Go code writes them
 * (array_properties in its shape, job_definition an ARN). Shared by the
 * adoption test and the API compatibility suite.
 */
import type { Knex } from 'knex';

/** The Go schema after goose migrations 1..23, written out as its final shape. */
export const GO_SCHEMA_V23 = [
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

export async function createGooseTable(db: Knex, version: number): Promise<void> {
  await db.raw(`CREATE TABLE goose_db_version (
    id SERIAL PRIMARY KEY, version_id BIGINT NOT NULL, is_applied BOOLEAN NOT NULL, tstamp TIMESTAMP NULL DEFAULT now())`);
  for (let v = 0; v <= version; v += 1) await db('goose_db_version').insert({ version_id: v, is_applied: true });
}

export const ID36 = '0f8e2f4a-1b2c-4d3e-8f9a-0123456789ab';
export const ID44 = 'job-0123456789abcdef0123456789abcdef01234567';
export const T = new Date('2026-10-01T10:00:00.000Z');

export function goJob(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    job_id: id, job_name: `name-${id.slice(0, 8)}`, job_definition: 'arn:aws:batch:us-east-1:123456789012:job-definition/go:3', job_queue: 'go-queue',
    image: 'go/image:1', status: 'SUCCEEDED', created_at: T, stopped_at: new Date(T.getTime() + 60_000),
    vcpus: 2, memory: 2048, timeout: 3600, command_line: '["run"]', last_updated: new Date(T.getTime() + 60_000),
    status_reason: 'Essential container in task exited', run_started_at: new Date(T.getTime() + 5_000), exitcode: 0,
    log_stream_name: `def/default/${id.slice(0, 8)}`, termination_requested: false, task_arn: `arn:ecs:task/${id}`,
    array_properties: null,
    ...overrides,
  };
}

export const GO_ARRAY_PARENT_ID = 'a0000000-0000-4000-8000-000000000001';
/** What the Go code's json.Marshal of its ArrayProperties writes: every count, lower-case keys. */
export const GO_ARRAY_PROPERTIES = {
  size: 10,
  status_summary: { starting: 0, failed: 0, running: 4, succeeded: 6, runnable: 0, submitted: 0, pending: 0 },
};

/** The Go rows: four jobs (one an array parent, one with a 44-character id), queues, logs, instances. */
export async function seedGoRows(db: Knex): Promise<void> {
  await db('jobs').insert([
    goJob(ID36),
    goJob(GO_ARRAY_PARENT_ID, { status: 'RUNNING', stopped_at: null, exitcode: null,
      array_properties: JSON.stringify(GO_ARRAY_PROPERTIES) }),
    goJob('a0000000-0000-4000-8000-000000000002', { status: 'FAILED', timeout: null, termination_requested: true,
      task_arn: null, log_stream_name: null, exitcode: 1 }),
  ]);
  // The Go schema's job_status_events.job_id is CHAR(36): its insert trigger
  // fails for a 44-character id, so such rows can only exist with it off.
  await db.raw('ALTER TABLE jobs DISABLE TRIGGER job_status_update_trigger_insert');
  await db('jobs').insert(goJob(ID44, { job_queue: 'go-queue-2' }));
  await db.raw('ALTER TABLE jobs ENABLE TRIGGER job_status_update_trigger_insert');

  await db('activated_job_queues').insert([{ job_queue: 'go-queue', forced_scaling: true }, { job_queue: 'go-queue-2' }]);
  await db('job_summary_event_log').insert({ timestamp: T, job_queue: 'go-queue', submitted: 1, pending: 2, runnable: 3, starting: 4, running: 5 });
  await db('compute_environment_event_log').insert({ timestamp: T, compute_environment: 'go-ce', desired_vcpus: 4, max_vcpus: 256, min_vcpus: 0, state: 'ENABLED', service_role: 'arn:role' });
  await db('instances').insert({ appeared_at: T, disappeared_at: null, launched_at: T, ami: 'ami-go', instance_id: 'i-0go',
    instance_type: 'c5.xlarge', compute_environment_arn: 'arn:ce/go', ecs_cluster_arn: 'arn:cluster/go', availability_zone: 'us-east-1b',
    spot_instance_request_id: 'sir-1', private_ip_address: '10.1.1.1', public_ip_address: '54.1.1.1' });
  await db('instance_event_log').insert({ timestamp: T, instance_id: 'i-0go', active_jobs: JSON.stringify([`arn:ecs:task/${ID36}`]) });
  await db('task_arns_to_instance_info').insert([
    { task_arn: `arn:ecs:task/${ID36}`, instance_id: 'i-0go', public_ip: '54.1.1.1', private_ip: '10.1.1.1' },
    { task_arn: `arn:ecs:task/${ID44}`, instance_id: 'i-0go', public_ip: '54.1.1.1', private_ip: '10.1.1.1' },
  ]);
}
