/**
 * The Stats page's state in the URL, under the Go original UI's names where
 * it had them (`startDate`, `endDate` in unix seconds, `statsMetric`,
 * `graphType`, `selectedQueue`, `selectedStatus`), so its bookmarks open the
 * same view. `range` (a window ending now) and `group` are ours; this UI's
 * earlier `from`/`to`, `queue`, `status` are still read.
 */
import { DEFAULT_METRIC, DEFAULT_STATS_RANGE, METRICS, STATS_RANGES, type GraphType, type GroupBy, type MetricKey } from './stats';

export interface StatsPageState {
  /** A fixed window (unix seconds), or null for the last `range`. */
  fixed: { start: number; end: number } | null;
  range: (typeof STATS_RANGES)[number]['key'];
  metric: MetricKey;
  graph: GraphType;
  group: GroupBy;
  queues: string[];
  statuses: string[];
}

function list(v: string | null): string[] {
  if (!v || v === 'all') return [];
  return [...new Set(v.split(',').map((s) => s.trim()).filter(Boolean))];
}

function unix(v: string | null): number | null {
  if (v === null || !/^\d{1,10}$/.test(v)) return null;
  return Number(v);
}

export function readStatsState(p: URLSearchParams): StatsPageState {
  const start = unix(p.get('startDate') ?? p.get('from'));
  const end = unix(p.get('endDate') ?? p.get('to'));
  const range = STATS_RANGES.find((r) => r.key === p.get('range'))?.key ?? DEFAULT_STATS_RANGE;
  const metric = METRICS.find((m) => m.key === p.get('statsMetric'))?.key ?? DEFAULT_METRIC;
  return {
    // The original wrote both dates; one alone is read as a window of the range's length.
    fixed:
      start !== null && end !== null && end > start
        ? { start, end }
        : start !== null && end === null
          ? { start, end: start + STATS_RANGES.find((r) => r.key === range)!.seconds }
          : null,
    range,
    metric,
    graph: p.get('graphType') === 'bar' ? 'bar' : 'area',
    group: p.get('group') === 'status' ? 'status' : 'queue',
    queues: list(p.get('selectedQueue') ?? p.get('queue')),
    statuses: list(p.get('selectedStatus') ?? p.get('status')).map((s) => s.toUpperCase()),
  };
}

export function writeStatsState(s: StatsPageState): URLSearchParams {
  const p = new URLSearchParams();
  if (s.fixed) {
    p.set('startDate', String(s.fixed.start));
    p.set('endDate', String(s.fixed.end));
  } else if (s.range !== DEFAULT_STATS_RANGE) p.set('range', s.range);
  if (s.metric !== DEFAULT_METRIC) p.set('statsMetric', s.metric);
  if (s.graph !== 'area') p.set('graphType', s.graph);
  if (s.group !== 'queue') p.set('group', s.group);
  if (s.queues.length) p.set('selectedQueue', s.queues.join(','));
  if (s.statuses.length) p.set('selectedStatus', s.statuses.join(','));
  return p;
}

/** The window to ask for: the fixed one, or the last `range` up to the next whole minute (a stable query key). */
export function statsWindow(s: StatsPageState, nowMs = Date.now()): { start: number; end: number } {
  if (s.fixed) return s.fixed;
  const end = Math.ceil(nowMs / 60_000) * 60;
  return { start: end - STATS_RANGES.find((r) => r.key === s.range)!.seconds, end };
}
