/** Statuses AWS Batch reports, in the order a job moves through them. */
export const AWS_JOB_STATUSES = ['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const;
export type AwsJobStatus = (typeof AWS_JOB_STATUSES)[number];
