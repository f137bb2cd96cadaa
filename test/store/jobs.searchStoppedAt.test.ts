import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { jobSearch, searchJobs } from '../../src/store/jobs/search';
import { upsertJobs } from '../../src/store/jobs/upsert';
import type { JobSearch, MirroredJob } from '../../src/types';
import { mirroredJob } from './fixtures';
import { isTerminated } from '../../src/domain/jobStatus';

const NOW = new Date('2026-11-20T12:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ago = (ms: number) => new Date(NOW.getTime() - ms);

/**
 * Sorted by stopped_at ascending, a search walks the stopped_at index from 24
 * hours before its date range, takes jobs that stopped earlier but were
 * updated inside the range from a partial index, and jobs that never stopped
 * from the index's NULL end. Whatever part serves a row, the pages must be
 * the one order a plain sort of every match gives.
 */
describe('store/jobs search: sort by stopped_at', () => {
  let t: TestDatabase;
  const rows: { job: MirroredJob; lastUpdated: Date }[] = [];

  before(async () => {
    t = await createTestDatabase();
    const add = (i: number, stopped: Date | null, lastUpdated: Date, over: Partial<MirroredJob> = {}) => {
      rows.push({
        job: mirroredJob({
          job_id: `s-${String(i).padStart(4, '0')}`,
          job_name: i % 3 === 0 ? `late-${i}` : `plain-${i}`,
          status: stopped ? (i % 4 === 0 ? 'FAILED' : 'SUCCEEDED') : 'RUNNING',
          stopped_at: stopped,
          // Some FAILED jobs were terminated (the TERMINATED filter keeps them).
          status_reason: i % 8 === 0 ? 'Terminated by user' : null,
          ...over,
        }),
        lastUpdated,
      });
    };
    let i = 0;
    // Stopped inside the 7-day range, updated when they stopped (the usual row).
    for (let k = 0; k < 150; k += 1, i += 1) add(i, ago(k * HOUR), ago(k * HOUR - 60_000));
    // Stopped within the 24 hours before the range, updated inside it.
    for (let k = 0; k < 40; k += 1, i += 1) add(i, ago(7 * DAY + k * 30 * 60_000), ago(6 * DAY));
    // Stopped long before the range, updated inside it (a late re-describe): the partial index's rows.
    for (let k = 0; k < 120; k += 1, i += 1) add(i, ago(40 * DAY + k * HOUR), ago(k * 60_000));
    // Never stopped, updated inside the range.
    for (let k = 0; k < 60; k += 1, i += 1) add(i, null, ago(k * HOUR));
    // Outside the range altogether.
    for (let k = 0; k < 80; k += 1, i += 1) add(i, ago(30 * DAY + k * HOUR), ago(30 * DAY + k * HOUR));
    // Ties on stopped_at, broken by job_id.
    for (let k = 0; k < 30; k += 1, i += 1) add(i, ago(2 * DAY), ago(2 * DAY));
    // Never stopped in other statuses: queued, and FAILED without a stop (each status is a part of its own).
    for (let k = 0; k < 70; k += 1, i += 1) add(i, null, ago(k * HOUR + 30_000), { status: 'RUNNABLE' });
    for (let k = 0; k < 6; k += 1, i += 1) add(i, null, ago(k * DAY), { status: 'FAILED' });
    await upsertJobs(t.db, rows.map((r) => r.job));
    for (const r of rows) await t.db('jobs').where({ job_id: r.job.job_id }).update({ last_updated: r.lastUpdated });
    await t.db.raw('ANALYZE jobs, job_search_texts');
  });
  after(async () => t.drop());

  /** Every match sorted in JS: stopped_at ascending, NULLs last, then job_id (descending: all reversed, NULLs first). */
  function expected(keep: (r: (typeof rows)[number]) => boolean, page: number, direction: 'ASC' | 'DESC' = 'ASC'): string[] {
    const since = NOW.getTime() - 7 * DAY;
    const sign = direction === 'ASC' ? 1 : -1;
    return rows
      .filter((r) => r.lastUpdated.getTime() >= since && keep(r))
      .sort((a, b) => {
        const [x, y] = [a.job.stopped_at?.getTime() ?? Infinity, b.job.stopped_at?.getTime() ?? Infinity];
        if (x !== y) return x < y ? -sign : sign;
        return a.job.job_id < b.job.job_id ? -sign : sign;
      })
      .slice(page * 100, page * 100 + 100)
      .map((r) => r.job.job_id);
  }

  const search = (o: Partial<JobSearch>) => jobSearch({ now: NOW, dateRange: '7d', sortColumn: 'stopped_at', sortDirection: 'ASC', ...o });

  it('pages every match in one order, late re-describes and never-stopped jobs included', async () => {
    for (let page = 0; page < 5; page += 1) {
      const got = (await searchJobs(t.db, search({ page }))).map((r) => r.job_id);
      expect(got, `page ${page}`).to.deep.equal(expected(() => true, page));
    }
    // The first page starts with the late re-describes (stopped 40+ days ago).
    expect((await searchJobs(t.db, search({})))[0].job_name).to.match(/^(late|plain)-/);
  });

  it('keeps that order with a status filter and with a token (the probe walk)', async () => {
    for (let page = 0; page < 3; page += 1) {
      const failed = (await searchJobs(t.db, search({ page, statuses: ['FAILED', 'RUNNING'] }))).map((r) => r.job_id);
      expect(failed, `status page ${page}`).to.deep.equal(expected((r) => ['FAILED', 'RUNNING'].includes(r.job.status), page));
      const late = (await searchJobs(t.db, search({ page, tokens: ['late-'] }))).map((r) => r.job_id);
      expect(late, `token page ${page}`).to.deep.equal(expected((r) => r.job.job_name.startsWith('late'), page));
    }
  });

  // Never-stopped rows come from one walk per status (jobs_not_stopped_status), and
  // descending they come first, then the stopped ones: the same order whatever the filter.
  const filters: [string, Partial<JobSearch>, (r: (typeof rows)[number]) => boolean][] = [
    ['no filter', {}, () => true],
    ['FAILED', { statuses: ['FAILED'] }, (r) => r.job.status === 'FAILED'],
    ['RUNNING', { statuses: ['RUNNING'] }, (r) => r.job.status === 'RUNNING'],
    ['RUNNING + RUNNABLE', { statuses: ['RUNNING', 'RUNNABLE'] }, (r) => ['RUNNING', 'RUNNABLE'].includes(r.job.status)],
    ['SUCCEEDED + FAILED', { statuses: ['SUCCEEDED', 'FAILED'] }, (r) => ['SUCCEEDED', 'FAILED'].includes(r.job.status)],
    ['TERMINATED + RUNNABLE', { statuses: ['TERMINATED', 'RUNNABLE'] }, (r) => isTerminated(r.job) || r.job.status === 'RUNNABLE'],
    ['a token + FAILED', { statuses: ['FAILED'], tokens: ['late-'] }, (r) => r.job.status === 'FAILED' && r.job.job_name.startsWith('late')],
  ];
  for (const direction of ['ASC', 'DESC'] as const) {
    for (const [name, filter, keep] of filters) {
      it(`${direction}, ${name}: every page the order of sorting every match`, async () => {
        let seen = 0;
        for (let page = 0; page < 6; page += 1) {
          const want = expected(keep, page, direction);
          const got = (await searchJobs(t.db, search({ ...filter, page, sortDirection: direction }))).map((r) => r.job_id);
          expect(got, `page ${page}`).to.deep.equal(want);
          seen += want.length;
        }
        expect(seen).to.be.greaterThan(0);
      });
    }
  }

  it('walks the never-stopped jobs of a status from the partial index keyed by status', async () => {
    const plan = await t.db.transaction(async (trx) => {
      await trx.raw('SET LOCAL enable_seqscan = off');
      return trx.raw<{ rows: { 'QUERY PLAN': string }[] }>(
        "EXPLAIN SELECT job_id FROM jobs WHERE status = 'FAILED' AND stopped_at IS NULL ORDER BY job_id DESC LIMIT 100",
      );
    });
    expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).to.include('jobs_not_stopped_status');
  });

  it('serves the late re-describes from the partial index', async () => {
    // On a table this small the planner would rather read it whole: forbid that to see the index can serve.
    const plan = await t.db.transaction(async (trx) => {
      await trx.raw('SET LOCAL enable_seqscan = off');
      return trx.raw<{ rows: { 'QUERY PLAN': string }[] }>(
      `EXPLAIN SELECT job_id FROM jobs WHERE last_updated >= $1::timestamptz - interval '7 days'
         AND stopped_at < $1::timestamptz - interval '7 days' - interval '24 hours'
         AND last_updated - stopped_at > interval '24 hours'
       ORDER BY stopped_at, job_id LIMIT 100`.replace(/\$1/g, `'${NOW.toISOString()}'`),
      );
    });
    expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).to.include('jobs_stopped_long_before_update');
  });
});
