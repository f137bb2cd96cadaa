import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { freePort } from './helpers/net';
import { testRedisPrefix } from './helpers/redis';

const ROOT = path.resolve(__dirname, '..');

/** A stand-in OTLP/HTTP collector: keeps the bodies it is sent. */
async function startCollector(): Promise<{ url: string; bodies: string[]; close(): void }> {
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1/traces`, bodies, close: () => server.close() };
}

/** Polls `probe` until it gives a value; `stopped` returns a reason to give up early (the process died). */
async function waitFor<T>(probe: () => Promise<T | undefined>, ms: number, stopped: () => string | null): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    const reason = stopped();
    if (reason) throw new Error(reason);
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('use_datadog_tracing: OpenTelemetry spans over OTLP', function () {
  this.timeout(60_000);
  let t: TestDatabase;
  const redis = testRedisPrefix();
  before(async () => {
    t = await createTestDatabase();
  });
  after(async () => {
    await t.drop();
    await redis.cleanup();
  });

  it('exports spans of API requests and their Postgres queries when switched on', async () => {
    const collector = await startCollector();
    // A port the OS just handed out: a random one could be a client connection's local port.
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/batchiepatchie'), 'api', path.join(ROOT, 'config/local.toml')], {
      cwd: ROOT,
      env: {
        ...process.env,
        BATCHIEPATCHIE_DATABASE_NAME: t.name,
        BATCHIEPATCHIE_PORT: String(port),
        BATCHIEPATCHIE_REDIS_PREFIX: redis.prefix,
        BATCHIEPATCHIE_USE_DATADOG_TRACING: 'true',
        BATCHIEPATCHIE_LOG_LEVEL: 'warn',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collector.url,
        OTEL_SERVICE_NAME: 'bp-tracing-test',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const status = await waitFor(
        async () => (await fetch(`http://127.0.0.1:${port}/api/v1/jobs?q=x`)).status,
        30_000,
        () => (child.exitCode !== null ? `the API exited with ${child.exitCode} before answering:\n${stderr}` : null),
      );
      expect(status).to.equal(200);
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      const all = collector.bodies.join('\n');
      expect(all, stderr).to.include('bp-tracing-test');
      expect(all).to.include('/api/v1/jobs');
      expect(all).to.match(/"pg\.query|SELECT/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      collector.close();
    }
  });
});
