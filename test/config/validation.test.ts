import { expect } from 'chai';
import { loadConfig } from '../../src/config';
import { configError, MINIMAL_TOML, problemAbout, tempDir } from './helpers';

describe('config: validation', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  /** Loads MINIMAL_TOML plus `extra`; must fail; returns the error. */
  async function failing(extra: string, base = MINIMAL_TOML) {
    const file = tmp.write('bad.toml', `${base}\n${extra}\n`);
    return configError(() => loadConfig({ path: file, env: {} }));
  }

  it('reports every problem of a file in one message, each naming its key', async () => {
    const err = await failing(`
port = 70000
sync_period = 0
frontend_assets = "ftp"
log_level = "verbose"
sync_perod = 10
use_cleaner = "yes"
aws_endpoint = "not a url"
redis_url = "http://127.0.0.1:6379"
`);
    const keys = ['port', 'sync_period', 'frontend_assets', 'log_level', 'sync_perod', 'use_cleaner', 'aws_endpoint', 'redis_url'];
    for (const key of keys) problemAbout(err, key);
    expect(err.problems).to.have.length(keys.length);
    // One line per problem, all in the one message the CLI prints.
    for (const problem of err.problems) expect(err.message).to.contain(`  - ${problem}`);
    expect(err.message).to.contain(`(${keys.length} problems)`);
  });

  const cases: { name: string; toml: string; key: string; expected: RegExp }[] = [
    { name: 'port out of range (high)', toml: 'port = 65536', key: 'port', expected: /expected an integer from 1 to 65535, got 65536/ },
    { name: 'port out of range (zero)', toml: 'port = 0', key: 'port', expected: /from 1 to 65535, got 0/ },
    { name: 'port not an integer', toml: 'port = 80.5', key: 'port', expected: /from 1 to 65535, got 80.5/ },
    { name: 'database_replica_host empty', toml: 'database_replica_host = ""', key: 'database_replica_host', expected: /expected the host name of a PostgreSQL read replica, got ""/ },
    { name: 'database_replica_port out of range', toml: 'database_replica_port = 0', key: 'database_replica_port', expected: /from 1 to 65535, got 0/ },
    { name: 'database_port of the wrong type', toml: 'database_port = "5432a"', key: 'database_port', expected: /from 1 to 65535, got "5432a"/ },
    { name: 'negative period', toml: 'scale_period = -5', key: 'scale_period', expected: /positive number of seconds, got -5/ },
    { name: 'zero clean period', toml: 'clean_period = 0', key: 'clean_period', expected: /positive number of seconds, got 0/ },
    { name: 'string period', toml: 'sync_period = "30s"', key: 'sync_period', expected: /positive number of seconds, got "30s"/ },
    { name: 'gone_after_seconds zero', toml: 'gone_after_seconds = 0', key: 'gone_after_seconds', expected: /positive number of seconds/ },
    { name: 'terminator_max_instances_per_run zero', toml: 'terminator_max_instances_per_run = 0', key: 'terminator_max_instances_per_run', expected: /positive integer, got 0/ },
    { name: 'terminator_max_instances_per_run fractional', toml: 'terminator_max_instances_per_run = 2.5', key: 'terminator_max_instances_per_run', expected: /positive integer, got 2.5/ },
    { name: 'retention_days negative', toml: 'retention_days = -1', key: 'retention_days', expected: /positive number of days, got -1/ },
    { name: 'worker_concurrency fractional', toml: 'worker_concurrency = 1.5', key: 'worker_concurrency', expected: /positive integer, got 1.5/ },
    { name: 'metrics_port out of range', toml: 'metrics_port = 70000', key: 'metrics_port', expected: /0 \(off\) or a port 1-65535, got 70000/ },
    { name: 'metrics_port negative', toml: 'metrics_port = -1', key: 'metrics_port', expected: /0 \(off\) or a port 1-65535/ },
    { name: 'aws_calls_per_second zero', toml: 'aws_calls_per_second = 0', key: 'aws_calls_per_second', expected: /positive number of calls per second/ },
    { name: 'boolean as string', toml: 'kill_stuck_jobs = "true"', key: 'kill_stuck_jobs', expected: /expected true or false, got "true"/ },
    { name: 'boolean as number', toml: 'use_datadog_tracing = 1', key: 'use_datadog_tracing', expected: /expected true or false, got 1/ },
    { name: 'frontend_assets unknown', toml: 'frontend_assets = "cdn"', key: 'frontend_assets', expected: /expected "local" or "s3", got "cdn"/ },
    { name: 'log_level unknown', toml: 'log_level = "verbose"', key: 'log_level', expected: /one of fatal, error, warn, info, debug, trace, silent, got "verbose"/ },
    { name: 'auth_mode unknown', toml: 'auth_mode = "ldap"', key: 'auth_mode', expected: /"none", "tokens" or "proxy", got "ldap"/ },
    { name: 'aws_endpoint not a URL', toml: 'aws_endpoint = "localhost:4566"', key: 'aws_endpoint', expected: /http:\/\/ or https:\/\/ URL, got "localhost:4566"/ },
    { name: 'aws_endpoint of another scheme', toml: 'aws_endpoint = "ftp://x.example"', key: 'aws_endpoint', expected: /http:\/\/ or https:\/\/ URL/ },
    { name: 'frontend_assets_base_url not a URL', toml: 'frontend_assets_base_url = "cdn.example.com/bp/"', key: 'frontend_assets_base_url', expected: /http:\/\/ or https:\/\/ URL, got "cdn.example.com\/bp\/"/ },
    { name: 'base_path with a trailing slash', toml: 'base_path = "/bp/"', key: 'base_path', expected: /a path prefix such as "\/batchiepatchie" \(no trailing slash\), got "\/bp\/"/ },
    { name: 'base_path without a leading slash', toml: 'base_path = "bp"', key: 'base_path', expected: /a path prefix such as/ },
    { name: 'redis_url of another scheme', toml: 'redis_url = "http://cache:6379"', key: 'redis_url', expected: /redis:\/\/ or rediss:\/\/ URL, got "http:\/\/cache:6379"/ },
    { name: 'events_queue_url not a URL', toml: 'events_queue_url = "batch-events"', key: 'events_queue_url', expected: /SQS queue URL such as "https:\/\/sqs.us-east-1.amazonaws.com\/123456789012\/batch-events", got "batch-events"/ },
    { name: 'events_queue_url without account and queue name', toml: 'events_queue_url = "https://sqs.us-east-1.amazonaws.com/"', key: 'events_queue_url', expected: /SQS queue URL/ },
    { name: 'redis_url not a URL', toml: 'redis_url = "cache:6379"', key: 'redis_url', expected: /redis:\/\/ or rediss:\/\/ URL/ },
    { name: 'region with spaces', toml: 'region = "US West 2"', key: 'region', expected: /AWS region such as "us-west-2", got "US West 2"/ },
    { name: 'empty host', toml: 'host = ""', key: 'host', expected: /expected a host name or address to listen on, got ""/ },
    { name: 'a table where a string belongs', toml: 'host = { name = "x" }', key: 'host', expected: /got a table/ },
    { name: 'a date where a number belongs', toml: 'port = 2024-01-01T00:00:00Z', key: 'port', expected: /got a date/ },
    { name: 'header name with a space', toml: 'auth_proxy_user_header = "X User"', key: 'auth_proxy_user_header', expected: /HTTP header name/ },
    { name: 'operator groups of the wrong type', toml: 'auth_proxy_operator_groups = 5', key: 'auth_proxy_operator_groups', expected: /array of group names or a comma-separated string/ },
    { name: 'allowed_hosts with a URL', toml: 'allowed_hosts = ["https://batch.example.com"]', key: 'allowed_hosts[0]', expected: /host names such as "batch.example.com"/ },
    { name: 'allowed_hosts of the wrong type', toml: 'allowed_hosts = 5', key: 'allowed_hosts', expected: /array of host names or a comma-separated string/ },
    { name: 'api_statement_timeout_ms zero', toml: 'api_statement_timeout_ms = 0', key: 'api_statement_timeout_ms', expected: /positive integer of milliseconds, got 0/ },
    { name: 'search_max_page negative', toml: 'search_max_page = -1', key: 'search_max_page', expected: /integer from 0, got -1/ },
    { name: 'stats_max_span_days zero', toml: 'stats_max_span_days = 0', key: 'stats_max_span_days', expected: /positive number of days, got 0/ },
    { name: 'websocket_max_connections fractional', toml: 'websocket_max_connections = 2.5', key: 'websocket_max_connections', expected: /positive integer, got 2.5/ },
    { name: 'websocket_max_per_user zero', toml: 'websocket_max_per_user = 0', key: 'websocket_max_per_user', expected: /positive integer, got 0/ },
    { name: 'websocket_ping_seconds negative', toml: 'websocket_ping_seconds = -1', key: 'websocket_ping_seconds', expected: /positive number of seconds, got -1/ },
    { name: 'an unknown key', toml: 'sync_perod = 10', key: 'sync_perod', expected: /unknown key \(did you mean sync_period\?\)/ },
    { name: 'an unknown table', toml: '[database]\nhost = "x"', key: 'database', expected: /unknown key/ },
    { name: 'an unknown key unlike any', toml: 'colour_scheme = "dark"', key: 'colour_scheme', expected: /^colour_scheme: unknown key; see docs\/configuration.md/ },
  ];
  for (const c of cases) {
    it(`reports ${c.name}`, async () => {
      const err = await failing(c.toml);
      expect(problemAbout(err, c.key)).to.match(c.expected);
    });
  }

  it('reports each missing database key', async () => {
    const err = await failing('port = 5454', '');
    for (const key of ['database_host', 'database_username', 'database_name']) {
      expect(problemAbout(err, key)).to.match(/^database_\w+: missing, expected the PostgreSQL/);
    }
    expect(err.problems).to.have.length(3);
  });

  describe('frontend assets', () => {
    it('local with bucket or key set', async () => {
      const err = await failing('frontend_assets = "local"\nfrontend_assets_bucket = "b"\nfrontend_assets_key = "index.html"');
      expect(problemAbout(err, 'frontend_assets_bucket')).to.contain('must not be set when frontend_assets = "local"');
      expect(problemAbout(err, 'frontend_assets_key')).to.contain('must not be set when frontend_assets = "local"');
    });

    it('s3 without bucket and key', async () => {
      const err = await failing('frontend_assets = "s3"');
      expect(problemAbout(err, 'frontend_assets_bucket')).to.contain('expected an S3 bucket when frontend_assets = "s3"');
      expect(problemAbout(err, 'frontend_assets_key')).to.contain('expected the S3 key');
      expect(err.problems).to.have.length(2);
    });

    it('s3 with an explicit local prefix', async () => {
      const err = await failing('frontend_assets = "s3"\nfrontend_assets_bucket = "b"\nfrontend_assets_key = "k"\nfrontend_assets_local_prefix = "dist"');
      expect(problemAbout(err, 'frontend_assets_local_prefix')).to.contain('must not be set when frontend_assets = "s3"');
      expect(err.problems).to.have.length(1);
    });

    it('s3 with bucket and key loads, without the default local prefix', async () => {
      const file = tmp.write('s3-assets.toml', `${MINIMAL_TOML}\nfrontend_assets = "s3"\nfrontend_assets_bucket = "b"\nfrontend_assets_key = "ui/index.html"\n`);
      const config = await loadConfig({ path: file, env: {} });
      expect(config.frontend_assets_bucket).to.equal('b');
      expect(config.frontend_assets_local_prefix).to.equal(undefined);
    });

    it('local with an empty prefix', async () => {
      const err = await failing('frontend_assets_local_prefix = ""');
      expect(problemAbout(err, 'frontend_assets_local_prefix')).to.contain('index.html');
    });
  });

  describe('database password', () => {
    it('database_password together with password_bucket/password_key', async () => {
      const err = await failing('database_password = "pw"\npassword_bucket = "secrets"\npassword_key = "bp.toml"');
      expect(problemAbout(err, 'database_password')).to.contain('must not be set together with password_bucket/password_key');
      expect(err.problems).to.have.length(1);
    });

    it('password_bucket without password_key, and the other way round', async () => {
      let err = await failing('password_bucket = "secrets"');
      expect(problemAbout(err, 'password_key')).to.contain('set together');
      err = await failing('password_key = "bp.toml"');
      expect(problemAbout(err, 'password_bucket')).to.contain('set together');
    });
  });

  describe('authentication', () => {
    it('tokens mode with no token', async () => {
      const err = await failing('auth_mode = "tokens"');
      expect(problemAbout(err, 'auth_tokens')).to.contain('at least one token when auth_mode = "tokens"');
    });

    it('tokens mode with an empty list', async () => {
      const err = await failing('auth_mode = "tokens"\nauth_tokens = []');
      expect(problemAbout(err, 'auth_tokens')).to.contain('at least one token');
    });

    it('proxy mode without auth_proxy_secret or auth_proxy_trusted_cidrs', async () => {
      const err = await failing('auth_mode = "proxy"');
      expect(problemAbout(err, 'auth_proxy_secret')).to.match(/expected auth_proxy_secret and\/or auth_proxy_trusted_cidrs when auth_mode = "proxy"/);
    });

    it('trusted proxy addresses that are not CIDR blocks', async () => {
      const err = await failing('auth_mode = "proxy"\nauth_proxy_trusted_cidrs = ["10.0.0.0/33", "proxy.internal"]');
      expect(problemAbout(err, 'auth_proxy_trusted_cidrs[0]')).to.match(/CIDR blocks such as "10.0.0.0\/8"/);
      expect(problemAbout(err, 'auth_proxy_trusted_cidrs[1]')).to.match(/CIDR blocks/);
    });

    it('proxy mode with empty header names', async () => {
      const err = await failing('auth_mode = "proxy"\nauth_proxy_secret = "s"\nauth_proxy_user_header = ""\nauth_proxy_groups_header = ""');
      expect(problemAbout(err, 'auth_proxy_user_header')).to.contain('expected an HTTP header name');
      expect(problemAbout(err, 'auth_proxy_groups_header')).to.contain('expected an HTTP header name');
      expect(err.problems, 'one problem per key').to.have.length(2);
    });

    it('malformed tokens, each by its position, without echoing token values', async () => {
      const err = await failing(
        'auth_mode = "tokens"\nauth_tokens = ["no-colon-secret1", "supersecret2:operator", "admin=viewer:", { role = "viewer" }, 7, "viewer:dup3", "viewer:dup3"]',
      );
      expect(problemAbout(err, 'auth_tokens[0]')).to.contain('"role:token"');
      expect(problemAbout(err, 'auth_tokens[1]')).to.contain('"viewer" or "operator"');
      expect(problemAbout(err, 'auth_tokens[2]')).to.contain('non-empty token');
      expect(problemAbout(err, 'auth_tokens[3]')).to.contain('token to be a string');
      expect(problemAbout(err, 'auth_tokens[4]')).to.contain('{ name, role, token }');
      expect(err.problems).to.include('auth_tokens: the same token is listed more than once');
      for (const secret of ['secret1', 'supersecret2', 'dup3']) expect(err.message).not.to.contain(secret);
    });
  });

  it('never echoes a secret value in a problem', async () => {
    const err = await failing('database_password = 12345678\nnotify_secret = 87654321\nredis_url = "http://user:hunter2@cache:6379"');
    expect(problemAbout(err, 'database_password')).to.equal('database_password: expected a string');
    expect(problemAbout(err, 'notify_secret')).to.equal('notify_secret: expected a non-empty shared secret');
    expect(err.message).not.to.contain('12345678').and.not.to.contain('87654321').and.not.to.contain('hunter2');
    expect(problemAbout(err, 'redis_url')).to.contain('http://user:redacted@cache:6379');
  });
});
