import type { Knex } from 'knex';

/**
 * array_properties in the Go original's shape. Rows this project wrote before
 * held AWS's camel-case form (`{"size": n, "statusSummary": {"RUNNING": n}}`);
 * the original (and so every adopted database) holds `{"size": n,
 * "status_summary": {"starting": n, ..., "pending": n}}`, every count present.
 * Rewrites the former into the latter; rows already in the original's shape
 * (adopted rows) and children's `{"index": n}` are left as they are.
 */
const STATUSES = ['STARTING', 'FAILED', 'RUNNING', 'SUCCEEDED', 'RUNNABLE', 'SUBMITTED', 'PENDING'];

export async function up(knex: Knex): Promise<void> {
  const counts = STATUSES.map(
    (s) => `'${s.toLowerCase()}', COALESCE((array_properties->'statusSummary'->>'${s}')::bigint, 0)`,
  ).join(', ');
  await knex.raw(`
    UPDATE jobs SET array_properties = jsonb_build_object(
      'size', (array_properties->>'size')::bigint,
      'status_summary', jsonb_build_object(${counts}))
    WHERE array_properties->'size' IS NOT NULL AND array_properties->'status_summary' IS NULL`);
}

/**
 * Nothing to undo: the original's shape is the one the Go schema (the end of
 * every rollback) holds.
 */
export async function down(): Promise<void> {}
