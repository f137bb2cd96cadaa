/** Job queues: the activated set (ours) and every queue AWS knows. */
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { allJobQueues } from '../../aws/batch';
import { upstreamCall } from '../../aws/errors';
import { activateQueue, deactivateQueue, listActivatedQueues, queueJobCounts, setForcedScaling } from '../../store/queues';
import type { ForcedScalingResponse, QueueDetails } from '../contract';
import type { ApiDeps } from '../deps';
import { notFound } from '../errors';
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

  /** Every queue AWS knows, with its state. */
  const awsQueues = async (): Promise<Map<string, { state: string | null; status: string | null }>> => {
    const queues = await upstreamCall('Batch', 'DescribeJobQueues', () => allJobQueues(deps.aws.batch));
    return new Map(
      queues.flatMap((q) => (q.jobQueueName ? [[q.jobQueueName, { state: q.state ?? null, status: q.status ?? null }]] : [])),
    );
  };

  router.get('/api/v1/job_queues/all', async (ctx) => {
    ctx.body = [...(await awsQueues()).keys()].sort();
  });

  // Addition: every queue AWS knows or we mirror, its AWS state and job counts (the Job queues page).
  router.get('/api/v1/job_queues/details', async (ctx) => {
    const [aws, activated, counts] = await Promise.all([awsQueues(), listActivatedQueues(db), queueJobCounts(db)]);
    const forced = new Map(activated.map((q) => [q.job_queue, q.forced_scaling]));
    const names = [...new Set([...aws.keys(), ...forced.keys()])].sort();
    const body: QueueDetails[] = names.map((name) => ({
      name,
      activated: forced.has(name),
      forced_scaling: forced.get(name) ?? false,
      known_to_aws: aws.has(name),
      aws_state: aws.get(name)?.state ?? null,
      aws_status: aws.get(name)?.status ?? null,
      job_counts: counts.get(name)?.active ?? {},
      failed_last_day: counts.get(name)?.failed_last_day ?? 0,
    }));
    ctx.body = body;
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
    const body: ForcedScalingResponse = { job_queue: name, forced_scaling: enabled };
    ctx.body = body;
  });
}
