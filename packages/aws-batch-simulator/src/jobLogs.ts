/**
 * What a running job writes to CloudWatch Logs: its lines spread over its run,
 * appended to `/aws/batch/job` as simulated time passes. A multi-node job
 * writes one stream per node (each node is its own container on AWS).
 */
import { JOB_LOG_GROUP } from './constants';
import type { PendingLogStream, SimJob } from './entities';
import type { LogStore } from './logStore';

export class JobLogWriter {
  /** Jobs with lines still to write. */
  private readonly writers = new Set<SimJob>();

  constructor(private readonly logs: LogStore) {}

  /** The job starts RUNNING: its streams exist, their lines are due over `runMs`. */
  begin(job: SimJob, now: number, runMs: number): void {
    const pending: PendingLogStream[] = [];
    for (const [stream, lines] of plannedStreams(job)) {
      this.logs.ensureStream(JOB_LOG_GROUP, stream, now);
      if (lines.length === 0) continue;
      const step = Math.max(1, Math.floor(runMs / (lines.length + 1)));
      pending.push({ stream, lines, next: 0, step, nextAt: now + step });
    }
    if (pending.length === 0) return;
    job.pendingLog = pending;
    this.writers.add(job);
  }

  /** Writes every line whose time has come. */
  writeDue(now: number): void {
    for (const job of this.writers) {
      const pending = job.pendingLog;
      if (!pending) {
        this.writers.delete(job);
        continue;
      }
      let left = false;
      for (const p of pending) {
        while (p.next < p.lines.length && p.nextAt <= now) {
          this.logs.append(JOB_LOG_GROUP, p.stream, p.nextAt, p.lines[p.next++], now);
          p.nextAt += p.step;
        }
        left ||= p.next < p.lines.length;
      }
      if (!left) this.forget(job);
    }
  }

  /** A run that ends writes what it had left to say (a killed one is `forget`-ten instead). */
  end(job: SimJob, now: number): void {
    if (job.pendingLog && job.status === 'RUNNING') {
      for (const p of job.pendingLog) {
        for (let i = p.next; i < p.lines.length; i++) this.logs.append(JOB_LOG_GROUP, p.stream, now, p.lines[i], now);
      }
    }
    this.forget(job);
  }

  forget(job: SimJob): void {
    job.pendingLog = null;
    this.writers.delete(job);
  }
}

/** Each stream the job writes with its lines: the job's own, or one per node of a multi-node job. */
function plannedStreams(job: SimJob): [string, string[]][] {
  if (!job.logStreamName) return [];
  const nodes = job.nodeLogStreamNames;
  if (!nodes) return [[job.logStreamName, job.plan.logLines ?? defaultLogLines(job)]];
  return nodes.map((stream, node) => [stream, nodeLogLines(job, node)]);
}

/** A node's `nodeLogLines` entry; else the main node (0) says the job's `logLines`; else default lines naming the node. */
function nodeLogLines(job: SimJob, node: number): string[] {
  return job.plan.nodeLogLines?.[node] ?? (node === 0 ? job.plan.logLines : undefined) ?? defaultLogLines(job, node);
}

function defaultLogLines(job: SimJob, node?: number): string[] {
  const cmd = job.spec.command.join(' ');
  const who = node === undefined ? job.name : `${job.name} node ${node}`;
  return [
    `+ ${cmd}`,
    `[${who}] starting on ${job.spec.fargate ? 'FARGATE' : 'EC2'} with ${job.spec.vcpus} vCPU, ${job.spec.memory} MiB`,
    `[${who}] working...`,
    job.plan.outcome === 'FAILED' ? `[${who}] error: ${job.plan.reason ?? 'process exited with a non-zero status'}` : `[${who}] done`,
  ];
}
