/** Shared set-up of the API tests: a database of their own, the API on a free port, fixtures. */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { startApi, type ApiServer } from '../../src/api/app';
import type { ApiDeps } from '../../src/api/deps';
import { createAwsClients } from '../../src/aws/clients';
import { createLogger } from '../../src/log';
import { upsertJobs } from '../../src/store/jobs/upsert';
import type { Config } from '../../src/config/schema';
import type { MirroredJob } from '../../src/types';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { testRedisPrefix } from '../helpers/redis';
import { mirroredJob } from '../store/fixtures';

/** A complete MirroredJob with a random id; override what the test is about. */
export function job(overrides: Partial<MirroredJob> = {}): MirroredJob {
  return mirroredJob({ job_id: randomUUID(), ...overrides });
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
