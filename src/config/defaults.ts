import type { Config } from './schema';

/**
 * Defaults of every key that has one (SPEC section 3). Database host, user and
 * name have none; database_port defaults to PostgreSQL's own port.
 */
export const CONFIG_DEFAULTS = {
  host: '127.0.0.1',
  port: 5454,
  region: 'us-east-1',
  database_port: 5432,
  frontend_assets: 'local',
  frontend_assets_local_prefix: 'frontend/dist',
  sync_period: 30,
  scale_period: 30,
  clean_period: 1800,
  kill_stuck_jobs: false,
  use_auto_scaler: true,
  use_cleaner: false,
  use_datadog_tracing: false,
  redis_url: 'redis://127.0.0.1:6379',
  redis_prefix: 'batchiepatchie',
  gone_after_seconds: 300,
  stuck_starting_seconds: 600,
  terminator_max_instances_per_run: 20,
  retention_days: 30,
  worker_concurrency: 8,
  metrics_port: 0,
  aws_calls_per_second: 20,
  auth_mode: 'none',
  auth_tokens: [],
  auth_proxy_user_header: 'x-forwarded-user',
  auth_proxy_groups_header: 'x-forwarded-groups',
  auth_proxy_operator_groups: [],
  auth_proxy_secret_header: 'x-batchiepatchie-proxy-secret',
  auth_proxy_trusted_cidrs: [],
  allowed_hosts: [],
  events_stream_max_length: 100_000,
  events_dead_letter_max_length: 10_000,
  events_write_details: true,
  api_statement_timeout_ms: 10_000,
  search_max_page: 100,
  stats_max_span_days: 400,
  websocket_max_connections: 1000,
  websocket_max_per_user: 20,
  websocket_ping_seconds: 30,
  log_level: 'info',
} satisfies Partial<Config>;

/**
 * sync_period's default when events_queue_url is set: events keep the mirror
 * live (and, with events_write_details, write what a describe would), so the
 * round only reconciles what they missed. Its floor is listing every job
 * that ended once (ListJobs SUCCEEDED / FAILED, 1,000 a page) whatever the
 * period; a longer period trims the 5 active-status lists a round and the
 * overlap of one period and a minute (docs/pipeline.md, bench/README.md).
 */
export const SYNC_PERIOD_WITH_EVENTS = 1800;

/** A complete Config for code paths (tests, demo) that build one without a file. */
export function configWith(overrides: Partial<Config> & Pick<Config, 'database_name'>): Config {
  return {
    ...CONFIG_DEFAULTS,
    database_host: '127.0.0.1',
    database_port: 5432,
    database_username: 'postgres',
    ...overrides,
  } as Config;
}
