/**
 * UI log benchmark: a 1,000,000-line CloudWatch log (simulator) opened on the
 * Job page in Debian's chromium — time from navigation start to the first line
 * on screen and to the whole log read (the line count final) and its last line
 * drawn. The naive way, measured in the same run: fetch the whole log as one
 * text and put it in a <pre> (nothing shows before the last byte).
 * Then following a running job whose 1,000,000-line log grows by 20 lines per
 * poll: bytes and time per poll with `after=<forward token>` vs re-reading the
 * whole log each time (what the viewer did before).
 *
 *   npm run bench:ui:log            # 1,000,000 lines
 *   BENCH_LOG_LINES=200000 npm run bench:ui:log
 */
import type { Browser } from 'playwright-core';
import { startUiStack, type UiStack } from '../test/ui/stack';

const LINES = Number(process.env.BENCH_LOG_LINES ?? 1_000_000);
const RUNS = Number(process.env.BENCH_LOG_RUNS ?? 3);
const POLLS = 5;
const NEW_PER_POLL = 20;
const LOG_GROUP = '/aws/batch/job';

const line = (i: number) => `2026-12-01T10:00:00Z INFO worker-3 processed batch ${i} of the nightly reindex (${i * 37} records)`;

function fillStream(s: UiStack, stream: string, n: number): void {
  const model = s.stack.sim.model;
  const now = model.now();
  for (let i = 1; i <= n; i++) model.logs.append(LOG_GROUP, stream, now, line(i), now);
}

async function submitAndWait(s: UiStack, name: string, runSeconds: number, status: string): Promise<{ id: string; stream: string }> {
  const model = s.stack.sim.model;
  const { jobId } = model.submitJob({ jobName: name, jobQueue: 'bench-logq', plan: { outcome: 'SUCCEEDED', runSeconds, logLines: [] } });
  model.advance(runSeconds < 60 ? 30_000 : 15_000);
  await s.waitForJob(jobId, { status, timeoutMs: 60_000 });
  const stream = model.jobs.get(jobId)?.logStreamName;
  if (!stream) throw new Error(`job ${jobId} has no log stream`);
  return { id: jobId, stream };
}

interface Load {
  firstMs: number;
  lastMs: number;
}

/** Ours: the Job page; first line on screen, then the whole log read and its last line drawn. */
async function ourLoad(browser: Browser, url: string): Promise<Load> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForSelector('.log-line[data-line="1"]', { timeout: 120_000 });
    const firstMs = await page.evaluate(() => performance.now());
    const want = `${LINES.toLocaleString('en')} lines`;
    await page.waitForFunction((w) => document.querySelector('[data-testid=log-count]')?.textContent === w, want, { timeout: 300_000, polling: 20 });
    await page.$eval('[data-testid=job-log]', (el) => (el.scrollTop = el.scrollHeight));
    await page.waitForSelector(`.log-line[data-line="${LINES}"]`);
    const lastMs = await page.evaluate(() => performance.now());
    return { firstMs, lastMs };
  } finally {
    await context.close();
  }
}

/** Naive: fetch the whole log, then one <pre> with all of it; the first line shows with the last. */
async function naiveLoad(browser: Browser, base: string, id: string): Promise<Load> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    await page.goto(`${base}/ping`);
    const ms = await page.evaluate(async (jobId) => {
      const t0 = performance.now();
      const text = await (await fetch(`/api/v1/jobs/${jobId}/logs?format=text`)).text();
      const pre = document.createElement('pre');
      pre.style.cssText = 'height:60vh;overflow:auto';
      pre.textContent = text;
      document.body.append(pre);
      pre.scrollTop = pre.scrollHeight;
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      return performance.now() - t0;
    }, id);
    return { firstMs: ms, lastMs: ms };
  } finally {
    await context.close();
  }
}

