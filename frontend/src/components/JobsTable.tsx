import { Fragment, useMemo, useState, type MouseEvent, type ReactNode } from 'react';
import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { flexRender, getCoreRowModel, getSortedRowModel, useReactTable, type ColumnDef, type Row } from '@tanstack/react-table';
import { api, type JobJson } from '../lib/api';
import { arraySummary } from '../lib/arrays';
import {
  displayStatus,
  formatCommand,
  formatMemory,
  formatShortTime,
  formatTime,
  formatVcpus,
  isTerminalStatus,
  middleEllipsis,
  runtimeSeconds,
  shortImage,
  totalElapsedSeconds,
  zoneName,
  type TimeZoneMode,
} from '../lib/format';
import { isServerSorted, type JobColumn, type SortDir } from '../lib/jobsUrl';
import { useTimeZone } from '../lib/useTimeZone';
import { ArrayProgress } from './ArrayProgress';
import { LiveDuration } from './LiveDuration';
import { StatusBadge } from './StatusBadge';
import { ErrorBox, Loading } from './States';

export interface SortState {
  column: JobColumn;
  dir: SortDir;
}

interface ColumnMeta {
  /** Label in the phone layout, where rows are cards and there is no header. */
  label: string;
  numeric?: boolean;
}

const jobLink = (id: string) => `/job/${encodeURIComponent(id)}`;

/** Column ids are the original UI's column keys (its sortColumn values). */
function jobColumns(zone: TimeZoneMode, expander: (job: JobJson) => ReactNode): ColumnDef<JobJson>[] {
  const zoneLabel = zoneName(zone);
  const time = (iso: string | null) => <span title={formatTime(iso, zone)}>{formatShortTime(iso, Date.now(), zone)}</span>;
  return [
    {
      id: 'id',
      header: 'ID',
      accessorFn: (j) => j.id,
      cell: ({ row }) => (
        <span className="id-cell">
          {expander(row.original)}
          <Link to={jobLink(row.original.id)} className="mono" title={row.original.id}>
            {middleEllipsis(row.original.id, 26)}
          </Link>
        </span>
      ),
      meta: { label: 'ID' },
    },
    {
      id: 'status',
      header: 'Status',
      accessorFn: (j) => displayStatus(j),
      cell: ({ row }) => {
        const summary = arraySummary(row.original);
        return (
          <span className="status-with-progress">
            <StatusBadge job={row.original} />
            {summary && <ArrayProgress summary={summary} />}
          </span>
        );
      },
      meta: { label: 'Status' },
    },
    {
      id: 'name',
      header: 'Name',
      accessorFn: (j) => j.name,
      cell: ({ row }) => (
        <Link to={jobLink(row.original.id)} className="job-name" title={row.original.name}>
          {row.original.name}
        </Link>
      ),
      meta: { label: 'Name' },
    },
    { id: 'image', header: 'Image', accessorFn: (j) => j.image, cell: (c) => <span title={c.getValue<string>()}>{shortImage(c.getValue<string>())}</span>, meta: { label: 'Image' } },
    {
      id: 'runtime',
      header: 'Runtime',
      accessorFn: (j) => runtimeSeconds(j, Date.now()) ?? -1,
      cell: ({ row }) => <LiveDuration job={row.original} measure={runtimeSeconds} />,
      meta: { label: 'Runtime' },
    },
    {
      id: 'total_elapsed_time',
      header: 'Total elapsed',
      accessorFn: (j) => totalElapsedSeconds(j, Date.now()) ?? -1,
      cell: ({ row }) => <LiveDuration job={row.original} measure={totalElapsedSeconds} />,
      meta: { label: 'Total elapsed' },
    },
    { id: 'stopped_at', header: `Stopped at (${zoneLabel})`, accessorFn: (j) => j.stopped_at ?? '', cell: ({ row }) => time(row.original.stopped_at), meta: { label: 'Stopped' } },
    { id: 'job_queue', header: 'Queue', accessorFn: (j) => j.job_queue, cell: (c) => <span title={c.getValue<string>()}>{c.getValue<string>()}</span>, meta: { label: 'Queue' } },
    { id: 'last_updated', header: `Last updated (${zoneLabel})`, accessorFn: (j) => j.last_updated, cell: ({ row }) => time(row.original.last_updated), meta: { label: 'Updated' } },
    { id: 'vcpus', header: 'CPUs', accessorFn: (j) => j.vcpus_exact ?? j.vcpus, cell: ({ row }) => formatVcpus(row.original), meta: { label: 'CPUs', numeric: true } },
    { id: 'memory', header: 'Memory', accessorFn: (j) => j.memory, cell: ({ row }) => formatMemory(row.original.memory), meta: { label: 'Memory', numeric: true } },
    {
      id: 'command_line',
      header: 'Command line',
      accessorFn: (j) => formatCommand(j.command_line),
      cell: (c) => (
        <span className="mono" title={c.getValue<string>()}>
          {c.getValue<string>()}
        </span>
      ),
      meta: { label: 'Command' },
    },
  ];
}

