/** The AWS simulator: a wire-compatible Batch/ECS/EC2/CloudWatch Logs/S3 endpoint (SPEC section 8). */
export { startSimulator } from './server';
export { SimModel, JOB_LOG_GROUP, TIMING } from './model';
export { SCENARIOS } from './scenarios';
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
