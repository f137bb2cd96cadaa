import { useEffect, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api, type StatsRow } from '../lib/api';
import { JOB_STATUS_OPTIONS } from '../lib/statuses';
import { METRICS, STATS_RANGES, pivot, totals, type GroupBy, type MetricKey } from '../lib/stats';
import { formatNumber } from '../lib/format';
import { MultiSelect } from '../components/MultiSelect';
import { Empty, ErrorBox, Loading } from '../components/States';

const PALETTE = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d'];
const STATUS_COLOURS: Record<string, string> = {
  SUBMITTED: '#94a3b8',
  PENDING: '#a78bfa',
  RUNNABLE: '#f59e0b',
  STARTING: '#38bdf8',
  RUNNING: '#2563eb',
  SUCCEEDED: '#16a34a',
  FAILED: '#dc2626',
  GONE: '#6b7280',
};

function colour(series: string, index: number, groupBy: GroupBy): string {
  return (groupBy === 'status' && STATUS_COLOURS[series]) || PALETTE[index % PALETTE.length];
}

function tickTime(unix: number, rangeSeconds: number): string {
  const d = new Date(unix * 1000);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  return rangeSeconds <= 86400 ? hm : `${d.getMonth() + 1}/${d.getDate()} ${hm}`;
}

function fixedWindow(params: URLSearchParams): { start: number; end: number } | null {
  const start = Number(params.get('from'));
  const end = Number(params.get('to'));
  return params.has('from') && params.has('to') && Number.isFinite(start) && Number.isFinite(end) && end > start ? { start, end } : null;
}

export default function StatsPage() {
  const [params, setParams] = useSearchParams();
  const rangeKey = STATS_RANGES.find((r) => r.key === params.get('range'))?.key ?? '1d';
  const range = STATS_RANGES.find((r) => r.key === rangeKey)!;
  const groupBy: GroupBy = params.get('group') === 'status' ? 'status' : 'queue';
  const queues = params.get('queue')?.split(',').filter(Boolean) ?? [];
  const statuses = params.get('status')?.split(',').filter(Boolean) ?? [];
  const set = (k: string, v: string | null) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next);
  };
  const selectRange = (key: string) => {
    const next = new URLSearchParams(params);
    next.set('range', key);
    next.delete('from');
    next.delete('to');
    setParams(next);
  };

  // A fixed window from the URL (?from=&to=, unix seconds) or the last `range`, ending at the
  // next whole minute so the query key is stable between renders.
  const fixed = fixedWindow(params);
  const end = fixed?.end ?? Math.ceil(Date.now() / 60_000) * 60;
  const start = fixed?.start ?? end - range.seconds;
  const stats = useQuery({
    queryKey: ['stats', start, end, queues, statuses],
    queryFn: ({ signal }) => api.stats({ start, end, queues, statuses }, signal),
    placeholderData: keepPreviousData,
  });
  const activeQueues = useQuery({ queryKey: ['queues', 'active'], queryFn: ({ signal }) => api.activeQueues(signal) });

  return (
    <section className="stats-page">
      <div className="toolbar">
        <h1>Stats</h1>
        <div className="segmented" role="group" aria-label="Time range">
          {STATS_RANGES.map((r) => (
            <button key={r.key} type="button" className={!fixed && r.key === rangeKey ? 'on' : undefined} onClick={() => selectRange(r.key)}>
              {r.key}
            </button>
          ))}
        </div>
        <CustomRange
          start={start}
          end={end}
          onApply={(from, to) => {
            const next = new URLSearchParams(params);
            next.set('from', String(from));
            next.set('to', String(to));
            setParams(next);
          }}
        />
        <div className="segmented" role="group" aria-label="Group by">
          {(['queue', 'status'] as const).map((g) => (
            <button key={g} type="button" className={g === groupBy ? 'on' : undefined} onClick={() => set('group', g === 'queue' ? null : g)}>
              by {g}
            </button>
          ))}
        </div>
        <MultiSelect label="Queue" options={activeQueues.data ?? []} selected={queues} onChange={(v) => set('queue', v.join(',') || null)} />
        <MultiSelect label="Status" options={JOB_STATUS_OPTIONS} selected={statuses} onChange={(v) => set('status', v.join(',') || null)} />
        {stats.isFetching && <span className="muted">loading…</span>}
      </div>
      <p className="muted">
        Usage of jobs by the time they started running,{' '}
        {fixed ? `from ${new Date(start * 1000).toLocaleString()} to ${new Date(end * 1000).toLocaleString()}` : `over the last ${range.key}`}.
      </p>
      <StatsBody rows={stats.data} error={stats.error} pending={stats.isPending} retry={() => void stats.refetch()} groupBy={groupBy} rangeSeconds={end - start} />
    </section>
  );
}

