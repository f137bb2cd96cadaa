import { useEffect, useMemo, useRef, useState, type MouseEvent } from 'react';
import { useSearchParams } from 'react-router';
import { keepPreviousData, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { api, type JobJson, type JobsQuery } from '../lib/api';
import { JOB_STATUS_OPTIONS } from '../lib/statuses';
import { searchJobsOnce } from '../lib/prefetch';
import { DATE_RANGE_OPTIONS, apiQuery, isServerSorted, readJobsState, writeJobsState, type JobsPageState } from '../lib/jobsUrl';
import { rememberDateRange, rememberedDateRange } from '../lib/prefs';
import { rememberJobsList } from '../lib/lastJobsList';
import { formatMatchCount, isTerminalStatus } from '../lib/format';
import { rangeBetween, withIds } from '../lib/selection';
import { MultiSelect } from '../components/MultiSelect';
import { INCOMPLETE_PREFIX, SearchHelp } from '../components/SearchHelp';
import { Empty, ErrorBox, Loading } from '../components/States';
import { KillResults } from '../components/KillResults';
import { KillDialog } from '../components/KillDialog';
import { JobsTable, type SortState } from '../components/JobsTable';

const PAGE_SIZE = 100;
const LIVE_MS = 5000;

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

/**
 * The search box searches as one types, and one search is one history entry:
 * the first search of a typing session pushes an entry, later ones (more
 * typing, the Enter that ends it) replace it. A session ends with Enter, when
 * the box loses focus, or when the search changes elsewhere (back button, a link).
 */
function useLiveSearch(q: string, commit: (q: string, replace: boolean) => void) {
  const [draft, setDraft] = useState(q);
  const pushed = useRef(false);
  const lastCommitted = useRef(q);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => {
    if (q === lastCommitted.current) return; // our own search arriving: the box may already hold more typing
    pushed.current = false; // changed elsewhere (back button, a link): a new session
    lastCommitted.current = q;
    setDraft(q);
  }, [q]);
  const submit = (value: string) => {
    clearTimeout(timer.current);
    if (value === lastCommitted.current) return;
    lastCommitted.current = value;
    commit(value, pushed.current);
    pushed.current = true;
  };
  const change = (value: string) => {
    setDraft(value);
    clearTimeout(timer.current);
    // `reason:` or `cmd:` still waiting for its word: no search (it would be a 400); Enter still sends it.
    if (INCOMPLETE_PREFIX.test(value)) return;
    timer.current = setTimeout(() => submit(value), 300);
  };
  useEffect(() => () => clearTimeout(timer.current), []);
  return { draft, change, submit, endSession: () => (pushed.current = false) };
}

/**
 * Past the last page (an old link, jobs that finished meanwhile): finds the
 * last page that has jobs by halving between page 0 and this one.
 */
async function findLastPage(qc: QueryClient, query: JobsQuery): Promise<number> {
  let lo = 0;
  let hi = query.page; // known empty
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const probe = { ...query, page: mid };
    const rows = await qc.fetchQuery({ queryKey: ['jobs', probe], queryFn: ({ signal }) => api.searchJobs(probe, signal), staleTime: 10_000 });
    if (rows.length > 0) lo = mid;
    else hi = mid;
  }
  return lo;
}

