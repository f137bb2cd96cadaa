/**
 * The SQS calls of the job event queue (events_queue_url): a long poll, a
 * batched delete, and whether the queue has a redrive policy.
 */
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

export type { Message as QueueMessage } from '@aws-sdk/client-sqs';

/** Up to 10 messages, waiting up to `waitSeconds` for one (long polling); SentTimestamp and ApproximateReceiveCount attached. */
export async function receiveMessages(sqs: SQSClient, queueUrl: string, waitSeconds: number, signal?: AbortSignal): Promise<Message[]> {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: waitSeconds,
      MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
    }),
    { abortSignal: signal },
  );
  return out.Messages ?? [];
}

/** Deletes received messages, 10 a call, the calls side by side; returns the deletes SQS refused (code and message). */
export async function deleteMessages(sqs: SQSClient, queueUrl: string, messages: Message[]): Promise<{ code?: string; message?: string }[]> {
  const chunks: Message[][] = [];
  for (let i = 0; i < messages.length; i += 10) chunks.push(messages.slice(i, i + 10));
  const outs = await Promise.all(
    chunks.map((chunk) =>
      sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle })) })),
    ),
  );
  return outs.flatMap((out) => (out.Failed ?? []).map((f) => ({ code: f.Code, message: f.Message })));
}

export async function hasRedrivePolicy(sqs: SQSClient, queueUrl: string): Promise<boolean> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }));
  return Boolean(out.Attributes?.RedrivePolicy);
}
