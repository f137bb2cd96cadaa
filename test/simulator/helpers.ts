import { createAwsClients, type AwsClients } from '../../src/aws/clients';
import { startSimulator, type SimulatorHandle, type SimulatorOptions } from '../../src/simulator';

export interface TestSim {
  sim: SimulatorHandle;
  aws: AwsClients;
  close(): Promise<void>;
}

/** A simulator on a free port with a manual clock, and real SDK clients pointed at it. */
export async function startTestSim(opts: SimulatorOptions = {}, clientOpts: { maxAttempts?: number } = {}): Promise<TestSim> {
  const sim = await startSimulator({ port: 0, clock: 'manual', seed: 7, ...opts });
  const aws = createAwsClients({ region: 'eu-west-1', aws_endpoint: sim.endpoint, maxAttempts: clientOpts.maxAttempts ?? 3 });
  return {
    sim,
    aws,
    async close() {
      aws.destroy();
      await sim.stop();
    },
  };
}

/** One compute environment with running instances and one queue on it. */
export function basicInfra(sim: SimulatorHandle, opts: { queue?: string; ce?: string; instances?: number; fargate?: boolean } = {}): { queue: string; ce: string } {
  const ce = opts.ce ?? 'ce-main';
  const queue = opts.queue ?? 'q-main';
  sim.model.createComputeEnvironment({ name: ce, instances: opts.fargate ? 0 : (opts.instances ?? 2), fargate: opts.fargate, instanceVcpus: 8 });
  sim.model.createJobQueue({ name: queue, computeEnvironments: [ce] });
  return { queue, ce };
}

export async function rawPost(endpoint: string, path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${endpoint}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** The AWS error a call fails with (its name, message and HTTP status); throws if it succeeds. */
export async function errorOf(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}
