/**
 * POST /api/v1/jobs/notify end to end: the API validates and hands events to
 * the real pipeline queues (Redis), a real worker applies them to Postgres,
 * and the job shows up through the API and its WebSocket.
 */
import { expect } from 'chai';
import { createLogger } from '../../src/log';
import { Redis } from 'ioredis';
import { jobEventStreamKey } from '../../src/pipeline/jobEvents';
import { openPipelineQueues } from '../../src/pipeline/queues';
import { startWorkers } from '../../src/pipeline/worker';
import { getJson, postJson, startTestApi, type TestApi } from './helpers';

const logger = createLogger(process.env.NOTIFY_DEBUG ? 'debug' : 'silent');

function stateChange(jobId: string, status: string, extra: Record<string, unknown> = {}) {
  const createdAt = Date.now() - 60_000;
  return {
    version: '0',
    id: `evt-${jobId}-${status}`,
    'detail-type': 'Batch Job State Change',
    source: 'aws.batch',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [`arn:aws:batch:us-east-1:123456789012:job/${jobId}`],
    detail: {
      jobArn: `arn:aws:batch:us-east-1:123456789012:job/${jobId}`,
      jobName: `notified-${jobId.slice(0, 8)}`,
      jobId,
      jobQueue: 'arn:aws:batch:us-east-1:123456789012:job-queue/notify-q',
      status,
      attempts: [],
      createdAt,
      startedAt: status === 'RUNNING' ? createdAt + 1000 : undefined,
      dependsOn: [],
      jobDefinition: 'arn:aws:batch:us-east-1:123456789012:job-definition/notify-def:3',
      parameters: {},
      container: { image: 'busybox:1', vcpus: 2, memory: 1024, command: ['sleep', '60'], environment: [] },
      ...extra,
    },
  };
}

