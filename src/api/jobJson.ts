/** Store rows to the Go original's job JSON (field names fixed by its clients). */
import type { JobWithInstance } from '../types';
import type { DependencyRow } from '../store/jobDependencies';
import type { DependencyJson, JobJson } from './contract';
import { displayStatusOf, statusNoteOf } from '../domain/jobStatus';

function iso(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export function toJobJson(job: JobWithInstance): JobJson {
  return {
    id: job.job_id,
    name: job.job_name,
    status: job.status,
    desc: job.job_definition,
    last_updated: iso(job.last_updated) ?? '',
    job_queue: job.job_queue,
    image: job.image,
    created_at: iso(job.created_at) ?? '',
    stopped_at: iso(job.stopped_at),
    vcpus: job.vcpus,
    memory: job.memory,
    timeout: job.timeout ?? -1,
    command_line: job.command_line,
    status_reason: job.status_reason ?? null,
    run_start_time: iso(job.run_started_at),
    exitcode: job.exitcode ?? null,
    log_stream_name: job.log_stream_name ?? null,
    termination_requested: job.termination_requested,
    task_arn: job.task_arn ?? null,
    instance_id: job.instance_id ?? null,
    public_ip: job.public_ip ?? null,
    private_ip: job.private_ip ?? null,
    // A parent's {size, status_summary} as the original's; a child's position is array_index
    // (its stored {index} would read as a parent without counts to the original's UI).
    array_properties: job.array_properties?.size !== undefined ? job.array_properties : null,
    display_status: displayStatusOf(job),
    status_note: statusNoteOf(job),
    vcpus_exact: job.vcpus_exact ?? null,
    array_parent_id: job.array_parent_id ?? null,
    array_index: job.array_index ?? null,
    attempts: job.attempts ?? 0,
    platform: job.platform ?? null,
    job_type: job.job_type,
    log_group_name: job.log_group_name ?? null,
  };
}

/** The other end of a dependency; name and statuses null when the mirror does not hold that job. */
export function toDependencyJson(row: DependencyRow): DependencyJson {
  const mirrored = row.status !== null;
  return {
    job_id: row.job_id,
    type: row.type,
    name: row.job_name,
    status: row.status,
    display_status: mirrored
      ? displayStatusOf({ status: row.status as string, exitcode: row.exitcode, status_reason: row.status_reason, termination_requested: row.termination_requested ?? false })
      : null,
  };
}
