import type { Knex } from 'knex';

/**
 * A hash index on task_arns_to_instance_info's task ARN compared as bytes,
 * for the stats' instance-seconds test (src/store/stats.ts, JOB_USAGE; the
 * rollUpStats task's five-minute rows).
 *
 * The stats recompute every job of a bucket marked since the last roll-up
 * from `jobs`, and each job asks whether its task ARN has instance info. The
 * btree indexes on task_arn (task_arns_task_arns, the primary key) compare in
 * the database's collation: a descent is ~25 strcoll calls on ARNs that share
 * a 40-byte prefix, ~20 µs a probe on a busy 2-core machine, half of a stats
 * query over 100 marked buckets. A hash probe compares bytes once (~5 µs).
 *
 * COLLATE "C" makes the probe (`t.task_arn COLLATE "C" = j.task_arn`) one the
 * database-collation btrees cannot serve, so the planner does not prefer
 * their index-only scan; equality is the same in either collation (both are
 * deterministic). Only instance info writes (one per job placed on EC2) pay
 * for it; the jobs write path is untouched.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX IF NOT EXISTS task_arns_task_arn_bytes ON task_arns_to_instance_info USING hash ((task_arn COLLATE "C"))');
  await knex.raw('ANALYZE task_arns_to_instance_info');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS task_arns_task_arn_bytes');
}
