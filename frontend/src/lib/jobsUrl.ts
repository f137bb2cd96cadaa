/**
 * The Jobs page's state lives in the URL (shareable links, working back button).
 * This module is the one place that reads and writes those parameters.
 */
import type { DateRange, JobsQuery, SortColumn } from './api';

export const DATE_RANGE_OPTIONS: readonly DateRange[] = ['10m', '1h', '1d', '2d', '3d', '7d', '30d'];
export const DEFAULT_DATE_RANGE: DateRange = '30d';

/** Columns the API sorts (SPEC 6); every other column sorts the current page in the browser. */
export const SERVER_SORTABLE: Record<string, SortColumn> = {
  id: 'id',
  name: 'name',
  status: 'status',
  stopped_at: 'stopped_at',
  last_updated: 'last_updated',
};

export type SortDir = 'asc' | 'desc';

export interface JobsPageState {
  q: string;
  queues: string[];
  statuses: string[];
  dateRange: DateRange;
  sort: string;
  dir: SortDir;
  page: number;
  autoRefresh: boolean;
}

function list(v: string | null): string[] {
  return v ? v.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

export function readJobsState(p: URLSearchParams): JobsPageState {
  const range = p.get('dateRange');
  const page = Number(p.get('page') ?? 0);
  return {
    q: p.get('q') ?? '',
    queues: list(p.get('queue')),
    statuses: list(p.get('status')),
    dateRange: (DATE_RANGE_OPTIONS as readonly string[]).includes(range ?? '') ? (range as DateRange) : DEFAULT_DATE_RANGE,
    sort: p.get('sort') ?? 'last_updated',
    dir: p.get('dir') === 'asc' ? 'asc' : 'desc',
    page: Number.isInteger(page) && page >= 0 ? page : 0,
    autoRefresh: p.get('refresh') === '1',
  };
}

/** Only non-default values go into the URL, so links stay short. */
export function writeJobsState(s: JobsPageState): URLSearchParams {
  const p = new URLSearchParams();
  if (s.q) p.set('q', s.q);
  if (s.queues.length) p.set('queue', s.queues.join(','));
  if (s.statuses.length) p.set('status', s.statuses.join(','));
  if (s.dateRange !== DEFAULT_DATE_RANGE) p.set('dateRange', s.dateRange);
  if (s.sort !== 'last_updated' || s.dir !== 'desc') {
    p.set('sort', s.sort);
    p.set('dir', s.dir);
  }
  if (s.page > 0) p.set('page', String(s.page));
  if (s.autoRefresh) p.set('refresh', '1');
  return p;
}

export function isServerSorted(sort: string): boolean {
  return sort in SERVER_SORTABLE;
}

/** What to ask the API for: client-only sorts fall back to the default server order. */
export function apiQuery(s: JobsPageState): JobsQuery {
  const server = isServerSorted(s.sort);
  return {
    q: s.q,
    queues: s.queues,
    statuses: s.statuses,
    dateRange: s.dateRange,
    sortColumn: server ? SERVER_SORTABLE[s.sort] : 'last_updated',
    sortDirection: server ? (s.dir === 'asc' ? 'ASC' : 'DESC') : 'DESC',
    page: s.page,
  };
}
