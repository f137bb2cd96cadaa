import { useState, type ReactNode } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api, type JobJson } from '../lib/api';
import { useJobSocket, type SocketState } from '../lib/useJobSocket';
import {
  formatAgo,
  formatCommand,
  formatDuration,
  formatMemory,
  formatTime,
  formatVcpus,
  isTerminalStatus,
  runtimeSeconds,
  shortDefinition,
  totalElapsedSeconds,
} from '../lib/format';
import { arraySummary, isArrayParent } from '../lib/arrays';
import { lastJobsListPath } from '../lib/lastJobsList';
import { useNow } from '../lib/now';
import { useTimeZone } from '../lib/useTimeZone';
import { PlainStatusBadge, StatusBadge } from '../components/StatusBadge';
import { LogViewer } from '../components/LogViewer';
import { NodeLog, nodeFromParam } from '../components/NodeLog';
import { Empty, ErrorBox, Loading } from '../components/States';
import { KillResults } from '../components/KillResults';
import { KillDialog } from '../components/KillDialog';
import { ArrayChildren } from '../components/ArrayChildren';
import { Dependencies } from '../components/Dependencies';
import { ConsoleLinks, ExitCode, JobAwsPanels, jobRegion, useJobAws } from '../components/JobAws';

export function JobPage() {
  const id = useParams().id ?? '';
  const job = useQuery({ queryKey: ['job', id], queryFn: ({ signal }) => api.getJob(id, signal) });
  const running = job.data ? !isTerminalStatus(job.data.status) : false;
  const socket = useJobSocket(id, job.isSuccess);

  if (job.isPending) return <Loading what={`job ${id}`} />;
  if (job.isError) {
    const status = job.error instanceof ApiError ? job.error.status : undefined;
    if (status === 404)
      return (
        <Empty title="No such job">
          No job with id <span className="mono">{id}</span> is known. It may be in a queue that is not activated.{' '}
          <Link to={lastJobsListPath()}>Back to the jobs</Link>
        </Empty>
      );
    if (status === 400)
      return (
        <Empty title="Not a job id">
          <span className="mono break">{id}</span> cannot be a job id: AWS Batch job ids are letters, digits and dashes (array children end
          in <span className="mono">:index</span>). <Link to={lastJobsListPath()}>Back to the jobs</Link>
        </Empty>
      );
    return <ErrorBox error={job.error} retry={() => void job.refetch()} />;
  }
  return <JobView job={job.data} socket={socket} running={running} />;
}

function JobView({ job, socket, running }: { job: JobJson; socket: SocketState; running: boolean }) {
  const id = job.id;
  const aws = useJobAws(job);
  const region = jobRegion(job, aws.data);
  const [params] = useSearchParams();
  const chosenNode = nodeFromParam(params.get('node'));
  // A multi-node job has no log of its own: each node has one, the main node's shown first.
  const multiNode = job.job_type === 'multinode' || chosenNode !== null;
  return (
    <section className="job-page">
      <JobHeader job={job} socket={socket} />
      <ConsoleLinks job={job} region={region} />
      <JobFields job={job} />
      <Dependencies job={job} live={aws.data} />
      <JobAwsPanels job={job} region={region} detail={aws} logNode={multiNode ? (chosenNode ?? aws.data?.nodes?.main_node ?? null) : null} />
      {isArrayParent(job) && <ArrayChildren parent={job} />}
      {isArrayParent(job) ? (
        <p className="muted">An array job writes no log of its own: open a child to read its log.</p>
      ) : multiNode ? (
        <NodeLog id={id} running={running} chosen={chosenNode} detail={aws} />
      ) : (
        <LogViewer id={id} running={running} />
      )}
    </section>
  );
}

function LiveIndicator({ state }: { state: SocketState }) {
  const text = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', closed: 'not live' }[state];
  return (
    <span className={`live live-${state}`} data-testid="live-indicator" title="Status updates over a WebSocket">
      <span className="dot" aria-hidden="true" /> {text}
    </span>
  );
}

