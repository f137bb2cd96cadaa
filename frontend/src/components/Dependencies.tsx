/**
 * A job's dependencies (AWS Batch `dependsOn`) both ways: what it waits on and
 * what waits on it, each linked with its status, so a stuck chain can be
 * followed job by job. From the mirror; AWS's live list (JobAws) adds what the
 * mirror has not recorded yet (a job mirrored before dependencies were).
 */
import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { api, type DependencyJson, type JobAwsDetail, type JobJson } from '../lib/api';
import { mergeWaitsOn } from '../lib/dependencies';
import { isTerminalStatus } from '../lib/format';
import { PlainStatusBadge } from './StatusBadge';
import { ErrorBox, Loading } from './States';

const LIVE_MS = 5000;

const stillMoving = (d: DependencyJson) => d.status !== null && !isTerminalStatus(d.status);

export function Dependencies({ job, live }: { job: JobJson; live: JobAwsDetail | undefined }) {
  const deps = useQuery({
    queryKey: ['dependencies', job.id],
    queryFn: ({ signal }) => api.jobDependencies(job.id, signal),
    // Statuses move while this job or one it is linked to is still running or waiting.
    refetchInterval: (q) => {
      const d = q.state.data;
      const moving = !isTerminalStatus(job.status) || (d && [...d.depends_on, ...d.waited_on_by].some(stillMoving));
      return moving ? LIVE_MS : false;
    },
  });
  return (
    <div className="children-panel" data-testid="dependencies">
      <h2>Dependencies</h2>
      {deps.isPending ? (
        <Loading what="dependencies" />
      ) : deps.isError ? (
        <ErrorBox error={deps.error} retry={() => void deps.refetch()} />
      ) : (
        <div className="deps-grid">
          <DependencyList
            title="Waits on"
            testId="waits-on"
            items={mergeWaitsOn(deps.data.depends_on, live?.found ? live.depends_on : undefined)}
            empty="Nothing: this job waits on no other job."
          />
          <DependencyList
            title="Waited on by"
            testId="waited-on-by"
            items={deps.data.waited_on_by}
            total={deps.data.waited_on_by_total}
            empty="Nothing: no mirrored job waits on this one."
          />
        </div>
      )}
    </div>
  );
}

function DependencyList({ title, testId, items, total, empty }: { title: string; testId: string; items: DependencyJson[]; total?: number; empty: string }) {
  const more = (total ?? items.length) - items.length;
  return (
    <div data-testid={testId}>
      <h3>
        {title} <span className="muted">({total ?? items.length})</span>
      </h3>
      {items.length === 0 ? (
        <p className="muted" data-testid={`${testId}-empty`}>
          {empty}
        </p>
      ) : (
        <ul className="deps-list">
          {items.map((d) => (
            <li key={d.job_id} data-job-id={d.job_id}>
              {d.display_status ? <PlainStatusBadge status={d.display_status} /> : <span className="badge badge-unknown" title="This job is not in the mirror (a queue not mirrored, or cleaned away)">not mirrored</span>}{' '}
              <Link to={`/job/${encodeURIComponent(d.job_id)}`} className="mono">
                {d.job_id}
              </Link>
              {d.name && <span className="dep-name"> {d.name}</span>}
              {d.type && <span className="muted"> ({d.type})</span>}
            </li>
          ))}
        </ul>
      )}
      {more > 0 && (
        <p className="muted small" data-testid={`${testId}-more`}>
          and {more.toLocaleString('en-US')} more (the first {items.length} by job id are listed)
        </p>
      )}
    </div>
  );
}
