/**
 * Property-based fuzzing of every route (issue 13.8, fast-check): generated
 * methods, paths, query strings, headers and bodies — control characters,
 * NUL, invalid UTF-8, invalid percent-encoding, wrong-typed JSON, unknown
 * methods — sent as raw bytes. Every answer must be below 500; every 4xx a
 * JSON `{error}` without stack traces, file paths or driver messages; and no
 * row of the database may change. Real Postgres, Redis (notify, bull-board)
 * and the simulator (logs, queues, kill).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { startSimulator, type SimulatorHandle } from 'aws-batch-simulator';
import { openPipelineQueues, type PipelineQueuesInternal } from '../../src/pipeline/queues';
import { configWith } from '../../src/config/defaults';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { testRedisPrefix } from '../helpers/redis';
import { insertJobs, job, startTestApi, type TestApi } from './helpers';
import { sendRaw as send } from './rawHttp';

const JOB_ID = 'f0220000-0000-4000-8000-000000000001';
const CHILD_ID = `${JOB_ID}:3`;
const VIEWER = 'fuzz-viewer-token';
const OPERATOR = 'fuzz-operator-token';
const NOTIFY = 'fuzz-notify-secret';


// ---- generators ----

/** Hostile text: any code point (lone surrogates too), control characters, NUL, long runs. */
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 5 }),
  fc.constantFrom('', '\u0000', 'a\u0000b', "' OR 1=1 --", '../../etc/passwd', 'x'.repeat(3000), '\u202Eevil', 'RUNNING', '0', '-1', '99999999999'),
);

/** Percent-encodes the UTF-8 bytes (lone surrogates become U+FFFD as Node encodes them). */
function encode(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/** What goes into a URL: well encoded text, or raw fragments no encoder makes (bad escapes, invalid UTF-8, raw bytes). */
const urlPart = fc.oneof(
  { weight: 3, arbitrary: text.map(encode) },
  { weight: 2, arbitrary: fc.array(fc.constantFrom('%', '%z', '%zz', '%C3%28', '%C0%AF', '%ED%A0%80', '%FF', '%00', '%1F', '%7F', '+', '%2F', '..', 'a', '1', '%E2%82'), { minLength: 1, maxLength: 4 }).map((p) => p.join('')) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 4 }).map((a) => Buffer.from(a).toString('latin1')) },
);

const idPart = fc.oneof(fc.constant(JOB_ID), fc.constant(encode(CHILD_ID)), fc.uuid(), urlPart);

const QUERY_KEYS = ['q', 'queue', 'status', 'dateRange', 'sortColumn', 'sortDirection', 'page', 'start', 'end', 'format', 'access_token', 'children', 'after', 'limit'];
const query = fc.array(fc.tuple(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...QUERY_KEYS) }, { weight: 1, arbitrary: urlPart }), fc.oneof(urlPart, fc.integer({ min: 900_000_000, max: 2_000_000_000 }).map(String))), { maxLength: 4 })
  .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));

const READ_PATHS = [
  (id: string) => `/api/v1/jobs/${id}`,
  (id: string) => `/api/v1/jobs/${id}/status`,
  (id: string) => `/api/v1/jobs/${id}/children`,
  (id: string) => `/api/v1/jobs/${id}/dependencies`,
  (id: string) => `/api/v1/jobs/${id}/logs`,
  (id: string) => `/api/v1/jobs/${id}/status_websocket`,
  () => '/api/v1/jobs',
  () => '/api/v1/jobs/stats',
  () => '/api/v1/job_queues/active',
  () => '/api/v1/job_queues/activated',
  () => '/api/v1/job_queues/all',
  () => '/api/v1/job_queues/details',
  (x: string) => `/api/v1/${x}`,
  (x: string) => `/admin/queues/${x}`,
  (x: string) => `/job/${x}`,
  (x: string) => `/${x}`,
  () => '/ping',
  () => '/healthz',
  () => '/readyz',
  () => '/metrics',
  () => '/stats',
];
const WRITE_PATHS = [
  () => '/api/v1/jobs/kill',
  () => '/api/v1/jobs/notify',
  // Queue names always carry a character no queue name has: nothing may be activated.
  (x: string) => `/api/v1/job_queues/~${x}/activate`,
  (x: string) => `/api/v1/job_queues/~${x}/deactivate`,
  (x: string) => `/api/v1/job_queues/~${x}/forced_scaling`,
];

const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('GET', 'POST') },
  { weight: 2, arbitrary: fc.constantFrom('PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'PROPFIND', 'TRACE', 'MKCOL', 'PURGE') },
  { weight: 1, arbitrary: fc.constantFrom('FOO', 'get', 'G\u00c9T', 'BREW') },
);

/** Header values as bytes: printable ASCII, obs-text (0x80-0xFF, invalid UTF-8) or control characters. */
const headerValue = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 30 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a).toString('latin1')) },
);
const HEADER_NAMES = ['origin', 'sec-fetch-site', 'x-request-id', 'x-forwarded-host', 'x-forwarded-for', 'x-forwarded-user', 'x-forwarded-groups', 'cookie', 'accept', 'content-type', 'x-batchiepatchie-notify-secret', 'authorization'];
const headers = fc.array(fc.tuple(fc.constantFrom(...HEADER_NAMES), headerValue), { maxLength: 3 });

