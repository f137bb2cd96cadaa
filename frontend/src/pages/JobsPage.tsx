import { useEffect, useMemo, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  flexRender,
  getCoreRowModel,
  getSortedRowModel,
  useReactTable,
  type ColumnDef,
  type RowSelectionState,
} from '@tanstack/react-table';
import { api, type JobJson } from '../lib/api';
import { JOB_STATUS_OPTIONS } from '../lib/statuses';
import { searchJobsOnce } from '../lib/prefetch';
import {
  DATE_RANGE_OPTIONS,
  apiQuery,
  isServerSorted,
  readJobsState,
  writeJobsState,
  type JobsPageState,
} from '../lib/jobsUrl';
import {
  displayStatus,
  formatCommand,
  formatDuration,
  formatMemory,
  formatShortTime,
  formatTime,
  formatVcpus,
  middleEllipsis,
  runtimeSeconds,
  shortImage,
  totalElapsedSeconds,
} from '../lib/format';
import { StatusBadge } from '../components/StatusBadge';
import { MultiSelect } from '../components/MultiSelect';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Empty, ErrorBox, Loading } from '../components/States';
import { KillResults } from '../components/KillResults';

const PAGE_SIZE = 100;
const REFRESH_MS = 5000;

/** Column ids double as sort keys in the URL. */
function jobColumns(now: number): ColumnDef<JobJson>[] {
  return [
    {
      id: 'id',
      header: 'ID',
      accessorFn: (j) => j.id,
      cell: ({ row }) => (
        <Link to={`/job/${encodeURIComponent(row.original.id)}`} className="mono" title={row.original.id}>
          {middleEllipsis(row.original.id, 26)}
        </Link>
      ),
    },
    { id: 'status', header: 'Status', accessorFn: (j) => displayStatus(j), cell: ({ row }) => <StatusBadge job={row.original} /> },
    {
      id: 'name',
      header: 'Name',
      accessorFn: (j) => j.name,
      cell: ({ row }) => (
        <Link to={`/job/${encodeURIComponent(row.original.id)}`} className="job-name" title={row.original.name}>
          {row.original.name}
        </Link>
      ),
    },
    { id: 'image', header: 'Image', accessorFn: (j) => j.image, cell: (c) => <span title={c.getValue<string>()}>{shortImage(c.getValue<string>())}</span> },
    { id: 'runtime', header: 'Runtime', accessorFn: (j) => runtimeSeconds(j, now) ?? -1, cell: ({ row }) => formatDuration(runtimeSeconds(row.original, now)) },
    { id: 'total_elapsed', header: 'Total elapsed', accessorFn: (j) => totalElapsedSeconds(j, now) ?? -1, cell: ({ row }) => formatDuration(totalElapsedSeconds(row.original, now)) },
    { id: 'stopped_at', header: 'Stopped at', accessorFn: (j) => j.stopped_at ?? '', cell: ({ row }) => <span title={formatTime(row.original.stopped_at)}>{formatShortTime(row.original.stopped_at, now)}</span> },
    { id: 'queue', header: 'Queue', accessorFn: (j) => j.job_queue, cell: (c) => <span title={c.getValue<string>()}>{c.getValue<string>()}</span> },
    { id: 'last_updated', header: 'Last updated', accessorFn: (j) => j.last_updated, cell: ({ row }) => <span title={formatTime(row.original.last_updated)}>{formatShortTime(row.original.last_updated, now)}</span> },
    { id: 'vcpus', header: 'CPUs', accessorFn: (j) => j.vcpus_exact ?? j.vcpus, cell: ({ row }) => formatVcpus(row.original), meta: { numeric: true } },
    { id: 'memory', header: 'Memory', accessorFn: (j) => j.memory, cell: ({ row }) => formatMemory(row.original.memory), meta: { numeric: true } },
    {
      id: 'command_line',
      header: 'Command line',
      accessorFn: (j) => formatCommand(j.command_line),
      cell: (c) => <span className="mono" title={c.getValue<string>()}>{c.getValue<string>()}</span>,
    },
  ];
}

function useSlashFocuses(input: React.RefObject<HTMLInputElement | null>) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
      const t = e.target as HTMLElement | null;
      if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
      e.preventDefault();
      input.current?.focus();
      input.current?.select();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [input]);
}

/** Marks the first time rows are on screen, so the UI benchmark measures what a user sees. */
function useFirstRowsMark(rowCount: number) {
  const marked = useRef(false);
  useEffect(() => {
    if (marked.current || rowCount === 0) return;
    marked.current = true;
    performance.mark('bp:jobs-rows-visible');
  }, [rowCount]);
}

