/** Usage statistics per queue and status, bucketed by run start (SPEC section 6). */
import type Router from '@koa/router';
import { jobStats } from '../../store/stats';
import type { ApiDeps } from '../deps';
import { parseQueryOr400, statsQuerySchema } from '../validation';

export function statsRoutes(router: Router, deps: ApiDeps): void {
  router.get('/api/v1/jobs/stats', async (ctx) => {
    const q = parseQueryOr400(statsQuerySchema, ctx.query);
    ctx.body = await jobStats(deps.readDb ?? deps.db, {
      start: new Date(q.start * 1000),
      end: new Date(q.end * 1000),
      queues: q.queue ?? [],
      statuses: q.status ?? [],
    });
  });
}
