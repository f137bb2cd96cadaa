/**
 * Links into the AWS console for a job: the job in AWS Batch and its log
 * stream in CloudWatch, in the job's own region (from its task ARN when it
 * has one, else the region the server reads) and partition.
 */

/** The region an ARN names (arn:partition:service:region:account:resource), or null. */
export function regionOfArn(arn: string | null | undefined): string | null {
  const parts = (arn ?? '').split(':');
  return parts.length >= 6 && parts[0] === 'arn' && /^[a-z]{2}(-[a-z]+)+-\d+$/.test(parts[3]) ? parts[3] : null;
}

/** The console's origin for a region: China and GovCloud have their own. */
export function consoleOrigin(region: string): string {
  if (region.startsWith('cn-')) return `https://${region}.console.amazonaws.cn`;
  if (region.startsWith('us-gov-')) return `https://${region}.console.amazonaws-us-gov.com`;
  return `https://${region}.console.aws.amazon.com`;
}

export function batchJobUrl(region: string, jobId: string): string {
  return `${consoleOrigin(region)}/batch/home?region=${region}#jobs/detail/${encodeURIComponent(jobId)}`;
}

/** CloudWatch's console escapes path parts in its fragment with `$25` for `%`. */
function cloudWatchPart(s: string): string {
  return encodeURIComponent(s).replace(/%/g, '$25');
}

export function logStreamUrl(region: string, group: string, stream: string): string {
  return `${consoleOrigin(region)}/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${cloudWatchPart(group)}/log-events/${cloudWatchPart(stream)}`;
}