export function JobsPage() {
  const [params, setParams] = useSearchParams();
  const state = useMemo(() => readJobsState(params), [params]);
  const update = (patch: Partial<JobsPageState>, opts: { resetPage?: boolean; replace?: boolean } = {}) => {
    const next = { ...state, ...patch };
    if (opts.resetPage ?? true) next.page = patch.page ?? 0;
    setParams(writeJobsState(next), { replace: opts.replace });
  };

  const searchInput = useRef<HTMLInputElement>(null);
  useSlashFocuses(searchInput);
  const [draft, setDraft] = useState(state.q);
  useEffect(() => setDraft(state.q), [state.q]);
  useEffect(() => {
    if (draft === state.q) return;
    const t = setTimeout(() => update({ q: draft }), 300);
    return () => clearTimeout(t);
  }, [draft]); // only typing schedules a search; `update` is recreated on every render

  const query = apiQuery(state);
  const jobs = useQuery({
    queryKey: ['jobs', query],
    queryFn: ({ signal }) => searchJobsOnce(query, signal),
    placeholderData: keepPreviousData,
    refetchInterval: state.autoRefresh ? REFRESH_MS : false,
  });
  const queues = useQuery({ queryKey: ['queues', 'active'], queryFn: ({ signal }) => api.activeQueues(signal), staleTime: 60_000 });

  const [rowSelection, setRowSelection] = useState<RowSelectionState>({});
  const selectedIds = Object.keys(rowSelection).filter((id) => rowSelection[id]);
  // A destructive action acts on what is on screen: a new search or page starts a new selection.
  const queryKey = JSON.stringify(query);
  useEffect(() => setRowSelection({}), [queryKey]);
  const [confirming, setConfirming] = useState(false);
  const qc = useQueryClient();
  const kill = useMutation({
    mutationFn: (ids: string[]) => api.killJobs(ids),
    onSuccess: () => {
      setRowSelection({});
      setConfirming(false);
      void qc.invalidateQueries({ queryKey: ['jobs'] });
    },
  });

  const now = jobs.dataUpdatedAt || Date.now();
  const columns = useMemo<ColumnDef<JobJson>[]>(
    () => [
      {
        id: 'select',
        header: ({ table }) => (
          <input
            type="checkbox"
            aria-label="Select all jobs on this page"
            checked={table.getIsAllRowsSelected()}
            ref={(el) => {
              if (el) el.indeterminate = table.getIsSomeRowsSelected();
            }}
            onChange={table.getToggleAllRowsSelectedHandler()}
          />
        ),
        cell: ({ row }) => (
          <input
            type="checkbox"
            aria-label={`Select job ${row.original.id}`}
            checked={row.getIsSelected()}
            onChange={row.getToggleSelectedHandler()}
          />
        ),
      },
      ...jobColumns(now),
    ],
    [now],
  );
  const clientSorted = !isServerSorted(state.sort);
  const rows = jobs.data ?? [];
  // A new sorting array on every render makes the table re-sort and reset its page index on
  // every render, which re-renders again: the page spins and later navigations never commit.
  const sorting = useMemo(() => (clientSorted ? [{ id: state.sort, desc: state.dir === 'desc' }] : []), [clientSorted, state.sort, state.dir]);
  const table = useReactTable({
    data: rows,
    columns,
    getRowId: (j) => j.id,
    state: { rowSelection, sorting },
    enableRowSelection: true,
    onRowSelectionChange: setRowSelection,
    manualSorting: !clientSorted,
    autoResetPageIndex: false, // no pagination model: paging is the API's
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
  });
  useFirstRowsMark(rows.length);

  const sortBy = (col: string) => {
    const dir = state.sort === col && state.dir === 'desc' ? 'asc' : 'desc';
    update({ sort: col, dir }, { resetPage: isServerSorted(col) });
  };

  return (
    <section className="jobs-page">
      <div className="toolbar">
        <input
          ref={searchInput}
          type="search"
          className="search"
          placeholder="Search id, name, queue or image   ( / )"
          aria-label="Search jobs"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') update({ q: draft });
          }}
        />
        <MultiSelect label="Queue" testId="queue-filter" options={queues.data ?? []} selected={state.queues} onChange={(v) => update({ queues: v })} />
        <MultiSelect label="Status" testId="status-filter" options={JOB_STATUS_OPTIONS} selected={state.statuses} onChange={(v) => update({ statuses: v })} />
        <label className="inline">
          Updated in the last{' '}
          <select aria-label="Date range" value={state.dateRange} onChange={(e) => update({ dateRange: e.target.value as JobsPageState['dateRange'] })}>
            {DATE_RANGE_OPTIONS.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <label className="inline toggle">
          <input
            type="checkbox"
            checked={state.autoRefresh}
            onChange={(e) => update({ autoRefresh: e.target.checked }, { resetPage: false, replace: true })}
          />{' '}
          Auto-refresh
        </label>
        <span className="spacer" />
        <button type="button" className="danger" disabled={selectedIds.length === 0} onClick={() => setConfirming(true)} data-testid="terminate-selected">
          Terminate selected{selectedIds.length ? ` (${selectedIds.length})` : ''}
        </button>
      </div>

      {clientSorted && (
        <div className="notice" data-testid="client-sort-note">
          <span>
            Sorted by <b>{table.getColumn(state.sort)?.columnDef.header as string}</b> within this page only: the server sorts all
            matching jobs by id, name, status, stopped at and last updated.
          </span>
        </div>
      )}
      {kill.data && <KillResults results={kill.data} onClose={() => kill.reset()} />}

      <JobsTableBody jobs={jobs} table={table} state={state} sortBy={sortBy} />

      <div className="pager">
        <button type="button" disabled={state.page === 0} onClick={() => update({ page: state.page - 1 }, { resetPage: false })}>
          ← Newer
        </button>
        <span data-testid="page-info">
          Page {state.page + 1}
          {rows.length > 0 && ` · ${state.page * PAGE_SIZE + 1}–${state.page * PAGE_SIZE + rows.length}`}
          {jobs.isFetching && <span className="muted"> · refreshing…</span>}
        </span>
        <button type="button" disabled={rows.length < PAGE_SIZE} onClick={() => update({ page: state.page + 1 }, { resetPage: false })}>
          Older →
        </button>
      </div>

      <ConfirmDialog
        open={confirming}
        title={`Terminate ${selectedIds.length} job${selectedIds.length === 1 ? '' : 's'}?`}
        confirmLabel="Terminate"
        danger
        busy={kill.isPending}
        onCancel={() => setConfirming(false)}
        onConfirm={() => kill.mutate(selectedIds)}
      >
        <p>AWS Batch will be asked to terminate these jobs. This cannot be undone.</p>
        <ul className="id-list">
          {selectedIds.slice(0, 20).map((id) => (
            <li key={id} className="mono">
              {id}
            </li>
          ))}
          {selectedIds.length > 20 && <li>…and {selectedIds.length - 20} more</li>}
        </ul>
        {kill.error && <ErrorBox error={kill.error} />}
      </ConfirmDialog>
    </section>
  );
}

