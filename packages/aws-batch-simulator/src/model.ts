/**
 * The moving model behind the simulator: job queues → compute environments →
 * ECS clusters → container instances → EC2 instances, and jobs moving through
 * SUBMITTED → … → SUCCEEDED/FAILED as simulated time passes.
 *
 * Time only moves in `sync()`: events (job transitions) are applied at their
 * due time, and once per simulated second a tick places RUNNABLE jobs on
 * capacity, scales managed compute environments and writes log lines.
 * This module owns jobs and time; capacity lives in infrastructure.ts, log
 * writing in jobLogs.ts, the wire shapes in views.ts and listing.ts.
 */
import type { ComputeEnvironmentDetail, JobDetail, JobQueueDetail } from '@aws-sdk/client-batch';
import { AWS_JOB_STATUSES, type AwsJobStatus } from './statuses';
import { SimClock } from './clock';
import {
  type AttemptRecord,
  type JobSpec,
  type SimCluster,
  type SimComputeEnvironment,
  type SimContainerInstance,
  type SimInstance,
  SimJob,
  SimQueue,
  STATUS_INDEX,
} from './entities';
import { TimeHeap } from './heap';
import { Infrastructure, type Placement } from './infrastructure';
import { createHash } from 'node:crypto';
import { JobLogWriter } from './jobLogs';
import { LogStore } from './logStore';
import { Rng } from './rng';
import { S3Store } from './s3Store';
import { SqsStore } from './sqs';
import { ChunkedSortedList } from './sortedList';
import type {
  BulkLoadInput,
  CreateComputeEnvironmentInput,
  CreateJobQueueInput,
  JobPlan,
  SimJobInput,
  StatusCounts,
} from './types';
import { computeEnvironmentDetail, jobDetail, jobQueueDetail } from './views';

import { ACCOUNT_ID, JOB_LOG_GROUP, SimError, TIMING } from './constants';

export { ACCOUNT_ID, JOB_LOG_GROUP, SimError, TIMING };

export interface SimModelOptions {
  seed?: number;
  clock?: 'real' | 'manual';
  speed?: number;
  retentionSeconds?: number;
  region?: string;
  /** Start of simulated time (ms); default: now. */
  origin?: number;
}

type Listener = () => void;
/** A job changed status: its DescribeJobs shape at that moment, and the simulated time. */
export type JobStateListener = (detail: JobDetail, at: number) => void;

export class SimModel {
  readonly region: string;
  readonly clock: SimClock;
  readonly rng: Rng;
  readonly retentionMs: number;
  readonly logs = new LogStore();
  readonly s3 = new S3Store();
  readonly sqs: SqsStore;

  readonly queues = new Map<string, SimQueue>();
  readonly infra: Infrastructure;
  readonly jobs = new Map<string, SimJob>();
  private readonly specs = new Map<string, JobSpec>();

  private time: number;
  private seq = 0;
  private nextTickAt: number;
  private readonly events = new TimeHeap<SimJob>();
  /** Finished top-level jobs by stop time: the retention queue. */
  private readonly finished = new ChunkedSortedList<SimJob>((a, b) => (a.stoppedAt ?? 0) - (b.stoppedAt ?? 0) || a.seq - b.seq);
  private readonly jobLogs: JobLogWriter;
  private readonly tickListeners: Listener[] = [];
  private readonly jobStateListeners: JobStateListener[] = [];

  constructor(opts: SimModelOptions = {}) {
    this.region = opts.region ?? 'us-east-1';
    this.sqs = new SqsStore(this.region);
    const origin = opts.origin ?? Date.now();
    this.clock = new SimClock(opts.clock ?? 'real', opts.speed ?? 1, origin);
    this.rng = new Rng(opts.seed ?? 1);
    this.retentionMs = (opts.retentionSeconds ?? 86_400) * 1000;
    this.time = origin;
    this.nextTickAt = origin + TIMING.tick;
    this.infra = new Infrastructure(this.region, this.rng, () => this.time);
    this.jobLogs = new JobLogWriter(this.logs);
  }

