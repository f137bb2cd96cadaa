import type { Knex } from 'knex';
import type { Redis } from 'ioredis';
import type { AwsClients } from '../aws/clients';
import type { Logger } from '../log';
import type { Config } from '../config/schema';

/** What every task needs; built once per worker process. */
export interface TaskContext {
  config: Config;
  db: Knex;
  /** Rate-limited and counted (see aws/calls.ts). */
  aws: AwsClients;
  /** For our own keys (locks, marks); BullMQ keeps its own connections. */
  redis: Redis;
  logger: Logger;
  /** "Now" in AWS time, for PYBATCH_TIMEOUT (compared with created_at); tests pin it to the simulator clock. */
  now(): Date;
}
