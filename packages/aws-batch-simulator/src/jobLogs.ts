/**
 * What a running job writes to CloudWatch Logs: its lines spread over its run,
 * appended to `/aws/batch/job` as simulated time passes.
 */
import { JOB_LOG_GROUP } from './constants';
import type { SimJob } from './entities';
import type { LogStore } from './logStore';

export class JobLogWriter {
  /** Jobs with lines still to write. */
  private readonly writers = new Set<SimJob>();

  constructor(private readonly logs: LogStore) {}

  /** The job starts RUNNING: its stream exists, its lines are due over `runMs`. */
  begin(job: SimJob, now: number, runMs: number): void {
    if (!job.logStreamName) return;
    const lines = job.plan.logLines ?? defaultLogLines(job);
    this.logs.ensureStream(JOB_LOG_GROUP, job.logStreamName, now);
    if (lines.length === 0) return;
    job.pendingLog = lines;
    job.logNext = 0;
    job.logStep = Math.max(1, Math.floor(runMs / (lines.length + 1)));
    job.logNextAt = now + job.logStep;
    this.writers.add(job);
  }

  /** Writes every line whose time has come. */
  writeDue(now: number): void {
    for (const job of this.writers) {
      const lines = job.pendingLog;
      if (!lines || !job.logStreamName) {
        this.writers.delete(job);
        continue;
      }
      while (job.logNext < lines.length && job.logNextAt <= now) {
        this.logs.append(JOB_LOG_GROUP, job.logStreamName, job.logNextAt, lines[job.logNext++], now);
        job.logNextAt += job.logStep;
      }
      if (job.logNext >= lines.length) this.forget(job);
    }
  }

  /** A run that ends writes what it had left to say (a killed one is `forget`-ten instead). */
  end(job: SimJob, now: number): void {
    const lines = job.pendingLog;
    if (lines && job.logStreamName && job.status === 'RUNNING') {
      for (let i = job.logNext; i < lines.length; i++) this.logs.append(JOB_LOG_GROUP, job.logStreamName, now, lines[i], now);
    }
    this.forget(job);
  }

  forget(job: SimJob): void {
    job.pendingLog = null;
    this.writers.delete(job);
  }
}

function defaultLogLines(job: SimJob): string[] {
  const cmd = job.spec.command.join(' ');
  return [
    `+ ${cmd}`,
    `[${job.name}] starting on ${job.spec.fargate ? 'FARGATE' : 'EC2'} with ${job.spec.vcpus} vCPU, ${job.spec.memory} MiB`,
    `[${job.name}] working...`,
    job.plan.outcome === 'FAILED' ? `[${job.name}] error: ${job.plan.reason ?? 'process exited with a non-zero status'}` : `[${job.name}] done`,
  ];
}
