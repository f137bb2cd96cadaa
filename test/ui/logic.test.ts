/**
 * The UI's pure logic (no browser): statuses as shown, durations, URL state of
 * the Jobs page, and the stats pivot behind the charts.
 */
import { expect } from 'chai';
import { displayStatus, statusNote, shortDefinition, formatCommand, formatDuration, formatShortTime, formatTime, parseTime, runtimeSeconds, shortImage, totalElapsedSeconds } from '../../frontend/src/lib/format';
import { arraySummary } from '../../frontend/src/lib/arrays';
import { rangeBetween, withIds } from '../../frontend/src/lib/selection';
import { apiQuery, readJobsState, writeJobsState } from '../../frontend/src/lib/jobsUrl';
import { grandTotal, metricValue, pivot, tableCsv, tableFigures, totals } from '../../frontend/src/lib/stats';
import { readStatsState, statsWindow, writeStatsState } from '../../frontend/src/lib/statsUrl';
import { LogBuffer, filterLines, findLines, lineFromHash, splitMatches } from '../../frontend/src/lib/logBuffer';
import type { StatsRow } from '../../src/api/contract';

describe('UI logic', () => {
  it('shows TERMINATED by the domain rule: asked to, by reason, or by signal; an OOM kill is FAILED and says so', () => {
    const failed = { status: 'FAILED' as const, exitcode: 1, status_reason: 'Essential container in task exited', termination_requested: false };
    expect(displayStatus(failed)).to.equal('FAILED');
    expect(displayStatus({ ...failed, exitcode: 137 })).to.equal('TERMINATED');
    expect(displayStatus({ ...failed, exitcode: 143 })).to.equal('TERMINATED');
    expect(displayStatus({ ...failed, exitcode: 130 })).to.equal('TERMINATED');
    expect(displayStatus({ ...failed, termination_requested: true })).to.equal('TERMINATED');
    expect(displayStatus({ ...failed, status_reason: 'Terminated by alice: stuck' })).to.equal('TERMINATED');
    const oom = { ...failed, exitcode: 137, status_reason: 'OutOfMemoryError: Container killed due to memory usage' };
    expect(displayStatus(oom)).to.equal('FAILED');
    expect(statusNote(oom)).to.equal('out of memory');
    expect(statusNote({ ...failed, exitcode: 137 })).to.equal(null);
    expect(displayStatus({ status: 'SUCCEEDED', exitcode: 137 })).to.equal('SUCCEEDED');
    expect(displayStatus({ status: 'RUNNING', exitcode: null, termination_requested: true })).to.equal('RUNNING');
  });

  it('shortens a job definition ARN to name:revision', () => {
    expect(shortDefinition('arn:aws:batch:us-east-1:123456789012:job-definition/etl:7')).to.equal('etl:7');
    expect(shortDefinition('etl:7')).to.equal('etl:7');
  });

  it('computes runtime and total elapsed, counting up while a job runs', () => {
    const now = Date.parse('2026-01-01T01:00:00Z');
    const running = { status: 'RUNNING' as const, created_at: '2026-01-01T00:00:00Z', run_start_time: '2026-01-01T00:30:00Z', stopped_at: null };
    expect(runtimeSeconds(running, now)).to.equal(1800);
    expect(totalElapsedSeconds(running, now)).to.equal(3600);
    const done = { ...running, status: 'SUCCEEDED' as const, stopped_at: '2026-01-01T00:40:00Z' };
    expect(runtimeSeconds(done, now)).to.equal(600);
    expect(runtimeSeconds({ ...done, run_start_time: null }, now)).to.equal(null);
    expect(formatDuration(3725)).to.equal('1h 2m');
    expect(formatDuration(null)).to.equal('—');
  });

  it('formats commands and images for the grid', () => {
    expect(formatCommand('["python","-m","x"]')).to.equal('python -m x');
    expect(formatCommand('not json')).to.equal('not json');
    expect(shortImage('123.dkr.ecr.us-east-1.amazonaws.com/team/app:1')).to.equal('team/app:1');
    expect(shortImage('library/ubuntu:22.04')).to.equal('library/ubuntu:22.04');
  });

  it('round-trips the Jobs page state through the URL under the original UI\'s names', () => {
    const state = readJobsState(
      new URLSearchParams('q=etl daily&selectedQueue=a,b&selectedStatus=FAILED&dateRange=7d&sortColumn=memory&sortDirection=ASC&page=2&live=0&selectedIds=x,y'),
    );
    expect(state).to.deep.equal({
      q: 'etl daily', queues: ['a', 'b'], statuses: ['FAILED'], dateRange: '7d', sort: 'memory', dir: 'asc', page: 2, live: false, selectedIds: ['x', 'y'],
    });
    expect(readJobsState(writeJobsState(state))).to.deep.equal(state);
    expect(writeJobsState(state).get('sortDirection')).to.equal('ASC');
    // Defaults stay out of the URL except the date range (a shared link shows the same jobs).
    expect(writeJobsState(readJobsState(new URLSearchParams(''))).toString()).to.equal('dateRange=1d');
    expect(readJobsState(new URLSearchParams(''), '7d').dateRange).to.equal('7d'); // the remembered choice
    // This UI's earlier names, and the original's "all".
    expect(readJobsState(new URLSearchParams('queue=a&status=running&sort=queue&dir=asc'))).to.include({ sort: 'job_queue', dir: 'asc' });
    expect(readJobsState(new URLSearchParams('queue=a&status=running')).statuses).to.deep.equal(['RUNNING']);
    expect(readJobsState(new URLSearchParams('selectedQueue=all&selectedStatus=all'))).to.deep.include({ queues: [], statuses: [] });
    // Garbage falls back to defaults instead of reaching the API.
    const bad = readJobsState(new URLSearchParams('dateRange=1y&page=-3&sortDirection=sideways&sortColumn=bogus'));
    expect([bad.dateRange, bad.page, bad.dir, bad.sort]).to.deep.equal(['1d', 0, 'desc', 'last_updated']);
  });

  it('asks the API for server sorts and falls back to its default order for page-only sorts', () => {
    const base = readJobsState(new URLSearchParams(''));
    expect(apiQuery({ ...base, sort: 'name', dir: 'asc' })).to.include({ sortColumn: 'name', sortDirection: 'ASC' });
    expect(apiQuery({ ...base, sort: 'memory', dir: 'asc' })).to.include({ sortColumn: 'last_updated', sortDirection: 'DESC' });
  });

  it('selects shift-click ranges in either direction and keeps the selection order', () => {
    const shown = ['a', 'b', 'c', 'd', 'e'];
    expect(rangeBetween(shown, 'b', 'd')).to.deep.equal(['b', 'c', 'd']);
    expect(rangeBetween(shown, 'e', 'c')).to.deep.equal(['c', 'd', 'e']);
    expect(rangeBetween(shown, 'zz', 'c')).to.deep.equal([]);
    expect(withIds(['x', 'c'], ['b', 'c', 'd'], true)).to.deep.equal(['x', 'c', 'b', 'd']);
    expect(withIds(['x', 'c', 'd'], ['c', 'd'], false)).to.deep.equal(['x']);
  });

  it('reads array progress from the original shape and from the earlier one', () => {
    const original = { array_parent_id: null, array_properties: { size: 10, status_summary: { succeeded: 3, failed: 1, running: 2, pending: 0 } } };
    expect(arraySummary(original as never)).to.deep.equal({ size: 10, counts: { SUCCEEDED: 3, FAILED: 1, RUNNING: 2 }, done: 4 });
    const earlier = { array_parent_id: null, array_properties: { size: 2, statusSummary: { SUCCEEDED: 2 } } };
    expect(arraySummary(earlier as never)).to.deep.include({ size: 2, done: 2 });
    expect(arraySummary({ array_parent_id: 'p', array_properties: { size: 2 } } as never)).to.equal(null); // a child
    expect(arraySummary({ array_parent_id: null, array_properties: null } as never)).to.equal(null);
  });

  it('formats times with their zone, 24-hour', () => {
    const iso = '2026-03-01T22:05:09Z';
    expect(formatTime(iso, 'utc')).to.equal('2026-03-01 22:05:09 UTC');
    expect(formatShortTime(iso, Date.parse('2026-03-01T23:00:00Z'), 'utc')).to.equal('22:05:09');
    expect(formatShortTime(iso, Date.parse('2026-06-01T00:00:00Z'), 'utc')).to.equal('03-01 22:05');
    expect(formatShortTime(iso, Date.parse('2027-06-01T00:00:00Z'), 'utc')).to.equal('2026-03-01');
  });

  it('pivots stats rows into one point per bucket with zero-filled gaps, and totals them', () => {
    const row = (job_queue: string, status: string, timestamp: number, vcpu_seconds: number, job_count = 1): StatsRow => ({
      job_queue, status, timestamp, vcpu_seconds, memory_seconds: 0, instance_seconds: 0, job_count, interval: 300,
    });
    const rows = [row('q1', 'SUCCEEDED', 0, 10, 2), row('q2', 'FAILED', 0, 5), row('q1', 'FAILED', 900, 7)];
    const byQueue = pivot(rows, 'job_count', 'queue', { start: 0, end: 1200 });
    expect(byQueue.series).to.deep.equal(['q1', 'q2']);
    expect(byQueue.points).to.deep.equal([
      { timestamp: 0, q1: 2, q2: 1 },
      { timestamp: 300, q1: 0, q2: 0 },
      { timestamp: 600, q1: 0, q2: 0 },
      { timestamp: 900, q1: 1, q2: 0 },
    ]);
    expect(pivot(rows, 'job_count', 'status', { start: 0, end: 1200 }).series).to.deep.equal(['FAILED', 'SUCCEEDED']);
    // Avg vCPUs running: a bucket's vCPU-seconds over its length (3000 vCPU-seconds in 5 minutes = 10 vCPUs).
    expect(pivot([row('q1', 'SUCCEEDED', 0, 3000)], 'avg_vcpu', 'queue', { start: 0, end: 300 }).points).to.deep.equal([{ timestamp: 0, q1: 10 }]);
    expect(metricValue({ ...row('q', 'S', 0, 0), memory_seconds: 1024 * 600 }, 'avg_memory')).to.equal(2); // 2 GiB on average
    // The whole window, empty buckets included: 90 days of 1-day buckets with jobs on one day.
    const day = 86_400;
    const one = [{ ...row('q1', 'SUCCEEDED', 100 * day, 5), interval: day }];
    const ninety = pivot(one, 'job_count', 'queue', { start: 50 * day + 3600, end: 140 * day + 3600 });
    expect(ninety.points).to.have.length(91);
    expect(ninety.points.filter((p) => p.q1 > 0)).to.deep.equal([{ timestamp: 100 * day, q1: 1 }]);
    expect(pivot([], 'job_count', 'queue', { start: 0, end: 3000 }).points).to.have.length(10); // 5-minute buckets under an hour
    expect(totals(rows).map((t) => [t.job_queue, t.status, t.vcpu_seconds])).to.deep.equal([
      ['q1', 'FAILED', 7], ['q1', 'SUCCEEDED', 10], ['q2', 'FAILED', 5],
    ]);
  });

  it("computes the original's table: averages over the window, job rate, a Total row, and CSV", () => {
    const t = { job_queue: 'q1', status: 'SUCCEEDED', vcpu_seconds: 7200 * 4, memory_seconds: 7200 * 2048, instance_seconds: 7200, job_count: 6 };
    const f = tableFigures(t, 2 * 3600); // a 2-hour window
    expect(f).to.deep.equal({
      jobs: 6, vcpuHours: 8, memoryGibHours: 4, instanceHours: 2, avgJobVcpus: 4, avgJobMemoryGib: 2,
      avgVcpusRunning: 4, avgMemoryRunningGib: 2, jobsPerHour: 3,
    });
    expect(tableFigures({ ...t, instance_seconds: 0 }, 3600).avgJobVcpus).to.equal(null); // nothing to average over
    const other = { ...t, job_queue: 'q,2 "x"', job_count: 4 };
    expect(grandTotal([t, other])).to.include({ job_queue: 'Total', job_count: 10, instance_seconds: 14400 });
    const csv = tableCsv([t, other], 2 * 3600).split('\r\n');
    expect(csv[0]).to.equal('queue,status,Jobs,Job rate (/hour),Avg vCPUs running,Avg memory running (GiB),vCPU-hours,Memory (GiB-hours),Job time on instances (hours),Avg job vCPUs,Avg job memory (GiB)');
    expect(csv[1]).to.equal('q1,SUCCEEDED,6,3,4,2,8,4,2,4,2');
    expect(csv[2].startsWith('"q,2 ""x""",SUCCEEDED,4,2,')).to.equal(true);
    expect(csv[3].startsWith('Total,,10,5,8,4,16,8,4,4,2')).to.equal(true);
  });

  it("reads the original Stats page's bookmarks", () => {
    const s = readStatsState(new URLSearchParams('startDate=1700000000&endDate=1700086400&statsMetric=avg_memory&graphType=bar&selectedQueue=a,b&selectedStatus=FAILED'));
    expect(s).to.deep.equal({
      fixed: { start: 1700000000, end: 1700086400 }, range: '7d', metric: 'avg_memory', graph: 'bar', group: 'queue', queues: ['a', 'b'], statuses: ['FAILED'],
    });
    expect(readStatsState(writeStatsState(s))).to.deep.equal(s);
    const d = readStatsState(new URLSearchParams(''));
    expect([d.metric, d.graph, d.range, d.fixed]).to.deep.equal(['avg_vcpu', 'area', '7d', null]); // the original's defaults: 7 days, avg vCPUs, area
    expect(writeStatsState(d).toString()).to.equal('');
    expect(statsWindow(d, Date.parse('2026-01-08T00:00:30Z'))).to.deep.equal({ start: Date.parse('2026-01-01T00:01:00Z') / 1000, end: Date.parse('2026-01-08T00:01:00Z') / 1000 });
    expect(readStatsState(new URLSearchParams('statsMetric=bogus&startDate=soon')).metric).to.equal('avg_vcpu');
  });

  it('parses typed 24-hour times in the chosen zone, refusing what is not a time', () => {
    expect(parseTime('2026-03-01 22:05', 'utc')).to.equal(Date.parse('2026-03-01T22:05:00Z'));
    expect(parseTime('2026-03-01T22:05:09', 'utc')).to.equal(Date.parse('2026-03-01T22:05:09Z'));
    for (const bad of ['2026-02-31 10:00', '2026-03-01 24:00', '3/1/2026 10:00 PM', '']) expect(parseTime(bad, 'utc'), bad).to.equal(null);
  });

  it('keeps log chunks as lines, with CloudWatch timestamps when asked, and finds and splits matches', () => {
    const b = new LogBuffer(false);
    b.append('a\nb\n', 'f/1');
    b.append('', 'f/1');
    b.append('c\n', null);
    expect(b.lines).to.deep.equal(['a', 'b', 'c']);
    expect(b.token).to.equal('f/1');
    expect(b.text()).to.equal('a\nb\nc\n');
    const t = new LogBuffer(true);
    t.append('1700000000123\tfirst\tcolumn\n1700000000999\tsecond\n', 'f/2');
    expect(t.lines).to.deep.equal(['first\tcolumn', 'second']);
    expect(t.times).to.deep.equal([1700000000123, 1700000000999]);
    expect(t.text()).to.equal('2023-11-14T22:13:20.123Z\tfirst\tcolumn\n2023-11-14T22:13:20.999Z\tsecond\n');

    const lines = ['INFO a', 'ERROR b', 'info c', 'Info INFO'];
    expect(Array.from(filterLines(lines, 'info'))).to.deep.equal([0, 2, 3]);
    expect(findLines(lines, null, 'INFO')).to.deep.equal([0, 2, 3]);
    expect(findLines(lines, Int32Array.from([1, 3]), 'info'), 'positions within the filtered view').to.deep.equal([1]);
    expect(findLines(lines, null, 'info', 3)).to.deep.equal([3]);
    expect(splitMatches('Info INFO x', 'info')).to.deep.equal([
      { text: 'Info', match: true },
      { text: ' ', match: false },
      { text: 'INFO', match: true },
      { text: ' x', match: false },
    ]);
    expect(splitMatches('<b>x</b>', '')).to.deep.equal([{ text: '<b>x</b>', match: false }]);
    expect(lineFromHash('#L123')).to.equal(123);
    expect(lineFromHash('#L12x')).to.equal(null);
    expect(lineFromHash('')).to.equal(null);
  });
});
