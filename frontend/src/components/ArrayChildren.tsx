import { useState } from 'react';
import { Link } from 'react-router';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, type JobJson } from '../lib/api';
import { formatDuration, formatTime, runtimeSeconds } from '../lib/format';
import { StatusBadge } from './StatusBadge';
import { useTimeZone } from '../lib/useTimeZone';
import { Empty, ErrorBox, Loading } from './States';

const PAGE = 100;

/** The children of an array job, 100 a page, in index order. */
export function ArrayChildren({ parent }: { parent: JobJson }) {
  const [page, setPage] = useState(0);
  const zone = useTimeZone();
  const children = useQuery({
    queryKey: ['children', parent.id],
    queryFn: ({ signal }) => api.arrayChildren(parent.id, signal),
    placeholderData: keepPreviousData,
    refetchInterval: ['SUCCEEDED', 'FAILED', 'GONE'].includes(parent.status) ? false : 5000,
  });
  const all = children.data ?? [];
  const pages = Math.max(1, Math.ceil(all.length / PAGE));
  const rows = all.slice(page * PAGE, (page + 1) * PAGE);
  return (
    <div className="children-panel" data-testid="array-children">
      <h2>Array children</h2>
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
              Page {page + 1} of {pages} · {all.length} children
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
