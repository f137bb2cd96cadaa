/**
 * The endpoints that call AWS, against the simulator through the real SDK
 * clients: logs (new-style stream, custom group, old-style prefix, none,
 * 100,000 lines streamed with back-pressure), kill, queue listing, and the
 * UI's index.html from S3.
 */
import http from 'node:http';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'chai';
import { DescribeJobsCommand } from '@aws-sdk/client-batch';
import { createAwsClients, type AwsClients } from '../../src/aws/clients';
import { awsMetrics } from '../../src/aws/metrics';
import { mapJobDetail } from '../../src/pipeline/mapping';
import { startSimulator, type CallRecord, type SimulatorHandle } from 'aws-batch-simulator';
import { getJob } from '../../src/store/jobs/lookups';
import { getJson, insertJobs, job, postJson, startTestApi, type TestApi } from './helpers';

const LOG_GROUP = '/aws/batch/job';

/** The most calls open at the same moment (a call ending at the instant another starts does not overlap it). */
function maxOverlap(calls: CallRecord[]): number {
  const edges = calls.flatMap((c) => [
    [c.startedAt, 1],
    [c.endedAt, -1],
  ]);
  edges.sort(([a, da], [b, db]) => a - b || da - db);
  let open = 0;
  let max = 0;
  for (const [, d] of edges) max = Math.max(max, (open += d));
  return max;
}

