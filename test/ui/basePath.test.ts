/**
 * base_path behind a path-routing proxy (the Go original's BASE_URL): a proxy
 * that forwards only /bp/... (HTTP and WebSocket upgrades, the prefix passed
 * on) in front of the stack; the UI built with ASSETS_BASE_URL=/bp/. A real
 * browser uses the Jobs page, a Job page with its live status socket, and
 * nothing it asks for falls outside the prefix.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { startDemoStack, type DemoStack } from '../../src/roles/demo';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { testRedisPrefix } from '../helpers/redis';
import { launchBrowser, newPage } from './browser';
import { buildUiWithAssetsBase } from './stack';

const PREFIX = '/bp';

/** Forwards requests under PREFIX to the upstream as they are; answers 404 to everything else and records it. */
function pathRoutingProxy(upstream: URL, refused: string[]): http.Server {
  const server = http.createServer((req, res) => {
    if (!req.url?.startsWith(`${PREFIX}/`) && req.url !== PREFIX) {
      refused.push(req.url ?? '');
      res.writeHead(404).end('not routed');
      return;
    }
    const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', () => res.writeHead(502).end());
    req.pipe(out);
  });
  server.on('upgrade', (req, socket, head) => {
    if (!req.url?.startsWith(`${PREFIX}/`)) {
      refused.push(req.url ?? '');
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    const up = net.connect(Number(upstream.port), upstream.hostname, () => {
      const headers = Object.entries(req.headers).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => `${k}: ${x}`) : [`${k}: ${v}`]));
      up.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`);
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  return server;
}

describe('UI and API under base_path behind a path-routing proxy', function () {
  this.timeout(240_000);
  let outDir: string;
  let tdb: TestDatabase;
  let redis: ReturnType<typeof testRedisPrefix>;
  let stack: DemoStack;
  let browser: Browser;
  let proxy: http.Server;
  let proxyUrl: string;
  const refused: string[] = [];

  before(async () => {
    outDir = mkdtempSync(path.join(os.tmpdir(), 'bp-base-ui-'));
    await buildUiWithAssetsBase(outDir, `${PREFIX}/`);
    browser = await launchBrowser();
    tdb = await createTestDatabase();
    redis = testRedisPrefix();
    stack = await startDemoStack({
      config: {
        ...tdb.config,
        host: '127.0.0.1',
        port: 0,
        redis_prefix: redis.prefix,
        sync_period: 1,
        frontend_assets: 'local',
        frontend_assets_local_prefix: outDir,
        base_path: PREFIX,
        log_level: 'silent',
      },
      simulator: { port: 0, scenario: 'empty', clock: 'manual' },
      activate: ['base-q'],
      prepare: (sim) => {
        sim.model.createComputeEnvironment({ name: 'base-ce', instances: 1 });
        sim.model.createJobQueue({ name: 'base-q', computeEnvironments: ['base-ce'] });
      },
    });
    proxy = pathRoutingProxy(new URL(stack.url), refused);
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    proxy?.close();
    await stack?.close();
    await tdb?.drop();
    await redis?.cleanup();
    rmSync(outDir, { recursive: true, force: true });
  });

  it('the API answers under the prefix, the original\'s paths after it', async () => {
    const ping = await fetch(`${proxyUrl}${PREFIX}/ping`);
    expect([ping.status, await ping.text()]).to.deep.equal([200, 'pong']);
    const jobs = await fetch(`${proxyUrl}${PREFIX}/api/v1/jobs`);
    expect(jobs.status).to.equal(200);
    expect(await jobs.json()).to.be.an('array');
    const index = await (await fetch(`${proxyUrl}${PREFIX}/job_queues`)).text();
    expect(index).to.contain(`<meta name="batchiepatchie-base-path" content="${PREFIX}">`);
    expect(index).to.contain(`src="${PREFIX}/assets/`);
  });

  it('a browser uses the Jobs page and a Job page with its live socket, all through the prefix', async () => {
    const sim = stack.sim.model;
    const { jobId } = sim.submitJob({ jobName: 'base-job', jobQueue: 'base-q', plan: { outcome: 'SUCCEEDED', runSeconds: 600 } });
    sim.advance(30_000);
    for (;;) {
      const row = await tdb.db('jobs').where({ job_id: jobId }).first('status');
      if (row?.status === 'RUNNING') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const { page, errors } = await newPage(browser);
    await page.goto(`${proxyUrl}${PREFIX}/?dateRange=1d`);
    await page.waitForSelector('text=base-job', { timeout: 60_000 });
    await page.click(`a[href="${PREFIX}/job/${jobId}"]`);
    await page.waitForURL(`${proxyUrl}${PREFIX}/job/${jobId}`);
    await page.waitForSelector('[data-testid=live-indicator].live-live', { timeout: 60_000 });
    await page.waitForSelector('[data-testid=job-status] [data-status=RUNNING]');
    sim.advance(700_000);
    await page.waitForSelector('[data-testid=job-status] [data-status=SUCCEEDED]', { timeout: 60_000 });
    expect(errors).to.deep.equal([]);
    expect(refused, 'requests outside the prefix').to.deep.equal([]);
    await page.close();
  });
});
