/**
 * UI benchmark: with 1,000,000 jobs in Postgres, how long from navigation start
 * until the Jobs page shows its first 100 rows in a real browser (Debian's
 * chromium, a fresh context per load) against the real API? Several views,
 * several cold loads each, p50 and max, and the jobs request's own time.
 *
 * The naive way, same run, same page and database: the page's jobs request
 * answered by the Go original's query shape (bench/store.ts `goFindStatement`:
 * every token an ILIKE on the concatenated columns, ORDER BY the column,
 * LIMIT/OFFSET) instead of our search. The bench process answers it through a
 * Playwright route (a few ms more than a direct request, against the naive way).
 *
 * The jobs are generated in SQL by bench/store.ts's generator into a scratch
 * database that is dropped at the end (also on Ctrl-C).
 *
 *   nice -n 10 npm run bench:ui        # 1,000,000 jobs
 *   BENCH_UI_JOBS=100000 BENCH_UI_RUNS=3 npm run bench:ui
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { Browser, BrowserContext } from 'playwright-core';
import { startApi, type ApiServer } from '../src/api/app';
import { toJobJson } from '../src/api/jobJson';
import { parseJobSearch } from '../src/api/routes/jobs';
import { configWith } from '../src/config/defaults';
import { createLogger } from '../src/log';
import { createDb, knexSettings, migrateLatest } from '../src/store/db';
import { activateQueue } from '../src/store/queues';
import type { JobWithInstance } from '../src/types';
import { PG } from '../test/helpers/db';
import { testRedisPrefix } from '../test/helpers/redis';
import { launchBrowser } from '../test/ui/browser';
import { createScratchDatabase } from './scratchDatabase';
import { generateJobs, goFindStatement } from './store';

const JOBS = Number(process.env.BENCH_UI_JOBS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_UI_RUNS ?? 7);
/** The Go shape scans the table for a token; a load waits at most this long for its rows. */
const NAIVE_TIMEOUT_MS = 10_000;
/** generateJobs spreads the jobs over queue-0 … queue-19. */
const QUEUES = 20;
const DIST = path.resolve(__dirname, '../frontend/dist');
const ROWS_MARK = 'bp:jobs-rows-visible';

interface Sample {
  /** Navigation start -> first rows on screen. */
  renderMs: number;
  /** The jobs request's own time (request start -> response end). */
  apiMs: number;
}

/** Answers the page's jobs request with the Go original's query on the same database. */
async function answerTheGoWay(context: BrowserContext, naive: Knex): Promise<void> {
  await context.route(
    (url) => url.pathname === '/api/v1/jobs',
    async (route) => {
      const url = new URL(route.request().url());
      const [sql, bindings] = goFindStatement(parseJobSearch(Object.fromEntries(url.searchParams)));
      const rows = (await naive.raw<{ rows: JobWithInstance[] }>(sql, bindings)).rows;
      await route.fulfill({ json: rows.map(toJobJson), headers: { 'Cache-Control': 'no-store' } });
    },
  );
}

/** Answers the page's jobs request from memory: the page's own cost, with no database behind it. */
async function answerFromMemory(context: BrowserContext, rows: unknown[]): Promise<void> {
  await context.route(
    (url) => url.pathname === '/api/v1/jobs',
    (route) => route.fulfill({ json: rows, headers: { 'Cache-Control': 'no-store' } }),
  );
}

/** How the page's jobs request is answered: by the real API (null) or through a route. */
type Answer = ((context: BrowserContext) => Promise<void>) | null;

