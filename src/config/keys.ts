import type { Config } from './schema';

/**
 * How a key's value is written in an environment variable. Strings stay
 * strings; the schema turns comma-separated lists and token lists into arrays.
 */
export type KeyKind = 'string' | 'integer' | 'number' | 'boolean' | 'list' | 'tokens';

/** Every configuration key and its kind. `satisfies` keeps this in step with Config. */
export const CONFIG_KEYS = {
  host: 'string',
  port: 'integer',
  region: 'string',
  database_host: 'string',
  database_port: 'integer',
  database_username: 'string',
  database_name: 'string',
  database_password: 'string',
  database_root_certificate: 'string',
  database_replica_host: 'string',
  database_replica_port: 'integer',
  password_bucket: 'string',
  password_key: 'string',
  frontend_assets: 'string',
  frontend_assets_local_prefix: 'string',
  frontend_assets_bucket: 'string',
  frontend_assets_key: 'string',
  frontend_assets_base_url: 'string',
  base_path: 'string',
  sync_period: 'number',
  scale_period: 'number',
  clean_period: 'number',
  kill_stuck_jobs: 'boolean',
  use_auto_scaler: 'boolean',
  use_cleaner: 'boolean',
  use_datadog_tracing: 'boolean',
  redis_url: 'string',
  redis_prefix: 'string',
  aws_endpoint: 'string',
  gone_after_seconds: 'number',
  stuck_starting_seconds: 'number',
  terminator_max_instances_per_run: 'integer',
  retention_days: 'number',
  worker_concurrency: 'integer',
  metrics_port: 'integer',
  aws_calls_per_second: 'number',
  auth_mode: 'string',
  auth_tokens: 'tokens',
  auth_proxy_user_header: 'string',
  auth_proxy_groups_header: 'string',
  auth_proxy_operator_groups: 'list',
  auth_proxy_secret: 'string',
  auth_proxy_secret_header: 'string',
  auth_proxy_trusted_cidrs: 'list',
  allowed_hosts: 'list',
  notify_secret: 'string',
  events_stream_max_length: 'integer',
  events_dead_letter_max_length: 'integer',
  events_queue_url: 'string',
  events_write_details: 'boolean',
  api_statement_timeout_ms: 'integer',
  search_max_page: 'integer',
  stats_max_span_days: 'number',
  websocket_max_connections: 'integer',
  websocket_max_per_user: 'integer',
  websocket_ping_seconds: 'number',
  log_level: 'string',
} as const satisfies Record<keyof Config, KeyKind>;

export type ConfigKey = keyof typeof CONFIG_KEYS;

export const CONFIG_KEY_NAMES = Object.keys(CONFIG_KEYS) as ConfigKey[];

export function isConfigKey(key: string): key is ConfigKey {
  return Object.prototype.hasOwnProperty.call(CONFIG_KEYS, key);
}

/** Keys whose values never appear in logs or error messages. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['database_password', 'notify_secret', 'auth_tokens', 'auth_proxy_secret']);

/**
 * Keys of the Go original that this version no longer uses (it logged to
 * Logentries). Accepted so that an old file still loads, with a warning.
 */
export const OBSOLETE_KEYS: Readonly<Record<string, string>> = {
  logentries_host: 'Logentries logging was dropped; logs are JSON lines on stdout',
  logentries_token: 'Logentries logging was dropped; logs are JSON lines on stdout',
};

/** The environment variable that overrides a key. */
export function envVarFor(key: string): string {
  return `BATCHIEPATCHIE_${key.toUpperCase()}`;
}
