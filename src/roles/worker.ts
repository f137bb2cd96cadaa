import { createLogger } from '../log';
import { startMetricsServer } from '../pipeline/metricsServer';
import { startWorkers } from '../pipeline/worker';
import type { Config } from '../config/schema';
import { untilSignal } from '../pipeline/shutdown';

/** `batchiepatchie worker`: pipeline workers until SIGTERM/SIGINT, then a graceful close (active jobs finish). */
export async function runWorker(config: Config): Promise<void> {
  const logger = createLogger(config.log_level, { role: 'worker' });
  // Listening before starting (the CLI already does): a SIGTERM while starting ends it cleanly.
  const stopped = untilSignal();
  const metrics = config.metrics_port > 0 ? await startMetricsServer(config.host, config.metrics_port, logger) : null;
  const workers = await startWorkers(config, { logger });
  const signal = await stopped;
  logger.info({ signal }, 'worker shutting down');
  await workers.close();
  await metrics?.close();
  logger.info('worker stopped');
}
