/**
 * EventBridge events from SQS carry AWS's own job description: with
 * events_write_details (the default) the consumer writes it to the mirror as
 * a describe would, marked `event_written` (not confirmed by AWS's API) until
 * a ListJobs summary agrees or a DescribeJobs rewrites it. Whatever acts on
 * AWS or opens something by a mirror field confirms with AWS first, so a
 * forged or stale event in the queue cannot make the timeout killer, the
 * terminator, the kill route or the scaling hack act, nor the log route read
 * another stream. Real simulator (its SQS and its EventBridge rule), real
 * workers, Postgres and Redis.
 */
import type { JobDetail } from '@aws-sdk/client-batch';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { expect } from 'chai';
import { mapJobDetail } from '../../src/pipeline/mapping';
import { decodeMessageBody } from '../../src/pipeline/tasks/readEventQueue';
import { getJob } from '../../src/store/jobs/lookups';
import { MIRRORED_UPDATABLE } from '../../src/store/jobs/upsert';
import { setForcedScaling } from '../../src/store/queues';
import { postJson, startTestApi, type TestApi } from '../api/helpers';
import { awsCounters, startHarness, type Harness } from './harness';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await sleep(20);
  }
}

function envelope(detail: JobDetail, time = new Date()) {
  return { version: '0', id: `e-${Math.random()}`, 'detail-type': 'Batch Job State Change', source: 'aws.batch', time: time.toISOString(), detail };
}

/** A job's description with what an attacker (or a stale copy) would like to change. */
function forged(real: JobDetail, changes: Partial<Pick<JobDetail, 'status' | 'jobId' | 'createdAt'>> & { taskArn?: string; vcpus?: number } = {}): JobDetail {
  const container = real.container ?? {};
  return {
    ...real,
    ...changes,
    container: {
      ...container,
      vcpus: changes.vcpus ?? 96,
      environment: [{ name: 'PYBATCH_TIMEOUT', value: '1' }],
      logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/secret/group' } },
      logStreamName: 'secret-stream',
      taskArn: changes.taskArn ?? container.taskArn,
    },
  };
}

const FORGED_ID = '00000000-0000-4000-8000-00000000beef';

