/**
 * The simulator as a process of its own: flags, a banner saying how to point
 * clients at it, and a clean stop on SIGINT/SIGTERM. Embedders (a product's
 * own `simulate` command) reuse it with their command name and a line of their own.
 */
import { parseArgs } from 'node:util';
import { SCENARIOS } from './scenarios';
import { startSimulator } from './server';
import type { ScenarioName, SimulatorHandle } from './types';

export interface SimulatorCliOptions {
  /** How the command is spelled in messages (default `aws-batch-simulator`). */
  command?: string;
  /** Extra lines printed after the banner, given the endpoint. */
  banner?: (endpoint: string) => string;
  /** Where the run-time admin API is documented. */
  docs?: string;
}

function usage(command: string, docs: string): string {
  const pad = ' '.repeat(command.length + 8);
  return `usage: ${command} [--port N] [--host H] [--seed S] [--scenario ${SCENARIOS.join('|')}] [--speed X]
${pad}[--retention-seconds N] [--throttle-rate R] [--error-rate R] [--delay-ms N]
${pad}[--bulk-jobs N] [--bulk-active N] [--events-queue NAME]

  --port               port to listen on (default 4566; 0 = any free port)
  --host               address to bind (default 127.0.0.1)
  --seed               seed of the simulated world (default 1)
  --scenario           what the account holds and keeps doing (default demo)
  --speed              simulated seconds per real second (default 1)
  --retention-seconds  how long finished jobs stay visible (default 86400)
  --throttle-rate      share of AWS calls answered with the service's throttling error (0..1)
  --error-rate         share of AWS calls answered with a 500 (0..1)
  --delay-ms           delay added to every AWS call
  --bulk-jobs          finished jobs loaded by --scenario bulkLoad (default 1000000)
  --bulk-active        active jobs loaded by --scenario bulkLoad (default 1000)
  --events-queue       SQS queue that gets a "Batch Job State Change" event for every job
                       status change (created with a dead-letter queue NAME-dlq)

Faults and counters can also be changed at run time: see ${docs}.`;
}

class UsageError extends Error {}

function numberFlag(value: string | undefined, name: string, fallback: number, check: (n: number) => boolean): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || !check(n)) throw new UsageError(`--${name}: invalid value ${JSON.stringify(value)}`);
  return n;
}

function isScenario(value: string): value is ScenarioName {
  return (SCENARIOS as readonly string[]).includes(value);
}

function parse(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      seed: { type: 'string' },
      scenario: { type: 'string' },
      speed: { type: 'string' },
      'retention-seconds': { type: 'string' },
      'throttle-rate': { type: 'string' },
      'error-rate': { type: 'string' },
      'delay-ms': { type: 'string' },
      'bulk-jobs': { type: 'string' },
      'bulk-active': { type: 'string' },
      'events-queue': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  const scenario = values.scenario ?? 'demo';
  if (!isScenario(scenario)) throw new UsageError(`--scenario: expected one of ${SCENARIOS.join(', ')}, got ${JSON.stringify(values.scenario)}`);
  return {
    help: values.help ?? false,
    port: numberFlag(values.port, 'port', 4566, (n) => Number.isInteger(n) && n >= 0 && n <= 65535),
    host: values.host ?? '127.0.0.1',
    seed: numberFlag(values.seed, 'seed', 1, Number.isInteger),
    speed: numberFlag(values.speed, 'speed', 1, (n) => n > 0 && n <= 10_000),
    retentionSeconds: numberFlag(values['retention-seconds'], 'retention-seconds', 86_400, (n) => n > 0),
    scenario,
    faults: {
      throttleRate: numberFlag(values['throttle-rate'], 'throttle-rate', 0, (n) => n >= 0 && n <= 1),
      errorRate: numberFlag(values['error-rate'], 'error-rate', 0, (n) => n >= 0 && n <= 1),
      delayMs: numberFlag(values['delay-ms'], 'delay-ms', 0, (n) => n >= 0 && n <= 600_000),
    },
    eventsQueue: values['events-queue'],
    bulk: {
      finished: numberFlag(values['bulk-jobs'], 'bulk-jobs', 1_000_000, (n) => Number.isInteger(n) && n >= 0 && n <= 5_000_000),
      active: numberFlag(values['bulk-active'], 'bulk-active', 1_000, (n) => Number.isInteger(n) && n >= 0 && n <= 1_000_000),
    },
  };
}

function banner(sim: SimulatorHandle, opts: ReturnType<typeof parse>, readySeconds: number): string {
  const queues = [...sim.model.queues.keys()];
  const firstQueue = queues[0] ?? 'my-queue';
  const e = sim.endpoint;
  return `AWS simulator (scenario ${opts.scenario}, seed ${opts.seed}, speed ${opts.speed}x) listening on ${e}  [ready in ${readySeconds.toFixed(1)} s]
Job queues: ${queues.length ? queues.join(', ') : '(none yet: POST /_sim/compute-environments and /_sim/job-queues)'}

Point any AWS SDK or the AWS CLI at it, with any region and dummy credentials:
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
  aws --endpoint-url ${e} batch describe-job-queues
  aws --endpoint-url ${e} batch list-jobs --job-queue ${firstQueue} --job-status RUNNING
  aws --endpoint-url ${e} logs describe-log-streams --log-group-name /aws/batch/job${
    sim.events.queue() ? `
Job state change events go to the SQS queue ${sim.model.sqs.urlOf(sim.model.sqs.find(sim.events.queue() as string))}` : ''
  }`;
}

function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(signal);
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}

/** Runs the simulator until SIGINT/SIGTERM. Bad flags: exit code 2; a port in use: 1. */
export async function runSimulatorCli(args: string[], cli: SimulatorCliOptions = {}): Promise<void> {
  const command = cli.command ?? 'aws-batch-simulator';
  const docs = cli.docs ?? 'the README of aws-batch-simulator';
  let opts: ReturnType<typeof parse>;
  try {
    opts = parse(args);
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n\n${usage(command, docs)}`);
    process.exitCode = 2;
    return;
  }
  if (opts.help) {
    console.log(usage(command, docs));
    return;
  }
  const started = performance.now();
  let sim: SimulatorHandle;
  try {
    sim = await startSimulator({ ...opts, clock: 'real' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(`${command}: port ${opts.port} on ${opts.host} is already in use; pick another with --port N (0 = any free port)`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
  const extra = cli.banner?.(sim.endpoint);
  console.log(`${banner(sim, opts, (performance.now() - started) / 1000)}${extra ? `\n${extra}` : ''}
Admin: ${sim.endpoint}/_sim/state  ${sim.endpoint}/_sim/counters  ${sim.endpoint}/_sim/faults   (see ${docs})`);
  const signal = await untilSignal();
  console.log(`\n${signal}: stopping the simulator`);
  await sim.stop();
}