/**
 * The job grid: sortable headers (server-sorted columns sort every matching
 * job, the others this page), checkboxes for active jobs only, and array
 * parents with their children's progress, expandable to the children.
 * Below 700 px every row is a card (CSS), each value labelled.
 */
export function JobsTable(props: {
  jobs: JobJson[];
  sort: SortState;
  onSort: (column: JobColumn) => void;
  selected: Set<string>;
  onToggle: (job: JobJson, e: MouseEvent<HTMLInputElement>) => void;
  onTogglePage: (on: boolean) => void;
}) {
  const { jobs, sort, selected } = props;
  const zone = useTimeZone();
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const toggleExpanded = (id: string) =>
    setExpanded((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const expander = (job: JobJson) =>
    arraySummary(job) ? (
      <button
        type="button"
        className="expander"
        aria-expanded={expanded.has(job.id)}
        aria-label={`${expanded.has(job.id) ? 'Hide' : 'Show'} the children of ${job.id}`}
        onClick={() => toggleExpanded(job.id)}
      >
        {expanded.has(job.id) ? '▾' : '▸'}
      </button>
    ) : null;
  const columns = useMemo(() => jobColumns(zone, expander), [zone, expanded]); // eslint-disable-line react-hooks/exhaustive-deps
  const clientSorted = !isServerSorted(sort.column);
  // A new sorting array on every render makes the table re-sort and reset its page index on
  // every render, which renders again: the page spins and later navigations never commit.
  const sorting = useMemo(() => (clientSorted ? [{ id: sort.column, desc: sort.dir === 'desc' }] : []), [clientSorted, sort.column, sort.dir]);
  const table = useReactTable({
    data: jobs,
    columns,
    getRowId: (j) => j.id,
    state: { sorting },
    manualSorting: !clientSorted,
    autoResetPageIndex: false, // no pagination model: paging is the API's
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
  });
  const rows = table.getRowModel().rows;
  const selectable = jobs.filter((j) => !isTerminalStatus(j.status));
  const selectedHere = selectable.filter((j) => selected.has(j.id)).length;

  return (
    <div className="table-wrap">
      <table className="jobs-table jobs-grid" data-testid="jobs-table">
        <thead>
          <tr>
            <th className="col-select">
              <input
                type="checkbox"
                aria-label="Select all active jobs on this page"
                title={selectable.length ? 'Select every running or waiting job on this page' : 'Nothing on this page can be terminated'}
                disabled={selectable.length === 0}
                checked={selectable.length > 0 && selectedHere === selectable.length}
                ref={(el) => {
                  if (el) el.indeterminate = selectedHere > 0 && selectedHere < selectable.length;
                }}
                onChange={(e) => props.onTogglePage(e.target.checked)}
              />
            </th>
            {table.getFlatHeaders().map((h) => {
              const active = sort.column === h.column.id;
              return (
                <th
                  key={h.id}
                  className={`col-${h.column.id}${active ? ' sorted' : ''}`}
                  aria-sort={active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : undefined}
                >
                  <button
                    type="button"
                    className="th-sort"
                    onClick={() => props.onSort(h.column.id as JobColumn)}
                    data-col={h.column.id}
                    title={isServerSorted(h.column.id) ? 'Sort all matching jobs' : 'Sort the jobs on this page'}
                  >
                    {flexRender(h.column.columnDef.header, h.getContext())}
                    <span className="sort-arrow">{active ? (sort.dir === 'asc' ? '▲' : '▼') : ''}</span>
                  </button>
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <Fragment key={r.id}>
              <JobRow row={r} selected={selected.has(r.original.id)} onToggle={props.onToggle} />
              {expanded.has(r.original.id) && (
                <ChildRows parent={r.original} columns={columns} selected={selected} onToggle={props.onToggle} />
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function JobRow({
  row,
  selected,
  onToggle,
  child,
}: {
  row: Row<JobJson>;
  selected: boolean;
  onToggle: (job: JobJson, e: MouseEvent<HTMLInputElement>) => void;
  child?: boolean;
}) {
  const job = row.original;
  const active = !isTerminalStatus(job.status);
  const classes = [active && job.termination_requested ? 'row-kill' : '', selected ? 'row-selected' : '', child ? 'row-child' : ''].filter(Boolean).join(' ');
  return (
    <tr className={classes || undefined} data-job-id={job.id}>
      <td className="col-select">
        <input
          type="checkbox"
          aria-label={`Select job ${job.id}`}
          checked={selected}
          disabled={!active}
          title={active ? undefined : `${displayStatus(job)}: finished, nothing to terminate`}
          onChange={() => undefined /* handled on click, which knows about the shift key */}
          onClick={(e) => onToggle(job, e)}
        />
      </td>
      {row.getVisibleCells().map((c) => {
        const meta = c.column.columnDef.meta as ColumnMeta | undefined;
        return (
          <td key={c.id} className={`col-${c.column.id}`} data-label={meta?.label}>
            {flexRender(c.column.columnDef.cell, c.getContext())}
          </td>
        );
      })}
    </tr>
  );
}

/** A big array (up to 10,000 children) lists them on its own page, paged; here only the first ones. */
const MAX_CHILD_ROWS = 100;

/** An expanded array parent's children, as rows of the same grid. */
function ChildRows(props: {
  parent: JobJson;
  columns: ColumnDef<JobJson>[];
  selected: Set<string>;
  onToggle: (job: JobJson, e: MouseEvent<HTMLInputElement>) => void;
}) {
  const children = useQuery({
    queryKey: ['children', props.parent.id],
    queryFn: ({ signal }) => api.arrayChildren(props.parent.id, signal),
    refetchInterval: isTerminalStatus(props.parent.status) ? false : 5000,
  });
  const all = children.data ?? [];
  const shown = useMemo(() => all.slice(0, MAX_CHILD_ROWS), [all]);
  const table = useReactTable({ data: shown, columns: props.columns, getRowId: (j) => j.id, getCoreRowModel: getCoreRowModel() });
  const span = props.columns.length + 1;
  if (children.isPending || children.isError || (children.data ?? []).length === 0) {
    return (
      <tr className="row-child">
        <td colSpan={span}>
          {children.isPending ? (
            <Loading what="children" />
          ) : children.isError ? (
            <ErrorBox error={children.error} retry={() => void children.refetch()} />
          ) : (
            <span className="muted">No children mirrored yet.</span>
          )}
        </td>
      </tr>
    );
  }
  return (
    <>
      {table.getRowModel().rows.map((r) => (
        <JobRow key={r.id} row={r} selected={props.selected.has(r.original.id)} onToggle={props.onToggle} child />
      ))}
      {all.length > shown.length && (
        <tr className="row-child">
          <td colSpan={span}>
            <span className="muted">
              {shown.length} of {all.length} children shown. <Link to={jobLink(props.parent.id)}>All children, with a status filter →</Link>
            </span>
          </td>
        </tr>
      )}
    </>
  );
}
