/**
 * The capacity side of the simulated account: compute environments, their ECS
 * clusters, EC2 instances and container instances; managed environments
 * scaling with demand; finding room for a job; tasks that stopped, kept
 * visible for a while as ECS does.
 */
import { ACCOUNT_ID, SimError, TIMING } from './constants';
import {
  SimCluster,
  SimComputeEnvironment,
  SimContainerInstance,
  SimInstance,
  type SimJob,
  type SimQueue,
  SimTask,
} from './entities';
import type { Rng } from './rng';
import type { CreateComputeEnvironmentInput } from './types';

const INSTANCE_TYPES: { type: string; vcpus: number; memory: number }[] = [
  { type: 'm5.large', vcpus: 2, memory: 8192 },
  { type: 'm5.xlarge', vcpus: 4, memory: 16384 },
  { type: 'm5.2xlarge', vcpus: 8, memory: 32768 },
  { type: 'm5.4xlarge', vcpus: 16, memory: 65536 },
  { type: 'm5.8xlarge', vcpus: 32, memory: 131072 },
  { type: 'm5.12xlarge', vcpus: 48, memory: 196608 },
  { type: 'm5.16xlarge', vcpus: 64, memory: 262144 },
  { type: 'm5.24xlarge', vcpus: 96, memory: 393216 },
];

export interface Placement {
  ce: SimComputeEnvironment;
  /** null: an instance-less (Fargate) task. */
  ci: SimContainerInstance | null;
}

export class Infrastructure {
  readonly computeEnvironments = new Map<string, SimComputeEnvironment>();
  readonly clusters = new Map<string, SimCluster>();
  readonly instances = new Map<string, SimInstance>();
  private readonly stoppedTasks: SimTask[] = [];
  private ipCounter = 10;

  constructor(
    private readonly region: string,
    private readonly rng: Rng,
    private readonly now: () => number,
  ) {}

  createComputeEnvironment(input: CreateComputeEnvironmentInput): { arn: string; ecsClusterArn: string } {
    if (this.computeEnvironments.has(input.name)) throw new SimError('ClientException', `Object already exists: ${input.name}`);
    const uuid = this.rng.uuid();
    const clusterName = `${input.name}_Batch_${uuid}`;
    const cluster = new SimCluster(clusterName, `arn:aws:ecs:${this.region}:${ACCOUNT_ID}:cluster/${clusterName}`);
    const instanceVcpus = input.instanceVcpus ?? 4;
    const initialInstances = input.instances ?? 0;
    const ce = new SimComputeEnvironment(
      input.name,
      `arn:aws:batch:${this.region}:${ACCOUNT_ID}:compute-environment/${input.name}`,
      uuid,
      input.type ?? 'MANAGED',
      input.state ?? 'ENABLED',
      input.minvCpus ?? 0,
      input.maxvCpus ?? 256,
      input.desiredvCpus ?? initialInstances * instanceVcpus,
      input.fargate ?? false,
      instanceVcpus,
      cluster,
      `arn:aws:iam::${ACCOUNT_ID}:role/aws-service-role/batch.amazonaws.com/AWSServiceRoleForBatch`,
    );
    this.computeEnvironments.set(ce.name, ce);
    this.clusters.set(cluster.arn, cluster);
    if (!ce.fargate) {
      const type = instanceTypeFor(instanceVcpus);
      for (let i = 0; i < initialInstances; i++) this.launchInstance(ce, type, true);
    }
    return { arn: ce.arn, ecsClusterArn: cluster.arn };
  }

  findComputeEnvironment(nameOrArn: string): SimComputeEnvironment {
    const name = nameOrArn.startsWith('arn:') ? nameOrArn.slice(nameOrArn.lastIndexOf('/') + 1) : nameOrArn;
    const ce = this.computeEnvironments.get(name);
    if (!ce) throw new SimError('ClientException', `computeEnvironment ${nameOrArn} does not exist`);
    return ce;
  }