/** `datetime-local` works in local time without seconds: "2026-11-27T01:05". */
function toLocalInput(unix: number): string {
  const d = new Date(unix * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A from/to pair for any window; applied to the URL so it can be shared. */
function CustomRange(props: { start: number; end: number; onApply: (from: number, to: number) => void }) {
  const [from, setFrom] = useState(toLocalInput(props.start));
  const [to, setTo] = useState(toLocalInput(props.end));
  useEffect(() => {
    setFrom(toLocalInput(props.start));
    setTo(toLocalInput(props.end));
  }, [props.start, props.end]);
  const fromUnix = Math.floor(new Date(from).getTime() / 1000);
  const toUnix = Math.floor(new Date(to).getTime() / 1000);
  const valid = Number.isFinite(fromUnix) && Number.isFinite(toUnix) && toUnix > fromUnix;
  return (
    <form
      className="inline custom-range"
      onSubmit={(e) => {
        e.preventDefault();
        if (valid) props.onApply(fromUnix, toUnix);
      }}
    >
      <input type="datetime-local" aria-label="From" value={from} onChange={(e) => setFrom(e.target.value)} />
      <span className="muted">to</span>
      <input type="datetime-local" aria-label="To" value={to} onChange={(e) => setTo(e.target.value)} />
      <button type="submit" disabled={!valid} title={valid ? 'Show this window' : 'The end must be after the start'}>
        Apply
      </button>
    </form>
  );
}

function StatsBody(props: { rows?: StatsRow[]; error: unknown; pending: boolean; retry: () => void; groupBy: GroupBy; rangeSeconds: number }) {
  const { rows, groupBy, rangeSeconds } = props;
  if (props.pending) return <Loading what="stats" />;
  if (!rows) return <ErrorBox error={props.error} retry={props.retry} />;
  if (rows.length === 0) return <Empty title="No jobs ran in this range">Pick a longer range or fewer filters.</Empty>;
  return (
    <>
      <div className="charts">
        {METRICS.map((m) => (
          <MetricChart key={m.key} rows={rows} metric={m.key} title={m.title} groupBy={groupBy} rangeSeconds={rangeSeconds} />
        ))}
      </div>
      <TotalsTable rows={rows} />
    </>
  );
}

function MetricChart(props: { rows: StatsRow[]; metric: MetricKey; title: string; groupBy: GroupBy; rangeSeconds: number }) {
  const { points, series } = useMemo(() => pivot(props.rows, props.metric, props.groupBy), [props.rows, props.metric, props.groupBy]);
  return (
    <figure className="chart" data-testid={`chart-${props.metric}`}>
      <figcaption>{props.title}</figcaption>
      <ResponsiveContainer width="100%" height={240}>
        <BarChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="timestamp" tickFormatter={(t: number) => tickTime(t, props.rangeSeconds)} minTickGap={24} fontSize={11} />
          <YAxis tickFormatter={(v: number) => formatNumber(v)} width={48} fontSize={11} />
          <Tooltip labelFormatter={(t) => new Date(Number(t) * 1000).toLocaleString()} formatter={(v) => formatNumber(Number(v))} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {series.map((s, i) => (
            <Bar key={s} dataKey={s} stackId="a" fill={colour(s, i, props.groupBy)} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}

function TotalsTable({ rows }: { rows: StatsRow[] }) {
  const t = useMemo(() => totals(rows), [rows]);
  return (
    <table className="jobs-table totals" data-testid="stats-totals">
      <thead>
        <tr>
          <th>Queue</th>
          <th>Status</th>
          <th className="num">Jobs</th>
          <th className="num">vCPU-seconds</th>
          <th className="num">Memory-seconds</th>
          <th className="num">Instance-seconds</th>
        </tr>
      </thead>
      <tbody>
        {t.map((r) => (
          <tr key={`${r.job_queue}/${r.status}`}>
            <td>{r.job_queue}</td>
            <td>{r.status}</td>
            <td className="num">{formatNumber(r.job_count)}</td>
            <td className="num">{formatNumber(r.vcpu_seconds)}</td>
            <td className="num">{formatNumber(r.memory_seconds)}</td>
            <td className="num">{formatNumber(r.instance_seconds)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
