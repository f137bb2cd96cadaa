import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * The process logger: JSON lines on stdout. The level comes from Config
 * (log_level) or BATCHIEPATCHIE_LOG_LEVEL before the config is read.
 */
export function createLogger(level?: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level: level ?? process.env.BATCHIEPATCHIE_LOG_LEVEL ?? 'info',
    base: { service: 'batchiepatchie', ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
