import { createLogger } from '../log';
import { startWorkers } from '../pipeline/worker';
import type { Config } from '../types';
import { untilSignal } from '../pipeline/shutdown';

/** `batchiepatchie worker`: pipeline workers until SIGTERM/SIGINT, then a graceful close (active jobs finish). */
export async function runWorker(config: Config): Promise<void> {
  const logger = createLogger(config.log_level, { role: 'worker' });
  const workers = await startWorkers(config, { logger });
  const signal = await untilSignal();
  logger.info({ signal }, 'worker shutting down');
  await workers.close();
  logger.info('worker stopped');
}
