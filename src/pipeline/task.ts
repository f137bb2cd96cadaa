/**
 * What a pipeline task is: one definition holds its BullMQ name and queue,
 * its schedule (from the config, and whether the config switches it on), its
 * retry and keep policy, its work, and what to do when its last attempt
 * fails. The scheduler, the workers' dispatch, runNow and the metrics all
 * read the definitions in tasks/index.ts.
 */
import type { FlowProducer } from 'bullmq';
import type { Config } from '../config/schema';
import type { TaskContext } from './context';
import type { PipelineQueueName } from './names';

/** The config keys that switch a task on (SPEC section 3). */
export type TaskSwitch = 'kill_stuck_jobs' | 'use_auto_scaler' | 'use_cleaner';

/** BullMQ's attempts and back-off, as given to every job of the task. */
export interface RetryPolicy {
  attempts: number;
  backoff?: { type: 'exponential'; delay: number; jitter: number };
}

/** How long BullMQ keeps finished jobs of the task (for bull-board and runNow). */
export interface KeepPolicy {
  removeOnComplete: { age: number; count: number };
  removeOnFail: { age: number; count: number };
}

/** The BullMQ job a task runs as, seen through what tasks use of it. */
export interface TaskRun {
  /** The BullMQ job id. */
  id: string;
  /** This worker's flow producer, for tasks that fan out. */
  flow: FlowProducer;
  /** Return values of the job's children (a flow's parent). */
  childResults<T>(): Promise<T[]>;
}

export interface TaskDefinition<
  Name extends string = string,
  Data = unknown,
  Result = unknown,
  Queue extends PipelineQueueName = PipelineQueueName,
> {
  /** The BullMQ job name; also the metrics' and logs' task label. */
  name: Name;
  queue: Queue;
  /** Periodic tasks: a BullMQ job scheduler adds a job every period. Others are added by another task. */
  schedule?: { schedulerId: string; everyMs(config: Config): number };
  /** The config key that switches the task on; none: always on. Checked by the scheduler and again at dispatch. */
  switchedOnBy?: TaskSwitch;
  retry: RetryPolicy;
  keep: KeepPolicy;
  /** Which duration metric records its runs: sync tasks by result, maintenance tasks (with a run counter). */
  metric?: 'syncTask' | 'task';
  run(ctx: TaskContext, data: Data, job: TaskRun): Promise<Result>;
  /** Runs once BullMQ will not retry the job any more (its last attempt failed). */
  onFinalFailure?(ctx: TaskContext, data: Data): Promise<void>;
}

/** A definition with its name and queue kept as literal types (tasks/index.ts derives the name unions). */
export function defineTask<const Name extends string, Data, Result, const Queue extends PipelineQueueName>(
  definition: TaskDefinition<Name, Data, Result, Queue>,
): TaskDefinition<Name, Data, Result, Queue> {
  return definition;
}

export function isSwitchedOn(task: Pick<TaskDefinition, 'switchedOnBy'>, config: Config): boolean {
  return task.switchedOnBy === undefined || config[task.switchedOnBy];
}

// Policies shared by several tasks; each definition names the one it uses.

const exponential = (attempts: number, delay: number): RetryPolicy => ({
  attempts,
  backoff: { type: 'exponential', delay, jitter: 0.5 },
});

/** A few quick tries; the next period picks up anything left. */
export const MAINTENANCE_RETRY = exponential(3, 1000);
/** The round and its finishing step. */
export const ROUND_RETRY = exponential(3, 1000);
/** A round's per-queue and per-array-parent tasks: throttling storms and DB blips pass. */
export const SYNC_TASK_RETRY = exponential(5, 500);
/** One attempt: what is left waits for the next period. */
export const NO_RETRY: RetryPolicy = { attempts: 1 };

/** Periodic jobs (one per period). */
export const SCHEDULED_KEEP: KeepPolicy = { removeOnComplete: { age: 3600, count: 200 }, removeOnFail: { age: 24 * 3600, count: 500 } };
/** Jobs a round adds (many per period). */
export const ROUND_KEEP: KeepPolicy = { removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 24 * 3600, count: 1000 } };
