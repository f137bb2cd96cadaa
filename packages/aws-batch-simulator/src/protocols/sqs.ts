/**
 * SQS, AWS JSON 1.0 (X-Amz-Target AmazonSQS.*, application/x-amz-json-1.0),
 * the protocol the current SDKs speak. Errors carry `__type`
 * (`com.amazonaws.sqs#QueueDoesNotExist`) and the query-compatible code in
 * `x-amzn-query-error`, as SQS answers them.
 */
import { z } from 'zod';
import type { SimModel } from '../model';
import { SqsError } from '../sqs';
import { ApiError, type Protocol, type WireResponse, jsonResponse, parseJsonBody } from './common';
import { targetOperation } from './jsonTarget';
import { validate } from './validate';

const PREFIX = 'AmazonSQS.';
export const AMZ_JSON_1_0 = 'application/x-amz-json-1.0';
const INVALID = 'InvalidParameterValue';

/** An SQS error with its query-compatible code. */
class SqsApiError extends ApiError {
  constructor(
    status: number,
    code: string,
    message: string,
    readonly queryCode: string,
  ) {
    super(status, code, message);
  }
}

function sqsError(status: number, code: string, message: string, queryCode = code): WireResponse {
  return jsonResponse(status, { __type: `com.amazonaws.sqs#${code}`, message }, AMZ_JSON_1_0, {
    'x-amzn-query-error': `${queryCode};${status >= 500 ? 'Receiver' : 'Sender'}`,
  });
}

const attrs = z.record(z.string(), z.string());
const names = z.array(z.string());
const receipt = z.string().min(1);
const batchEntries = <T extends z.ZodRawShape>(shape: T) => z.array(z.object({ Id: z.string(), ...shape }));

const schemas = {
  CreateQueue: z.object({ QueueName: z.string(), Attributes: attrs.optional(), tags: attrs.optional() }),
  GetQueueUrl: z.object({ QueueName: z.string(), QueueOwnerAWSAccountId: z.string().optional() }),
  ListQueues: z.object({ QueueNamePrefix: z.string().optional(), MaxResults: z.number().int().min(1).max(1000).optional(), NextToken: z.string().optional() }),
  GetQueueAttributes: z.object({ QueueUrl: z.string(), AttributeNames: names.optional() }),
  SetQueueAttributes: z.object({ QueueUrl: z.string(), Attributes: attrs }),
  PurgeQueue: z.object({ QueueUrl: z.string() }),
  SendMessage: z.object({ QueueUrl: z.string(), MessageBody: z.string(), DelaySeconds: z.number().int().optional() }).passthrough(),
  SendMessageBatch: z.object({ QueueUrl: z.string(), Entries: batchEntries({ MessageBody: z.string(), DelaySeconds: z.number().int().optional() }) }),
  ReceiveMessage: z
    .object({
      QueueUrl: z.string(),
      MaxNumberOfMessages: z.number().int().optional(),
      VisibilityTimeout: z.number().int().min(0).max(43_200).optional(),
      WaitTimeSeconds: z.number().int().optional(),
      AttributeNames: names.optional(),
      MessageSystemAttributeNames: names.optional(),
      MessageAttributeNames: names.optional(),
      ReceiveRequestAttemptId: z.string().optional(),
    })
    .passthrough(),
  DeleteMessage: z.object({ QueueUrl: z.string(), ReceiptHandle: receipt }),
  DeleteMessageBatch: z.object({ QueueUrl: z.string(), Entries: batchEntries({ ReceiptHandle: receipt }) }),
  ChangeMessageVisibility: z.object({ QueueUrl: z.string(), ReceiptHandle: receipt, VisibilityTimeout: z.number().int() }),
  ChangeMessageVisibilityBatch: z.object({ QueueUrl: z.string(), Entries: batchEntries({ ReceiptHandle: receipt, VisibilityTimeout: z.number().int() }) }),
};

