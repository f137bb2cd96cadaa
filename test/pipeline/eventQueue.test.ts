/**
 * Events from SQS (events_queue_url), end to end: the simulator's job state
 * change rule fills its SQS queue, real worker processes' consumers long-poll
 * it, the mirror is in real Postgres, the API reads it. How fast is measured
 * by bench/events.ts, not asserted here: these tests assert what arrives, in
 * what order, and which AWS calls it took.
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SQSClient,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { expect } from 'chai';
import { startApi, type ApiServer } from '../../src/api/app';
import { createLogger } from '../../src/log';
import { STATUS_RANK } from '../../src/domain/jobStatus';
import { metrics } from '../../src/pipeline/metrics';
import { getJob } from '../../src/store/jobs/lookups';
import { startHarness, type Harness } from './harness';
import { startRole, tomlFor, waitForOutput, type RoleProcess } from './processes';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await sleep(10);
  }
}

const counterValue = async (c: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }, labels: Record<string, string> = {}) =>
  (await c.get()).values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((a, v) => a + v.value, 0);

describe('events from SQS (events_queue_url)', function () {
  this.timeout(180_000);
  let h: Harness;
  let sqs: SQSClient;
  let queueUrl: string;
  let dlqUrl: string;
  let api: ApiServer;

  /** The rule's queue: a short visibility timeout so redeliveries come quickly; 2 receives before the dead-letter queue. */
  async function createQueues(name: string) {
    const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl as string;
    const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
    const url = (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: { VisibilityTimeout: '2', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: 2 }) },
        }),
      )
    ).QueueUrl as string;
    return { url, dlq };
  }

  const count = async (url: string) => {
    const a = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).Attributes ?? {};
    return Number(a.ApproximateNumberOfMessages) + Number(a.ApproximateNumberOfMessagesNotVisible) + Number(a.ApproximateNumberOfMessagesDelayed);
  };
  const listCalls = () => h.sim.counters.calls().filter((c) => c.operation === 'Batch.ListJobs' || c.operation === 'Batch.DescribeJobs').length;
  const apiStatus = async (id: string) => {
    const res = await fetch(`${api.url}/api/v1/jobs/${id}`);
    return res.status === 200 ? ((await res.json()) as { status: string }).status : `HTTP ${res.status}`;
  };

  before(async () => {
    h = await startHarness({ workers: 0 });
    sqs = new SQSClient({ region: 'eu-west-1', endpoint: h.sim.endpoint, credentials: { accessKeyId: 't', secretAccessKey: 't' } });
    ({ url: queueUrl, dlq: dlqUrl } = await createQueues('batch-events'));
    h.sim.events.route('batch-events');
    await h.queue('q-live', { instances: 4 });
    await h.startWorkers(2, { events_queue_url: queueUrl });
    api = await startApi({ ...h.config, host: '127.0.0.1', port: 0 }, { db: h.db, logger: createLogger('silent') });
  });
  after(async () => {
    await api?.close();
    sqs?.destroy();
    await h?.close();
  });

  it('a job changed in the simulator reaches the API through SQS at every step, without a sync round', async () => {
    h.sim.counters.reset();
    const applied = await counterValue(metrics.queueApplied);
    const { jobId } = h.sim.model.submitJob({ jobName: 'live', jobQueue: 'q-live', plan: { runSeconds: 20 } });
    const seen: string[] = [];
    let last = '';
    for (let i = 0; i < 40 && last !== 'SUCCEEDED'; i++) {
      const truth = h.sim.model.getJob(jobId)?.status as string;
      if (truth !== last) {
        // Each status the simulator moved to is what the API shows next (before the clock moves again).
        last = await until(() => apiStatus(jobId), (s) => s === truth, `the API to show ${truth}`);
        seen.push(last);
      }
      h.sim.model.advance(1_000);
    }
    expect(seen).to.deep.equal(['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED']);
    expect(listCalls(), 'no ListJobs/DescribeJobs: no sync round ran').to.equal(0);
    expect(h.sim.counters.get()['SQS.ReceiveMessage']).to.be.greaterThan(0);
    // The metric counts after the commit the API already sees: wait for it rather than race it.
    await until(() => counterValue(metrics.queueApplied), (n) => n >= applied + 6, 'six applied messages counted');
    await until(() => count(queueUrl), (n) => n === 0, 'every message deleted');
  });

  it('duplicated, reordered and lost events never move a job backwards, and the reconciliation round converges to the truth', async () => {
    h.sim.faults.set({ duplicateRate: 0.3, reorderRate: 0.3, lossRate: 0.15, operations: ['Events.Delivery'] });
    const ids = Array.from({ length: 12 }, (_, i) => h.sim.model.submitJob({ jobName: `chaos-${i}`, jobQueue: 'q-live', plan: { runSeconds: 5 + i } }).jobId);
    // Watch every row while the events arrive: its status rank may only go up.
    const history = new Map<string, number[]>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const rows: { job_id: string; status: string }[] = await h.db('jobs').select('job_id', 'status').whereIn('job_id', ids);
        for (const r of rows) {
          const ranks = history.get(r.job_id) ?? [];
          const rank = STATUS_RANK[r.status as keyof typeof STATUS_RANK];
          if (ranks[ranks.length - 1] !== rank) ranks.push(rank);
          history.set(r.job_id, ranks);
        }
        await sleep(5);
      }
    })();
    for (let i = 0; i < 40; i++) {
      h.sim.model.advance(1_000);
      await sleep(20);
    }
    // The last status change of one job is lost for sure.
    const { jobId: lostOne } = h.sim.model.submitJob({ jobName: 'lost-end', jobQueue: 'q-live', plan: { runSeconds: 5 } });
    ids.push(lostOne);
    for (let i = 0; i < 30 && h.sim.model.getJob(lostOne)?.status !== 'RUNNING'; i++) h.sim.model.advance(1_000);
    h.sim.faults.set({ duplicateRate: 0, reorderRate: 0, lossRate: 0 });
    await until(() => getJob(h.db, lostOne), (r) => r?.status === 'RUNNING', 'the lost job RUNNING in the mirror');
    h.sim.faults.set({ lossRate: 1 });
    h.sim.model.advance(10_000);
    h.sim.faults.set({ lossRate: 0 });
    expect(h.sim.model.getJob(lostOne)?.status).to.equal('SUCCEEDED');
    // Every message that entered the queue is applied and deleted (held-back ones included).
    await until(() => count(queueUrl), (n) => n === 0, 'the queue drained', 30_000);
    watching = false;
    await watcher;

    const faults = h.sim.counters.faults()['Events.Delivery'];
    expect(faults.duplicated, 'duplicates delivered').to.be.greaterThan(0);
    expect(faults.reordered, 'events held back').to.be.greaterThan(0);
    expect(faults.lost, 'events lost').to.be.greaterThan(0);
    for (const [id, ranks] of history) expect(ranks, `job ${id} never moved backwards`).to.deep.equal([...ranks].sort((a, b) => a - b));
    expect((await getJob(h.db, lostOne))?.status, 'its final event was lost').to.equal('RUNNING');

    const outcome = await h.round();
    expect(outcome.status).to.equal('completed');
    for (const id of ids) {
      const row = await getJob(h.db, id);
      const truth = h.sim.model.getJob(id);
      // Status from the truth, and the rest described (events write status and times only).
      expect({ id, status: row?.status, described: row?.job_definition !== '' }).to.deep.equal({ id, status: truth?.status, described: true });
    }
  });

  it('a malformed message is left for the redrive policy and ends in the dead-letter queue; the good ones are applied', async () => {
    const rejected = await counterValue(metrics.queueRejected, { reason: 'malformed' });
    const { jobId } = h.sim.model.submitJob({ jobName: 'after-poison', jobQueue: 'q-live' });
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'this is not JSON' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ 'detail-type': 'Batch Job State Change', detail: { jobId: 'x', jobName: 'x', jobQueue: 'q-live', status: 'EXPLODED', createdAt: 1 } }) }));
    await until(() => getJob(h.db, jobId), (r) => r?.status === 'SUBMITTED', 'the good event applied');
    await until(() => count(dlqUrl), (n) => n === 2, 'both malformed messages in the dead-letter queue', 60_000);
    expect(await count(queueUrl)).to.equal(0);
    // Received twice each (maxReceiveCount 2) before SQS moved them: rejected each time, never deleted.
    expect((await counterValue(metrics.queueRejected, { reason: 'malformed' })) - rejected).to.equal(4);
  });

  it('a backlog is drained in fewer statements than receives: receives during a write join the next one', async () => {
    await h.stopWorkers();
    const ids = Array.from({ length: 150 }, (_, i) => h.sim.model.submitJob({ jobName: `backlog-${i}`, jobQueue: 'q-live' }).jobId);
    expect(await count(queueUrl)).to.equal(150);
    const writesBefore = (await metrics.eventBatchDuration.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
    const lagBefore = (await metrics.queueApplyLag.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
    await h.startWorkers(1, { events_queue_url: queueUrl });
    await until(() => count(queueUrl), (n) => n === 0, 'the backlog applied and deleted');
    for (const id of ids) expect(await getJob(h.db, id), id).to.have.property('status', 'SUBMITTED');
    const writes = ((await metrics.eventBatchDuration.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0) - writesBefore;
    // A receive brings at most 10 messages: one statement per receive would take at least 15.
    expect(writes, 'statements for 150 messages').to.be.within(1, 14);
    const lagged = ((await metrics.queueApplyLag.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0) - lagBefore;
    expect(lagged, 'apply lag observed for each message').to.equal(150);
  });

  it('a write chosen as a deadlock victim is run again, not left for redelivery', async () => {
    const [a, b] = ['deadlock-a', 'deadlock-b'].map((jobName) => h.sim.model.submitJob({ jobName, jobQueue: 'q-live' }).jobId).sort();
    for (const id of [a, b]) await until(() => getJob(h.db, id), (r) => r?.status === 'SUBMITTED', `job ${id} mirrored`);
    await until(() => count(queueUrl), (n) => n === 0, 'the queue drained');
    const retries = await counterValue(metrics.queueDeadlockRetries);
    const received = await counterValue(metrics.queueReceived);
    const trx = await h.db.transaction();
    try {
      await trx('jobs').where({ job_id: b }).forUpdate().select('job_id');
      // One message, one statement: it locks a, then waits for b.
      const detail = (id: string) => ({ jobId: id, jobName: id, jobQueue: 'q-live', status: 'PENDING', createdAt: h.sim.model.getJob(id)?.createdAt });
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify([detail(a), detail(b)]) }));
      await until(
        async () => (await h.db.raw(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].n as number,
        (n) => n > 0,
        "the consumer's statement waiting for b",
      );
      // Waiting for a closes the cycle; the consumer waited first, so its deadlock check (1 s) picks it as the victim.
      await trx('jobs').where({ job_id: a }).forUpdate().select('job_id');
    } finally {
      await trx.rollback();
    }
    for (const id of [a, b]) await until(() => getJob(h.db, id), (r) => r?.status === 'PENDING', `job ${id} PENDING`);
    await until(() => count(queueUrl), (n) => n === 0, 'the message deleted');
    expect(await counterValue(metrics.queueDeadlockRetries), 'writes run again').to.equal(retries + 1);
    expect(await counterValue(metrics.queueReceived), 'received once: no redelivery').to.equal(received + 1);
  });

  it('killing a worker process mid-batch loses no event: its messages come back and another worker applies them', async () => {
    await h.stopWorkers();
    const deadBefore = await count(dlqUrl);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bp-sqs-'));
    const file = path.join(dir, 'config.toml');
    writeFileSync(file, tomlFor(h, [`events_queue_url = "${queueUrl}"`]));
    const victim: RoleProcess = startRole(file);
    try {
      await waitForOutput(victim.output, /reading job state change events from SQS/);
      // The batch's statement waits on a row lock the test holds: the worker has received it and not committed.
      const { jobId: lockedId } = h.sim.model.submitJob({ jobName: 'locked', jobQueue: 'q-live' });
      const trx = await h.db.transaction();
      let killedMidBatch = false;
      try {
        await until(() => count(queueUrl), (n) => n === 0, 'the first event applied');
        await trx('jobs').where({ job_id: lockedId }).forUpdate().select('job_id');
        const others = Array.from({ length: 5 }, (_, i) => h.sim.model.submitJob({ jobName: `in-batch-${i}`, jobQueue: 'q-live' }).jobId);
        h.sim.model.advance(1_000); // SUBMITTED -> PENDING for all six: one batch, blocked on the lock
        const inFlight = async () =>
          Number((await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessagesNotVisible'] }))).Attributes?.ApproximateNumberOfMessagesNotVisible);
        await until(inFlight, (n) => n >= 1, 'the batch received by the worker');
        const waitingOnLock = await until(
          async () => (await h.db.raw(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].n as number,
          (n) => n > 0,
          "the worker's statement waiting on the lock",
        );
        expect(waitingOnLock).to.be.greaterThan(0);
        victim.child.kill('SIGKILL');
        await victim.exited;
        killedMidBatch = true;
        expect(await getJob(h.db, lockedId)).to.have.property('status', 'SUBMITTED');
        await trx.rollback();
        // Another worker takes over: the messages come back after the visibility timeout.
        await h.startWorkers(1, { events_queue_url: queueUrl });
        for (const id of [lockedId, ...others]) {
          await until(() => getJob(h.db, id), (r) => r?.status === 'PENDING', `job ${id} PENDING`);
        }
        await until(() => count(queueUrl), (n) => n === 0, 'every message deleted');
        expect(await count(dlqUrl), 'nothing dead-lettered').to.equal(deadBefore);
      } finally {
        if (!trx.isCompleted()) await trx.rollback();
        expect(killedMidBatch).to.equal(true);
      }
    } finally {
      if (victim.child.exitCode === null && victim.child.signalCode === null) victim.child.kill('SIGKILL');
    }
  });
});
