import { Writable } from 'node:stream';
import { expect } from 'chai';
import pino from 'pino';
import { isLoopbackHost, warnIfUnprotected } from '../../src/api/auth';
import type { PipelineIngest } from '../../src/api/deps';
import { configWith } from '../../src/config/defaults';
import type { Config } from '../../src/config/schema';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { getJson, insertJobs, job, startTestApi, type TestApi } from './helpers';

const JOB_ID = 'abcdef01-0000-4000-8000-000000000001';
const NOW = Math.floor(Date.now() / 1000);

interface Endpoint {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  needs: 'viewer' | 'operator' | 'public';
  /** The exact status a caller who may use it gets (any other, a 500 included, fails the test). */
  allowed?: number;
}

const ENDPOINTS: Endpoint[] = [
  { method: 'GET', path: '/api/v1/jobs', needs: 'viewer', allowed: 200 },
  { method: 'GET', path: `/api/v1/jobs/${JOB_ID}`, needs: 'viewer', allowed: 200 },
  { method: 'GET', path: `/api/v1/jobs/${JOB_ID}/status`, needs: 'viewer', allowed: 200 },
  { method: 'GET', path: `/api/v1/jobs/${JOB_ID}/children`, needs: 'viewer', allowed: 200 },
  { method: 'GET', path: `/api/v1/jobs/${JOB_ID}/dependencies`, needs: 'viewer', allowed: 200 },
  // AWS is a closed port in these tests: past the auth check, the route reaches for CloudWatch and says it failed.
  { method: 'GET', path: `/api/v1/jobs/${JOB_ID}/logs?format=text`, needs: 'viewer', allowed: 502 },
  { method: 'GET', path: `/api/v1/jobs/stats?start=${NOW - 3600}&end=${NOW}`, needs: 'viewer', allowed: 200 },
  { method: 'GET', path: '/api/v1/job_queues/active', needs: 'viewer', allowed: 200 },
  { method: 'GET', path: '/api/v1/job_queues/activated', needs: 'viewer', allowed: 200 },
  { method: 'GET', path: '/api/v1/job_queues/all', needs: 'viewer', allowed: 502 },
  { method: 'GET', path: '/api/v1/job_queues/details', needs: 'viewer', allowed: 502 },
  { method: 'POST', path: '/api/v1/jobs/kill', body: { ids: [JOB_ID] }, needs: 'operator', allowed: 200 },
  { method: 'POST', path: '/api/v1/job_queues/auth-q/activate', needs: 'operator', allowed: 200 },
  { method: 'POST', path: '/api/v1/job_queues/auth-q/forced_scaling', body: { enabled: true }, needs: 'operator', allowed: 200 },
  { method: 'POST', path: '/api/v1/job_queues/auth-q/deactivate', needs: 'operator', allowed: 200 },
  { method: 'GET', path: '/admin/queues', needs: 'operator', allowed: 200 },
  { method: 'GET', path: '/ping', needs: 'public', allowed: 200 },
  { method: 'GET', path: '/healthz', needs: 'public', allowed: 200 },
  { method: 'GET', path: '/readyz', needs: 'public', allowed: 200 },
  { method: 'GET', path: '/metrics', needs: 'public', allowed: 200 },
  { method: 'GET', path: '/', needs: 'public', allowed: 200 },
  { method: 'GET', path: `/job/${JOB_ID}`, needs: 'public', allowed: 200 },
];

const NOTIFY_EVENT = {
  'detail-type': 'Batch Job State Change',
  source: 'aws.batch',
  detail: { jobId: JOB_ID, jobName: 'n', jobQueue: 'arn:aws:batch:us-east-1:1:job-queue/q', status: 'RUNNING' },
};

/** A stand-in for the pipeline's queues (the notify/bull-board contract), recording what it is given. */
function recordingPipeline(): PipelineIngest & { received: unknown[] } {
  const received: unknown[] = [];
  return {
    received,
    queues: [],
    async enqueueJobEvents(events) {
      received.push(...events);
      return { accepted: events.length, skipped: 0 };
    },
  };
}

async function call(t: TestApi, e: Endpoint, headers: Record<string, string>) {
  return getJson(`${t.url}${e.path}`, {
    method: e.method,
    headers: { 'content-type': 'application/json', ...headers },
    body: e.method === 'POST' ? JSON.stringify(e.body ?? {}) : undefined,
  });
}