/** Event-shaped JSON with leaves of any type (wrong-typed nested fields). */
const leaf = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }));
const event = fc.record(
  {
    'detail-type': fc.oneof(fc.constant('Batch Job State Change'), leaf),
    source: fc.oneof(fc.constant('aws.batch'), leaf),
    time: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), leaf),
    detail: fc.record(
      {
        jobId: fc.oneof(fc.uuid(), leaf),
        jobName: fc.oneof(fc.constant('fuzz-job'), leaf),
        jobQueue: fc.oneof(fc.constant('arn:aws:batch:us-east-1:1:job-queue/fuzz-q'), leaf),
        status: fc.oneof(fc.constantFrom('RUNNING', 'SUCCEEDED', 'FAILED', 'GONE'), leaf),
        createdAt: fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), leaf),
        startedAt: leaf,
        stoppedAt: leaf,
        attempts: fc.oneof(fc.array(fc.record({ exitCode: leaf, container: leaf }, { requiredKeys: [] }), { maxLength: 2 }), leaf),
        container: fc.oneof(fc.record({ exitCode: leaf, reason: leaf, logStreamName: leaf, vcpus: leaf, memory: leaf }, { requiredKeys: [] }), leaf),
        arrayProperties: fc.oneof(fc.record({ size: leaf, index: leaf, statusSummary: leaf }, { requiredKeys: [] }), leaf),
        parameters: leaf,
        dependsOn: leaf,
        statusReason: leaf,
        jobDefinition: leaf,
        jobArn: leaf,
        platformCapabilities: leaf,
        timeout: leaf,
        tags: leaf,
        retryStrategy: leaf,
        nodeProperties: leaf,
        nodeDetails: leaf,
        ecsProperties: leaf,
        eksProperties: leaf,
        containerEnv: fc.record({ environment: leaf, resourceRequirements: leaf, command: leaf, image: leaf, logConfiguration: leaf, taskArn: leaf }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    ).map(({ containerEnv, ...d }) => (containerEnv && d.container === undefined ? { ...d, container: containerEnv } : d)),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  fc.json({ maxDepth: 3 }),
  event.map((e) => JSON.stringify(e)),
  fc.array(event, { maxLength: 3 }).map((e) => JSON.stringify(e)),
  fc.record({ ids: fc.array(fc.oneof(fc.uuid(), leaf), { maxLength: 3 }), reason: fc.oneof(text, leaf) }, { requiredKeys: [] }).map((b) => JSON.stringify(b)),
  fc.record({ enabled: leaf }).map((b) => JSON.stringify(b)),
  text,
);
const contentType = fc.constantFrom('application/json', 'text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/json; charset=latin1', '');

type Auth = [string, string][];

/** Reads: mostly as a viewer (past the auth check, into the handlers), sometimes anonymous or with a bad token. */
const readRequest = fc.record({
  method,
  path: fc.tuple(fc.integer({ min: 0, max: READ_PATHS.length - 1 }), idPart).map(([i, x]) => READ_PATHS[i](x)),
  query,
  headers,
  auth: fc.oneof(
    { weight: 4, arbitrary: fc.constant<Auth>([['Authorization', `Bearer ${VIEWER}`]]) },
    { weight: 1, arbitrary: fc.constant<Auth>([]) },
    { weight: 1, arbitrary: headerValue.map((v): Auth => [['Authorization', `Bearer ${v}`]]) },
  ),
  body: fc.option(body, { nil: undefined }),
  contentType,
});

/** Writes: mostly POSTed JSON by whoever may make it, so that the bodies reach the validation and the handlers. */
const writeRequest = fc.record({
  method: fc.oneof({ weight: 5, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: method }),
  target: fc.oneof(
    fc.constant({ path: '/api/v1/jobs/notify', auth: [['X-Batchiepatchie-Notify-Secret', NOTIFY]] as Auth }),
    fc.constant({ path: '/api/v1/jobs/kill', auth: [['Authorization', `Bearer ${OPERATOR}`]] as Auth }),
    fc.tuple(fc.integer({ min: 2, max: WRITE_PATHS.length - 1 }), urlPart).map(([i, x]) => ({ path: WRITE_PATHS[i](x), auth: [['Authorization', `Bearer ${OPERATOR}`]] as Auth })),
    fc.tuple(fc.integer({ min: 0, max: WRITE_PATHS.length - 1 }), urlPart, fc.constantFrom<Auth>([], [['Authorization', `Bearer ${VIEWER}`]])).map(([i, x, auth]) => ({ path: WRITE_PATHS[i](x), auth })),
  ),
  query,
  headers,
  body: fc.oneof({ weight: 6, arbitrary: body }, { weight: 1, arbitrary: fc.constant(undefined) }),
  contentType: fc.oneof({ weight: 4, arbitrary: fc.constant('application/json') }, { weight: 2, arbitrary: contentType }),
}).map(({ target, ...r }) => ({ ...r, path: target.path, auth: target.auth }));