/** One cold page load in a fresh browser context (empty cache): navigation start -> rows visible. */
async function coldLoad(browser: Browser, url: string, answer: Answer): Promise<Sample> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    if (answer) await answer(context);
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForFunction((mark) => performance.getEntriesByName(mark).length > 0, ROWS_MARK, { timeout: NAIVE_TIMEOUT_MS + 20_000 });
    return await page.evaluate((mark) => {
      const rows = performance.getEntriesByName(mark)[0].startTime;
      const api = performance
        .getEntriesByType('resource')
        .find((e) => e.name.includes('/api/v1/jobs?')) as PerformanceResourceTiming | undefined;
      return { renderMs: rows, apiMs: api ? api.responseEnd - api.requestStart : NaN };
    }, ROWS_MARK);
  } finally {
    await context.close();
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (ms: number) => `${Math.round(ms).toLocaleString('en')} ms`;
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');

interface ViewFigures {
  view: string;
  ours: Sample[];
  naive: Sample[];
}

async function measureViews(browser: Browser, base: string, naive: Knex, idFragment: string): Promise<ViewFigures[]> {
  const goWay: Answer = (context) => answerTheGoWay(context, naive);
  const views: [string, string][] = [
    ['default (1d, last updated)', '/'],
    ['30 days', '/?dateRange=30d'],
    ['search "etl daily", 30 days', '/?q=etl%20daily&dateRange=30d'],
    ['search an id fragment, 30 days', `/?q=${idFragment}&dateRange=30d`],
    ['status RUNNING', '/?status=RUNNING'],
    ['queue + status', '/?queue=queue-3&status=FAILED'],
    ['sort name ASC', '/?sort=name&dir=asc'],
    ['page 50 (offset 5,000), 30 days', '/?page=50&dateRange=30d'],
  ];
  await coldLoad(browser, `${base}/`, null); // warm Postgres' cache and the server once
  const out: ViewFigures[] = [];
  console.log('view                             | ours p50 | ours max | its jobs request | Go shape p50 | Go max   | its jobs request | ratio p50');
  for (const [view, route] of views) {
    const ours: Sample[] = [];
    const slow: Sample[] = [];
    // Interleaved, so both ways see the same load on this shared machine.
    for (let i = 0; i < RUNS; i++) {
      ours.push(await coldLoad(browser, `${base}${route}`, null));
      slow.push(await coldLoad(browser, `${base}${route}`, goWay));
    }
    out.push({ view, ours, naive: slow });
    const o = ours.map((s) => s.renderMs);
    const n = slow.map((s) => s.renderMs);
    console.log(
      `${view.padEnd(32)} | ${fmt(pct(o, 50)).padStart(8)} | ${fmt(Math.max(...o)).padStart(8)} | ${fmt(pct(ours.map((s) => s.apiMs), 50)).padStart(16)} | ${fmt(pct(n, 50)).padStart(12)} | ${fmt(Math.max(...n)).padStart(8)} | ${fmt(pct(slow.map((s) => s.apiMs), 50)).padStart(16)} | ${(pct(n, 50) / pct(o, 50)).toFixed(1)}x`,
    );
  }
  return out;
}

async function main(): Promise<void> {
  if (!existsSync(path.join(DIST, 'index.html'))) throw new Error(`${DIST}/index.html is missing: run \`npm run build\` first`);
  const admin = createDb({ ...PG, database_name: 'postgres' }, { min: 0, max: 1 });
  const scratch = await createScratchDatabase(admin, 'bp_bench_ui');
  const db = createDb({ ...PG, database_name: scratch.name });
  const naiveSettings = knexSettings({ ...PG, database_name: scratch.name }, { min: 0, max: 2 });
  naiveSettings.connection = { ...(naiveSettings.connection as object), options: `-c statement_timeout=${NAIVE_TIMEOUT_MS}` };
  const naive = knexFactory(naiveSettings);
  const redis = testRedisPrefix(); // the API's queue keys, removed at the end
  let api: ApiServer | null = null;
  let browser: Browser | null = null;
  try {
    await migrateLatest(db);
    const version = (await db.raw<{ rows: { server_version: string }[] }>('SHOW server_version')).rows[0].server_version;
    console.log(`# bench:ui — PostgreSQL ${version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}; load average ${load()}`);
    const t0 = performance.now();
    await generateJobs(db, JOBS);
    console.log(`generated ${JOBS.toLocaleString('en')} jobs (+ indexes, VACUUM ANALYZE) into ${scratch.name} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    for (let q = 0; q < QUEUES; q++) await activateQueue(db, `queue-${q}`);

    const config = configWith({
      ...PG,
      database_name: scratch.name,
      port: 0,
      frontend_assets_local_prefix: DIST,
      redis_prefix: redis.prefix,
      log_level: 'silent',
    });
    api = await startApi(config, { db, logger: createLogger('silent') });
    browser = await launchBrowser();
    console.log(`\n${JOBS.toLocaleString('en')} jobs, ${RUNS} cold loads per view and way (fresh browser context each), 1280x800\n`);
    // A fragment of an id updated within the range: one matching job (what one pastes from an alert).
    const idFragment = (
      await db.raw<{ rows: { fragment: string }[] }>(
        "SELECT substr(job_id, 1, 8) AS fragment FROM jobs WHERE last_updated > now() - interval '29 days' ORDER BY job_id OFFSET 1000 LIMIT 1",
      )
    ).rows[0].fragment;
    const figures = await measureViews(browser, api.url, naive, idFragment);
    // The floor under this machine's load: the default view with its 100 rows answered from memory.
    const rows = (await (await fetch(`${api.url}/api/v1/jobs?dateRange=1d`)).json()) as unknown[];
    const floor: number[] = [];
    for (let i = 0; i < RUNS; i++) floor.push((await coldLoad(browser, `${api.url}/`, (context) => answerFromMemory(context, rows))).renderMs);
    console.log(`\nfloor: the default view with its jobs request answered from memory (no database): p50 ${fmt(pct(floor, 50))}, max ${fmt(Math.max(...floor))}`);
    const worst = Math.max(...figures.flatMap((f) => f.ours.map((s) => s.renderMs)));
    console.log(`\nload average at end: ${load()}`);
    console.log(`target < 1000 ms: ${worst < 1000 ? 'met' : 'NOT met'} (worst load over all views ${fmt(worst)})`);
  } finally {
    await browser?.close();
    await api?.close();
    await redis.cleanup();
    await naive.destroy();
    await db.destroy();
    await scratch.drop();
    await admin.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