function JobsTableBody(props: {
  jobs: ReturnType<typeof useQuery<JobJson[]>>;
  table: ReturnType<typeof useReactTable<JobJson>>;
  state: JobsPageState;
  sortBy: (col: string) => void;
}) {
  const { jobs, table, state, sortBy } = props;
  if (jobs.isPending) return <Loading what="jobs" />;
  if (jobs.isError && !jobs.data) return <ErrorBox error={jobs.error} retry={() => void jobs.refetch()} />;
  const rows = table.getRowModel().rows;
  return (
    <>
      {jobs.isError && <ErrorBox error={jobs.error} retry={() => void jobs.refetch()} />}
      <div className="table-wrap">
        <table className="jobs-table jobs-grid" data-testid="jobs-table">
          <thead>
            {table.getHeaderGroups().map((hg) => (
              <tr key={hg.id}>
                {hg.headers.map((h) => {
                  const sortable = h.column.id !== 'select';
                  const active = state.sort === h.column.id;
                  return (
                    <th
                      key={h.id}
                      className={`col-${h.column.id}${active ? ' sorted' : ''}`}
                      aria-sort={active ? (state.dir === 'asc' ? 'ascending' : 'descending') : undefined}
                    >
                      {sortable ? (
                        <button
                          type="button"
                          className="th-sort"
                          onClick={() => sortBy(h.column.id)}
                          data-col={h.column.id}
                          title={isServerSorted(h.column.id) ? 'Sort all matching jobs' : 'Sort the jobs on this page'}
                        >
                          {flexRender(h.column.columnDef.header, h.getContext())}
                          <span className="sort-arrow">{active ? (state.dir === 'asc' ? '▲' : '▼') : ''}</span>
                        </button>
                      ) : (
                        flexRender(h.column.columnDef.header, h.getContext())
                      )}
                    </th>
                  );
                })}
              </tr>
            ))}
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} className={`${r.original.termination_requested ? 'row-kill' : ''}${r.getIsSelected() ? ' row-selected' : ''}`} data-job-id={r.original.id}>
                {r.getVisibleCells().map((c) => (
                  <td key={c.id} className={`col-${c.column.id}`}>
                    {flexRender(c.column.columnDef.cell, c.getContext())}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {rows.length === 0 && (
        <Empty title="No jobs match">
          {state.q || state.queues.length || state.statuses.length
            ? 'Try fewer search words or filters, or a longer date range.'
            : `No job was updated in the last ${state.dateRange}. Activate a queue on the Job queues page to start mirroring it.`}
        </Empty>
      )}
    </>
  );
}
