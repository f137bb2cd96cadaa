/**
 * API benchmark: 1,000,000 jobs in Postgres (own database), the API in its
 * own process (`batchiepatchie api`), autocannon in this one. Two workloads:
 * job detail by random id, and a search mix (paging, filters, tokens, sorts).
 * The naive way to compare against is the raw store call (getJob /
 * searchJobs through Knex, same mix, same concurrency, same run): the
 * difference is what HTTP, auth, validation, JSON mapping and logging cost.
 *
 *   npm run bench:api                        # 1,000,000 jobs (loaded once, then reused)
 *   BENCH_API_JOBS=100000 npm run bench:api  # smaller
 *   BENCH_API_SECONDS=5 BENCH_API_CONNECTIONS=10 npm run bench:api
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import type { Knex } from 'knex';
import { parseJobSearch } from '../src/api/routes/jobs';
import { createDb, migrateLatest } from '../src/store/db';
import { dropSecondaryIndexes } from './bulkLoad';
import { getJob } from '../src/store/jobs/lookups';
import { searchJobs } from '../src/store/jobs/search';
import { PG } from '../test/helpers/db';
import { freePort } from '../test/helpers/net';
import { testRedisPrefix } from '../test/helpers/redis';

const JOBS = Number(process.env.BENCH_API_JOBS ?? 1_000_000);
const SECONDS = Number(process.env.BENCH_API_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_API_CONNECTIONS ?? 10);
const DB_NAME = process.env.BENCH_API_DB ?? 'bp_bench_api';
const ROOT = path.resolve(__dirname, '..');

/** The search mix: what the UI asks most, plus the heavier shapes. */
const SEARCHES = [
  '', // the landing page: 30 days, last_updated DESC
  'page=3',
  'q=train',
  'q=etl+daily',
  'q=7431',
  'queue=queue-3&status=FAILED',
  'status=RUNNING,RUNNABLE',
  'sortColumn=name&sortDirection=ASC&page=2',
  'dateRange=1d&sortColumn=stopped_at',
  'queue=queue-1,queue-2&q=score&dateRange=7d',
];

async function ensureDatabase(): Promise<Knex> {
  const admin = createDb({ ...PG, database_name: 'postgres' }, { min: 0, max: 1 });
  try {
    if (!(await admin('pg_database').where({ datname: DB_NAME }).first())) await admin.raw('CREATE DATABASE ??', [DB_NAME]);
  } finally {
    await admin.destroy();
  }
  const db = createDb({ ...PG, database_name: DB_NAME }, { min: 0, max: CONNECTIONS });
  await migrateLatest(db);
  return db;
}