export function JobsPage() {
  const [params, setParams] = useSearchParams();
  const state = useMemo(() => readJobsState(params, rememberedDateRange()), [params]);
  const update = (patch: Partial<JobsPageState>, opts: { resetPage?: boolean; replace?: boolean } = {}) => {
    const next = { ...state, ...patch };
    if (opts.resetPage ?? true) next.page = patch.page ?? 0;
    setParams(writeJobsState(next), { replace: opts.replace });
  };
  useEffect(() => rememberJobsList(params.toString()), [params]);

  const searchInput = useRef<HTMLInputElement>(null);
  useSlashFocuses(searchInput);
  const search = useLiveSearch(state.q, (q, replace) => update({ q }, { replace }));

  const query = apiQuery(state);
  const jobs = useQuery({
    queryKey: ['jobs', query],
    queryFn: ({ signal }) => searchJobsOnce(query, signal),
    placeholderData: keepPreviousData,
    refetchInterval: state.live ? LIVE_MS : false,
  });
  // Its own request, beside the page's (not before it): a count never delays the first rows.
  // Sort and page do not change it; ['jobs', …] so whatever refreshes the list refreshes it too.
  const countQuery: JobsQuery = { ...query, sortColumn: 'last_updated', sortDirection: 'DESC', page: 0 };
  const count = useQuery({
    queryKey: ['jobs', 'count', countQuery],
    queryFn: ({ signal }) => api.countJobs(countQuery, signal),
    placeholderData: keepPreviousData,
    refetchInterval: state.live ? LIVE_MS : false,
  });
  const queues = useQuery({ queryKey: ['queues', 'active'], queryFn: ({ signal }) => api.activeQueues(signal), staleTime: 60_000 });
  const rows = jobs.data ?? [];
  useFirstRowsMark(rows.length);

  // Rows seen on any page, so the confirmation can name selected jobs that are not on this one.
  const seen = useRef(new Map<string, JobJson>());
  for (const j of rows) seen.current.set(j.id, j);

  // A new page starts at its top, not where the "Older" button was.
  const lastPage = useRef(state.page);
  useEffect(() => {
    if (lastPage.current !== state.page) window.scrollTo({ top: 0 });
    lastPage.current = state.page;
  }, [state.page]);

  const selection = useSelection(state, update, rows, query);
  const [confirming, setConfirming] = useState(false);
  const [killResults, setKillResults] = useState<Record<string, string> | null>(null);
  const qc = useQueryClient();

  const sort: SortState = { column: state.sort, dir: state.dir };
  const sortBy = (col: JobsPageState['sort']) => {
    const dir = state.sort === col && state.dir === 'desc' ? 'asc' : 'desc';
    update({ sort: col, dir }, { resetPage: isServerSorted(col) });
  };
  const filtered = Boolean(state.q || state.queues.length || state.statuses.length);

  return (
    <section className="jobs-page">
      <div className="toolbar jobs-toolbar">
        <input
          ref={searchInput}
          type="search"
          className="search"
          placeholder="Search jobs, reason:…, cmd:…  ( / )"
          title="Every word must appear in the job's id, name, queue or image; reason:word in its status reason, cmd:word in its command line"
          aria-label="Search jobs"
          value={search.draft}
          onChange={(e) => search.change(e.target.value)}
          onBlur={search.endSession}
          onKeyDown={(e) => {
            if (e.key !== 'Enter') return;
            search.submit(search.draft);
            search.endSession(); // Enter settles this search: typing on starts the next one
          }}
        />
        <SearchHelp
          onExample={(example) => {
            const next = search.draft.trim() ? `${search.draft.trim()} ${example}` : example;
            search.change(next);
            search.submit(next);
            searchInput.current?.focus();
          }}
        />
        <MultiSelect label="Queue" testId="queue-filter" options={queues.data ?? []} selected={state.queues} onChange={(v) => update({ queues: v })} />
        <MultiSelect label="Status" testId="status-filter" options={JOB_STATUS_OPTIONS} selected={state.statuses} onChange={(v) => update({ statuses: v })} />
        <label className="inline">
          <span className="hide-narrow">Updated in the last</span>
          <span className="show-narrow">Last</span>
          <select
            aria-label="Date range"
            value={state.dateRange}
            onChange={(e) => {
              const range = e.target.value as JobsPageState['dateRange'];
              rememberDateRange(range);
              update({ dateRange: range });
            }}
          >
            {DATE_RANGE_OPTIONS.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <label className="inline toggle" title="Refresh the list every 5 seconds">
          <input type="checkbox" aria-label="Live" checked={state.live} onChange={(e) => update({ live: e.target.checked }, { resetPage: false, replace: true })} /> Live
        </label>
        <button type="button" onClick={() => void Promise.all([jobs.refetch(), count.refetch()])} disabled={jobs.isFetching} data-testid="refresh">
          Refresh
        </button>
      </div>

      <div className="selection-bar" data-testid="selection-bar">
        <span className="selection-count" data-testid="selection-count">
          {selection.ids.length === 0
            ? 'Select running or waiting jobs to terminate them (shift-click selects a range).'
            : `${selection.ids.length} selected${selection.elsewhere ? ` · ${selection.elsewhere} on other pages or filters` : ''}`}
        </span>
        {selection.ids.length > 0 && (
          <button type="button" className="link" onClick={selection.clear}>
            Clear
          </button>
        )}
        <span className="spacer" />
        {count.data && (
          <span className="match-count" data-testid="match-count" data-exact={String(count.data.exact)} title={count.data.exact ? undefined : `Postgres's estimate: more than ${count.data.exactUpTo.toLocaleString('en-US')} jobs match`}>
            {formatMatchCount(count.data)}
          </span>
        )}
        <button
          type="button"
          className="danger terminate-selected"
          disabled={selection.ids.length === 0}
          onClick={() => setConfirming(true)}
          data-testid="terminate-selected"
        >
          Terminate selected{selection.ids.length ? ` (${selection.ids.length})` : ''}
        </button>
      </div>

      {!isServerSorted(state.sort) && (
        <div className="notice" data-testid="client-sort-note">
          <span>
            Sorted by <b>{COLUMN_TITLES[state.sort]}</b> within this page only: the server sorts all matching jobs by id, name, status, stopped at
            and last updated.
          </span>
        </div>
      )}
      {killResults && <KillResults results={killResults} onClose={() => setKillResults(null)} />}

      {jobs.isPending ? (
        <Loading what="jobs" />
      ) : jobs.isError && !jobs.data ? (
        <ErrorBox error={jobs.error} retry={() => void jobs.refetch()} />
      ) : (
        <>
          {jobs.isError && <ErrorBox error={jobs.error} retry={() => void jobs.refetch()} />}
          {rows.length > 0 && (
            <JobsTable
              jobs={rows}
              sort={sort}
              onSort={sortBy}
              selected={selection.set}
              onToggle={selection.toggle}
              onTogglePage={selection.togglePage}
            />
          )}
          {rows.length === 0 && state.page > 0 ? (
            <PastTheEnd query={query} onGo={(page) => update({ page }, { resetPage: false })} />
          ) : rows.length === 0 ? (
            <Empty title="No jobs match">
              {filtered
                ? `Try fewer search words or filters, or a longer date range.${state.q && !/\b(reason|cmd):/i.test(state.q) ? ' Words search the id, name, queue and image: reason:word searches the status reason, cmd:word the command line.' : ''}`
                : `No job was updated in the last ${state.dateRange}. Pick a longer range, or activate a queue on the Job queues page to start mirroring it.`}
            </Empty>
          ) : null}
        </>
      )}

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

      {confirming && (
        <KillDialog
          ids={selection.ids}
          known={(id) => seen.current.get(id)}
          onCancel={() => setConfirming(false)}
          onDone={(results, sent) => {
            setConfirming(false);
            setKillResults(results);
            selection.remove(sent.filter((id) => results[id] === 'OK'));
            void qc.invalidateQueries({ queryKey: ['jobs'] });
          }}
        />
      )}
    </section>
  );
}

export const COLUMN_TITLES: Record<JobsPageState['sort'], string> = {
  id: 'ID',
  status: 'Status',
  name: 'Name',
  image: 'Image',
  runtime: 'Runtime',
  total_elapsed_time: 'Total elapsed',
  stopped_at: 'Stopped at',
  job_queue: 'Queue',
  last_updated: 'Last updated',
  vcpus: 'CPUs',
  memory: 'Memory',
  command_line: 'Command line',
};

function PastTheEnd({ query, onGo }: { query: JobsQuery; onGo: (page: number) => void }) {
  const qc = useQueryClient();
  const last = useQuery({ queryKey: ['last-page', query], queryFn: () => findLastPage(qc, query), staleTime: 10_000 });
  return (
    <Empty title={`Page ${query.page + 1} is past the end`}>
      <span data-testid="past-the-end">
        {last.isPending ? (
          'Looking for the last page…'
        ) : last.isError ? (
          <button type="button" className="primary" onClick={() => onGo(0)}>
            Go to the first page
          </button>
        ) : (
          <>
            The matching jobs end on page {last.data + 1}.{' '}
            <button type="button" className="primary" onClick={() => onGo(last.data)}>
              Go to page {last.data + 1}
            </button>
          </>
        )}
      </span>
    </Empty>
  );
}

/**
 * The selection lives in the URL (`selectedIds`, the original's name), so it
 * survives paging, filters and a reload, and a link can carry it. Only jobs
 * still active can be selected. Shift-click selects the range from the last
 * clicked job, across pages of the same search.
 */
function useSelection(
  state: JobsPageState,
  update: (patch: Partial<JobsPageState>, opts?: { resetPage?: boolean; replace?: boolean }) => void,
  rows: JobJson[],
  query: JobsQuery,
) {
  const qc = useQueryClient();
  const ids = state.selectedIds;
  const set = useMemo(() => new Set(ids), [ids]);
  const anchor = useRef<{ id: string; page: number; key: string } | null>(null);
  const searchKey = JSON.stringify({ ...query, page: 0 });
  const write = (next: string[]) => update({ selectedIds: next }, { resetPage: false, replace: true });
  const selectable = (j: JobJson) => !isTerminalStatus(j.status);

  /** The rows of pages lo..hi of this search in display order (cached pages, the rest fetched). */
  const rowsOfPages = async (lo: number, hi: number): Promise<JobJson[]> => {
    const out: JobJson[] = [];
    for (let p = lo; p <= hi; p++) {
      if (p === query.page) {
        out.push(...rows);
        continue;
      }
      const q = { ...query, page: p };
      out.push(...(await qc.fetchQuery({ queryKey: ['jobs', q], queryFn: ({ signal }) => api.searchJobs(q, signal), staleTime: 60_000 })));
    }
    return out;
  };

  const toggle = (job: JobJson, e: MouseEvent<HTMLInputElement>) => {
    const on = !set.has(job.id);
    const from = anchor.current;
    anchor.current = { id: job.id, page: query.page, key: searchKey };
    if (!e.shiftKey || !from || from.key !== searchKey || from.id === job.id) {
      write(withIds(ids, [job.id], on));
      return;
    }
    const lo = Math.min(from.page, query.page);
    const hi = Math.max(from.page, query.page);
    const ordered = lo === hi ? rows : null;
    const apply = (list: JobJson[]) => {
      const range = rangeBetween(list.map((j) => j.id), from.id, job.id);
      const byId = new Map(list.map((j) => [j.id, j]));
      const picked = range.filter((id) => byId.get(id) && selectable(byId.get(id)!));
      write(withIds(ids, picked.length ? picked : [job.id], true));
    };
    if (ordered) apply(ordered);
    else void rowsOfPages(lo, hi).then(apply, () => write(withIds(ids, [job.id], on)));
  };

  const togglePage = (on: boolean) => {
    const pageIds = rows.filter(selectable).map((j) => j.id);
    write(withIds(ids, pageIds, on));
  };

  const onPage = new Set(rows.map((j) => j.id));
  return {
    ids,
    set,
    elsewhere: ids.filter((id) => !onPage.has(id)).length,
    toggle,
    togglePage,
    clear: () => write([]),
    remove: (gone: string[]) => write(withIds(ids, gone, false)),
  };
}
