/**
 * The zod schemas of the configuration. Every check carries the sentence that
 * tells an operator what is expected; validate.ts adds the key and the value.
 */
import { z } from 'zod';
import type { AuthToken } from '../types';
import { parseTokenSpec, parseTokenTable, splitList } from './tokens';
import { isPlainTable } from './substitute';
import { parseCidr } from './cidr';

/** The error option of a check: "expected <what>". */
const expect = (what: string) => ({ error: `expected ${what}` });

const nonEmpty = (what: string) => z.string(expect(what)).min(1, expect(what));

const portNumber = () => {
  const e = expect('an integer from 1 to 65535');
  return z.int(e).min(1, e).max(65535, e);
};

const positiveSeconds = () => {
  const e = expect('a positive number of seconds');
  return z.number(e).positive(e);
};

const positiveNumber = (what: string) => z.number(expect(what)).positive(expect(what));

const boolean = () => z.boolean(expect('true or false'));

/** HTTP header names (RFC 9110 token characters); lower-cased as Node presents them. */
const headerName = () => {
  const e = expect('an HTTP header name (letters, digits, "-")');
  return z
    .string(e)
    .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, e)
    .transform((s) => s.toLowerCase());
};

/** allowed_hosts entries: a name or address, optionally with a port; ".example.com" = it and its subdomains. */
const HOST_ENTRY = /^(\.?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/;

/** A list written as a TOML array of strings or as one comma-separated string. */
const stringList = (what: string) =>
  z.preprocess(
    (v) => (typeof v === 'string' ? splitList(v) : v),
    z.array(nonEmpty(what), expect(`an array of ${what}s or a comma-separated string`)),
  );

/**
 * Tokens written as one comma-separated string, an array of "role:token" /
 * "name=role:token" strings, or an array of { name, role, token } tables.
 */
const authTokens = () =>
  z.unknown().transform((value, ctx): AuthToken[] => {
    const entries: unknown[] = typeof value === 'string' ? splitList(value) : Array.isArray(value) ? value : [];
    if (typeof value !== 'string' && !Array.isArray(value)) {
      ctx.addIssue({ code: 'custom', message: 'expected "role:token,name=role:token" or an array of tokens' });
      return [];
    }
    const tokens: AuthToken[] = [];
    entries.forEach((entry, i) => {
      const parsed =
        typeof entry === 'string'
          ? parseTokenSpec(entry)
          : isPlainTable(entry)
            ? parseTokenTable(entry)
            : ({ ok: false, problem: 'expected "role:token" or a { name, role, token } table' } as const);
      if (parsed.ok) tokens.push(parsed.token);
      else ctx.addIssue({ code: 'custom', path: [i], message: parsed.problem });
    });
    const seen = new Set<string>();
    tokens.forEach((t) => {
      if (seen.has(t.token)) ctx.addIssue({ code: 'custom', message: 'the same token is listed more than once' });
      seen.add(t.token);
    });
    return tokens;
  });

/** Per-key checks. Strict: an unknown key is a problem (typos matter in an ops tool). */
export const fieldSchema = z.strictObject({
  host: nonEmpty('a host name or address to listen on'),
  port: portNumber(),
  region: z
    .string(expect('an AWS region such as "us-west-2"'))
    .regex(/^[a-z0-9-]+$/, expect('an AWS region such as "us-west-2"')),
  database_host: nonEmpty('the PostgreSQL host name'),
  database_port: portNumber(),
  database_username: nonEmpty('the PostgreSQL user name'),
  database_name: nonEmpty('the PostgreSQL database name'),
  // May legitimately be empty (trust or certificate authentication).
  database_password: z.string(expect('a string')).optional(),
  /** PEM file path; when set, Postgres is reached over TLS with verify-full. */
  database_root_certificate: nonEmpty('the path of a PEM file').optional(),
  /** A read replica of the database: the API's searches, counts and stats read there (never writes). */
  database_replica_host: nonEmpty('the host name of a PostgreSQL read replica').optional(),
  database_replica_port: portNumber().optional(),
  password_bucket: nonEmpty('an S3 bucket name').optional(),
  password_key: nonEmpty('an S3 object key').optional(),
  frontend_assets: z.enum(['local', 's3'], expect('"local" or "s3"')),
  frontend_assets_local_prefix: nonEmpty('the directory holding index.html').optional(),
  frontend_assets_bucket: nonEmpty('an S3 bucket name').optional(),
  frontend_assets_key: nonEmpty('the S3 key of index.html').optional(),
  /** Where the UI's built files are served from when not by us (the build's ASSETS_BASE_URL): allowed by the CSP. */
  /** Path prefix the UI and API are served under behind a path-routing proxy (the Go original's BASE_URL). */
  base_path: z
    .string(expect('a path prefix such as "/batchiepatchie" (no trailing slash)'))
    .regex(/^(\/[A-Za-z0-9._~-]+)+$/, expect('a path prefix such as "/batchiepatchie" (no trailing slash)'))
    .optional(),
  frontend_assets_base_url: z.url({ protocol: /^https?$/, ...expect('an http:// or https:// URL') }).optional(),
  sync_period: positiveSeconds(),
  scale_period: positiveSeconds(),
  clean_period: positiveSeconds(),
  kill_stuck_jobs: boolean(),
  use_auto_scaler: boolean(),
  use_cleaner: boolean(),
  use_datadog_tracing: boolean(),
  redis_url: z.url({ protocol: /^rediss?$/, ...expect('a redis:// or rediss:// URL') }),
  /** BullMQ key prefix; lets several deployments (or tests) share one Redis. */
  redis_prefix: nonEmpty('a BullMQ key prefix'),
  aws_endpoint: z.url({ protocol: /^https?$/, ...expect('an http:// or https:// URL') }).optional(),
  gone_after_seconds: positiveSeconds(),
  stuck_starting_seconds: positiveSeconds(),
  /** Instances the terminator may terminate in one run, at most (the rest wait for the next run). */
  terminator_max_instances_per_run: z.int(expect('a positive integer')).positive(expect('a positive integer')),
  retention_days: positiveNumber('a positive number of days'),
  worker_concurrency: z.int(expect('a positive integer')).positive(expect('a positive integer')),
  /** Port of the /metrics and /healthz endpoint of worker and scheduler processes; 0 = none. */
  metrics_port: z.int(expect('0 (off) or a port 1-65535')).min(0, expect('0 (off) or a port 1-65535')).max(65535, expect('0 (off) or a port 1-65535')),
  /** Max AWS calls per second per operation, across all workers. */
  aws_calls_per_second: positiveNumber('a positive number of calls per second'),
  auth_mode: z.enum(['none', 'tokens', 'proxy'], expect('"none", "tokens" or "proxy"')),
  auth_tokens: authTokens(),
  /** Header carrying the user name set by a trusted reverse proxy. */
  auth_proxy_user_header: headerName(),
  /** Header carrying the user's groups (comma-separated). */
  auth_proxy_groups_header: headerName(),
  /** Groups that make a proxied user an operator; others are viewers. */
  auth_proxy_operator_groups: stringList('group name'),
  /** Host header values the API answers (DNS rebinding); empty = any. */
  allowed_hosts: z.preprocess(
    (v) => (typeof v === 'string' ? splitList(v) : v),
    z.array(
      z.string(expect('host names')).regex(HOST_ENTRY, expect('host names such as "batch.example.com", "batch.example.com:8080" or ".example.com"')),
      expect('an array of host names or a comma-separated string'),
    ),
  ),
  /** With proxy auth: the secret the proxy sends in auth_proxy_secret_header to prove identity headers are its own. */
  auth_proxy_secret: nonEmpty('a non-empty shared secret').optional(),
  auth_proxy_secret_header: headerName(),
  /** With proxy auth: peer addresses (CIDR blocks) the proxy connects from. */
  auth_proxy_trusted_cidrs: z.preprocess(
    (v) => (typeof v === 'string' ? splitList(v) : v),
    z.array(
      z.string(expect('CIDR blocks')).refine((s) => parseCidr(s) !== null, expect('CIDR blocks such as "10.0.0.0/8", "fd00::/8" or a single address')),
      expect('an array of CIDR blocks or a comma-separated string'),
    ),
  ),
  /** Shared secret required in X-Batchiepatchie-Notify-Secret by POST /api/v1/jobs/notify. */
  notify_secret: nonEmpty('a non-empty shared secret').optional(),
  /** Job events waiting to be applied, at most; notify answers 503 + Retry-After beyond it. */
  events_stream_max_length: z.int(expect('a positive integer')).positive(expect('a positive integer')),
  /** Job events the database refused, kept (the oldest go first). */
  events_dead_letter_max_length: z.int(expect('a positive integer')).positive(expect('a positive integer')),
  /**
   * SQS queue that an EventBridge rule fills with "Batch Job State Change"
   * events; workers long-poll it (docs/pipeline.md#events-from-sqs).
   */
  events_queue_url: z
    .url({ protocol: /^https?$/, ...expect('an SQS queue URL such as "https://sqs.us-east-1.amazonaws.com/123456789012/batch-events"') })
    .refine((u) => URL.canParse(u) && /^\/[^/]+\/[A-Za-z0-9_-]{1,80}\/?$/.test(new URL(u).pathname), expect('an SQS queue URL such as "https://sqs.us-east-1.amazonaws.com/123456789012/batch-events"'))
    .optional(),
  /**
   * With events_queue_url: an EventBridge "Batch Job State Change" event's job
   * description is written to the mirror as a describe would write it (marked
   * `event_written` until a listing or a describe confirms it); false keeps
   * such events to hints (status and times, then a describe).
   */
  events_write_details: boolean(),
  /** Longest a database statement of the API may run (ms); cut short → 503. */
  api_statement_timeout_ms: z.int(expect('a positive integer of milliseconds')).positive(expect('a positive integer of milliseconds')),
  /** Deepest search page (0-based; 100 jobs a page). */
  search_max_page: z.int(expect('an integer from 0')).min(0, expect('an integer from 0')),
  /** Longest span of one stats request, in days. */
  stats_max_span_days: positiveNumber('a positive number of days'),
  /** Status WebSockets open in one API process, at most. */
  websocket_max_connections: z.int(expect('a positive integer')).positive(expect('a positive integer')),
  /** Status WebSockets one user (token, proxy user; the address with auth off) may hold open in one API process. */
  websocket_max_per_user: z.int(expect('a positive integer')).positive(expect('a positive integer')),
  /** Seconds between heartbeat pings; a peer that did not answer the last one is dropped. */
  websocket_ping_seconds: positiveSeconds(),
  log_level: z.enum(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    expect('one of fatal, error, warn, info, debug, trace, silent'),
  ),
});

/** Set (present and not an empty string): how operators mean "given". */
const isSet = (v: unknown) => v !== undefined && v !== '';
const isEmptyList = (v: unknown) =>
  v === undefined || (Array.isArray(v) && v.length === 0) || (typeof v === 'string' && splitList(v).length === 0);

/**
 * Rules between keys. They run on the merged input even when some fields have
 * the wrong type, so that one run reports every problem.
 */
export const crossFieldRules = z.looseObject({}).superRefine((c, ctx) => {
  const problem = (key: string, message: string) => ctx.addIssue({ code: 'custom', path: [key], message });

  // Database password: inline, or from S3 — never both; bucket and key go together.
  if (isSet(c.password_bucket) !== isSet(c.password_key)) {
    const missing = isSet(c.password_bucket) ? 'password_key' : 'password_bucket';
    problem(missing, 'expected password_bucket and password_key to be set together');
  }
  if (isSet(c.database_password) && (isSet(c.password_bucket) || isSet(c.password_key))) {
    problem('database_password', 'must not be set together with password_bucket/password_key (choose one)');
  }

  // Frontend assets: the keys of the chosen source, and none of the other's.
  if (c.frontend_assets === 'local') {
    for (const key of ['frontend_assets_bucket', 'frontend_assets_key']) {
      if (isSet(c[key])) problem(key, 'must not be set when frontend_assets = "local"');
    }
    if (!isSet(c.frontend_assets_local_prefix)) {
      problem('frontend_assets_local_prefix', 'expected the directory holding index.html when frontend_assets = "local"');
    }
  } else if (c.frontend_assets === 's3') {
    if (isSet(c.frontend_assets_local_prefix)) {
      problem('frontend_assets_local_prefix', 'must not be set when frontend_assets = "s3"');
    }
    if (!isSet(c.frontend_assets_bucket)) problem('frontend_assets_bucket', 'expected an S3 bucket when frontend_assets = "s3"');
    if (!isSet(c.frontend_assets_key)) problem('frontend_assets_key', 'expected the S3 key of index.html when frontend_assets = "s3"');
  }

  // Authentication: tokens mode needs tokens.
  if (c.auth_mode === 'tokens' && isEmptyList(c.auth_tokens)) {
    problem('auth_tokens', 'expected at least one token when auth_mode = "tokens"');
  }
  // Proxy mode: identity headers are believed only from a proxy that proves itself.
  if (c.auth_mode === 'proxy' && !isSet(c.auth_proxy_secret) && isEmptyList(c.auth_proxy_trusted_cidrs)) {
    problem(
      'auth_proxy_secret',
      'expected auth_proxy_secret and/or auth_proxy_trusted_cidrs when auth_mode = "proxy" (without them anyone who reaches the API could claim any identity)',
    );
  }
});

/** The validated configuration. Read once at start-up and passed down. */
export type Config = z.output<typeof fieldSchema>;
