/**
 * EC2/ECS reconciliation tables: `instances`, `instance_event_log` and
 * `task_arns_to_instance_info` (which instance and IPs a task ran on).
 */
import type { Knex } from 'knex';
import type { InstanceRow, TaskInstanceInfo } from '../types';

export type InstanceInput = Omit<InstanceRow, 'appeared_at' | 'disappeared_at'>;

const INSTANCE_COLUMNS: readonly (readonly [keyof InstanceInput, string])[] = [
  ['instance_id', 'text'],
  ['launched_at', 'timestamptz'],
  ['ami', 'text'],
  ['instance_type', 'text'],
  ['compute_environment_arn', 'text'],
  ['ecs_cluster_arn', 'text'],
  ['availability_zone', 'text'],
  ['spot_instance_request_id', 'text'],
  ['private_ip_address', 'text'],
  ['public_ip_address', 'text'],
];
const INSTANCE_NAMES = INSTANCE_COLUMNS.map(([c]) => c);
const INSTANCE_UPDATABLE = INSTANCE_NAMES.filter((c) => c !== 'instance_id');

/**
 * New instances appear at `now`; known ones are rewritten only when a field
 * changed, or when one that had disappeared is seen again.
 */
const UPSERT_INSTANCES_SQL = `
  INSERT INTO instances (${INSTANCE_NAMES.join(', ')}, appeared_at, disappeared_at)
  SELECT ${INSTANCE_NAMES.map((c) => `r.${c}`).join(', ')}, ?::timestamptz, NULL
  FROM json_to_recordset(?::json) AS r(${INSTANCE_COLUMNS.map(([c, t]) => `${c} ${t}`).join(', ')})
  ON CONFLICT (instance_id) DO UPDATE SET
    ${INSTANCE_UPDATABLE.map((c) => `${c} = EXCLUDED.${c}`).join(', ')},
    disappeared_at = NULL
  WHERE instances.disappeared_at IS NOT NULL
     OR (${INSTANCE_UPDATABLE.map((c) => `instances.${c}`).join(', ')})
        IS DISTINCT FROM (${INSTANCE_UPDATABLE.map((c) => `EXCLUDED.${c}`).join(', ')})
  RETURNING instance_id`;

function uniqueBy<T>(rows: T[], key: (row: T) => string): T[] {
  const map = new Map<string, T>();
  for (const row of rows) map.set(key(row), row);
  return [...map.values()];
}

export async function upsertInstances(db: Knex, rows: InstanceInput[], now: Date): Promise<number> {
  const unique = uniqueBy(rows, (r) => r.instance_id);
  if (unique.length === 0) return 0;
  const records = unique.map((r) => Object.fromEntries(INSTANCE_NAMES.map((c) => [c, r[c] ?? null])));
  const result = await db.raw<{ rows: unknown[] }>(UPSERT_INSTANCES_SQL, [now, JSON.stringify(records)]);
  return result.rows.length;
}

/** Instances not in `presentIds` that were still marked present get disappeared_at = now. */
export async function markInstancesDisappeared(db: Knex, presentIds: string[], now: Date): Promise<string[]> {
  const rows: { instance_id: string }[] = await db('instances')
    .whereNull('disappeared_at')
    .whereRaw('NOT (instance_id = ANY(?::text[]))', [presentIds])
    .update({ disappeared_at: now }, ['instance_id']);
  return rows.map((r) => r.instance_id).sort();
}

export async function appendInstanceEventLog(
  db: Knex,
  rows: { instance_id: string; active_jobs: string[] }[],
  at: Date,
): Promise<number> {
  const unique = uniqueBy(rows, (r) => r.instance_id);
  if (unique.length === 0) return 0;
  const inserted: unknown[] = await db('instance_event_log')
    .insert(unique.map((r) => ({ timestamp: at, instance_id: r.instance_id, active_jobs: JSON.stringify(r.active_jobs) })))
    .onConflict(['timestamp', 'instance_id'])
    .ignore()
    .returning('instance_id');
  return inserted.length;
}

/** Inserts task -> instance rows; rewrites known ones only when an IP changed. */
export async function upsertTaskInstanceInfo(db: Knex, rows: TaskInstanceInfo[]): Promise<number> {
  const unique = uniqueBy(rows, (r) => `${r.task_arn}\u0000${r.instance_id}`);
  if (unique.length === 0) return 0;
  const result = await db.raw<{ rows: unknown[] }>(
    `INSERT INTO task_arns_to_instance_info (task_arn, instance_id, public_ip, private_ip)
     SELECT r.task_arn, r.instance_id, r.public_ip, r.private_ip
     FROM json_to_recordset(?::json) AS r(task_arn text, instance_id text, public_ip text, private_ip text)
     ON CONFLICT (task_arn, instance_id) DO UPDATE SET public_ip = EXCLUDED.public_ip, private_ip = EXCLUDED.private_ip
     WHERE (task_arns_to_instance_info.public_ip, task_arns_to_instance_info.private_ip)
       IS DISTINCT FROM (EXCLUDED.public_ip, EXCLUDED.private_ip)
     RETURNING task_arn`,
    [JSON.stringify(unique.map((r) => ({ ...r, public_ip: r.public_ip ?? '', private_ip: r.private_ip ?? '' })))],
  );
  return result.rows.length;
}

/** The EC2 instance each of these tasks was recorded on (an ECS task never moves), by task ARN. */
export async function knownTaskInstances(db: Knex, taskArns: string[]): Promise<Map<string, string>> {
  if (taskArns.length === 0) return new Map();
  const rows: { task_arn: string; instance_id: string }[] = await db('task_arns_to_instance_info')
    .select('task_arn', 'instance_id')
    .whereRaw('task_arn = ANY(?::text[])', [taskArns]);
  return new Map(rows.map((r) => [r.task_arn, r.instance_id]));
}

export async function deleteInstanceEventLogOlderThan(db: Knex, cutoff: Date): Promise<number> {
  return db('instance_event_log').where('timestamp', '<', cutoff).del();
}
