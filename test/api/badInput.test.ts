/**
 * Hostile and malformed input, endpoint by endpoint: every case gets a 4xx
 * with a JSON error, none a 5xx, and nothing in the database changes.
 */
import http from 'node:http';
import { expect } from 'chai';
import type { PipelineIngest } from '../../src/api/deps';
import { getJson, insertJobs, job, startTestApi, type TestApi } from './helpers';

const JOB_ID = 'cafe0000-0000-4000-8000-000000000001';
const NOW = Math.floor(Date.now() / 1000);
const enc = encodeURIComponent;

const HOSTILE_STRINGS = [
  "' OR 1=1 --",
  '"; DROP TABLE jobs; --',
  '1); SELECT pg_sleep(10); --',
  '../../../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '💥🔥',
  '\u202Eevil\u200B',
  'null\u0000byte',
  '%',
  'x'.repeat(5000),
];

interface Case {
  name: string;
  method?: 'GET' | 'POST';
  path: string;
  body?: string;
  contentType?: string;
}

function queryCases(): Case[] {
  const cases: Case[] = [];
  const search = (q: string, name: string) => cases.push({ name: `search ${name}`, path: `/api/v1/jobs?${q}` });
  for (const v of HOSTILE_STRINGS) {
    search(`sortColumn=${enc(v)}`, `sortColumn=${v.slice(0, 20)}`);
    search(`sortDirection=${enc(v)}`, `sortDirection=${v.slice(0, 20)}`);
    search(`dateRange=${enc(v)}`, `dateRange=${v.slice(0, 20)}`);
    search(`status=${enc(v)}`, `status=${v.slice(0, 20)}`);
    search(`page=${enc(v)}`, `page=${v.slice(0, 20)}`);
    if (v.length > 100 || /[^A-Za-z0-9_-]/.test(v)) search(`queue=${enc(v)}`, `queue=${v.slice(0, 20)}`);
  }
  for (const page of ['-1', '1.5', '1e3', 'abc', '', ' 1', '9999999', '0x10']) search(`page=${enc(page)}`, `page=${page}`);
  for (const col of ['job_id', 'created_at', 'last_updated DESC', 'ID', 'random()']) search(`sortColumn=${enc(col)}`, `sortColumn=${col}`);
  for (const dir of ['up', 'ASCENDING', '1', '']) search(`sortDirection=${enc(dir)}`, `sortDirection=${dir}`);
  for (const range of ['5y', '1w', '24h', '30D', '0d']) search(`dateRange=${enc(range)}`, `dateRange=${range}`);
  search('status=RUNNING,BOGUS', 'one bad status in a list');
  search('page=1&page=2', 'duplicated page');
  search(`q=${enc('x'.repeat(1001))}`, 'q too long');
  search(`q=${enc(Array.from({ length: 21 }, (_, i) => `w${i}`).join(' '))}`, 'too many words');
  for (const q of ['reason:', 'cmd:', 'etl REASON:', 'reason: OutOfMemory', 'cmd:x cmd:']) search(`q=${enc(q)}`, `q=${q} (a prefix without its word)`);
  search(`queue=${Array.from({ length: 201 }, (_, i) => `q${i}`).join(',')}`, 'too many queues');

  const stats = (q: string, name: string) => cases.push({ name: `stats ${name}`, path: `/api/v1/jobs/stats?${q}` });
  stats('', 'no start/end');
  stats(`start=${NOW}`, 'no end');
  stats(`start=${NOW}&end=${NOW}`, 'start = end');
  stats(`start=${NOW}&end=${NOW - 60}`, 'start > end');
  stats(`start=${NOW * 1000}&end=${NOW * 1000 + 1}`, 'milliseconds');
  stats(`start=-5&end=${NOW}`, 'negative');
  stats(`start=1.5&end=${NOW}`, 'fraction');
  stats(`start=${NOW - 60}&end=${NOW}&status=NOPE`, 'bad status');
  for (const v of HOSTILE_STRINGS) {
    stats(`start=${enc(v)}&end=${NOW}`, `start=${v.slice(0, 20)}`);
    stats(`start=${NOW - 60}&end=${NOW}&queue=${enc(v)}`, `queue=${v.slice(0, 20)}`);
  }

  for (const v of HOSTILE_STRINGS.filter((s) => !s.startsWith('..'))) {
    for (const suffix of ['', '/status', '/children', '/logs?format=text']) {
      cases.push({ name: `job id ${v.slice(0, 20)}${suffix}`, path: `/api/v1/jobs/${enc(v)}${suffix}` });
    }
  }
  cases.push({ name: 'job id too long', path: `/api/v1/jobs/${'a'.repeat(65)}` });
  for (const format of ['', 'json', 'TEXT', "text' OR 1=1", 'x'.repeat(3000)]) {
    cases.push({ name: `logs format=${format.slice(0, 20)}`, path: `/api/v1/jobs/${JOB_ID}/logs?format=${enc(format)}` });
  }
  cases.push({ name: 'logs without format', path: `/api/v1/jobs/${JOB_ID}/logs` });
  cases.push({ name: 'logs format twice', path: `/api/v1/jobs/${JOB_ID}/logs?format=text&format=text` });
  return cases;
}

