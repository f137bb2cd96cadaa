/**
 * Simulator benchmark: hold 1,000,000 retained jobs (plus N active) and answer
 * ListJobs pages fast. Reports load time, memory, page latency p50/p95 by
 * status and with filters, against the naive way (scan and sort every job per
 * page) measured in the same run.
 *
 * Two setups, so that neither side's garbage collection pollutes the other:
 * - in-process: a model in this process; the listing code alone, and the naive scan;
 * - over HTTP: `aws-batch-simulator --scenario bulkLoad` in its own process,
 *   called with raw HTTP requests and with @aws-sdk/client-batch from here.
 *
 *   npm run bench:simulator
 *   SIM_BENCH_JOBS=200000 SIM_BENCH_ACTIVE=2000 npm run bench:simulator
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { ListJobsCommand, type ListJobsCommandInput } from '@aws-sdk/client-batch';
import { BatchClient } from '@aws-sdk/client-batch';
import { SimModel } from '../src';
import { type SimJob, byCreation } from '../src/entities';
import { type ListJobsInput, type ListJobsOutput, listJobs } from '../src/listing';
import type { AwsJobStatus } from '../src/statuses';

const JOBS = Number(process.env.SIM_BENCH_JOBS ?? 1_000_000);
const ACTIVE = Number(process.env.SIM_BENCH_ACTIVE ?? 10_000);
const SAMPLES = Number(process.env.SIM_BENCH_SAMPLES ?? 200);
const HTTP_SAMPLES = Number(process.env.SIM_BENCH_HTTP_SAMPLES ?? 100);
const NAIVE_SAMPLES = Number(process.env.SIM_BENCH_NAIVE_SAMPLES ?? 10);
const PAGES_SPREAD = 20;
const QUEUE = 'bulk-queue';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const ms = (v: number) => `${v.toFixed(2)} ms`;

/** Page tokens spread over a whole listing, so deep pages are measured, not only the first. */
async function tokensAcross(list: (token?: string) => Promise<ListJobsOutput> | ListJobsOutput): Promise<(string | undefined)[]> {
  const all: string[] = [];
  let token: string | undefined;
  do {
    token = (await list(token)).nextToken;
    if (token) all.push(token);
  } while (token && all.length < 5000);
  const step = Math.max(1, Math.floor(all.length / PAGES_SPREAD));
  const picked: (string | undefined)[] = [undefined];
  for (let i = 0; i < all.length && picked.length < PAGES_SPREAD; i += step) picked.push(all[i]);
  return picked;
}

/** The naive way: every page filters and sorts all retained jobs, then slices at the cursor. */
function naivePage(model: SimModel, input: ListJobsInput, pageIndex: number): SimJob[] {
  const size = input.filters ? 100 : (input.maxResults ?? 1000);
  const status = (input.jobStatus ?? 'RUNNING') as AwsJobStatus;
  const filter = input.filters?.[0];
  const name = filter?.name === 'JOB_NAME' ? (filter.values?.[0] ?? '').toLowerCase() : undefined;
  const prefix = name?.endsWith('*') ? name.slice(0, -1) : undefined;
  const after = filter?.name === 'AFTER_CREATED_AT' ? Number(filter.values?.[0]) : undefined;
  const matches: SimJob[] = [];
  for (const job of model.jobs.values()) {
    if (job.parent || job.queue.name !== input.jobQueue) continue;
    const n = job.name.toLowerCase();
    const ok = prefix !== undefined ? n.startsWith(prefix) : name !== undefined ? n === name : after !== undefined ? job.createdAt > after : job.status === status;
    if (ok) matches.push(job);
  }
  matches.sort((a, b) => byCreation(b, a));
  return matches.slice(pageIndex * size, (pageIndex + 1) * size);
}

interface Case {
  label: string;
  input: ListJobsInput;
}

