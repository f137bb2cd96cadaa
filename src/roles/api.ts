import { startApi } from '../api/app';
import { createLogger } from '../log';
import type { Config } from '../config/schema';
import { untilSignal } from '../pipeline/shutdown';

/** `batchiepatchie api`: serve until SIGTERM/SIGINT, then shut down gracefully. */
export async function runApi(config: Config): Promise<void> {
  const logger = createLogger(config.log_level, { role: 'api' });
  // Listening before starting (the CLI already does): a SIGTERM while starting ends it cleanly.
  const stopped = untilSignal();
  const api = await startApi(config, { logger });
  const signal = await stopped;
  logger.info({ signal }, 'shutting down: finishing in-flight requests');
  try {
    await api.close();
  } catch (err) {
    logger.error({ err }, 'shutdown failed');
    process.exitCode = 1;
  }
}
