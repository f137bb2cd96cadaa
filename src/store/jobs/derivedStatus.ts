/**
 * The domain's TERMINATED rule (domain/jobStatus.ts: isTerminated) as SQL,
 * so GET /api/v1/jobs can filter on it. Built from the domain's constants
 * only: no user input reaches this text.
 */
import { OUT_OF_MEMORY_REASON, SIGKILL_EXIT_CODE, SIGNAL_EXIT_CODES, TERMINATED_REASON } from '../../domain/jobStatus';

/** A domain regex as an SQL literal for `~*`; never with a `?`, which knex would take for a binding. */
function regex(r: RegExp): string {
  if (/[?']/.test(r.source)) throw new Error(`regex ${r.source}: no ? or ' allowed in SQL text`);
  return `'${r.source}'`;
}

/** True for the rows `isTerminated` says yes to; `t` is the jobs table's alias. */
export function terminatedSql(t = 'jobs'): string {
  const oom = `(COALESCE(${t}.exitcode = ${SIGKILL_EXIT_CODE}, false) AND COALESCE(${t}.status_reason, '') ~* ${regex(OUT_OF_MEMORY_REASON)})`;
  return `(${t}.status = 'FAILED' AND NOT ${oom} AND (
    ${t}.termination_requested
    OR COALESCE(${t}.status_reason, '') ~* ${regex(TERMINATED_REASON)}
    OR COALESCE(${t}.exitcode IN (${SIGNAL_EXIT_CODES.join(', ')}), false)))`;
}