function cases(now: number): Case[] {
  return [
    { label: 'SUCCEEDED (1000/page)', input: { jobQueue: QUEUE, jobStatus: 'SUCCEEDED' } },
    { label: 'FAILED (1000/page)', input: { jobQueue: QUEUE, jobStatus: 'FAILED' } },
    { label: 'RUNNING (1000/page)', input: { jobQueue: QUEUE, jobStatus: 'RUNNING' } },
    { label: 'RUNNABLE (1000/page)', input: { jobQueue: QUEUE, jobStatus: 'RUNNABLE' } },
    { label: 'JOB_NAME prefix (100/page)', input: { jobQueue: QUEUE, filters: [{ name: 'JOB_NAME', values: ['render-report*'] }] } },
    { label: 'JOB_NAME exact, 1 match (100/page)', input: { jobQueue: QUEUE, filters: [{ name: 'JOB_NAME', values: ['train-model-12345'] }] } },
    { label: 'AFTER_CREATED_AT 1 min (100/page)', input: { jobQueue: QUEUE, filters: [{ name: 'AFTER_CREATED_AT', values: [String(now - 60_000)] }] } },
  ];
}

interface Row {
  label: string;
  inP50: number;
  inP95: number;
  naiveP50: number;
  httpP50?: number;
  httpP95?: number;
  sdkP50?: number;
  sdkP95?: number;
}

