/**
 * `batchiepatchie demo`: the newcomer's first five minutes. One command starts
 * the AWS simulator with demo data, creates and migrates a local database,
 * activates the demo queues and runs scheduler + workers + API in this process,
 * then prints the URL. Ctrl-C stops everything.
 *
 * `startDemoStack` is the same wiring without the checks and the printing, so
 * the browser tests and the UI benchmark run exactly what the demo runs.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { Redis } from 'ioredis';
import { startApi, type ApiServer } from '../api/app';
import { loadConfig, ConfigError } from '../config';
import { openPipelineQueues, startScheduler, startWorkers } from '../pipeline';
import { startSimulator, type SimulatorHandle, type SimulatorOptions } from 'aws-batch-simulator';
import { createDb, migrateLatest } from '../store/db';
import { activateQueue } from '../store/queues';
import { seedDemoHistory } from './demoHistory';
import type { Logger } from '../log';
import type { Config } from '../config/schema';
import { PACKAGE_ROOT } from '../paths';

export const DEMO_DATABASE = 'batchiepatchie_demo';
/** The demo's generated past (src/roles/demoHistory.ts): three weeks, a few hundred jobs a day. */
export const DEMO_HISTORY = { days: 21, perDay: 400 };
export const DEMO_REDIS_PREFIX = 'batchiepatchie-demo';
export const DEMO_EVENTS_QUEUE = 'batchiepatchie-demo-events';
export const FRONTEND_DIST = path.join(PACKAGE_ROOT, 'frontend', 'dist');

export interface DemoStackOptions {
  /** Complete config; aws_endpoint is replaced by the simulator's. The database must exist. */
  config: Config;
  simulator?: SimulatorOptions;
  /** Activate every queue the simulator knows (default), only these, or none. */
  activate?: 'all' | string[];
  /**
   * Job state change events through the simulator's SQS (default true): its
   * rule fills DEMO_EVENTS_QUEUE and the workers read it (events_queue_url),
   * so jobs move live, as with an EventBridge rule in AWS.
   */
  events?: boolean;
  /** Runs once the simulator is up, before anything reads it (tests create their queues here). */
  prepare?: (sim: SimulatorHandle) => void | Promise<void>;
  logger?: Logger;
}

export interface DemoStack {
  url: string;
  config: Config;
  db: Knex;
  sim: SimulatorHandle;
  api: ApiServer;
  close(): Promise<void>;
}

function queueNames(sim: SimulatorHandle): string[] {
  return sim.model
    .jobQueues()
    .map((q) => q.jobQueueName)
    .filter((n): n is string => Boolean(n));
}

