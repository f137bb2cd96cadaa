/** Job queues: the activated set (ours) and every queue AWS knows. */
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { paginateDescribeJobQueues } from '@aws-sdk/client-batch';
import { activateQueue, deactivateQueue, listActivatedQueues, setForcedScaling } from '../../store/queues';
import type { ApiDeps } from '../deps';
import { HttpError, notFound } from '../errors';
import { queueNameParam } from '../params';
import { forcedScalingBodySchema, parseOr400 } from '../validation';

export function queueRoutes(router: Router, deps: ApiDeps, operatorOnly: Middleware): void {
  const { db } = deps;

  router.get('/api/v1/job_queues/active', async (ctx) => {
    ctx.body = (await listActivatedQueues(db)).map((q) => q.job_queue);
  });

  // Addition: the activated queues with their forced-scaling flag.
  router.get('/api/v1/job_queues/activated', async (ctx) => {
    ctx.body = await listActivatedQueues(db);
  });

  router.get('/api/v1/job_queues/all', async (ctx) => {
    const names: string[] = [];
    try {
      for await (const page of paginateDescribeJobQueues({ client: deps.aws.batch }, {})) {
        for (const q of page.jobQueues ?? []) if (q.jobQueueName) names.push(q.jobQueueName);
      }
    } catch (err) {
      throw new HttpError(502, `Batch DescribeJobQueues failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    ctx.body = names.sort();
  });

  router.post('/api/v1/job_queues/:name/activate', operatorOnly, async (ctx) => {
    await activateQueue(db, queueNameParam(ctx));
    ctx.body = []; // the Go original's answer
  });

  router.post('/api/v1/job_queues/:name/deactivate', operatorOnly, async (ctx) => {
    await deactivateQueue(db, queueNameParam(ctx));
    ctx.body = [];
  });

  // Addition: the per-queue forced scaling flag (SPEC section 5, scaling hack).
  router.post('/api/v1/job_queues/:name/forced_scaling', operatorOnly, async (ctx) => {
    const name = queueNameParam(ctx);
    const { enabled } = parseOr400(forcedScalingBodySchema, (ctx.request as { body?: unknown }).body, 'body');
    if (!(await setForcedScaling(db, name, enabled))) throw notFound('job queue is not activated', { name });
    ctx.body = { job_queue: name, forced_scaling: enabled };
  });
}
