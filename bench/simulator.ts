/**
 * Simulator benchmark: hold 1,000,000 retained jobs (plus N active) and answer
 * ListJobs pages fast. Reports load time, memory, page latency p50/p95 by
 * status and with filters — in-process and through the real SDK over HTTP —
 * against the naive way (scan and sort every job per page) measured in the
 * same run.
 *
 *   npm run bench:simulator
 *   SIM_BENCH_JOBS=200000 SIM_BENCH_ACTIVE=2000 npm run bench:simulator
 */
import { ListJobsCommand, type ListJobsCommandInput } from '@aws-sdk/client-batch';
import { createAwsClients } from '../src/aws/clients';
import { startSimulator } from '../src/simulator';
import { byCreation, type SimJob } from '../src/simulator/entities';
import { type ListJobsInput, listJobs } from '../src/simulator/listing';
import type { SimModel } from '../src/simulator/model';
import type { AwsJobStatus } from '../src/types';

const JOBS = Number(process.env.SIM_BENCH_JOBS ?? 1_000_000);
const ACTIVE = Number(process.env.SIM_BENCH_ACTIVE ?? 10_000);
const SAMPLES = Number(process.env.SIM_BENCH_SAMPLES ?? 200);
const NAIVE_SAMPLES = Number(process.env.SIM_BENCH_NAIVE_SAMPLES ?? 10);
const QUEUE = 'bench-queue';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

function ms(v: number): string {
  return `${v.toFixed(2)} ms`;
}

/** Page tokens spread over the whole listing, so deep pages are measured, not only the first. */
function tokensAcross(model: SimModel, input: ListJobsInput, pages: number): (string | undefined)[] {
  const tokens: (string | undefined)[] = [undefined];
  let token: string | undefined;
  let all: (string | undefined)[] = [];
  do {
    const out = listJobs(model, { ...input, nextToken: token });
    token = out.nextToken;
    if (token) all.push(token);
  } while (token && all.length < 5000);
  const step = Math.max(1, Math.floor(all.length / pages));
  for (let i = 0; i < all.length && tokens.length < pages; i += step) tokens.push(all[i]);
  all = [];
  return tokens;
}

/** The naive way: every page filters and sorts all retained jobs, then slices at the cursor. */
function naivePage(model: SimModel, input: ListJobsInput, pageIndex: number): SimJob[] {
  const size = input.filters ? 100 : (input.maxResults ?? 1000);
  const status = (input.jobStatus ?? 'RUNNING') as AwsJobStatus;
  const filter = input.filters?.[0];
  const prefix = filter?.name === 'JOB_NAME' ? (filter.values?.[0] ?? '').replace(/\*$/, '').toLowerCase() : undefined;
  const after = filter?.name === 'AFTER_CREATED_AT' ? Number(filter.values?.[0]) : undefined;
  const matches: SimJob[] = [];
  for (const job of model.jobs.values()) {
    if (job.parent || job.queue.name !== input.jobQueue) continue;
    if (prefix !== undefined ? !job.name.toLowerCase().startsWith(prefix) : after !== undefined ? job.createdAt <= after : job.status !== status) continue;
    matches.push(job);
  }
  matches.sort((a, b) => byCreation(b, a));
  return matches.slice(pageIndex * size, (pageIndex + 1) * size);
}

interface Case {
  label: string;
  input: ListJobsInput;
}

