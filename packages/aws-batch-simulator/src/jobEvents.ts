/**
 * An EventBridge rule matching `{"source": ["aws.batch"], "detail-type":
 * ["Batch Job State Change"]}` with an SQS target: every job status change of
 * the model becomes one event in the queue, shaped as EventBridge delivers it
 * (the envelope, and the job as DescribeJobs shows it in `detail`).
 */
import type { JobDetail } from '@aws-sdk/client-batch';
import { randomUUID } from 'node:crypto';
import { ACCOUNT_ID } from './constants';
import type { SimModel } from './model';
import type { SqsDelivery } from './protocols/sqs';

export const JOB_STATE_CHANGE = 'Batch Job State Change';

export interface BatchJobStateChangeEvent {
  version: '0';
  id: string;
  'detail-type': typeof JOB_STATE_CHANGE;
  source: 'aws.batch';
  account: string;
  /** ISO-8601 to the second, as EventBridge writes it. */
  time: string;
  region: string;
  resources: string[];
  detail: JobDetail;
}

export function jobStateChangeEvent(region: string, detail: JobDetail, at: number): BatchJobStateChangeEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': JOB_STATE_CHANGE,
    source: 'aws.batch',
    account: ACCOUNT_ID,
    time: new Date(Math.floor(at / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
    region,
    resources: detail.jobArn ? [detail.jobArn] : [],
    detail,
  };
}

export class JobEventRule {
  private target: string | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly model: SimModel,
    private readonly deliver: SqsDelivery,
  ) {}

  get queue(): string | null {
    return this.target;
  }

  /** Sends every job state change to `queue` (created with a dead-letter queue `<queue>-dlq` if missing); null stops it. */
  route(queue: string | null): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.target = queue;
    if (!queue) return;
    if (!this.model.sqs.queues.has(queue)) this.model.sqs.createWithDeadLetterQueue(queue);
    this.unsubscribe = this.model.onJobStateChange((detail, at) => {
      const q = this.target;
      // A queue deleted under the rule: EventBridge fails the delivery (nothing stored).
      if (!q || !this.model.sqs.queues.has(q)) return;
      this.deliver('Events.Delivery', q, JSON.stringify(jobStateChangeEvent(this.model.region, detail, at)));
    });
  }
}
