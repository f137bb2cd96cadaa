import { useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { api, type JobJson } from '../lib/api';
import { isTerminalStatus } from '../lib/format';
import { ConfirmDialog } from './ConfirmDialog';
import { ErrorBox, Loading } from './States';
import { StatusBadge } from './StatusBadge';

const FETCH_CONCURRENCY = 8;
/** The id list stays readable; the count in the title is always the whole number. */
const LISTED = 200;

/** The selected jobs' current rows: those the page already holds, the rest fetched (a few at a time). */
async function currentJobs(ids: string[], known: (id: string) => JobJson | undefined, signal: AbortSignal): Promise<JobJson[]> {
  const out = new Map<string, JobJson>();
  const missing: string[] = [];
  for (const id of ids) {
    const j = known(id);
    if (j) out.set(id, j);
    else missing.push(id);
  }
  let next = 0;
  const worker = async () => {
    while (next < missing.length) {
      const id = missing[next++];
      const job = await api.getJob(id, signal).catch(() => undefined); // a job gone from the mirror is left out
      if (job) out.set(id, job);
    }
  };
  await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, missing.length) }, worker));
  return ids.map((id) => out.get(id)).filter((j): j is JobJson => j !== undefined);
}

/**
 * Confirms terminating jobs: names and statuses of what will be asked to stop,
 * a reason (AWS Batch records it as the job's status reason), and only jobs
 * still active are sent — finished ones are listed as left out.
 */
export function KillDialog(props: {
  ids: string[];
  known: (id: string) => JobJson | undefined;
  onCancel: () => void;
  onDone: (results: Record<string, string>, sent: string[]) => void;
}) {
  const [reason, setReason] = useState('');
  const jobs = useQuery({
    queryKey: ['kill-candidates', props.ids],
    queryFn: ({ signal }) => currentJobs(props.ids, props.known, signal),
    staleTime: Infinity,
    gcTime: 0,
  });
  const active = (jobs.data ?? []).filter((j) => !isTerminalStatus(j.status));
  const finished = (jobs.data ?? []).filter((j) => isTerminalStatus(j.status));
  const kill = useMutation({
    mutationFn: (ids: string[]) => api.killJobs(ids, reason.trim() || undefined),
    onSuccess: (results, ids) => props.onDone(results, ids),
  });
  const n = active.length;
  return (
    <ConfirmDialog
      open
      title={jobs.isPending ? 'Terminate jobs?' : `Terminate ${n} job${n === 1 ? '' : 's'}?`}
      confirmLabel={n ? `Terminate ${n}` : 'Terminate'}
      danger
      busy={kill.isPending || jobs.isPending}
      confirmDisabled={n === 0}
      onCancel={props.onCancel}
      onConfirm={() => kill.mutate(active.map((j) => j.id))}
    >
      {jobs.isPending ? (
        <Loading what="the selected jobs" />
      ) : (
        <>
          <p>AWS Batch will be asked to terminate {n === 1 ? 'this job' : 'these jobs'}. This cannot be undone.</p>
          {n > 0 && <JobList jobs={active} testId="kill-list" />}
          {finished.length > 0 && (
            <>
              <p className="muted" data-testid="kill-skipped">
                {finished.length} already finished: left out.
              </p>
              <JobList jobs={finished} testId="kill-skipped-list" />
            </>
          )}
          <label className="kill-reason">
            Reason <span className="muted">(recorded by AWS Batch as the status reason)</span>
            <input
              type="text"
              value={reason}
              maxLength={500}
              placeholder="e.g. stuck on a bad input"
              aria-label="Reason for terminating"
              onChange={(e) => setReason(e.target.value)}
            />
          </label>
        </>
      )}
      {kill.error && <ErrorBox error={kill.error} />}
    </ConfirmDialog>
  );
}

function JobList({ jobs, testId }: { jobs: JobJson[]; testId: string }) {
  return (
    <ul className="kill-list" data-testid={testId}>
      {jobs.slice(0, LISTED).map((j) => (
        <li key={j.id} data-job-id={j.id}>
          <StatusBadge job={j} /> <span className="kill-name">{j.name}</span> <span className="mono muted">{j.id}</span>
        </li>
      ))}
      {jobs.length > LISTED && <li className="muted">…and {jobs.length - LISTED} more</li>}
    </ul>
  );
}
