/**
 * SQS queues as AWS runs standard queues: messages become visible, are
 * received (each receive hides a message for the visibility timeout and
 * hands out a new receipt handle), come back when the timeout passes without
 * a delete, and move to the dead-letter queue of a redrive policy once
 * received `maxReceiveCount` times. ReceiveMessage long-polls.
 *
 * SQS runs on the wall clock (plus `skewMs`, which tests may move), not the
 * simulated one: visibility timeouts and long polls are about real waiting.
 */
import { createHash, randomUUID } from 'node:crypto';
import { ACCOUNT_ID } from './constants';

export class SqsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The awsQueryError code the SDK also accepts (x-amzn-query-error). */
    readonly queryCode: string = code,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface SqsMessage {
  id: string;
  body: string;
  md5: string;
  seq: number;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  /** The receipt handle of the latest receive; older ones no longer delete the message. */
  receipt?: string;
}

export interface RedrivePolicy {
  deadLetterTargetArn: string;
  maxReceiveCount: number;
}

export interface SqsQueueAttributes {
  VisibilityTimeout: number;
  MessageRetentionPeriod: number;
  ReceiveMessageWaitTimeSeconds: number;
  DelaySeconds: number;
  MaximumMessageSize: number;
  RedrivePolicy?: RedrivePolicy;
}

const DEFAULT_ATTRIBUTES: SqsQueueAttributes = {
  VisibilityTimeout: 30,
  MessageRetentionPeriod: 345_600,
  ReceiveMessageWaitTimeSeconds: 0,
  DelaySeconds: 0,
  MaximumMessageSize: 262_144,
};

/** Settable attributes and their ranges (seconds / bytes), as SQS documents them. */
const RANGES: Record<Exclude<keyof SqsQueueAttributes, 'RedrivePolicy'>, [number, number]> = {
  VisibilityTimeout: [0, 43_200],
  MessageRetentionPeriod: [60, 1_209_600],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  DelaySeconds: [0, 900],
  MaximumMessageSize: [1024, 262_144],
};

export class SqsQueue {
  readonly arn: string;
  readonly createdAt: number;
  attributes: SqsQueueAttributes = { ...DEFAULT_ATTRIBUTES };
  /** In send order; small enough to scan (consumers keep queues short). */
  messages: SqsMessage[] = [];
  /** Long polls waiting for a message. */
  readonly waiters = new Set<() => void>();
  private lastModified: number;

  constructor(
    readonly name: string,
    region: string,
    now: number,
  ) {
    this.arn = `arn:aws:sqs:${region}:${ACCOUNT_ID}:${name}`;
    this.createdAt = now;
    this.lastModified = now;
  }

  touched(now: number): void {
    this.lastModified = now;
  }

  get lastModifiedAt(): number {
    return this.lastModified;
  }

  wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

export interface ReceivedMessage {
  MessageId: string;
  ReceiptHandle: string;
  MD5OfBody: string;
  Body: string;
  Attributes?: Record<string, string>;
}

/** What a fault decision does to one message entering a queue. */
export type DeliveryFault = 'lost' | 'duplicated' | 'reordered' | null;

export const md5Hex = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
/** Messages held back by an out-of-order fault become visible this much later (ms, at most). */
export const REORDER_HOLD_MS = 2_000;

export class SqsStore {
  readonly queues = new Map<string, SqsQueue>();
  /** Added to Date.now(): tests may move SQS time forward instead of waiting. */
  skewMs = 0;
  /** The endpoint queue URLs are built on (the server sets it once it listens). */
  baseUrl = 'http://127.0.0.1:4566';
  private seq = 0;
  private closed = false;

  constructor(private readonly region: string) {}

  now(): number {
    return Date.now() + this.skewMs;
  }

  urlOf(q: SqsQueue): string {
    return `${this.baseUrl}/${ACCOUNT_ID}/${q.name}`;
  }

