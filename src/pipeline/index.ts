export { mapJobDetail } from './mapping';
export { openPipelineQueues, type PipelineQueues } from './queues';
export { startWorkers } from './worker';
export { startScheduler } from './scheduler';
export { InvalidJobEventError } from './jobEvents';
export { runSyncRound, runMaintenanceTask } from './runNow';