describe('events from SQS write the job description they carry (events_write_details)', function () {
  this.timeout(120_000);
  let h: Harness;
  let sqs: SQSClient;
  let queueUrl: string;
  let api: TestApi;
  const queue = 'detail-q';

  before(async () => {
    h = await startHarness({ workers: 0, config: { kill_stuck_jobs: true, stuck_starting_seconds: 0.001, use_auto_scaler: true } });
    sqs = new SQSClient({ region: 'eu-west-1', endpoint: h.sim.endpoint, credentials: { accessKeyId: 't', secretAccessKey: 't' } });
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'detail-events', Attributes: { VisibilityTimeout: '2' } }))).QueueUrl as string;
    h.sim.events.route('detail-events');
    // One 4-vCPU instance, kept, and no room to grow: a second 4-vCPU job waits RUNNABLE.
    await h.queue(queue, { instances: 1, minvCpus: 4, maxvCpus: 4 });
    await h.startWorkers(1, { events_queue_url: queueUrl });
    api = await startTestApi({ tdb: h.tdb, config: { ...h.config, host: '127.0.0.1', port: 0 }, deps: { pipeline: h.pq } });
  });
  after(async () => {
    await api?.close();
    sqs?.destroy();
    await h?.close();
  });

  const row = (id: string) => h.db('jobs').where({ job_id: id }).first();
  const queued = async () => {
    const a = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }))).Attributes ?? {};
    return Number(a.ApproximateNumberOfMessages) + Number(a.ApproximateNumberOfMessagesNotVisible);
  };
  /** Sends messages as a rule would, and waits until the queue is empty (every message applied and deleted). */
  async function sendAndSettle(bodies: unknown[]): Promise<void> {
    for (const body of bodies) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));
    await until(queued, (n) => n === 0, 'the events queue drained');
  }
  /** Moves the simulator's clock and waits for the rule's events to be applied. */
  async function advance(ms: number): Promise<void> {
    h.sim.model.advance(ms);
    await until(queued, (n) => n === 0, 'the events queue drained');
  }
  const mirrored = (r: Record<string, unknown> | undefined) => Object.fromEntries(MIRRORED_UPDATABLE.map((c) => [c, r?.[c]]));

  it('writes an event-carried description as a describe writes it, marked until the round confirms it by its summary (no describe)', async () => {
    const { jobId } = h.sim.model.submitJob({
      jobName: 'whole',
      jobQueue: queue,
      vcpus: 2,
      memory: 3072,
      environment: [{ name: 'PYBATCH_TIMEOUT', value: '7200' }],
      plan: { runSeconds: 600 },
    });
    await advance(30_000);
    expect(h.sim.model.getJob(jobId)?.status).to.equal('RUNNING');
    const written = await until(() => row(jobId), (r) => r?.status === 'RUNNING', 'the RUNNING event written');
    expect(written).to.include({ event_written: true, needs_describe: false, timeout: 7200, vcpus: 2, memory: 3072 });
    expect(written.task_arn).to.be.a('string').and.not.equal('');
    expect(written.log_stream_name).to.be.a('string').and.not.equal('');
    // The same columns a describe maps from the same description.
    const expected = mapJobDetail(h.sim.model.getJob(jobId)!);
    expect(written).to.include({ job_definition: expected.job_definition, image: expected.image, task_arn: expected.task_arn, log_stream_name: expected.log_stream_name });

    h.sim.counters.reset();
    const round = await h.round();
    expect(round.status).to.equal('completed');
    expect(awsCounters(h.sim)['Batch.DescribeJobs'] ?? 0, 'the listing agreed: nothing described').to.equal(0);
    const confirmed = await row(jobId);
    expect(confirmed).to.include({ event_written: false });
    expect(mirrored(confirmed)).to.deep.equal(mirrored(written));

    // And a describe of the job now writes nothing different.
    await h.db('jobs').where({ job_id: jobId }).update({ needs_describe: true });
    expect((await h.round()).status).to.equal('completed');
    const described = await row(jobId);
    expect(described).to.include({ needs_describe: false, event_written: false });
    expect(mirrored(described)).to.deep.equal(mirrored(written));
  });

  it('duplicates and older events never move a row backwards; a retry (more attempts) moves it on', async () => {
    const { jobId } = h.sim.model.submitJob({ jobName: 'order', jobQueue: queue, vcpus: 1, plan: { runSeconds: 5 } });
    await advance(2_000);
    const early = structuredClone(h.sim.model.getJob(jobId)!);
    await advance(30_000);
    expect(h.sim.model.getJob(jobId)?.status).to.equal('SUCCEEDED');
    await until(() => row(jobId), (r) => r?.status === 'SUCCEEDED', 'SUCCEEDED written');
    await sendAndSettle([envelope(early), envelope(early), envelope({ ...early, status: 'RUNNING' })]);
    expect(await row(jobId)).to.include({ status: 'SUCCEEDED' });
    // A retry: RUNNABLE again with one attempt more than the row has is forward.
    const done = h.sim.model.getJob(jobId)!;
    const retry = { ...done, status: 'RUNNABLE' as const, attempts: [...(done.attempts ?? []), {}, {}] };
    await sendAndSettle([envelope(retry)]);
    expect(await row(jobId)).to.include({ status: 'RUNNABLE', attempts: retry.attempts.length, event_written: true });
    // The round puts it right: AWS lists it SUCCEEDED, so it is described.
    expect((await h.round()).status).to.equal('completed');
    expect(await row(jobId)).to.include({ status: 'SUCCEEDED', event_written: false, attempts: done.attempts?.length ?? 0 });
  });

  it('the round describes only the rows whose summary disagrees, and confirms the others', async () => {
    const ids = [0, 1, 2, 3].map((i) => h.sim.model.submitJob({ jobName: `agree-${i}`, jobQueue: queue, vcpus: 1, plan: { runSeconds: 600 } }).jobId);
    await advance(1_000);
    for (const id of ids) await until(() => row(id), (r) => r?.event_written === true, 'written from the event');
    // One of them is put ahead by an event AWS never sent.
    const [odd] = ids;
    await sendAndSettle([envelope(forged(h.sim.model.getJob(odd)!, { status: 'SUCCEEDED' }))]);
    expect(await row(odd)).to.include({ status: 'SUCCEEDED', event_written: true });

    const round = await h.round();
    expect(round.status).to.equal('completed');
    expect(round.status === 'completed' && round.round.described, 'only the disagreeing job described').to.equal(1);
    for (const id of ids) {
      const r = await row(id);
      expect(r, id).to.include({ status: h.sim.model.getJob(id)!.status, event_written: false });
      expect(r.vcpus, id).to.equal(1);
    }
  });

  it('a forged or stale event never leads to a TerminateJob (timeout killer, kill route): both ask AWS first', async () => {
    await advance(700_000); // the earlier jobs end: the instance is free
    // Forged: a job AWS does not know, "running" for a day past a 1 s timeout.
    const real = h.sim.model.getJob([...h.sim.model.jobs.keys()][0])!;
    await sendAndSettle([envelope(forged(real, { jobId: FORGED_ID, status: 'RUNNING', createdAt: h.sim.model.now() - 86_400_000 }))]);
    expect(await row(FORGED_ID)).to.include({ status: 'RUNNING', event_written: true, timeout: 1 });
    // Stale: a job AWS finished whose last events were lost, and an old RUNNING copy delivered late.
    h.sim.faults.set({ lossRate: 1, operations: ['Events.Delivery'] });
    const { jobId: stale } = h.sim.model.submitJob({ jobName: 'stale', jobQueue: queue, vcpus: 1, plan: { runSeconds: 5 } });
    for (let i = 0; i < 20 && h.sim.model.getJob(stale)?.status !== 'RUNNING'; i++) h.sim.model.advance(1_000);
    const running = structuredClone(h.sim.model.getJob(stale)!);
    h.sim.model.advance(30_000);
    h.sim.faults.set({ lossRate: 0 });
    expect(h.sim.model.getJob(stale)?.status).to.equal('SUCCEEDED');
    await sendAndSettle([envelope(forged(running, { createdAt: h.sim.model.now() - 86_400_000 }))]);
    expect(await row(stale)).to.include({ status: 'RUNNING', event_written: true, timeout: 1 });

    h.sim.counters.reset();
    const killed = await h.task('killTimedOutJobs');
    expect(awsCounters(h.sim)['Batch.DescribeJobs'] ?? 0, 'the killer asked AWS').to.be.greaterThan(0);
    expect(awsCounters(h.sim)['Batch.TerminateJob'] ?? 0, JSON.stringify(killed)).to.equal(0);

    const res = await postJson(`${api.url}/api/v1/jobs/kill`, { ids: [stale], reason: 'test' });
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ [stale]: 'already finished (SUCCEEDED)' });
    expect(awsCounters(h.sim)['Batch.TerminateJob'] ?? 0).to.equal(0);
    expect(h.sim.model.getJob(stale)?.status).to.equal('SUCCEEDED');
  });

  it("a forged STARTING event pointing at another job's task never terminates its instance", async () => {
    h.sim.model.advance(3_600_000); // earlier jobs end: the instance is free
    await until(queued, (n) => n === 0, 'the events queue drained');
    const { jobId: runner } = h.sim.model.submitJob({ jobName: 'runner', jobQueue: queue, vcpus: 4, plan: { runSeconds: 36_000 } });
    await advance(30_000);
    expect(h.sim.model.getJob(runner)?.status).to.equal('RUNNING');
    const { jobId: waiting } = h.sim.model.submitJob({ jobName: 'waiting', jobQueue: queue, vcpus: 4, plan: { runSeconds: 60 } });
    await advance(5_000);
    expect(h.sim.model.getJob(waiting)?.status).to.equal('RUNNABLE');
    expect((await h.round()).status).to.equal('completed');
    await h.task('reconcileEcsInstances');
    const victimTask = h.sim.model.getJob(runner)!.container!.taskArn!;
    const running = () => [...h.sim.model.instances.values()].filter((i) => i.state === 'running').map((i) => i.id);
    const before = running();
    expect(before).to.have.length(1);

    await sendAndSettle([envelope(forged(h.sim.model.getJob(waiting)!, { status: 'STARTING', taskArn: victimTask }))]);
    expect(await row(waiting)).to.include({ status: 'STARTING', task_arn: victimTask, event_written: true });
    h.sim.counters.reset();
    await h.task('terminateStuckInstances');
    expect(awsCounters(h.sim)['EC2.TerminateInstances'] ?? 0).to.equal(0);
    expect(running()).to.deep.equal(before);
  });

  it("the log route reads the stream DescribeJobs names for an event-written row, never the event's", async () => {
    h.sim.model.advance(36_100_000); // the runner ends
    await until(queued, (n) => n === 0, 'the events queue drained');
    const { jobId } = h.sim.model.submitJob({ jobName: 'logged', jobQueue: queue, vcpus: 1, plan: { runSeconds: 3600, logLines: ['the real log line'] } });
    await advance(30_000);
    expect(h.sim.model.getJob(jobId)?.status).to.equal('RUNNING');
    await sendAndSettle([envelope(forged(h.sim.model.getJob(jobId)!))]);
    expect(await row(jobId)).to.include({ log_stream_name: 'secret-stream', event_written: true });
    h.sim.model.logs.append('/secret/group', 'secret-stream', h.sim.model.now(), 'TOP SECRET', h.sim.model.now());
    h.sim.model.advance(1_900_000); // the one log line is due half-way through the run
    h.sim.counters.reset();
    const res = await fetch(`${api.url}/api/v1/jobs/${jobId}/logs?format=text`);
    const text = await res.text();
    expect(res.status).to.equal(200);
    expect(text).to.not.include('TOP SECRET');
    expect(text).to.include('the real log line');
    expect(awsCounters(h.sim)['Batch.DescribeJobs'] ?? 0).to.equal(1);
  });

  it("writes a job's dependsOn from the event that first shows it, as a describe would", async () => {
    const { jobId: first } = h.sim.model.submitJob({ jobName: 'dep-first', jobQueue: queue, vcpus: 1, plan: { runSeconds: 5 } });
    const { jobId: then } = h.sim.model.submitJob({ jobName: 'dep-then', jobQueue: queue, vcpus: 1, dependsOn: [first], plan: { runSeconds: 5 } });
    await advance(1_000);
    await until(() => row(then), (r) => r?.event_written === true, 'the dependent job written from its event');
    const links = await h.db('job_dependencies').where({ job_id: then }).select('depends_on_job_id');
    expect(links.map((l: { depends_on_job_id: string }) => l.depends_on_job_id)).to.deep.equal([first]);
    expect(Number((await h.db('job_dependencies').where({ job_id: first }).count({ n: '*' }))[0].n)).to.equal(0);
  });

  it('the scaling hack describes event-written rows rather than trust their vCPUs', async () => {
    await h.queue('detail-scale-q', { instances: 0, minvCpus: 0, maxvCpus: 256 });
    await setForcedScaling(h.db, 'detail-scale-q', true);
    const { jobId } = h.sim.model.submitJob({ jobName: 'small', jobQueue: 'detail-scale-q', vcpus: 2, plan: { runSeconds: 36_000 } });
    await advance(1_000);
    await sendAndSettle([envelope(forged(h.sim.model.getJob(jobId)!, { vcpus: 96 }))]);
    expect(await row(jobId)).to.include({ vcpus: 96, event_written: true });
    const r: { changes: { computeEnvironment: string; to: number }[] } = await h.task('scaleComputeEnvironments');
    expect(r.changes).to.deep.equal([{ computeEnvironment: 'detail-scale-q-ce', from: 0, to: 2 }]);
  });

  it('with events_write_details = false, or from notify, an envelope is a hint; a raw description always is', () => {
    const detail = h.sim.model.getJob([...h.sim.model.jobs.keys()][0])!;
    const asDetails = decodeMessageBody(JSON.stringify(envelope(detail)), { writeDetails: true });
    expect(asDetails.kind === 'events' && [asDetails.details.length, asDetails.rows.length]).to.deep.equal([1, 0]);
    const asHint = decodeMessageBody(JSON.stringify(envelope(detail)), { writeDetails: false });
    expect(asHint.kind === 'events' && [asHint.details.length, asHint.rows.length]).to.deep.equal([0, 1]);
    const raw = decodeMessageBody(JSON.stringify(detail), { writeDetails: true });
    expect(raw.kind === 'events' && [raw.details.length, raw.rows.length]).to.deep.equal([0, 1]);
    const notAws = decodeMessageBody(JSON.stringify({ ...envelope(detail), source: 'my.app' }), { writeDetails: true });
    expect(notAws.kind === 'events' && [notAws.details.length, notAws.rows.length]).to.deep.equal([0, 1]);
  });
});