describe('API: auth', () => {
  let tdb: TestDatabase;
  before(async () => {
    tdb = await createTestDatabase();
    await insertJobs(tdb.db, [job({ job_id: JOB_ID })]);
    await tdb.db('activated_job_queues').insert({ job_queue: 'auth-q' });
  });
  after(async () => tdb.drop());

  /** Every endpoint: what each kind of caller gets. bull-board is only mounted with a pipeline. */
  function proveRules(
    mode: () => TestApi,
    creds: { none: Record<string, string>; viewer: Record<string, string>; operator: Record<string, string>; wrong: Record<string, string> },
    allowedHere: Record<string, number> = {},
  ) {
    for (const e of ENDPOINTS) {
      it(`${e.method} ${e.path.split('?')[0]}: ${e.needs}`, async () => {
        const t = mode();
        const allowed = allowedHere[e.path] ?? e.allowed;
        const anonymous = await call(t, e, creds.none);
        const wrong = await call(t, e, creds.wrong);
        const viewer = await call(t, e, creds.viewer);
        const operator = await call(t, e, creds.operator);
        if (e.needs === 'public') {
          for (const r of [anonymous, wrong, viewer, operator]) expect(r.status).to.equal(allowed);
          return;
        }
        expect(anonymous.status, 'no credentials').to.equal(401);
        expect(anonymous.body.error).to.equal('authentication required');
        expect(wrong.status, 'wrong credentials').to.equal(401);
        if (e.needs === 'operator') {
          expect(viewer.status, 'viewer').to.equal(403);
          expect(viewer.body).to.deep.equal({ error: 'operators only', role: 'viewer' });
        } else {
          expect(viewer.status, `viewer: ${JSON.stringify(viewer.body)}`).to.equal(allowed);
        }
        expect(operator.status, `operator: ${JSON.stringify(operator.body)}`).to.equal(allowed);
      });
    }
  }

  describe('auth_mode = tokens', () => {
    let t: TestApi;
    const pipeline = recordingPipeline();
    before(async () => {
      t = await startTestApi({
        tdb,
        config: {
          auth_mode: 'tokens',
          auth_tokens: [
            { token: 'viewer-secret-token', role: 'viewer', name: 'vera' },
            { token: 'operator-secret-token', role: 'operator', name: 'otto' },
          ],
        },
        deps: { pipeline: { ...pipeline, queues: [] } },
      });
    });
    after(async () => t.close());

    proveRules(() => t, {
      none: {},
      wrong: { authorization: 'Bearer not-a-token' },
      viewer: { authorization: 'Bearer viewer-secret-token' },
      operator: { authorization: 'Bearer operator-secret-token' },
    }, {
      // Given no pipeline queues here, bull-board answers (past the auth check) that they are not connected.
      '/admin/queues': 503,
    });

    it('the notify endpoint wants an operator when no notify_secret is set', async () => {
      const e: Endpoint = { method: 'POST', path: '/api/v1/jobs/notify', body: NOTIFY_EVENT, needs: 'operator' };
      expect((await call(t, e, {})).status).to.equal(401);
      expect((await call(t, e, { authorization: 'Bearer viewer-secret-token' })).status).to.equal(403);
      expect((await call(t, e, { authorization: 'Bearer operator-secret-token' })).status).to.equal(202);
    });
  });

  describe('auth_mode = proxy', () => {
    let t: TestApi;
    before(async () => {
      t = await startTestApi({
        tdb,
        config: {
          auth_mode: 'proxy',
          auth_proxy_user_header: 'x-forwarded-user',
          auth_proxy_groups_header: 'x-forwarded-groups',
          auth_proxy_operator_groups: ['batch-admins'],
          auth_proxy_trusted_cidrs: ['127.0.0.0/8'], // the test's requests come from loopback
        },
      });
    });
    after(async () => t.close());

    proveRules(() => t, {
      none: {},
      wrong: { 'x-forwarded-groups': 'batch-admins' }, // groups without a user are no identity
      viewer: { 'x-forwarded-user': 'vera@example.com', 'x-forwarded-groups': 'staff, readers' },
      operator: { 'x-forwarded-user': 'otto@example.com', 'x-forwarded-groups': 'staff,batch-admins' },
    });
  });

  describe('notify shared secret', () => {
    let t: TestApi;
    const pipeline = recordingPipeline();
    before(async () => {
      t = await startTestApi({
        tdb,
        config: { auth_mode: 'tokens', auth_tokens: [{ token: 'operator-secret-token', role: 'operator' }], notify_secret: 's3cr3t-notify' },
        deps: { pipeline },
      });
    });
    after(async () => t.close());

    it('401 without the header, 403 with a wrong one, 202 with it (a bearer token is not enough)', async () => {
      const e: Endpoint = { method: 'POST', path: '/api/v1/jobs/notify', body: NOTIFY_EVENT, needs: 'operator' };
      const missing = await call(t, e, { authorization: 'Bearer operator-secret-token' });
      expect(missing.status).to.equal(401);
      expect(missing.body.error).to.match(/x-batchiepatchie-notify-secret/i);
      expect((await call(t, e, { 'x-batchiepatchie-notify-secret': 'wrong' })).status).to.equal(403);
      expect(pipeline.received).to.have.length(0);
      const ok = await call(t, e, { 'x-batchiepatchie-notify-secret': 's3cr3t-notify' });
      expect(ok.status).to.equal(202);
      expect(ok.body).to.deep.equal({ accepted: 1, skipped: 0 });
      expect(pipeline.received).to.have.length(1);
    });
  });

  describe('auth_mode = none', () => {
    it('everyone is an operator (the Go original)', async () => {
      const t = await startTestApi({ tdb });
      try {
        const res = await call(t, ENDPOINTS.find((e) => e.path.endsWith('/activate'))!, {});
        expect(res.status).to.equal(200);
        expect(res.body).to.deep.equal([]);
      } finally {
        await t.close();
      }
    });

    it('is quiet on loopback and warns loudly elsewhere', () => {
      const lines: string[] = [];
      const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }));
      const base = configWith({ database_name: 'x' }) as Config;
      for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.1.2.3']) {
        expect(isLoopbackHost(host), host).to.equal(true);
        expect(warnIfUnprotected({ ...base, host }, logger)).to.equal(false);
      }
      expect(lines).to.have.length(0);
      for (const host of ['0.0.0.0', '::', '10.0.0.5', 'api.example.com']) {
        expect(isLoopbackHost(host), host).to.equal(false);
        expect(warnIfUnprotected({ ...base, host }, logger)).to.equal(true);
      }
      expect(lines).to.have.length(4);
      expect(JSON.parse(lines[0]).msg).to.match(/AUTHENTICATION IS OFF/);
      expect(JSON.parse(lines[0]).level).to.equal(40);
      expect(warnIfUnprotected({ ...base, host: '0.0.0.0', auth_mode: 'tokens' }, logger)).to.equal(false);
    });
  });
});