const pct50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
const kb = (b: number) => (b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${(b / 1e3).toFixed(1)} kB`);

async function main(): Promise<void> {
  const s = await startUiStack({
    activate: ['bench-logq'],
    setup: (sim) => {
      sim.model.createComputeEnvironment({ name: 'bench-ce', instances: 2, instanceVcpus: 16 });
      sim.model.createJobQueue({ name: 'bench-logq', computeEnvironments: ['bench-ce'] });
    },
  });
  try {
    // A finished job with the long log.
    const done = await submitAndWait(s, 'long-log-done', 5, 'SUCCEEDED');
    fillStream(s, done.stream, LINES);
    const url = `${s.url}/job/${done.id}`;
    await ourLoad(s.browser, url); // warm the server and the browser once
    const ours: Load[] = [];
    const naive: Load[] = [];
    for (let i = 0; i < RUNS; i++) {
      ours.push(await ourLoad(s.browser, url));
      naive.push(await naiveLoad(s.browser, s.url, done.id));
    }
    const oFirst = pct50(ours.map((x) => x.firstMs));
    const oLast = pct50(ours.map((x) => x.lastMs));
    const nLast = pct50(naive.map((x) => x.lastMs));
    console.log(`\n${LINES.toLocaleString('en')}-line log (${kb(LINES * (line(LINES).length + 1))}), ${RUNS} cold loads each, p50`);
    console.log('way                               | first line | whole log, last line drawn');
    console.log(`ours (chunks by token, virtual)   | ${fmt(oFirst).padStart(10)} | ${fmt(oLast).padStart(10)}`);
    console.log(`naive (whole text into a <pre>)   | ${fmt(nLast).padStart(10)} | ${fmt(nLast).padStart(10)}`);
    console.log(`first line ${(nLast / oFirst).toFixed(0)}x sooner; whole log ${(nLast / oLast).toFixed(1)}x`);

    // Following a running job whose long log grows.
    const running = await submitAndWait(s, 'long-log-running', 36_000, 'RUNNING');
    fillStream(s, running.stream, LINES);
    const api = (q: string) => `${s.url}/api/v1/jobs/${running.id}/logs?format=text${q}`;
    let token = '';
    for (;;) {
      const res = await fetch(api(`&after=${encodeURIComponent(token)}`));
      await res.arrayBuffer();
      token = res.headers.get('x-next-forward-token') ?? token;
      if (res.headers.get('x-log-more') !== 'true') break;
    }
    const model = s.stack.sim.model;
    const oursPoll: { bytes: number; ms: number }[] = [];
    const naivePoll: { bytes: number; ms: number }[] = [];
    let next = LINES + 1;
    // Ours first, then the naive re-reads (their 100 MB each would slow the polls measured after them).
    for (let p = 0; p < POLLS; p++) {
      const now = model.now();
      for (let k = 0; k < NEW_PER_POLL; k++) model.logs.append(LOG_GROUP, running.stream, now, line(next++), now);
      const t0 = performance.now();
      const res = await fetch(api(`&after=${encodeURIComponent(token)}`));
      const body = Buffer.from(await res.arrayBuffer());
      oursPoll.push({ bytes: body.length, ms: performance.now() - t0 });
      token = res.headers.get('x-next-forward-token') ?? token;
    }
    for (let p = 0; p < POLLS; p++) {
      const now = model.now();
      for (let k = 0; k < NEW_PER_POLL; k++) model.logs.append(LOG_GROUP, running.stream, now, line(next++), now);
      const t0 = performance.now();
      const res = await fetch(api(''));
      naivePoll.push({ bytes: (await res.arrayBuffer()).byteLength, ms: performance.now() - t0 });
    }
    const ob = pct50(oursPoll.map((x) => x.bytes));
    const nb = pct50(naivePoll.map((x) => x.bytes));
    console.log(`\nfollowing a running job, ${LINES.toLocaleString('en')} lines + ${NEW_PER_POLL} new per poll, ${POLLS} polls, p50`);
    console.log('way                               | bytes per poll | time per poll');
    console.log(`ours (after=<forward token>)      | ${kb(ob).padStart(14)} | ${fmt(pct50(oursPoll.map((x) => x.ms))).padStart(10)}`);
    console.log(`naive (re-read the whole log)     | ${kb(nb).padStart(14)} | ${fmt(pct50(naivePoll.map((x) => x.ms))).padStart(10)}`);
    console.log(`${Math.round(nb / ob).toLocaleString('en')}x fewer bytes per poll`);
  } finally {
    await s.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