  updateComputeEnvironment(
    nameOrArn: string,
    update: { state?: 'ENABLED' | 'DISABLED'; minvCpus?: number; maxvCpus?: number; desiredvCpus?: number; serviceRole?: string },
  ): SimComputeEnvironment {
    const ce = this.findComputeEnvironment(nameOrArn);
    const min = update.minvCpus ?? ce.minvCpus;
    const max = update.maxvCpus ?? ce.maxvCpus;
    if (min < 0 || max < 0) throw new SimError('ClientException', 'vCPU values must not be negative');
    if (min > max) throw new SimError('ClientException', `minvCpus (${min}) cannot be greater than maxvCpus (${max})`);
    if (update.desiredvCpus !== undefined && (update.desiredvCpus < min || update.desiredvCpus > max)) {
      throw new SimError('ClientException', `desiredvCpus (${update.desiredvCpus}) must be between minvCpus (${min}) and maxvCpus (${max})`);
    }
    if (ce.type === 'UNMANAGED' && (update.minvCpus !== undefined || update.maxvCpus !== undefined)) {
      throw new SimError('ClientException', 'computeResources cannot be updated for an UNMANAGED compute environment');
    }
    ce.minvCpus = min;
    ce.maxvCpus = max;
    if (update.desiredvCpus !== undefined) {
      ce.desiredvCpus = update.desiredvCpus;
      ce.requestedDesired = { vcpus: update.desiredvCpus, until: this.now() + TIMING.requestedDesiredHold };
    }
    if (update.state) ce.state = update.state;
    if (update.serviceRole) ce.serviceRole = update.serviceRole;
    return ce;
  }

  private nextIp(): number {
    return this.ipCounter++;
  }

  private launchInstance(ce: SimComputeEnvironment, type: { type: string; vcpus: number; memory: number }, immediately: boolean): SimInstance {
    const n = this.nextIp();
    const az = `${this.region}${'abc'[n % 3]}`;
    const inst = new SimInstance(
      `i-${this.rng.hex(17)}`,
      type.type,
      type.vcpus,
      type.memory,
      'ami-0a1b2c3d4e5f60718',
      az,
      `10.0.${(n >> 8) & 255}.${n & 255}`,
      `3.80.${(n >> 8) & 255}.${n & 255}`,
      this.rng.chance(0.5) ? `sir-${this.rng.hex(8)}` : undefined,
      this.now(),
      ce,
    );
    this.instances.set(inst.id, inst);
    ce.instances.add(inst);
    inst.stateUntil = this.now() + TIMING.instanceBoot;
    if (immediately) this.bootInstance(inst);
    return inst;
  }

  private bootInstance(inst: SimInstance): void {
    inst.state = 'running';
    inst.idleSince = this.now();
    const cluster = inst.ce.cluster;
    const ci = new SimContainerInstance(
      `arn:aws:ecs:${this.region}:${ACCOUNT_ID}:container-instance/${cluster.name}/${this.rng.hex(32)}`,
      inst,
      cluster,
      this.now(),
    );
    inst.containerInstance = ci;
    cluster.containerInstances.set(ci.arn, ci);
  }

  /**
   * Starts shutting an instance down (TerminateInstances, or scale-down). Its
   * container instance leaves the cluster; returns the tasks that were on it,
   * whose jobs the caller ends.
   */
  shutDownInstance(id: string, reason: string): { previous: string; current: string; tasks: SimTask[] } | undefined {
    const inst = this.instances.get(id);
    if (!inst) return undefined;
    const previous = inst.state;
    if (previous === 'shutting-down' || previous === 'terminated') return { previous, current: previous, tasks: [] };
    inst.state = 'shutting-down';
    inst.stateReason = reason;
    inst.stateUntil = this.now() + TIMING.instanceShutdown;
    const ci = inst.containerInstance;
    if (ci) ci.status = 'INACTIVE';
    return { previous, current: 'shutting-down', tasks: ci ? [...ci.tasks] : [] };
  }

