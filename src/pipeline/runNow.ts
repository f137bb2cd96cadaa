/**
 * Run a sync round or a maintenance task now and wait for its outcome —
 * for tests, benchmarks and operators, instead of waiting on the schedule.
 * Workers must be running (startWorkers) against the same Redis prefix.
 */
import { randomBytes } from 'node:crypto';
import { Job, type Queue } from 'bullmq';
import { MAINTENANCE_QUEUE } from './names';
import type { PipelineQueuesInternal } from './queues';
import { taskNamed, type MaintenanceTaskName } from './tasks';
import type { FinishRoundResult } from './tasks/finishRound';
import { syncRoundTask, type RoundPlan } from './tasks/syncRound';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class PipelineJobFailed extends Error {
  constructor(
    readonly jobId: string,
    readonly reason: string,
  ) {
    super(`pipeline job ${jobId} failed: ${reason}`);
    this.name = 'PipelineJobFailed';
  }
}

/** Polls a job until it completed (its return value) or failed (PipelineJobFailed). */
export async function waitForJob<T>(queue: Queue, jobId: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const state = await queue.getJobState(jobId);
    if (state === 'completed' || state === 'failed') {
      // Read after the state is final, so the return value is there.
      const job = await Job.fromId(queue, jobId);
      if (state === 'completed') return job?.returnvalue as T;
      throw new PipelineJobFailed(jobId, job?.failedReason ?? 'unknown');
    }
    await sleep(20);
  }
  throw new Error(`pipeline job ${jobId} did not finish within ${timeoutMs} ms`);
}

export type RoundOutcome =
  | ({ status: 'completed' } & RoundPlan & FinishRoundResult)
  | ({ status: 'failed'; reason: string } & RoundPlan)
  | ({ status: 'skipped' } & RoundPlan);

export async function runSyncRound(pq: PipelineQueuesInternal, opts: { timeoutMs?: number } = {}): Promise<RoundOutcome> {
  const id = `manual-${Date.now()}-${randomBytes(3).toString('hex')}`;
  await pq.sync.add(syncRoundTask.name, {}, { jobId: id, attempts: 1, removeOnComplete: { age: 600 }, removeOnFail: { age: 600 } });
  const plan = await waitForJob<RoundPlan>(pq.sync, id, opts.timeoutMs);
  if (!plan.finishJobId) return { status: 'skipped', ...plan };
  try {
    const finish = await waitForJob<FinishRoundResult>(pq.sync, plan.finishJobId, opts.timeoutMs);
    return { status: 'completed', ...plan, ...finish };
  } catch (err) {
    if (err instanceof PipelineJobFailed) return { status: 'failed', reason: err.reason, ...plan };
    throw err;
  }
}

export async function runMaintenanceTask<T = unknown>(
  pq: PipelineQueuesInternal,
  name: MaintenanceTaskName,
  opts: { timeoutMs?: number } = {},
): Promise<T> {
  if (!taskNamed(name, MAINTENANCE_QUEUE)) throw new Error(`unknown maintenance task ${name}`);
  const id = `manual-${name}-${Date.now()}-${randomBytes(3).toString('hex')}`;
  await pq.maintenance.add(name, {}, { jobId: id, attempts: 1, removeOnComplete: { age: 600 }, removeOnFail: { age: 600 } });
  return waitForJob<T>(pq.maintenance, id, opts.timeoutMs);
}
