import { parseArgs } from 'node:util';
import { SCENARIOS, startSimulator } from '../simulator';
import type { ScenarioName } from '../simulator';

const USAGE = `usage: batchiepatchie simulate [--port N] [--host H] [--seed S] [--scenario ${SCENARIOS.join('|')}] [--speed X]
                               [--retention-seconds N] [--throttle-rate R] [--error-rate R] [--delay-ms N]
                               [--bulk-jobs N] [--bulk-active N]

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

Faults and counters can also be changed at run time: see docs/simulator.md.`;

class UsageError extends Error {}

function numberFlag(value: string | undefined, name: string, fallback: number, check: (n: number) => boolean): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || !check(n)) throw new UsageError(`--${name}: invalid value ${JSON.stringify(value)}`);
  return n;
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
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  const scenario = (values.scenario ?? 'demo') as ScenarioName;
  if (!SCENARIOS.includes(scenario)) throw new UsageError(`--scenario: expected one of ${SCENARIOS.join(', ')}, got ${JSON.stringify(values.scenario)}`);
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
    bulk: {
      finished: numberFlag(values['bulk-jobs'], 'bulk-jobs', 1_000_000, (n) => Number.isInteger(n) && n >= 0 && n <= 5_000_000),
      active: numberFlag(values['bulk-active'], 'bulk-active', 1_000, (n) => Number.isInteger(n) && n >= 0 && n <= 1_000_000),
    },
  };
}

/** `batchiepatchie simulate`: the AWS simulator as a process of its own, until SIGINT/SIGTERM. */
export async function runSimulate(args: string[]): Promise<void> {
  let opts: ReturnType<typeof parse>;
  try {
    opts = parse(args);
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (opts.help) {
    console.log(USAGE);
    return;
  }
  const started = performance.now();
  let sim: Awaited<ReturnType<typeof startSimulator>>;
  try {
    sim = await startSimulator({ ...opts, clock: 'real' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(`batchiepatchie simulate: port ${opts.port} on ${opts.host} is already in use; pick another with --port N (0 = any free port)`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
  const queues = [...sim.model.queues.keys()];
  const firstQueue = queues[0] ?? 'my-queue';
  const e = sim.endpoint;
  console.log(`AWS simulator (scenario ${opts.scenario}, seed ${opts.seed}, speed ${opts.speed}x) listening on ${e}  [ready in ${((performance.now() - started) / 1000).toFixed(1)} s]
Job queues: ${queues.length ? queues.join(', ') : '(none yet: POST /_sim/compute-environments and /_sim/job-queues)'}

Point any AWS SDK or the AWS CLI at it, with any region and dummy credentials:
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
  aws --endpoint-url ${e} batch describe-job-queues
  aws --endpoint-url ${e} batch list-jobs --job-queue ${firstQueue} --job-status RUNNING
  aws --endpoint-url ${e} logs describe-log-streams --log-group-name /aws/batch/job
Batchiepatchie: set aws_endpoint = "${e}" in the config (or BATCHIEPATCHIE_AWS_ENDPOINT=${e}).
Admin: ${e}/_sim/state  ${e}/_sim/counters  ${e}/_sim/faults   (see docs/simulator.md)`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      console.log(`\n${signal}: stopping the simulator`);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve();
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  await sim.stop();
}
