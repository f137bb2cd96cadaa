/** Prometheus counters of every AWS call Batchiepatchie makes (API and pipeline alike). */
import { counter } from '../promRegistry';

export const awsMetrics = {
  awsCalls: counter('batchiepatchie_aws_calls_total', 'AWS API calls made by Batchiepatchie', ['operation']),
  awsThrottleWaits: counter(
    'batchiepatchie_aws_rate_limit_waits_total',
    'Times an AWS call waited for the shared per-operation rate limit',
    ['operation'],
  ),
  unorderedFinishedLists: counter(
    'batchiepatchie_listing_unordered_total',
    'Finished-job lists (by status) that were not newest first, so the round listed AFTER_CREATED_AT instead',
    ['status'],
  ),
};
