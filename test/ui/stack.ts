/**
 * The demo stack for browser tests: the same wiring as `batchiepatchie demo`
 * (simulator + pipeline + API in-process) on a database and Redis prefix of
 * this test file's own, the API on a free port, and a manual simulator clock so
 * each test moves AWS time itself. Pipeline rounds run every second.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { testRedisPrefix } from '../helpers/redis';
import { startDemoStack, type DemoStack } from '../../src/roles/demo';
import type { SimulatorOptions } from 'aws-batch-simulator';
import type { Config } from '../../src/config/schema';
import { launchBrowser } from './browser';

export const DIST = path.resolve(__dirname, '../../frontend/dist');

/** Builds the UI into `outDir` with the given ASSETS_BASE_URL (the Go original's build variable). */
export async function buildUiWithAssetsBase(outDir: string, assetsBaseUrl: string): Promise<void> {
  await promisify(execFile)('npx', ['vite', 'build', '--outDir', outDir, '--emptyOutDir'], {
    cwd: path.resolve(__dirname, '../../frontend'),
    env: { ...process.env, ASSETS_BASE_URL: assetsBaseUrl },
  });
}

export interface UiStack {
  stack: DemoStack;
  browser: Browser;
  tdb: TestDatabase;
  url: string;
  /** Resolves once the mirror holds the job (status optional), failing after timeoutMs. */
  waitForJob(id: string, opts?: { status?: string; timeoutMs?: number }): Promise<void>;
  close(): Promise<void>;
}

export async function startUiStack(
  opts: { activate?: string[]; setup?: (sim: DemoStack['sim']) => void; simulator?: SimulatorOptions; config?: Partial<Config> } = {},
): Promise<UiStack> {
  if (!existsSync(path.join(DIST, 'index.html'))) {
    throw new Error(`${DIST}/index.html is missing: run \`npm run build\` before the UI tests (CI does).`);
  }
  const browser = await launchBrowser(); // first: a missing chromium fails before anything is started
  const tdb = await createTestDatabase();
  const redis = testRedisPrefix();
  let stack: DemoStack;
  try {
    stack = await startDemoStack({
      config: {
        ...tdb.config,
        port: 0,
        host: '127.0.0.1',
        redis_prefix: redis.prefix,
        sync_period: 1,
        scale_period: 2,
        frontend_assets: 'local',
        frontend_assets_local_prefix: DIST,
        log_level: 'silent',
        ...opts.config,
      },
      simulator: { port: 0, scenario: 'empty', clock: 'manual', ...opts.simulator },
      activate: opts.activate ?? [],
      // The pages are checked against described rows (log stream, resources) at each status:
      // with events on, a status can arrive before the describe that fills those. The events
      // path has its own end-to-end tests (test/pipeline/eventQueue.test.ts); the demo runs it.
      events: false,
      prepare: opts.setup,
    });
  } catch (err) {
    await browser.close();
    await tdb.drop();
    await redis.cleanup();
    throw err;
  }
  return {
    stack,
    browser,
    tdb,
    url: stack.url,
    async waitForJob(id, { status, timeoutMs = 30_000 } = {}) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const row = await tdb.db('jobs').where({ job_id: id }).first('status');
        if (row && (!status || row.status === status)) return;
        if (Date.now() > until) throw new Error(`job ${id} not mirrored${status ? ` as ${status}` : ''} within ${timeoutMs} ms (now ${row?.status ?? 'absent'})`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async close() {
      await browser.close().catch(() => undefined);
      await stack.close().catch(() => undefined);
      await tdb.drop();
      await redis.cleanup();
    },
  };
}
