import { startSimulator, type SimulatorHandle, type SimulatorOptions } from 'aws-batch-simulator';
import { createAwsClients, type AwsClients } from '../../src/aws/clients';

export interface TestSim {
  sim: SimulatorHandle;
  aws: AwsClients;
  close(): Promise<void>;
}

/** A simulator on a free port with a manual clock, and the product's AWS clients pointed at it. */
export async function startTestSim(opts: SimulatorOptions = {}): Promise<TestSim> {
  const sim = await startSimulator({ port: 0, clock: 'manual', seed: 7, ...opts });
  const aws = createAwsClients({ region: 'eu-west-1', aws_endpoint: sim.endpoint, maxAttempts: 3 });
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
export function basicInfra(sim: SimulatorHandle, opts: { queue?: string; ce?: string; instances?: number } = {}): { queue: string; ce: string } {
  const ce = opts.ce ?? 'ce-main';
  const queue = opts.queue ?? 'q-main';
  sim.model.createComputeEnvironment({ name: ce, instances: opts.instances ?? 2, instanceVcpus: 8 });
  sim.model.createJobQueue({ name: queue, computeEnvironments: [ce] });
  return { queue, ce };
}
