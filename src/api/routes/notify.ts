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
import { InvalidJobEventError } from '../../pipeline/jobEvents';
import { HttpError, badRequest } from '../errors';
import { notifyBodySchema, parseOr400 } from '../validation';

export const NOTIFY_SECRET_HEADER = 'x-batchiepatchie-notify-secret';
export const NOTIFY_BODY_LIMIT = '8mb';

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
      if (!deps.pipeline) throw new HttpError(503, 'event ingestion is not available (the pipeline queues are not connected)');
      let accepted: number;
      try {
        accepted = await deps.pipeline.enqueueJobEvents(events);
      } catch (err) {
        // The pipeline's own check (it knows what it can apply) refuses the whole batch.
        if (err instanceof InvalidJobEventError) throw badRequest(err.message, { parameter: 'body', index: err.index });
        throw err;
      }
      ctx.status = 202;
      ctx.body = { accepted };
    },
  );
}
