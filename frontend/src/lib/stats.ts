/**
 * The Stats page's figures from the stats API's rows: chart series per metric
 * and the table of totals and averages (the Go original's columns). Pure, so
 * it can be checked without a browser.
 */
import type { StatsRow } from './api';

/**
 * The original's metric picker: "Avg vCPUs running" (its default) and "Avg
 * memory running" are a bucket's vCPU- or memory-seconds over its length —
 * how many vCPUs (GiB) the queue kept busy on average.
 */
export const METRICS = [
  { key: 'avg_vcpu', title: 'Avg vCPUs running', unit: 'vCPUs' },
  { key: 'avg_memory', title: 'Avg memory running', unit: 'GiB' },
  { key: 'instance_seconds', title: 'Total job time (on instances)', unit: 'hours' },
  { key: 'vcpu_seconds', title: 'Total vCPU time', unit: 'vCPU-hours' },
  { key: 'memory_seconds', title: 'Total memory time', unit: 'GiB-hours' },
  { key: 'job_count', title: 'Jobs', unit: 'jobs' },
] as const;
export type MetricKey = (typeof METRICS)[number]['key'];
export const DEFAULT_METRIC: MetricKey = 'avg_vcpu';
export type GroupBy = 'queue' | 'status';
export type GraphType = 'area' | 'bar';

const MIB_PER_GIB = 1024;

/** A row's value for a metric, in the metric's unit. */
export function metricValue(r: StatsRow, metric: MetricKey): number {
  switch (metric) {
    case 'avg_vcpu':
      return Number(r.vcpu_seconds) / r.interval;
    case 'avg_memory':
      return Number(r.memory_seconds) / r.interval / MIB_PER_GIB;
    case 'instance_seconds':
      return Number(r.instance_seconds) / 3600;
    case 'vcpu_seconds':
      return Number(r.vcpu_seconds) / 3600;
    case 'memory_seconds':
      return Number(r.memory_seconds) / MIB_PER_GIB / 3600;
    case 'job_count':
      return Number(r.job_count);
  }
}

export interface Pivot {
  /** One point per bucket: { timestamp, [series]: value }. */
  points: Array<Record<string, number>>;
  series: string[];
}

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The API's bucket width for a window (SPEC section 6): 5 min (<1 h), 15 min (<4 h), 1 h (<3 d), 6 h (<30 d), 1 day. */
export function statsInterval(startUnix: number, endUnix: number): number {
  const span = endUnix - startUnix;
  if (span < HOUR) return 5 * MINUTE;
  if (span < 4 * HOUR) return 15 * MINUTE;
  if (span < 3 * DAY) return HOUR;
  if (span < 30 * DAY) return 6 * HOUR;
  return DAY;
}

/**
 * Pivots rows into one point per time bucket and one series per queue or
 * status. Every bucket of the window is there (the API's buckets are
 * epoch-aligned), empty ones as 0, so the x axis is a real time axis: 90 days
 * with jobs on one of them draw 90 buckets, not one bar.
 */
export function pivot(rows: StatsRow[], metric: MetricKey, groupBy: GroupBy, window: { start: number; end: number }): Pivot {
  const seriesSet = new Set<string>();
  const byTime = new Map<number, Record<string, number>>();
  for (const r of rows) {
    const key = groupBy === 'queue' ? r.job_queue : r.status;
    seriesSet.add(key);
    const point = byTime.get(r.timestamp) ?? { timestamp: r.timestamp };
    point[key] = (point[key] ?? 0) + metricValue(r, metric);
    byTime.set(r.timestamp, point);
  }
  const series = [...seriesSet].sort();
  const interval = rows[0]?.interval ?? statsInterval(window.start, window.end);
  const points: Array<Record<string, number>> = [];
  for (let t = Math.floor(window.start / interval) * interval; t < window.end; t += interval) points.push(byTime.get(t) ?? { timestamp: t });
  for (const p of points) for (const s of series) p[s] ??= 0;
  return { points, series };
}

export interface TotalRow {
  job_queue: string;
  status: string;
  vcpu_seconds: number;
  memory_seconds: number;
  instance_seconds: number;
  job_count: number;
}

/** Sums per queue and status, sorted by queue then status. */
export function totals(rows: StatsRow[]): TotalRow[] {
  const m = new Map<string, TotalRow>();
  for (const r of rows) {
    const k = `${r.job_queue}\u0000${r.status}`;
    const t = m.get(k) ?? { job_queue: r.job_queue, status: r.status, vcpu_seconds: 0, memory_seconds: 0, instance_seconds: 0, job_count: 0 };
    t.vcpu_seconds += Number(r.vcpu_seconds);
    t.memory_seconds += Number(r.memory_seconds);
    t.instance_seconds += Number(r.instance_seconds);
    t.job_count += Number(r.job_count);
    m.set(k, t);
  }
  return [...m.values()].sort((a, b) => a.job_queue.localeCompare(b.job_queue) || a.status.localeCompare(b.status));
}