/** One INSERT ... SELECT generate_series; reused when the table already holds JOBS rows. */
async function loadJobs(db: Knex): Promise<number> {
  const [{ count }] = await db('jobs').count<{ count: string }[]>({ count: '*' });
  if (Number(count) === JOBS) return 0;
  const t0 = performance.now();
  await db.raw('TRUNCATE jobs, job_status_events, task_arns_to_instance_info');
  await db.raw('ALTER TABLE jobs DISABLE TRIGGER USER'); // no 1M status events for a bulk load
  // The copies' trigram indexes are built once after the load: much faster.
  const copyIndexes = await dropSecondaryIndexes(db, ['job_command_lines', 'job_search_texts']);
  await db.raw(
    `INSERT INTO jobs (job_id, job_name, job_definition, job_queue, image, status, created_at, stopped_at, vcpus, memory,
       timeout, command_line, last_updated, status_reason, run_started_at, exitcode, log_stream_name, task_arn, attempts,
       platform, job_type)
     SELECT md5('api' || g)::uuid::text,
       (ARRAY['etl','report','train','ingest','export','backfill','score','sync'])[1 + g % 8] || '-' ||
         (ARRAY['daily','hourly','adhoc','weekly'])[1 + (g / 8) % 4] || '-' || (g % 10000),
       'arn:aws:batch:us-east-1:123456789012:job-definition/def-' || (g % 50) || ':1',
       'queue-' || (g % 10),
       'registry.example.com/team/' || (ARRAY['spark','pytorch','python','java'])[1 + g % 4] || ':' || (g % 30),
       s.status,
       now() - ((g % 2592000) || ' seconds')::interval - interval '10 minutes',
       CASE WHEN s.status IN ('SUCCEEDED','FAILED') THEN now() - ((g % 2592000) || ' seconds')::interval END,
       1 + g % 8, 512 * (1 + g % 16), -1, '["run","--task","' || g || '"]',
       now() - ((g % 2592000) || ' seconds')::interval,
       CASE WHEN s.status = 'FAILED' THEN 'Essential container in task exited' END,
       CASE WHEN s.status IN ('RUNNING','SUCCEEDED','FAILED') THEN now() - ((g % 2592000) || ' seconds')::interval - interval '5 minutes' END,
       CASE s.status WHEN 'SUCCEEDED' THEN 0 WHEN 'FAILED' THEN 1 END,
       'def-' || (g % 50) || '/default/' || md5('task' || g),
       'arn:aws:ecs:us-east-1:123456789012:task/cluster/' || md5('task' || g),
       1, 'EC2', 'container'
     FROM generate_series(1, ?::int) AS g
     CROSS JOIN LATERAL (SELECT CASE
         WHEN g % 100 < 85 THEN 'SUCCEEDED' WHEN g % 100 < 93 THEN 'FAILED' WHEN g % 100 < 95 THEN 'RUNNING'
         WHEN g % 100 < 97 THEN 'RUNNABLE' WHEN g % 100 < 98 THEN 'STARTING' WHEN g % 100 < 99 THEN 'PENDING'
         ELSE 'SUBMITTED' END AS status) s`,
    [JOBS],
  );
  // Instance info for a tenth of the jobs, so job detail exercises the join.
  await db.raw(
    `INSERT INTO task_arns_to_instance_info (task_arn, instance_id, public_ip, private_ip)
     SELECT task_arn, 'i-' || substr(md5(task_arn), 1, 17), '54.0.0.1', '10.0.0.1' FROM jobs WHERE right(job_id, 1) = '0'`,
  );
  // The search's copies, as their triggers would have written them (they were off for the load).
  await db.raw('INSERT INTO job_command_lines (job_id, command_line) SELECT job_id, command_line FROM jobs');
  await db.raw(`INSERT INTO job_search_texts (job_id, search_text, job_name)
    SELECT job_id, job_id || ' ' || job_queue || ' ' || image, job_name FROM jobs`);
  await db.raw('INSERT INTO job_names (job_name) SELECT DISTINCT job_name FROM jobs ON CONFLICT DO NOTHING');
  await db.raw('ALTER TABLE jobs ENABLE TRIGGER USER');
  for (const indexdef of copyIndexes) await db.raw(indexdef);
  await db.raw('VACUUM ANALYZE jobs, job_command_lines, job_search_texts, job_names');
  await db.raw('ANALYZE task_arns_to_instance_info');
  return (performance.now() - t0) / 1000;
}


