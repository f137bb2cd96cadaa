import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import pino from 'pino';
import { createAwsClients } from '../../src/aws/clients';
import { loadIndexPage } from '../../src/api/routes/ui';
import { createLogger } from '../../src/log';
import { createDb } from '../../src/store/db';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { freePort } from '../helpers/net';
import { testRedisPrefix } from '../helpers/redis';
import { getJson, insertJobs, job, startTestApi, type TestApi } from './helpers';

const logger = createLogger('silent');


describe('API: operations endpoints, headers, UI serving, shutdown', function () {
  this.timeout(30_000);
  let tdb: TestDatabase;
  let t: TestApi;
  let assets: string;

  before(async () => {
    tdb = await createTestDatabase();
    assets = await mkdtemp(path.join(os.tmpdir(), 'bp-ui-'));
    await mkdir(path.join(assets, 'assets'));
    await writeFile(path.join(assets, 'index.html'), '<!doctype html><title>the real UI</title>');
    await writeFile(path.join(assets, 'assets', 'index-AbCd1234.js'), 'console.log("app")');
    await writeFile(path.join(assets, 'favicon.ico'), 'icon');
    t = await startTestApi({ tdb, config: { frontend_assets_local_prefix: assets } });
  });
  after(async () => {
    await t.close();
    await tdb.drop();
    await rm(assets, { recursive: true, force: true });
  });

  it('/ping answers pong (text), /healthz ok', async () => {
    const ping = await fetch(`${t.url}/ping`);
    expect(ping.status).to.equal(200);
    expect(ping.headers.get('content-type')).to.match(/^text\/plain/);
    expect(await ping.text()).to.equal('pong');
    expect(await getJson(`${t.url}/healthz`)).to.include({ status: 200 });
  });

  it('/readyz: 200 when Postgres and Redis answer (no sync round yet, within three sync periods of start-up)', async () => {
    const res = await getJson(`${t.url}/readyz`);
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ status: 'ready', postgres: 'ok', redis: 'ok', sync: 'ok', last_sync_round_age_seconds: null });
  });

  it('/readyz and batchiepatchie_sync_round_age_seconds: the age of the last finished sync round; 503 past three sync periods', async () => {
    const roundAge = async () => {
      const value = /^batchiepatchie_sync_round_age_seconds (\S+)$/m.exec(await (await fetch(`${t.url}/metrics`)).text())?.[1];
      return value === '+Inf' ? Infinity : Number(value);
    };
    expect(await roundAge(), 'no round yet').to.equal(Infinity);
    const beat = (secondsAgo: number) =>
      tdb.db.raw(
        `INSERT INTO pipeline_heartbeats (name, beat_at) VALUES ('sync_round_finished', now() - ? * interval '1 second')
         ON CONFLICT (name) DO UPDATE SET beat_at = EXCLUDED.beat_at`,
        [secondsAgo],
      );
    try {
      await beat(91); // sync_period 30: three periods are 90 s
      const stale = await getJson(`${t.url}/readyz`);
      expect(stale.status).to.equal(503);
      expect(stale.body).to.include({ error: 'not ready', postgres: 'ok', redis: 'ok' });
      expect(stale.body.sync).to.match(/^no sync round finished in the last 90 s \(3 sync periods\); the last one 9[0-9] s ago$/);
      expect(stale.body.last_sync_round_age_seconds).to.be.at.least(91);
      expect(await roundAge()).to.be.at.least(91);

      await beat(5);
      const fresh = await getJson(`${t.url}/readyz`);
      expect(fresh.status).to.equal(200);
      expect(fresh.body).to.include({ status: 'ready', sync: 'ok' });
      expect(fresh.body.last_sync_round_age_seconds).to.be.at.least(5).and.below(90);
      const age = await roundAge();
      expect(age).to.be.at.least(5).and.below(90);
    } finally {
      await tdb.db('pipeline_heartbeats').del();
    }
  });

  it('/readyz: 503 naming what is down, without the driver messages (they go to the log)', async () => {
    const brokenDb = createDb({ ...tdb.config, database_name: 'bp_does_not_exist' }, { min: 0, max: 1 });
    const down = await startTestApi({ tdb, config: { redis_url: 'redis://127.0.0.1:1' }, deps: { db: brokenDb } });
    try {
      const res = await getJson(`${down.url}/readyz`);
      expect(res.status).to.equal(503);
      expect(res.body.error).to.equal('not ready');
      expect(res.body).to.deep.equal({
        error: 'not ready',
        postgres: 'unreachable',
        redis: 'unreachable',
        sync: 'unknown (Postgres is not ready)',
        last_sync_round_age_seconds: null,
      });
    } finally {
      await down.close();
      await brokenDb.destroy();
    }
  });

  it('/metrics: Prometheus text with default metrics and HTTP latency by route pattern', async () => {
    await insertJobs(tdb.db, [job({ job_id: 'metrics-job-1' })]);
    // The registry is the process's, filled by earlier tests too: count this request's increase.
    const answered = (text: string) =>
      Number(/^batchiepatchie_http_request_duration_seconds_count\{[^}]*route="\/api\/v1\/jobs\/:id"[^}]*status="200"[^}]*\} (\d+)$/m.exec(text)?.[1] ?? 0);
    const before = answered(await (await fetch(`${t.url}/metrics`)).text());
    expect((await fetch(`${t.url}/api/v1/jobs/metrics-job-1`)).status).to.equal(200);
    const res = await fetch(`${t.url}/metrics`);
    expect(res.headers.get('content-type')).to.match(/^text\/plain/);
    const text = await res.text();
    expect(text).to.match(/^process_cpu_user_seconds_total/m);
    expect(answered(text) - before).to.equal(1);
    expect(text).to.not.include('metrics-job-1');
  });

  it('security headers on API, UI and error responses', async () => {
    for (const p of ['/api/v1/jobs', '/', '/api/v1/nope', '/assets/index-AbCd1234.js']) {
      const res = await fetch(`${t.url}${p}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, p).to.include("frame-ancestors 'none'");
      expect(csp, p).to.include("script-src 'self'");
      expect(csp, p).to.include("default-src 'self'");
      expect(res.headers.get('x-content-type-options'), p).to.equal('nosniff');
      expect(res.headers.get('referrer-policy'), p).to.equal('no-referrer');
      expect(res.headers.get('x-frame-options'), p).to.equal('DENY');
      if (p.startsWith('/api/')) expect(res.headers.get('cache-control'), p).to.equal('no-store');
    }
  });

  it('unknown routes are JSON 404s; wrong methods JSON 405s', async () => {
    expect(await getJson(`${t.url}/api/v1/nope`)).to.deep.include({ status: 404, body: { error: 'not found', path: '/api/v1/nope' } });
    expect((await getJson(`${t.url}/nope.js`)).status).to.equal(404);
    const res = await getJson(`${t.url}/api/v1/jobs`, { method: 'DELETE' });
    expect(res.status).to.equal(405);
    expect(res.body).to.deep.equal({ error: 'method not allowed' });
  });

  it('UI routes serve index.html (no-cache); hashed assets cache for a year; others briefly', async () => {
    for (const p of ['/', '/index.html', '/stats', '/jobs', '/job/abc-123', '/job_queues']) {
      const res = await fetch(`${t.url}${p}`);
      expect(res.status, p).to.equal(200);
      expect(res.headers.get('content-type'), p).to.match(/^text\/html/);
      expect(res.headers.get('cache-control'), p).to.equal('no-cache');
      expect(await res.text(), p).to.include('the real UI');
    }
    const hashed = await fetch(`${t.url}/assets/index-AbCd1234.js`);
    expect(hashed.status).to.equal(200);
    expect(hashed.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable');
    expect(await hashed.text()).to.equal('console.log("app")');
    const icon = await fetch(`${t.url}/favicon.ico`);
    expect(icon.headers.get('cache-control')).to.equal('public, max-age=300');
    expect((await fetch(`${t.url}/assets`)).status).to.equal(404); // a directory
  });

  it('a rebuilt index.html is picked up without a restart', async () => {
    await writeFile(path.join(assets, 'index.html'), '<!doctype html><title>rebuilt UI</title>');
    await new Promise((r) => setTimeout(r, 20));
    expect(await (await fetch(`${t.url}/`)).text()).to.include('rebuilt UI');
  });

  it('without a build: an explanation page, not a 404', async () => {
    const bare = await startTestApi({ tdb, config: { frontend_assets_local_prefix: path.join(assets, 'missing') } });
    try {
      const res = await fetch(`${bare.url}/job_queues`);
      expect(res.status).to.equal(200);
      const html = await res.text();
      expect(html).to.include('npm run build');
      expect(html).to.include(path.join(assets, 'missing', 'index.html'));
    } finally {
      await bare.close();
    }
  });

  it('S3 assets that cannot be fetched: retried, then an explanation page', async () => {
    const aws = createAwsClients({ region: 'us-east-1', aws_endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    try {
      const started = Date.now();
      const page = await loadIndexPage(
        { frontend_assets: 's3', frontend_assets_bucket: 'ui-bucket', frontend_assets_key: 'ui/index.html' },
        aws.s3,
        logger,
        { retryDelayMs: 50 },
      );
      expect(Date.now() - started).to.be.at.least(150); // two back-offs: 50 + 100 ms
      const { html, found } = await page.get();
      expect(found).to.equal(false);
      expect(html).to.include('s3://ui-bucket/ui/index.html');
    } finally {
      aws.destroy();
    }
  });

  it('request logs: one JSON line per request, without the query string', async () => {
    const lines: string[] = [];
    const recording = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }));
    const s = await startTestApi({ tdb, deps: { logger: recording } });
    try {
      await fetch(`${s.url}/api/v1/jobs?q=secret-search&access_token=tok`, { headers: { 'x-request-id': 'req-42' } });
      const find = () => lines.map((l) => JSON.parse(l)).find((e) => e.msg === 'request' && e.path === '/api/v1/jobs');
      for (let i = 0; i < 250 && !find(); i++) await new Promise((r) => setTimeout(r, 20));
      const entry = find();
      expect(entry).to.include({ method: 'GET', path: '/api/v1/jobs', status: 200, requestId: 'req-42', level: 30 });
      expect(entry.ms).to.be.a('number');
      expect(lines.join('')).to.not.include('secret-search');
      expect(lines.join('')).to.not.include('tok&');
    } finally {
      await s.close();
    }
  });

  it('graceful shutdown: stops accepting, drops idle keep-alive connections, finishes the request in flight, then closes', async () => {
    // A grace period longer than the test: closing can only end by the connections going on their own.
    const s = await startTestApi({ tdb, deps: { shutdownGraceMs: 3_600_000 } });
    // An idle keep-alive connection: one request answered, the socket kept open by the agent.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const { idleClosed } = await new Promise<{ idleClosed: Promise<void> }>((resolve, reject) => {
      const req = http.get(`${s.url}/ping`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ idleClosed: new Promise<void>((closed) => req.socket!.once('close', () => closed())) }));
      });
      req.on('error', reject);
    });
    const trx = await tdb.db.transaction();
    await trx.raw('LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE');
    const inFlight = getJson(`${s.url}/api/v1/jobs`);
    // In flight for sure: its query is waiting on our lock.
    const waitingOnLock = async () =>
      (await tdb.db.raw(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ? AND wait_event_type = 'Lock'`, [tdb.name])).rows[0].n;
    for (let i = 0; i < 500 && (await waitingOnLock()) === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await waitingOnLock(), 'the search waits on the lock').to.equal(1);
    let closed = false;
    const closing = s.api.close().then(() => (closed = true));
    // Idle connections go at once: the server closes ours while the request in flight still holds the lock
    // (waiting for the grace period instead would cut the request in flight, failing it below).
    await idleClosed;
    let refused = false;
    await fetch(`${s.url}/ping`).catch(() => (refused = true));
    expect(refused, 'new connections are refused').to.equal(true);
    expect(closed, 'close waits for the request in flight').to.equal(false);
    await trx.commit();
    expect((await inFlight).status).to.equal(200);
    // The answered request's keep-alive connection is dropped once idle, not kept until the grace period ends.
    await closing;
    expect(closed).to.equal(true);
    agent.destroy();
    await s.close(); // the rest of the test API (its Redis keys, AWS clients); the server is already closed
  });

  it('batchiepatchie api: serves, and exits 0 on SIGTERM', async function () {
    this.timeout(120_000);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bp-api-role-'));
    const redis = testRedisPrefix();
    const configFile = path.join(dir, 'config.toml');
    await writeFile(
      configFile,
      [
        'host = "127.0.0.1"',
        `port = ${await freePort()}`,
        'region = "us-east-1"',
        `database_host = "${tdb.config.database_host}"`,
        `database_port = ${tdb.config.database_port}`,
        `database_username = "${tdb.config.database_username}"`,
        `database_name = "${tdb.name}"`,
        'frontend_assets = "local"',
        `frontend_assets_local_prefix = "${assets}"`,
        'aws_endpoint = "http://127.0.0.1:9"',
        `redis_prefix = "${redis.prefix}"`,
      ].join('\n'),
    );
    const child = spawn(process.execPath, ['bin/batchiepatchie', 'api', configFile], {
      cwd: path.resolve(__dirname, '../..'),
      env: { ...process.env, BATCHIEPATCHIE_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      // Start-up time is the machine's: the bound only keeps a broken start from hanging the suite.
      const deadline = Date.now() + 90_000;
      let url = '';
      while (!url && Date.now() < deadline) {
        url = /"url":"(http:[^"]+)"/.exec(out)?.[1] ?? '';
        if (!url) await new Promise((r) => setTimeout(r, 100));
      }
      expect(url, `stdout: ${out}\nstderr: ${err}`).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${url}/ping`)).text()).to.equal('pong');
      child.kill('SIGTERM');
      expect(await exited, err).to.equal(0);
      expect(out).to.include('shutting down');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
      await redis.cleanup();
    }
  });
});
