import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { expect } from 'chai';
import { type TestSim, basicInfra, errorOf, rawPost, startTestSim } from './helpers';

function sqsClient(endpoint: string, maxAttempts = 3): SQSClient {
  return new SQSClient({ region: 'eu-west-1', endpoint, maxAttempts, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
}

describe('simulator: SQS (JSON 1.0) and job state change events', () => {
  let t: TestSim;
  let sqs: SQSClient;

  beforeEach(async () => {
    t = await startTestSim();
    sqs = sqsClient(t.sim.endpoint);
  });
  afterEach(async () => {
    sqs.destroy();
    await t.close();
  });

  const createQueue = async (name: string, attributes: Record<string, string> = {}) =>
    (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl as string;
  const receive = async (url: string, extra: { VisibilityTimeout?: number; WaitTimeSeconds?: number } = {}) =>
    (await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'], WaitTimeSeconds: 0, ...extra }))).Messages ?? [];
  const advanceSqs = (ms: number) => rawPost(t.sim.endpoint, '/_sim/sqs/advance', JSON.stringify({ ms }));

  it('creates queues, sends, receives (body MD5 checked by the SDK), deletes in batches', async () => {
    const url = await createQueue('work');
    expect(url).to.equal(`${t.sim.endpoint}/123456789012/work`);
    expect((await sqs.send(new GetQueueUrlCommand({ QueueName: 'work' }))).QueueUrl).to.equal(url);
    expect(await createQueue('work'), 'same attributes: the same queue').to.equal(url);
    for (const body of ['one', 'two', 'three']) await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
    const got = await receive(url);
    expect(got.map((m) => m.Body)).to.deep.equal(['one', 'two', 'three']);
    expect(got[0].Attributes?.ApproximateReceiveCount).to.equal('1');
    const attrs = async () => (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).Attributes ?? {};
    expect((await attrs()).ApproximateNumberOfMessagesNotVisible).to.equal('3');
    const out = await sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: url, Entries: got.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle as string })) }),
    );
    expect(out.Successful).to.have.length(3);
    expect((await attrs()).ApproximateNumberOfMessagesNotVisible).to.equal('0');
    expect((await attrs()).ApproximateNumberOfMessages).to.equal('0');
    expect(t.sim.counters.get()['SQS.ReceiveMessage']).to.equal(1);
  });

  it('answers errors in the SQS shapes the SDK maps to its exception classes', async () => {
    const missing = await errorOf(sqs.send(new GetQueueUrlCommand({ QueueName: 'nope' })));
    expect(missing).to.include({ name: 'QueueDoesNotExist', status: 400 });
    const url = await createQueue('errs');
    const tooMany = await errorOf(
      sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, ReceiptHandle: 'x' })) })),
    );
    expect(tooMany.name).to.equal('TooManyEntriesInBatchRequest');
    const badReceipt = await errorOf(sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: 'garbage' })));
    expect(badReceipt.name).to.equal('ReceiptHandleIsInvalid');
    const waitTooLong = await errorOf(sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 21 })));
    expect(waitTooLong.status).to.equal(400);
    const other = await errorOf(sqs.send(new CreateQueueCommand({ QueueName: 'errs', Attributes: { VisibilityTimeout: '5' } })));
    expect(other.name).to.equal('QueueNameExists');
  });

  it('throttles with RequestThrottled, which the SDK retries', async () => {
    const url = await createQueue('throttled');
    const patient = sqsClient(t.sim.endpoint, 20);
    t.sim.faults.set({ throttleRate: 0.5, operations: ['SQS.*'] });
    for (let i = 0; i < 6; i++) await patient.send(new SendMessageCommand({ QueueUrl: url, MessageBody: `m${i}` }));
    patient.destroy();
    expect(t.sim.counters.faults()['SQS.SendMessage'].throttle).to.be.greaterThan(0);
    expect(t.sim.counters.get()['SQS.SendMessage']).to.equal(6 + t.sim.counters.faults()['SQS.SendMessage'].throttle);
  });

  it('long-polls: a waiting ReceiveMessage returns the message sent while it waited', async () => {
    const url = await createQueue('long');
    const waiting = receive(url, { WaitTimeSeconds: 20 });
    // The receive is in the server (its call has started) before the message is sent.
    while (!t.sim.model.sqs.find('long').waiters.size) await new Promise((r) => setTimeout(r, 5));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'late' }));
    const got = await waiting;
    expect(got.map((m) => m.Body)).to.deep.equal(['late']);
    const calls = t.sim.counters.calls();
    const rx = calls.find((c) => c.operation === 'SQS.ReceiveMessage');
    const tx = calls.find((c) => c.operation === 'SQS.SendMessage');
    expect(rx && tx && rx.startedAt < tx.startedAt && rx.endedAt >= tx.endedAt, 'the receive spanned the send').to.equal(true);
  });

  it('ends a long poll whose caller went away without taking a message from the others', async () => {
    const url = await createQueue('abandoned');
    const abort = new AbortController();
    const gone = sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 20 }), { abortSignal: abort.signal }).catch((e: Error) => e.name);
    while (!t.sim.model.sqs.find('abandoned').waiters.size) await new Promise((r) => setTimeout(r, 5));
    abort.abort();
    expect(await gone).to.equal('AbortError');
    while (t.sim.model.sqs.find('abandoned').waiters.size) await new Promise((r) => setTimeout(r, 5));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'for the next caller' }));
    const [m] = await receive(url);
    expect(m.Attributes?.ApproximateReceiveCount, 'first received now').to.equal('1');
  });

  it('hides a received message for its visibility timeout, then redelivers it with a new receipt; stale receipts delete nothing', async () => {
    const url = await createQueue('vis', { VisibilityTimeout: '30' });
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'job' }));
    const [first] = await receive(url);
    expect(await receive(url), 'in flight: hidden').to.have.length(0);
    await advanceSqs(31_000);
    const [again] = await receive(url);
    expect(again.MessageId).to.equal(first.MessageId);
    expect(again.ReceiptHandle).to.not.equal(first.ReceiptHandle);
    expect(again.Attributes?.ApproximateReceiveCount).to.equal('2');
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: first.ReceiptHandle as string }));
    // Back to visible now, with the latest receipt; a stale receipt is not in flight.
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: again.ReceiptHandle as string, VisibilityTimeout: 0 }));
    const stale = await errorOf(sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: first.ReceiptHandle as string, VisibilityTimeout: 10 })));
    expect(stale.name).to.equal('MessageNotInflight');
    const [third] = await receive(url);
    expect(third.MessageId, 'the stale delete did not delete it').to.equal(first.MessageId);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: third.ReceiptHandle as string }));
    await advanceSqs(31_000);
    expect(await receive(url)).to.have.length(0);
  });

  it('moves a message received maxReceiveCount times without a delete to the dead-letter queue', async () => {
    const dlqUrl = await createQueue('events-dlq');
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
    const url = await createQueue('events', { VisibilityTimeout: '10', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }) });
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'poison' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'fine' }));
    const counts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const got = await receive(url);
      for (const m of got) {
        if (m.Body === 'fine') await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle as string }));
        else counts.push(m.Attributes?.ApproximateReceiveCount as string);
      }
      await advanceSqs(11_000);
    }
    expect(counts, 'received twice, then moved').to.deep.equal(['1', '2']);
    const dead = await receive(dlqUrl);
    expect(dead.map((m) => m.Body)).to.deep.equal(['poison']);
    expect(await receive(url)).to.have.length(0);
  });

  describe('job state change events', () => {
    const bodies = (messages: Message[]) => messages.map((m) => JSON.parse(m.Body as string) as { 'detail-type': string; source: string; time: string; detail: { jobId: string; status: string; startedAt?: number; stoppedAt?: number } });

    async function drain(url: string): Promise<Message[]> {
      const all: Message[] = [];
      for (;;) {
        const got = await receive(url);
        if (got.length === 0) return all;
        all.push(...got);
      }
    }

    it('puts an EventBridge "Batch Job State Change" event in the queue for every status change', async () => {
      const { queue } = basicInfra(t.sim);
      t.sim.events.route('batch-events');
      expect(t.sim.model.sqs.find('batch-events-dlq')).to.not.equal(undefined);
      const url = (await sqs.send(new GetQueueUrlCommand({ QueueName: 'batch-events' }))).QueueUrl as string;
      const { jobId } = t.sim.model.submitJob({ jobName: 'evt', jobQueue: queue, plan: { runSeconds: 5 } });
      t.sim.model.advance(60_000);
      const events = bodies(await drain(url)).filter((e) => e.detail.jobId === jobId);
      expect(events.map((e) => e.detail.status)).to.deep.equal(['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED']);
      expect(events.every((e) => e['detail-type'] === 'Batch Job State Change' && e.source === 'aws.batch')).to.equal(true);
      const running = events[4];
      expect(running.detail.startedAt, 'RUNNING carries its start time').to.be.a('number');
      expect(Date.parse(running.time)).to.equal(Math.floor((running.detail.startedAt as number) / 1000) * 1000);
      expect(events[5].detail.stoppedAt).to.be.a('number');
    });

    it('loses, duplicates and holds back events as the delivery faults say', async () => {
      const { queue } = basicInfra(t.sim);
      t.sim.events.route('faulty');
      const url = (await sqs.send(new GetQueueUrlCommand({ QueueName: 'faulty' }))).QueueUrl as string;

      t.sim.faults.set({ lossRate: 1, operations: ['Events.Delivery'] });
      t.sim.model.submitJob({ jobName: 'lost', jobQueue: queue });
      expect(await drain(url)).to.have.length(0);
      expect(t.sim.counters.faults()['Events.Delivery'].lost).to.equal(1);

      t.sim.faults.set({ lossRate: 0, duplicateRate: 1 });
      const dup = t.sim.model.submitJob({ jobName: 'dup', jobQueue: queue });
      const twice = bodies(await drain(url));
      expect(twice.map((e) => e.detail.jobId)).to.deep.equal([dup.jobId, dup.jobId]);

      t.sim.faults.set({ duplicateRate: 0, reorderRate: 1 });
      const held = t.sim.model.submitJob({ jobName: 'held', jobQueue: queue });
      t.sim.faults.set({ reorderRate: 0 });
      const next = t.sim.model.submitJob({ jobName: 'next', jobQueue: queue });
      const first = bodies(await drain(url));
      expect(first.map((e) => e.detail.jobId), 'the held event is overtaken').to.deep.equal([next.jobId]);
      await advanceSqs(2_000);
      expect(bodies(await drain(url)).map((e) => e.detail.jobId)).to.deep.equal([held.jobId]);
      expect(t.sim.counters.faults()['Events.Delivery']).to.include({ lost: 1, duplicated: 1, reordered: 1 });
    });

    it('routes by the admin endpoint too', async () => {
      const put = await fetch(`${t.sim.endpoint}/_sim/events`, { method: 'PUT', body: JSON.stringify({ queue: 'via-admin' }) });
      expect(await put.json()).to.deep.equal({ queue: 'via-admin' });
      expect(t.sim.events.queue()).to.equal('via-admin');
      const del = await fetch(`${t.sim.endpoint}/_sim/events`, { method: 'DELETE' });
      expect(await del.json()).to.deep.equal({ queue: null });
    });
  });
});