  updateInstances(): void {
    for (const inst of this.instances.values()) {
      if (inst.state === 'pending' && this.now() >= inst.stateUntil) this.bootInstance(inst);
      else if (inst.state === 'shutting-down' && this.now() >= inst.stateUntil) {
        inst.state = 'terminated';
        inst.stateUntil = this.now() + TIMING.stoppedVisibility;
        inst.ce.instances.delete(inst);
      } else if (inst.state === 'terminated' && this.now() >= inst.stateUntil) {
        this.instances.delete(inst.id);
        if (inst.containerInstance) inst.ce.cluster.containerInstances.delete(inst.containerInstance.arn);
      }
    }
  }

  /**
   * Managed compute environments follow demand between minvCpus and maxvCpus,
   * as Batch does: a queue's waiting vCPUs go to its first environment with
   * headroom, overflowing to the next ones in order.
   */
  scaleComputeEnvironments(queues: Iterable<SimQueue>): void {
    const used = new Map<SimComputeEnvironment, number>();
    const capacity = new Map<SimComputeEnvironment, number>();
    for (const ce of this.computeEnvironments.values()) {
      let u = 0;
      let c = 0;
      for (const inst of ce.instances) {
        if (inst.state === 'pending' || inst.state === 'running') c += inst.vcpus;
        u += inst.containerInstance?.usedVcpus ?? 0;
      }
      used.set(ce, u);
      capacity.set(ce, c);
    }
    const waiting = new Map<SimComputeEnvironment, { vcpus: number; largest: number }>();
    for (const q of queues) {
      if (q.runnable.size === 0 || q.state !== 'ENABLED') continue;
      let remaining = q.runnableVcpus;
      let largest = 0;
      let seen = 0;
      for (const job of q.runnable) {
        if (!job.spec.fargate) largest = Math.max(largest, job.vcpusNeeded);
        if (++seen >= 100) break;
      }
      for (const ce of q.computeEnvironments) {
        if (remaining <= 0) break;
        if (ce.state !== 'ENABLED' || ce.fargate || ce.type !== 'MANAGED') continue;
        const w = waiting.get(ce) ?? { vcpus: 0, largest: 0 };
        const room = Math.max(0, ce.maxvCpus - (used.get(ce) ?? 0) - w.vcpus);
        const take = Math.min(room, remaining);
        if (take <= 0) continue;
        w.vcpus += take;
        w.largest = Math.max(w.largest, largest);
        waiting.set(ce, w);
        remaining -= take;
      }
    }
    for (const ce of this.computeEnvironments.values()) {
      if (ce.type !== 'MANAGED' || ce.fargate) continue;
      if (ce.requestedDesired && this.now() > ce.requestedDesired.until) ce.requestedDesired = null;
      const w = waiting.get(ce);
      const demand = (used.get(ce) ?? 0) + (w?.vcpus ?? 0);
      const target = Math.min(ce.maxvCpus, Math.max(ce.minvCpus, Math.ceil(demand), ce.requestedDesired?.vcpus ?? 0));
      ce.desiredvCpus = target;
      let cap = capacity.get(ce) ?? 0;
      if (cap < target) {
        const type = instanceTypeFor(Math.max(ce.instanceVcpus, w?.largest ?? 0));
        while (cap < target) {
          this.launchInstance(ce, type, false);
          cap += type.vcpus;
        }
      } else if (cap > target) {
        for (const inst of ce.instances) {
          const ci = inst.containerInstance;
          const idle = inst.state === 'running' && ci !== null && ci.tasks.size === 0;
          if (idle && this.now() - inst.idleSince >= TIMING.idleBeforeScaleDown && cap - inst.vcpus >= target) {
            cap -= inst.vcpus;
            this.shutDownInstance(inst.id, 'Scaled down by AWS Batch'); // idle: no task to end
          }
        }
      }
    }
  }

