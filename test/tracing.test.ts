import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import { startSimulator } from 'aws-batch-simulator';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { freePort } from './helpers/net';
import { testRedisPrefix } from './helpers/redis';
import { otlpTracesUrl } from '../src/tracing';

const ROOT = path.resolve(__dirname, '..');

/** A stand-in OTLP/HTTP collector: keeps the bodies it is sent. */
async function startCollector(): Promise<{ url: string; bodies: string[]; paths: string[]; close(): void }> {
  const bodies: string[] = [];
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1/traces`, bodies, paths, close: () => server.close() };
}

const SERVER = 2; // SpanKind.SERVER in OTLP

interface ExportedSpan {
  scope: string;
  name: string;
  kind: number;
  traceId: string;
  attributes: Record<string, string | number | boolean | undefined>;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };

/** The spans of OTLP/HTTP JSON export bodies, with their instrumentation scope and plain attributes. */
function spansOf(bodies: string[]): ExportedSpan[] {
  const spans: ExportedSpan[] = [];
  for (const body of bodies) {
    const parsed = JSON.parse(body) as {
      resourceSpans?: {
        scopeSpans?: {
          scope?: { name?: string };
          spans?: { name: string; kind: number; traceId: string; attributes?: { key: string; value: OtlpValue }[] }[];
        }[];
      }[];
    };
    for (const rs of parsed.resourceSpans ?? []) {
      for (const ss of rs.scopeSpans ?? []) {
        for (const span of ss.spans ?? []) {
          const attributes: ExportedSpan['attributes'] = {};
          for (const a of span.attributes ?? []) attributes[a.key] = a.value.stringValue ?? a.value.intValue ?? a.value.boolValue ?? a.value.doubleValue;
          spans.push({ scope: ss.scope?.name ?? '', name: span.name, kind: span.kind, traceId: span.traceId, attributes });
        }
      }
    }
  }
  return spans;
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

  it('exports spans of API requests, their Postgres queries, Redis commands and AWS calls when switched on', async () => {
    const collector = await startCollector();
    const sim = await startSimulator({ port: 0, clock: 'manual', scenario: 'empty' });
    sim.model.createComputeEnvironment({ name: 'trace-ce', instances: 0 });
    sim.model.createJobQueue({ name: 'trace-q', computeEnvironments: ['trace-ce'] });
    // A port the OS just handed out: a random one could be a client connection's local port.
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/batchiepatchie'), 'api', path.join(ROOT, 'config/local.toml')], {
      cwd: ROOT,
      env: {
        ...process.env,
        BATCHIEPATCHIE_DATABASE_NAME: t.name,
        BATCHIEPATCHIE_PORT: String(port),
        BATCHIEPATCHIE_REDIS_PREFIX: redis.prefix,
        BATCHIEPATCHIE_AWS_ENDPOINT: sim.endpoint,
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
      const url = `http://127.0.0.1:${port}`;
      const status = await waitFor(
        async () => (await fetch(`${url}/api/v1/jobs?q=x`)).status,
        30_000,
        () => (child.exitCode !== null ? `the API exited with ${child.exitCode} before answering:\n${stderr}` : null),
      );
      expect(status).to.equal(200);
      // AWS: the queue listing calls Batch DescribeJobQueues. Redis: readiness pings it.
      expect((await fetch(`${url}/api/v1/job_queues/all`)).status).to.equal(200);
      expect((await fetch(`${url}/readyz`)).status).to.equal(200);
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      const spans = spansOf(collector.bodies);
      expect(JSON.stringify(collector.bodies), stderr).to.include('bp-tracing-test');
      const by = (scope: string) => spans.filter((x) => x.scope === `@opentelemetry/instrumentation-${scope}`);
      // Attribute names of the current semantic conventions, or the older ones.
      const attr = (x: ExportedSpan, ...names: string[]) => names.map((n) => x.attributes[n]).find((v) => v !== undefined);
      const serverSpan = (path: string) => by('http').find((x) => x.kind === SERVER && String(attr(x, 'url.path', 'http.target')).startsWith(path));
      const queuesRequest = serverSpan('/api/v1/job_queues/all');
      expect(queuesRequest, 'the HTTP request span').to.not.equal(undefined);
      expect(serverSpan('/api/v1/jobs'), 'the search request span').to.not.equal(undefined);
      const search = by('pg').find((x) => attr(x, 'db.system.name', 'db.system') === 'postgresql' && /FROM jobs/.test(String(attr(x, 'db.query.text', 'db.statement'))));
      expect(search, 'the search query span').to.not.equal(undefined);
      expect(search!.traceId, 'the query is part of its request').to.equal(serverSpan('/api/v1/jobs')!.traceId);
      const ping = by('ioredis').find((x) => attr(x, 'db.system.name', 'db.system') === 'redis' && x.name === 'ping');
      expect(ping, 'a Redis command span').to.not.equal(undefined);
      expect(ping!.traceId, 'the readiness ping is part of its request').to.equal(serverSpan('/readyz')!.traceId);
      const aws = by('aws-sdk').find((x) => x.attributes['rpc.method'] === 'DescribeJobQueues');
      expect(aws?.attributes['rpc.service'], 'the AWS call span').to.equal('Batch');
      expect(aws!.traceId, 'the AWS call is part of the request that made it').to.equal(queuesRequest!.traceId);
      expect(sim.counters.get()['Batch.DescribeJobQueues']).to.equal(1);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      collector.close();
      await sim.stop();
    }
  });
});

