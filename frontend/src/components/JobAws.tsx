/**
 * The job page's AWS side: console links (AWS Batch, CloudWatch; region-aware),
 * and what only AWS Batch knows, read live: each attempt and a multi-node
 * job's nodes with their log streams, each readable in the job page's log
 * viewer (`?node=N`) (the jobs it depends on: Dependencies).
 */
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { api, type JobAwsDetail, type JobJson } from '../lib/api';
import { batchJobUrl, logStreamUrl, regionOfArn } from '../lib/awsConsole';
import { explainExit } from '../lib/exitCodes';
import { formatTime } from '../lib/format';
import { useTimeZone } from '../lib/useTimeZone';
import { PlainStatusBadge } from './StatusBadge';
import { ErrorBox, Loading } from './States';

const DEFAULT_LOG_GROUP = '/aws/batch/job';

export function useJobAws(job: JobJson) {
  return useQuery({
    queryKey: ['job-aws', job.id, job.status, job.attempts],
    queryFn: ({ signal }) => api.jobAws(job.id, signal),
    staleTime: 30_000,
  });
}

/** The job's region: its task ARN's when it has one (where it really ran), else the server's. */
export function jobRegion(job: JobJson, detail: JobAwsDetail | undefined): string | null {
  return regionOfArn(job.task_arn) ?? detail?.region ?? null;
}

export function ConsoleLinks({ job, region }: { job: JobJson; region: string | null }) {
  if (!region) return null;
  return (
    <span className="console-links">
      <a href={batchJobUrl(region, job.id)} target="_blank" rel="noreferrer" data-testid="console-batch">
        AWS Batch console ↗
      </a>
      {job.log_stream_name && (
        <a href={logStreamUrl(region, job.log_group_name || DEFAULT_LOG_GROUP, job.log_stream_name)} target="_blank" rel="noreferrer" data-testid="console-logs">
          CloudWatch log ↗
        </a>
      )}
    </span>
  );
}

export function ExitCode({ job }: { job: JobJson }) {
  const why = explainExit(job.exitcode, job.status_reason);
  return (
    <>
      {job.exitcode ?? '—'}
      {why && job.status !== 'SUCCEEDED' && (
        <div className="muted small" data-testid="exit-explained">
          {why}
        </div>
      )}
    </>
  );
}

function shortArn(arn: string | null): string {
  return arn ? arn.slice(arn.lastIndexOf('/') + 1) : '—';
}

/** A titled, horizontally scrollable table of AWS-side rows (attempts, nodes). */
function TablePanel({ testId, title, columns, children }: { testId: string; title: ReactNode; columns: string[]; children: ReactNode }) {
  return (
    <div className="children-panel" data-testid={testId}>
      <h2>{title}</h2>
      <div className="table-scroll">
        <table className="jobs-table compact">
          <thead>
            <tr>
              {columns.map((c) => (
                <th key={c}>{c}</th>
              ))}
            </tr>
          </thead>
          <tbody>{children}</tbody>
        </table>
      </div>
    </div>
  );
}

export function JobAwsPanels({
  job,
  region,
  detail,
  logNode = null,
}: {
  job: JobJson;
  region: string | null;
  detail: ReturnType<typeof useJobAws>;
  /** The node whose log the viewer shows, marked in the Nodes table. */
  logNode?: number | null;
}) {
  const zone = useTimeZone();
  if (detail.isPending) return <Loading what="details from AWS Batch" />;
  if (detail.isError) return <ErrorBox error={detail.error} retry={() => void detail.refetch()} />;
  const d = detail.data;
  const group = job.log_group_name || DEFAULT_LOG_GROUP;
  if (!d.found) {
    return (
      <p className="muted" data-testid="aws-forgotten">
        AWS Batch no longer knows this job (it keeps finished jobs for about a day), so its attempts are not shown; everything above is kept
        here.
      </p>
    );
  }
  return (
    <>
      {d.attempts.length > 0 && (
        <TablePanel
          testId="attempts"
          title="Attempts"
          columns={['#', 'Started', 'Stopped', 'Exit code', 'Reason', 'Container instance', 'Log stream']}
        >
          {d.attempts.map((a, i) => (
            <tr key={i}>
              <td>{i + 1}</td>
              <td>{formatTime(a.started_at, zone)}</td>
              <td>{formatTime(a.stopped_at, zone)}</td>
              <td title={explainExit(a.exit_code, a.reason) ?? undefined}>{a.exit_code ?? '—'}</td>
              <td>{a.reason ?? '—'}</td>
              <td className="mono" title={a.container_instance_arn ?? undefined}>
                {shortArn(a.container_instance_arn)}
              </td>
              <td className="mono">
                {a.log_stream_name && region ? (
                  <a href={logStreamUrl(region, group, a.log_stream_name)} target="_blank" rel="noreferrer">
                    {a.log_stream_name} ↗
                  </a>
                ) : (
                  a.log_stream_name ?? '—'
                )}
              </td>
            </tr>
          ))}
        </TablePanel>
      )}
      {d.nodes && (
        <TablePanel
          testId="nodes"
          title={
            <>
              Nodes <span className="muted">({d.nodes.num_nodes}, main node {d.nodes.main_node})</span>
            </>
          }
          columns={['Node', 'Status', 'Exit code', 'Reason', 'Log']}
        >
          {d.nodes.list.map((n) => (
            <tr key={n.id}>
              <td className="mono">
                #{n.index}
                {n.index === d.nodes?.main_node ? ' (main)' : ''}
              </td>
              <td>{n.status ? <PlainStatusBadge status={n.status} /> : '—'}</td>
              <td>{n.exit_code ?? '—'}</td>
              <td>{n.reason ?? '—'}</td>
              <td className="mono">
                {n.log_stream_name ? (
                  <>
                    <Link
                      to={{ search: `?node=${n.index}` }}
                      aria-current={n.index === logNode ? 'true' : undefined}
                      data-testid="node-log-view"
                    >
                      {n.index === logNode ? 'Shown below' : 'Read log'}
                    </Link>
                    {region && (
                      <>
                        {' · '}
                        <a href={logStreamUrl(region, group, n.log_stream_name)} target="_blank" rel="noreferrer" data-testid="node-log">
                          {n.log_stream_name} ↗
                        </a>
                      </>
                    )}
                  </>
                ) : (
                  '—'
                )}
              </td>
            </tr>
          ))}
        </TablePanel>
      )}
    </>
  );
}
