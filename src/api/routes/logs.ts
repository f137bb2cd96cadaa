/**
 * GET /api/v1/jobs/:id/logs: the job's CloudWatch log as text/plain, streamed
 * page by page (src/aws/logs.ts); the next page is fetched only when the
 * client has taken the previous one (Readable.from pulls on demand).
 */
import { Readable } from 'node:stream';
import type Router from '@koa/router';
import { logPages, openLog } from '../../aws/logs';
import { getJob } from '../../store/jobs/lookups';
import type { ApiDeps } from '../deps';
import { notFound } from '../errors';
import { jobIdParam } from '../params';
import { logsQuerySchema, parseQueryOr400 } from '../validation';

export function logRoutes(router: Router, deps: ApiDeps): void {
  router.get('/api/v1/jobs/:id/logs', async (ctx) => {
    const id = jobIdParam(ctx);
    parseQueryOr400(logsQuerySchema, ctx.query);
    const job = await getJob(deps.db, id);
    if (!job) throw notFound('job not found', { id });
    ctx.type = 'text/plain; charset=utf-8';
    ctx.set('Cache-Control', 'no-store');
    const log = await openLog(deps.aws.logs, job);
    if (!log) {
      ctx.body = '';
      return;
    }
    const stream = Readable.from(logPages(deps.aws.logs, log.ref, log.first), { objectMode: false });
    stream.on('error', (err) => deps.logger.warn({ err, id }, 'log stream broke off'));
    ctx.body = stream;
  });
}
