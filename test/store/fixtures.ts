import type { Knex } from 'knex';
import type { MirroredJob } from '../../src/types';

let counter = 0;

/** A complete MirroredJob with plausible values; override what the test is about. */
export function mirroredJob(overrides: Partial<MirroredJob> = {}): MirroredJob {
  counter += 1;
  const id = overrides.job_id ?? `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`;
  return {
    job_id: id,
    job_name: `job-${counter}`,
    job_definition: 'arn:aws:batch:us-east-1:123456789012:job-definition/def:1',
    job_queue: 'queue-a',
    image: 'busybox:latest',
    status: 'RUNNABLE',
    created_at: new Date('2026-11-01T00:00:00.000Z'),
    stopped_at: null,
    vcpus: 1,
    vcpus_exact: null,
    memory: 512,
    timeout: -1,
    command_line: '["echo","hi"]',
    status_reason: null,
    run_started_at: null,
    exitcode: null,
    log_stream_name: null,
    log_group_name: null,
    task_arn: null,
    array_properties: null,
    array_parent_id: null,
    array_index: null,
    attempts: 0,
    platform: 'EC2',
    job_type: 'container',
    ...overrides,
  };
}

/** Forces last_updated (the upsert always writes now()) for date-range and sort tests. */
export async function setLastUpdated(db: Knex, id: string, at: Date): Promise<void> {
  await db('jobs').where({ job_id: id }).update({ last_updated: at });
}
