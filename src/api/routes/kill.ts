/**
 * POST /api/v1/jobs/kill: DescribeJobs first (AWS's word, not the mirror's),
 * then TerminateJob for each id not already finished (a few at a time), then
 * termination_requested on the ones AWS accepted. The answer maps each id to
 * "OK", "already finished (<STATUS>)" or AWS's own error message (the Go
 * original overwrote errors with OK). An optional `reason` from the user goes
 * to AWS with who asked. The body may come as text/plain (the Go UI's way);
 * crossSite.ts keeps other sites from using that.
 */
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { describeJobs, terminateJobs } from '../../aws/batch';
import type { KillResponse } from '../contract';
import { markTerminationRequested } from '../../store/jobs/maintenance';
import type { ApiDeps } from '../deps';
import { killBodySchema, parseOr400 } from '../validation';

export function killRoutes(router: Router, deps: ApiDeps, operatorOnly: Middleware): void {
  router.post('/api/v1/jobs/kill', operatorOnly, async (ctx) => {
    const { ids, reason: given } = parseOr400(killBodySchema, (ctx.request as { body?: unknown }).body, 'body');
    const unique = [...new Set(ids)];
    const who = typeof ctx.state.user === 'string' ? ` by ${ctx.state.user}` : '';
    const reason = `Terminated from Batchiepatchie${who}${given ? `: ${given}` : ''}`.slice(0, 1000);
    const results: Record<string, string> = {};
    // Finished jobs are left alone: TerminateJob would accept them and change nothing.
    let finished: Map<string, string>;
    try {
      finished = new Map(
        (await describeJobs(deps.aws.batch, unique))
          .filter((j) => j.jobId && (j.status === 'SUCCEEDED' || j.status === 'FAILED'))
          .map((j) => [j.jobId as string, j.status as string]),
      );
    } catch (err) {
      // Without AWS's word on each job's state, nothing is terminated.
      const message = `not killed: DescribeJobs failed: ${err instanceof Error ? err.message : String(err)}`;
      for (const id of unique) results[id] = message;
      deps.logger.warn({ err, user: ctx.state.user, requested: unique.length }, 'kill: describe failed');
      ctx.body = results;
      return;
    }
    const outcomes = await terminateJobs(deps.aws.batch, unique.filter((id) => !finished.has(id)), reason);
    for (const id of unique) results[id] = outcomes.get(id) ?? `already finished (${finished.get(id)})`;
    const accepted = [...outcomes].filter(([, outcome]) => outcome === 'OK').map(([id]) => id);
    await markTerminationRequested(deps.db, accepted);
    deps.logger.info(
      { user: ctx.state.user, requested: unique.length, finished: finished.size, accepted: accepted.length },
      'kill',
    );
    const body: KillResponse = results;
    ctx.body = body;
  });
}
