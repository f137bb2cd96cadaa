/**
 * A job's CloudWatch log, however long: read in chunks through the API's
 * forward tokens (following a running job asks only for events after the last
 * token), drawn virtually (only the lines on screen are in the DOM, so
 * 1,000,000 lines scroll smoothly), with a line filter, a search that
 * highlights every match with Prev/Next, CloudWatch timestamps on demand and
 * a link to each line (#L123). A node of a multi-node job (`node`) has a log of
 * its own, read the same way.
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api } from '../lib/api';
import { LogBuffer, filterLines, findLines, lineFromHash, splitMatches } from '../lib/logBuffer';
import { formatUnixMs } from '../lib/format';
import { useTimeZone } from '../lib/useTimeZone';
import { Empty, ErrorBox, Loading } from './States';

const POLL_MS = 3000;
const LINE_PX = 18;
/** Browsers cap an element's height (~33M px in Chromium); past this the scroll maps onto lines proportionally. */
const MAX_SCROLL_PX = 15_000_000;
const OVERSCAN = 20;
const SEARCH_DEBOUNCE_MS = 150;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

interface LogState {
  buffer: LogBuffer;
  /** Bumped on every chunk appended, so views re-render. */
  version: number;
  loading: boolean;
  /** True while more of the log is being read before it is caught up. */
  reading: boolean;
  error: unknown;
  reload(): void;
}

/** Reads the whole log chunk by chunk, then (while the job runs and `follow` is on) polls for new events. */
function useLog(id: string, node: number | null, running: boolean, follow: boolean, timestamps: boolean): LogState {
  const [buffer, setBuffer] = useState(() => new LogBuffer(timestamps));
  const [version, setVersion] = useState(0);
  const [loading, setLoading] = useState(true);
  const [reading, setReading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [reloads, setReloads] = useState(0);
  const live = useRef({ running, follow });
  live.current = { running, follow };

  useEffect(() => {
    const b = new LogBuffer(timestamps);
    const ctl = new AbortController();
    setBuffer(b);
    setVersion(0);
    setLoading(true);
    setReading(true);
    setError(null);
    let wasRunning = live.current.running;
    const drain = async () => {
      for (;;) {
        const chunk = await api.logChunk(id, b.token, timestamps, ctl.signal, node);
        if (ctl.signal.aborted) return;
        b.append(chunk.text, chunk.nextToken);
        if (chunk.text) setVersion((v) => v + 1);
        setLoading(false);
        if (!chunk.more) return;
      }
    };
    void (async () => {
      try {
        await drain();
        setReading(false);
        while (!ctl.signal.aborted) {
          await sleep(POLL_MS, ctl.signal);
          if (ctl.signal.aborted) return;
          const now = live.current;
          if (now.running && now.follow) await drain();
          else if (wasRunning && !now.running) await drain(); // the last lines arrive after the last poll
          wasRunning = now.running;
        }
      } catch (err) {
        if (ctl.signal.aborted) return;
        setError(err);
        setLoading(false);
        setReading(false);
      }
    })();
    return () => ctl.abort();
  }, [id, node, timestamps, reloads]);

  const reload = useCallback(() => setReloads((n) => n + 1), []);
  return { buffer, version, loading, reading, error, reload };
}

function downloadText(text: string, filename: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The value `delay` ms after it last changed. */
function useDebounced<T>(value: T, delay: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), delay);
    return () => clearTimeout(t);
  }, [value, delay]);
  return v;
}

/** Which node of a multi-node job the viewer reads, and whether it is the main node. */
export interface LogNode {
  index: number;
  main: boolean;
}

