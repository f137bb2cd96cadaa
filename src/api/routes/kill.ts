/**
 * POST /api/v1/jobs/kill: TerminateJob for each id (a few at a time), then
 * termination_requested on the ones AWS accepted. The answer maps each id to
 * "OK" or AWS's own error message (the Go original overwrote errors with OK).
 * An optional `reason` from the user goes to AWS with who asked.
 */
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { TerminateJobCommand, type BatchClient } from '@aws-sdk/client-batch';
import { markTerminationRequested } from '../../store/jobs/maintenance';
import type { ApiDeps } from '../deps';
import { killBodySchema, parseOr400 } from '../validation';

const KILL_CONCURRENCY = 8;

async function mapWithConcurrency<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function terminate(batch: BatchClient, id: string, reason: string): Promise<string> {
  try {
    await batch.send(new TerminateJobCommand({ jobId: id, reason }));
    return 'OK';
  } catch (err) {
    return err instanceof Error && err.message ? err.message : String(err);
  }
}

export function killRoutes(router: Router, deps: ApiDeps, operatorOnly: Middleware): void {
  router.post('/api/v1/jobs/kill', operatorOnly, async (ctx) => {
    const { ids, reason: given } = parseOr400(killBodySchema, (ctx.request as { body?: unknown }).body, 'body');
    const unique = [...new Set(ids)];
    const who = typeof ctx.state.user === 'string' ? ` by ${ctx.state.user}` : '';
    const reason = `Terminated from Batchiepatchie${who}${given ? `: ${given}` : ''}`.slice(0, 1000);
    const outcomes = await mapWithConcurrency(unique, KILL_CONCURRENCY, (id) => terminate(deps.aws.batch, id, reason));
    const results: Record<string, string> = {};
    unique.forEach((id, i) => (results[id] = outcomes[i]));
    const accepted = unique.filter((id) => results[id] === 'OK');
    await markTerminationRequested(deps.db, accepted);
    deps.logger.info({ user: ctx.state.user, requested: unique.length, accepted: accepted.length }, 'kill');
    ctx.body = results;
  });
}
