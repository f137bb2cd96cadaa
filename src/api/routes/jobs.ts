/** Job search and lookups (reads: viewers and operators). */
import type Router from '@koa/router';
import { getArrayChildren, getJob, getJobStatus } from '../../store/jobs/lookups';
import { COUNT_EXACT_UP_TO, countJobs } from '../../store/jobs/count';
import { jobSearch, searchJobs } from '../../store/jobs/search';
import { waitedOnBy, waitsOn } from '../../store/jobDependencies';
import type { JobSearch, JobWithInstance } from '../../types';
import type { ApiDeps } from '../deps';
import { notFound } from '../errors';
import { toDependencyJson, toJobJson } from '../jobJson';
import { WAITED_ON_BY_LIMIT, type JobCountJson, type JobDependenciesJson } from '../contract';
import { jobIdParam } from '../params';
import { parseQueryOr400, searchQuerySchema, searchWords } from '../validation';

export function parseJobSearch(query: Record<string, string | string[] | undefined>): JobSearch {
  const q = parseQueryOr400(searchQuerySchema, query);
  return jobSearch({
    ...searchWords(q.q),
    queues: q.queue,
    statuses: q.status,
    dateRange: q.dateRange,
    sortColumn: q.sortColumn,
    sortDirection: q.sortDirection,
    page: q.page,
    children: q.children,
  });
}

export function jobRoutes(router: Router, deps: ApiDeps): void {
  const { db } = deps;
  // Searches and counts may read a replica (database_replica_host); lookups of one job stay on the primary,
  // so a job's page shows a kill or a status change at once.
  const readDb = deps.readDb ?? db;

  router.get('/api/v1/jobs', async (ctx) => {
    const jobs = await searchJobs(readDb, parseJobSearch(ctx.query));
    ctx.body = jobs.map(toJobJson);
  });

  // Addition: how many jobs a search matches, exact up to a bound (docs/api.md).
  router.get('/api/v1/jobs/count', async (ctx) => {
    const { count, exact } = await countJobs(readDb, parseJobSearch(ctx.query));
    const body: JobCountJson = { count, exact, exactUpTo: COUNT_EXACT_UP_TO };
    ctx.body = body;
  });

  router.get('/api/v1/jobs/:id', async (ctx) => {
    const id = jobIdParam(ctx);
    const job = await getJob(db, id);
    if (!job) throw notFound('job not found', { id });
    ctx.body = toJobJson(job);
  });

  router.get('/api/v1/jobs/:id/status', async (ctx) => {
    const id = jobIdParam(ctx);
    const status = await getJobStatus(db, id);
    if (!status) throw notFound('job not found', { id });
    ctx.body = status;
  });

  // Addition: what the job waits on and what waits on it (dependsOn, mirrored by the sync).
  router.get('/api/v1/jobs/:id/dependencies', async (ctx) => {
    const id = jobIdParam(ctx);
    if (!(await getJobStatus(db, id))) throw notFound('job not found', { id });
    const [waits, waited] = await Promise.all([waitsOn(db, id), waitedOnBy(db, id, WAITED_ON_BY_LIMIT)]);
    const body: JobDependenciesJson = {
      depends_on: waits.map(toDependencyJson),
      waited_on_by: waited.rows.map(toDependencyJson),
      waited_on_by_total: waited.total,
    };
    ctx.body = body;
  });

  // Addition: an array job's children (the Go original showed only the parent).
  router.get('/api/v1/jobs/:id/children', async (ctx) => {
    const id = jobIdParam(ctx);
    if (!(await getJobStatus(db, id))) throw notFound('job not found', { id });
    const children = await getArrayChildren(db, id);
    ctx.body = children.map((row) => toJobJson({ ...row, instance_id: null, public_ip: null, private_ip: null } as JobWithInstance));
  });
}