  get computeEnvironments(): Map<string, SimComputeEnvironment> {
    return this.infra.computeEnvironments;
  }

  get clusters(): Map<string, SimCluster> {
    return this.infra.clusters;
  }

  get instances(): Map<string, SimInstance> {
    return this.infra.instances;
  }

  // ---------------------------------------------------------------- time

  now(): number {
    return this.time;
  }

  /** Moves simulated time forward by `ms` (manual clock, or a jump on the real one) and applies what happened. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new SimError('ClientException', 'advance: ms must be a non-negative number');
    this.clock.advance(ms);
    this.sync();
  }

  /** Catches the model up with the clock. */
  sync(): void {
    const target = this.clock.now();
    // A huge jump (advance by a week, a process woken after hours at high speed)
    // ticks more coarsely so one call stays bounded; job events keep their exact times.
    const tickEvery = Math.max(TIMING.tick, Math.ceil((target - this.time) / TIMING.maxTicksPerSync));
    while (this.time < target) {
      const next = Math.min(this.events.peekTime(), this.nextTickAt, this.nextExpiry(), target);
      this.time = Math.max(this.time, next);
      this.applyDueEvents();
      this.forgetExpired();
      if (this.time >= this.nextTickAt) {
        this.tick();
        this.nextTickAt = this.time + tickEvery;
      }
    }
    this.applyDueEvents();
  }

  /** Called after each simulated second (scenarios hook their trickle of jobs here). */
  onTick(listener: Listener): void {
    this.tickListeners.push(listener);
  }

  /**
   * Called on every job status change (submission included), with the job as
   * DescribeJobs shows it right then: what AWS Batch sends to EventBridge.
   */
  onJobStateChange(listener: JobStateListener): () => void {
    this.jobStateListeners.push(listener);
    return () => {
      const i = this.jobStateListeners.indexOf(listener);
      if (i >= 0) this.jobStateListeners.splice(i, 1);
    };
  }

  private emitStateChange(job: SimJob): void {
    if (this.jobStateListeners.length === 0) return;
    const detail = jobDetail(this, job, -1);
    for (const l of this.jobStateListeners) l(detail, this.time);
  }

  private nextExpiry(): number {
    const oldest = this.finished.first();
    return oldest ? (oldest.stoppedAt ?? 0) + this.retentionMs : Infinity;
  }

  private applyDueEvents(): void {
    while (this.events.peekTime() <= this.time) {
      const at = this.events.peekTime();
      const job = this.events.pop() as SimJob;
      if (job.forgotten || job.nextAt !== at) continue; // superseded
      job.nextAt = NaN;
      this.advanceJob(job);
    }
  }

  private tick(): void {
    for (const l of this.tickListeners) l();
    this.infra.updateInstances();
    this.infra.scaleComputeEnvironments(this.queues.values());
    this.placeRunnableJobs();
    this.jobLogs.writeDue(this.time);
    this.infra.dropOldStoppedTasks();
  }

  // ---------------------------------------------------------------- infrastructure

  createComputeEnvironment(input: CreateComputeEnvironmentInput): { arn: string; ecsClusterArn: string } {
    return this.infra.createComputeEnvironment(input);
  }

  findComputeEnvironment(nameOrArn: string): SimComputeEnvironment {
    return this.infra.findComputeEnvironment(nameOrArn);
  }

  updateComputeEnvironment(
    nameOrArn: string,
    update: { state?: 'ENABLED' | 'DISABLED'; minvCpus?: number; maxvCpus?: number; desiredvCpus?: number; serviceRole?: string },
  ): SimComputeEnvironment {
    return this.infra.updateComputeEnvironment(nameOrArn, update);
  }

  /** TerminateInstances: the instance shuts down and the jobs on it fail (or retry). */
  terminateInstance(id: string, reason = 'User initiated'): { previous: string; current: string } | undefined {
    const r = this.infra.shutDownInstance(id, reason);
    if (!r) return undefined;
    for (const task of r.tasks) {
      const why = `Host EC2 (instance ${id}) terminated.`;
      this.endAttempt(task.job, { failed: true, exitCode: undefined, containerReason: why, statusReason: why });
    }
    return { previous: r.previous, current: r.current };
  }