/** Everything summed: the table's Total row. */
export function grandTotal(rows: TotalRow[]): TotalRow {
  const t: TotalRow = { job_queue: 'Total', status: '', vcpu_seconds: 0, memory_seconds: 0, instance_seconds: 0, job_count: 0 };
  for (const r of rows) {
    t.vcpu_seconds += r.vcpu_seconds;
    t.memory_seconds += r.memory_seconds;
    t.instance_seconds += r.instance_seconds;
    t.job_count += r.job_count;
  }
  return t;
}

/** A table row's derived figures over a window of `windowSeconds` (the original's columns). */
export interface TableFigures {
  jobs: number;
  vcpuHours: number;
  memoryGibHours: number;
  instanceHours: number;
  /** vCPUs a job asked for, weighted by how long it ran. */
  avgJobVcpus: number | null;
  /** GiB a job asked for, weighted by how long it ran. */
  avgJobMemoryGib: number | null;
  /** vCPUs busy on average over the window. */
  avgVcpusRunning: number;
  /** GiB busy on average over the window. */
  avgMemoryRunningGib: number;
  jobsPerHour: number;
}

export function tableFigures(t: TotalRow, windowSeconds: number): TableFigures {
  // vcpu_seconds / memory_seconds over the summed runtime would be exact; without the runtime in the
  // answer, instance-seconds stand in for it (exact where every job ran on an instance).
  const runtime = t.instance_seconds;
  return {
    jobs: t.job_count,
    vcpuHours: t.vcpu_seconds / 3600,
    memoryGibHours: t.memory_seconds / MIB_PER_GIB / 3600,
    instanceHours: t.instance_seconds / 3600,
    avgJobVcpus: runtime > 0 ? t.vcpu_seconds / runtime : null,
    avgJobMemoryGib: runtime > 0 ? t.memory_seconds / runtime / MIB_PER_GIB : null,
    avgVcpusRunning: windowSeconds > 0 ? t.vcpu_seconds / windowSeconds : 0,
    avgMemoryRunningGib: windowSeconds > 0 ? t.memory_seconds / windowSeconds / MIB_PER_GIB : 0,
    jobsPerHour: windowSeconds > 0 ? (t.job_count / windowSeconds) * 3600 : 0,
  };
}

export const TABLE_COLUMNS: { key: keyof TableFigures; title: string; digits: number }[] = [
  { key: 'jobs', title: 'Jobs', digits: 0 },
  { key: 'jobsPerHour', title: 'Job rate (/hour)', digits: 1 },
  { key: 'avgVcpusRunning', title: 'Avg vCPUs running', digits: 2 },
  { key: 'avgMemoryRunningGib', title: 'Avg memory running (GiB)', digits: 2 },
  { key: 'vcpuHours', title: 'vCPU-hours', digits: 1 },
  { key: 'memoryGibHours', title: 'Memory (GiB-hours)', digits: 1 },
  { key: 'instanceHours', title: 'Job time on instances (hours)', digits: 1 },
  { key: 'avgJobVcpus', title: 'Avg job vCPUs', digits: 2 },
  { key: 'avgJobMemoryGib', title: 'Avg job memory (GiB)', digits: 2 },
];

function csvField(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The table as CSV (RFC 4180): what the page shows, unrounded. */
export function tableCsv(rows: TotalRow[], windowSeconds: number): string {
  const header = ['queue', 'status', ...TABLE_COLUMNS.map((c) => c.title)];
  const line = (r: TotalRow) => {
    const f = tableFigures(r, windowSeconds);
    return [r.job_queue, r.status, ...TABLE_COLUMNS.map((c) => (f[c.key] === null ? '' : String(f[c.key])))];
  };
  return [header, ...rows.map(line), line(grandTotal(rows))].map((cells) => cells.map(csvField).join(',')).join('\r\n') + '\r\n';
}

export const STATS_RANGES = [
  { key: '1h', seconds: 3600 },
  { key: '4h', seconds: 4 * 3600 },
  { key: '1d', seconds: 86400 },
  { key: '3d', seconds: 3 * 86400 },
  { key: '7d', seconds: 7 * 86400 },
  { key: '30d', seconds: 30 * 86400 },
  { key: '90d', seconds: 90 * 86400 },
] as const;
export const DEFAULT_STATS_RANGE = '7d';