  /** vCPUs free for new jobs in a queue's environments right now. */
  freeVcpus(q: SimQueue): number {
    let free = 0;
    for (const ce of q.computeEnvironments) {
      if (ce.state !== 'ENABLED') continue;
      if (ce.fargate) free += Math.max(0, ce.maxvCpus - ce.fargateUsedVcpus);
      for (const inst of ce.instances) {
        const ci = inst.containerInstance;
        if (inst.state === 'running' && ci && ci.status === 'ACTIVE') free += inst.vcpus - ci.usedVcpus;
      }
    }
    return free;
  }

  findCapacity(q: SimQueue, job: SimJob): Placement | undefined {
    const need = job.vcpusNeeded;
    if (job.spec.fargate && !q.computeEnvironments.some((c) => c.fargate)) {
      // A Fargate-shaped job in a queue without a Fargate environment (lenient: AWS
      // would refuse the submission) runs instance-less on the first enabled one.
      const ce = q.computeEnvironments.find((c) => c.state === 'ENABLED');
      return ce && ce.fargateUsedVcpus + need <= ce.maxvCpus ? { ce, ci: null } : undefined;
    }
    for (const ce of q.computeEnvironments) {
      if (ce.state !== 'ENABLED' || ce.fargate !== job.spec.fargate) continue;
      if (ce.fargate) {
        if (ce.fargateUsedVcpus + need <= ce.maxvCpus) return { ce, ci: null };
        continue;
      }
      for (const inst of ce.instances) {
        const ci = inst.containerInstance;
        if (inst.state === 'running' && ci && ci.status === 'ACTIVE' && ci.usedVcpus + need <= inst.vcpus) return { ce, ci };
      }
    }
    return undefined;
  }

  /** An ECS task for a job placed on an instance (or instance-less, Fargate). */
  startTask(job: SimJob, { ce, ci }: Placement): SimTask {
    const cluster = ce.cluster;
    const task = new SimTask(
      `arn:aws:ecs:${this.region}:${ACCOUNT_ID}:task/${cluster.name}/${this.rng.hex(32)}`,
      ce,
      ci,
      job,
      this.now(),
      job.vcpusNeeded,
      job.spec.memory,
    );
    cluster.tasks.set(task.arn, task);
    if (ci) {
      ci.tasks.add(task);
      ci.usedVcpus += task.vcpus;
      ci.usedMemory += task.memory;
    } else {
      ce.fargateUsedVcpus += task.vcpus;
    }
    return task;
  }

  /** The task stops and frees its capacity; it stays listed (desiredStatus STOPPED) for a while. */
  stopTask(task: SimTask, exitCode: number | undefined, reason: string | undefined): void {
    const now = this.now();
    task.lastStatus = 'STOPPED';
    task.desiredStatus = 'STOPPED';
    task.stoppedAt = now;
    task.exitCode = exitCode;
    task.stoppedReason = reason ?? 'Essential container in task exited';
    const ci = task.containerInstance;
    if (ci) {
      ci.tasks.delete(task);
      ci.usedVcpus -= task.vcpus;
      ci.usedMemory -= task.memory;
      if (ci.tasks.size === 0) ci.instance.idleSince = now;
    } else {
      task.ce.fargateUsedVcpus -= task.vcpus;
    }
    this.stoppedTasks.push(task);
  }

  dropOldStoppedTasks(): void {
    let i = 0;
    while (i < this.stoppedTasks.length && (this.stoppedTasks[i].stoppedAt ?? 0) + TIMING.stoppedVisibility <= this.now()) {
      const t = this.stoppedTasks[i];
      t.cluster.tasks.delete(t.arn);
      i++;
    }
    if (i > 0) this.stoppedTasks.splice(0, i);
  }
}

function instanceTypeFor(vcpus: number): { type: string; vcpus: number; memory: number } {
  return INSTANCE_TYPES.find((t) => t.vcpus >= vcpus) ?? INSTANCE_TYPES[INSTANCE_TYPES.length - 1];
}
