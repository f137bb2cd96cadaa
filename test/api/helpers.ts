/** Shared set-up of the API tests: a database of their own, the API on a free port, fixtures. */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { startApi, type ApiServer } from '../../src/api/app';
import type { ApiDeps } from '../../src/api/deps';
import { createAwsClients } from '../../src/aws/clients';
import { createLogger } from '../../src/log';
import { upsertJobs } from '../../src/store/jobs';
import type { Config, MirroredJob } from '../../src/types';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { testRedisPrefix } from '../helpers/redis';

let counter = 0;

export function job(overrides: Partial<MirroredJob> = {}): MirroredJob {
  counter += 1;
  return {
    job_id: overrides.job_id ?? randomUUID(),
    job_name: `job-${counter}`,
    job_definition: 'arn:aws:batch:us-east-1:123456789012:job-definition/def:1',
    job_queue: 'queue-a',
    image: 'busybox:latest',
    status: 'RUNNABLE',
    created_at: new Date('2026-11-01T00:00:00.000Z'),
    stopped_at: null,
    vcpus: 1,
    vcpus_exact: null,
    memory: 512,
    timeout: -1,
    command_line: '["echo","hi"]',
    status_reason: null,
    run_started_at: null,
    exitcode: null,
    log_stream_name: null,
    log_group_name: null,
    task_arn: null,
    array_properties: null,
    array_parent_id: null,
    array_index: null,
    attempts: 0,
    platform: 'EC2',
    job_type: 'container',
    ...overrides,
  };
}

export async function insertJobs(db: Knex, jobs: MirroredJob[]): Promise<void> {
  await upsertJobs(db, jobs);
}

export async function setLastUpdated(db: Knex, id: string, at: Date): Promise<void> {
  await db('jobs').where({ job_id: id }).update({ last_updated: at });
}

export interface TestApi {
  url: string;
  api: ApiServer;
  tdb: TestDatabase;
  db: Knex;
  config: Config;
  close(): Promise<void>;
}

/**
 * A migrated database of its own and the API on 127.0.0.1:0. AWS calls go
 * to `aws_endpoint` (the simulator in tests that need AWS; a closed port otherwise).
 */
export async function startTestApi(
  opts: { config?: Partial<Config>; deps?: Partial<ApiDeps>; tdb?: TestDatabase } = {},
): Promise<TestApi> {
  const tdb = opts.tdb ?? (await createTestDatabase());
  const redis = testRedisPrefix();
  const config: Config = {
    ...tdb.config,
    host: '127.0.0.1',
    port: 0,
    aws_endpoint: 'http://127.0.0.1:9',
    redis_prefix: redis.prefix,
    ...opts.config,
  };
  const logger = createLogger(process.env.BATCHIEPATCHIE_LOG_LEVEL ?? 'silent');
  // One attempt per AWS call: tests that expect AWS failures should not sit through SDK back-off.
  const aws = createAwsClients({ ...config, maxAttempts: 1 });
  const api = await startApi(config, { db: tdb.db, logger, aws, ...opts.deps });
  return {
    url: api.url,
    api,
    tdb,
    db: tdb.db,
    config,
    async close() {
      await api.close();
      aws.destroy();
      await redis.cleanup();
      if (!opts.tdb) await tdb.drop();
    },
  };
}

export async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body, headers: res.headers };
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  return getJson(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
