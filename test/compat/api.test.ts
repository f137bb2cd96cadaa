/**
 * API compatibility with the Go original (AdRoll/batchiepatchie): every route
 * it served, called with the requests its UI, a team's scripts and its Lambda
 * hook send, answered in the shapes they read (originalShapes.ts). Twice: on
 * a fresh mirror of the simulator's AWS, and on the rows of an adopted Go
 * database. What still differs, and why, is docs/migrating.md.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { WebSocket } from 'ws';
import { startDemoStack, type DemoStack } from '../../src/roles/demo';
import { migrateLatest } from '../../src/store/db';
import { displayStatusOf } from '../../src/domain/jobStatus';
import type { JobJson } from '../../src/api/contract';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { testRedisPrefix } from '../helpers/redis';
import { getJson, startTestApi, type TestApi } from '../api/helpers';
import { GO_ARRAY_PARENT_ID, GO_ARRAY_PROPERTIES, GO_SCHEMA_V23, ID36, ID44, T, createGooseTable, seedGoRows } from '../store/goDatabase';
import {
  STATUS_SUMMARY_KEYS,
  expectOriginalJob,
  expectOriginalJobStatus,
  expectOriginalJobs,
  expectOriginalStatsRows,
  expectStringArray,
} from './originalShapes';

const INDEX_HTML = '<!doctype html><html><body><div id="root">compat</div></body></html>';

/** What the original UI's API client sends: params without empty values, its default sort name. */
function originalUiQuery(params: Record<string, string | number | undefined>): string {
  return Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== '' && v !== 0)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
}

/** The first message of the status WebSocket, as the original's UI reads it. */
function firstSocketMessage(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('message', (data) => {
      resolve(JSON.parse(String(data)));
      ws.close();
    });
    ws.once('error', reject);
    ws.once('close', (code, reason) => reject(new Error(`closed ${code} ${String(reason)} before a message`)));
  });
}

function indexDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bp-compat-ui-'));
  writeFileSync(path.join(dir, 'index.html'), INDEX_HTML);
  return dir;
}

/** The UI routes answer index.html, as the original's IndexHandler. */
async function expectIndexRoutes(url: string, jobId: string): Promise<void> {
  for (const route of ['/', '/stats', '/index.html', `/job/${jobId}`, '/job_queues']) {
    const res = await fetch(`${url}${route}`);
    expect(res.status, route).to.equal(200);
    expect(res.headers.get('content-type'), route).to.match(/^text\/html/);
    expect(await res.text(), route).to.contain('compat');
  }
}

