import { useState } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../lib/api';
import { Empty, ErrorBox, Loading } from '../components/States';

/** Every queue AWS knows, whether we mirror it, and the switches to change that. */
export function QueuesPage() {
  const qc = useQueryClient();
  const all = useQuery({ queryKey: ['queues', 'all'], queryFn: ({ signal }) => api.allQueues(signal) });
  const active = useQuery({ queryKey: ['queues', 'activated'], queryFn: ({ signal }) => api.activatedQueues(signal) });
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

  if (all.isPending || active.isPending) return <Loading what="job queues" />;
  if (all.isError) return <ErrorBox error={all.error} retry={() => void all.refetch()} />;
  if (active.isError) return <ErrorBox error={active.error} retry={() => void active.refetch()} />;

  const activeSet = new Set(active.data.map((q) => q.job_queue));
  const forced = new Set(active.data.filter((q) => q.forced_scaling).map((q) => q.job_queue));
  // Queues still activated but no longer known to AWS are shown too, so they can be deactivated.
  const names = [...new Set([...all.data, ...activeSet])].sort((a, b) => a.localeCompare(b));
  const shown = names.filter((n) => n.toLowerCase().includes(filter.trim().toLowerCase()));

  return (
    <section className="queues-page">
      <div className="toolbar">
        <h1>Job queues</h1>
        <span className="muted">
          {activeSet.size} of {names.length} mirrored
        </span>
        <span className="spacer" />
        <input type="search" placeholder="Filter queues" aria-label="Filter queues" value={filter} onChange={(e) => setFilter(e.target.value)} />
      </div>
      <p className="muted">
        Batchiepatchie mirrors only activated queues. Activating one makes its jobs appear on the Jobs page within a sync period.
      </p>
      {toggle.error && <ErrorBox error={toggle.error} />}
      {scaling.error && <ErrorBox error={scaling.error} />}
      {names.length === 0 ? (
        <Empty title="AWS Batch reports no job queues">Create a job queue in AWS Batch; it shows up here.</Empty>
      ) : (
        <table className="jobs-table queues-table" data-testid="queues-table">
          <thead>
            <tr>
              <th>Queue</th>
              <th>Mirrored</th>
              <th>Known to AWS</th>
              <th title="Keep the compute environment's minimum vCPUs at what the queue's jobs need">Forced scaling</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {shown.map((name) => {
              const on = activeSet.has(name);
              const busy = toggle.isPending && toggle.variables?.name === name;
              return (
                <tr key={name} data-queue={name}>
                  <td>{on ? <Link to={`/?queue=${encodeURIComponent(name)}`}>{name}</Link> : name}</td>
                  <td>
                    <span className={`badge ${on ? 'status-succeeded' : 'status-gone'}`}>{on ? 'active' : 'inactive'}</span>
                  </td>
                  <td>{all.data.includes(name) ? 'yes' : <span className="warn">no longer</span>}</td>
                  <td>
                    <label className="inline toggle">
                      <input
                        type="checkbox"
                        aria-label={`Forced scaling for ${name}`}
                        checked={forced.has(name)}
                        disabled={!on || (scaling.isPending && scaling.variables?.name === name)}
                        title={on ? undefined : 'Activate the queue first'}
                        onChange={(e) => scaling.mutate({ name, on: e.target.checked })}
                      />
                      {forced.has(name) ? 'on' : 'off'}
                    </label>
                  </td>
                  <td className="actions">
                    <button type="button" className={on ? undefined : 'primary'} disabled={busy} onClick={() => toggle.mutate({ name, on: !on })}>
                      {busy ? '…' : on ? 'Deactivate' : 'Activate'}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
