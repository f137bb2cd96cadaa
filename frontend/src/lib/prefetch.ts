/**
 * Cold loads of the Jobs page: start its first API request before the app's
 * code (React, the table library, ...) has even downloaded, so the two overlap.
 * The page takes the answer if it asks for the same query first.
 */
import { api, type JobJson, type JobsQuery } from './api';
import { apiQuery, readJobsState } from './jobsUrl';
import { rememberedDateRange } from './prefs';
import { basePath } from './basePath';

let pending: { key: string; promise: Promise<JobJson[]> } | null = null;

export function startJobsPrefetch(): void {
  if (window.location.pathname !== `${basePath()}/` && window.location.pathname !== basePath()) return;
  const query = apiQuery(readJobsState(new URLSearchParams(window.location.search), rememberedDateRange()));
  const promise = api.searchJobs(query);
  promise.catch(() => undefined); // a failure is reported when (if) the page asks for it
  pending = { key: JSON.stringify(query), promise };
}

/** The prefetched answer for exactly this query, once; otherwise a normal request. */
export function searchJobsOnce(query: JobsQuery, signal?: AbortSignal): Promise<JobJson[]> {
  if (pending && pending.key === JSON.stringify(query)) {
    const { promise } = pending;
    pending = null;
    return promise;
  }
  pending = null;
  return api.searchJobs(query, signal);
}