describe('API compatibility with the Go original: a fresh mirror', function () {
  this.timeout(120_000);
  let tdb: TestDatabase;
  let stack: DemoStack;
  let redis: ReturnType<typeof testRedisPrefix>;
  let ui: string;
  let url: string;
  let plainId: string;
  let parentId: string;
  let oomId: string;

  const waitFor = async (id: string, status: string) => {
    for (;;) {
      const row = await tdb.db('jobs').where({ job_id: id }).first('status', 'needs_describe');
      if (row?.status === status && !row.needs_describe) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  before(async () => {
    tdb = await createTestDatabase();
    redis = testRedisPrefix();
    ui = indexDir();
    stack = await startDemoStack({
      config: {
        ...tdb.config,
        host: '127.0.0.1',
        port: 0,
        redis_prefix: redis.prefix,
        sync_period: 1,
        scale_period: 5,
        frontend_assets: 'local',
        frontend_assets_local_prefix: ui,
        log_level: 'silent',
      },
      simulator: { port: 0, scenario: 'empty', clock: 'manual' },
      activate: ['compat-q'],
      prepare: (sim) => {
        sim.model.createComputeEnvironment({ name: 'compat-ce', instances: 2, instanceVcpus: 16 });
        sim.model.createJobQueue({ name: 'compat-q', computeEnvironments: ['compat-ce'] });
        sim.model.createJobQueue({ name: 'compat-other', computeEnvironments: ['compat-ce'] });
      },
    });
    url = stack.url;
    const sim = stack.sim.model;
    plainId = sim.submitJob({ jobName: 'compat-plain', jobQueue: 'compat-q', plan: { outcome: 'SUCCEEDED', runSeconds: 20, logLines: ['one', 'two'] } }).jobId;
    parentId = sim.submitJob({ jobName: 'compat-array', jobQueue: 'compat-q', arraySize: 3, plan: { outcome: 'SUCCEEDED', runSeconds: 20 } }).jobId;
    oomId = sim.submitJob({
      jobName: 'compat-oom',
      jobQueue: 'compat-q',
      plan: { outcome: 'FAILED', exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage', runSeconds: 5 },
    }).jobId;
    sim.advance(120_000);
    await Promise.all([waitFor(plainId, 'SUCCEEDED'), waitFor(parentId, 'SUCCEEDED'), waitFor(oomId, 'FAILED')]);
    for (let i = 0; i < 3; i++) await waitFor(`${parentId}:${i}`, 'SUCCEEDED');
  });
  after(async () => {
    await stack?.close();
    await tdb?.drop();
    await redis?.cleanup();
    rmSync(ui, { recursive: true, force: true });
  });

  it('GET /api/v1/jobs with the original UI\'s query (sortColumn=startTime) lists top-level jobs in the original shape', async () => {
    const res = await getJson(`${url}/api/v1/jobs?${originalUiQuery({ page: 0, q: '', dateRange: '1d', sortDirection: 'DESC', sortColumn: 'startTime' })}`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expectOriginalJobs(res.body);
    const ids = (res.body as JobJson[]).map((j) => j.id).sort();
    expect(ids).to.deep.equal([plainId, parentId, oomId].sort()); // the children are not listed, as the original never listed them
    const parent = (res.body as JobJson[]).find((j) => j.id === parentId);
    expect(parent?.array_properties).to.deep.equal({
      size: 3,
      status_summary: { starting: 0, failed: 0, running: 0, succeeded: 3, runnable: 0, submitted: 0, pending: 0 },
    });
    expect(parent?.desc).to.match(/^arn:aws:batch:[^:]+:\d+:job-definition\/.+/);
  });

  it('GET /api/v1/jobs: queue and status filters, the children on request, and a child found by its id', async () => {
    const failed = await getJson(`${url}/api/v1/jobs?${originalUiQuery({ queue: 'compat-q', status: 'FAILED', sortColumn: 'startTime', sortDirection: 'DESC', dateRange: '1d' })}`);
    expect((failed.body as JobJson[]).map((j) => j.id)).to.deep.equal([oomId]);
    const all = await getJson(`${url}/api/v1/jobs?children=true`);
    expect((all.body as JobJson[]).map((j) => j.id).sort()).to.deep.equal([plainId, parentId, oomId, `${parentId}:0`, `${parentId}:1`, `${parentId}:2`].sort());
    expectOriginalJobs(all.body);
    const child = await getJson(`${url}/api/v1/jobs?q=${encodeURIComponent(`${parentId}:1`)}`);
    expect((child.body as JobJson[]).map((j) => j.id)).to.deep.equal([`${parentId}:1`]);
    const children = await getJson(`${url}/api/v1/jobs/${parentId}/children`);
    expect((children.body as JobJson[]).map((j) => j.array_index)).to.deep.equal([0, 1, 2]);
    expectOriginalJobs(children.body, 'children');
  });

  it('an out-of-memory kill is FAILED and says so; TERMINATED is filterable and agrees with the rule', async () => {
    const oom = await getJson(`${url}/api/v1/jobs/${oomId}`);
    expect(oom.body).to.include({ status: 'FAILED', exitcode: 137, display_status: 'FAILED', status_note: 'out of memory' });
    await stack.db('jobs').where({ job_id: plainId }).update({ termination_requested: true, status: 'FAILED', exitcode: 1 });
    const terminated = await getJson(`${url}/api/v1/jobs?status=TERMINATED&children=true`);
    expect((terminated.body as JobJson[]).map((j) => j.id)).to.deep.equal([plainId]);
    const every = (await getJson(`${url}/api/v1/jobs?children=true`)).body as JobJson[];
    for (const j of every) expect(j.display_status, j.id).to.equal(displayStatusOf(j));
    await stack.db('jobs').where({ job_id: plainId }).update({ termination_requested: false, status: 'SUCCEEDED', exitcode: 0 });
  });

  it('GET /api/v1/jobs/:id and /status answer the original shapes', async () => {
    const one = await getJson(`${url}/api/v1/jobs/${plainId}`);
    expect(one.status).to.equal(200);
    expectOriginalJob(one.body);
    expect(one.body).to.include({ id: plainId, name: 'compat-plain', status: 'SUCCEEDED', job_queue: 'compat-q' });
    const status = await getJson(`${url}/api/v1/jobs/${plainId}/status`);
    expectOriginalJobStatus(status.body);
    expect(status.body).to.deep.equal({ id: plainId, status: 'SUCCEEDED' });
  });

  it('GET /api/v1/jobs/:id/logs?format=text answers the log as text, a line per event', async () => {
    const res = await fetch(`${url}/api/v1/jobs/${plainId}/logs?format=text`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/plain/);
    expect(await res.text()).to.equal('one\ntwo\n');
    expect((await fetch(`${url}/api/v1/jobs/${plainId}/logs`)).status).to.equal(400);
  });

  it('GET /api/v1/jobs/stats with the original UI\'s start/end answers its rows; the array parent is not counted on top of its children', async () => {
    const end = Math.ceil(stack.sim.model.now() / 1000) + 60;
    const res = await getJson(`${url}/api/v1/jobs/stats?${originalUiQuery({ start: end - 7 * 86_400, end })}`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expectOriginalStatsRows(res.body);
    const count = (res.body as { job_count: number }[]).reduce((n, r) => n + r.job_count, 0);
    expect(count).to.equal(5); // plain, oom and three children
  });

  it('job queues: active, all, activate and deactivate answer as the original', async () => {
    const active = await getJson(`${url}/api/v1/job_queues/active`);
    expectStringArray(active.body, 'active');
    expect(active.body).to.deep.equal(['compat-q']);
    const all = await getJson(`${url}/api/v1/job_queues/all`);
    expectStringArray(all.body, 'all');
    expect(all.body).to.include.members(['compat-q', 'compat-other']);
    // The original UI posts "[]" as the body.
    const on = await getJson(`${url}/api/v1/job_queues/compat-other/activate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' });
    expect([on.status, on.body]).to.deep.equal([200, []]);
    expect((await getJson(`${url}/api/v1/job_queues/active`)).body).to.deep.equal(['compat-other', 'compat-q']);
    const off = await getJson(`${url}/api/v1/job_queues/compat-other/deactivate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' });
    expect([off.status, off.body]).to.deep.equal([200, []]);
  });

  it('POST /api/v1/jobs/notify takes the Lambda hook\'s event, and skips one without jobName with a 2xx', async () => {
    const sim = stack.sim.model;
    const { jobId } = sim.submitJob({ jobName: 'compat-event', jobQueue: 'compat-q', plan: { outcome: 'SUCCEEDED', runSeconds: 600 } });
    const event = {
      version: '0', id: 'e-1', 'detail-type': 'Batch Job State Change', source: 'aws.batch', time: new Date(sim.now()).toISOString(),
      region: 'us-east-1', resources: [], detail: {
        jobName: 'compat-event', jobId, jobQueue: 'arn:aws:batch:us-east-1:123456789012:job-queue/compat-q', status: 'RUNNABLE',
        createdAt: sim.now(), jobDefinition: 'arn:aws:batch:us-east-1:123456789012:job-definition/compat:1',
        container: { image: 'busybox', vcpus: 1, memory: 128, command: ['true'], environment: [] },
      },
    };
    const res = await getJson(`${url}/api/v1/jobs/notify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) });
    expect(res.status).to.be.within(200, 299);
    expect(res.body).to.deep.equal({ accepted: 1, skipped: 0 });
    const bare = await getJson(`${url}/api/v1/jobs/notify`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...event, detail: { jobId, status: 'RUNNING' } }),
    });
    expect(bare.status).to.be.within(200, 299);
    expect(bare.body).to.deep.equal({ accepted: 0, skipped: 1 });
    // Applied: the row exists (an event starts the row of a job not mirrored yet).
    for (;;) {
      const row = await tdb.db('jobs').where({ job_id: jobId }).first('status');
      if (row) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('POST /api/v1/jobs/kill with the original UI\'s {ids} answers a string per id', async () => {
    const sim = stack.sim.model;
    const { jobId } = sim.submitJob({ jobName: 'compat-kill', jobQueue: 'compat-q', plan: { outcome: 'SUCCEEDED', runSeconds: 600 } });
    sim.advance(30_000);
    await waitFor(jobId, 'RUNNING');
    const res = await getJson(`${url}/api/v1/jobs/kill`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ids: [jobId] }) });
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ [jobId]: 'OK' });
  });

  it('the status WebSocket sends the job JSON first, in the original shape', async () => {
    const first = await firstSocketMessage(`${url.replace('http', 'ws')}/api/v1/jobs/${parentId}/status_websocket`);
    expectOriginalJob(first, 'websocket');
    expect((first as JobJson).id).to.equal(parentId);
  });

  it('/ping answers pong, and the UI routes answer index.html', async () => {
    const ping = await fetch(`${url}/ping`);
    expect([ping.status, await ping.text()]).to.deep.equal([200, 'pong']);
    await expectIndexRoutes(url, plainId);
  });
});

describe('API compatibility with the Go original: an adopted Go database', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  let t: TestApi;
  let ui: string;

  before(async () => {
    tdb = await createTestDatabase({ migrate: false });
    for (const sql of GO_SCHEMA_V23) await tdb.db.raw(sql);
    await createGooseTable(tdb.db, 23);
    await seedGoRows(tdb.db);
    // The Go rows were updated an hour ago (the search's default window is 30 days back from now).
    await tdb.db.raw("UPDATE jobs SET last_updated = now() - interval '1 hour'");
    await migrateLatest(tdb.db);
    ui = indexDir();
    t = await startTestApi({ tdb, config: { frontend_assets: 'local', frontend_assets_local_prefix: ui } });
  });
  after(async () => {
    await t?.close();
    await tdb?.drop();
    rmSync(ui, { recursive: true, force: true });
  });

  it('GET /api/v1/jobs lists the Go rows in the original shape, its array_properties as the Go code wrote them', async () => {
    const res = await getJson(`${t.url}/api/v1/jobs?${originalUiQuery({ sortColumn: 'startTime', sortDirection: 'DESC', dateRange: '1d' })}`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expectOriginalJobs(res.body);
    const jobs = res.body as JobJson[];
    expect(jobs.map((j) => j.id).sort()).to.deep.equal([ID36, GO_ARRAY_PARENT_ID, 'a0000000-0000-4000-8000-000000000002', ID44].sort());
    expect(jobs.find((j) => j.id === GO_ARRAY_PARENT_ID)?.array_properties).to.deep.equal(GO_ARRAY_PROPERTIES);
    expect(Object.keys(GO_ARRAY_PROPERTIES.status_summary).sort()).to.deep.equal([...STATUS_SUMMARY_KEYS].sort());
    expect(jobs.find((j) => j.id === ID36)?.desc).to.equal('arn:aws:batch:us-east-1:123456789012:job-definition/go:3');
  });

  it('GET /api/v1/jobs/:id (44-character id too) and /status answer the original shapes; a null Go timeout reads -1', async () => {
    for (const id of [ID36, ID44, GO_ARRAY_PARENT_ID]) {
      const res = await getJson(`${t.url}/api/v1/jobs/${id}`);
      expect(res.status, id).to.equal(200);
      expectOriginalJob(res.body, id);
    }
    expect((await getJson(`${t.url}/api/v1/jobs/${ID36}`)).body).to.include({ instance_id: 'i-0go', public_ip: '54.1.1.1', private_ip: '10.1.1.1' });
    const failed = await getJson(`${t.url}/api/v1/jobs/a0000000-0000-4000-8000-000000000002`);
    expect(failed.body).to.include({ timeout: -1, termination_requested: true, display_status: 'TERMINATED' });
    const status = await getJson(`${t.url}/api/v1/jobs/${ID36}/status`);
    expectOriginalJobStatus(status.body);
  });

  it('GET /api/v1/jobs/stats counts the Go rows (a Go array parent counts: its children were never mirrored)', async () => {
    const start = Math.floor(T.getTime() / 1000) - 60;
    const res = await getJson(`${t.url}/api/v1/jobs/stats?start=${start}&end=${start + 7200}`);
    expect(res.status).to.equal(200);
    expectOriginalStatsRows(res.body);
    expect((res.body as { job_count: number }[]).reduce((n, r) => n + r.job_count, 0)).to.equal(4);
  });

  it('GET /api/v1/job_queues/active answers the Go activated queues; activate/deactivate answer []', async () => {
    expect((await getJson(`${t.url}/api/v1/job_queues/active`)).body).to.deep.equal(['go-queue', 'go-queue-2']);
    const on = await getJson(`${t.url}/api/v1/job_queues/go-queue-3/activate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' });
    expect([on.status, on.body]).to.deep.equal([200, []]);
    const off = await getJson(`${t.url}/api/v1/job_queues/go-queue-3/deactivate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' });
    expect([off.status, off.body]).to.deep.equal([200, []]);
  });

  it('the status WebSocket sends a Go row in the original shape', async () => {
    const first = await firstSocketMessage(`${t.url.replace('http', 'ws')}/api/v1/jobs/${GO_ARRAY_PARENT_ID}/status_websocket`);
    expectOriginalJob(first, 'websocket');
    expect((first as JobJson).array_properties).to.deep.equal(GO_ARRAY_PROPERTIES);
  });

  it('/ping and the UI routes', async () => {
    const ping = await fetch(`${t.url}/ping`);
    expect(await ping.text()).to.equal('pong');
    await expectIndexRoutes(t.url, ID36);
  });
});
