/**
 * No internals in answers to viewers and anonymous callers (issue 13.8): an
 * upstream failure is named, but what the dependency said (addresses, account
 * ids, driver text) goes only to operators; unknown methods and malformed HTTP
 * get JSON 4xx; NUL, control characters and bad escapes in any parameter are
 * 400s naming it; wrong-typed nested event fields are 400s, not 500s.
 */
import { expect } from 'chai';
import type { PipelineIngest } from '../../src/api/deps';
import { openPipelineQueues } from '../../src/pipeline/queues';
import { configWith } from '../../src/config/defaults';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { testRedisPrefix } from '../helpers/redis';
import { getJson, insertJobs, job, postJson, startTestApi, type TestApi } from './helpers';
import { sendRaw } from './rawHttp';

const JOB_ID = 'c0de0000-0000-4000-8000-000000000138';

async function raw(url: string, request: Buffer | string): Promise<{ status: number; type: string; body: string }> {
  const res = await sendRaw(url, Buffer.from(request));
  return { status: res.status, type: res.headers['content-type'] ?? '', body: res.body };
}

describe('API: no 5xx for odd input, no internals in answers', function () {
  this.timeout(30_000);
  let tdb: TestDatabase;
  let t: TestApi;
  let pipeline: PipelineIngest & { close(): Promise<void> };
  const redis = testRedisPrefix();

  before(async () => {
    tdb = await createTestDatabase();
    await insertJobs(tdb.db, [job({ job_id: JOB_ID })]);
    pipeline = openPipelineQueues(configWith({ ...tdb.config, redis_prefix: redis.prefix }));
    t = await startTestApi({
      tdb,
      config: {
        redis_prefix: redis.prefix,
        auth_mode: 'tokens',
        auth_tokens: [
          { name: 'v', role: 'viewer', token: 'viewer-token-138' },
          { name: 'o', role: 'operator', token: 'operator-token-138' },
        ],
      },
      deps: { pipeline },
    });
  });
  after(async () => {
    await t.close();
    await pipeline.close();
    await redis.cleanup();
    await tdb.drop();
  });

  const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

  it("tells viewers that AWS failed, not what AWS (or the socket) said; operators get AWS's words", async () => {
    // AWS is a closed port here.
    const viewer = await getJson(`${t.url}/api/v1/job_queues/all`, as('viewer-token-138'));
    expect(viewer.status).to.equal(502);
    expect(viewer.body).to.deep.equal({ error: 'Batch DescribeJobQueues failed' });
    const logs = await getJson(`${t.url}/api/v1/jobs/${JOB_ID}/logs?format=text`, as('viewer-token-138'));
    expect(logs.status).to.equal(502);
    expect(logs.body.error).to.match(/^CloudWatch Logs \w+ failed$/);
    const operator = await getJson(`${t.url}/api/v1/job_queues/all`, as('operator-token-138'));
    expect(operator.status).to.equal(502);
    expect(operator.body.error).to.match(/^Batch DescribeJobQueues failed: .+/);
  });

  it('answers unknown methods and HTTP that Node refuses with JSON 4xx', async () => {
    const cases: [string, Buffer | string, number][] = [
      ['PROPFIND (the router would say 501)', 'PROPFIND /api/v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer viewer-token-138\r\nConnection: close\r\n\r\n', 405],
      ['TRACE', 'TRACE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 405],
      ['a method Node does not know', 'BREW /api/v1/jobs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 405],
      ['a control character in a header', 'GET /api/v1/jobs HTTP/1.1\r\nHost: x\r\nOrigin: a\u0001b\r\nConnection: close\r\n\r\n', 400],
      ['raw invalid UTF-8 in the request line', Buffer.from('GET /api/v1/jobs?q=\xc3\x28 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'latin1'), 400],
      ['headers too large', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`, 431],
    ];
    for (const [name, request, status] of cases) {
      const res = await raw(t.url, request);
      expect(res.status, name).to.equal(status);
      expect(res.type, name).to.match(/^application\/json/);
      expect(JSON.parse(res.body).error, name).to.be.a('string');
    }
  });

  it('refuses NUL, control characters and bad escapes in any parameter with a 400 naming it', async () => {
    const cases: [string, string][] = [
      ['/api/v1/jobs?q=a%00b', 'q: control characters are not allowed'],
      ['/api/v1/jobs?q=%zz', 'q: not valid percent-encoded UTF-8'],
      ['/api/v1/jobs?q=%C3%28', 'q: not valid percent-encoded UTF-8'],
      ['/api/v1/jobs?cachebuster=%1F', 'cachebuster: control characters are not allowed'],
      ['/api/v1/jobs/stats?start=%ED%A0%80&end=1', 'start: not valid percent-encoded UTF-8'],
      [`/api/v1/jobs/${JOB_ID}%00`, 'path: control characters are not allowed'],
      ['/api/v1/jobs/%E2%82', 'path: not valid percent-encoded UTF-8'],
      ['/job/%zz', 'path: not valid percent-encoded UTF-8'],
    ];
    for (const [path, error] of cases) {
      const res = await getJson(`${t.url}${path}`, as('viewer-token-138'));
      expect(res.status, path).to.equal(400);
      expect(res.body.error, path).to.equal(error);
    }
    const reason = await postJson(`${t.url}/api/v1/jobs/kill`, { ids: [JOB_ID], reason: 'a\u0000b' }, as('operator-token-138').headers);
    expect(reason.status).to.equal(400);
    expect(reason.body.error).to.equal('reason: control characters are not allowed');
  });

  it('refuses events with wrong-typed nested fields or NUL in text with a 400 naming the event', async () => {
    const base = { jobId: JOB_ID, jobName: 'n', jobQueue: 'arn:aws:batch:us-east-1:1:job-queue/q', status: 'RUNNING', createdAt: 1_700_000_000_000 };
    const bad: Record<string, unknown>[] = [
      { platformCapabilities: 5 },
      { jobDefinition: 5 },
      { container: { environment: 5 } },
      { container: 5 },
      { container: { exitCode: 'x' } },
      { attempts: 'x' },
      { arrayProperties: { index: 'x' } },
      { statusReason: 5 },
      { jobName: 'a\u0000b' },
      { statusReason: 'x\u0000' },
    ];
    for (const fields of bad) {
      const res = await postJson(`${t.url}/api/v1/jobs/notify`, [{ detail: base }, { detail: { ...base, ...fields } }], as('operator-token-138').headers);
      expect(res.status, JSON.stringify(fields)).to.equal(400);
      expect(res.body.index, JSON.stringify(fields)).to.equal(1);
      expect(res.body.error, JSON.stringify(fields)).to.match(/^event 1: /);
    }
  });
});