function bodyCases(): Case[] {
  const cases: Case[] = [];
  const post = (path: string, name: string, body: string, contentType = 'application/json') =>
    cases.push({ name, method: 'POST', path, body, contentType });
  const kill = '/api/v1/jobs/kill';
  const bodies: [string, string][] = [
    ['malformed JSON', '{"ids": ['],
    ['empty body', ''],
    ['JSON string', '"x"'],
    ['JSON number', '42'],
    ['JSON null', 'null'],
    ['top-level array', `["${JOB_ID}"]`],
    ['ids a string', `{"ids": "${JOB_ID}"}`],
    ['ids empty', '{"ids": []}'],
    ['ids numbers', '{"ids": [1, 2]}'],
    ['ids null', '{"ids": [null]}'],
    ['ids objects', '{"ids": [{"$ne": 1}]}'],
    ['id too long', JSON.stringify({ ids: ['a'.repeat(65)] })],
    ['too many ids', JSON.stringify({ ids: Array.from({ length: 1001 }, (_, i) => `id-${i}`) })],
    ['unknown field', JSON.stringify({ ids: [JOB_ID], force: true })],
    ['typo field', JSON.stringify({ id: [JOB_ID] })],
    ['__proto__', `{"__proto__": {"ids": ["${JOB_ID}"]}}`],
    ['deep nesting', `${'['.repeat(5000)}${']'.repeat(5000)}`],
    ['2 MB body', JSON.stringify({ ids: [JOB_ID], pad: 'x'.repeat(2 * 1024 * 1024) })],
  ];
  for (const v of HOSTILE_STRINGS) bodies.push([`id ${v.slice(0, 20)}`, JSON.stringify({ ids: [v] })]);
  for (const [name, body] of bodies) post(kill, `kill: ${name}`, body);
  // A text/plain JSON body is read (the Go UI sends kill that way): see crossSite.test.ts.
  post(kill, 'kill: text/plain, malformed', '{"ids": [', 'text/plain');
  post(kill, 'kill: form', `ids=${JOB_ID}`, 'application/x-www-form-urlencoded');

  const fs = '/api/v1/job_queues/bad-q-activated/forced_scaling';
  for (const [name, body] of [
    ['malformed', '{'],
    ['missing enabled', '{}'],
    ['string', '{"enabled": "yes"}'],
    ['number', '{"enabled": 1}'],
    ['null', '{"enabled": null}'],
    ['extra field', '{"enabled": true, "x": 1}'],
  ] as const) {
    post(fs, `forced_scaling: ${name}`, body);
  }
  post('/api/v1/job_queues/not-activated-queue/forced_scaling', 'forced_scaling: queue not activated (404)', '{"enabled": true}');
  for (const v of HOSTILE_STRINGS.filter((s) => !s.startsWith('..'))) {
    for (const action of ['activate', 'deactivate', 'forced_scaling']) {
      post(`/api/v1/job_queues/${enc(v)}/${action}`, `${action} queue ${v.slice(0, 20)}`, '{"enabled": true}');
    }
  }
  post(`/api/v1/job_queues/${'q'.repeat(129)}/activate`, 'activate: name too long', '');

  const notify = '/api/v1/jobs/notify';
  const event = (patch: Record<string, unknown>, detailPatch: Record<string, unknown> = {}) =>
    JSON.stringify({
      'detail-type': 'Batch Job State Change',
      source: 'aws.batch',
      detail: { jobId: JOB_ID, jobName: 'n', jobQueue: 'arn:aws:batch:us-east-1:1:job-queue/q', status: 'RUNNING', ...detailPatch },
      ...patch,
    });
  // An event without a job name ({} or no detail at all) is skipped with a 202, as the Go original did (test/api/notify.test.ts).
  for (const [name, body] of [
    ['malformed', '{"detail-type":'],
    ['empty array', '[]'],
    ['wrong detail-type', event({ 'detail-type': 'EC2 Instance State-change Notification' })],
    ['wrong source', event({ source: 'aws.ec2' })],
    ['jobId missing', event({}, { jobId: undefined })],
    ['detail a string', event({ detail: 'x' })],
    ['bad status', event({}, { status: 'EXPLODED' })],
    ['GONE status', event({}, { status: 'GONE' })],
    ['jobId SQL', event({}, { jobId: "'; DROP TABLE jobs; --" })],
    ['jobId number', event({}, { jobId: 12 })],
    ['jobQueue missing', event({}, { jobQueue: undefined })],
    ['too many events', `[${Array.from({ length: 1001 }, () => event({})).join(',')}]`],
    ['one bad in an array', `[${event({})},${event({}, { status: 'NOPE' })}]`],
    ['9 MB', JSON.stringify([JSON.parse(event({ pad: 'x'.repeat(9 * 1024 * 1024) }))])],
  ] as const) {
    post(notify, `notify: ${name}`, body);
  }
  return cases;
}

