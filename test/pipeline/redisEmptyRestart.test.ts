/**
 * Redis may come back empty (issue 13.4): a Redis restarted without its data
 * (an ElastiCache failover, the docker-compose Redis, which keeps nothing) has
 * lost the job schedulers with everything else. With real `batchiepatchie
 * scheduler` and `worker` processes running against a redis-server of this
 * test's own, killed and started again empty: rounds resume by themselves,
 * no process restarted, and /readyz (with the round age gauge) follows —
 * 503 once no round finished in three sync periods, 200 again after.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { getJob } from '../../src/store/jobs/lookups';
import { getJson, startTestApi, type TestApi } from '../api/helpers';
import { ownRedis, type OwnRedis } from '../helpers/ownRedis';
import { startHarness, type Harness } from './harness';
import { startRole, stopRole, tomlFor, waitForOutput, type RoleProcess } from './processes';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `probe` returns a value `ok` accepts; generous, so a loaded machine only makes it slower. */
async function waitFor<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; last ${JSON.stringify(last)}`);
    await sleep(100);
  }
}

describe('a Redis that comes back empty does not stop mirroring', function () {
  this.timeout(600_000);
  let redis: OwnRedis;
  let h: Harness;
  let api: TestApi;
  let dir: string;
  let scheduler: RoleProcess | null = null;
  let worker: RoleProcess | null = null;
  const queue = 'empty-redis-q';

  before(async () => {
    redis = await ownRedis();
    await redis.start();
    // No in-process worker: the role processes do all the work. Periods of 1 s: three periods are 3 s.
    h = await startHarness({ workers: 0, redisUrl: redis.url, config: { sync_period: 1, scale_period: 1 } });
    await h.queue(queue);
    dir = mkdtempSync(path.join(tmpdir(), 'bp-empty-redis-'));
    writeFileSync(path.join(dir, 'config.toml'), `${tomlFor(h)}\nsync_period = 1\nscale_period = 1\n`);
    api = await startTestApi({ tdb: h.tdb, config: { ...h.config, host: '127.0.0.1', port: 0 } });
  });

  after(async () => {
    for (const p of [scheduler, worker]) if (p) await stopRole(p);
    await api?.close();
    await h?.close();
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const readyz = () => getJson(`${api.url}/readyz`);
  const roundAge = async () => {
    const text = await (await fetch(`${api.url}/metrics`)).text();
    const m = /^batchiepatchie_sync_round_age_seconds (\S+)$/m.exec(text);
    return m ? (m[1] === '+Inf' ? Infinity : Number(m[1])) : null;
  };
  /** Postgres's now(): the clock the round heartbeat is stamped with. */
  const pgNow = async (): Promise<Date> => (await h.db.raw('SELECT now() AS now')).rows[0].now;
  const lastRoundAt = async (): Promise<Date | null> =>
    (await h.db('pipeline_heartbeats').where({ name: 'sync_round_finished' }).first())?.beat_at ?? null;
  const mirrored = (jobName: string) => {
    const { jobId } = h.sim.model.submitJob({ jobName, jobQueue: queue, plan: { runSeconds: 100_000 } });
    return waitFor(`job ${jobName} mirrored`, () => getJob(h.db, jobId), (row) => row !== null);
  };
  const running = (p: RoleProcess | null) => p !== null && p.child.exitCode === null && p.child.signalCode === null;

  it('rounds resume by themselves, with no process restarted, and /readyz follows', async () => {
    const configPath = path.join(dir, 'config.toml');
    scheduler = startRole(configPath, 'scheduler');
    worker = startRole(configPath, 'worker');
    await waitForOutput(scheduler.output, /job schedulers registered/);
    await waitForOutput(worker.output, /pipeline workers started/);

    // Mirroring, and ready.
    await mirrored('before-restart');
    await waitFor('/readyz ready', readyz, (r) => r.status === 200 && r.body.sync === 'ok' && r.body.last_sync_round_age_seconds !== null);
    expect(await roundAge()).to.be.a('number').and.to.be.at.most(3);
    const schedulerPid = scheduler.child.pid;
    const workerPid = worker.child.pid;

    // Redis dies and comes back empty: the job schedulers are gone with everything else.
    const restartedAt = await pgNow();
    await redis.stop();
    await redis.start();

    // The scheduler process notices and registers them again; the rounds resume.
    await waitForOutput(scheduler.output, /job schedulers missing from Redis.*registered again/, 120_000);
    const restored = scheduler.logs().find((l) => /job schedulers missing from Redis/.test(String(l.msg)));
    expect(restored?.restored).to.include.members(['sync-round', 'kill-timed-out-jobs', 'reconcile-ecs-instances']);
    await mirrored('after-restart');
    await waitFor('a round finished after the restart', lastRoundAt, (at) => at !== null && at > restartedAt);
    await waitFor('/readyz ready again', readyz, (r) => r.status === 200 && r.body.sync === 'ok');
    // Nothing was restarted: the same processes.
    expect(running(scheduler) && running(worker), 'scheduler and worker still running').to.equal(true);
    expect([scheduler.child.pid, worker.child.pid]).to.deep.equal([schedulerPid, workerPid]);

    // No round for three sync periods (no worker): not ready, saying why; the gauge shows the age.
    expect(await stopRole(worker)).to.equal(0);
    worker = null;
    const notReady = await waitFor('/readyz not ready', readyz, (r) => r.status === 503);
    expect(notReady.body).to.include({ error: 'not ready', postgres: 'ok', redis: 'ok' });
    expect(notReady.body.sync).to.match(/^no sync round finished in the last 3 s \(3 sync periods\); the last one \d+ s ago$/);
    // The body rounds to a tenth: an age just past 3 periods (not ready) may read 3.
    expect(notReady.body.last_sync_round_age_seconds).to.be.at.least(3);
    expect(await roundAge()).to.be.above(3);

    // A worker again: rounds, and ready.
    worker = startRole(configPath, 'worker');
    await waitFor('/readyz ready after the worker came back', readyz, (r) => r.status === 200 && r.body.sync === 'ok');
    expect(await roundAge()).to.be.at.most(3);
  });
});