describe('tracing: where spans go without an OTLP endpoint (use_datadog_tracing as the Go original is deployed)', function () {
  this.timeout(60_000);

  it('BATCHIEPATCHIE_IP names the Datadog Agent: its OTLP intake on port 4318; OTEL_* variables win; a bad port is named', () => {
    expect(otlpTracesUrl({ BATCHIEPATCHIE_IP: '10.0.3.7' })).to.equal('http://10.0.3.7:4318/v1/traces');
    expect(otlpTracesUrl({ BATCHIEPATCHIE_IP: 'fd00::7' })).to.equal('http://[fd00::7]:4318/v1/traces');
    expect(otlpTracesUrl({ BATCHIEPATCHIE_IP: '10.0.3.7', BATCHIEPATCHIE_OTLP_PORT: '14318' })).to.equal('http://10.0.3.7:14318/v1/traces');
    expect(otlpTracesUrl({ BATCHIEPATCHIE_IP: '10.0.3.7', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).to.equal(undefined);
    expect(otlpTracesUrl({ BATCHIEPATCHIE_IP: '10.0.3.7', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' })).to.equal(undefined);
    expect(otlpTracesUrl({})).to.equal(undefined);
    expect(() => otlpTracesUrl({ BATCHIEPATCHIE_IP: '10.0.3.7', BATCHIEPATCHIE_OTLP_PORT: 'http' })).to.throw(/BATCHIEPATCHIE_OTLP_PORT/);
  });

  it('with BATCHIEPATCHIE_IP set and no OTLP endpoint, an API process sends its spans to the agent at that address', async () => {
    const t = await createTestDatabase();
    const redis = testRedisPrefix();
    const collector = await startCollector();
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      BATCHIEPATCHIE_DATABASE_NAME: t.name,
      BATCHIEPATCHIE_PORT: String(port),
      BATCHIEPATCHIE_REDIS_PREFIX: redis.prefix,
      BATCHIEPATCHIE_USE_DATADOG_TRACING: 'true',
      BATCHIEPATCHIE_LOG_LEVEL: 'warn',
      BATCHIEPATCHIE_IP: '127.0.0.1',
      BATCHIEPATCHIE_OTLP_PORT: new URL(collector.url).port,
      OTEL_SERVICE_NAME: 'bp-agent-ip-test',
    };
    delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/batchiepatchie'), 'api', path.join(ROOT, 'config/local.toml')], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const url = `http://127.0.0.1:${port}`;
      const status = await waitFor(
        async () => (await fetch(`${url}/api/v1/jobs?q=agent`)).status,
        30_000,
        () => (child.exitCode !== null ? `the API exited with ${child.exitCode} before answering:\n${stderr}` : null),
      );
      expect(status).to.equal(200);
      child.kill('SIGTERM'); // flushes the spans on the way out
      await new Promise((resolve) => child.once('exit', resolve));
      expect(collector.paths.every((p) => p === '/v1/traces'), JSON.stringify(collector.paths)).to.equal(true);
      expect(JSON.stringify(collector.bodies), stderr).to.include('bp-agent-ip-test');
      const spans = spansOf(collector.bodies);
      expect(spans.some((x) => x.kind === SERVER && /\/api\/v1\/jobs/.test(String(x.attributes['url.path'] ?? x.attributes['http.target']))), 'the request span').to.equal(true);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      collector.close();
      await t.drop();
      await redis.cleanup();
    }
  });
});