/** Batch requests: 1..10 entries with distinct, well-formed ids. */
function checkBatch(entries: { Id: string }[]): void {
  if (entries.length === 0) throw new SqsError('EmptyBatchRequest', 'There should be at least one entry in the request.', 'AWS.SimpleQueueService.EmptyBatchRequest');
  if (entries.length > 10) throw new SqsError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${entries.length}.`, 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest');
  const ids = new Set<string>();
  for (const e of entries) {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(e.Id)) throw new SqsError('InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.', 'AWS.SimpleQueueService.InvalidBatchEntryId');
    if (ids.has(e.Id)) throw new SqsError('BatchEntryIdsNotDistinct', `Id ${e.Id} repeated.`, 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct');
    ids.add(e.Id);
  }
}

/** Each entry of a batch succeeds or fails on its own. */
function eachEntry<E extends { Id: string }, R extends object>(entries: E[], fn: (e: E) => R) {
  checkBatch(entries);
  const Successful: (R & { Id: string })[] = [];
  const Failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[] = [];
  for (const e of entries) {
    try {
      Successful.push({ Id: e.Id, ...fn(e) });
    } catch (err) {
      if (!(err instanceof SqsError)) throw err;
      Failed.push({ Id: e.Id, SenderFault: err.status < 500, Code: err.queryCode, Message: err.message });
    }
  }
  return { Successful, Failed };
}

async function handleOperation(op: string, body: Record<string, unknown>, model: SimModel, deliver: SqsDelivery, signal?: AbortSignal): Promise<unknown> {
  const sqs = model.sqs;
  switch (op) {
    case 'CreateQueue': {
      const input = validate(schemas.CreateQueue, body, INVALID);
      return { QueueUrl: sqs.urlOf(sqs.createQueue(input.QueueName, input.Attributes)) };
    }
    case 'GetQueueUrl': {
      const input = validate(schemas.GetQueueUrl, body, INVALID);
      return { QueueUrl: sqs.urlOf(sqs.find(input.QueueName)) };
    }
    case 'ListQueues': {
      const input = validate(schemas.ListQueues, body, INVALID);
      const all = [...sqs.queues.values()].filter((q) => q.name.startsWith(input.QueueNamePrefix ?? '')).sort((a, b) => a.name.localeCompare(b.name));
      return { QueueUrls: all.slice(0, input.MaxResults ?? 1000).map((q) => sqs.urlOf(q)) };
    }
    case 'GetQueueAttributes': {
      const input = validate(schemas.GetQueueAttributes, body, INVALID);
      const a = sqs.attributes(sqs.find(input.QueueUrl), input.AttributeNames ?? []);
      return Object.keys(a).length ? { Attributes: a } : {};
    }
    case 'SetQueueAttributes': {
      const input = validate(schemas.SetQueueAttributes, body, INVALID);
      sqs.setAttributes(sqs.find(input.QueueUrl), input.Attributes);
      return {};
    }
    case 'PurgeQueue':
      sqs.purge(sqs.find(validate(schemas.PurgeQueue, body, INVALID).QueueUrl));
      return {};
    case 'SendMessage': {
      const input = validate(schemas.SendMessage, body, INVALID);
      const m = deliver('SQS.SendMessage', sqs.find(input.QueueUrl).name, input.MessageBody, input.DelaySeconds);
      return { MessageId: m.id, MD5OfMessageBody: m.md5 };
    }
    case 'SendMessageBatch': {
      const input = validate(schemas.SendMessageBatch, body, INVALID);
      const q = sqs.find(input.QueueUrl);
      return eachEntry(input.Entries, (e) => {
        const m = deliver('SQS.SendMessageBatch', q.name, e.MessageBody, e.DelaySeconds);
        return { MessageId: m.id, MD5OfMessageBody: m.md5 };
      });
    }
    case 'ReceiveMessage': {
      const input = validate(schemas.ReceiveMessage, body, INVALID);
      const max = input.MaxNumberOfMessages ?? 1;
      if (max < 1 || max > 10) throw new SqsError(INVALID, `Value ${max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`);
      if (input.WaitTimeSeconds !== undefined && (input.WaitTimeSeconds < 0 || input.WaitTimeSeconds > 20)) {
        throw new SqsError(INVALID, `Value ${input.WaitTimeSeconds} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.`);
      }
      const q = sqs.find(input.QueueUrl);
      const wanted = [...(input.AttributeNames ?? []), ...(input.MessageSystemAttributeNames ?? [])];
      const Messages = await sqs.receive(q, max, input.VisibilityTimeout, input.WaitTimeSeconds, wanted, signal);
      return Messages.length ? { Messages } : {};
    }
    case 'DeleteMessage': {
      const input = validate(schemas.DeleteMessage, body, INVALID);
      sqs.delete(sqs.find(input.QueueUrl), input.ReceiptHandle);
      return {};
    }
    case 'DeleteMessageBatch': {
      const input = validate(schemas.DeleteMessageBatch, body, INVALID);
      const q = sqs.find(input.QueueUrl);
      return eachEntry(input.Entries, (e) => {
        sqs.delete(q, e.ReceiptHandle);
        return {};
      });
    }
    case 'ChangeMessageVisibility': {
      const input = validate(schemas.ChangeMessageVisibility, body, INVALID);
      sqs.changeVisibility(sqs.find(input.QueueUrl), input.ReceiptHandle, input.VisibilityTimeout);
      return {};
    }
    case 'ChangeMessageVisibilityBatch': {
      const input = validate(schemas.ChangeMessageVisibilityBatch, body, INVALID);
      const q = sqs.find(input.QueueUrl);
      return eachEntry(input.Entries, (e) => {
        sqs.changeVisibility(q, e.ReceiptHandle, e.VisibilityTimeout);
        return {};
      });
    }
    default:
      throw new SqsError('UnsupportedOperation', `Unknown operation ${op}`, 'AWS.SimpleQueueService.UnsupportedOperation');
  }
}

/** Puts one message in a queue by name, the server's delivery faults applied (fault key given). */
export type SqsDelivery = (faultKey: string, queue: string, body: string, delaySeconds?: number) => { id: string; md5: string };

export function sqsProtocol(deliver: SqsDelivery): Protocol {
  return {
    service: 'SQS',
    operation: (req) => targetOperation(req, PREFIX),
    async handle(op, req, model) {
      const body = parseJsonBody(req, 'SerializationException');
      try {
        return jsonResponse(200, await handleOperation(op, body, model, deliver, req.signal), AMZ_JSON_1_0);
      } catch (err) {
        if (err instanceof SqsError) throw new SqsApiError(err.status, err.code, err.message, err.queryCode);
        throw err;
      }
    },
    errorResponse: (err) => sqsError(err.status, err.code, err.message, err instanceof SqsApiError ? err.queryCode : err.code),
    fault: (kind) =>
      kind === 'throttle'
        ? new SqsApiError(400, 'RequestThrottled', 'Request is throttled (simulated)', 'RequestThrottled')
        : new SqsApiError(500, 'InternalError', 'We encountered an internal error. Please try again. (simulated)', 'InternalError'),
  };
}
