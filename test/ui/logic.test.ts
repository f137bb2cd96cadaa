/**
 * The UI's pure logic (no browser): statuses as shown, durations, URL state of
 * the Jobs page, and the stats pivot behind the charts.
 */
import { expect } from 'chai';
import { displayStatus, formatCommand, formatDuration, runtimeSeconds, shortImage, totalElapsedSeconds } from '../../frontend/src/lib/format';
import { apiQuery, readJobsState, writeJobsState } from '../../frontend/src/lib/jobsUrl';
import { pivot, totals } from '../../frontend/src/lib/stats';
import { countLines, lastLines, matchingLines } from '../../frontend/src/lib/logText';
import type { StatsRow } from '../../src/types';

describe('UI logic', () => {
  it('shows FAILED with exit code 137 as TERMINATED, and nothing else', () => {
    expect(displayStatus({ status: 'FAILED', exitcode: 137 })).to.equal('TERMINATED');
    expect(displayStatus({ status: 'FAILED', exitcode: 1 })).to.equal('FAILED');
    expect(displayStatus({ status: 'SUCCEEDED', exitcode: 137 })).to.equal('SUCCEEDED');
    expect(displayStatus({ status: 'RUNNING', exitcode: null })).to.equal('RUNNING');
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

  it('round-trips the Jobs page state through the URL, keeping defaults out of it', () => {
    const state = readJobsState(new URLSearchParams('q=etl daily&queue=a,b&status=FAILED&dateRange=7d&sort=memory&dir=asc&page=2&refresh=1'));
    expect(state).to.deep.equal({
      q: 'etl daily', queues: ['a', 'b'], statuses: ['FAILED'], dateRange: '7d', sort: 'memory', dir: 'asc', page: 2, autoRefresh: true,
    });
    expect(readJobsState(writeJobsState(state))).to.deep.equal(state);
    expect(writeJobsState(readJobsState(new URLSearchParams(''))).toString()).to.equal('');
    // Garbage falls back to defaults instead of reaching the API.
    const bad = readJobsState(new URLSearchParams('dateRange=1y&page=-3&dir=sideways'));
    expect([bad.dateRange, bad.page, bad.dir]).to.deep.equal(['30d', 0, 'desc']);
  });

  it('asks the API for server sorts and falls back to its default order for page-only sorts', () => {
    const base = readJobsState(new URLSearchParams(''));
    expect(apiQuery({ ...base, sort: 'name', dir: 'asc' })).to.include({ sortColumn: 'name', sortDirection: 'ASC' });
    expect(apiQuery({ ...base, sort: 'memory', dir: 'asc' })).to.include({ sortColumn: 'last_updated', sortDirection: 'DESC' });
  });

  it('pivots stats rows into one point per bucket with zero-filled gaps, and totals them', () => {
    const row = (job_queue: string, status: string, timestamp: number, vcpu_seconds: number): StatsRow => ({
      job_queue, status, timestamp, vcpu_seconds, memory_seconds: 0, instance_seconds: 0, job_count: 1, interval: 300,
    });
    const rows = [row('q1', 'SUCCEEDED', 0, 10), row('q2', 'FAILED', 0, 5), row('q1', 'FAILED', 900, 7)];
    const byQueue = pivot(rows, 'vcpu_seconds', 'queue');
    expect(byQueue.series).to.deep.equal(['q1', 'q2']);
    expect(byQueue.points).to.deep.equal([
      { timestamp: 0, q1: 10, q2: 5 },
      { timestamp: 300, q1: 0, q2: 0 },
      { timestamp: 600, q1: 0, q2: 0 },
      { timestamp: 900, q1: 7, q2: 0 },
    ]);
    expect(pivot(rows, 'job_count', 'status').series).to.deep.equal(['FAILED', 'SUCCEEDED']);
    expect(totals(rows).map((t) => [t.job_queue, t.status, t.vcpu_seconds])).to.deep.equal([
      ['q1', 'FAILED', 7], ['q1', 'SUCCEEDED', 10], ['q2', 'FAILED', 5],
    ]);
  });

  it('counts and tails log lines with or without a final newline', () => {
    expect(countLines('')).to.equal(0);
    expect(countLines('a\nb\nc\n')).to.equal(3);
    expect(countLines('a\nb\nc')).to.equal(3);
    expect(lastLines('a\nb\nc\n', 2)).to.equal('b\nc\n');
    expect(lastLines('a\nb\nc', 1)).to.equal('c');
    expect(lastLines('a\nb\nc\n', 3)).to.equal('a\nb\nc\n');
    expect(lastLines('a\nb\nc\n', 10)).to.equal('a\nb\nc\n');
    const big = Array.from({ length: 50_000 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const tail = lastLines(big, 20_000);
    expect(countLines(tail)).to.equal(20_000);
    expect(tail.startsWith('line 30000\n')).to.equal(true);
    expect(matchingLines('INFO a\nERROR b\ninfo c\n', 'info')).to.equal('INFO a\ninfo c\n');
    expect(matchingLines('INFO a\n', 'nothing')).to.equal('');
  });
});