async function eventually<T>(probe: () => Promise<T | undefined | null>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('API: notify (EventBridge job state changes into the pipeline)', function () {
  this.timeout(30_000);
  let t: TestApi;
  let workers: { close(): Promise<void> };

  before(async () => {
    t = await startTestApi({ config: { notify_secret: 'hook-secret' } });
    // The pipeline applies events of activated queues only.
    await t.db('activated_job_queues').insert({ job_queue: 'notify-q' });
    workers = await startWorkers(t.config, { db: t.db, logger });
  });
  after(async () => {
    await workers.close();
    await t.close();
  });

  const notify = (body: unknown) => postJson(`${t.url}/api/v1/jobs/notify`, body, { 'x-batchiepatchie-notify-secret': 'hook-secret' });

  // How fast an event is applied is measured by bench/pipeline.ts, not asserted here.
  it('accepts one event, answers 202 with the count, and the job is applied', async () => {
    const id = '11111111-aaaa-4000-8000-000000000001';
    const res = await notify(stateChange(id, 'RUNNING'));
    expect(res.status).to.equal(202);
    expect(res.body).to.deep.equal({ accepted: 1, skipped: 0 });
    const row = await eventually(async () => t.db('jobs').where({ job_id: id }).first());
    // Status and identity from the event; resources, image and the rest wait for DescribeJobs (events are hints).
    expect(row).to.include({ status: 'RUNNING', job_queue: 'notify-q', needs_describe: true, vcpus: 0, image: '' });
    const api = await getJson(`${t.url}/api/v1/jobs/${id}`);
    expect(api.body).to.include({ id, status: 'RUNNING' });
  });

  it('skips events without a jobName with a 2xx, as the Go original did, and says how many it applied and skipped', async () => {
    const id = '44444444-aaaa-4000-8000-000000000001';
    const nameless = stateChange('44444444-aaaa-4000-8000-000000000002', 'RUNNING', { jobName: undefined });
    const emptyName = stateChange('44444444-aaaa-4000-8000-000000000003', 'RUNNING', { jobName: '' });
    const res = await notify([nameless, stateChange(id, 'RUNNABLE'), emptyName, { detail: { jobId: 'x' } }]);
    expect(res.status).to.equal(202);
    expect(res.body).to.deep.equal({ accepted: 1, skipped: 3 });
    const alone = await notify({ detail: { jobId: 'barely-any-details' } });
    expect(alone.status).to.equal(202);
    expect(alone.body).to.deep.equal({ accepted: 0, skipped: 1 });
    await eventually(async () => t.db('jobs').where({ job_id: id }).first());
    expect((await t.db('jobs').where('job_id', 'like', '44444444-%')).map((r: { job_id: string }) => r.job_id)).to.deep.equal([id]);
  });

  it('accepts an array of events', async () => {
    const ids = ['22222222-aaaa-4000-8000-000000000001', '22222222-aaaa-4000-8000-000000000002'];
    const res = await notify(ids.map((id) => stateChange(id, 'RUNNABLE')));
    expect(res.status).to.equal(202);
    expect(res.body).to.deep.equal({ accepted: 2, skipped: 0 });
    await eventually(async () => (await t.db('jobs').whereIn('job_id', ids)).length === 2);
  });

  it('an event the pipeline cannot apply is a 400 naming it, and nothing of the batch is enqueued', async () => {
    const good = stateChange('33333333-aaaa-4000-8000-000000000001', 'RUNNING');
    const bad = stateChange('33333333-aaaa-4000-8000-000000000002', 'RUNNING', { createdAt: undefined });
    const res = await notify([good, bad]);
    expect(res.status).to.equal(400);
    expect(res.body.error).to.match(/^event 1: /);
    expect(res.body.index).to.equal(1);
    // A sentinel sent after it: once applied (one consumer, reading in order), anything enqueued before would be too.
    const sentinel = '33333333-bbbb-4000-8000-000000000009';
    expect((await notify(stateChange(sentinel, 'RUNNABLE'))).status).to.equal(202);
    await eventually(async () => t.db('jobs').where({ job_id: sentinel }).first());
    expect(await t.db('jobs').where('job_id', 'like', '33333333-aaaa-%')).to.deep.equal([]);
  });

  it('bull-board at /admin/queues shows the pipeline queues', async () => {
    const page = await fetch(`${t.url}/admin/queues`);
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    expect(await page.text()).to.include('__UI_CONFIG__');
    const api = await getJson(`${t.url}/admin/queues/api/queues`);
    expect(api.status).to.equal(200);
    const names = (api.body.queues as { name: string }[]).map((q) => q.name);
    expect(names.length).to.be.greaterThan(0);
  });
});

describe('API: notify with a full event backlog', function () {
  this.timeout(30_000);
  let t: TestApi;
  let pipeline: ReturnType<typeof openPipelineQueues>;
  let redis: Redis;

  before(async () => {
    // The real pipeline queues on the API's own Redis prefix, and no worker draining the stream: the backlog only grows.
    t = await startTestApi({
      config: { events_stream_max_length: 3 },
      deps: { pipeline: { queues: [], enqueueJobEvents: (events) => pipeline.enqueueJobEvents(events) } },
    });
    pipeline = openPipelineQueues(t.config);
    redis = new Redis(t.config.redis_url);
  });
  after(async () => {
    redis.disconnect();
    await pipeline.close();
    await t.close();
  });

  const notify = (body: unknown) => postJson(`${t.url}/api/v1/jobs/notify`, body);
  const backlog = () => redis.xlen(jobEventStreamKey(t.config));

  it('answers 503 with Retry-After once events_stream_max_length events wait, refusing the whole call and dropping none', async () => {
    expect((await notify([stateChange('55555555-aaaa-4000-8000-000000000001', 'RUNNABLE'), stateChange('55555555-aaaa-4000-8000-000000000002', 'RUNNABLE')])).status).to.equal(202);
    const full = await postJson(`${t.url}/api/v1/jobs/notify`, [
      stateChange('55555555-aaaa-4000-8000-000000000003', 'RUNNABLE'),
      stateChange('55555555-aaaa-4000-8000-000000000004', 'RUNNABLE'),
    ]);
    expect(full.status).to.equal(503);
    expect(full.headers.get('retry-after')).to.equal('5');
    expect(full.body.error).to.match(/backlog is full/);
    expect(await backlog()).to.equal(2);
    // Exactly up to the cap is still taken.
    expect((await notify(stateChange('55555555-aaaa-4000-8000-000000000005', 'RUNNABLE'))).status).to.equal(202);
    expect(await backlog()).to.equal(3);
    expect((await notify(stateChange('55555555-aaaa-4000-8000-000000000006', 'RUNNABLE'))).status).to.equal(503);
    const ids = (await redis.xrange(jobEventStreamKey(t.config), '-', '+')).map(([, f]) => (JSON.parse(f[1]) as { f: { job_id: string } }).f.job_id);
    expect(ids).to.deep.equal(['55555555-aaaa-4000-8000-000000000001', '55555555-aaaa-4000-8000-000000000002', '55555555-aaaa-4000-8000-000000000005']);
  });
});
