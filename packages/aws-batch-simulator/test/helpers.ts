import { BatchClient } from '@aws-sdk/client-batch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { S3Client } from '@aws-sdk/client-s3';
import { startSimulator, type SimulatorHandle, type SimulatorOptions } from '../src';

export interface AwsClients {
  batch: BatchClient;
  ecs: ECSClient;
  ec2: EC2Client;
  logs: CloudWatchLogsClient;
  s3: S3Client;
  destroy(): void;
}

/** The real SDK clients pointed at the simulator, with dummy credentials (path-style S3, as any custom endpoint needs). */
export function sdkClients(endpoint: string, opts: { region?: string; maxAttempts?: number } = {}): AwsClients {
  const options = {
    region: opts.region ?? 'eu-west-1',
    endpoint,
    maxAttempts: opts.maxAttempts ?? 3,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  const clients = {
    batch: new BatchClient(options),
    ecs: new ECSClient(options),
    ec2: new EC2Client(options),
    logs: new CloudWatchLogsClient(options),
    s3: new S3Client({ ...options, forcePathStyle: true }),
  };
  return {
    ...clients,
    destroy() {
      for (const client of Object.values(clients)) client.destroy();
    },
  };
}

export interface TestSim {
  sim: SimulatorHandle;
  aws: AwsClients;
  close(): Promise<void>;
}

/** A simulator on a free port with a manual clock, and real SDK clients pointed at it. */
export async function startTestSim(opts: SimulatorOptions = {}, clientOpts: { maxAttempts?: number } = {}): Promise<TestSim> {
  const sim = await startSimulator({ port: 0, clock: 'manual', seed: 7, ...opts });
  const aws = sdkClients(sim.endpoint, { maxAttempts: clientOpts.maxAttempts ?? 3 });
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