export function LogViewer({ id, running, node = null }: { id: string; running: boolean; node?: LogNode | null }) {
  const [follow, setFollow] = useState(true);
  const [timestamps, setTimestamps] = useState(false);
  const log = useLog(id, node?.index ?? null, running, follow, timestamps);
  const { buffer, version } = log;
  const lines = buffer.lines;

  const [filterInput, setFilterInput] = useState('');
  const [searchInput, setSearchInput] = useState('');
  const filter = useDebounced(filterInput, SEARCH_DEBOUNCE_MS);
  const search = useDebounced(searchInput, SEARCH_DEBOUNCE_MS);

  // The filter's view: indices of the matching lines (null = every line).
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const view = useMemo(() => (filter ? filterLines(lines, filter) : null), [lines, filter, version]);
  const viewLength = view ? view.length : lines.length;
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const matches = useMemo(() => (search ? findLines(lines, view, search) : []), [lines, view, search, version]);
  const [current, setCurrent] = useState(-1);

  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(400);
  const [target, setTarget] = useState<number | null>(() => lineFromHash(window.location.hash));
  const pendingTarget = useRef<number | null>(target);

  const fullPx = viewLength * LINE_PX;
  const scale = fullPx > MAX_SCROLL_PX ? MAX_SCROLL_PX / fullPx : 1;
  const spacerPx = Math.max(fullPx * scale, 0);

  const scrollToPosition = useCallback(
    (p: number) => {
      const el = box.current;
      if (!el) return;
      el.scrollTop = Math.max(0, p * LINE_PX * scale - el.clientHeight / 2 + LINE_PX / 2);
      setScrollTop(el.scrollTop);
    },
    [scale],
  );

  // Follow: stay at the bottom as lines arrive (unless a line is targeted or searched).
  useLayoutEffect(() => {
    const el = box.current;
    if (!el || !follow || !running || target !== null || search) return;
    el.scrollTop = el.scrollHeight;
    setScrollTop(el.scrollTop);
  }, [version, follow, running, target, search, viewLength]);

  // A #L123 link: go to that line once it has been read.
  useLayoutEffect(() => {
    const want = pendingTarget.current;
    if (want === null || view || want > lines.length) return;
    pendingTarget.current = null;
    scrollToPosition(want - 1);
  }, [version, lines.length, view, scrollToPosition]);
  useEffect(() => {
    const onHash = () => {
      const line = lineFromHash(window.location.hash);
      setTarget(line);
      pendingTarget.current = line;
      if (line !== null && line <= lines.length && !view) {
        pendingTarget.current = null;
        scrollToPosition(line - 1);
      }
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [lines.length, view, scrollToPosition]);

  // A new search starts at its first match.
  useEffect(() => {
    if (!search || matches.length === 0) {
      setCurrent(-1);
      return;
    }
    setCurrent((c) => (c >= 0 && c < matches.length ? c : 0));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [search, matches.length === 0, view]);
  const lastJumped = useRef<string>('');
  useEffect(() => {
    const key = `${search}|${current}|${filter}`;
    if (current < 0 || current >= matches.length || lastJumped.current === key) return;
    lastJumped.current = key;
    scrollToPosition(matches[current]);
  }, [current, matches, search, filter, scrollToPosition]);

  const step = (d: 1 | -1) => {
    if (matches.length === 0) return;
    setCurrent((c) => (c + d + matches.length) % matches.length);
  };

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    setHeight(el.clientHeight);
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, [log.loading]);

  const zone = useTimeZone();
  const currentPos = current >= 0 ? matches[current] : -1;
  const first = Math.floor(scrollTop / (LINE_PX * scale));
  const start = Math.max(0, first - OVERSCAN);
  const end = Math.min(viewLength, first + Math.ceil(height / LINE_PX) + OVERSCAN);
  // Where line `first` is drawn: exactly first*LINE_PX unscaled; at the scroll position when scaled.
  const firstTop = scale === 1 ? first * LINE_PX : scrollTop - (scrollTop / (LINE_PX * scale) - first) * LINE_PX;
  const gutterCh = String(lines.length).length + 1;
  const matchSet = useMemo(() => new Set(matches), [matches]);

  const rows: ReactNode[] = [];
  for (let p = start; p < end; p++) {
    const i = view ? view[p] : p;
    const line = lines[i];
    const n = i + 1;
    const hit = search && matchSet.has(p);
    const cls = ['log-line', p === currentPos ? 'current' : '', n === target ? 'target' : ''].filter(Boolean).join(' ');
    rows.push(
      <div key={p} className={cls} data-line={n}>
        <a className="ln" href={`#L${n}`} style={{ width: `${gutterCh}ch` }} aria-label={`Line ${n}`}>
          {n}
        </a>
        {buffer.times && <span className="ts">{formatUnixMs(buffer.times[i], zone, false)}</span>}
        <span className="lt">
          {hit
            ? splitMatches(line, search).map((part, k) => (part.match ? <mark key={k}>{part.text}</mark> : part.text))
            : line}
        </span>
      </div>,
    );
  }

  const total = lines.length;
  return (
    <div className="log-panel">
      <div className="log-head">
        <h2>
          Log
          {node && (
            <span className="muted" data-testid="log-node">
              {' '}
              · node #{node.index}
              {node.main ? ' (main)' : ''}
            </span>
          )}
        </h2>
        <span className="muted" data-testid="log-count">
          {!log.loading && `${total.toLocaleString('en')} line${total === 1 ? '' : 's'}${log.reading ? '…' : ''}`}
        </span>
        <span className="spacer" />
        <input
          type="search"
          className="log-filter"
          placeholder="Filter lines"
          aria-label="Filter log lines"
          value={filterInput}
          onChange={(e) => setFilterInput(e.target.value)}
        />
        {filter && (
          <span className="muted" data-testid="log-matches">
            {viewLength.toLocaleString('en')} matching
          </span>
        )}
        <span className="log-search">
          <input
            type="search"
            className="log-filter"
            placeholder="Search"
            aria-label="Search the log"
            value={searchInput}
            onChange={(e) => setSearchInput(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                step(e.shiftKey ? -1 : 1);
              }
            }}
          />
          <button type="button" onClick={() => step(-1)} disabled={matches.length === 0} aria-label="Previous match" data-testid="search-prev">
            ↑
          </button>
          <button type="button" onClick={() => step(1)} disabled={matches.length === 0} aria-label="Next match" data-testid="search-next">
            ↓
          </button>
          {search && (
            <span className="muted" data-testid="search-count">
              {matches.length === 0 ? 'no match' : `${(current + 1).toLocaleString('en')} of ${matches.length.toLocaleString('en')}`}
            </span>
          )}
        </span>
        <label className="inline toggle">
          <input type="checkbox" checked={timestamps} onChange={(e) => setTimestamps(e.target.checked)} data-testid="log-timestamps" /> Times
        </label>
        {running && (
          <label className="inline toggle">
            <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} data-testid="log-follow" /> Follow
          </label>
        )}
        <button type="button" onClick={log.reload} disabled={log.reading}>
          {log.reading ? 'Loading…' : 'Reload'}
        </button>
        <button type="button" disabled={total === 0} onClick={() => downloadText(buffer.text(), node ? `${id}-node-${node.index}.log` : `${id}.log`)}>
          Download
        </button>
      </div>
      {log.loading ? (
        <Loading what="log" />
      ) : log.error ? (
        <ErrorBox error={log.error} retry={log.reload} />
      ) : total === 0 ? (
        <Empty title="No log yet">
          {running
            ? `The ${node ? 'node' : 'job'} has written nothing yet; this follows it as it runs.`
            : `This ${node ? 'node' : 'job'} wrote no log, or its log stream is gone.`}
        </Empty>
      ) : viewLength === 0 ? (
        <Empty title="No line matches">No line of the log contains “{filter}”.</Empty>
      ) : null}
      <div
        className="log"
        ref={box}
        data-testid="job-log"
        hidden={log.loading || !!log.error || viewLength === 0}
        onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
        tabIndex={0}
      >
        <div className="log-spacer" style={{ height: `${spacerPx}px` }}>
          <div className="log-rows" style={{ transform: `translateY(${firstTop - (first - start) * LINE_PX}px)` }}>
            {rows}
          </div>
        </div>
      </div>
    </div>
  );
}