  createQueue(name: string, attributes: Record<string, string> = {}): SqsQueue {
    if (!QUEUE_NAME.test(name)) {
      throw new SqsError('InvalidParameterValue', 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length', 'InvalidParameterValue');
    }
    if (name.endsWith('.fifo')) throw new SqsError('InvalidParameterValue', 'FIFO queues are not simulated');
    const parsed = this.parseAttributes(attributes);
    const existing = this.queues.get(name);
    if (existing) {
      const differs = Object.entries(parsed).some(([k, v]) => JSON.stringify(existing.attributes[k as keyof SqsQueueAttributes]) !== JSON.stringify(v));
      if (differs) throw new SqsError('QueueNameExists', `A queue already exists with the same name and a different value for attribute(s)`, 'QueueAlreadyExists');
      return existing;
    }
    const q = new SqsQueue(name, this.region, this.now());
    q.attributes = { ...q.attributes, ...parsed };
    this.queues.set(name, q);
    return q;
  }

  /** A queue and its dead-letter queue `<name>-dlq`, messages moving there after `maxReceiveCount` receives. */
  createWithDeadLetterQueue(name: string, maxReceiveCount = 5): SqsQueue {
    const dlq = this.createQueue(`${name}-dlq`, { MessageRetentionPeriod: '1209600' });
    return this.createQueue(name, { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }) });
  }

  setAttributes(q: SqsQueue, attributes: Record<string, string>): void {
    q.attributes = { ...q.attributes, ...this.parseAttributes(attributes) };
    q.touched(this.now());
  }

  private parseAttributes(attributes: Record<string, string>): Partial<SqsQueueAttributes> {
    const out: Partial<SqsQueueAttributes> = {};
    for (const [key, value] of Object.entries(attributes)) {
      if (key === 'RedrivePolicy') {
        if (value === '') continue;
        out.RedrivePolicy = this.parseRedrive(value);
      } else if (key in RANGES) {
        const [min, max] = RANGES[key as keyof typeof RANGES];
        const n = Number(value);
        if (!Number.isInteger(n) || n < min || n > max) throw new SqsError('InvalidAttributeValue', `Invalid value for the parameter ${key}. Reason: must be an integer from ${min} to ${max}.`);
        out[key as keyof typeof RANGES] = n;
      } else if (!['Policy', 'KmsMasterKeyId', 'KmsDataKeyReusePeriodSeconds', 'SqsManagedSseEnabled', 'RedriveAllowPolicy'].includes(key)) {
        throw new SqsError('InvalidAttributeName', `Unknown Attribute ${key}.`);
      }
    }
    return out;
  }

  private parseRedrive(value: string): RedrivePolicy {
    let p: unknown;
    try {
      p = JSON.parse(value);
    } catch {
      throw new SqsError('InvalidAttributeValue', 'Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map.');
    }
    const r = p as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    const max = Number(r?.maxReceiveCount);
    if (typeof r?.deadLetterTargetArn !== 'string' || !Number.isInteger(max) || max < 1 || max > 1000) {
      throw new SqsError('InvalidAttributeValue', 'Invalid value for the parameter RedrivePolicy. Reason: needs deadLetterTargetArn and maxReceiveCount (1 to 1000).');
    }
    if (!this.byArn(r.deadLetterTargetArn)) {
      throw new SqsError('InvalidAttributeValue', `Value ${value} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.`);
    }
    return { deadLetterTargetArn: r.deadLetterTargetArn, maxReceiveCount: max };
  }

  byArn(arn: string): SqsQueue | undefined {
    return this.queues.get(arn.slice(arn.lastIndexOf(':') + 1));
  }

  /** A queue by URL (any host: only the path's last segment counts) or by name. */
  find(urlOrName: string | undefined): SqsQueue {
    const name = (urlOrName ?? '').replace(/\/+$/, '').split('/').pop() ?? '';
    const q = this.queues.get(name);
    if (!q) throw new SqsError('QueueDoesNotExist', 'The specified queue does not exist.', 'AWS.SimpleQueueService.NonExistentQueue');
    return q;
  }

