/**
 * `job_summary_event_log` and `compute_environment_event_log`: history rows
 * written only when the state differs from the latest row of the same key.
 * Check and insert are one statement, so two writers seldom both insert.
 */
import type { Knex } from 'knex';
import type { ComputeEnvironmentState, JobSummaryCounts } from '../types';

const SUMMARY_FIELDS = ['submitted', 'pending', 'runnable', 'starting', 'running'] as const;
const CE_FIELDS = ['desired_vcpus', 'max_vcpus', 'min_vcpus', 'state', 'service_role'] as const;

/**
 * INSERT .. SELECT .. WHERE the latest row for `keyColumn` is absent or differs
 * in one of `fields`. Table and column names come from the constants above.
 */
async function insertWhenChanged(
  db: Knex,
  table: string,
  keyColumn: string,
  key: string,
  fields: readonly string[],
  values: Knex.RawBinding[],
  types: readonly string[],
  at: Date | undefined,
): Promise<boolean> {
  const params = fields.map((_, i) => `?::${types[i]}`).join(', ');
  const sql = `
    WITH candidate (${fields.join(', ')}) AS (SELECT ${params}),
    latest AS (
      SELECT ${fields.join(', ')} FROM ${table}
      WHERE ${keyColumn} = ?
      ORDER BY timestamp DESC
      LIMIT 1
    )
    INSERT INTO ${table} (timestamp, ${keyColumn}, ${fields.join(', ')})
    SELECT COALESCE(?::timestamptz, now()), ?, ${fields.map((f) => `c.${f}`).join(', ')}
    FROM candidate c
    WHERE NOT EXISTS (
      SELECT 1 FROM latest l
      WHERE (${fields.map((f) => `l.${f}`).join(', ')}) IS NOT DISTINCT FROM (${fields.map((f) => `c.${f}`).join(', ')})
    )
    RETURNING 1`;
  const result = await db.raw<{ rows: unknown[] }>(sql, [...values, key, at ?? null, key]);
  return result.rows.length > 0;
}

export async function recordJobSummary(db: Knex, queue: string, counts: JobSummaryCounts, at?: Date): Promise<boolean> {
  return insertWhenChanged(
    db,
    'job_summary_event_log',
    'job_queue',
    queue,
    SUMMARY_FIELDS,
    SUMMARY_FIELDS.map((f) => counts[f]),
    SUMMARY_FIELDS.map(() => 'integer'),
    at,
  );
}

export async function recordComputeEnvironmentState(
  db: Knex,
  s: ComputeEnvironmentState,
  at?: Date,
): Promise<boolean> {
  return insertWhenChanged(
    db,
    'compute_environment_event_log',
    'compute_environment',
    s.compute_environment,
    CE_FIELDS,
    CE_FIELDS.map((f) => s[f] ?? null),
    ['integer', 'integer', 'integer', 'text', 'text'],
    at,
  );
}
