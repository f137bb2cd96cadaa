/** Operations endpoints: liveness, readiness, metrics, and the Go original's /ping. */
import type Router from '@koa/router';
import { staleAfterSeconds } from '../../pipeline/freshness';
import { heartbeatAge, SYNC_ROUND_FINISHED } from '../../store/syncState';
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

/**
 * Whether the pipeline is mirroring: a sync round finished within the last
 * three sync periods (pipeline_heartbeats, on Postgres's clock). Before any
 * round ever finished (a new deployment), the API allows three periods from
 * its own start.
 */
async function syncRounds(deps: ApiDeps, watchingSince: number): Promise<{ state: string; ageSeconds: number | null }> {
  const limit = staleAfterSeconds(deps.config);
  const age = await withTimeout(heartbeatAge(deps.db, SYNC_ROUND_FINISHED), READY_TIMEOUT_MS);
  const ageSeconds = age === null ? null : Math.round(age * 10) / 10;
  if (age !== null && age <= limit) return { state: 'ok', ageSeconds };
  if (age === null && (Date.now() - watchingSince) / 1000 <= limit) return { state: 'ok', ageSeconds };
  const last = age === null ? 'none has finished yet' : `the last one ${Math.round(age)} s ago`;
  return { state: `no sync round finished in the last ${limit} s (3 sync periods); ${last}`, ageSeconds };
}

export function opsRoutes(router: Router, deps: ApiDeps): void {
  const watchingSince = Date.now();
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
    const rounds =
      postgres === 'ok'
        ? await syncRounds(deps, watchingSince).catch((err: unknown) => {
            deps.logger.warn({ err, dependency: 'pipeline_heartbeats' }, 'readiness probe failed');
            return { state: 'unknown (the last sync round could not be read)', ageSeconds: null };
          })
        : null;
    const sync = rounds?.state ?? 'unknown (Postgres is not ready)';
    const ready = postgres === 'ok' && redisState === 'ok' && sync === 'ok';
    const report = { postgres, redis: redisState, sync, last_sync_round_age_seconds: rounds?.ageSeconds ?? null };
    ctx.status = ready ? 200 : 503;
    ctx.body = ready ? { status: 'ready', ...report } : { error: 'not ready', ...report };
  });

  router.get('/metrics', async (ctx) => {
    const { contentType, body } = await metricsText();
    ctx.type = contentType;
    ctx.body = body;
  });
}