/** `batchiepatchie api` in a process of its own, so it does not share an event loop with the load generator. */
async function startApiProcess(dir: string, redisPrefix: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const configFile = path.join(dir, 'config.toml');
  await writeFile(
    configFile,
    [
      'host = "127.0.0.1"',
      `port = ${port}`,
      'region = "us-east-1"',
      `database_host = "${PG.database_host}"`,
      `database_port = ${PG.database_port}`,
      `database_username = "${PG.database_username}"`,
      `database_name = "${DB_NAME}"`,
      'frontend_assets = "local"',
      'aws_endpoint = "http://127.0.0.1:9"',
      `redis_prefix = "${redisPrefix}"`, // its own keys, removed at the end
      'log_level = "warn"', // request logs off: they would measure the terminal
    ].join('\n'),
  );
  const child = spawn(process.execPath, ['bin/batchiepatchie', 'api', configFile], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/ping`)).ok) return { url, child };
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error('the API did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** SIGTERM, then waits for the exit (at most 10 s), so nothing writes to Redis after its keys are removed. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref())]);
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function cannon(url: string, paths: string[], seconds = SECONDS): Promise<Figures> {
  let i = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length] }) }],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

/** The naive baseline: the same calls straight to the store, same concurrency, same duration. */
async function rawStore(calls: (() => Promise<unknown>)[]): Promise<Figures> {
  const latencies: number[] = [];
  let i = 0;
  let errors = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) {
        const call = calls[i++ % calls.length];
        const t0 = performance.now();
        try {
          await call();
        } catch {
          errors += 1;
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { rps: latencies.length / SECONDS, p50: at(0.5), p99: at(0.99), errors };
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One request on a kept-alive connection, body read to the end. */
function httpGet(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: keepAlive }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

/** Median of `runs` timed calls, after one untimed warm-up call. */
async function medianMs(call: () => Promise<unknown>, runs = 9): Promise<number> {
  await call();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await call();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

const ms = (v: number) => `${v.toFixed(1)} ms`;

function report(name: string, api: Figures, raw: Figures): string {
  return `| ${name} | ${api.rps.toFixed(0)} | ${ms(api.p50)} | ${ms(api.p99)} | ${raw.rps.toFixed(0)} | ${ms(raw.p50)} | ${ms(raw.p99)} | ${(
    raw.rps / api.rps
  ).toFixed(2)}× | +${ms(api.p50 - raw.p50)} | ${api.errors + raw.errors} |`;
}

async function main(): Promise<void> {
  const db = await ensureDatabase();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bp-bench-api-'));
  const redis = testRedisPrefix();
  let child: ChildProcess | null = null;
  try {
    const loadSeconds = await loadJobs(db);
    console.log(loadSeconds ? `loaded ${JOBS} jobs in ${loadSeconds.toFixed(1)} s` : `reusing ${JOBS} jobs in ${DB_NAME}`);
    const ids: string[] = (await db.raw('SELECT job_id FROM jobs TABLESAMPLE SYSTEM (1) LIMIT 2000')).rows.map((r: { job_id: string }) => r.job_id);
    const api = await startApiProcess(dir, redis.prefix);
    child = api.child;
    // Warm both paths (connections, plans, JIT) before measuring.
    const searches = SEARCHES.map((q) => parseJobSearch(Object.fromEntries(new URLSearchParams(q))));
    await cannon(api.url, [...ids.slice(0, 50).map((id) => `/api/v1/jobs/${id}`), ...SEARCHES.map((q) => `/api/v1/jobs?${q}`)], 3);
    for (const search of searches) await searchJobs(db, search);

    const detailApi = await cannon(api.url, ids.map((id) => `/api/v1/jobs/${id}`));
    const detailRaw = await rawStore(ids.map((id) => () => getJob(db, id)));
    const searchApi = await cannon(api.url, SEARCHES.map((q) => `/api/v1/jobs?${q}`));
    const searchRaw = await rawStore(searches.map((s) => () => searchJobs(db, s)));

    const lines = [
      `${JOBS.toLocaleString('en-US')} jobs, ${CONNECTIONS} connections, ${SECONDS} s per measurement, ${os.cpus().length} cores (API, Postgres and load generator share them)`,
      '',
      '| workload | API req/s | API p50 | API p99 | raw store req/s | raw p50 | raw p99 | raw/API throughput | API overhead (p50) | errors |',
      '|---|---|---|---|---|---|---|---|---|---|',
      report('job detail (random ids)', detailApi, detailRaw),
      report(`search mix (${SEARCHES.length} shapes)`, searchApi, searchRaw),
    ];
    lines.push('', 'per search shape, one request at a time (median of 9, after a warm-up): API vs raw store', '', '| search | API | raw store |', '|---|---|---|');
    for (const [i, q] of SEARCHES.entries()) {
      const viaApi = await medianMs(() => httpGet(`${api.url}/api/v1/jobs?${q}`));
      const viaStore = await medianMs(() => searchJobs(db, searches[i]));
      lines.push(`| \`${q || '(none)'}\` | ${ms(viaApi)} | ${ms(viaStore)} |`);
    }
    console.log(lines.join('\n'));
  } finally {
    if (child) await stopProcess(child);
    await redis.cleanup();
    await db.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