function JobHeader({ job, socket }: { job: JobJson; socket: SocketState }) {
  const [confirming, setConfirming] = useState(false);
  const [results, setResults] = useState<Record<string, string> | null>(null);
  const qc = useQueryClient();
  const active = !isTerminalStatus(job.status);
  return (
    <>
      <div className="job-header">
        <div className="job-header-main">
          <div className="crumbs">
            <Link to={lastJobsListPath()} data-testid="crumb-jobs">
              Jobs
            </Link>{' '}
            / <span className="mono break">{job.id}</span>
          </div>
          <h1 className="job-title" data-testid="job-name">
            {job.name}
          </h1>
        </div>
        <div className="job-header-side">
          <span data-testid="job-status">
            <StatusBadge job={job} />
          </span>
          <LiveIndicator state={socket} />
          {active && (
            <button type="button" className="danger" onClick={() => setConfirming(true)} data-testid="terminate-job">
              {job.termination_requested ? 'Terminate again' : 'Terminate'}
            </button>
          )}
        </div>
      </div>
      {job.termination_requested && active && (
        <div className="notice notice-warn">Termination was requested; waiting for AWS Batch to stop the job.</div>
      )}
      {results && <KillResults results={results} onClose={() => setResults(null)} />}
      {confirming && (
        <KillDialog
          ids={[job.id]}
          known={(id) => (id === job.id ? job : undefined)}
          onCancel={() => setConfirming(false)}
          onDone={(r) => {
            setConfirming(false);
            setResults(r);
            void qc.invalidateQueries({ queryKey: ['job', job.id] });
            void qc.invalidateQueries({ queryKey: ['jobs'] });
          }}
        />
      )}
    </>
  );
}

function Field({ label, children, mono }: { label: string; children: ReactNode; mono?: boolean }) {
  return (
    <>
      <dt>{label}</dt>
      <dd className={mono ? 'mono' : undefined}>{children ?? '—'}</dd>
    </>
  );
}

function JobFields({ job }: { job: JobJson }) {
  const now = useNow(); // runtime and "x ago" count up while the page is open
  const zone = useTimeZone();
  const summary = arraySummary(job);
  return (
    <div className="fields-grid">
      <dl className="fields">
        <Field label="Job id" mono>{job.id}</Field>
        <Field label="Queue">
          <Link to={`/?selectedQueue=${encodeURIComponent(job.job_queue)}`}>{job.job_queue}</Link>
        </Field>
        <Field label="Definition" mono>
          <span title={job.desc}>{shortDefinition(job.desc)}</span>
        </Field>
        <Field label="Image" mono>{job.image}</Field>
        <Field label="Command line" mono>{formatCommand(job.command_line) || '—'}</Field>
        <Field label="Status reason">{job.status_reason || '—'}</Field>
        <Field label="Exit code"><ExitCode job={job} /></Field>
        <Field label="Attempts">{job.attempts}</Field>
        <Field label="vCPUs">{formatVcpus(job)}</Field>
        <Field label="Memory">{formatMemory(job.memory)}</Field>
        <Field label="Timeout">{job.timeout > 0 ? formatDuration(job.timeout) : 'none'}</Field>
        <Field label="Platform">{[job.platform, job.job_type].filter(Boolean).join(' · ') || '—'}</Field>
      </dl>
      <dl className="fields">
        <Field label="Created">{formatTime(job.created_at, zone)} <span className="muted ago" data-testid="created-ago">{formatAgo(job.created_at, now)}</span></Field>
        <Field label="Started">{formatTime(job.run_start_time, zone)}</Field>
        <Field label="Stopped">{formatTime(job.stopped_at, zone)}</Field>
        <Field label="Runtime"><span data-testid="job-runtime">{formatDuration(runtimeSeconds(job, now))}</span></Field>
        <Field label="Total elapsed">{formatDuration(totalElapsedSeconds(job, now))}</Field>
        <Field label="Last updated">{formatTime(job.last_updated, zone)} <span className="muted ago">{formatAgo(job.last_updated, now)}</span></Field>
        <Field label="Instance" mono>{job.instance_id ?? '—'}</Field>
        <Field label="Private IP" mono>{job.private_ip ?? '—'}</Field>
        <Field label="Public IP" mono>{job.public_ip ?? '—'}</Field>
        <Field label="Task ARN" mono>{job.task_arn ?? '—'}</Field>
        <Field label="Log stream" mono>{job.log_group_name ? `${job.log_group_name} · ` : ''}{job.log_stream_name ?? '—'}</Field>
        {job.array_parent_id && (
          <Field label="Array parent">
            <Link to={`/job/${encodeURIComponent(job.array_parent_id)}`} className="mono">
              {job.array_parent_id}
            </Link>{' '}
            (index {job.array_index ?? '?'})
          </Field>
        )}
        {summary && (
          <Field label="Array">
            {summary.size} children{' '}
            {Object.entries(summary.counts).map(([s, n]) => (
              <span key={s} className="summary-chip">
                <PlainStatusBadge status={s} /> {n}
              </span>
            ))}
          </Field>
        )}
      </dl>
    </div>
  );
}
