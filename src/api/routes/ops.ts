/** Operations endpoints: liveness, readiness, metrics, and the Go original's /ping. */
import type Router from '@koa/router';
import type { ApiDeps } from '../deps';
import { metricsText } from '../metrics';

const READY_TIMEOUT_MS = 2_000;

class ProbeTimeout extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProbeTimeout(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** 'ok', 'timeout' or 'unreachable': the probe's own error (addresses, driver text) goes to the log, not to the public answer. */
async function check(probe: () => Promise<unknown>, what: string, deps: ApiDeps): Promise<string> {
  try {
    await withTimeout(probe(), READY_TIMEOUT_MS);
    return 'ok';
  } catch (err) {
    deps.logger.warn({ err, dependency: what }, 'readiness probe failed');
    return err instanceof ProbeTimeout ? 'timeout' : 'unreachable';
  }
}

export function opsRoutes(router: Router, deps: ApiDeps): void {
  router.get('/ping', (ctx) => {
    ctx.type = 'text/plain';
    ctx.body = 'pong';
  });

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    const redis = deps.redis;
    const [postgres, redisState] = await Promise.all([
      check(() => deps.db.raw('SELECT 1'), 'postgres', deps),
      redis ? check(() => redis.ping(), 'redis', deps) : Promise.resolve('not configured'),
    ]);
    const ready = postgres === 'ok' && redisState === 'ok';
    ctx.status = ready ? 200 : 503;
    ctx.body = ready ? { status: 'ready', postgres, redis: redisState } : { error: 'not ready', postgres, redis: redisState };
  });

  router.get('/metrics', async (ctx) => {
    const { contentType, body } = await metricsText();
    ctx.type = contentType;
    ctx.body = body;
  });
}
