/**
 * Scenarios: what the simulated account holds at start and what keeps
 * happening. `empty` has nothing; `demo` has a few queues and compute
 * environments and a steady trickle of varied jobs; `bulkLoad` has one queue
 * holding a million retained jobs (benchmarks).
 */
import type { SimModel } from './model';
import type { Rng } from './rng';
import type { ScenarioName, SimJobInput } from './types';

export const SCENARIOS: readonly ScenarioName[] = ['empty', 'demo', 'bulkLoad'];

export function startScenario(model: SimModel, name: ScenarioName, bulk: { finished?: number; active?: number } = {}): void {
  switch (name) {
    case 'empty':
      return;
    case 'demo':
      startDemo(model);
      return;
    case 'bulkLoad':
      // Benchmarks: one big queue already holding a retention window's worth of jobs.
      model.createComputeEnvironment({ name: 'bulk-ce', instances: 4, maxvCpus: 1024, instanceVcpus: 16 });
      model.createJobQueue({ name: 'bulk-queue', computeEnvironments: ['bulk-ce'] });
      model.bulkLoad({ queue: 'bulk-queue', finished: bulk.finished ?? 1_000_000, active: bulk.active ?? 1_000 });
      return;
    default:
      throw new Error(`unknown scenario ${String(name)}: expected one of ${SCENARIOS.join(', ')}`);
  }
}

interface Template {
  name: string;
  queue: string;
  def: string;
  image: string;
  command: string[];
  vcpus: number;
  memory: number;
  /** Relative frequency. */
  weight: number;
  make?: (rng: Rng, base: SimJobInput) => SimJobInput;
}

const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

const TEMPLATES: Template[] = [
  { name: 'etl-orders-hourly', queue: 'etl-prod', def: 'etl-runner:14', image: `${ECR}/etl-runner:2024.11.3`, command: ['python', '-m', 'etl.run', '--table', 'orders', '--hour', 'Ref::hour'], vcpus: 2, memory: 4096, weight: 6,
    make: (rng, b) => ({ ...b, environment: [{ name: 'PYBATCH_TIMEOUT', value: String(rng.pick([600, 1800, 3600])) }, { name: 'ENV', value: 'prod' }] }) },
  { name: 'etl-clicks-compaction', queue: 'etl-prod', def: 'compactor:7', image: `${ECR}/compactor:0.9.2`, command: ['compact', '--source', 's3://logs/clicks/', '--date', 'today'], vcpus: 2, memory: 4096, weight: 3,
    make: (rng, b) => ({ ...b, arraySize: rng.int(2, 6), plan: { ...b.plan, failChildren: rng.chance(0.3) ? [rng.int(0, 2)] : [] } }) },
  { name: 'train-ctr-model', queue: 'ml-training', def: 'trainer-gpu:3', image: `${ECR}/trainer:1.9.0-cuda12`, command: ['python', 'train.py', '--model', 'ctr', '--epochs', '20'], vcpus: 8, memory: 30720, weight: 1,
    make: (rng, b) => (rng.chance(0.5) ? multiNodeTraining(rng, b, rng.int(2, 4)) : b) },
  { name: 'feature-backfill', queue: 'ml-training', def: 'feature-store:22', image: `${ECR}/feature-store:4.2.0`, command: ['backfill', '--features', 'user_ctr,segment'], vcpus: 2, memory: 7168, weight: 2,
    make: (rng, b) => ({ ...b, retryAttempts: 3, plan: { ...b.plan, failAttempts: rng.chance(0.4) ? 1 : 0 } }) },
  { name: 'report-render', queue: 'reports-fargate', def: 'report-render:5', image: 'public.ecr.aws/docker/library/node:20-slim', command: ['node', 'render.js', '--report', 'daily-spend'], vcpus: 0.5, memory: 1024, weight: 4,
    make: (rng, b) => ({ ...b, fargate: true, resourceRequirements: [{ type: 'VCPU', value: String(rng.pick([0.25, 0.5, 1])) }, { type: 'MEMORY', value: String(rng.pick([512, 1024, 2048])) }] }) },
  { name: 'email-digest', queue: 'reports-fargate', def: 'digest-mailer:11', image: `${ECR}/digest-mailer:3.1.4`, command: ['sh', '-c', 'send-digest --segment all'], vcpus: 0.25, memory: 512, weight: 2,
    make: (_rng, b) => ({ ...b, fargate: true, resourceRequirements: [{ type: 'VCPU', value: '0.25' }, { type: 'MEMORY', value: '512' }] }) },
  { name: 'bid-simulation', queue: 'etl-prod', def: 'bidsim:2', image: `${ECR}/bidsim:0.3.0`, command: ['bidsim', '--scenario', 'holiday'], vcpus: 1, memory: 2048, weight: 2,
    make: (rng, b) => ({ ...b, environment: [{ name: 'PYBATCH_TIMEOUT', value: '120' }], plan: { ...b.plan, runSeconds: rng.int(200, 400) } }) },
];