async function main(): Promise<void> {
  const sim = await startSimulator({ port: 0, clock: 'manual', scenario: 'empty', seed: 42 });
  const model = sim.model;
  model.createComputeEnvironment({ name: 'bench-ce', instances: 4, maxvCpus: 1024 });
  model.createJobQueue({ name: QUEUE, computeEnvironments: ['bench-ce'] });

  const baseline = process.memoryUsage();
  const t0 = performance.now();
  model.bulkLoad({ queue: QUEUE, finished: JOBS, active: ACTIVE });
  const loadMs = performance.now() - t0;
  (globalThis as { gc?: () => void }).gc?.();
  const mem = process.memoryUsage();
  const counts = model.statusCounts(QUEUE);

  console.log(`simulator bench: ${JOBS.toLocaleString()} finished + ${ACTIVE.toLocaleString()} active jobs`);
  console.log(`  load: ${(loadMs / 1000).toFixed(2)} s   RSS ${mib(mem.rss)}   heap used ${mib(mem.heapUsed)} (${mib(mem.heapUsed - baseline.heapUsed)} for the jobs)${(globalThis as { gc?: unknown }).gc ? '' : '   (run with --expose-gc for settled figures)'}`);
  console.log(`  per status: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);

  const aMinuteAgo = String(model.now() - 60_000);
  const cases: Case[] = [
    { label: 'SUCCEEDED (1000/page)', input: { jobQueue: QUEUE, jobStatus: 'SUCCEEDED' } },
    { label: 'FAILED (1000/page)', input: { jobQueue: QUEUE, jobStatus: 'FAILED' } },
    { label: 'RUNNING (1000/page)', input: { jobQueue: QUEUE, jobStatus: 'RUNNING' } },
    { label: 'RUNNABLE (1000/page)', input: { jobQueue: QUEUE, jobStatus: 'RUNNABLE' } },
    { label: 'JOB_NAME prefix (100/page)', input: { jobQueue: QUEUE, filters: [{ name: 'JOB_NAME', values: ['render-report*'] }] } },
    { label: 'JOB_NAME exact, 1 match (100/page)', input: { jobQueue: QUEUE, filters: [{ name: 'JOB_NAME', values: ['train-model-12345'] }] } },
    { label: 'AFTER_CREATED_AT 1 min (100/page)', input: { jobQueue: QUEUE, filters: [{ name: 'AFTER_CREATED_AT', values: [aMinuteAgo] }] } },
  ];

  const aws = createAwsClients({ region: 'us-east-1', aws_endpoint: sim.endpoint, maxAttempts: 1 });
  const rows: string[] = [];
  for (const c of cases) {
    const tokens = tokensAcross(model, c.input, 20);
    const inProcess: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const token = tokens[i % tokens.length];
      const s = performance.now();
      listJobs(model, { ...c.input, nextToken: token });
      inProcess.push(performance.now() - s);
    }
    const rawHttp: number[] = [];
    for (let i = 0; i < Math.min(SAMPLES, 100); i++) {
      const token = tokens[i % tokens.length];
      const s = performance.now();
      const res = await fetch(`${sim.endpoint}/v1/listjobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...c.input, nextToken: token }) });
      await res.arrayBuffer();
      rawHttp.push(performance.now() - s);
    }
    const overHttp: number[] = [];
    for (let i = 0; i < Math.min(SAMPLES, 100); i++) {
      const token = tokens[i % tokens.length];
      const s = performance.now();
      await aws.batch.send(new ListJobsCommand({ ...(c.input as ListJobsCommandInput), nextToken: token }));
      overHttp.push(performance.now() - s);
    }
    const naive: number[] = [];
    for (let i = 0; i < NAIVE_SAMPLES; i++) {
      const s = performance.now();
      naivePage(model, c.input, i % Math.max(1, tokens.length));
      naive.push(performance.now() - s);
    }
    const p50 = percentile(inProcess, 50);
    const np50 = percentile(naive, 50);
    const row = `| ${c.label} | ${ms(p50)} | ${ms(percentile(inProcess, 95))} | ${ms(percentile(rawHttp, 50))} | ${ms(percentile(rawHttp, 95))} | ${ms(percentile(overHttp, 50))} | ${ms(percentile(overHttp, 95))} | ${ms(np50)} | ${(np50 / p50).toFixed(0)}× |`;
    rows.push(row);
    console.log(`  ${c.label.padEnd(36)} in-process p50 ${ms(p50)} p95 ${ms(percentile(inProcess, 95))} | HTTP p50 ${ms(percentile(rawHttp, 50))} p95 ${ms(percentile(rawHttp, 95))} | SDK over HTTP p50 ${ms(percentile(overHttp, 50))} p95 ${ms(percentile(overHttp, 95))} | naive p50 ${ms(np50)} → ${(np50 / p50).toFixed(0)}× faster`);
  }
  // DescribeJobs of 100 ids picked across the retained jobs.
  const ids = [...model.jobs.keys()].filter((_, i) => i % 9973 === 0).slice(0, 100);
  const describe: number[] = [];
  for (let i = 0; i < 50; i++) {
    const s = performance.now();
    const res = await fetch(`${sim.endpoint}/v1/describejobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jobs: ids }) });
    await res.arrayBuffer();
    describe.push(performance.now() - s);
  }
  console.log(`  DescribeJobs, 100 ids, over HTTP: p50 ${ms(percentile(describe, 50))} p95 ${ms(percentile(describe, 95))}`);
  // The model keeps moving with everything loaded: a simulated minute, tick by tick.
  const m0 = performance.now();
  model.advance(60_000);
  console.log(`  one simulated minute with ${ACTIVE.toLocaleString()} active jobs moving (60 ticks, placement, scaling): ${ms(performance.now() - m0)}`);
  console.log('\nMarkdown rows:');
  console.log('| ListJobs page | in-process p50 | in-process p95 | HTTP p50 | HTTP p95 | SDK+HTTP p50 | SDK+HTTP p95 | naive scan p50 | ratio (p50) |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  const verdictMem = mem.rss < 2 * 1024 ** 3 ? 'OK' : 'OVER';
  console.log(`\ntargets: memory < 2 GiB: ${verdictMem} (RSS ${mib(mem.rss)}); page ≤ 50 ms: see p95 above`);
  aws.destroy();
  await sim.stop();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
