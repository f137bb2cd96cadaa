/**
 * aws-batch-simulator: a wire-compatible AWS Batch / ECS / EC2 / CloudWatch Logs / S3
 * endpoint with a moving model of jobs and capacity (see the package README).
 */
export { startSimulator } from './server';
export { runSimulatorCli, type SimulatorCliOptions } from './cli';
export { SimModel, JOB_LOG_GROUP, TIMING } from './model';
export { SCENARIOS } from './scenarios';
export { AWS_JOB_STATUSES, type AwsJobStatus } from './statuses';
export type { CallRecord, FaultCounts } from './faults';
export { JOB_STATE_CHANGE, jobStateChangeEvent, type BatchJobStateChangeEvent } from './jobEvents';
export { SqsStore, SqsQueue, SqsError } from './sqs';
export type {
  BulkLoadInput,
  CreateComputeEnvironmentInput,
  CreateJobQueueInput,
  FaultSettings,
  JobPlan,
  ScenarioName,
  SimJobInput,
  SimulatorHandle,
  SimulatorOptions,
} from './types';
