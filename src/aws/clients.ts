import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { BatchClient } from '@aws-sdk/client-batch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Config } from '../config/schema';

export interface AwsClients {
  batch: BatchClient;
  ecs: ECSClient;
  ec2: EC2Client;
  logs: CloudWatchLogsClient;
  s3: S3Client;
  destroy(): void;
}

export type AwsClientConfig = Pick<Config, 'region'> & Partial<Pick<Config, 'aws_endpoint'>> & {
  /** SDK attempts per call (the SDK's own retry with back-off on throttling). */
  maxAttempts?: number;
};

/**
 * Common options of every client. With `aws_endpoint` (the simulator or another
 * AWS-compatible endpoint) and no credentials in the environment, dummy
 * credentials are used so that nothing reaches for a real account.
 */
export function clientOptions(config: AwsClientConfig) {
  const endpoint = config.aws_endpoint;
  const haveEnvCredentials = Boolean(process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE);
  return {
    region: config.region,
    maxAttempts: config.maxAttempts ?? 5,
    ...(endpoint ? { endpoint } : {}),
    ...(endpoint && !haveEnvCredentials
      ? { credentials: { accessKeyId: 'batchiepatchie', secretAccessKey: 'batchiepatchie' } }
      : {}),
    requestHandler: new NodeHttpHandler({
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 64 }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
      connectionTimeout: 5_000,
      requestTimeout: 30_000,
    }),
  };
}

export function createS3Client(config: AwsClientConfig): S3Client {
  // Path-style addressing: custom endpoints rarely serve bucket subdomains.
  return new S3Client({ ...clientOptions(config), forcePathStyle: Boolean(config.aws_endpoint) });
}

export function createAwsClients(config: AwsClientConfig): AwsClients {
  const options = clientOptions(config);
  const clients = {
    batch: new BatchClient(options),
    ecs: new ECSClient(options),
    ec2: new EC2Client(options),
    logs: new CloudWatchLogsClient(options),
    s3: createS3Client(config),
  };
  return {
    ...clients,
    destroy() {
      for (const client of Object.values(clients)) client.destroy();
    },
  };
}
