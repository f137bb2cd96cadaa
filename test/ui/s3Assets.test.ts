/**
 * frontend_assets = "s3" end to end, as the Go original was deployed: the UI
 * built with ASSETS_BASE_URL pointing at where its files are served (a CDN
 * or S3 website; here a local server standing in, with the CORS header such
 * a bucket needs for module scripts), its index.html read from S3 (the
 * simulator's), served by us with a CSP that lets the asset origin in. A
 * real browser renders the Jobs page from it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import send from 'koa-send';
import Koa from 'koa';
import type { Browser } from 'playwright-core';
import { startDemoStack, type DemoStack } from '../../src/roles/demo';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { testRedisPrefix } from '../helpers/redis';
import { launchBrowser, newPage } from './browser';
import { buildUiWithAssetsBase } from './stack';


describe('UI: frontend_assets = "s3" with the build\'s ASSETS_BASE_URL', function () {
  this.timeout(240_000);
  let outDir: string;
  let cdn: http.Server;
  let cdnBase: string;
  const cdnRequests: string[] = [];
  let tdb: TestDatabase;
  let redis: ReturnType<typeof testRedisPrefix>;
  let stack: DemoStack;
  let browser: Browser;

  before(async () => {
    outDir = mkdtempSync(path.join(os.tmpdir(), 'bp-s3-ui-'));
    // The CDN stand-in: serves the build under /cdn/, with CORS (module scripts are fetched in CORS mode).
    const app = new Koa();
    app.use(async (ctx) => {
      cdnRequests.push(ctx.path);
      ctx.set('Access-Control-Allow-Origin', '*');
      if (!ctx.path.startsWith('/cdn/')) return;
      await send(ctx, ctx.path.slice('/cdn'.length), { root: outDir });
    });
    cdn = http.createServer(app.callback());
    await new Promise<void>((resolve) => cdn.listen(0, '127.0.0.1', resolve));
    cdnBase = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}/cdn/`;
    await buildUiWithAssetsBase(outDir, cdnBase);
    const indexHtml = readFileSync(path.join(outDir, 'index.html'), 'utf8');
    expect(indexHtml).to.contain(`src="${cdnBase}assets/`);

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
        frontend_assets: 's3',
        frontend_assets_local_prefix: undefined,
        frontend_assets_bucket: 'bp-ui',
        frontend_assets_key: 'batchiepatchie/index.html',
        frontend_assets_base_url: cdnBase,
        log_level: 'silent',
      },
      simulator: { port: 0, scenario: 'empty', clock: 'manual' },
      activate: ['s3-ui-q'],
      prepare: (sim) => {
        sim.model.createComputeEnvironment({ name: 's3-ui-ce', instances: 1 });
        sim.model.createJobQueue({ name: 's3-ui-q', computeEnvironments: ['s3-ui-ce'] });
        sim.model.putObject('bp-ui', 'batchiepatchie/index.html', indexHtml, 'text/html');
      },
    });
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    await stack?.close();
    await tdb?.drop();
    await redis?.cleanup();
    cdn?.close();
    rmSync(outDir, { recursive: true, force: true });
  });

  it('serves index.html from S3 and the page loads its files from the asset base URL and works', async () => {
    const res = await fetch(`${stack.url}/job_queues`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-security-policy')).to.contain(`script-src 'self' ${new URL(cdnBase).origin}`);
    expect(await res.text()).to.contain(cdnBase);
    // Not served by us: the files are the CDN's.
    expect((await fetch(`${stack.url}/assets/does-not-matter.js`)).status).to.equal(404);

    const { page, errors } = await newPage(browser);
    const consoleErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    const { jobId } = stack.sim.model.submitJob({ jobName: 's3-ui-job', jobQueue: 's3-ui-q', plan: { outcome: 'SUCCEEDED', runSeconds: 5 } });
    stack.sim.model.advance(30_000);
    for (;;) {
      const row = await tdb.db('jobs').where({ job_id: jobId }).first('status');
      if (row?.status === 'SUCCEEDED') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await page.goto(`${stack.url}/?dateRange=1d`);
    await page.waitForSelector(`text=s3-ui-job`, { timeout: 60_000 });
    expect(cdnRequests.some((p) => p.startsWith('/cdn/assets/') && p.endsWith('.js'))).to.equal(true);
    expect(errors).to.deep.equal([]);
    expect(consoleErrors.filter((e) => /Content Security Policy|Refused/.test(e))).to.deep.equal([]);
    await page.close();
  });
});
