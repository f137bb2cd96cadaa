/**
 * POST /api/v1/jobs/kill: TerminateJob for each id (a few at a time), then
 * termination_requested on the ones AWS accepted. The answer maps each id to
 * "OK" or AWS's own error message (the Go original overwrote errors with OK).
 * An optional `reason` from the user goes to AWS with who asked.
 */
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { terminateJobs } from '../../aws/batch';
import { markTerminationRequested } from '../../store/jobs/maintenance';
import type { ApiDeps } from '../deps';
import { killBodySchema, parseOr400 } from '../validation';

export function killRoutes(router: Router, deps: ApiDeps, operatorOnly: Middleware): void {
  router.post('/api/v1/jobs/kill', operatorOnly, async (ctx) => {
    const { ids, reason: given } = parseOr400(killBodySchema, (ctx.request as { body?: unknown }).body, 'body');
    const who = typeof ctx.state.user === 'string' ? ` by ${ctx.state.user}` : '';
    const reason = `Terminated from Batchiepatchie${who}${given ? `: ${given}` : ''}`.slice(0, 1000);
    const outcomes = await terminateJobs(deps.aws.batch, ids, reason);
    const accepted = [...outcomes].filter(([, outcome]) => outcome === 'OK').map(([id]) => id);
    await markTerminationRequested(deps.db, accepted);
    deps.logger.info({ user: ctx.state.user, requested: outcomes.size, accepted: accepted.length }, 'kill');
    ctx.body = Object.fromEntries(outcomes);
  });
}
