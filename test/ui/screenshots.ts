/**
 * Retakes docs/screenshots/{jobs,job,log,stats}.png from the demo stack (what
 * `batchiepatchie demo` runs, with its generated history), on a throwaway
 * database and Redis prefix:
 *
 *   npm run build && npm run docs:screenshots      # ~2 minutes: lets the demo's jobs move first
 *
 * SCREENSHOT_WARMUP_S shortens or lengthens the wait.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { createTestDatabase } from '../helpers/db';
import { testRedisPrefix } from '../helpers/redis';
import { DEMO_HISTORY, startDemoStack } from '../../src/roles/demo';
import { seedDemoHistory } from '../../src/roles/demoHistory';
import type { JobJson } from '../../src/api/contract';
import { launchBrowser } from './browser';
import { DIST } from './stack';

const OUT = path.resolve(__dirname, '../../docs/screenshots');
const WARMUP_S = Number(process.env.SCREENSHOT_WARMUP_S ?? 100);

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return (await res.json()) as T;
}

/** A running plain job on an EC2 instance that has written the most log lines: the most telling Job page. */
async function pickJob(base: string): Promise<string> {
  const running = (await getJson<JobJson[]>(`${base}/api/v1/jobs?status=RUNNING`)).filter((j) => !j.array_parent_id && !j.array_properties?.size && j.instance_id);
  let best = { id: '', lines: -1 };
  for (const j of running.slice(0, 30)) {
    const text = await (await fetch(`${base}/api/v1/jobs/${encodeURIComponent(j.id)}/logs?format=text`)).text();
    const lines = text.split('\n').filter(Boolean).length;
    if (lines > best.lines && lines <= 25) best = { id: j.id, lines };
  }
  if (!best.id) throw new Error('no running job to show');
  return best.id;
}

async function shoot(page: Page, url: string, ready: string, file: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector(ready);
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(OUT, file) });
  console.log(`wrote docs/screenshots/${file}`);
}

async function main(): Promise<void> {
  const browser = await launchBrowser();
  const tdb = await createTestDatabase();
  const redis = testRedisPrefix();
  const stack = await startDemoStack({
    config: { ...tdb.config, port: 0, redis_prefix: redis.prefix, sync_period: 5, scale_period: 10, frontend_assets_local_prefix: DIST, log_level: 'silent' },
    simulator: { port: 0, scenario: 'demo', clock: 'real' },
  });
  try {
    await seedDemoHistory(stack.db, { ...DEMO_HISTORY, queues: ['etl-prod', 'ml-training', 'reports-fargate'], now: new Date() });
    console.log(`demo stack at ${stack.url}; letting jobs move for ${WARMUP_S}s…`);
    await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await shoot(page, `${stack.url}/`, '[data-testid=jobs-table] tbody tr', 'jobs.png');
    const id = await pickJob(stack.url);
    await shoot(page, `${stack.url}/job/${encodeURIComponent(id)}`, '[data-testid=job-log] .log-line', 'job.png');
    // The long-log job with a search: every match highlighted.
    const reindex = (await getJson<JobJson[]>(`${stack.url}/api/v1/jobs?q=search-reindex&dateRange=1d`))[0];
    if (reindex) {
      await page.goto(`${stack.url}/job/${encodeURIComponent(reindex.id)}`);
      await page.waitForSelector('[data-testid=job-log] .log-line');
      await page.fill('input[aria-label="Search the log"]', 'rejected');
      await page.waitForSelector('.log-line.current mark');
      await page.$eval('[data-testid=job-log]', (el) => el.scrollIntoView({ block: 'end' }));
      await page.waitForTimeout(300);
      await page.screenshot({ path: path.join(OUT, 'log.png') });
      console.log('wrote docs/screenshots/log.png');
    }
    await shoot(page, `${stack.url}/stats?range=7d`, '[data-testid=stats-chart] .recharts-surface', 'stats.png');
  } finally {
    await browser.close();
    await stack.close();
    await tdb.drop();
    await redis.cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