function toBytes(r: { method: string; path: string; query: string; headers: [string, string][]; auth: [string, string][]; body?: string; contentType: string }): Buffer {
  const payload = r.body === undefined ? null : Buffer.from(r.body, 'utf8');
  const lines = [`${r.method} ${r.path}${r.query} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  for (const [name, value] of [...r.auth, ...r.headers]) lines.push(`${name}: ${value}`);
  if (payload) {
    if (r.contentType) lines.push(`Content-Type: ${r.contentType}`);
    lines.push(`Content-Length: ${payload.length}`);
  }
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload ?? Buffer.alloc(0)]);
}

/** What must never reach a client: stack frames, source paths, driver and system messages. */
const INTERNALS = [/\n\s+at /, /\/work\//, /node_modules/, /\.ts:\d+/, /ECONNREFUSED|ECONNRESET|ETIMEDOUT/, /syntax error at or near/, /violates .* constraint/, /invalid byte sequence/, /relation ".*" does not exist/, /TypeError|ReferenceError/];

describe('API: property-based fuzzing of every route', function () {
  this.timeout(180_000);
  let sim: SimulatorHandle;
  let tdb: TestDatabase;
  let t: TestApi;
  let pipeline: PipelineQueuesInternal;
  const redis = testRedisPrefix();
  const failures: string[] = [];

  /** Every row of the tables a request could change, in one comparable text. */
  async function snapshot(): Promise<string> {
    const tables = ['jobs', 'activated_job_queues', 'instances', 'task_arns_to_instance_info'];
    const parts = await Promise.all(
      tables.map(async (table) => {
        const { rows } = await tdb.db.raw(`SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '') AS s FROM ${table} t`);
        return `${table}:${rows[0].s}`;
      }),
    );
    return parts.join('\n');
  }

  before(async () => {
    sim = await startSimulator({ port: 0, clock: 'manual', scenario: 'empty' });
    sim.model.createComputeEnvironment({ name: 'ce-fuzz', instances: 1 });
    sim.model.createJobQueue({ name: 'fuzz-q', computeEnvironments: ['ce-fuzz'] });
    tdb = await createTestDatabase();
    await insertJobs(tdb.db, [job({ job_id: JOB_ID, job_queue: 'fuzz-q' }), job({ job_id: CHILD_ID, job_queue: 'fuzz-q', array_parent_id: JOB_ID, array_index: 3 })]);
    await tdb.db('activated_job_queues').insert({ job_queue: 'fuzz-q' });
    pipeline = openPipelineQueues(configWith({ ...tdb.config, redis_prefix: redis.prefix }));
    t = await startTestApi({
      tdb,
      config: {
        aws_endpoint: sim.endpoint,
        redis_prefix: redis.prefix,
        auth_mode: 'tokens',
        auth_tokens: [
          { name: 'viewer', role: 'viewer', token: VIEWER },
          { name: 'operator', role: 'operator', token: OPERATOR },
        ],
        notify_secret: NOTIFY,
      },
      deps: { pipeline },
    });
  });
  after(async () => {
    await t.close();
    await pipeline.close();
    await redis.cleanup();
    await tdb.drop();
    await sim.stop();
  });

  async function check(r: Parameters<typeof toBytes>[0]): Promise<void> {
    const res = await send(t.url, toBytes(r));
    const where = `${r.method} ${r.path}${r.query} -> ${res.status} ${res.body.slice(0, 200)}`;
    if (res.status === 0 || res.status >= 500) failures.push(where);
    expect(res.status, where).to.be.within(100, 499);
    if (res.status >= 400 && r.method !== 'HEAD') {
      expect(res.headers['content-type'], where).to.match(/^application\/json/);
      const parsed = JSON.parse(res.body) as { error?: unknown };
      expect(parsed.error, where).to.be.a('string');
    }
    if (res.status >= 400) for (const pattern of INTERNALS) expect(res.body, where).not.to.match(pattern);
  }

  it('reads, by anyone: never a 5xx, every error JSON without internals, no row changed', async () => {
    const before = await snapshot();
    await fc.assert(fc.asyncProperty(readRequest, check), { numRuns: 400 });
    expect(await snapshot()).to.equal(before);
  });

  it('writes, by viewers, operators and the notify hook: never a 5xx, no row changed', async () => {
    const before = await snapshot();
    await fc.assert(fc.asyncProperty(writeRequest, check), { numRuns: 400 });
    expect(await snapshot()).to.equal(before);
  });
});
