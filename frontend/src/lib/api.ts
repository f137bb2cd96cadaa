/**
 * The HTTP API of SPEC section 6, typed. Shapes come from the shared types so the
 * UI and the server cannot drift apart silently.
 */
import type {
  ActivatedQueue,
  DateRange,
  DependencyJson,
  JobCountJson,
  JobDependenciesJson,
  ForcedScalingResponse,
  JobAwsDetail,
  JobJson,
  JobStatus,
  KillResponse,
  QueueDetails,
  SortColumn,
  SortDirection,
  StatsRow,
} from '../../../src/api/contract';

import { authHeaders, getToken } from './auth';
import { basePath, withBase } from './basePath';


export type {
  ActivatedQueue,
  DateRange,
  DependencyJson,
  JobAwsDetail,
  JobCountJson,
  JobDependenciesJson,
  JobJson,
  JobStatus,
  QueueDetails,
  SortColumn,
  SortDirection,
  StatsRow,
};

/** An API answer that was not 2xx, with the server's own explanation when it gave one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function explain(res: Response): Promise<string> {
  const body = await res.text().catch(() => '');
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
    const msg = parsed.error ?? parsed.message;
    if (typeof msg === 'string') return msg;
    if (msg && typeof msg === 'object') return JSON.stringify(msg);
  } catch {
    /* not JSON: fall through to the raw text */
  }
  return body.trim() || `${res.status} ${res.statusText}`;
}

async function request(path: string, init?: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(withBase(path), { ...init, headers: { Accept: 'application/json', ...authHeaders(), ...init?.headers } });
  } catch (err) {
    throw new ApiError(0, `Cannot reach the server (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!res.ok) throw new ApiError(res.status, await explain(res));
  return res;
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await request(path, { signal })).json() as Promise<T>;
}

async function postJson<T>(path: string, body?: unknown): Promise<T> {
  const res = await request(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface LogChunk {
  text: string;
  /** null while the job has no log stream yet. */
  nextToken: string | null;
  more: boolean;
}

export interface JobsQuery {
  q: string;
  queues: string[];
  statuses: string[];
  dateRange: DateRange;
  sortColumn: SortColumn;
  sortDirection: SortDirection;
  page: number;
}

export function jobsSearchParams(query: JobsQuery): URLSearchParams {
  const p = new URLSearchParams();
  if (query.q.trim()) p.set('q', query.q.trim());
  if (query.queues.length) p.set('queue', query.queues.join(','));
  if (query.statuses.length) p.set('status', query.statuses.join(','));
  p.set('dateRange', query.dateRange);
  p.set('sortColumn', query.sortColumn);
  p.set('sortDirection', query.sortDirection);
  p.set('page', String(query.page));
  return p;
}

export const api = {
  searchJobs: (query: JobsQuery, signal?: AbortSignal) =>
    getJson<JobJson[]>(`/api/v1/jobs?${jobsSearchParams(query).toString()}`, signal),
  /** How many jobs the search matches (its page is ignored): exact up to a bound, estimated beyond. */
  countJobs: (query: JobsQuery, signal?: AbortSignal) =>
    getJson<JobCountJson>(`/api/v1/jobs/count?${jobsSearchParams(query).toString()}`, signal),
  getJob: (id: string, signal?: AbortSignal) => getJson<JobJson>(`/api/v1/jobs/${encodeURIComponent(id)}`, signal),
  /** What the job waits on and what waits on it, from the mirror. */
  jobDependencies: (id: string, signal?: AbortSignal) =>
    getJson<JobDependenciesJson>(`/api/v1/jobs/${encodeURIComponent(id)}/dependencies`, signal),
  /** `reason` is passed to TerminateJob (AWS shows it as the job's status reason). */
  killJobs: (ids: string[], reason?: string) =>
    postJson<KillResponse>('/api/v1/jobs/kill', reason ? { ids, reason } : { ids }),
  activeQueues: (signal?: AbortSignal) => getJson<string[]>('/api/v1/job_queues/active', signal),
  allQueues: (signal?: AbortSignal) => getJson<string[]>('/api/v1/job_queues/all', signal),
  /** Every queue with AWS's state, whether it is mirrored, and its job counts. */
  queueDetails: (signal?: AbortSignal) => getJson<QueueDetails[]>('/api/v1/job_queues/details', signal),
  activateQueue: (name: string) => postJson<unknown>(`/api/v1/job_queues/${encodeURIComponent(name)}/activate`),
  deactivateQueue: (name: string) => postJson<unknown>(`/api/v1/job_queues/${encodeURIComponent(name)}/deactivate`),
  stats: (params: { start: number; end: number; queues: string[]; statuses: string[] }, signal?: AbortSignal) => {
    const p = new URLSearchParams({ start: String(params.start), end: String(params.end) });
    if (params.queues.length) p.set('queue', params.queues.join(','));
    if (params.statuses.length) p.set('status', params.statuses.join(','));
    return getJson<StatsRow[]>(`/api/v1/jobs/stats?${p.toString()}`, signal);
  },
  /** What only AWS Batch knows about the job (attempts, dependencies, nodes), read live. */
  jobAws: (id: string, signal?: AbortSignal) => getJson<JobAwsDetail>(`/api/v1/jobs/${encodeURIComponent(id)}/aws`, signal),
  /** Children of an array job (array_parent_id = parent), in index order. */
  arrayChildren: (parentId: string, signal?: AbortSignal) =>
    getJson<JobJson[]>(`/api/v1/jobs/${encodeURIComponent(parentId)}/children`, signal),
  /** Activated queues with their forced-scaling flag. */
  activatedQueues: (signal?: AbortSignal) => getJson<ActivatedQueue[]>('/api/v1/job_queues/activated', signal),
  setForcedScaling: (name: string, enabled: boolean) =>
    postJson<ForcedScalingResponse>(`/api/v1/job_queues/${encodeURIComponent(name)}/forced_scaling`, { enabled }),
  /**
   * The job's log (or node `node`'s of a multi-node job) after forward token `after`
   * ('' = from the head), a few MB at most: the text, where to continue, and whether
   * more is already there.
   */
  logChunk: async (id: string, after: string, timestamps: boolean, signal?: AbortSignal, node: number | null = null): Promise<LogChunk> => {
    const p = new URLSearchParams({ format: 'text', after });
    if (timestamps) p.set('timestamps', 'true');
    if (node !== null) p.set('node', String(node));
    const res = await request(`/api/v1/jobs/${encodeURIComponent(id)}/logs?${p.toString()}`, { signal, headers: { Accept: 'text/plain' } });
    return { text: await res.text(), nextToken: res.headers.get('X-Next-Forward-Token'), more: res.headers.get('X-Log-More') === 'true' };
  },
};

/** ws:// or wss:// URL of a job's live status socket, on the page's own host. */
export function statusSocketUrl(id: string): string {
  const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = getToken();
  const query = token ? `?access_token=${encodeURIComponent(token)}` : '';
  return `${proto}//${window.location.host}${basePath()}/api/v1/jobs/${encodeURIComponent(id)}/status_websocket${query}`;
}
