import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { getJob, getJobStatus } from '../../src/store/jobs/lookups';
import { jobSearch, likeSubstring, searchJobs } from '../../src/store/jobs/search';
import { upsertJobs } from '../../src/store/jobs/upsert';
import { upsertTaskInstanceInfo } from '../../src/store/instances';
import { DATE_RANGES, SORT_COLUMNS } from '../../src/api/contract';
import type { JobSearch, MirroredJob } from '../../src/types';
import type { JobStatus } from '../../src/domain/jobStatus';
import { mirroredJob, setLastUpdated } from './fixtures';

const NOW = new Date('2026-11-20T12:00:00.000Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);

const search = (overrides: Partial<JobSearch> = {}): JobSearch => jobSearch({ now: NOW, ...overrides });

const ids = (rows: { job_id: string }[]) => rows.map((r) => r.job_id);

describe('store/jobs search and lookups', () => {
  let t: TestDatabase;
  // name, queue, image, status, minutes ago, stopped minutes ago
  const spec: [string, string, string, string, JobStatus, number, number | null][] = [
    ['id-a', 'Alpha-Report', 'q-prod', 'python:3.12', 'SUCCEEDED', 5, 6],
    ['id-b', 'beta_nightly', 'q-prod', 'node:20', 'FAILED', 30, 31],
    ['id-c', 'gamma 100%', 'q-dev', 'busybox', 'RUNNING', 90, null],
    ['id-d', 'delta\\path', 'q-dev', 'python:3.11', 'RUNNABLE', 60 * 30, null],
    ['id-e', 'epsilon', 'q-other', 'alpine', 'SUCCEEDED', 60 * 24 * 2 + 30, 60 * 24 * 2 + 31],
    ['id-f', 'zeta', 'q-prod', 'alpine', 'SUCCEEDED', 60 * 24 * 5, 60 * 24 * 5 + 1],
    ['id-g', 'eta', 'q-prod', 'alpine', 'GONE', 60 * 24 * 20, null],
    ['id-h', 'theta', 'q-prod', 'alpine', 'SUCCEEDED', 60 * 24 * 40, 60 * 24 * 40 + 1],
  ];
  const jobs: MirroredJob[] = spec.map(([id, name, queue, image, status, , stopped]) =>
    mirroredJob({
      job_id: id,
      job_name: name,
      job_queue: queue,
      image,
      status,
      stopped_at: stopped === null ? null : minutesAgo(stopped),
      task_arn: `arn:task/${id}`,
    }),
  );

  before(async () => {
    t = await createTestDatabase();
    await upsertJobs(t.db, jobs);
    for (const [id, , , , , ago] of spec) await setLastUpdated(t.db, id, minutesAgo(ago));
    await upsertTaskInstanceInfo(t.db, [
      { task_arn: 'arn:task/id-a', instance_id: 'i-0001', public_ip: '1.2.3.4', private_ip: '10.0.0.1' },
    ]);
  });
  after(async () => t.drop());

  it('returns the jobs of the last 30 days by default, newest first, with instance info', async () => {
    const rows = await searchJobs(t.db, search());
    expect(ids(rows)).to.deep.equal(['id-a', 'id-b', 'id-c', 'id-d', 'id-e', 'id-f', 'id-g']);
    expect(rows[0]).to.include({ instance_id: 'i-0001', public_ip: '1.2.3.4', private_ip: '10.0.0.1' });
    expect(rows[1]).to.include({ instance_id: null, public_ip: null });
  });

  it('matches each token case-insensitively in id, name, queue or image', async () => {
    expect(ids(await searchJobs(t.db, search({ tokens: ['ALPHA'] })))).to.deep.equal(['id-a']);
    expect(ids(await searchJobs(t.db, search({ tokens: ['q-DEV'] })))).to.deep.equal(['id-c', 'id-d']);
    expect(ids(await searchJobs(t.db, search({ tokens: ['python'] })))).to.deep.equal(['id-a', 'id-d']);
    expect(ids(await searchJobs(t.db, search({ tokens: ['ID-E'] })))).to.deep.equal(['id-e']);
    // Every token must match (AND), each possibly in a different column.
    expect(ids(await searchJobs(t.db, search({ tokens: ['python', 'q-dev'] })))).to.deep.equal(['id-d']);
    expect(ids(await searchJobs(t.db, search({ tokens: ['python', 'nomatch'] })))).to.deep.equal([]);
  });

  it('folds case in full Unicode for a token with non-ASCII characters, and in ASCII for the others', async () => {
    // AWS allows only ASCII in these columns; the store still answers right for other text.
    const odd = mirroredJob({ job_id: 'id-uni', job_name: 'ÜBER-Straße', job_queue: 'q-prod', image: 'alpine' });
    await upsertJobs(t.db, [odd]);
    await setLastUpdated(t.db, odd.job_id, minutesAgo(1));
    try {
      expect(ids(await searchJobs(t.db, search({ tokens: ['über'] })))).to.deep.equal(['id-uni']);
      expect(ids(await searchJobs(t.db, search({ tokens: ['straße'] })))).to.deep.equal(['id-uni']);
      expect(ids(await searchJobs(t.db, search({ tokens: ['BER-STR'] })))).to.deep.equal(['id-uni']);
    } finally {
      await t.db('jobs').where({ job_id: odd.job_id }).del();
    }
  });

  it('does not match across column boundaries', async () => {
    // id-a || Alpha-Report: "aAlpha" exists only in the concatenation.
    expect(ids(await searchJobs(t.db, search({ tokens: ['aalpha'] })))).to.deep.equal([]);
    expect(ids(await searchJobs(t.db, search({ tokens: ['reportq-prod'] })))).to.deep.equal([]);
  });

  it('treats %, _ and \\ literally', async () => {
    expect(likeSubstring('a%b_c\\d')).to.equal('%a\\%b\\_c\\\\d%');
    expect(ids(await searchJobs(t.db, search({ tokens: ['%'] })))).to.deep.equal(['id-c']);
    expect(ids(await searchJobs(t.db, search({ tokens: ['_'] })))).to.deep.equal(['id-b']);
    expect(ids(await searchJobs(t.db, search({ tokens: ['\\'] })))).to.deep.equal(['id-d']);
    expect(ids(await searchJobs(t.db, search({ tokens: ['a_n'] })))).to.deep.equal(['id-b']);
    expect(ids(await searchJobs(t.db, search({ tokens: ['a%n'] })))).to.deep.equal([]);
  });

  it('filters by queues and statuses', async () => {
    expect(ids(await searchJobs(t.db, search({ queues: ['q-dev', 'q-other'] })))).to.deep.equal(['id-c', 'id-d', 'id-e']);
    expect(ids(await searchJobs(t.db, search({ statuses: ['SUCCEEDED', 'GONE'] })))).to.deep.equal([
      'id-a', 'id-e', 'id-f', 'id-g',
    ]);
    expect(ids(await searchJobs(t.db, search({ queues: ['q-prod'], statuses: ['FAILED'] })))).to.deep.equal(['id-b']);
  });

  it('applies each date range to last_updated relative to the pinned now', async () => {
    const expected: Record<(typeof DATE_RANGES)[number], string[]> = {
      '10m': ['id-a'],
      '1h': ['id-a', 'id-b'],
      '1d': ['id-a', 'id-b', 'id-c'],
      '2d': ['id-a', 'id-b', 'id-c', 'id-d'],
      '3d': ['id-a', 'id-b', 'id-c', 'id-d', 'id-e'],
      '7d': ['id-a', 'id-b', 'id-c', 'id-d', 'id-e', 'id-f'],
      '30d': ['id-a', 'id-b', 'id-c', 'id-d', 'id-e', 'id-f', 'id-g'],
    };
    for (const dateRange of DATE_RANGES) {
      expect(ids(await searchJobs(t.db, search({ dateRange }))), dateRange).to.deep.equal(expected[dateRange]);
    }
    // Without a pinned now the database clock is used: these rows are all far in the past or future.
    expect(await searchJobs(t.db, search({ dateRange: '10m', now: undefined }))).to.have.length(0);
  });

  it('sorts by every whitelisted column in both directions, ties broken by job_id', async () => {
    const all = await searchJobs(t.db, search());
    const key: Record<(typeof SORT_COLUMNS)[number], (j: (typeof all)[number]) => string | number | null> = {
      id: (j) => j.job_id,
      name: (j) => j.job_name,
      status: (j) => j.status,
      stopped_at: (j) => (j.stopped_at ? j.stopped_at.getTime() : null),
      last_updated: (j) => j.last_updated.getTime(),
    };
    for (const sortColumn of SORT_COLUMNS) {
      for (const sortDirection of ['ASC', 'DESC'] as const) {
        const rows = await searchJobs(t.db, search({ sortColumn, sortDirection }));
        const expected = [...all].sort((x, y) => {
          const [a, b] = [key[sortColumn](x), key[sortColumn](y)];
          // Postgres: NULLs sort as larger than any value (last ASC, first DESC); strings in C-like order here.
          let c: number;
          if (a === b) c = 0;
          else if (a === null) c = 1;
          else if (b === null) c = -1;
          else c = a < b ? -1 : 1;
          if (c === 0) c = x.job_id < y.job_id ? -1 : x.job_id > y.job_id ? 1 : 0;
          return sortDirection === 'ASC' ? c : -c;
        });
        expect(ids(rows), `${sortColumn} ${sortDirection}`).to.deep.equal(ids(expected));
      }
    }
  });

  it('pages by 100 with ties stable across pages', async () => {
    const many = Array.from({ length: 250 }, (_, i) =>
      mirroredJob({ job_id: `page-${String(i).padStart(3, '0')}`, job_queue: 'q-paging', job_name: 'same' }),
    );
    await upsertJobs(t.db, many);
    await t.db('jobs').where({ job_queue: 'q-paging' }).update({ last_updated: minutesAgo(1) });
    const pages = [];
    for (let page = 0; page < 4; page += 1) {
      pages.push(ids(await searchJobs(t.db, search({ queues: ['q-paging'], sortColumn: 'name', sortDirection: 'ASC', page }))));
    }
    expect(pages.map((p) => p.length)).to.deep.equal([100, 100, 50, 0]);
    expect(pages.flat()).to.deep.equal(many.map((j) => j.job_id));
    await t.db('jobs').where({ job_queue: 'q-paging' }).del();
  });

  it('getJob returns one job with instance info, or null; getJobStatus likewise', async () => {
    const a = await getJob(t.db, 'id-a');
    expect(a).to.include({ job_id: 'id-a', job_name: 'Alpha-Report', instance_id: 'i-0001', private_ip: '10.0.0.1' });
    expect(await getJob(t.db, 'nope')).to.equal(null);
    expect(await getJobStatus(t.db, 'id-b')).to.deep.equal({ id: 'id-b', status: 'FAILED' });
    expect(await getJobStatus(t.db, 'nope')).to.equal(null);
  });
});
