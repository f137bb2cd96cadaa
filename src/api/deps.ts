import type { Knex } from 'knex';
import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import type { AwsClients } from '../aws/clients';
import type { JobStatusFeed } from '../live/jobStatusFeed';
import type { Logger } from '../log';
import type { Config } from '../config/schema';
import type { EnqueueResult } from '../pipeline/jobEvents';
import type { IndexPage } from './routes/ui';

/** What the API needs from the pipeline: event ingestion and its queues for bull-board. */
export interface PipelineIngest {
  queues: Queue[];
  enqueueJobEvents(events: unknown[]): Promise<EnqueueResult>;
}

/** Everything the app uses, injected so tests and roles decide what is real. */
export interface ApiDeps {
  config: Config;
  db: Knex;
  /**
   * Where searches, counts and stats read (database_replica_host); db when
   * absent. Nothing writes through it.
   */
  readDb?: Knex;
  aws: Pick<AwsClients, 'batch' | 'logs' | 's3'>;
  logger: Logger;
  /** Cross-process job status changes (WebSocket pushes). */
  live?: JobStatusFeed;
  /** For /readyz. */
  redis?: Redis;
  /** For POST /api/v1/jobs/notify and bull-board; absent → 503 on notify. */
  pipeline?: PipelineIngest;
  /** The UI's index.html, loaded once at start-up (S3) or per request (local). */
  indexPage?: IndexPage;
  /** WebSocket heartbeat push period (SPEC: 5 s); tests shorten it. */
  statusPushIntervalMs?: number;
  /** How long a status WebSocket for a job not mirrored yet waits for it (tests shorten it). */
  statusWaitMs?: number;
  /** How long close() lets requests in flight run before cutting them (default 10 s); tests lengthen it. */
  shutdownGraceMs?: number;
}
