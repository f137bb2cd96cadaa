/**
 * `batchiepatchie demo` as a newcomer runs it: the real command in a child
 * process. It prints the URL, jobs appear there within seconds, Ctrl-C stops it
 * cleanly; and when Postgres or Redis is not there it says so and how to fix it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { expect } from 'chai';
import { createDb } from '../../src/store/db';
import { PG } from '../helpers/db';
import { testRedisPrefix } from '../helpers/redis';

const ROOT = path.resolve(__dirname, '../..');

interface Run {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function runDemo(args: string[], env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['bin/batchiepatchie', 'demo', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, BATCHIEPATCHIE_CONFIG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => text, exited };
}

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, what: () => string, timeoutMs: number, run?: Run): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (run && run.child.exitCode !== null) throw new Error(`the demo exited (${run.child.exitCode}) before ${what()}:\n${run.out()}`);
    if (Date.now() > until) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('batchiepatchie demo (the command)', function () {
  this.timeout(90_000);
  const dbName = `bp_test_demo_${process.pid}_${randomBytes(3).toString('hex')}`;
  const redis = testRedisPrefix();
  const children: ChildProcess[] = [];

  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    const admin = createDb({ ...PG, database_name: 'postgres' }, { min: 0, max: 1 });
    await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [dbName]).finally(() => admin.destroy());
    await redis.cleanup();
  });

  it('prints the URL, runs with events from SQS on, jobs appear and move there within seconds, and Ctrl-C stops everything', async () => {
    const run = runDemo(['--port', '0'], {
      BATCHIEPATCHIE_DATABASE_NAME: dbName,
      BATCHIEPATCHIE_REDIS_PREFIX: redis.prefix,
      BATCHIEPATCHIE_DATABASE_HOST: PG.database_host,
      BATCHIEPATCHIE_DATABASE_PORT: String(PG.database_port),
      BATCHIEPATCHIE_DATABASE_USERNAME: PG.database_username,
    });
    children.push(run.child);
    const url = await waitFor(() => /running:\s+(http:\/\/\S+?)\/?\s/.exec(run.out())?.[1], () => `the URL in:\n${run.out()}`, 60_000, run);

    // Events are on by default: the simulator's rule fills an SQS queue the workers read.
    expect(run.out()).to.match(/events\s+SQS http:\/\/127\.0\.0\.1:\d+\/123456789012\/batchiepatchie-demo-events/);
    const index = await fetch(`${url}/`);
    expect(index.status).to.equal(200);
    expect(await index.text()).to.contain('<div id="root">');

    type Job = { id: string; status: string };
    const first = await waitFor(async () => {
      const jobs = (await (await fetch(`${url}/api/v1/jobs`)).json()) as Job[];
      return jobs.length > 0 ? new Map(jobs.map((j) => [j.id, j.status])) : undefined;
    }, () => 'jobs to appear', 30_000, run);
    await waitFor(async () => {
      const jobs = (await (await fetch(`${url}/api/v1/jobs`)).json()) as Job[];
      return jobs.some((j) => (first.has(j.id) && first.get(j.id) !== j.status) || !first.has(j.id)) ? true : undefined;
    }, () => 'jobs to move', 30_000, run);

    run.child.kill('SIGINT');
    expect(await run.exited).to.equal(0);
    expect(run.out()).to.contain('stopped.');
  });

  it('says how to fix an unreachable Postgres, and exits non-zero', async () => {
    const run = runDemo([], { BATCHIEPATCHIE_DATABASE_PORT: '1', BATCHIEPATCHIE_REDIS_PREFIX: redis.prefix });
    children.push(run.child);
    expect(await run.exited).to.equal(1);
    expect(run.out()).to.contain('PostgreSQL does not answer at').and.contain(':1').and.contain('Fix: start it');
  });

  it('says how to fix an unreachable Redis, and exits non-zero', async () => {
    const run = runDemo([], { BATCHIEPATCHIE_REDIS_URL: 'redis://127.0.0.1:1' });
    children.push(run.child);
    expect(await run.exited).to.equal(1);
    expect(run.out()).to.contain('Redis does not answer at redis://127.0.0.1:1').and.contain('BATCHIEPATCHIE_REDIS_URL');
  });

  it('rejects a bad flag with its usage', async () => {
    const run = runDemo(['--port', 'eighty'], {});
    children.push(run.child);
    expect(await run.exited).to.equal(1);
    expect(run.out()).to.contain('--port: expected a port number');
  });
});
