/** GET /api/v1/jobs/:id/aws: what only AWS Batch knows about a job, read live (src/aws/jobDetail.ts). */
import type Router from '@koa/router';
import { jobAwsDetail } from '../../aws/jobDetail';
import { getJobStatus } from '../../store/jobs/lookups';
import type { ApiDeps } from '../deps';
import { notFound } from '../errors';
import { jobIdParam } from '../params';

export function jobAwsRoutes(router: Router, deps: ApiDeps): void {
  router.get('/api/v1/jobs/:id/aws', async (ctx) => {
    const id = jobIdParam(ctx);
    if (!(await getJobStatus(deps.db, id))) throw notFound('job not found', { id });
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await jobAwsDetail(deps.aws.batch, id, deps.config.region);
  });
}
