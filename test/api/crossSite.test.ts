/**
 * No cross-site actions (issue 13.6) and the Go UI's way of killing (14.4):
 * state-changing requests a browser sends from another site are refused with
 * 403 whatever their content type, requests without Origin/Sec-Fetch-Site
 * work as before, allowed_hosts refuses other Host headers, and kill takes a
 * text/plain JSON body from the same origin and leaves finished jobs alone.
 * Against real Postgres, Redis (bull-board's queues), the simulator and Chromium.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { DescribeJobsCommand } from '@aws-sdk/client-batch';
import { startSimulator, type SimulatorHandle } from 'aws-batch-simulator';
import type { Browser } from 'playwright-core';
import { createAwsClients, type AwsClients } from '../../src/aws/clients';
import { mapJobDetail } from '../../src/pipeline/mapping';
import { openPipelineQueues, type PipelineQueuesInternal } from '../../src/pipeline/queues';
import { getJob } from '../../src/store/jobs/lookups';
import { configWith } from '../../src/config/defaults';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { testRedisPrefix } from '../helpers/redis';
import { launchBrowser } from '../ui/browser';
import { getJson, insertJobs, startTestApi, type TestApi } from './helpers';

/** A raw request, so that Host can be anything. */
function rawRequest(
  url: string,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* keep text */
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('API: cross-site requests and allowed hosts', function () {
  this.timeout(60_000);
  let sim: SimulatorHandle;
  let aws: AwsClients;
  let tdb: TestDatabase;
  let t: TestApi;
  let pipeline: PipelineQueuesInternal;
  const redis = testRedisPrefix();

  async function mirror(ids: string[]): Promise<void> {
    const out = await aws.batch.send(new DescribeJobsCommand({ jobs: ids }));
    await insertJobs(t.db, (out.jobs ?? []).map(mapJobDetail));
  }
  const terminateCalls = () => sim.counters.calls().filter((c) => c.operation === 'Batch.TerminateJob').length;
  const activated = async (name: string) => (await t.db('activated_job_queues').where({ job_queue: name })).length === 1;

  before(async () => {
    sim = await startSimulator({ port: 0, clock: 'manual', scenario: 'empty' });
    sim.model.createComputeEnvironment({ name: 'ce-xs', instances: 2 });
    sim.model.createJobQueue({ name: 'q-xs', computeEnvironments: ['ce-xs'] });
    aws = createAwsClients({ region: 'us-east-1', aws_endpoint: sim.endpoint, maxAttempts: 1 });
    tdb = await createTestDatabase();
    pipeline = openPipelineQueues(configWith({ ...tdb.config, redis_prefix: redis.prefix }));
    t = await startTestApi({ tdb, config: { aws_endpoint: sim.endpoint, redis_prefix: redis.prefix }, deps: { pipeline } });
  });
  after(async () => {
    await t.close();
    await pipeline.close();
    await redis.cleanup();
    await tdb.drop();
    aws.destroy();
    await sim.stop();
  });

  describe('state-changing requests', () => {
    const CROSS_SITE: Record<string, Record<string, string>> = {
      'Origin of another site': { origin: 'http://evil.example' },
      'Origin of another port (another origin)': { origin: 'http://127.0.0.1:1' },
      'Origin null (sandboxed frame)': { origin: 'null' },
      'Sec-Fetch-Site: cross-site': { 'sec-fetch-site': 'cross-site' },
      'Sec-Fetch-Site: same-site': { 'sec-fetch-site': 'same-site' },
    };

    for (const [name, headers] of Object.entries(CROSS_SITE)) {
      it(`refuses every action with 403 JSON, whatever the content type: ${name}`, async () => {
        const id = sim.model.submitJob({ jobName: 'xs-victim', jobQueue: 'q-xs', plan: { runSeconds: 3600 } }).jobId;
        sim.model.advance(60_000);
        await mirror([id]);
        sim.counters.reset();
        const actions: { method: string; path: string; body?: string; type?: string }[] = [
          { method: 'POST', path: '/api/v1/jobs/kill', body: JSON.stringify({ ids: [id] }), type: 'application/json' },
          { method: 'POST', path: '/api/v1/jobs/kill', body: JSON.stringify({ ids: [id] }), type: 'text/plain' },
          { method: 'POST', path: '/api/v1/job_queues/xs-q/activate', type: 'application/x-www-form-urlencoded', body: '' },
          { method: 'POST', path: '/api/v1/job_queues/xs-q/activate', type: 'multipart/form-data; boundary=x', body: '--x--' },
          { method: 'POST', path: '/api/v1/job_queues/xs-on/deactivate' },
          { method: 'POST', path: '/api/v1/job_queues/xs-on/forced_scaling', body: '{"enabled":true}', type: 'application/json' },
          { method: 'PUT', path: '/admin/queues/api/queues/bp-sync/pause' },
          { method: 'POST', path: '/api/v1/jobs/notify', body: '{}', type: 'text/plain' },
          { method: 'DELETE', path: '/api/v1/jobs/kill' },
        ];
        await t.db('activated_job_queues').insert({ job_queue: 'xs-on' }).onConflict('job_queue').ignore();
        for (const a of actions) {
          const res = await getJson(`${t.url}${a.path}`, {
            method: a.method,
            headers: { ...headers, ...(a.type ? { 'content-type': a.type } : {}) },
            body: a.body,
          });
          expect(res.status, `${a.method} ${a.path} ${a.type ?? ''}`).to.equal(403);
          expect(res.body.error).to.equal('cross-site request refused');
        }
        // Nothing happened: no TerminateJob, the job running and not marked, queues as they were.
        expect(terminateCalls()).to.equal(0);
        expect(sim.model.getJob(id)?.status).to.equal('RUNNING');
        expect((await getJob(t.db, id))?.termination_requested).to.equal(false);
        expect(await activated('xs-q')).to.equal(false);
        expect(await activated('xs-on')).to.equal(true);
        expect((await t.db('activated_job_queues').where({ job_queue: 'xs-on' }).first()).forced_scaling).to.equal(false);
        expect(await pipeline.sync.isPaused()).to.equal(false);
        // Reads stay open to other sites' headers (CORS keeps their answers from the page).
        expect((await getJson(`${t.url}/api/v1/jobs/${id}`, { headers })).status).to.equal(200);
      });
    }

    it('lets requests with neither header (scripts, curl) and same-origin browsers act', async () => {
      const ok: Record<string, Record<string, string>> = {
        'no header': {},
        'same Origin': { origin: t.url },
        'Sec-Fetch-Site: same-origin': { 'sec-fetch-site': 'same-origin', origin: 'http://evil.example' },
        'Sec-Fetch-Site: none (typed by the user)': { 'sec-fetch-site': 'none' },
        'Origin matching X-Forwarded-Host': { origin: 'https://batch.example.com', 'x-forwarded-host': 'batch.example.com' },
      };
      for (const [name, headers] of Object.entries(ok)) {
        const on = await getJson(`${t.url}/api/v1/job_queues/xs-ok/activate`, { method: 'POST', headers });
        expect(on.status, name).to.equal(200);
        expect(await activated('xs-ok'), name).to.equal(true);
        const off = await getJson(`${t.url}/api/v1/job_queues/xs-ok/deactivate`, { method: 'POST', headers });
        expect(off.status, name).to.equal(200);
        expect(await activated('xs-ok'), name).to.equal(false);
      }
      const pause = await getJson(`${t.url}/admin/queues/api/queues/bp-sync/pause`, { method: 'PUT', headers: { origin: t.url } });
      expect(pause.status).to.equal(200);
      expect(await pipeline.sync.isPaused()).to.equal(true);
      await pipeline.sync.resume();
    });
  });

  describe('in a real browser (Chromium)', () => {
    let browser: Browser;
    let attacker: http.Server;
    let attackerUrl: string;
    let attackPage = '';
    before(async () => {
      browser = await launchBrowser();
      attacker = http.createServer((_req, res) => {
        res.setHeader('content-type', 'text/html');
        res.end(attackPage);
      });
      await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
      // Same host, another port: another origin, the same site (the browser says so).
      attackerUrl = `http://localhost:${(attacker.address() as AddressInfo).port}`;
    });
    after(async () => {
      await browser?.close();
      await new Promise((resolve) => attacker.close(resolve));
    });

    it("another site's form post and no-cors fetch change nothing; the UI's own text/plain kill works", async () => {
      const id = sim.model.submitJob({ jobName: 'xs-browser', jobQueue: 'q-xs', plan: { runSeconds: 3600 } }).jobId;
      await mirror([id]);
      sim.counters.reset();
      const api = t.url.replace('127.0.0.1', 'localhost');
      attackPage = `<!doctype html><form id="f" method="POST" action="${api}/api/v1/job_queues/xs-browser-q/activate"></form>
        <script>
          window.killed = fetch(${JSON.stringify(`${api}/api/v1/jobs/kill`)}, {
            method: 'POST', mode: 'no-cors', body: ${JSON.stringify(JSON.stringify({ ids: [id] }))},
          }).then(() => 'answered', (e) => 'failed: ' + e);
        </script>`;
      const page = await browser.newPage();
      try {
        await page.goto(attackerUrl);
        expect(await page.evaluate(() => (window as unknown as { killed: Promise<string> }).killed)).to.equal('answered');
        const [answer] = await Promise.all([page.waitForNavigation(), page.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit())]);
        expect(answer?.status()).to.equal(403);
        expect(await activated('xs-browser-q')).to.equal(false);
        expect(terminateCalls()).to.equal(0);
        expect((await getJob(t.db, id))?.termination_requested).to.equal(false);

        // The Go UI's call: JSON sent without a content type (the browser makes it text/plain), same origin.
        await page.goto(`${api}/`);
        const own = await page.evaluate(async (jobId) => {
          const res = await fetch('/api/v1/jobs/kill', { method: 'POST', body: JSON.stringify({ ids: [jobId] }) });
          return { status: res.status, body: (await res.json()) as Record<string, string> };
        }, id);
        expect(own).to.deep.equal({ status: 200, body: { [id]: 'OK' } });
        expect(terminateCalls()).to.equal(1);
        expect((await getJob(t.db, id))?.termination_requested).to.equal(true);
      } finally {
        await page.close();
      }
    });
  });

  describe('kill', () => {
    it('answers per id that a finished job is already finished, without TerminateJob or marking it', async () => {
      const done = sim.model.submitJob({ jobName: 'xs-done', jobQueue: 'q-xs', plan: { runSeconds: 10 } }).jobId;
      const failed = sim.model.submitJob({ jobName: 'xs-failed', jobQueue: 'q-xs', plan: { runSeconds: 10, outcome: 'FAILED', exitCode: 3 } }).jobId;
      sim.model.advance(600_000);
      const running = sim.model.submitJob({ jobName: 'xs-running', jobQueue: 'q-xs', plan: { runSeconds: 3600 } }).jobId;
      sim.model.advance(60_000);
      expect(sim.model.getJob(done)?.status).to.equal('SUCCEEDED');
      expect(sim.model.getJob(failed)?.status).to.equal('FAILED');
      // The mirror still says RUNNING for the finished one (a stale row): AWS's word decides.
      await mirror([running, failed]);
      await insertJobs(t.db, [{ ...mapJobDetail((await aws.batch.send(new DescribeJobsCommand({ jobs: [done] }))).jobs![0]), status: 'RUNNING' }]);
      sim.counters.reset();
      const res = await getJson(`${t.url}/api/v1/jobs/kill`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
        body: JSON.stringify({ ids: [done, failed, running] }),
      });
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({
        [done]: 'already finished (SUCCEEDED)',
        [failed]: 'already finished (FAILED)',
        [running]: 'OK',
      });
      const terminated = sim.counters.calls().filter((c) => c.operation === 'Batch.TerminateJob');
      expect(terminated).to.have.length(1);
      expect((await getJob(t.db, done))?.termination_requested).to.equal(false);
      expect((await getJob(t.db, failed))?.termination_requested).to.equal(false);
      expect((await getJob(t.db, running))?.termination_requested).to.equal(true);
    });

    it('terminates nothing when AWS cannot say what state the jobs are in', async () => {
      const id = sim.model.submitJob({ jobName: 'xs-unsure', jobQueue: 'q-xs', plan: { runSeconds: 3600 } }).jobId;
      await mirror([id]);
      sim.counters.reset();
      sim.faults.set({ errorRate: 1, operations: ['Batch.DescribeJobs'] });
      let res;
      try {
        res = await getJson(`${t.url}/api/v1/jobs/kill`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ids: [id] }),
        });
      } finally {
        sim.faults.clear();
      }
      expect(res.status).to.equal(200);
      expect(res.body[id]).to.match(/^not killed: DescribeJobs failed: /);
      expect(terminateCalls()).to.equal(0);
      expect((await getJob(t.db, id))?.termination_requested).to.equal(false);
    });
  });

  describe('allowed_hosts', () => {
    let guarded: TestApi;
    before(async () => {
      guarded = await startTestApi({ tdb, config: { allowed_hosts: ['batch.example.com', '.internal.example', 'localhost:8080'] } });
    });
    after(() => guarded.close());

    it('answers listed Host names and refuses others with 400 JSON (DNS rebinding), probes exempt', async () => {
      const get = (host: string, path = '/api/v1/job_queues/active') => rawRequest(guarded.url, { path, headers: { host } });
      for (const host of ['batch.example.com', 'BATCH.example.com:443', 'internal.example', 'a.b.internal.example:5454', 'localhost:8080']) {
        expect((await get(host)).status, host).to.equal(200);
      }
      for (const host of ['evil.example', 'batch.example.com.evil.example', 'xinternal.example', 'localhost:8081', '127.0.0.1']) {
        const res = await get(host);
        expect(res.status, host).to.equal(400);
        expect(res.body.error).to.equal('Host header not allowed');
      }
      // A rebound page posting "same-origin" under its own name is refused before anything changes.
      const post = await rawRequest(guarded.url, {
        method: 'POST',
        path: '/api/v1/job_queues/xs-rebound/activate',
        headers: { host: 'evil.example', origin: 'http://evil.example' },
      });
      expect(post.status).to.equal(400);
      expect(await activated('xs-rebound')).to.equal(false);
      for (const probe of ['/healthz', '/ping']) expect((await get('10.1.2.3:5454', probe)).status, probe).to.equal(200);
    });
  });
});
