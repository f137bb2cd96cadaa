/** Prometheus metrics of the pipeline, on prom-client's default register (the API's /metrics shows them). */
import type { Knex } from 'knex';
import { Gauge } from 'prom-client';
import { awsMetrics } from '../aws/metrics';
import { counter, histogram, once } from '../promRegistry';
import { heartbeatAge, SYNC_ROUND_FINISHED } from '../store/syncState';

function gauge(name: string, help: string): Gauge<string> {
  return once(name, () => new Gauge({ name, help }));
}

const SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120];

export const metrics = {
  ...awsMetrics,
  jobsListed: counter('batchiepatchie_sync_jobs_listed_total', 'Job summaries listed by sync tasks', ['queue']),
  jobsDescribed: counter('batchiepatchie_sync_jobs_described_total', 'Jobs described by sync tasks', ['queue']),
  jobsChanged: counter('batchiepatchie_sync_jobs_changed_total', 'Job rows written by sync tasks', ['queue']),
  jobsGone: counter('batchiepatchie_sync_jobs_gone_total', 'Jobs marked GONE'),
  syncTaskDuration: histogram(
    'batchiepatchie_sync_task_duration_seconds',
    'Duration of one sync task (a queue or an array parent)',
    ['task', 'result'],
    SECONDS,
  ),
  actionsWithheld: counter(
    'batchiepatchie_actions_withheld_total',
    'Jobs the timeout killer or the terminator did not act on, by reason (stale_queue, not_confirmed, over_cap)',
    ['task', 'reason'],
  ),
  rounds: counter('batchiepatchie_sync_rounds_total', 'Sync rounds by outcome', ['result']),
  tasks: counter('batchiepatchie_pipeline_tasks_total', 'Maintenance task runs by outcome', ['task', 'result']),
  taskDuration: histogram('batchiepatchie_pipeline_task_duration_seconds', 'Duration of maintenance tasks', ['task'], SECONDS),
  eventsEnqueued: counter('batchiepatchie_job_events_enqueued_total', 'Job state change events accepted'),
  eventsSkipped: counter('batchiepatchie_job_events_skipped_total', 'Job state change events without a job name, skipped'),
  eventsRefusedFull: counter('batchiepatchie_job_events_refused_full_total', 'Job state change events refused because the backlog was at its cap'),
  eventsApplied: counter('batchiepatchie_job_events_applied_total', 'Job state change events applied (written or superseded)'),
  eventsWritten: counter('batchiepatchie_job_events_written_total', 'Job rows written by events'),
  eventsDeadLettered: counter('batchiepatchie_job_events_dead_lettered_total', 'Job events the database refused (kept in the dead-letter stream)'),
  queueReceived: counter('batchiepatchie_events_queue_messages_received_total', 'Messages received from events_queue_url (redeliveries included)'),
  queueApplied: counter('batchiepatchie_events_queue_messages_applied_total', 'Messages from events_queue_url applied to the mirror and deleted'),
  queueSkipped: counter(
    'batchiepatchie_events_queue_messages_skipped_total',
    'Messages from events_queue_url deleted unapplied: not a job state change, or no job name',
  ),
  queueRejected: counter(
    'batchiepatchie_events_queue_messages_rejected_total',
    'Messages from events_queue_url left for the redrive policy: malformed, or refused by the database',
    ['reason'],
  ),
  queueOldestAge: gauge(
    'batchiepatchie_events_queue_oldest_message_age_seconds',
    'Age of the oldest message in the latest batch received from events_queue_url (0 when the queue was empty)',
  ),
  queueDeadlockRetries: counter(
    'batchiepatchie_events_queue_deadlock_retries_total',
    'Writes of events from events_queue_url run again after Postgres chose them as a deadlock victim',
  ),
  queueApplyLag: histogram(
    'batchiepatchie_events_queue_apply_lag_seconds',
    'From a message entering events_queue_url (its SentTimestamp) to its event being written to the mirror',
    [],
    [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
  ),
  eventBatchDuration: histogram(
    'batchiepatchie_job_event_batch_duration_seconds',
    'Duration of applying one batch of job events',
    [],
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2],
  ),
};

/** Databases the round age gauge may read; it reads the latest registered (one database per deployment). */
const roundAgeDbs: Knex[] = [];

/**
 * `batchiepatchie_sync_round_age_seconds`: seconds since a sync round last
 * finished (pipeline_heartbeats, Postgres's clock), read when scraped; +Inf
 * before any round finished. Alert on it above three sync periods (that is
 * when /readyz turns not-ready).
 */
export const syncRoundAge: Gauge<string> = once(
  'batchiepatchie_sync_round_age_seconds',
  () =>
    new Gauge({
      name: 'batchiepatchie_sync_round_age_seconds',
      help: 'Seconds since a sync round last finished (+Inf: none yet)',
      async collect() {
        const db = roundAgeDbs.at(-1);
        if (!db) {
          this.set(NaN); // a process without Postgres (the scheduler role): unknown here
          return;
        }
        try {
          this.set((await heartbeatAge(db, SYNC_ROUND_FINISHED)) ?? Infinity);
        } catch {
          // Postgres unreachable: keep the last value (its readiness says why).
        }
      },
    }),
);

/** Lets the gauge read this database; the returned function stops it (on close). */
export function reportSyncRoundAgeFrom(db: Knex): () => void {
  roundAgeDbs.push(db);
  return () => {
    const at = roundAgeDbs.lastIndexOf(db);
    if (at >= 0) roundAgeDbs.splice(at, 1);
  };
}
