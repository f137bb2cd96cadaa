import { useState } from 'react';
import { Link } from 'react-router';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, type JobJson } from '../lib/api';
import { displayStatus, formatDuration, formatTime, runtimeSeconds } from '../lib/format';
import { StatusBadge } from './StatusBadge';
import { useTimeZone } from '../lib/useTimeZone';
import { Empty, ErrorBox, Loading } from './States';

const PAGE = 100;

/** The children of an array job, 100 a page, in index order, filtered by status. */
export function ArrayChildren({ parent }: { parent: JobJson }) {
  const [page, setPage] = useState(0);
  const [status, setStatus] = useState<string | null>(null);
  const zone = useTimeZone();
  const children = useQuery({
    queryKey: ['children', parent.id],
    queryFn: ({ signal }) => api.arrayChildren(parent.id, signal),
    placeholderData: keepPreviousData,
    refetchInterval: ['SUCCEEDED', 'FAILED', 'GONE'].includes(parent.status) ? false : 5000,
  });
  const everyChild = children.data ?? [];
  const counts = new Map<string, number>();
  for (const c of everyChild) counts.set(displayStatus(c), (counts.get(displayStatus(c)) ?? 0) + 1);
  const all = status ? everyChild.filter((c) => displayStatus(c) === status) : everyChild;
  const pages = Math.max(1, Math.ceil(all.length / PAGE));
  const rows = all.slice(page * PAGE, (page + 1) * PAGE);
  return (
    <div className="children-panel" data-testid="array-children">
      <h2>Array children</h2>
      {counts.size > 0 && (
        <div className="children-filter" role="group" aria-label="Filter children by status" data-testid="children-filter">
          <button type="button" className={status === null ? 'on' : undefined} onClick={() => { setStatus(null); setPage(0); }}>
            All {everyChild.length}
          </button>
          {[...counts].map(([s, n]) => (
            <button key={s} type="button" className={status === s ? 'on' : undefined} data-status={s} onClick={() => { setStatus(s); setPage(0); }}>
              {s} {n}
            </button>
          ))}
        </div>
      )}
      {children.isPending ? (
        <Loading what="children" />
      ) : children.isError ? (
        <ErrorBox error={children.error} retry={() => void children.refetch()} />
      ) : rows.length === 0 ? (
        <Empty title="No children mirrored yet">They appear once AWS Batch reports them.</Empty>
      ) : (
        <>
          <table className="jobs-table compact">
            <thead>
              <tr>
                <th>Index</th>
                <th>ID</th>
                <th>Status</th>
                <th>Runtime</th>
                <th>Stopped at</th>
                <th>Status reason</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => (
                <tr key={c.id} className={c.termination_requested ? 'row-kill' : undefined}>
                  <td>{c.array_index ?? '—'}</td>
                  <td>
                    <Link to={`/job/${encodeURIComponent(c.id)}`} className="mono">
                      {c.id}
                    </Link>
                  </td>
                  <td>
                    <StatusBadge job={c} />
                  </td>
                  <td>{formatDuration(runtimeSeconds(c))}</td>
                  <td>{formatTime(c.stopped_at, zone)}</td>
                  <td>
                    <span className="clip" title={c.status_reason ?? undefined}>
                      {c.status_reason ?? ''}
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="pager">
            <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>
              ← Previous
            </button>
            <span>
              Page {page + 1} of {pages} · {all.length} {status ? `${status} ` : ''}children
            </span>
            <button type="button" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>
              Next →
            </button>
          </div>
        </>
      )}
    </div>
  );
}
