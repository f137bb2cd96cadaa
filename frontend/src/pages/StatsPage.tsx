import { useEffect, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Area, AreaChart, Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api, type StatsRow } from '../lib/api';
import { STATS_STATUS_OPTIONS } from '../lib/statuses';
import {
  METRICS,
  STATS_RANGES,
  TABLE_COLUMNS,
  grandTotal,
  pivot,
  tableCsv,
  tableFigures,
  totals,
  type GroupBy,
  type MetricKey,
  type TotalRow,
} from '../lib/stats';
import { readStatsState, statsWindow, writeStatsState, type StatsPageState } from '../lib/statsUrl';
import { formatNumber, formatUnixMs, parseTime, zoneName, type TimeZoneMode } from '../lib/format';
import { useTimeZone } from '../lib/useTimeZone';
import { MultiSelect } from '../components/MultiSelect';
import { PlainStatusBadge } from '../components/StatusBadge';
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

/** 24-hour ticks in the chosen zone: the clock within a day, date and clock within a week, the date beyond. */
function tickTime(unix: number, spanSeconds: number, zone: TimeZoneMode): string {
  const full = formatUnixMs(unix * 1000, zone, false, false); // "2026-11-27 00:45"
  return spanSeconds <= 86400 ? full.slice(11) : spanSeconds <= 7 * 86400 ? full.slice(5) : full.slice(5, 10);
}

export default function StatsPage() {
  const [params, setParams] = useSearchParams();
  const state = useMemo(() => readStatsState(params), [params]);
  const update = (patch: Partial<StatsPageState>) => setParams(writeStatsState({ ...state, ...patch }));
  const zone = useTimeZone();
  const window = statsWindow(state);
  const stats = useQuery({
    queryKey: ['stats', window.start, window.end, state.queues, state.statuses],
    queryFn: ({ signal }) => api.stats({ ...window, queues: state.queues, statuses: state.statuses }, signal),
    placeholderData: keepPreviousData,
  });
  const activeQueues = useQuery({ queryKey: ['queues', 'active'], queryFn: ({ signal }) => api.activeQueues(signal) });
  const metric = METRICS.find((m) => m.key === state.metric)!;

  return (
    <section className="stats-page">
      <div className="toolbar">
        <h1>Stats</h1>
        <label className="inline">
          Metric
          <select aria-label="Metric" value={state.metric} onChange={(e) => update({ metric: e.target.value as MetricKey })}>
            {METRICS.map((m) => (
              <option key={m.key} value={m.key}>
                {m.title}
              </option>
            ))}
          </select>
        </label>
        <label className="inline">
          Graph
          <select aria-label="Graph" value={state.graph} onChange={(e) => update({ graph: e.target.value === 'bar' ? 'bar' : 'area' })}>
            <option value="area">Stacked area</option>
            <option value="bar">Stacked bars</option>
          </select>
        </label>
        <div className="segmented" role="group" aria-label="Group by">
          {(['queue', 'status'] as const).map((g) => (
            <button key={g} type="button" className={g === state.group ? 'on' : undefined} onClick={() => update({ group: g })}>
              by {g}
            </button>
          ))}
        </div>
        <MultiSelect label="Queue" options={activeQueues.data ?? []} selected={state.queues} onChange={(v) => update({ queues: v })} />
        <MultiSelect label="Status" options={STATS_STATUS_OPTIONS} selected={state.statuses} onChange={(v) => update({ statuses: v })} />
      </div>
      <div className="toolbar">
        <div className="segmented" role="group" aria-label="Time range">
          {STATS_RANGES.map((r) => (
            <button key={r.key} type="button" className={!state.fixed && r.key === state.range ? 'on' : undefined} onClick={() => update({ range: r.key, fixed: null })}>
              {r.key}
            </button>
          ))}
        </div>
        <WindowPicker window={window} zone={zone} onApply={(start, end) => update({ fixed: { start, end } })} />
        {stats.isFetching && <span className="muted">loading…</span>}
      </div>
      <p className="muted" data-testid="stats-window">
        {metric.title} of the jobs that started running from {formatUnixMs(window.start * 1000, zone, true, false)} to{' '}
        {formatUnixMs(window.end * 1000, zone, true, false)}.
      </p>
      {stats.isPending ? (
        <Loading what="stats" />
      ) : !stats.data ? (
        <ErrorBox error={stats.error} retry={() => void stats.refetch()} />
      ) : stats.data.length === 0 ? (
        <Empty title="No jobs ran in this window">Pick a longer range or fewer filters.</Empty>
      ) : (
        <>
          <MetricChart rows={stats.data} state={state} window={window} zone={zone} />
          <StatsTable rows={stats.data} windowSeconds={window.end - window.start} window={window} zone={zone} />
        </>
      )}
    </section>
  );
}

