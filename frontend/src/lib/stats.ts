/** Turns the stats API's rows into chart series. Pure, so it can be checked without a browser. */
import type { StatsRow } from './api';

export const METRICS = [
  { key: 'vcpu_seconds', title: 'vCPU-seconds' },
  { key: 'memory_seconds', title: 'Memory-seconds (MiB·s)' },
  { key: 'instance_seconds', title: 'Instance-seconds' },
  { key: 'job_count', title: 'Jobs' },
] as const;
export type MetricKey = (typeof METRICS)[number]['key'];
export type GroupBy = 'queue' | 'status';

export interface Pivot {
  /** One point per bucket: { timestamp, [series]: value }. */
  points: Array<Record<string, number>>;
  series: string[];
}

/** Pivots rows into one point per time bucket and one series per queue or status; empty buckets are 0. */
export function pivot(rows: StatsRow[], metric: MetricKey, groupBy: GroupBy): Pivot {
  const seriesSet = new Set<string>();
  const byTime = new Map<number, Record<string, number>>();
  for (const r of rows) {
    const key = groupBy === 'queue' ? r.job_queue : r.status;
    seriesSet.add(key);
    const point = byTime.get(r.timestamp) ?? { timestamp: r.timestamp };
    point[key] = (point[key] ?? 0) + Number(r[metric]);
    byTime.set(r.timestamp, point);
  }
  const series = [...seriesSet].sort();
  const times = [...byTime.keys()].sort((a, b) => a - b);
  const interval = rows[0]?.interval ?? 0;
  const points: Array<Record<string, number>> = [];
  if (times.length && interval > 0) {
    for (let t = times[0]; t <= times[times.length - 1]; t += interval) points.push(byTime.get(t) ?? { timestamp: t });
  } else {
    for (const t of times) points.push(byTime.get(t)!);
  }
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

export const STATS_RANGES = [
  { key: '1h', seconds: 3600 },
  { key: '4h', seconds: 4 * 3600 },
  { key: '1d', seconds: 86400 },
  { key: '3d', seconds: 3 * 86400 },
  { key: '7d', seconds: 7 * 86400 },
  { key: '30d', seconds: 30 * 86400 },
  { key: '90d', seconds: 90 * 86400 },
] as const;