/** Stops what was started, newest first; one failure does not keep the rest running. */
async function closeAll(closers: Array<() => Promise<unknown>>): Promise<void> {
  const errors: unknown[] = [];
  for (const close of closers.reverse()) {
    try {
      await close();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length) throw errors[0];
}

export async function startDemoStack(opts: DemoStackOptions): Promise<DemoStack> {
  const closers: Array<() => Promise<unknown>> = [];
  try {
    const onModelError = opts.logger ? (err: unknown) => opts.logger?.error({ err }, 'simulator model failed to advance') : undefined;
    const events = opts.events ?? true;
    const sim = await startSimulator({ scenario: 'demo', onModelError, ...(events ? { eventsQueue: DEMO_EVENTS_QUEUE } : {}), ...opts.simulator });
    closers.push(() => sim.stop());
    await opts.prepare?.(sim);
    const eventsQueueUrl = events ? sim.model.sqs.urlOf(sim.model.sqs.find(sim.events.queue() ?? DEMO_EVENTS_QUEUE)) : undefined;
    const config: Config = { ...opts.config, aws_endpoint: sim.endpoint, ...(eventsQueueUrl ? { events_queue_url: eventsQueueUrl } : {}) };

    const db = createDb(config);
    closers.push(() => db.destroy());
    await migrateLatest(db);
    const queues = opts.activate === undefined || opts.activate === 'all' ? queueNames(sim) : opts.activate;
    for (const q of queues) await activateQueue(db, q);

    // AWS time is the simulator's (a test's manual clock), for timeouts and the like.
    const workers = await startWorkers(config, { db, logger: opts.logger, now: () => new Date(sim.model.now()) });
    closers.push(() => workers.close());
    const scheduler = await startScheduler(config, { logger: opts.logger });
    closers.push(() => scheduler.close());
    // The API gets the pipeline's queues for event ingestion and the bull-board dashboard.
    const pipeline = openPipelineQueues(config);
    closers.push(() => pipeline.close());
    const api = await startApi(config, { db, logger: opts.logger, pipeline });
    closers.push(() => api.close());

    return { url: api.url, config, db, sim, api, close: () => closeAll(closers) };
  } catch (err) {
    await closeAll(closers).catch(() => undefined);
    throw err;
  }
}

// ---------------------------------------------------------------- the command

const USAGE = `usage: batchiepatchie demo [--port N] [--sim-port N] [--fresh]

  --port N       port of the UI/API (default 5454; 0 = any free port)
  --sim-port N   port of the AWS simulator (default: any free port)
  --fresh        drop and recreate the ${DEMO_DATABASE} database first

Postgres and Redis are taken from BATCHIEPATCHIE_DATABASE_* and BATCHIEPATCHIE_REDIS_URL
(default: postgres@127.0.0.1:5432, redis://127.0.0.1:6379).`;

/** The demo's configuration, validated like any other (so BATCHIEPATCHIE_* overrides apply). */
async function demoConfig(port: number): Promise<Config> {
  const toml = [
    `host = "127.0.0.1"`,
    `port = ${port}`,
    `region = "us-east-1"`,
    `database_host = "127.0.0.1"`,
    `database_port = 5432`,
    `database_username = "postgres"`,
    `database_name = "${DEMO_DATABASE}"`,
    `frontend_assets = "local"`,
    `frontend_assets_local_prefix = ${JSON.stringify(FRONTEND_DIST)}`,
    // Small periods so jobs appear and move within seconds.
    `sync_period = 5`,
    `scale_period = 10`,
    `gone_after_seconds = 60`,
    `redis_prefix = "${DEMO_REDIS_PREFIX}"`,
    `log_level = "warn"`,
  ].join('\n');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bp-demo-'));
  const file = path.join(dir, 'demo.toml');
  try {
    writeFileSync(file, toml);
    // The demo's own file wins over BATCHIEPATCHIE_CONFIG; BATCHIEPATCHIE_<KEY> still overrides keys.
    return await loadConfig({ path: file, env: { ...process.env, BATCHIEPATCHIE_CONFIG: undefined } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

class PreflightError extends Error {}

async function checkPostgres(config: Config): Promise<Knex> {
  const admin = createDb({ ...config, database_name: 'postgres' }, { min: 0, max: 1 });
  try {
    await admin.raw('SELECT 1');
    return admin;
  } catch (err) {
    await admin.destroy();
    throw new PreflightError(
      [
        `PostgreSQL does not answer at ${config.database_username}@${config.database_host}:${config.database_port}: ${(err as Error).message}`,
        'Fix: start it, e.g. `sudo service postgresql start` (Debian/Ubuntu), `brew services start postgresql` (macOS)',
        '     or `docker compose up -d postgres` in this directory;',
        '     or point the demo at yours with BATCHIEPATCHIE_DATABASE_HOST / _PORT / _USERNAME / _PASSWORD.',
      ].join('\n'),
    );
  }
}

async function checkRedis(config: Config): Promise<void> {
  const redis = new Redis(config.redis_url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new PreflightError(
      [
        `Redis does not answer at ${config.redis_url}: ${(err as Error).message}`,
        'Fix: start it, e.g. `sudo service redis-server start` (Debian/Ubuntu), `brew services start redis` (macOS)',
        '     or `docker compose up -d redis` in this directory;',
        '     or point the demo at yours with BATCHIEPATCHIE_REDIS_URL.',
      ].join('\n'),
    );
  } finally {
    redis.disconnect();
  }
}

async function ensureDatabase(admin: Knex, name: string, fresh: boolean): Promise<void> {
  if (fresh) {
    // DROP DATABASE ... WITH (FORCE) needs Postgres 13; the SPEC allows 12, so end the sessions first.
    await admin.raw('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()', [name]);
    await admin.raw('DROP DATABASE IF EXISTS ??', [name]);
  }
  const found = await admin('pg_database').where({ datname: name }).first();
  if (!found) await admin.raw('CREATE DATABASE ??', [name]);
}

function parseDemoArgs(args: string[]): { port: number; simPort: number; fresh: boolean; help: boolean } {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      'sim-port': { type: 'string' },
      fresh: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const port = (name: string, v: string | undefined, dflt: number) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new PreflightError(`--${name}: expected a port number 0-65535, got ${JSON.stringify(v)}`);
    return n;
  };
  return {
    port: port('port', values.port, Number(process.env.BATCHIEPATCHIE_PORT ?? 5454)),
    simPort: port('sim-port', values['sim-port'], 0),
    fresh: values.fresh ?? false,
    help: values.help ?? false,
  };
}

/** What went wrong, in words a newcomer can act on; a stack trace only for the unexpected. */
function describeFailure(err: unknown): string {
  if (err instanceof PreflightError || err instanceof ConfigError) return err.message;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) return `${(err as Error).message}\n${USAGE}`;
  if (code === 'EADDRINUSE') {
    return `${(err as Error).message}: another program uses that port.\nFix: stop it, or pick another port with --port N (0 = any free port).`;
  }
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (s: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(s);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export async function runDemo(args: string[]): Promise<void> {
  let stack: DemoStack | null = null;
  try {
    const flags = parseDemoArgs(args);
    if (flags.help) {
      console.log(USAGE);
      return;
    }
    if (!existsSync(path.join(FRONTEND_DIST, 'index.html'))) {
      throw new PreflightError(`The UI is not built (${FRONTEND_DIST}/index.html is missing).\nFix: run \`npm run build\` once, then \`batchiepatchie demo\` again.`);
    }
    const config = await demoConfig(flags.port === 0 ? 5454 : flags.port);
    if (flags.port === 0) config.port = 0; // any free port: the demo's own option, not a config value
    await checkRedis(config);
    const admin = await checkPostgres(config);
    try {
      await ensureDatabase(admin, config.database_name, flags.fresh);
    } finally {
      await admin.destroy();
    }

    console.log('Starting the AWS simulator (demo scenario), the pipeline and the API…');
    stack = await startDemoStack({ config, simulator: { port: flags.simPort, host: '127.0.0.1', scenario: 'demo', clock: 'real' } });
    const history = await seedDemoHistory(stack.db, { ...DEMO_HISTORY, queues: queueNames(stack.sim).filter((q) => q !== 'legacy'), now: new Date() });
    if (history > 0) console.log(`Wrote ${history.toLocaleString('en')} finished jobs of the last ${DEMO_HISTORY.days} days as the demo's history.`);
    console.log(
      [
        '',
        `  Batchiepatchie demo is running:  ${stack.url}/`,
        '',
        `  database  ${config.database_name} on ${config.database_host}:${config.database_port}`,
        `  AWS       simulator at ${stack.sim.endpoint} (queues: ${queueNames(stack.sim).join(', ')})`,
        ...(stack.config.events_queue_url
          ? [
              `  events    SQS ${stack.config.events_queue_url} (as an EventBridge rule fills it): jobs move live`,
              `  sync      every ${config.sync_period}s, reconciling what events missed`,
            ]
          : [`  sync      every ${config.sync_period}s; jobs appear and move within seconds`]),
        '',
        '  Ctrl-C stops everything.',
        '',
      ].join('\n'),
    );
    const signal = await waitForSignal();
    console.log(`\n${signal}: stopping…`);
  } catch (err) {
    console.error(`batchiepatchie demo: ${describeFailure(err)}`);
    process.exitCode = 1;
  } finally {
    if (stack) {
      await stack.close();
      console.log('stopped.');
    }
    // Should a library leave a handle open, do not hang after Ctrl-C (unref: no delay otherwise).
    setTimeout(() => process.exit(), 5000).unref();
  }
}