/** Start and end typed as 24-hour times in the zone the page shows; applied to the URL so it can be shared. */
function WindowPicker(props: { window: { start: number; end: number }; zone: TimeZoneMode; onApply: (start: number, end: number) => void }) {
  const show = (unix: number) => formatUnixMs(unix * 1000, props.zone, false, false);
  const [from, setFrom] = useState(show(props.window.start));
  const [to, setTo] = useState(show(props.window.end));
  useEffect(() => {
    setFrom(show(props.window.start));
    setTo(show(props.window.end));
  }, [props.window.start, props.window.end, props.zone]); // eslint-disable-line react-hooks/exhaustive-deps
  const start = parseTime(from, props.zone);
  const end = parseTime(to, props.zone);
  const problem = start === null ? 'Start: write YYYY-MM-DD HH:MM' : end === null ? 'End: write YYYY-MM-DD HH:MM' : end <= start ? 'The end must be after the start' : null;
  return (
    <form
      className="inline custom-range"
      onSubmit={(e) => {
        e.preventDefault();
        if (!problem && start !== null && end !== null) props.onApply(Math.floor(start / 1000), Math.floor(end / 1000));
      }}
    >
      <input type="text" inputMode="numeric" aria-label="Start" value={from} size={16} onChange={(e) => setFrom(e.target.value)} />
      <span className="muted">to</span>
      <input type="text" inputMode="numeric" aria-label="End" value={to} size={16} onChange={(e) => setTo(e.target.value)} />
      <span className="muted">{zoneName(props.zone)}</span>
      <button type="submit" disabled={problem !== null} title={problem ?? 'Show this window'}>
        Apply
      </button>
    </form>
  );
}

function MetricChart(props: { rows: StatsRow[]; state: StatsPageState; window: { start: number; end: number }; zone: TimeZoneMode }) {
  const { rows, state, window, zone } = props;
  const { points, series } = useMemo(() => pivot(rows, state.metric, state.group, window), [rows, state.metric, state.group, window.start, window.end]); // eslint-disable-line react-hooks/exhaustive-deps
  const metric = METRICS.find((m) => m.key === state.metric)!;
  const span = window.end - window.start;
  const Chart = state.graph === 'bar' ? BarChart : AreaChart;
  return (
    <figure className="chart chart-main" data-testid="stats-chart" data-metric={state.metric} data-buckets={points.length} data-series={series.join(',')}>
      <figcaption>
        {metric.title} <span className="muted">({metric.unit}, by {state.group})</span>
      </figcaption>
      <ResponsiveContainer width="100%" height={320}>
        <Chart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="timestamp" tickFormatter={(t: number) => tickTime(t, span, zone)} minTickGap={28} fontSize={11} />
          <YAxis tickFormatter={(v: number) => formatNumber(v)} width={48} fontSize={11} />
          <Tooltip labelFormatter={(t) => formatUnixMs(Number(t) * 1000, zone, true, false)} formatter={(v) => formatNumber(Number(v))} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {series.map((s, i) =>
            state.graph === 'bar' ? (
              <Bar key={s} dataKey={s} stackId="a" fill={colour(s, i, state.group)} isAnimationActive={false} />
            ) : (
              <Area
                key={s}
                dataKey={s}
                stackId="a"
                type="stepAfter"
                fill={colour(s, i, state.group)}
                stroke={colour(s, i, state.group)}
                fillOpacity={0.55}
                isAnimationActive={false}
              />
            ),
          )}
        </Chart>
      </ResponsiveContainer>
      <div className="axis-zone muted">times in {zoneName(zone)}</div>
    </figure>
  );
}

function download(text: string, filename: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function cell(v: number | null, digits: number): string {
  if (v === null) return '—';
  return digits === 0 ? v.toLocaleString('en') : v.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The original's table: per queue and status, totals and averages over the window, and a Total row. */
function StatsTable(props: { rows: StatsRow[]; windowSeconds: number; window: { start: number; end: number }; zone: TimeZoneMode }) {
  const rows = useMemo(() => totals(props.rows), [props.rows]);
  const total = grandTotal(rows);
  const line = (r: TotalRow, isTotal: boolean) => {
    const f = tableFigures(r, props.windowSeconds);
    return (
      <tr key={`${r.job_queue}/${r.status}`} className={isTotal ? 'total-row' : undefined} data-testid={isTotal ? 'stats-total-row' : undefined}>
        <td>{isTotal ? <b>Total</b> : r.job_queue}</td>
        <td>{r.status && <PlainStatusBadge status={r.status} />}</td>
        {TABLE_COLUMNS.map((c) => (
          <td key={c.key} className="num" data-col={c.key}>
            {cell(f[c.key], c.digits)}
          </td>
        ))}
      </tr>
    );
  };
  const filename = `batchiepatchie-stats-${formatUnixMs(props.window.start * 1000, props.zone, false, false).replace(/[ :]/g, '-')}.csv`;
  return (
    <div className="stats-table-panel">
      <div className="toolbar">
        <h2>Totals and averages</h2>
        <span className="spacer" />
        <button type="button" onClick={() => download(tableCsv(rows, props.windowSeconds), filename, 'text/csv')} data-testid="stats-csv">
          Download CSV
        </button>
      </div>
      <div className="totals-wrap">
        <table className="jobs-table totals" data-testid="stats-totals">
          <thead>
            <tr>
              <th>Queue</th>
              <th>Status</th>
              {TABLE_COLUMNS.map((c) => (
                <th key={c.key} className="num">
                  {c.title}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => line(r, false))}
            {line(total, true)}
          </tbody>
        </table>
      </div>
      <p className="muted small">
        Averages running are over the whole window ({formatNumber(props.windowSeconds / 3600)} hours); a job counts in the bucket and window in
        which it started running. Job time counts jobs on EC2 instances (Fargate tasks have none).
      </p>
    </div>
  );
}