/** A real full GC without restarting node with --expose-gc. */
function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('API: endpoints backed by AWS (simulator)', function () {
  this.timeout(60_000);
  let sim: SimulatorHandle;
  let t: TestApi;
  let aws: AwsClients;

  const counter = (op: string) =>
    Object.entries(sim.counters.get())
      .filter(([k]) => k.endsWith(`.${op}`))
      .reduce((n, [, v]) => n + v, 0);

  /** Mirrors jobs the way the pipeline does: DescribeJobs → mapJobDetail → upsert. */
  async function mirror(ids: string[]): Promise<void> {
    const out = await aws.batch.send(new DescribeJobsCommand({ jobs: ids }));
    await insertJobs(t.db, (out.jobs ?? []).map(mapJobDetail));
  }

  before(async () => {
    sim = await startSimulator({ port: 0, clock: 'manual', scenario: 'empty' });
    sim.model.createComputeEnvironment({ name: 'ce-api', instances: 2 });
    sim.model.createJobQueue({ name: 'q-api', computeEnvironments: ['ce-api'] });
    t = await startTestApi({ config: { aws_endpoint: sim.endpoint } });
    aws = createAwsClients({ region: 'us-east-1', aws_endpoint: sim.endpoint, maxAttempts: 1 });
  });
  after(async () => {
    aws.destroy();
    await t.close();
    await sim.stop();
  });

  const logsOf = async (id: string) => {
    const res = await fetch(`${t.url}/api/v1/jobs/${id}/logs?format=text`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('text/plain; charset=utf-8');
    return res.text();
  };

  describe('GET /api/v1/jobs/:id/logs?format=text', () => {
    it('follows the job log_stream_name, one event per line', async () => {
      const { jobId } = sim.model.submitJob({
        jobName: 'logger',
        jobQueue: 'q-api',
        plan: { runSeconds: 10, logLines: ['first line', 'second line', 'third: ünïcødé ✓'] },
      });
      sim.model.advance(120_000);
      await mirror([jobId]);
      const row = await getJob(t.db, jobId);
      expect(row?.status).to.equal('SUCCEEDED');
      expect(row?.log_stream_name).to.be.a('string');
      expect(await logsOf(jobId)).to.equal('first line\nsecond line\nthird: ünïcødé ✓\n');
    });

    it('reads from log_group_name when the job names its own group', async () => {
      const id = 'a0000000-0000-4000-8000-00000000c001';
      sim.model.logs.append('/custom/group', 'custom/stream/1', sim.model.now(), 'from the custom group', sim.model.now());
      await insertJobs(t.db, [job({ job_id: id, log_group_name: '/custom/group', log_stream_name: 'custom/stream/1' })]);
      expect(await logsOf(id)).to.equal('from the custom group\n');
    });

    it('falls back to the old `<name cut to 50>/<id>/` prefix without a stream name', async () => {
      const id = 'a0000000-0000-4000-8000-00000000c002';
      const name = `a-very-long-job-name-${'x'.repeat(60)}`;
      const now = sim.model.now();
      sim.model.logs.append(LOG_GROUP, `${name.slice(0, 50)}/${id}/0123abcd`, now, 'old style 1', now);
      sim.model.logs.append(LOG_GROUP, `${name.slice(0, 50)}/${id}/0123abcd`, now, 'old style 2', now);
      await insertJobs(t.db, [job({ job_id: id, job_name: name, log_stream_name: null })]);
      expect(await logsOf(id)).to.equal('old style 1\nold style 2\n');
    });

    it('tries the old prefix too when the recorded stream does not exist', async () => {
      const id = 'a0000000-0000-4000-8000-00000000c006';
      const now = sim.model.now();
      sim.model.logs.append(LOG_GROUP, `moved-job/${id}/feedbeef`, now, 'found by prefix', now);
      await insertJobs(t.db, [job({ job_id: id, job_name: 'moved-job', log_stream_name: 'def/default/gone-stream' })]);
      expect(await logsOf(id)).to.equal('found by prefix\n');
    });

    it('answers an empty body when there is no log', async () => {
      const none = 'a0000000-0000-4000-8000-00000000c003';
      const missing = 'a0000000-0000-4000-8000-00000000c004';
      await insertJobs(t.db, [
        job({ job_id: none, job_name: 'never-logged' }),
        job({ job_id: missing, log_stream_name: 'def/default/does-not-exist' }),
      ]);
      expect(await logsOf(none)).to.equal('');
      expect(await logsOf(missing)).to.equal('');
    });

    it('a CloudWatch failure before the first byte is a JSON 502', async () => {
      const id = 'a0000000-0000-4000-8000-00000000c005';
      await insertJobs(t.db, [job({ job_id: id, log_stream_name: 'custom/stream/1', log_group_name: '/custom/group' })]);
      sim.faults.set({ errorRate: 1, operations: ['Logs.GetLogEvents'] });
      try {
        const res = await getJson(`${t.url}/api/v1/jobs/${id}/logs?format=text`);
        expect(res.status).to.equal(502);
        expect(res.body.error).to.match(/^CloudWatch Logs GetLogEvents failed/);
      } finally {
        sim.faults.clear();
      }
    });

    it('streams 100,000 lines page by page with back-pressure and bounded memory', async () => {
      const id = 'a0000000-0000-4000-8000-00000000c100';
      const stream = 'big/default/100k';
      const now = sim.model.now();
      const LINES = 100_000;
      for (let i = 0; i < LINES; i++) sim.model.logs.append(LOG_GROUP, stream, now + i, `line ${String(i).padStart(6, '0')} ${'x'.repeat(90)}`, now);
      await insertJobs(t.db, [job({ job_id: id, log_stream_name: stream })]);
      const pages = Math.ceil(LINES / 10_000) + 1; // the last call returns the same token: the end
      sim.counters.reset();
      const gc = exposeGc();
      gc();
      const heapBefore = process.memoryUsage().heapUsed;
      let heapWhilePaused = 0;

      const result = await new Promise<{ lines: number; callsAtFirstByte: number; callsWhilePaused: number; ordered: boolean }>((resolve, reject) => {
        http.get(`${t.url}/api/v1/jobs/${id}/logs?format=text`, (res) => {
          let lines = 0;
          let tail = '';
          let expected = 0;
          let ordered = true;
          let callsAtFirstByte = -1;
          let callsWhilePaused = -1;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (callsAtFirstByte < 0) {
              callsAtFirstByte = counter('GetLogEvents');
              // Stop reading for a while: a streaming server stops fetching pages.
              res.pause();
              setTimeout(() => {
                callsWhilePaused = counter('GetLogEvents');
                gc();
                heapWhilePaused = process.memoryUsage().heapUsed;
                res.resume();
              }, 500);
            }
            const parts = (tail + chunk).split('\n');
            tail = parts.pop() ?? '';
            for (const line of parts) {
              if (!line.startsWith(`line ${String(expected).padStart(6, '0')} `)) ordered = false;
              expected += 1;
              lines += 1;
            }
          });
          res.on('end', () => resolve({ lines, callsAtFirstByte, callsWhilePaused, ordered }));
          res.on('error', reject);
        }).on('error', reject);
      });

      if (process.env.LOGS_DEBUG) console.log(result, counter('GetLogEvents'), (heapWhilePaused - heapBefore) / 1e6);
      expect(result.lines).to.equal(LINES);
      expect(result.ordered, 'lines in order, none lost').to.equal(true);
      expect(counter('GetLogEvents')).to.equal(pages);
      expect(result.callsAtFirstByte, 'first bytes before the last page is fetched').to.be.below(pages);
      expect(result.callsWhilePaused, 'no page fetched far ahead of the reader').to.be.below(pages - 2);
      // Live heap mid-stream (after a GC): the log is ~10 MB of text, more as SDK objects; a
      // server holding it all would show that here. The simulator, API and client share this heap.
      expect(heapWhilePaused - heapBefore, 'live heap growth mid-stream').to.be.below(12 * 1024 * 1024);
    });
  });

  describe('GET /api/v1/jobs/:id/logs?format=text&after=<token> (follow)', () => {
    const chunk = async (id: string, after: string, extra = '') => {
      const res = await fetch(`${t.url}/api/v1/jobs/${id}/logs?format=text&after=${encodeURIComponent(after)}${extra}`);
      expect(res.status).to.equal(200);
      return { text: await res.text(), token: res.headers.get('x-next-forward-token'), more: res.headers.get('x-log-more') };
    };

    it('reads from the head, then only the events written since, one GetLogEvents call per poll', async () => {
      const id = 'a0000000-0000-4000-8000-00000000c200';
      const stream = 'follow/default/1';
      const now = sim.model.now();
      sim.model.logs.append(LOG_GROUP, stream, now, 'one', now);
      sim.model.logs.append(LOG_GROUP, stream, now, 'two', now);
      await insertJobs(t.db, [job({ job_id: id, log_stream_name: stream })]);

      const first = await chunk(id, '');
      expect(first.text).to.equal('one\ntwo\n');
      expect(first.more, 'the first chunk is one page: maybe more').to.equal('true');
      expect(first.token).to.be.a('string');

      sim.counters.reset();
      const idle = await chunk(id, first.token as string);
      expect(idle.more).to.equal('false');
      expect(idle.text, 'nothing new: nothing sent').to.equal('');
      expect(idle.token).to.equal(first.token);
      expect(counter('GetLogEvents')).to.equal(1);

      sim.model.logs.append(LOG_GROUP, stream, now + 1, 'three', now);
      const next = await chunk(id, idle.token as string);
      expect(next.text).to.equal('three\n');
      expect(next.token).to.not.equal(first.token);
      expect((await chunk(id, next.token as string)).text).to.equal('');
    });

    it('sends one page first, then stops each chunk at its size bound and says more is there', async () => {
      const id = 'a0000000-0000-4000-8000-00000000c201';
      const stream = 'follow/default/big';
      const now = sim.model.now();
      const LINES = 60_000; // ~6 MB: 1,000 lines first, then 4 MB, then the rest
      for (let i = 0; i < LINES; i++) sim.model.logs.append(LOG_GROUP, stream, now + i, `l${i} ${'z'.repeat(95)}`, now);
      await insertJobs(t.db, [job({ job_id: id, log_stream_name: stream })]);
      let token = '';
      let lines = 0;
      let chunks = 0;
      for (;;) {
        const c = await chunk(id, token);
        chunks += 1;
        const got = c.text.split('\n').filter(Boolean);
        if (got.length) expect(got[0]).to.match(new RegExp(`^l${lines} `));
        if (chunks === 1) expect(got.length, 'a first look: 1,000 events').to.equal(1000);
        lines += got.length;
        token = c.token as string;
        if (c.more === 'false') break;
      }
      expect(lines).to.equal(LINES);
      expect(chunks, '1,000 lines, then 4 MB, then the rest').to.be.within(3, 4);
    });

    it('prefixes each line with its CloudWatch timestamp on request, a multi-line event on each line', async () => {
      const id = 'a0000000-0000-4000-8000-00000000c202';
      const stream = 'follow/default/ts';
      sim.model.logs.append(LOG_GROUP, stream, 1_700_000_000_123, 'single', 0);
      sim.model.logs.append(LOG_GROUP, stream, 1_700_000_001_000, 'multi\nline', 0);
      await insertJobs(t.db, [job({ job_id: id, log_stream_name: stream })]);
      expect((await chunk(id, '', '&timestamps=true')).text).to.equal(
        '1700000000123\tsingle\n1700000001000\tmulti\n1700000001000\tline\n',
      );
      const res = await fetch(`${t.url}/api/v1/jobs/${id}/logs?format=text&timestamps=true`);
      expect(await res.text()).to.equal('1700000000123\tsingle\n1700000001000\tmulti\n1700000001000\tline\n');
    });

    it('answers no token and no text while the job has no stream, and 400 for a token CloudWatch refuses', async () => {
      const id = 'a0000000-0000-4000-8000-00000000c203';
      const stream = 'follow/default/bad';
      sim.model.logs.append(LOG_GROUP, stream, 1, 'x', 0);
      await insertJobs(t.db, [job({ job_id: id, log_stream_name: stream }), job({ job_id: 'a0000000-0000-4000-8000-00000000c204', job_name: 'silent' })]);
      const none = await chunk('a0000000-0000-4000-8000-00000000c204', '');
      expect(none).to.deep.equal({ text: '', token: null, more: 'false' });
      const bad = await getJson(`${t.url}/api/v1/jobs/${id}/logs?format=text&after=not-a-token`);
      expect(bad.status).to.equal(400);
      expect(bad.body.parameter).to.equal('after');
      const badTs = await getJson(`${t.url}/api/v1/jobs/${id}/logs?format=text&timestamps=yes`);
      expect(badTs.status).to.equal(400);
      expect(badTs.body.parameter).to.equal('timestamps');
    });
  });

  describe('GET /api/v1/jobs/:id/aws', () => {
    it('reads attempts, dependencies and a multi-node job\'s nodes live from AWS Batch', async () => {
      const up = sim.model.submitJob({ jobName: 'aws-up', jobQueue: 'q-api', plan: { runSeconds: 3600 } }).jobId;
      const down = sim.model.submitJob({ jobName: 'aws-down', jobQueue: 'q-api', dependsOn: [up], plan: { runSeconds: 5 } }).jobId;
      const flaky = sim.model.submitJob({ jobName: 'aws-flaky', jobQueue: 'q-api', retryAttempts: 2, plan: { runSeconds: 5, failAttempts: 1, exitCode: 0 } }).jobId;
      const mnp = sim.model.submitJob({ jobName: 'aws-mnp', jobQueue: 'q-api', multiNode: true, numNodes: 2, plan: { runSeconds: 3600 } }).jobId;
      for (let i = 0; i < 6; i++) sim.model.advance(20_000);
      await mirror([up, down, flaky, mnp]);

      const d = await getJson(`${t.url}/api/v1/jobs/${down}/aws`);
      expect(d.status).to.equal(200);
      expect(d.body).to.include({ found: true, region: 'us-east-1' });
      expect(d.body.depends_on, "AWS's list, with the mirror's name and status").to.deep.equal([
        { job_id: up, type: null, name: 'aws-up', status: 'RUNNING', display_status: 'RUNNING' },
      ]);

      const f = await getJson(`${t.url}/api/v1/jobs/${flaky}/aws`);
      expect(f.body.attempts).to.have.length(2);
      expect(f.body.attempts[0].exit_code).to.not.equal(0);
      expect(f.body.attempts[1]).to.include({ exit_code: 0 });
      expect(f.body.attempts[1].log_stream_name).to.be.a('string');

      const m = await getJson(`${t.url}/api/v1/jobs/${mnp}/aws`);
      expect(m.body.nodes.num_nodes).to.equal(2);
      expect(m.body.nodes.list.map((n: { id: string }) => n.id)).to.deep.equal([`${mnp}#0`, `${mnp}#1`]);
    });

    it('says found: false for a job AWS has forgotten, 404 for an unknown one, 502 when AWS fails', async () => {
      const id = 'a0000000-0000-4000-8000-00000000c300';
      await insertJobs(t.db, [job({ job_id: id })]);
      const gone = await getJson(`${t.url}/api/v1/jobs/${id}/aws`);
      expect(gone.status).to.equal(200);
      expect(gone.body).to.deep.equal({ found: false, region: 'us-east-1', attempts: [], depends_on: [], nodes: null });
      expect((await getJson(`${t.url}/api/v1/jobs/a0000000-0000-4000-8000-00000000c399/aws`)).status).to.equal(404);
      sim.faults.set({ errorRate: 1, operations: ['Batch.DescribeJobs'] });
      try {
        const res = await getJson(`${t.url}/api/v1/jobs/${id}/aws`);
        expect(res.status).to.equal(502);
        expect(res.body.error).to.match(/^AWS Batch DescribeJobs failed/);
      } finally {
        sim.faults.clear();
      }
    });
  });

  describe('GET /api/v1/jobs/:id/logs: failure mid-stream', () => {
    it('cuts the connection so the client sees an incomplete body, not a clean end', async () => {
      const id = 'a0000000-0000-4000-8000-00000000c200';
      const stream = 'broken/default/30k';
      const now = sim.model.now();
      for (let i = 0; i < 30_000; i++) sim.model.logs.append(LOG_GROUP, stream, now + i, `row ${i} ${'y'.repeat(200)}`, now);
      await insertJobs(t.db, [job({ job_id: id, log_stream_name: stream })]);
      try {
        const outcome = await new Promise<{ lines: number; clean: boolean }>((resolve) => {
          http.get(`${t.url}/api/v1/jobs/${id}/logs?format=text`, (res) => {
            let lines = 0;
            let clean = false;
            let faulted = false;
            res.on('data', (chunk: Buffer) => {
              if (!faulted) {
                faulted = true;
                sim.faults.set({ errorRate: 1, operations: ['Logs.GetLogEvents'] });
              }
              for (const b of chunk) if (b === 10) lines += 1;
            });
            res.on('end', () => (clean = true));
            res.on('close', () => resolve({ lines, clean: clean && res.complete }));
          });
        });
        expect(outcome.lines).to.be.below(30_000);
        expect(outcome.clean, 'a truncated log must not look complete').to.equal(false);
      } finally {
        sim.faults.clear();
      }
    });
  });

  describe('POST /api/v1/jobs/kill', () => {
    it('terminates each job, answers OK or the real error per id, marks only the successes', async () => {
      const running = sim.model.submitJob({ jobName: 'to-kill-running', jobQueue: 'q-api', plan: { runSeconds: 3600 } }).jobId;
      sim.model.advance(60_000);
      const queued = sim.model.submitJob({ jobName: 'to-kill-queued', jobQueue: 'q-api' }).jobId;
      await mirror([running, queued]);
      expect((await getJob(t.db, running))?.status).to.equal('RUNNING');
      // Known to us, forgotten by AWS: TerminateJob fails for it.
      const forgotten = sim.model.submitJob({ jobName: 'forgotten', jobQueue: 'q-api' }).jobId;
      await mirror([forgotten]);
      sim.model.forgetJob(forgotten);
      const unknown = 'b0000000-0000-4000-8000-0000000000ff';

      const res = await postJson(`${t.url}/api/v1/jobs/kill`, { ids: [running, queued, forgotten, unknown] });
      expect(res.status).to.equal(200);
      expect(res.body[running]).to.equal('OK');
      expect(res.body[queued]).to.equal('OK');
      expect(res.body[forgotten]).to.equal(`Job ${forgotten} not found`);
      expect(res.body[unknown]).to.equal(`Job ${unknown} not found`);
      expect(Object.keys(res.body)).to.have.length(4);

      expect((await getJob(t.db, running))?.termination_requested).to.equal(true);
      expect((await getJob(t.db, queued))?.termination_requested).to.equal(true);
      expect((await getJob(t.db, forgotten))?.termination_requested).to.equal(false);
      expect(await getJob(t.db, unknown)).to.equal(null);
      sim.model.advance(5_000);
      expect(sim.model.getJob(running)?.status).to.equal('FAILED');
      expect(sim.model.getJob(running)?.statusReason).to.match(/^Terminated from Batchiepatchie/);
    });

    it("passes the user's reason to AWS Batch, which keeps it as the job's status reason", async () => {
      const id = sim.model.submitJob({ jobName: 'to-kill-with-reason', jobQueue: 'q-api' }).jobId;
      await mirror([id]);
      const res = await postJson(`${t.url}/api/v1/jobs/kill`, { ids: [id], reason: '  bad input file  ' });
      expect(res.body).to.deep.equal({ [id]: 'OK' });
      expect(sim.model.getJob(id)?.statusReason).to.equal('Terminated from Batchiepatchie: bad input file');
      const tooLong = await postJson(`${t.url}/api/v1/jobs/kill`, { ids: [id], reason: 'x'.repeat(501) });
      expect(tooLong.status).to.equal(400);
      expect(tooLong.body).to.deep.equal({ error: 'reason: at most 500 characters', parameter: 'reason' });
    });

    it('calls TerminateJob 8 at a time (docs/api.md), not one by one and not all at once', async () => {
      const ids = Array.from({ length: 40 }, (_, i) => sim.model.submitJob({ jobName: `bulk-${i}`, jobQueue: 'q-api' }).jobId);
      // Each call is held long enough that the next ones arrive while it is open, whatever the machine's load.
      sim.faults.set({ delayMs: 300, operations: ['Batch.TerminateJob'] });
      sim.counters.reset();
      try {
        const res = await postJson(`${t.url}/api/v1/jobs/kill`, { ids });
        expect(Object.values(res.body).every((v) => v === 'OK')).to.equal(true);
      } finally {
        sim.faults.clear();
      }
      const terminations = sim.counters.calls().filter((c) => c.operation === 'Batch.TerminateJob');
      expect(terminations).to.have.length(40);
      // The most calls the simulator had open at one moment: exactly the route's concurrency.
      expect(maxOverlap(terminations)).to.equal(8);
    });
  });

  describe('job queues', () => {
    it('all: every queue AWS knows, across pages', async () => {
      for (let i = 0; i < 130; i++) sim.model.createJobQueue({ name: `many-${String(i).padStart(3, '0')}`, computeEnvironments: ['ce-api'] });
      sim.counters.reset();
      const res = await getJson(`${t.url}/api/v1/job_queues/all`);
      expect(res.status).to.equal(200);
      expect(res.body).to.have.length(131);
      expect(res.body).to.include('q-api');
      expect(res.body).to.include('many-129');
      expect(counter('DescribeJobQueues')).to.equal(2);
    });

    it('all: an AWS failure is a JSON 502', async () => {
      sim.faults.set({ errorRate: 1, operations: ['Batch.DescribeJobQueues'] });
      try {
        const res = await getJson(`${t.url}/api/v1/job_queues/all`);
        expect(res.status).to.equal(502);
        expect(res.body.error).to.match(/^Batch DescribeJobQueues failed/);
      } finally {
        sim.faults.clear();
      }
    });

    it("the API's AWS calls are counted and rate-limited like the pipeline's (aws_calls_per_second)", async () => {
      const metric = async (m: typeof awsMetrics.awsCalls) =>
        (await m.get()).values.find((v) => v.labels.operation === 'Batch.DescribeJobQueues')?.value ?? 0;
      // One token a second, burst 1: of two requests at once, the second's call waits for the bucket.
      const slow = await startTestApi({ config: { aws_endpoint: sim.endpoint, aws_calls_per_second: 1 } });
      try {
        const [callsBefore, waitsBefore] = [await metric(awsMetrics.awsCalls), await metric(awsMetrics.awsThrottleWaits)];
        sim.counters.reset();
        const answers = await Promise.all([1, 2].map(() => getJson(`${slow.url}/api/v1/job_queues/all`)));
        expect(answers.map((a) => a.status)).to.deep.equal([200, 200]);
        const made = counter('DescribeJobQueues');
        expect(made).to.be.at.least(2);
        expect((await metric(awsMetrics.awsCalls)) - callsBefore).to.equal(made);
        expect((await metric(awsMetrics.awsThrottleWaits)) - waitsBefore).to.be.at.least(1);
      } finally {
        await slow.close();
      }
    });

    it('activate, deactivate, forced scaling, active and activated lists', async () => {
      const post = (path: string, body?: unknown) => postJson(`${t.url}/api/v1/job_queues/${path}`, body ?? {});
      expect((await post('q-api/activate')).body).to.deep.equal([]);
      expect((await post('q-api/activate')).status).to.equal(200); // idempotent
      expect((await post('many-001/activate')).status).to.equal(200);
      expect((await getJson(`${t.url}/api/v1/job_queues/active`)).body).to.deep.equal(['many-001', 'q-api']);
      expect((await post('q-api/forced_scaling', { enabled: true })).body).to.deep.equal({ job_queue: 'q-api', forced_scaling: true });
      expect((await getJson(`${t.url}/api/v1/job_queues/activated`)).body).to.deep.equal([
        { job_queue: 'many-001', forced_scaling: false },
        { job_queue: 'q-api', forced_scaling: true },
      ]);
      expect((await post('q-api/deactivate')).body).to.deep.equal([]);
      expect((await getJson(`${t.url}/api/v1/job_queues/active`)).body).to.deep.equal(['many-001']);
      expect((await post('q-api/forced_scaling', { enabled: false })).status).to.equal(404);
    });
  });

  describe('GET /api/v1/job_queues/details', () => {
    it("every queue with AWS's state, whether we mirror it, and its job counts (array parents not counted)", async () => {
      sim.model.createJobQueue({ name: 'q-off', computeEnvironments: ['ce-api'], state: 'DISABLED' });
      await t.db('activated_job_queues').insert({ job_queue: 'q-gone', forced_scaling: true }); // AWS no longer has it
      const now = Date.now();
      const hoursAgo = (h: number) => new Date(now - h * 3_600_000);
      await insertJobs(t.db, [
        job({ job_queue: 'q-off', status: 'RUNNING' }),
        job({ job_queue: 'q-off', status: 'RUNNING' }),
        job({ job_queue: 'q-off', status: 'RUNNABLE' }),
        job({ job_queue: 'q-off', status: 'FAILED', stopped_at: hoursAgo(2) }),
        job({ job_queue: 'q-off', status: 'FAILED', stopped_at: hoursAgo(30) }), // more than a day ago
        job({ job_queue: 'q-off', status: 'SUCCEEDED', stopped_at: hoursAgo(1) }),
        // An array parent and its child: only the child counts.
        job({ job_id: 'arr-parent-1', job_queue: 'q-off', status: 'RUNNING', array_properties: { size: 1 } }),
        job({ job_id: 'arr-parent-1:0', job_queue: 'q-off', status: 'RUNNING', array_parent_id: 'arr-parent-1', array_index: 0, array_properties: { index: 0 } }),
      ]);
      const res = await getJson(`${t.url}/api/v1/job_queues/details`);
      expect(res.status).to.equal(200);
      const byName = new Map((res.body as { name: string }[]).map((q) => [q.name, q]));
      expect(byName.get('q-off')).to.deep.equal({
        name: 'q-off',
        activated: false,
        forced_scaling: false,
        known_to_aws: true,
        aws_state: 'DISABLED',
        aws_status: 'VALID',
        job_counts: { RUNNING: 3, RUNNABLE: 1 },
        failed_last_day: 1,
      });
      expect(byName.get('q-gone')).to.include({ activated: true, forced_scaling: true, known_to_aws: false, aws_state: null, failed_last_day: 0 });
      expect(byName.get('q-api')).to.include({ known_to_aws: true, aws_state: 'ENABLED' });
    });
  });

  describe('UI from S3', () => {
    it('fetches index.html from frontend_assets_bucket/key at start-up', async () => {
      sim.model.putObject('ui-bucket', 'releases/index.html', '<!doctype html><title>UI from S3</title>', 'text/html');
      const s3api = await startTestApi({
        config: { aws_endpoint: sim.endpoint, frontend_assets: 's3', frontend_assets_bucket: 'ui-bucket', frontend_assets_key: 'releases/index.html' },
      });
      try {
        for (const p of ['/', '/job/x', '/stats']) {
          const res = await fetch(`${s3api.url}${p}`);
          expect(await res.text()).to.equal('<!doctype html><title>UI from S3</title>');
        }
        expect((await fetch(`${s3api.url}/assets/app-12345678.js`)).status).to.equal(404); // no local assets in s3 mode
      } finally {
        await s3api.close();
      }
    });
  });
});