  createJobQueue(input: CreateJobQueueInput): { arn: string } {
    if (this.queues.has(input.name)) throw new SimError('ClientException', `Object already exists: ${input.name}`);
    const ces = input.computeEnvironments.map((n) => this.findComputeEnvironment(n));
    const q = new SimQueue(
      input.name,
      `arn:aws:batch:${this.region}:${ACCOUNT_ID}:job-queue/${input.name}`,
      input.priority ?? 1,
      input.state ?? 'ENABLED',
      ces,
    );
    this.queues.set(q.name, q);
    return { arn: q.arn };
  }

  findQueue(nameOrArn: string): SimQueue {
    const name = nameOrArn.startsWith('arn:') ? nameOrArn.slice(nameOrArn.lastIndexOf('/') + 1) : nameOrArn;
    const q = this.queues.get(name);
    if (!q) throw new SimError('ClientException', `jobQueue ${nameOrArn} does not exist`);
    return q;
  }

  computeEnvironment(name: string): ComputeEnvironmentDetail | undefined {
    const ce = this.computeEnvironments.get(name);
    return ce && computeEnvironmentDetail(ce);
  }

  jobQueues(): JobQueueDetail[] {
    return [...this.queues.values()].map(jobQueueDetail);
  }

  // ---------------------------------------------------------------- jobs

  private placeRunnableJobs(): void {
    const queues = [...this.queues.values()].filter((q) => q.state === 'ENABLED' && q.runnable.size > 0);
    queues.sort((a, b) => b.priority - a.priority);
    for (const q of queues) {
      let free = this.infra.freeVcpus(q);
      let tried = 0;
      for (const job of q.runnable) {
        // Bounded work per tick: stop when nothing more can fit or enough was examined.
        if (free < 0.25 || ++tried > 500) break;
        if (this.time - job.statusSince < TIMING.minRunnable) continue;
        const placement = this.infra.findCapacity(q, job);
        if (placement) {
          this.startJob(job, placement);
          free -= job.vcpusNeeded;
        }
      }
    }
  }


