import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { BatchClient } from '@aws-sdk/client-batch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
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

/**
 * The region of an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>,
 * or the legacy https://<region>.queue.amazonaws.com/...); undefined for any other host.
 */
export function regionOfQueueUrl(url: string): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return undefined;
  }
  return /^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(host)?.[1] ?? /^([a-z0-9-]+)\.queue\.amazonaws\.com(\.cn)?$/.exec(host)?.[1];
}

/**
 * The client for `events_queue_url`: the same options as every other client
 * (aws_endpoint, dummy credentials with it), signed for the queue's own region
 * when its URL names one (a queue in another region than `region` works).
 */
export function createSqsClient(config: AwsClientConfig & { events_queue_url?: string }): SQSClient {
  const region = (config.events_queue_url && !config.aws_endpoint && regionOfQueueUrl(config.events_queue_url)) || config.region;
  return new SQSClient({ ...clientOptions({ ...config, region }) });
}