  /** Puts a message in a queue; a delivery fault may lose it, send it twice or hold it back. */
  send(q: SqsQueue, body: string, delaySeconds?: number, fault: DeliveryFault = null, holdMs = 0): SqsMessage {
    if (body.length === 0) throw new SqsError('MissingParameter', 'The request must contain the parameter MessageBody.');
    if (Buffer.byteLength(body, 'utf8') > q.attributes.MaximumMessageSize) {
      throw new SqsError('InvalidParameterValue', `One or more parameters are invalid. Reason: Message must be shorter than ${q.attributes.MaximumMessageSize} bytes.`);
    }
    if (delaySeconds !== undefined && !(Number.isInteger(delaySeconds) && delaySeconds >= 0 && delaySeconds <= 900)) {
      throw new SqsError('InvalidParameterValue', 'Value for parameter DelaySeconds is invalid. Reason: must be an integer from 0 to 900.');
    }
    const now = this.now();
    const delay = (delaySeconds ?? q.attributes.DelaySeconds) * 1000 + (fault === 'reordered' ? holdMs : 0);
    const message: SqsMessage = { id: randomUUID(), body, md5: md5Hex(body), seq: ++this.seq, sentAt: now, visibleAt: now + delay, receiveCount: 0 };
    if (fault === 'lost') return message; // accepted, never stored
    q.messages.push(message);
    if (fault === 'duplicated') q.messages.push({ ...message, id: randomUUID(), seq: ++this.seq });
    q.wake();
    return message;
  }

  private dropExpired(q: SqsQueue, now: number): void {
    const oldest = now - q.attributes.MessageRetentionPeriod * 1000;
    if (q.messages.length > 0 && q.messages[0].sentAt < oldest) q.messages = q.messages.filter((m) => m.sentAt >= oldest);
  }

  /** One receive, no waiting: visible messages in send order (a redrive moves over-received ones first). */
  receiveNow(q: SqsQueue, max: number, visibilitySeconds: number | undefined, attributeNames: string[]): ReceivedMessage[] {
    const now = this.now();
    this.dropExpired(q, now);
    const out: ReceivedMessage[] = [];
    const redrive = q.attributes.RedrivePolicy;
    const dlq = redrive && this.byArn(redrive.deadLetterTargetArn);
    const visibility = (visibilitySeconds ?? q.attributes.VisibilityTimeout) * 1000;
    const visible = q.messages.filter((m) => m.visibleAt <= now).sort((a, b) => a.visibleAt - b.visibleAt || a.seq - b.seq);
    for (const m of visible) {
      if (out.length >= max) break;
      if (redrive && dlq && m.receiveCount >= redrive.maxReceiveCount) {
        // Received maxReceiveCount times without a delete: it goes to the dead-letter queue.
        q.messages.splice(q.messages.indexOf(m), 1);
        dlq.messages.push({ ...m, receiveCount: 0, firstReceivedAt: undefined, receipt: undefined, visibleAt: now, seq: ++this.seq });
        dlq.wake();
        continue;
      }
      m.receiveCount++;
      m.firstReceivedAt ??= now;
      m.visibleAt = now + visibility;
      m.receipt = receiptHandle(q.name, m.id);
      out.push({ MessageId: m.id, ReceiptHandle: m.receipt, MD5OfBody: m.md5, Body: m.body, ...attributesOf(m, attributeNames) });
    }
    return out;
  }

