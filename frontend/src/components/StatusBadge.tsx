import type { JobJson } from '../lib/api';
import { displayStatus, statusNote } from '../lib/format';

/** A job's status in its colour; TERMINATED for killed jobs, "out of memory" for OOM kills; flags a requested termination. */
export function StatusBadge({ job }: { job: Pick<JobJson, 'status' | 'exitcode' | 'termination_requested'> & Partial<Pick<JobJson, 'status_reason'>> }) {
  const shown = displayStatus(job);
  const note = statusNote(job);
  return (
    <span className="status-cell">
      <span className={`badge status-${shown.toLowerCase()}`} data-status={shown}>
        {shown}
      </span>
      {note && (
        <span className="badge badge-note" data-testid="status-note">
          {note}
        </span>
      )}
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
