/**
 * GET /api/v1/jobs/:id/aws: what only AWS Batch knows about a job, read live
 * (src/aws/jobDetail.ts), with the mirror's name and status of each job it waits on.
 */
import type Router from '@koa/router';
import { jobAwsDetail } from '../../aws/jobDetail';
import { getJobStatus } from '../../store/jobs/lookups';
import { withMirroredJobs } from '../../store/jobDependencies';
import type { JobAwsDetail } from '../contract';
import { toDependencyJson } from '../jobJson';
import type { ApiDeps } from '../deps';
import { notFound } from '../errors';
import { jobIdParam } from '../params';

export function jobAwsRoutes(router: Router, deps: ApiDeps): void {
  router.get('/api/v1/jobs/:id/aws', async (ctx) => {
    const id = jobIdParam(ctx);
    if (!(await getJobStatus(deps.db, id))) throw notFound('job not found', { id });
    ctx.set('Cache-Control', 'no-store');
    const detail = await jobAwsDetail(deps.aws.batch, id, deps.config.region);
    const dependsOn = await withMirroredJobs(deps.db, detail.depends_on);
    const body: JobAwsDetail = { ...detail, depends_on: dependsOn.map(toDependencyJson) };
    ctx.body = body;
  });
}
