import { expect } from 'chai';
import { CONFIG_DEFAULTS, ConfigError, SYNC_PERIOD_WITH_EVENTS, loadConfig } from '../../src/config';
import { regionOfQueueUrl } from '../../src/aws/clients';
import { knexSettings } from '../../src/store/db';
import { configError, MINIMAL_TOML, problemAbout, SEED_TOML, tempDir, warnings } from './helpers';

describe('config: loading a file', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('loads the seed example file with its values and the defaults of every other key', async () => {
    const file = tmp.write('seed.toml', SEED_TOML);
    const config = await loadConfig({ path: file, env: {} });
    expect(config).to.include({
      host: '0.0.0.0',
      port: 5454,
      region: 'us-west-2',
      database_host: 'postgres',
      database_port: 5432,
      database_username: 'postgres',
      database_name: 'postgres',
      database_password: '123456',
      frontend_assets: 'local',
      frontend_assets_local_prefix: 'frontend/dist',
    });
    expect(config).to.include({
      sync_period: 30,
      scale_period: 30,
      clean_period: 1800,
      kill_stuck_jobs: false,
      use_auto_scaler: true,
      use_cleaner: false,
      use_datadog_tracing: false,
      redis_url: 'redis://127.0.0.1:6379',
      gone_after_seconds: 300,
      stuck_starting_seconds: 600,
      terminator_max_instances_per_run: 20,
      retention_days: 30,
      auth_mode: 'none',
    });
    expect(config.aws_endpoint).to.equal(undefined);
  });

  it('with events_queue_url, sync_period defaults to the reconciliation period; an explicit one (file or env) stays', async () => {
    const url = 'https://sqs.eu-west-1.amazonaws.com/123456789012/batch-events';
    const withEvents = await loadConfig({ path: tmp.write('events.toml', `${MINIMAL_TOML}\nevents_queue_url = "${url}"\n`), env: {} });
    expect(withEvents).to.include({ events_queue_url: url, sync_period: SYNC_PERIOD_WITH_EVENTS });
    expect(SYNC_PERIOD_WITH_EVENTS).to.equal(1800);
    const explicit = await loadConfig({ path: tmp.write('events30.toml', `${MINIMAL_TOML}\nevents_queue_url = "${url}"\nsync_period = 30\n`), env: {} });
    expect(explicit.sync_period).to.equal(30);
    const fromEnv = await loadConfig({ path: tmp.write('events-env.toml', MINIMAL_TOML), env: { BATCHIEPATCHIE_EVENTS_QUEUE_URL: url, BATCHIEPATCHIE_SYNC_PERIOD: '60' } });
    expect(fromEnv).to.include({ events_queue_url: url, sync_period: 60 });
    const without = await loadConfig({ path: tmp.write('no-events.toml', MINIMAL_TOML), env: {} });
    expect(without.sync_period).to.equal(30);
    // The queue's own region signs its calls (a queue in another region than \`region\` works).
    expect(regionOfQueueUrl(url)).to.equal('eu-west-1');
    expect(regionOfQueueUrl('http://127.0.0.1:4566/123456789012/batch-events')).to.equal(undefined);
  });

  it('loads a file that sets every new key', async () => {
    const file = tmp.write(
      'full.toml',
      `${MINIMAL_TOML}
port = 8080
sync_period = 5.5
kill_stuck_jobs = true
use_datadog_tracing = true
redis_url = "rediss://cache.internal:6380/2"
redis_prefix = "bp-prod"
aws_endpoint = "http://127.0.0.1:4566"
gone_after_seconds = 120
stuck_starting_seconds = 900
terminator_max_instances_per_run = 5
retention_days = 90
worker_concurrency = 16
aws_calls_per_second = 7.5
auth_mode = "proxy"
auth_proxy_user_header = "X-Auth-Request-User"
auth_proxy_groups_header = "X-Auth-Request-Groups"
auth_proxy_operator_groups = ["batch-admins", "sre"]
auth_proxy_secret = "proxy-shh"
auth_proxy_secret_header = "X-Proxy-Secret"
auth_proxy_trusted_cidrs = "10.0.0.0/8, fd00::/8"
notify_secret = "shh"
log_level = "debug"
`,
    );
    const config = await loadConfig({ path: file, env: {} });
    expect(config).to.include({
      port: 8080,
      sync_period: 5.5,
      kill_stuck_jobs: true,
      use_datadog_tracing: true,
      redis_url: 'rediss://cache.internal:6380/2',
      redis_prefix: 'bp-prod',
      aws_endpoint: 'http://127.0.0.1:4566',
      gone_after_seconds: 120,
      stuck_starting_seconds: 900,
      terminator_max_instances_per_run: 5,
      retention_days: 90,
      worker_concurrency: 16,
      aws_calls_per_second: 7.5,
      auth_mode: 'proxy',
      // Lower-cased: Node presents incoming header names in lower case.
      auth_proxy_user_header: 'x-auth-request-user',
      auth_proxy_groups_header: 'x-auth-request-groups',
      auth_proxy_secret: 'proxy-shh',
      auth_proxy_secret_header: 'x-proxy-secret',
      notify_secret: 'shh',
      log_level: 'debug',
    });
    expect(config.auth_proxy_operator_groups).to.deep.equal(['batch-admins', 'sre']);
    expect(config.auth_proxy_trusted_cidrs).to.deep.equal(['10.0.0.0/8', 'fd00::/8']);
  });

  it('reads auth tokens written as strings, with names, and as tables', async () => {
    const file = tmp.write(
      'tokens.toml',
      `${MINIMAL_TOML}
auth_mode = "tokens"
auth_tokens = ["viewer:v-token", "ci=operator:b64token==", { name = "grafana", role = "viewer", token = "g:t" }]
`,
    );
    const config = await loadConfig({ path: file, env: {} });
    expect(config.auth_tokens).to.deep.equal([
      { role: 'viewer', token: 'v-token' },
      { name: 'ci', role: 'operator', token: 'b64token==' },
      { name: 'grafana', role: 'viewer', token: 'g:t' },
    ]);
  });

  it('loads the sample files the README and docker-compose use', async () => {
    const local = await loadConfig({ path: 'config/local.toml', env: {} });
    expect(local.aws_endpoint).to.be.a('string');
    const docker = await loadConfig({ path: 'config/docker.toml', env: { DATABASE_PASSWORD: 'pw' } });
    expect(docker.database_password).to.equal('pw');
  });

  it('falls back to BATCHIEPATCHIE_CONFIG when no path is given', async () => {
    const file = tmp.write('from-env.toml', `${MINIMAL_TOML}\nport = 6001\n`);
    const config = await loadConfig({ env: { BATCHIEPATCHIE_CONFIG: file } });
    expect(config.port).to.equal(6001);
  });

  it('prefers the given path over BATCHIEPATCHIE_CONFIG', async () => {
    const given = tmp.write('given.toml', `${MINIMAL_TOML}\nport = 6002\n`);
    const other = tmp.write('other.toml', `${MINIMAL_TOML}\nport = 6003\n`);
    const config = await loadConfig({ path: given, env: { BATCHIEPATCHIE_CONFIG: other } });
    expect(config.port).to.equal(6002);
  });

  it('without any path fails with a message saying how to give one', async () => {
    const err = await configError(() => loadConfig({ env: {} }));
    expect(err.problems).to.have.length(1);
    expect(err.message).to.contain('BATCHIEPATCHIE_CONFIG').and.to.contain('s3://bucket/key');
  });

  it('names a missing file', async () => {
    const missing = `${tmp.dir}/does-not-exist.toml`;
    const err = await configError(() => loadConfig({ path: missing, env: {} }));
    expect(err.message).to.contain(missing).and.to.contain('no such file');
  });

  it('reports invalid TOML with its line and column', async () => {
    const file = tmp.write('broken.toml', 'port = 1\nhost = "unterminated\n');
    const err = await configError(() => loadConfig({ path: file, env: {} }));
    expect(err.message).to.contain(file).and.to.match(/not valid TOML at line 2, column \d+/);
  });

  it('accepts the Go original\'s logentries keys with a warning instead of failing', async () => {
    const file = tmp.write('go.toml', `${SEED_TOML}\nlogentries_host = "data.logentries.com:443"\nlogentries_token = "abc"\n`);
    const w = warnings();
    const config = await loadConfig({ path: file, env: {}, onWarning: w.onWarning });
    expect(config.port).to.equal(5454);
    expect(w.seen).to.have.length(2);
    expect(w.seen[0]).to.contain('logentries_host is ignored');
    expect(config).not.to.have.property('logentries_host');
  });

  it('returns a fresh object on every load: nothing global to mutate', async () => {
    const file = tmp.write('fresh.toml', MINIMAL_TOML);
    const a = await loadConfig({ path: file, env: {} });
    a.port = 1;
    a.auth_proxy_operator_groups.push('x');
    const b = await loadConfig({ path: file, env: {} });
    expect(b.port).to.equal(CONFIG_DEFAULTS.port);
    expect(b.auth_proxy_operator_groups).to.deep.equal([]);
    expect(CONFIG_DEFAULTS.auth_proxy_operator_groups).to.deep.equal([]);
  });

  describe('database_root_certificate (TLS)', () => {
    const PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

    it('accepts a readable PEM file, which knexSettings turns into verify-full TLS', async () => {
      const pem = tmp.write('root.pem', PEM);
      const file = tmp.write('tls.toml', `${MINIMAL_TOML}\ndatabase_root_certificate = "${pem}"\n`);
      const config = await loadConfig({ path: file, env: {} });
      expect(config.database_root_certificate).to.equal(pem);
      const connection = knexSettings(config).connection as { ssl?: { ca: string; rejectUnauthorized: boolean } };
      expect(connection.ssl).to.deep.equal({ ca: PEM, rejectUnauthorized: true });
    });

    it('rejects a missing file, a directory and a file without a certificate', async () => {
      const notPem = tmp.write('not.pem', 'hello\n');
      for (const [certificate, reason] of [
        [`${tmp.dir}/missing.pem`, 'no such file'],
        [tmp.dir, 'is not a file'],
        [notPem, 'BEGIN CERTIFICATE'],
      ]) {
        const file = tmp.write('bad-tls.toml', `${MINIMAL_TOML}\ndatabase_root_certificate = "${certificate}"\n`);
        const err = await configError(() => loadConfig({ path: file, env: {} }));
        expect(problemAbout(err, 'database_root_certificate')).to.contain(reason).and.to.contain(certificate);
      }
    });
  });

  it('ConfigError keeps its problems and lists each on its own line', () => {
    const err = new ConfigError(['port: a', 'host: b'], 'x.toml');
    expect(err.problems).to.deep.equal(['port: a', 'host: b']);
    expect(err.message).to.equal('Invalid configuration x.toml (2 problems):\n  - port: a\n  - host: b');
  });
});