const FAILURE_REASONS = [
  'Essential container in task exited',
  'CannotPullContainerError: pull image manifest has been retried 5 time(s): not found',
  'OutOfMemoryError: Container killed due to memory usage',
];

function logLinesFor(rng: Rng, name: string, failed: boolean, reason: string): string[] {
  const lines = [`INFO  ${name}: starting (pid ${rng.int(10, 99999)})`, `INFO  reading input partition ${rng.int(0, 255)}`];
  const steps = rng.int(2, 8);
  for (let i = 1; i <= steps; i++) lines.push(`INFO  processed ${i * rng.int(1000, 50_000)} records (${Math.round((i / steps) * 100)}%)`);
  if (failed) lines.push(`ERROR ${reason}`, 'Traceback (most recent call last):', '  File "main.py", line 42, in <module>', 'RuntimeError: job failed');
  else lines.push(`INFO  ${name}: finished OK`);
  return lines;
}

/** A multi-node run of a training template: the main node coordinates, each worker trains a shard, each writes its own log. */
function multiNodeTraining(rng: Rng, b: SimJobInput, numNodes: number): SimJobInput {
  const name = b.jobName;
  const epochs = rng.int(2, 5);
  const failed = b.plan?.outcome === 'FAILED';
  const main = [`INFO  ${name}: main node, waiting for ${numNodes - 1} workers`, `INFO  all ${numNodes} nodes joined the NCCL ring`];
  for (let e = 1; e <= epochs; e++) main.push(`INFO  epoch ${e}/${epochs}: loss ${(1 / (e + 1)).toFixed(4)}, auc ${(0.7 + e * 0.04).toFixed(3)}`);
  main.push(failed ? `ERROR ${b.plan?.reason ?? 'a worker left the ring'}` : `INFO  ${name}: model saved to s3://models/ctr/${name}`);
  const nodeLogLines = [main];
  for (let node = 1; node < numNodes; node++) {
    const worker = [`INFO  worker ${node}: joined main node at 10.0.${rng.int(0, 255)}.${rng.int(1, 254)}`, `INFO  worker ${node}: shard ${node} loaded (${rng.int(100, 900)}k samples)`];
    for (let e = 1; e <= epochs; e++) worker.push(`INFO  worker ${node}: epoch ${e}/${epochs} gradients sent (${rng.int(200, 900)} ms)`);
    worker.push(`INFO  worker ${node}: done`);
    nodeLogLines.push(worker);
  }
  return { ...b, multiNode: true, numNodes, plan: { ...b.plan, nodeLogLines } };
}

/** The SubmitJob fields a template fixes, for its `serial`-th job. */
function templateJob(t: Template, serial: number): Omit<SimJobInput, 'plan'> {
  return { jobName: `${t.name}-${serial}`, jobQueue: t.queue, jobDefinition: t.def, image: t.image, command: t.command, vcpus: t.vcpus, memory: t.memory };
}

function submitFromTemplate(model: SimModel, t: Template, serial: number, dependsOn?: string[]): string {
  const rng = model.rng;
  const failed = rng.chance(0.12);
  const reason = rng.pick(FAILURE_REASONS);
  const base: SimJobInput = {
    ...templateJob(t, serial),
    plan: {
      outcome: failed ? 'FAILED' : 'SUCCEEDED',
      exitCode: failed ? rng.pick([1, 2, 137]) : 0,
      reason: failed ? reason : undefined,
      runSeconds: rng.int(20, 240),
      logLines: logLinesFor(rng, t.name, failed, reason),
    },
  };
  const input = t.make ? t.make(rng, base) : base;
  // Now and then an image pull hangs: the job sits in STARTING for 20 minutes.
  if (!input.fargate && rng.chance(0.02)) input.plan = { ...input.plan, startingSeconds: 1200 };
  return model.submitJob(dependsOn && !input.arraySize ? { ...input, dependsOn } : input).jobId;
}

/** The demo's chatty job: a search reindex writing LONG_LOG_LINES lines over 25 minutes, so the log viewer has a real log to show. */
export const LONG_LOG_LINES = 250_000;
const LONG_LOG_EVERY_TICKS = 1800;

function longLogLines(serial: number): string[] {
  const lines = [`INFO  search-reindex-${serial}: reindexing 'products' into 'products-v${serial}'`];
  for (let i = 1; i < LONG_LOG_LINES - 1; i++) {
    const shard = i % 64;
    if (i % 5000 === 0) lines.push(`WARN  shard ${shard}: bulk request rejected (429 Too Many Requests), retrying batch ${i} in 2s`);
    else lines.push(`INFO  shard ${String(shard).padStart(2, '0')} batch ${i}: indexed ${500 + (i % 500)} docs, ${(i * 7919) % 1000} ms, total ${i * 512} docs`);
  }
  lines.push(`INFO  search-reindex-${serial}: done, ${(LONG_LOG_LINES - 2) * 512} docs, alias switched`);
  return lines;
}

