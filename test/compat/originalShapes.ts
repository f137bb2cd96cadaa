/**
 * The Go original's response shapes (AdRoll/batchiepatchie, jobs/jobs.go and
 * handlers/handlers.go, read for behaviour): what its clients — its UI, a
 * team's scripts, its Lambda hook — rely on. Each check names the field that
 * broke it.
 */
import { expect } from 'chai';

/** Go's `time.Time` marshals RFC 3339; ours adds milliseconds and Z, which every RFC 3339 parser reads. */
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

const STRING_FIELDS = ['id', 'name', 'status', 'desc', 'last_updated', 'job_queue', 'image', 'created_at', 'command_line'];
const NULLABLE_STRING_FIELDS = ['stopped_at', 'status_reason', 'run_start_time', 'log_stream_name', 'task_arn', 'instance_id', 'public_ip', 'private_ip'];
const TIME_FIELDS = ['last_updated', 'created_at', 'stopped_at', 'run_start_time'];
const INT_FIELDS = ['vcpus', 'memory', 'timeout'];
/** The original's statuses (AWS's seven and its GONE); TERMINATED its UI derived itself. */
const ORIGINAL_STATUSES = ['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'GONE'];
export const STATUS_SUMMARY_KEYS = ['starting', 'failed', 'running', 'succeeded', 'runnable', 'submitted', 'pending'];

type Json = Record<string, unknown>;

function isInt(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v);
}

/** `array_properties`: absent or null, or exactly `{size, status_summary: {the seven counts}}`. */
export function expectOriginalArrayProperties(ap: unknown, where: string): void {
  if (ap === undefined || ap === null) return;
  expect(ap, where).to.be.an('object');
  const obj = ap as Json;
  expect(Object.keys(obj).sort(), `${where}: keys`).to.deep.equal(['size', 'status_summary']);
  expect(isInt(obj.size), `${where}.size`).to.equal(true);
  const summary = obj.status_summary as Json;
  expect(Object.keys(summary).sort(), `${where}.status_summary keys`).to.deep.equal([...STATUS_SUMMARY_KEYS].sort());
  for (const k of STATUS_SUMMARY_KEYS) expect(isInt(summary[k]), `${where}.status_summary.${k}`).to.equal(true);
}

/** One job as the original's `jobs.Job` marshals it (new fields may be added). */
export function expectOriginalJob(job: unknown, where = 'job'): void {
  expect(job, where).to.be.an('object');
  const j = job as Json;
  for (const f of STRING_FIELDS) expect(j[f], `${where}.${f}`).to.be.a('string');
  for (const f of NULLABLE_STRING_FIELDS) {
    expect(j, `${where}.${f}`).to.have.property(f);
    if (j[f] !== null) expect(j[f], `${where}.${f}`).to.be.a('string');
  }
  for (const f of TIME_FIELDS) if (j[f] !== null) expect(j[f], `${where}.${f}`).to.match(RFC3339);
  for (const f of INT_FIELDS) expect(isInt(j[f]), `${where}.${f} = ${String(j[f])}`).to.equal(true);
  expect(j, `${where}.exitcode`).to.have.property('exitcode');
  if (j.exitcode !== null) expect(isInt(j.exitcode), `${where}.exitcode`).to.equal(true);
  expect(j.termination_requested, `${where}.termination_requested`).to.be.a('boolean');
  expect(ORIGINAL_STATUSES, `${where}.status`).to.include(j.status);
  // command_line is a JSON array of strings, as text.
  const command = JSON.parse(j.command_line as string) as unknown;
  expect(command, `${where}.command_line`).to.be.an('array');
  expectOriginalArrayProperties(j.array_properties, `${where}.array_properties`);
}

export function expectOriginalJobs(jobs: unknown, where = 'jobs'): void {
  expect(jobs, where).to.be.an('array');
  (jobs as unknown[]).forEach((j, i) => expectOriginalJob(j, `${where}[${i}]`));
}

/** `jobs.JobStatus`: exactly `{id, status}`. */
export function expectOriginalJobStatus(body: unknown): void {
  expect(body).to.be.an('object');
  expect(Object.keys(body as Json).sort()).to.deep.equal(['id', 'status']);
}

/** `jobs.JobStats` rows. */
export function expectOriginalStatsRows(rows: unknown): void {
  expect(rows).to.be.an('array');
  for (const [i, row] of (rows as Json[]).entries()) {
    for (const f of ['job_queue', 'status']) expect(row[f], `rows[${i}].${f}`).to.be.a('string');
    for (const f of ['timestamp', 'vcpu_seconds', 'memory_seconds', 'instance_seconds']) expect(row[f], `rows[${i}].${f}`).to.be.a('number');
    for (const f of ['job_count', 'interval']) expect(isInt(row[f]), `rows[${i}].${f}`).to.equal(true);
  }
}

export function expectStringArray(body: unknown, where: string): void {
  expect(body, where).to.be.an('array');
  for (const v of body as unknown[]) expect(v, where).to.be.a('string');
}