async function runInProcess(): Promise<{ rows: Row[]; minuteMs: number }> {
  const model = new SimModel({ clock: 'manual', seed: 42 });
  model.createComputeEnvironment({ name: 'bulk-ce', instances: 4, maxvCpus: 1024, instanceVcpus: 16 });
  model.createJobQueue({ name: QUEUE, computeEnvironments: ['bulk-ce'] });
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const baseline = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  model.bulkLoad({ queue: QUEUE, finished: JOBS, active: ACTIVE });
  const loadMs = performance.now() - t0;
  gc?.();
  const mem = process.memoryUsage();
  console.log(`in-process model: ${JOBS.toLocaleString()} finished + ${ACTIVE.toLocaleString()} active jobs`);
  console.log(`  load ${(loadMs / 1000).toFixed(2)} s, RSS ${mib(mem.rss)}, heap used ${mib(mem.heapUsed)} (${mib(mem.heapUsed - baseline)} for the jobs)${gc ? '' : '  (run with --expose-gc for settled figures)'}`);
  console.log(`  per status: ${Object.entries(model.statusCounts(QUEUE)).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const rows: Row[] = [];
  for (const c of cases(model.now())) {
    const tokens = await tokensAcross((token) => listJobs(model, { ...c.input, nextToken: token }));
    const inProcess: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const s = performance.now();
      listJobs(model, { ...c.input, nextToken: tokens[i % tokens.length] });
      inProcess.push(performance.now() - s);
    }
    const naive: number[] = [];
    for (let i = 0; i < NAIVE_SAMPLES; i++) {
      const s = performance.now();
      naivePage(model, c.input, i % tokens.length);
      naive.push(performance.now() - s);
    }
    rows.push({ label: c.label, inP50: percentile(inProcess, 50), inP95: percentile(inProcess, 95), naiveP50: percentile(naive, 50) });
  }
  const m0 = performance.now();
  model.advance(60_000);
  const minuteMs = performance.now() - m0;
  return { rows, minuteMs };
}

/** `aws-batch-simulator --scenario bulkLoad` in its own process; resolves with its endpoint once loaded. */
async function startSimulateProcess(): Promise<{ child: ChildProcess; endpoint: string; readyMs: number }> {
  const main = path.join(__dirname, '../src/main.ts');
  const started = performance.now();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', main, '--port', '0', '--scenario', 'bulkLoad', '--bulk-jobs', String(JOBS), '--bulk-active', String(ACTIVE), '--seed', '42'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`simulate exited ${code}: ${out}`)));
  });
  return { child, endpoint, readyMs: performance.now() - started };
}

async function runOverHttp(rows: Row[]): Promise<{ readyMs: number; rss: number; describeP50: number; describeP95: number }> {
  const { child, endpoint, readyMs } = await startSimulateProcess();
  const batch = new BatchClient({ region: 'us-east-1', endpoint, maxAttempts: 1, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const post = async (p: string, body: unknown) => {
    const res = await fetch(`${endpoint}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return res.json() as Promise<unknown>;
  };
  try {
    const state = (await (await fetch(`${endpoint}/_sim/state`)).json()) as { now: string; process: { rssBytes: number } };
    const now = Date.parse(state.now);
    for (const [i, c] of cases(now).entries()) {
      const tokens = await tokensAcross((token) => post('/v1/listjobs', { ...c.input, nextToken: token }) as Promise<ListJobsOutput>);
      const http: number[] = [];
      const sdk: number[] = [];
      for (let k = 0; k < HTTP_SAMPLES; k++) {
        const body = JSON.stringify({ ...c.input, nextToken: tokens[k % tokens.length] });
        const s = performance.now();
        const res = await fetch(`${endpoint}/v1/listjobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        await res.arrayBuffer();
        http.push(performance.now() - s);
      }
      for (let k = 0; k < HTTP_SAMPLES; k++) {
        const s = performance.now();
        await batch.send(new ListJobsCommand({ ...(c.input as ListJobsCommandInput), nextToken: tokens[k % tokens.length] }));
        sdk.push(performance.now() - s);
      }
      Object.assign(rows[i], { httpP50: percentile(http, 50), httpP95: percentile(http, 95), sdkP50: percentile(sdk, 50), sdkP95: percentile(sdk, 95) });
    }
    // DescribeJobs of 100 ids picked across the retained jobs.
    const ids: string[] = [];
    let token: string | undefined;
    while (ids.length < 100) {
      const out = (await post('/v1/listjobs', { jobQueue: QUEUE, jobStatus: 'SUCCEEDED', nextToken: token })) as ListJobsOutput;
      ids.push(...out.jobSummaryList.filter((_, k) => k % 97 === 0).map((j) => j.jobId as string));
      token = out.nextToken;
      if (!token) break;
    }
    const describe: number[] = [];
    for (let k = 0; k < 50; k++) {
      const s = performance.now();
      await post('/v1/describejobs', { jobs: ids.slice(0, 100) });
      describe.push(performance.now() - s);
    }
    const after = (await (await fetch(`${endpoint}/_sim/state`)).json()) as { process: { rssBytes: number } };
    return { readyMs, rss: Math.max(state.process.rssBytes, after.process.rssBytes), describeP50: percentile(describe, 50), describeP95: percentile(describe, 95) };
  } finally {
    batch.destroy();
    child.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  const local = await runInProcess();
  const remote = await runOverHttp(local.rows);
  console.log(`\nsimulate process (bulkLoad): ready in ${(remote.readyMs / 1000).toFixed(1)} s (process start + load), RSS ${mib(remote.rss)}`);
  console.log(`DescribeJobs, 100 ids, over HTTP: p50 ${ms(remote.describeP50)} p95 ${ms(remote.describeP95)}`);
  console.log(`one simulated minute with everything loaded (60 ticks; ${ACTIVE.toLocaleString()} active jobs moving): ${ms(local.minuteMs)}`);
  console.log('\n| ListJobs page | in-process p50 | in-process p95 | HTTP p50 | HTTP p95 | SDK+HTTP p50 | SDK+HTTP p95 | naive scan p50 | ratio (p50, in-process) |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of local.rows) {
    console.log(
      `| ${r.label} | ${ms(r.inP50)} | ${ms(r.inP95)} | ${ms(r.httpP50 ?? NaN)} | ${ms(r.httpP95 ?? NaN)} | ${ms(r.sdkP50 ?? NaN)} | ${ms(r.sdkP95 ?? NaN)} | ${ms(r.naiveP50)} | ${(r.naiveP50 / Math.max(r.inP50, 0.001)).toFixed(0)}× |`,
    );
  }
  const worstHttp = Math.max(...local.rows.map((r) => r.httpP95 ?? 0));
  console.log(`\ntargets: memory < 2 GiB: ${remote.rss < 2 * 1024 ** 3 ? 'OK' : 'OVER'} (simulate process RSS ${mib(remote.rss)}); page ≤ 50 ms: ${worstHttp <= 50 ? 'OK' : 'OVER'} (worst HTTP p95 ${ms(worstHttp)})`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
