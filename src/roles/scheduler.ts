import { createLogger } from '../log';
import { startMetricsServer } from '../pipeline/metricsServer';
import { startScheduler } from '../pipeline/scheduler';
import type { Config } from '../config/schema';
import { untilSignal } from '../pipeline/shutdown';

/**
 * `batchiepatchie scheduler`: registers the job schedulers (idempotently) and
 * stays up so an orchestrator sees it healthy; BullMQ itself produces the
 * periodic jobs, so stopping it stops nothing.
 */
export async function runScheduler(config: Config): Promise<void> {
  const logger = createLogger(config.log_level, { role: 'scheduler' });
  // Listening before starting (the CLI already does): a SIGTERM while starting ends it cleanly.
  const stopped = untilSignal();
  const metrics = config.metrics_port > 0 ? await startMetricsServer(config.host, config.metrics_port, logger) : null;
  const scheduler = await startScheduler(config, { logger });
  const signal = await stopped;
  logger.info({ signal }, 'scheduler shutting down');
  await scheduler.close();
  await metrics?.close();
}
