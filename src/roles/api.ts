import { startApi } from '../api/app';
import { createLogger } from '../log';
import type { Config } from '../config/schema';

/** `batchiepatchie api`: serve until SIGTERM/SIGINT, then shut down gracefully. */
export async function runApi(config: Config): Promise<void> {
  const logger = createLogger(config.log_level, { role: 'api' });
  const api = await startApi(config, { logger });
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutting down: finishing in-flight requests');
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      api.close().then(resolve, (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