function submitLongLog(model: SimModel, serial: number): void {
  model.submitJob({
    jobName: `search-reindex-${serial}`,
    jobQueue: 'etl-prod',
    jobDefinition: 'search-indexer:9',
    image: `${ECR}/search-indexer:5.0.1`,
    command: ['reindex', '--index', 'products', '--shards', '64'],
    vcpus: 4,
    memory: 8192,
    plan: { outcome: 'SUCCEEDED', exitCode: 0, runSeconds: 1500, logLines: longLogLines(serial) },
  });
}

/**
 * A nightly pipeline whose every step waits on the one before (dependsOn):
 * chains to follow both ways on a job's page, PENDING while the step before
 * runs, FAILED all the way down when one step fails.
 */
export const DEMO_CHAIN = ['etl-orders-hourly', 'feature-backfill', 'report-render', 'email-digest'] as const;
const CHAIN_EVERY_TICKS = 600;

/** Submits one chain; returns the next serial. */
function submitChain(model: SimModel, serial: number): number {
  let previous: string | undefined;
  for (const name of DEMO_CHAIN) {
    const t = TEMPLATES.find((template) => template.name === name) as Template;
    previous = submitFromTemplate(model, t, serial++, previous ? [previous] : undefined);
  }
  return serial;
}

/** The demo's multi-node job: 3 nodes, each with its own log, running 10 minutes (the job page reads each node's log). */
function submitDistributedTraining(model: SimModel, serial: number): void {
  const t = TEMPLATES.find((x) => x.name === 'train-ctr-model') as Template;
  const base: SimJobInput = {
    ...templateJob(t, serial),
    plan: { outcome: 'SUCCEEDED', exitCode: 0, runSeconds: 600 },
  };
  model.submitJob(multiNodeTraining(model.rng, base, 3));
}

function startDemo(model: SimModel): void {
  model.createComputeEnvironment({ name: 'etl-spot-ce', minvCpus: 0, maxvCpus: 128, instances: 2, instanceVcpus: 8 });
  model.createComputeEnvironment({ name: 'etl-ondemand-ce', minvCpus: 0, maxvCpus: 64 });
  model.createComputeEnvironment({ name: 'ml-gpu-ce', minvCpus: 0, maxvCpus: 96, instanceVcpus: 16 });
  model.createComputeEnvironment({ name: 'fargate-ce', fargate: true, maxvCpus: 32 });
  model.createComputeEnvironment({ name: 'legacy-unmanaged-ce', type: 'UNMANAGED', instances: 1 });
  model.createJobQueue({ name: 'etl-prod', computeEnvironments: ['etl-spot-ce', 'etl-ondemand-ce'], priority: 10 });
  model.createJobQueue({ name: 'ml-training', computeEnvironments: ['ml-gpu-ce'], priority: 5 });
  model.createJobQueue({ name: 'reports-fargate', computeEnvironments: ['fargate-ce'], priority: 1 });
  model.createJobQueue({ name: 'legacy', computeEnvironments: ['legacy-unmanaged-ce'], priority: 1, state: 'DISABLED' });

  const totalWeight = TEMPLATES.reduce((s, t) => s + t.weight, 0);
  let serial = 1000;
  const pickTemplate = () => {
    let r = model.rng.next() * totalWeight;
    for (const t of TEMPLATES) if ((r -= t.weight) < 0) return t;
    return TEMPLATES[0];
  };
  // A first batch so the UI has something to show at once, then ~1 job every 4 simulated seconds.
  for (let i = 0; i < 12; i++) submitFromTemplate(model, pickTemplate(), serial++);
  submitLongLog(model, serial++);
  serial = submitChain(model, serial);
  submitDistributedTraining(model, serial++);
  const report = TEMPLATES.find((t) => t.name === 'report-render') as Template;
  let ticks = 0;
  model.onTick(() => {
    if (++ticks % LONG_LOG_EVERY_TICKS === 0) {
      submitLongLog(model, serial++);
      submitDistributedTraining(model, serial++);
    }
    if (ticks % CHAIN_EVERY_TICKS === 0) serial = submitChain(model, serial);
    if (!model.rng.chance(0.25)) return;
    const t = pickTemplate();
    const id = submitFromTemplate(model, t, serial++);
    // Some ETL runs feed a report that waits for them (dependsOn: PENDING until they succeed).
    if (t.name === 'etl-orders-hourly' && model.rng.chance(0.3)) submitFromTemplate(model, report, serial++, [id]);
  });
}
