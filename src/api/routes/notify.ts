/**
 * POST /api/v1/jobs/notify: EventBridge "Batch Job State Change" events (one
 * or an array), as the Go original's Lambda hook posts them. Validated here,
 * applied by the pipeline (it writes within a second; polling reconciles).
 * Protection: the shared secret header when notify_secret is set; otherwise,
 * with auth on, an operator's credentials.
 */
import type Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import bodyParser from 'koa-bodyparser';
import type { ApiDeps } from '../deps';
import { assertAllowed, authRequired, identify, sameSecret } from '../auth';
import { type EnqueueResult, InvalidJobEventError, JobEventBacklogFullError, lacksJobName } from '../../pipeline/jobEvents';
import { HttpError, badRequest } from '../errors';
import { jobStateChangeEventSchema, notifyBodySchema, parseOr400 } from '../validation';

export const NOTIFY_SECRET_HEADER = 'x-batchiepatchie-notify-secret';
export const NOTIFY_BODY_LIMIT = '8mb';
/** Seconds a caller refused for a full event backlog should wait: workers drain thousands of events a second. */
export const BACKLOG_RETRY_AFTER_SECONDS = 5;

/** Each event with a job name must be one we can read; those without one are skipped (as the Go original did). */
function checkEvents(events: unknown[]): void {
  events.forEach((event, index) => {
    if (lacksJobName(event)) return;
    try {
      parseOr400(jobStateChangeEventSchema, event, 'body');
    } catch (err) {
      if (err instanceof HttpError) throw badRequest(`event ${index}: ${err.message}`, { parameter: 'body', index });
      throw err;
    }
  });
}

function notifyGuard(deps: ApiDeps): Middleware {
  const { config } = deps;
  return async function checkNotifyCaller(ctx: Context, next: Next): Promise<void> {
    if (config.notify_secret) {
      const given = ctx.get(NOTIFY_SECRET_HEADER);
      if (!given) throw new HttpError(401, `missing ${NOTIFY_SECRET_HEADER} header`);
      if (!sameSecret(given, config.notify_secret)) throw new HttpError(403, `wrong ${NOTIFY_SECRET_HEADER}`);
    } else if (authRequired(config)) {
      assertAllowed(identify(ctx.req.headers, config), 'operator', config);
    }
    await next();
  };
}

export function notifyRoutes(router: Router, deps: ApiDeps): void {
  router.post(
    '/api/v1/jobs/notify',
    notifyGuard(deps),
    bodyParser({ enableTypes: ['json'], jsonLimit: NOTIFY_BODY_LIMIT, strict: true }),
    async (ctx) => {
      const events = parseOr400(notifyBodySchema, (ctx.request as { body?: unknown }).body, 'body');
      checkEvents(events);
      if (!deps.pipeline) throw new HttpError(503, 'event ingestion is not available (the pipeline queues are not connected)');
      let result: EnqueueResult;
      try {
        result = await deps.pipeline.enqueueJobEvents(events);
      } catch (err) {
        // The pipeline's own check (it knows what it can apply) refuses the whole batch.
        if (err instanceof InvalidJobEventError) throw badRequest(err.message, { parameter: 'body', index: err.index });
        if (err instanceof JobEventBacklogFullError) {
          ctx.set('Retry-After', String(BACKLOG_RETRY_AFTER_SECONDS));
          throw new HttpError(503, err.message, { retryAfterSeconds: BACKLOG_RETRY_AFTER_SECONDS });
        }
        throw err;
      }
      // accepted: applied within a second or so; skipped: events without a job name, left out.
      ctx.status = 202;
      ctx.body = result;
    },
  );
}
