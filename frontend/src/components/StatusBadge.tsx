import type { JobJson } from '../lib/api';
import { displayStatus } from '../lib/format';

/** A job's status in its colour; TERMINATED for SIGKILLed failures; flags a requested termination. */
export function StatusBadge({ job }: { job: Pick<JobJson, 'status' | 'exitcode' | 'termination_requested'> }) {
  const shown = displayStatus(job);
  return (
    <span className="status-cell">
      <span className={`badge status-${shown.toLowerCase()}`} data-status={shown}>
        {shown}
      </span>
      {job.termination_requested && !['SUCCEEDED', 'FAILED', 'GONE'].includes(job.status) && (
        <span className="badge badge-kill" title="Termination was requested for this job">
          terminating
        </span>
      )}
    </span>
  );
}

export function PlainStatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge status-${status.toLowerCase()}`} data-status={status}>
      {status}
    </span>
  );
}