  /** ReceiveMessage: waits up to `waitSeconds` for a message when none is visible (long polling). */
  async receive(
    q: SqsQueue,
    max: number,
    visibilitySeconds: number | undefined,
    waitSeconds: number | undefined,
    attributeNames: string[],
    signal?: AbortSignal,
  ): Promise<ReceivedMessage[]> {
    const deadline = Date.now() + (waitSeconds ?? q.attributes.ReceiveMessageWaitTimeSeconds) * 1000;
    const onAbort = () => q.wake();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.poll(q, max, visibilitySeconds, deadline, attributeNames, signal);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async poll(q: SqsQueue, max: number, visibilitySeconds: number | undefined, deadline: number, attributeNames: string[], signal?: AbortSignal): Promise<ReceivedMessage[]> {
    for (;;) {
      // A caller gone away receives nothing (its messages stay visible for others).
      if (signal?.aborted) return [];
      const got = this.receiveNow(q, max, visibilitySeconds, attributeNames);
      const left = deadline - Date.now();
      if (got.length > 0 || left <= 0 || this.closed) return got;
      const nextVisible = Math.min(...q.messages.map((m) => m.visibleAt)) - this.now();
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          q.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(5, Math.min(left, nextVisible, 1000)));
        q.waiters.add(done);
      });
    }
  }

  private inFlight(q: SqsQueue, receipt: string): SqsMessage | undefined {
    parseReceipt(receipt);
    const m = q.messages.find((x) => x.receipt === receipt);
    return m && m.visibleAt > this.now() ? m : undefined;
  }

  /** DeleteMessage: with the latest receipt handle; an older (or unknown) one succeeds and deletes nothing, as SQS does. */
  delete(q: SqsQueue, receipt: string): void {
    parseReceipt(receipt);
    const i = q.messages.findIndex((x) => x.receipt === receipt);
    if (i >= 0) q.messages.splice(i, 1);
  }

  changeVisibility(q: SqsQueue, receipt: string, seconds: number): void {
    if (!(Number.isInteger(seconds) && seconds >= 0 && seconds <= 43_200)) {
      throw new SqsError('InvalidParameterValue', 'Value for parameter VisibilityTimeout is invalid. Reason: must be an integer from 0 to 43200.');
    }
    const m = this.inFlight(q, receipt);
    if (!m) throw new SqsError('MessageNotInflight', 'The message referred to is not in flight.', 'AWS.SimpleQueueService.MessageNotInflight');
    m.visibleAt = this.now() + seconds * 1000;
    if (seconds === 0) q.wake();
  }

  purge(q: SqsQueue): void {
    q.messages = [];
  }

  attributes(q: SqsQueue, names: string[]): Record<string, string> {
    const now = this.now();
    this.dropExpired(q, now);
    const all: Record<string, string> = {
      QueueArn: q.arn,
      ApproximateNumberOfMessages: String(q.messages.filter((m) => m.visibleAt <= now).length),
      ApproximateNumberOfMessagesNotVisible: String(q.messages.filter((m) => m.visibleAt > now && m.receiveCount > 0).length),
      ApproximateNumberOfMessagesDelayed: String(q.messages.filter((m) => m.visibleAt > now && m.receiveCount === 0).length),
      CreatedTimestamp: String(Math.floor(q.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(q.lastModifiedAt / 1000)),
      VisibilityTimeout: String(q.attributes.VisibilityTimeout),
      MessageRetentionPeriod: String(q.attributes.MessageRetentionPeriod),
      ReceiveMessageWaitTimeSeconds: String(q.attributes.ReceiveMessageWaitTimeSeconds),
      DelaySeconds: String(q.attributes.DelaySeconds),
      MaximumMessageSize: String(q.attributes.MaximumMessageSize),
      SqsManagedSseEnabled: 'true',
      ...(q.attributes.RedrivePolicy ? { RedrivePolicy: JSON.stringify(q.attributes.RedrivePolicy) } : {}),
    };
    if (names.length === 0) return {};
    if (names.includes('All')) return all;
    const out: Record<string, string> = {};
    for (const n of names) {
      if (!(n in all) && n !== 'RedrivePolicy') throw new SqsError('InvalidAttributeName', `Unknown Attribute ${n}.`);
      if (n in all) out[n] = all[n];
    }
    return out;
  }

  /** Ends every long poll (server shutdown). */
  close(): void {
    this.closed = true;
    for (const q of this.queues.values()) q.wake();
  }
}

function receiptHandle(queue: string, id: string): string {
  return Buffer.from(`sim-receipt:${queue}:${id}:${randomUUID()}`).toString('base64');
}

function parseReceipt(receipt: string): void {
  if (!Buffer.from(receipt, 'base64').toString('utf8').startsWith('sim-receipt:')) {
    throw new SqsError('ReceiptHandleIsInvalid', `The input receipt handle "${receipt}" is not a valid receipt handle.`);
  }
}

function attributesOf(m: SqsMessage, names: string[]): { Attributes?: Record<string, string> } {
  if (names.length === 0) return {};
  const all: Record<string, string> = {
    SenderId: 'AIDASIMULATOR',
    SentTimestamp: String(Math.floor(m.sentAt)),
    ApproximateReceiveCount: String(m.receiveCount),
    ApproximateFirstReceiveTimestamp: String(Math.floor(m.firstReceivedAt ?? m.sentAt)),
  };
  const wanted = names.includes('All') ? Object.keys(all) : names.filter((n) => n in all);
  return wanted.length ? { Attributes: Object.fromEntries(wanted.map((n) => [n, all[n]])) } : {};
}
