/**
 * The Jobs page's state lives in the URL (shareable links, a working back
 * button). This module is the one place that reads and writes it. The names
 * are the Go original UI's (`selectedQueue`, `selectedStatus`, `sortColumn`,
 * `sortDirection`, `selectedIds`, `dateRange`, `q`, `page`), so its bookmarks
 * open the same view; this UI's earlier names (`queue`, `status`, `sort`,
 * `dir`) are still read.
 */
import { DATE_RANGES, type DateRange, type SortColumn } from '../../../src/api/contract';
import type { JobsQuery } from './api';
import { DEFAULT_DATE_RANGE } from './prefs';

export const DATE_RANGE_OPTIONS: readonly DateRange[] = DATE_RANGES;

/** The grid's columns; their ids are the original UI's column keys (its sortColumn values). */
export const JOB_COLUMNS = [
  'id',
  'status',
  'name',
  'image',
  'runtime',
  'total_elapsed_time',
  'stopped_at',
  'job_queue',
  'last_updated',
  'vcpus',
  'memory',
  'command_line',
] as const;
export type JobColumn = (typeof JOB_COLUMNS)[number];

/** Columns the API sorts (SPEC 6); every other column sorts the current page in the browser. */
export const SERVER_SORTABLE: Partial<Record<JobColumn, SortColumn>> = {
  id: 'id',
  name: 'name',
  status: 'status',
  stopped_at: 'stopped_at',
  last_updated: 'last_updated',
};

const DEFAULT_SORT: JobColumn = 'last_updated';
/** Column names this UI used before it took the original's keys. */
const COLUMN_ALIASES: Record<string, JobColumn> = { queue: 'job_queue', total_elapsed: 'total_elapsed_time' };

export type SortDir = 'asc' | 'desc';

export interface JobsPageState {
  q: string;
  queues: string[];
  statuses: string[];
  dateRange: DateRange;
  sort: JobColumn;
  dir: SortDir;
  page: number;
  /** Refresh the list every few seconds (the default; `live=0` pauses). */
  live: boolean;
  /** Jobs selected for terminating, on any page. */
  selectedIds: string[];
}

/** A comma list; the original wrote "all" for no filter. */
function list(v: string | null): string[] {
  if (!v || v === 'all') return [];
  return [...new Set(v.split(',').map((s) => s.trim()).filter(Boolean))];
}

function firstOf(p: URLSearchParams, ...names: string[]): string | null {
  for (const n of names) {
    const v = p.get(n);
    if (v !== null) return v;
  }
  return null;
}

export function parseSortColumn(value: string | null): JobColumn | null {
  if (!value) return null;
  if ((JOB_COLUMNS as readonly string[]).includes(value)) return value as JobColumn;
  return COLUMN_ALIASES[value] ?? null;
}

export function readJobsState(p: URLSearchParams, defaultRange: DateRange = DEFAULT_DATE_RANGE): JobsPageState {
  const range = p.get('dateRange');
  const page = Number(p.get('page') ?? 0);
  const sort = parseSortColumn(firstOf(p, 'sortColumn', 'sort'));
  return {
    q: p.get('q') ?? '',
    queues: list(firstOf(p, 'selectedQueue', 'queue')),
    statuses: list(firstOf(p, 'selectedStatus', 'status')).map((s) => s.toUpperCase()),
    dateRange: (DATE_RANGE_OPTIONS as readonly string[]).includes(range ?? '') ? (range as DateRange) : defaultRange,
    // An unknown column (a typo, a column that no longer exists) falls back to the default order.
    sort: sort ?? DEFAULT_SORT,
    dir: sort && firstOf(p, 'sortDirection', 'dir')?.toLowerCase() === 'asc' ? 'asc' : 'desc',
    page: Number.isInteger(page) && page >= 0 ? page : 0,
    live: p.get('live') !== '0',
    selectedIds: list(p.get('selectedIds')),
  };
}

/**
 * Writes the state under the original's names. The date range is always
 * written, so a shared link shows the same jobs whatever range the receiver
 * last chose; other defaults are left out to keep links short.
 */
export function writeJobsState(s: JobsPageState): URLSearchParams {
  const p = new URLSearchParams();
  if (s.q) p.set('q', s.q);
  if (s.queues.length) p.set('selectedQueue', s.queues.join(','));
  if (s.statuses.length) p.set('selectedStatus', s.statuses.join(','));
  p.set('dateRange', s.dateRange);
  if (s.sort !== DEFAULT_SORT || s.dir !== 'desc') {
    p.set('sortColumn', s.sort);
    p.set('sortDirection', s.dir === 'asc' ? 'ASC' : 'DESC');
  }
  if (s.page > 0) p.set('page', String(s.page));
  if (!s.live) p.set('live', '0');
  if (s.selectedIds.length) p.set('selectedIds', s.selectedIds.join(','));
  return p;
}

export function isServerSorted(sort: string): boolean {
  return sort in SERVER_SORTABLE;
}

/** What to ask the API for: client-only sorts fall back to the default server order. */
export function apiQuery(s: JobsPageState): JobsQuery {
  const server = SERVER_SORTABLE[s.sort];
  return {
    q: s.q,
    queues: s.queues,
    statuses: s.statuses,
    dateRange: s.dateRange,
    sortColumn: server ?? 'last_updated',
    sortDirection: server ? (s.dir === 'asc' ? 'ASC' : 'DESC') : 'DESC',
    page: s.page,
  };
}
