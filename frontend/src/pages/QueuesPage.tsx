import { useState } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type QueueDetails } from '../lib/api';
import { Empty, ErrorBox, Loading } from '../components/States';

const LIVE_MS = 10_000;

/** A count that opens the Jobs page filtered to it. */
function CountLink({ queue, status, n, range }: { queue: string; status: string; n: number; range?: string }) {
  if (!n) return <span className="muted">0</span>;
  const p = new URLSearchParams({ selectedQueue: queue, selectedStatus: status, dateRange: range ?? '30d' });
  return <Link to={`/?${p.toString()}`}>{n.toLocaleString('en')}</Link>;
}

/**
 * Every queue AWS knows: whether AWS has it enabled, whether we mirror it,
 * what waits and runs in it now and what failed in the last day (from the
 * mirror), and the switches to change what is mirrored.
 */
export function QueuesPage() {
  const qc = useQueryClient();
  const queues = useQuery({ queryKey: ['queues', 'details'], queryFn: ({ signal }) => api.queueDetails(signal), refetchInterval: LIVE_MS });
  const [filter, setFilter] = useState('');
  const toggle = useMutation({
    mutationFn: ({ name, on }: { name: string; on: boolean }) => (on ? api.activateQueue(name) : api.deactivateQueue(name)),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: ['queues'] });
      void qc.invalidateQueries({ queryKey: ['jobs'] });
    },
  });
  const scaling = useMutation({
    mutationFn: ({ name, on }: { name: string; on: boolean }) => api.setForcedScaling(name, on),
    onSettled: () => void qc.invalidateQueries({ queryKey: ['queues'] }),
  });

  if (queues.isPending) return <Loading what="job queues" />;
  if (queues.isError) return <ErrorBox error={queues.error} retry={() => void queues.refetch()} />;

  const all = queues.data;
  const mirrored = all.filter((q) => q.activated).length;
  const wanted = filter.trim().toLowerCase();
  const shown = all.filter((q) => q.name.toLowerCase().includes(wanted));

  return (
    <section className="queues-page">
      <div className="toolbar">
        <h1>Job queues</h1>
        <span className="muted">
          {mirrored} of {all.length} mirrored
        </span>
        <span className="spacer" />
        <input type="search" placeholder="Filter queues" aria-label="Filter queues" value={filter} onChange={(e) => setFilter(e.target.value)} />
      </div>
      <p className="muted">
        Batchiepatchie mirrors only activated queues; activating one makes its jobs appear on the Jobs page within a sync period. Counts come from
        the mirror: jobs waiting and running now, and jobs that failed in the last day.
      </p>
      {toggle.error && <ErrorBox error={toggle.error} />}
      {scaling.error && <ErrorBox error={scaling.error} />}
      {all.length === 0 ? (
        <Empty title="AWS Batch reports no job queues">Create a job queue in AWS Batch; it shows up here.</Empty>
      ) : shown.length === 0 ? (
        <Empty title="No queue matches">
          No queue name contains “{filter.trim()}”.{' '}
          <button type="button" className="link" onClick={() => setFilter('')}>
            Show all {all.length}
          </button>
        </Empty>
      ) : (
        <table className="jobs-table queues-table" data-testid="queues-table">
          <thead>
            <tr>
              <th>Queue</th>
              <th title="Whether AWS Batch accepts and schedules jobs in this queue">In AWS</th>
              <th>Mirrored</th>
              <th className="num">Runnable</th>
              <th className="num">Running</th>
              <th className="num" title="Jobs that failed in the last 24 hours">Failed (1 day)</th>
              <th title="Keep the compute environment's minimum vCPUs at what the queue's jobs need">Forced scaling</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {shown.map((q) => (
              <QueueRow
                key={q.name}
                queue={q}
                busy={toggle.isPending && toggle.variables?.name === q.name}
                scalingBusy={scaling.isPending && scaling.variables?.name === q.name}
                onToggle={() => toggle.mutate({ name: q.name, on: !q.activated })}
                onScaling={(on) => scaling.mutate({ name: q.name, on })}
              />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function AwsState({ queue }: { queue: QueueDetails }) {
  if (!queue.known_to_aws) return <span className="warn">no longer in AWS</span>;
  const enabled = queue.aws_state === 'ENABLED';
  const title = queue.aws_status && queue.aws_status !== 'VALID' ? `status ${queue.aws_status}` : undefined;
  return (
    <span className={`badge ${enabled ? 'status-succeeded' : 'status-runnable'}`} title={title} data-testid="aws-state">
      {enabled ? 'enabled' : (queue.aws_state ?? 'unknown').toLowerCase()}
      {title ? ' ⚠' : ''}
    </span>
  );
}

function QueueRow(props: { queue: QueueDetails; busy: boolean; scalingBusy: boolean; onToggle: () => void; onScaling: (on: boolean) => void }) {
  const { queue: q } = props;
  const counts = q.job_counts;
  return (
    <tr data-queue={q.name}>
      <td className="queue-name" data-label="Queue">
        {q.activated ? <Link to={`/?selectedQueue=${encodeURIComponent(q.name)}`}>{q.name}</Link> : q.name}
      </td>
      <td data-label="In AWS">
        <AwsState queue={q} />
      </td>
      <td data-label="Mirrored">
        <span className={`badge ${q.activated ? 'status-succeeded' : 'status-gone'}`}>{q.activated ? 'active' : 'inactive'}</span>
      </td>
      <td className="num" data-label="Runnable" data-testid="count-runnable">
        <CountLink queue={q.name} status="RUNNABLE" n={counts.RUNNABLE ?? 0} />
      </td>
      <td className="num" data-label="Running" data-testid="count-running">
        <CountLink queue={q.name} status="RUNNING" n={counts.RUNNING ?? 0} />
      </td>
      <td className="num" data-label="Failed (1 day)" data-testid="count-failed">
        <CountLink queue={q.name} status="FAILED" n={q.failed_last_day} range="1d" />
      </td>
      <td data-label="Forced scaling">
        <label className="inline toggle">
          <input
            type="checkbox"
            aria-label={`Forced scaling for ${q.name}`}
            checked={q.forced_scaling}
            disabled={!q.activated || props.scalingBusy}
            title={q.activated ? undefined : 'Activate the queue first'}
            onChange={(e) => props.onScaling(e.target.checked)}
          />
          {q.forced_scaling ? 'on' : 'off'}
        </label>
      </td>
      <td className="actions">
        <button type="button" className={q.activated ? undefined : 'primary'} disabled={props.busy} onClick={props.onToggle}>
          {props.busy ? '…' : q.activated ? 'Deactivate' : 'Activate'}
        </button>
      </td>
    </tr>
  );
}
