/**
 * The demo's past: a few weeks of finished jobs written straight into the
 * mirror, as if Batchiepatchie had been running that long, so search, stats
 * and "kept forever" show something on first start. AWS has long forgotten
 * such jobs (the simulator never had them), exactly as it would have.
 * Generated in one SQL statement; done once per database.
 */
import type { Knex } from 'knex';

export interface DemoHistoryOptions {
  /** Days of history before now. */
  days: number;
  /** Finished jobs per day, on average. */
  perDay: number;
  /** The queues they ran in. */
  queues: string[];
  now: Date;
}

const NAMES = ['etl-orders-hourly', 'etl-clicks-compaction', 'train-ctr-model', 'feature-backfill', 'report-render', 'email-digest', 'bid-simulation', 'search-reindex'];
const REASONS_FAILED = [
  'Essential container in task exited',
  'OutOfMemoryError: Container killed due to memory usage',
  'CannotPullContainerError: pull image manifest has been retried 5 time(s): not found',
  'Host EC2 (instance i-0a1b2c3d4e5f60789) terminated.',
];
/** The first history job's id: present means the history was written already. */
const MARKER = "md5('bp-demo-history-1')::uuid::text";

/** Writes the history unless this database has it; returns how many jobs were written. */
export async function seedDemoHistory(db: Knex, opts: DemoHistoryOptions): Promise<number> {
  if (opts.queues.length === 0 || opts.days <= 0) return 0;
  const exists = await db.raw(`SELECT 1 FROM jobs WHERE job_id = ${MARKER}`);
  if (exists.rows.length > 0) return 0;
  const total = Math.round(opts.days * opts.perDay);
  const res = await db.raw(
    `INSERT INTO jobs (job_id, job_name, job_definition, job_queue, image, status, created_at, stopped_at, vcpus, memory,
       timeout, command_line, last_updated, status_reason, run_started_at, exitcode, log_stream_name, attempts, platform, job_type, task_arn)
     SELECT md5('bp-demo-history-' || g)::uuid::text,
       n.name || '-' || (g % 9000 + 1000),
       n.name || ':' || (1 + r.a % 4),
       q.queues[1 + (r.a % ?) % array_length(q.queues, 1)],
       '123456789012.dkr.ecr.us-east-1.amazonaws.com/' || n.name || ':2024.' || (1 + r.c % 12),
       CASE WHEN f.failed THEN 'FAILED' ELSE 'SUCCEEDED' END,
       t.started - interval '1 second' * (5 + r.b % 300),
       t.started + interval '1 second' * t.run,
       (ARRAY[1, 2, 2, 4, 8])[1 + r.a % 5],
       (ARRAY[1024, 2048, 4096, 8192, 16384])[1 + r.b % 5],
       -1,
       '["python","-m","' || replace(n.name, '-', '_') || '","--run","' || g || '"]',
       t.started + interval '1 second' * t.run,
       CASE WHEN f.failed THEN (?::text[])[1 + r.c % ?] ELSE 'Essential container in task exited' END,
       t.started,
       CASE WHEN NOT f.failed THEN 0 WHEN r.c % 4 = 1 THEN 137 ELSE 1 END,
       n.name || '/default/' || md5('bp-demo-history-stream-' || g),
       CASE WHEN f.failed AND r.a % 3 = 0 THEN 2 ELSE 1 END,
       'EC2', 'container',
       'arn:aws:ecs:us-east-1:123456789012:task/demo-history/' || md5('bp-demo-history-task-' || g)
     FROM generate_series(1, ?::int) AS g
     CROSS JOIN LATERAL (SELECT abs(hashint4(g)) AS a, abs(hashint4(g + 7919)) AS b, abs(hashint4(g + 104729)) AS c) r
     CROSS JOIN LATERAL (SELECT (?::text[])[1 + r.a % ?] AS name) n
     CROSS JOIN LATERAL (SELECT ?::text[] AS queues) q
     CROSS JOIN LATERAL (SELECT r.a % 100 < 12 AS failed) f
     CROSS JOIN LATERAL (
       SELECT ?::timestamptz - interval '1 second' * (r.c % (? * 86400)) - interval '1 hour' AS started,
              30 + (r.b % 3600) AS run
     ) t
     ON CONFLICT (job_id) DO NOTHING`,
    [NAMES.length, REASONS_FAILED, REASONS_FAILED.length, total, NAMES, NAMES.length, opts.queues, opts.now.toISOString(), opts.days],
  );
  // Where each ran: one of 40 instances (the Stats page's instance time and per-job averages need it).
  await db.raw(
    `INSERT INTO task_arns_to_instance_info (task_arn, instance_id, public_ip, private_ip)
     SELECT 'arn:aws:ecs:us-east-1:123456789012:task/demo-history/' || md5('bp-demo-history-task-' || g),
       'i-0demo' || lpad(to_hex(g % 40), 11, '0'), '3.80.1.' || (g % 40), '10.0.1.' || (g % 40)
     FROM generate_series(1, ?::int) AS g
     ON CONFLICT DO NOTHING`,
    [total],
  );
  return res.rowCount ?? total;
}