  private specFor(input: SimJobInput, queue: SimQueue): JobSpec {
    const [defName, revText] = (input.jobDefinition ?? input.jobName.replace(/[^A-Za-z0-9_-]/g, '-')).replace(/^arn:.*:job-definition\//, '').split(':');
    const revision = Number(revText) > 0 ? Number(revText) : 1;
    const fargate = input.fargate ?? queue.computeEnvironments[0]?.fargate ?? false;
    const req = (type: string) => input.resourceRequirements?.find((r) => r.type === type)?.value;
    const vcpus = Number(req('VCPU') ?? input.vcpus ?? (fargate ? 0.25 : 1));
    const memory = Number(req('MEMORY') ?? input.memory ?? (fargate ? 512 : 2048));
    const registered = this.specs.get(`${defName}:${revision}`);
    const spec: JobSpec = {
      definitionName: defName,
      revision,
      definitionArn: `arn:aws:batch:${this.region}:${ACCOUNT_ID}:job-definition/${defName}:${revision}`,
      image: input.image ?? registered?.image ?? 'public.ecr.aws/docker/library/busybox:latest',
      command: input.command ?? registered?.command ?? ['echo', 'hello'],
      vcpus: vcpus > 0 ? vcpus : 1,
      memory: memory > 0 ? memory : 2048,
      useResourceRequirements: fargate || input.resourceRequirements !== undefined,
      fargate,
      numNodes: input.multiNode ? Math.max(2, input.numNodes ?? 2) : 0,
      environment: input.environment ?? registered?.environment ?? [],
      retryAttempts: Math.min(10, Math.max(1, input.retryAttempts ?? 1)),
      timeoutSeconds: input.timeoutSeconds !== undefined && input.timeoutSeconds >= 60 ? input.timeoutSeconds : 0,
    };
    if (!registered) this.specs.set(`${defName}:${revision}`, spec);
    return spec;
  }

  submitJob(input: SimJobInput): { jobId: string; jobArn: string; jobName: string } {
    if (!input.jobName || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(input.jobName)) {
      throw new SimError('ClientException', `jobName ${JSON.stringify(input.jobName)} is invalid: up to 128 letters, numbers, hyphens and underscores, starting with a letter or number`);
    }
    const queue = this.findQueue(input.jobQueue);
    if (queue.state !== 'ENABLED') throw new SimError('ClientException', `Job queue ${queue.name} is DISABLED: jobs cannot be submitted to it`);
    if (input.arraySize !== undefined && (input.arraySize < 2 || input.arraySize > 10_000 || !Number.isInteger(input.arraySize))) {
      throw new SimError('ClientException', 'arrayProperties.size must be an integer between 2 and 10000');
    }
    if (input.arraySize !== undefined && input.multiNode) {
      throw new SimError('ClientException', 'Array jobs are not supported for multi-node parallel jobs');
    }
    const dependencies = this.findDependencies(input);
    const spec = this.specFor(input, queue);
    const job = this.addJob(this.rng.uuid(), input.jobName, queue, spec, this.time, input.plan ?? {}, null, -1, input.arraySize ?? 0);
    if (dependencies.length > 0) {
      job.dependsOn = dependencies;
      for (const d of dependencies) {
        (d.dependents ??= []).push(job);
        if (d.status !== 'SUCCEEDED') job.unmetDependencies++;
      }
    }
    if (input.arraySize) {
      // Children are spawned when the scheduler first evaluates the parent.
      job.children = [];
      job.statusSummary = [0, 0, 0, 0, 0, 0, 0];
    }
    this.schedule(job, this.time + TIMING.submittedToPending);
    this.emitStateChange(job);
    return { jobId: job.id, jobArn: jobArn(this, job.id), jobName: job.name };
  }

  private findDependencies(input: SimJobInput): SimJob[] {
    const ids = input.dependsOn ?? [];
    if (ids.length === 0) return [];
    if (ids.length > 20) throw new SimError('ClientException', 'A job can depend on at most 20 jobs');
    if (input.arraySize) throw new SimError('ClientException', 'dependsOn is not simulated for array jobs');
    return ids.map((id) => {
      const d = this.jobs.get(id);
      if (!d) throw new SimError('ClientException', `Dependent job ${id} does not exist`);
      return d;
    });
  }

  private addJob(
    id: string,
    name: string,
    queue: SimQueue,
    spec: JobSpec,
    createdAt: number,
    plan: JobPlan,
    parent: SimJob | null,
    index: number,
    size: number,
    status: AwsJobStatus = 'SUBMITTED',
  ): SimJob {
    const job = new SimJob(++this.seq, id, name, queue, spec, createdAt, plan, parent, index, size);
    job.status = status;
    job.statusSince = this.time;
    this.jobs.set(id, job);
    if (!parent) {
      queue.all.insert(job);
      queue.byStatus[STATUS_INDEX[status]].insert(job);
    }
    return job;
  }

  /** Bulk-loaded jobs enter their status directly (no walk through SUBMITTED). */
  private enterStatusDirectly(job: SimJob): void {
    if (job.status === 'SUCCEEDED' || job.status === 'FAILED') this.finished.insert(job);
    if (job.status === 'RUNNABLE') {
      job.queue.runnable.add(job);
      job.queue.runnableVcpus += job.vcpusNeeded;
    }
  }

  private schedule(job: SimJob, at: number): void {
    job.nextAt = at;
    this.events.push(at, job);
  }

  private setStatus(job: SimJob, status: AwsJobStatus): void {
    const from = job.status;
    if (from === status) return;
    job.status = status;
    job.statusSince = this.time;
    if (!job.parent) {
      job.queue.byStatus[STATUS_INDEX[from]].remove(job);
      job.queue.byStatus[STATUS_INDEX[status]].insert(job);
    } else if (job.parent.statusSummary) {
      job.parent.statusSummary[STATUS_INDEX[from]]--;
      job.parent.statusSummary[STATUS_INDEX[status]]++;
    }
    if (from === 'RUNNABLE') {
      if (job.queue.runnable.delete(job)) job.queue.runnableVcpus -= job.vcpusNeeded;
    }
    if (status === 'RUNNABLE') {
      job.queue.runnable.add(job);
      job.queue.runnableVcpus += job.vcpusNeeded;
      if (job.parent?.status === 'SUBMITTED') this.setStatus(job.parent, 'PENDING');
    }
    this.emitStateChange(job);
    if (status === 'SUCCEEDED' || status === 'FAILED') {
      job.nextAt = NaN;
      if (!job.parent) this.finished.insert(job);
      else this.childFinished(job.parent);
      for (const dependent of job.dependents ?? []) this.dependencyEnded(dependent, status);
    }
  }

  /** A dependency ended: a waiting job fails with it, or runs once all have succeeded. */
  private dependencyEnded(job: SimJob, outcome: 'SUCCEEDED' | 'FAILED'): void {
    if (job.forgotten || job.status === 'SUCCEEDED' || job.status === 'FAILED') return;
    if (outcome === 'SUCCEEDED') job.unmetDependencies--;
    const waiting = job.status === 'PENDING' && Number.isNaN(job.nextAt);
    if (!waiting) return; // still SUBMITTED: the PENDING step looks again
    if (outcome === 'FAILED') this.failForDependency(job);
    else if (job.unmetDependencies === 0) this.schedule(job, this.time + TIMING.pendingToRunnable);
  }

  private failForDependency(job: SimJob): void {
    job.statusReason = 'Dependent Job failed';
    job.stoppedAt = this.time;
    this.setStatus(job, 'FAILED');
  }

  private advanceJob(job: SimJob): void {
    switch (job.status) {
      case 'SUBMITTED':
        if (job.isArrayParent) {
          this.spawnChildren(job);
          break;
        }
        this.setStatus(job, 'PENDING');
        this.schedule(job, this.time + TIMING.pendingToRunnable);
        break;
      case 'PENDING':
        if (job.dependsOn?.some((d) => d.status === 'FAILED')) this.failForDependency(job);
        else if (job.unmetDependencies === 0) this.setStatus(job, 'RUNNABLE');
        // else: waits in PENDING until its dependencies end (dependencyEnded)
        break;
      case 'STARTING':
        job.startedAt = this.time;
        if (job.task) {
          job.task.lastStatus = 'RUNNING';
          job.task.startedAt = this.time;
        }
        this.setStatus(job, 'RUNNING');
        this.jobLogs.begin(job, this.time, this.runMs(job));
        if (job.parent && job.parent.startedAt === undefined) job.parent.startedAt = this.time;
        // A job definition timeout cuts the attempt short.
        this.schedule(job, this.time + Math.min(this.runMs(job), this.attemptLimitMs(job)));
        break;
      case 'RUNNING':
        this.finishRun(job);
        break;
      default:
        break;
    }
  }

  /**
   * As AWS does: children `<parent>:<i>` appear in PENDING (their createdAt is
   * this moment); the parent moves to PENDING when the first child is RUNNABLE,
   * and ends SUCCEEDED or FAILED when all children have.
   */
  private spawnChildren(parent: SimJob): void {
    const children = parent.children as SimJob[];
    const summary = parent.statusSummary as number[];
    for (let i = 0; i < parent.arraySize; i++) {
      const child = this.addJob(`${parent.id}:${i}`, parent.name, parent.queue, parent.spec, this.time, parent.plan, parent, i, parent.arraySize, 'PENDING');
      children.push(child);
      summary[STATUS_INDEX.PENDING]++;
      this.schedule(child, this.time + TIMING.pendingToRunnable);
      this.emitStateChange(child);
    }
  }

  private runMs(job: SimJob): number {
    const seconds = job.plan.runSeconds;
    return Math.max(1, Number.isFinite(seconds) ? (seconds as number) : TIMING.defaultRunSeconds) * 1000;
  }

  private startJob(job: SimJob, placement: Placement): void {
    const task = this.infra.startTask(job, placement);
    job.task = task;
    job.tries++;
    job.logStreamName = `${job.spec.definitionName}/default/${task.id}`;
    job.nodeLogStreamNames = job.spec.numNodes > 0 ? nodeLogStreamNames(job.spec, task.id) : null;
    this.setStatus(job, 'STARTING');
    const starting = job.plan.startingSeconds;
    this.schedule(job, this.time + (starting !== undefined && starting > 0 ? starting * 1000 : TIMING.startingToRunning));
  }

  private releaseTask(job: SimJob, exitCode: number | undefined, reason: string | undefined): void {
    if (!job.task) return;
    this.infra.stopTask(job.task, exitCode, reason);
    job.task = null;
  }

  private attemptLimitMs(job: SimJob): number {
    return job.spec.timeoutSeconds > 0 ? job.spec.timeoutSeconds * 1000 : Infinity;
  }

  private finishRun(job: SimJob): void {
    if (this.runMs(job) > this.attemptLimitMs(job)) {
      this.endAttempt(job, { failed: true, exitCode: 137, containerReason: undefined, statusReason: 'Job attempt duration exceeded timeout' });
      return;
    }
    const plan = job.plan;
    const childFails = job.parent !== null && (plan.failChildren ?? []).includes(job.arrayIndex);
    const failed = job.tries <= (plan.failAttempts ?? 0) || plan.outcome === 'FAILED' || childFails;
    const exitCode = failed ? (plan.exitCode && plan.exitCode !== 0 ? plan.exitCode : 1) : 0;
    this.endAttempt(job, {
      failed,
      exitCode,
      containerReason: undefined,
      statusReason: failed ? (plan.reason ?? 'Essential container in task exited') : 'Essential container in task exited',
      ranToEnd: true,
    });
  }

  /**
   * Ends the current try of a job (run finished, killed, or its host went
   * away): retry while attempts remain, else SUCCEEDED/FAILED.
   */
  private endAttempt(
    job: SimJob,
    r: { failed: boolean; exitCode: number | undefined; containerReason: string | undefined; statusReason: string; noRetry?: boolean; ranToEnd?: boolean },
  ): void {
    if (r.ranToEnd) this.jobLogs.end(job, this.time);
    else this.jobLogs.forget(job); // killed: the rest is never written
    const task = job.task;
    const attempt: AttemptRecord = {
      taskArn: task?.arn,
      containerInstanceArn: task?.containerInstance?.arn,
      logStreamName: job.logStreamName,
      nodeLogStreamNames: job.nodeLogStreamNames ?? undefined,
      exitCode: r.exitCode,
      reason: r.containerReason,
      startedAt: job.status === 'RUNNING' ? job.startedAt : undefined,
      stoppedAt: this.time,
      statusReason: r.statusReason,
    };
    this.releaseTask(job, r.exitCode, r.containerReason);
    (job.attempts ??= []).push(attempt);
    job.exitCode = r.exitCode;
    job.containerReason = r.containerReason;
    if (r.failed && !r.noRetry && job.tries < job.spec.retryAttempts) {
      job.statusReason = r.statusReason;
      this.setStatus(job, 'RUNNABLE');
      return;
    }
    job.statusReason = r.statusReason;
    job.stoppedAt = this.time;
    this.setStatus(job, r.failed ? 'FAILED' : 'SUCCEEDED');
  }

  private childFinished(parent: SimJob): void {
    const s = parent.statusSummary;
    if (!s || parent.status === 'SUCCEEDED' || parent.status === 'FAILED') return;
    if (s[5] + s[6] < parent.arraySize) return;
    parent.stoppedAt = this.time;
    parent.statusReason = s[6] > 0 ? 'Array Child Job failed' : undefined;
    this.setStatus(parent, s[6] > 0 ? 'FAILED' : 'SUCCEEDED');
  }

  /** TerminateJob: not yet running → FAILED with the reason; running → killed (exit 137). */
  terminateJob(id: string, reason: string): void {
    const job = this.jobs.get(id);
    if (!job) throw new SimError('ClientException', `Job ${id} not found`);
    if (job.status === 'SUCCEEDED' || job.status === 'FAILED') return;
    if (job.children) {
      for (const child of job.children) this.terminateJob(child.id, reason);
      if (job.children.length === 0) {
        // Not spawned yet: the parent fails alone, no children ever appear.
        job.stoppedAt = this.time;
        job.statusReason = reason;
        this.setStatus(job, 'FAILED');
      }
      if ((job.status as AwsJobStatus) === 'FAILED') job.statusReason = reason;
      return;
    }
    if (job.status === 'STARTING' || job.status === 'RUNNING') {
      this.endAttempt(job, { failed: true, exitCode: 137, containerReason: undefined, statusReason: reason, noRetry: true });
      return;
    }
    job.statusReason = reason;
    job.stoppedAt = this.time;
    job.nextAt = NaN;
    this.setStatus(job, 'FAILED');
  }

  /** CancelJob: only jobs not yet STARTING are cancelled; others are left alone, as AWS does. */
  cancelJob(id: string, reason: string): void {
    const job = this.jobs.get(id);
    if (!job) throw new SimError('ClientException', `Job ${id} not found`);
    if (job.status === 'STARTING' || job.status === 'RUNNING') return;
    this.terminateJob(id, reason);
  }

  /** AWS stops reporting the job (and its children) from now on. */
  forgetJob(id: string): boolean {
    const job = this.jobs.get(id);
    if (!job) return false;
    if (job.task) this.releaseTask(job, undefined, 'Job forgotten');
    this.jobLogs.forget(job);
    job.forgotten = true;
    this.jobs.delete(id);
    if (job.queue.runnable.delete(job)) job.queue.runnableVcpus -= job.vcpusNeeded;
    if (!job.parent) {
      job.queue.all.remove(job);
      job.queue.byStatus[STATUS_INDEX[job.status]].remove(job);
      this.finished.remove(job);
    }
    for (const child of job.children ?? []) this.forgetJob(child.id);
    return true;
  }

  private forgetExpired(): void {
    for (;;) {
      const oldest = this.finished.first();
      if (!oldest || (oldest.stoppedAt ?? 0) + this.retentionMs > this.time) return;
      this.forgetJob(oldest.id);
    }
  }

  getJob(id: string): JobDetail | undefined {
    const job = this.lookupJob(id);
    return job && jobDetail(this, job.job, job.node);
  }

  /** A job, or a node of a multi-node job (`id#n`). */
  lookupJob(id: string): { job: SimJob; node: number } | undefined {
    const job = this.jobs.get(id);
    if (job) return { job, node: -1 };
    const hash = id.lastIndexOf('#');
    if (hash < 0) return undefined;
    const parent = this.jobs.get(id.slice(0, hash));
    const node = Number(id.slice(hash + 1));
    if (!parent || !parent.spec.numNodes || !Number.isInteger(node) || node < 0 || node >= parent.spec.numNodes) return undefined;
    return { job: parent, node };
  }

  statusCounts(queueName: string): StatusCounts {
    const q = this.findQueue(queueName);
    const out = {} as StatusCounts;
    for (const s of AWS_JOB_STATUSES) out[s] = q.byStatus[STATUS_INDEX[s]].size;
    return out;
  }

  // ---------------------------------------------------------------- S3

  putObject(bucket: string, key: string, body: string | Buffer | Uint8Array, contentType?: string): void {
    this.s3.putObject(bucket, key, body, this.time, contentType);
  }

  // ---------------------------------------------------------------- bulk

  /**
   * Fills a queue fast (benchmarks): `finished` jobs already SUCCEEDED/FAILED,
   * spread over the retention window, and `active` jobs spread over the
   * active statuses, moving on from there.
   */
  bulkLoad(input: BulkLoadInput): { loaded: number } {
    const queue = this.findQueue(input.queue);
    const specs = BULK_FAMILIES.map((f, i) =>
      this.specFor({ jobName: f.name, jobQueue: queue.name, jobDefinition: `${f.name}:${1 + (i % 3)}`, image: f.image, command: f.command, vcpus: f.vcpus, memory: f.memory, environment: f.env }, queue),
    );
    const plan: JobPlan = {};
    const window = Math.max(60_000, Math.floor(this.retentionMs * 0.9));
    const start = this.time - window;
    const step = input.finished > 0 ? window / input.finished : 0;
    for (let i = 0; i < input.finished; i++) {
      const family = i % specs.length;
      const createdAt = Math.floor(start + i * step) - 90_000;
      const failed = i % 10 === 7;
      const job = this.addJob(this.rng.uuid(), `${BULK_FAMILIES[family].name}-${i}`, queue, specs[family], createdAt, plan, null, -1, 0, failed ? 'FAILED' : 'SUCCEEDED');
      job.startedAt = createdAt + 30_000;
      job.stoppedAt = createdAt + 90_000;
      job.tries = 1;
      job.exitCode = failed ? 1 : 0;
      job.statusReason = 'Essential container in task exited';
      job.logStreamName = `${specs[family].definitionName}/default/${job.id.replace(/-/g, '')}`;
      this.enterStatusDirectly(job);
    }
    const activeStatuses: AwsJobStatus[] = ['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING'];
    for (let i = 0; i < input.active; i++) {
      const family = i % specs.length;
      const status = activeStatuses[i % activeStatuses.length];
      const job = this.addJob(this.rng.uuid(), `${BULK_FAMILIES[family].name}-active-${i}`, queue, specs[family], this.time - 1000, plan, null, -1, 0, status);
      this.enterStatusDirectly(job);
      if (status === 'STARTING' || status === 'RUNNING') {
        // Already placed before the load: no instance is modelled for them.
        job.tries = 1;
        job.startedAt = status === 'RUNNING' ? this.time - 1000 : undefined;
        this.schedule(job, this.time + (status === 'STARTING' ? TIMING.startingToRunning : this.runMs(job)));
      } else if (status !== 'RUNNABLE') {
        this.schedule(job, this.time + TIMING.submittedToPending);
      }
    }
    return { loaded: input.finished + input.active };
  }
}

export function jobArn(model: SimModel, id: string): string {
  return `arn:aws:batch:${model.region}:${ACCOUNT_ID}:job/${id}`;
}

const BULK_FAMILIES = [
  { name: 'etl-daily-orders', image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/etl:2.4.1', command: ['python', '-m', 'etl.run', '--table', 'orders'], vcpus: 2, memory: 4096, env: [{ name: 'PYBATCH_TIMEOUT', value: '3600' }] },
  { name: 'train-model', image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/trainer:1.9.0', command: ['python', 'train.py', '--epochs', '10'], vcpus: 8, memory: 30720, env: [] },
  { name: 'render-report', image: 'public.ecr.aws/docker/library/node:20-slim', command: ['node', 'render.js'], vcpus: 1, memory: 2048, env: [] },
  { name: 'bid-log-compaction', image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/compactor:0.7.3', command: ['compact', '--hour', 'Ref::hour'], vcpus: 4, memory: 8192, env: [{ name: 'PYBATCH_TIMEOUT', value: '7200' }] },
];

/**
 * On AWS each node of a multi-node job is its own ECS task with its own stream
 * `<definition>/default/<task id>`. The simulator runs the job as one task (the
 * main node's); the other nodes' task ids are derived from it, so no random
 * draw is spent and seeded scenarios stay the same.
 */
function nodeLogStreamNames(spec: JobSpec, mainTaskId: string): string[] {
  return Array.from({ length: spec.numNodes }, (_, node) =>
    `${spec.definitionName}/default/${node === 0 ? mainTaskId : createHash('md5').update(`${mainTaskId}#${node}`).digest('hex')}`,
  );
}
