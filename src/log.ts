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

const MAX_WARNING_KINDS = 100;

/**
 * Warnings for an error that repeats while a dependency is down (every BullMQ
 * worker reports each failed Redis reconnect, several a second): the first of
 * each kind is logged at once, later ones at most once per `everyMs`, with how
 * many were held back. A kind is the message with its fields (error text,
 * queue, ...).
 */
export function repeatedWarnings(
  logger: Logger,
  everyMs = 30_000,
  now: () => number = Date.now,
): (fields: Record<string, string>, msg: string) => void {
  const kinds = new Map<string, { loggedAt: number; heldBack: number }>();
  return (fields, msg) => {
    const key = `${msg}\u0000${JSON.stringify(fields)}`;
    const kind = kinds.get(key);
    if (kind && now() - kind.loggedAt < everyMs) {
      kind.heldBack += 1;
      return;
    }
    logger.warn(kind?.heldBack ? { ...fields, repeated: kind.heldBack } : fields, msg);
    if (!kind && kinds.size >= MAX_WARNING_KINDS) kinds.clear(); // errors with ever-new texts: bounded memory
    kinds.set(key, { loggedAt: now(), heldBack: 0 });
  };
}
