import { startApi } from '../api/app';
import { createLogger } from '../log';
import { startScheduler } from '../pipeline/scheduler';
import { untilSignal } from '../pipeline/shutdown';
import { startWorkers } from '../pipeline/worker';
import type { Config } from '../config/schema';

/**
 * `batchiepatchie [config.toml]`: every role in one process, as the Go original
 * ran. Scaling out later is a matter of starting the roles separately against
 * the same Redis and Postgres.
 */
export async function runAll(config: Config): Promise<void> {
  const logger = createLogger(config.log_level, { role: 'all' });
  // Listening before starting (the CLI already does): a SIGTERM while starting ends it cleanly.
  const stopped = untilSignal();
  const scheduler = await startScheduler(config, { logger });
  const workers = await startWorkers(config, { logger });
  const api = await startApi(config, { logger });
  logger.info({ url: api.url }, 'batchiepatchie running (api + worker + scheduler)');
  const signal = await stopped;
  logger.info({ signal }, 'shutting down');
  // API first so no request is left waiting on a closed worker, then the pipeline.
  await api.close();
  await workers.close();
  await scheduler.close();
  logger.info('stopped');
}