/** A digest of everything the API could change. */
async function snapshot(t: TestApi): Promise<string> {
  const jobs = await t.db.raw(`SELECT md5(string_agg(j::text, ',' ORDER BY job_id)) AS h, count(*) AS n FROM jobs j`);
  const queues = await t.db('activated_job_queues').orderBy('job_queue');
  return JSON.stringify({ jobs: jobs.rows[0], queues });
}

describe('API: bad input sweep', function () {
  this.timeout(120_000);
  let t: TestApi;
  const received: unknown[] = [];
  const pipeline: PipelineIngest = {
    queues: [],
    async enqueueJobEvents(events) {
      received.push(...events);
      return { accepted: events.length, skipped: 0 };
    },
  };

  before(async () => {
    t = await startTestApi({ deps: { pipeline } });
    await insertJobs(t.db, [job({ job_id: JOB_ID, job_queue: 'bad-q-activated' })]);
    await t.db('activated_job_queues').insert({ job_queue: 'bad-q-activated' });
  });
  after(async () => t.close());

  for (const [group, make] of [['query and path', queryCases], ['bodies', bodyCases]] as const) {
    it(`${group}: every case is a JSON 4xx and changes nothing`, async () => {
      const before = await snapshot(t);
      const failures: string[] = [];
      for (const c of make()) {
        const res = await getJson(`${t.url}${c.path}`, {
          method: c.method ?? 'GET',
          headers: c.contentType ? { 'content-type': c.contentType } : {},
          body: c.body,
        });
        const isJsonError = typeof res.body === 'object' && res.body !== null && typeof res.body.error === 'string';
        if (process.env.SWEEP_DEBUG) console.log(res.status, c.name.slice(0, 40), JSON.stringify(res.body).slice(0, 100));
        if (res.status < 400 || res.status > 499 || !isJsonError) {
          failures.push(`${c.name}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
        }
      }
      expect(failures, failures.join('\n')).to.deep.equal([]);
      expect(await snapshot(t)).to.equal(before);
      expect(received).to.deep.equal([]);
    });
  }

  it('the 400 names the parameter that was wrong', async () => {
    const expectations: [string, string][] = [
      ['/api/v1/jobs?sortColumn=job_id', 'sortColumn'],
      ['/api/v1/jobs?sortDirection=sideways', 'sortDirection'],
      ['/api/v1/jobs?page=-1', 'page'],
      ['/api/v1/jobs?dateRange=5y', 'dateRange'],
      ['/api/v1/jobs?status=RUNNING,BOGUS', 'status'],
      ['/api/v1/jobs?queue=ok,not%20ok', 'queue'],
      ['/api/v1/jobs?page=1&page=2', 'page'],
      ['/api/v1/jobs?q=reason%3A', 'q'],
      ['/api/v1/jobs/count?q=etl+cmd%3A', 'q'],
      [`/api/v1/jobs/stats?start=x&end=${NOW}`, 'start'],
      [`/api/v1/jobs/stats?start=${NOW - 60}`, 'end'],
      [`/api/v1/jobs/stats?start=${NOW}&end=${NOW - 60}`, 'start'],
      [`/api/v1/jobs/${JOB_ID}/logs`, 'format'],
      ['/api/v1/jobs/bad%20id', 'id'],
    ];
    for (const [path, parameter] of expectations) {
      const res = await getJson(`${t.url}${path}`);
      expect(res.status, path).to.equal(400);
      expect(res.body.parameter, path).to.equal(parameter);
      expect(res.body.error, path).to.match(new RegExp(`^${parameter}: `));
    }
    const kill = await getJson(`${t.url}/api/v1/jobs/kill`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ids: ['ok-id', 'not ok'] }),
    });
    expect(kill.status).to.equal(400);
    expect(kill.body).to.deep.equal({ error: 'ids: not a job id (at ids.1)', parameter: 'ids' });
  });

  it('static files: traversal never leaves the asset root', async () => {
    const paths = ['/../../../../etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2f..%2fetc%2fpasswd', '/assets/../../package.json', '/%00', '/.env'];
    for (const p of paths) {
      const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = http.request(`${t.url}${p}`, { method: 'GET' }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(status, p).to.be.within(400, 499);
      expect(text, p).to.not.match(/root:|"name": "batchiepatchie"/);
    }
  });

  it('a URL too long for Node is refused before the app, still 4xx', async () => {
    const res = await fetch(`${t.url}/api/v1/jobs?q=${'x'.repeat(20_000)}`);
    expect(res.status).to.be.within(400, 499);
  });
});
