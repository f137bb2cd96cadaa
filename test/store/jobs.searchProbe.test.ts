import { expect } from 'chai';
import { jobSearch, searchJobs, trigramCore } from '../../src/store/jobs/search';
import { upsertJobs } from '../../src/store/jobs/upsert';
import type { JobSearch, MirroredJob } from '../../src/types';
import type { JobStatus } from '../../src/domain/jobStatus';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { mirroredJob } from './fixtures';

const pad = (n: number) => String(n).padStart(5, '0');

/** A fresh test database holding `jobs`. */
async function databaseWith(jobs: MirroredJob[]): Promise<TestDatabase> {
  const t = await createTestDatabase();
  await upsertJobs(t.db, jobs);
  return t;
}

/** The page the search must return, computed here: jobs with the token in a searched column, in order. */
function expectedPage(jobs: MirroredJob[], token: string, key: 'job_name' | 'job_id', dir: 'ASC' | 'DESC', page: number): string[] {
  const matching = jobs.filter((j) => [j.job_id, j.job_name, j.job_queue, j.image].some((v) => v.toLowerCase().includes(token.toLowerCase())));
  const cmp = (a: MirroredJob, b: MirroredJob) => (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : a.job_id < b.job_id ? -1 : a.job_id > b.job_id ? 1 : 0);
  matching.sort((a, b) => (dir === 'ASC' ? cmp(a, b) : cmp(b, a)));
  return matching.slice(page * 100, page * 100 + 100).map((j) => j.job_id);
}

/**
 * How searchJobs answered, told from the statements it ran (the store has one
 * function per path; each runs SQL of its own shape):
 * - probe: the bounded walk of the sort index held the page (or every match);
 * - split: a walk from the token's place in the order, plus the matches before it collected with bitmaps only;
 * - collect: every match collected and sorted by the column's unindexed form;
 * - planner: the one statement ordered by the indexed column, as the planner sees fit;
 * - nulls first: by stopped_at descending, the never-stopped jobs' walks, then the stopped ones' walk;
 * - name walk: a queue filter by name, the name index walked with sorting disabled.
 */
type SearchPath = 'probe' | 'split' | 'collect' | 'planner' | 'nulls first' | 'name walk';

async function searchWithPath(db: TestDatabase['db'], search: JobSearch): Promise<{ ids: string[]; path: SearchPath }> {
  const statements: string[] = [];
  let sortDisabled = false;
  const log = (q: { sql: string; bindings?: unknown[] }) => {
    statements.push(q.sql);
    if (q.sql.includes('set_config') && q.bindings?.includes('enable_sort')) sortDisabled = true;
  };
  db.on('query', log);
  let ids: string[];
  try {
    ids = (await searchJobs(db, search)).map((r) => r.job_id);
  } finally {
    db.removeListener('query', log);
  }
  const probed = statements.some((sql) => sql.includes('row_number() OVER walk_order'));
  const final = statements.find((sql) => /LIMIT \$\d+ OFFSET \$\d+/.test(sql));
  const bitmapsOnly = statements.some((sql) => sql.includes('set_config')) && !final;
  const nullsFirst = statements.some((sql) => sql.includes('NULL::timestamptz AS sort_value') && !/row_number\(\)|OFFSET/.test(sql));
  let path: SearchPath;
  if (sortDisabled) path = 'name walk';
  else if (nullsFirst) path = 'nulls first';
  else if (final) path = /ORDER BY \(jobs\.\w+( \+ interval '0 seconds'|(::text)? \|\| '')\)/.test(final) ? 'collect' : 'planner';
  else if (bitmapsOnly) path = 'split';
  else if (probed) path = 'probe';
  else throw new Error(`no known search path in:\n${statements.join('\n')}`);
  return { ids, path };
}

/**
 * Searches with a token sorted by id or name first probe a few thousand rows
 * of the sort index, then either answer from the probe, fall back to the
 * planner's plan, or collect the token's matches and sort them. These tests
 * use more rows than the probe reads so that every path runs, and check each
 * against the order computed here.
 */
describe('store/jobs search: token + sort by id/name, past the index probe', function () {
  this.timeout(60_000);
  let t: TestDatabase;
  const jobs: MirroredJob[] = [];

  before(async () => {
    // 3,500 names that sort first and never match, then 150 matches clustered at the end
    // (the probe sees none), and 40 early matches spread among the first names.
    for (let i = 0; i < 3500; i++) jobs.push(mirroredJob({ job_id: `a-${pad(i)}`, job_name: `aaa-${pad(i)}`, image: 'img:1' }));
    for (let i = 0; i < 150; i++) jobs.push(mirroredJob({ job_id: `z-${pad(i)}`, job_name: `zzz-needle-${pad(i)}`, image: 'img:1' }));
    for (let i = 0; i < 40; i++) jobs.push(mirroredJob({ job_id: `b-${pad(i)}`, job_name: `aaa-${pad(i * 80)}-early`, image: 'img:1' }));
    t = await databaseWith(jobs);
    await t.db.raw('ANALYZE jobs, job_search_texts');
  });
  after(async () => t.drop());

  const search = (overrides: Partial<JobSearch>) => jobSearch({ sortColumn: 'name', sortDirection: 'ASC', ...overrides });

  const cases: [string, 'name' | 'id', 'ASC' | 'DESC', number, SearchPath][] = [
    // No match in the probe; the walk from "needle" on reaches the zzz-needle-* page; nothing before it.
    ['needle', 'name', 'ASC', 0, 'split'],
    // The walk from the token holds only 150 of the 200 needed: not clustered there; few matches, collected.
    ['needle', 'name', 'ASC', 1, 'collect'],
    // The matches come first walking DESC.
    ['needle', 'name', 'DESC', 0, 'probe'],
    // By id: the walk from "needle" on passes the z-* ids, whose names hold it.
    ['needle', 'id', 'ASC', 0, 'split'],
    // A few matches in the probe, not a page: spread over the order, the planner's walk finds them.
    ['early', 'name', 'ASC', 0, 'planner'],
    // Only 50 ids start with it (fewer than a page from the token on): few matches, collected.
    ['z-001', 'id', 'ASC', 0, 'collect'],
  ];
  for (const [token, sort, dir, page, path] of cases) {
    it(`"${token}" sorted by ${sort} ${dir}, page ${page}: ${path}`, async () => {
      const got = await searchWithPath(t.db, search({ tokens: [token], sortColumn: sort, sortDirection: dir, page }));
      const want = expectedPage(jobs, token, sort === 'name' ? 'job_name' : 'job_id', dir, page);
      expect(want.length).to.be.greaterThan(0);
      expect(got.ids).to.deep.equal(want);
      expect(got.path).to.equal(path);
    });
  }

  it('gives the trigram index only the strong part of a token, keeping one separator each side', () => {
    expect(trigramCore('team-7')).to.equal('team-');
    expect(trigramCore('x-report-7')).to.equal('-report-');
    expect(trigramCore('ingest-daily-12')).to.equal('ingest-daily-12');
    expect(trigramCore('a-b')).to.equal('a-b');
  });
});

/** Names that never match, filling the first and the last 3,200 places: the probe from either end finds nothing. */
function neverMatchingEnds(): MirroredJob[] {
  const jobs: MirroredJob[] = [];
  for (let i = 0; i < 3200; i++) jobs.push(mirroredJob({ job_id: `a-${pad(i)}`, job_name: `aaa-${pad(i)}`, image: 'img:1' }));
  for (let i = 0; i < 3200; i++) jobs.push(mirroredJob({ job_id: `z-${pad(i)}`, job_name: `zzz-${pad(i)}`, image: 'img:1' }));
  return jobs;
}

/**
 * A token that is the start of many names, far along the order: the search
 * walks the sort index from the token and collects only the matches before
 * it (ASC) or after it (DESC). Matches on both sides of the token check that
 * the two parts are joined in the right order.
 */
describe('store/jobs search: token + sort by name, split at the token', function () {
  this.timeout(60_000);
  let t: TestDatabase;
  const jobs: MirroredJob[] = [];

  before(async () => {
    jobs.push(...neverMatchingEnds());
    // The cluster at the token, and a few matches before and after it.
    for (let i = 0; i < 250; i++) jobs.push(mirroredJob({ job_id: `n-${pad(i)}`, job_name: `needle-${pad(i)}`, image: 'img:1' }));
    for (let i = 0; i < 30; i++) jobs.push(mirroredJob({ job_id: `m-${pad(i)}`, job_name: `mmm-needle-${pad(i)}`, image: 'img:1' }));
    for (let i = 0; i < 30; i++) jobs.push(mirroredJob({ job_id: `p-${pad(i)}`, job_name: `ppp-${pad(i)}`, image: `img:needle-${i}` }));
    // A token in many images, on names between the first ones and the token.
    for (let i = 0; i < 2500; i++) jobs.push(mirroredJob({ job_id: `b-${pad(i)}`, job_name: `bbb-${pad(i)}`, image: 'img:common' }));
    // Older than the default 30-day range: matches that must not show.
    for (let i = 0; i < 20; i++) jobs.push(mirroredJob({ job_id: `o-${pad(i)}`, job_name: `mmm-needle-old-${pad(i)}`, image: 'img:1' }));
    t = await databaseWith(jobs);
    await t.db('jobs').where('job_id', 'like', 'o-%').update({ last_updated: new Date(Date.now() - 40 * 86_400_000) });
    await t.db.raw('ANALYZE jobs, job_search_texts');
  });
  after(async () => t.drop());

  /** The jobs inside the default 30-day range (the o-* ones are older). */
  const recent = () => jobs.filter((j) => !j.job_id.startsWith('o-'));

  for (const [token, dir, page, path] of [
    ['needle', 'ASC', 0, 'split'],
    ['needle', 'ASC', 1, 'split'],
    // Page 3 needs 300 matches; from the token on there are 280: not clustered enough, few: collected.
    ['needle', 'ASC', 2, 'collect'],
    ['NEEDLE', 'ASC', 0, 'split'],
    ['needle', 'DESC', 0, 'split'],
    ['needle', 'DESC', 2, 'collect'],
  ] as const) {
    it(`"${token}" sorted by name ${dir}, page ${page}: ${path}`, async () => {
      const want = expectedPage(recent(), 'needle', 'job_name', dir, page);
      expect(want.length).to.be.greaterThan(0);
      const got = await searchWithPath(t.db, jobSearch({ tokens: [token], sortColumn: 'name', sortDirection: dir, page }));
      expect(got.ids).to.deep.equal(want);
      expect(got.path).to.equal(path);
    });
  }

  it('a common token far from the start and not where names start with it is walked to: same rows', async () => {
    // The probe sees only aaa-*, the walk from "common" no match: too many to collect.
    const search = jobSearch({ tokens: ['common'], sortColumn: 'name', sortDirection: 'ASC', page: 1 });
    const want = jobs.filter((j) => j.image === 'img:common').map((j) => j.job_id).sort().slice(100, 200);
    const got = await searchWithPath(t.db, search);
    expect(got.ids).to.deep.equal(want);
    expect(got.path).to.equal('planner');
  });

  it('a common token found from the end of the order is answered by the probe: same rows', async () => {
    // `img:1` is in nearly every job but no name starts with it.
    const search = jobSearch({ tokens: ['img:1'], sortColumn: 'name', sortDirection: 'DESC' });
    const want = recent()
      .filter((j) => j.image === 'img:1')
      .sort((a, b) => (a.job_name < b.job_name ? 1 : a.job_name > b.job_name ? -1 : 0))
      .slice(0, 100)
      .map((j) => j.job_id);
    const got = await searchWithPath(t.db, search);
    expect(got.ids).to.deep.equal(want);
    expect(got.path).to.equal('probe');
  });
});

/**
 * Two words by name, the longer one starting a cluster in which the other is
 * sparse: the walk from the token holds some matches in a probe's rows but
 * not the page. It goes on to the page instead of collecting every job of
 * both words' candidates (at 10M, `report team-7` by name DESC: 13 s).
 */
describe('store/jobs search: two words by name, the other sparse in the cluster', function () {
  this.timeout(60_000);
  let t: TestDatabase;
  const jobs: MirroredJob[] = [];

  before(async () => {
    jobs.push(...neverMatchingEnds());
    // The other word in one job of 40: 75 matches in a probe's 3,000 rows, 150 in all.
    for (let i = 0; i < 6000; i++) jobs.push(mirroredJob({ job_id: `s-${pad(i)}`, job_name: `sparse-${pad(i)}`, image: i % 40 === 0 ? 'img:rare7' : 'img:1' }));
    t = await databaseWith(jobs);
    await t.db.raw('ANALYZE jobs, job_search_texts');
  });
  after(async () => t.drop());

  for (const dir of ['ASC', 'DESC'] as const) {
    it(`two words, the other one sparse in the cluster, by name ${dir}: the walk goes on to the page (split)`, async () => {
      const want = jobs
        .filter((j) => j.job_name.startsWith('sparse-') && j.image === 'img:rare7')
        .sort((a, b) => (a.job_name < b.job_name ? -1 : 1) * (dir === 'ASC' ? 1 : -1))
        .slice(0, 100)
        .map((j) => j.job_id);
      expect(want).to.have.length(100);
      const got = await searchWithPath(t.db, jobSearch({ tokens: ['sparse', 'rare7'], sortColumn: 'name', sortDirection: dir }));
      expect(got.ids).to.deep.equal(want);
      expect(got.path).to.equal('split');
    });
  }

});

/**
 * A rare token sorted by last_updated, status or stopped_at: the planner
 * would walk the sort index from its start; the probe finds no match in its
 * first rows, so the few matches are collected and sorted. Every case is
 * checked against the order computed here from the stored rows, and the
 * collecting statement must have run.
 */
describe('store/jobs search: rare token + sort by last_updated/status/stopped_at', function () {
  this.timeout(60_000);
  let t: TestDatabase;
  const statuses = ['SUCCEEDED', 'RUNNING', 'FAILED', 'RUNNABLE'] as const;

  before(async () => {
    const jobs: MirroredJob[] = [];
    // Fillers: updated last, stopped first, FAILED with ids that sort first: the probes see only them.
    for (let i = 0; i < 3400; i++) {
      jobs.push(mirroredJob({ job_id: `f-${pad(i)}`, job_name: `filler-${pad(i)}`, status: 'FAILED', stopped_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)) }));
    }
    // 40 matches (token in the name or the id), older updates, later or no stop times, mixed statuses.
    for (let i = 0; i < 40; i++) {
      jobs.push(
        mirroredJob({
          job_id: i % 2 ? `n-${pad(i)}` : `q7431-${pad(i)}`,
          job_name: i % 2 ? `x7431y-${pad(i)}` : `plain-${pad(i)}`,
          status: statuses[i % 4],
          stopped_at: i % 3 ? new Date(Date.UTC(2026, 5, 1, 0, 0, 40 - i)) : null,
        }),
      );
    }
    // Outside the default 30-day range, stopped before everything else: walks must skip them.
    for (let i = 0; i < 50; i++) {
      jobs.push(mirroredJob({ job_id: `o-${pad(i)}`, job_name: `filler-old-7431-${pad(i)}`, stopped_at: new Date(Date.UTC(2025, 11, 1, 0, 0, i)) }));
    }
    t = await databaseWith(jobs);
    // Distinct update times: fillers newest, matches a day older, the old ones 40 days.
    await t.db.raw(
      `UPDATE jobs SET last_updated = now() - (CASE WHEN job_id LIKE 'o-%' THEN interval '40 days'
           WHEN job_name LIKE 'filler-%' THEN interval '0' ELSE interval '1 day' END)
         - right(job_id, 5)::int * interval '1 second'`,
    );
    await t.db.raw('ANALYZE jobs, job_search_texts');
  });
  after(async () => t.drop());

  type Row = { job_id: string; job_name: string; status: string; stopped_at: Date | null; last_updated: Date };
  /** The stored rows inside the default 30-day range. */
  const rowsInRange = async () =>
    ((await t.db('jobs').select('job_id', 'job_name', 'status', 'stopped_at', 'last_updated')) as Row[]).filter(
      (r) => r.last_updated.getTime() > Date.now() - 30 * 86_400_000,
    );
  const compare = (key: 'status' | 'stopped_at' | 'last_updated', dir: 'ASC' | 'DESC') => (a: Row, b: Row) => {
    const [x, y] = [a[key], b[key]].map((v) => (v instanceof Date ? v.getTime() : v));
    // Postgres: NULLs sort last ascending, first descending.
    let c = x === y ? 0 : x === null ? 1 : y === null ? -1 : x < y ? -1 : 1;
    if (c === 0) c = a.job_id < b.job_id ? -1 : a.job_id > b.job_id ? 1 : 0;
    return dir === 'ASC' ? c : -c;
  };

  // collected: the fillers come first in that order, so the probe sees no match and the walk would be long.
  // Otherwise the matches come early in the order: the probe's hit rate says the planner's walk is short.
  // By stopped_at descending the walk is the never-stopped jobs', then the stopped ones'.
  for (const [sort, dir, collected] of [
    ['last_updated', 'DESC', true],
    ['last_updated', 'ASC', false],
    ['status', 'ASC', true],
    ['stopped_at', 'ASC', true],
    ['stopped_at', 'DESC', false],
  ] as const) {
    const walked: SearchPath = sort === 'stopped_at' && dir === 'DESC' ? 'nulls first' : 'planner';
    it(`"7431" sorted by ${sort} ${dir}: ${collected ? 'collected' : walked}, same rows as sorting every match`, async () => {
      const want = (await rowsInRange())
        .filter((r) => r.job_id.includes('7431') || r.job_name.includes('7431'))
        .sort(compare(sort, dir))
        .map((r) => r.job_id);
      expect(want).to.have.length(40);
      const got = await searchWithPath(t.db, jobSearch({ tokens: ['7431'], sortColumn: sort, sortDirection: dir }));
      expect(got.ids).to.deep.equal(want);
      expect(got.path).to.equal(collected ? 'collect' : walked);
    });
  }

  for (const [sort, dir, page] of [
    ['last_updated', 'DESC', 0],
    ['stopped_at', 'ASC', 0], // the walk that filters the index first
    ['stopped_at', 'ASC', 3],
  ] as const) {
    it(`a common token sorted by ${sort} ${dir}, page ${page}, is answered by the probe, in order`, async () => {
      const want = (await rowsInRange())
        .filter((r) => r.job_name.includes('filler'))
        .sort(compare(sort, dir))
        .slice(page * 100, page * 100 + 100)
        .map((r) => r.job_id);
      expect(want).to.have.length(100);
      const got = await searchWithPath(t.db, jobSearch({ tokens: ['filler'], sortColumn: sort, sortDirection: dir, page }));
      expect(got.ids).to.deep.equal(want);
      expect(got.path).to.equal('probe');
    });
  }
});

/**
 * A queue (and status) filter sorted by name, without tokens: the name index
 * is walked (serially, sorting off) when the planner's estimates say the walk
 * is long (over 20,000 entries) yet reaches the page in fewer entries than
 * the queue's slice holds; otherwise the planner's one statement serves it.
 * Each answer equals sorting every match.
 */
describe('store/jobs search: queue + status sorted by name, walk or slice', function () {
  this.timeout(120_000);
  let t: TestDatabase;
  type Row = { job_id: string; job_name: string; job_queue: string; status: string; last_updated: Date };
  let rows: Row[] = [];

  before(async () => {
    // 60,000 jobs, copies of one: three quarters in queue-a, holding 300 RUNNING (0.5 %, so a
    // page needs a walk of ~28,000 entries, 56,000 for page 2, while the slice holds ~43,000)
    // and 6 FAILED. Names repeat (the job_id tie-break matters) and spread over the order.
    t = await databaseWith([mirroredJob({ job_id: 'template' })]);
    await t.db.raw(
      `INSERT INTO jobs SELECT (jsonb_populate_record(j, jsonb_build_object(
         'job_id', 'j-' || lpad(g::text, 6, '0'),
         'job_name', 'name-' || lpad(((g * 7919) % 20000)::text, 5, '0'),
         'job_queue', CASE WHEN g % 4 = 3 THEN 'queue-b' ELSE 'queue-a' END,
         'status', CASE WHEN g % 200 = 0 THEN 'RUNNING' WHEN g % 10000 = 4 THEN 'FAILED' ELSE 'SUCCEEDED' END))).*
       FROM jobs j CROSS JOIN generate_series(0, 59999) g WHERE j.job_id = 'template'`,
    );
    await t.db('jobs').where('job_id', 'template').delete();
    // Outside the default 30-day range, which no page may show: 5 %, and a fifth of the RUNNING.
    await t.db.raw("UPDATE jobs SET last_updated = now() - interval '40 days' WHERE right(job_id, 2)::int % 20 = 7 OR right(job_id, 3) = '200'");
    await t.db.raw('ANALYZE jobs, job_search_texts');
    rows = (await t.db('jobs').select('job_id', 'job_name', 'job_queue', 'status', 'last_updated')) as Row[];
  });
  after(async () => t.drop());

  const expected = (queues: readonly string[], statuses: readonly string[], dir: 'ASC' | 'DESC', page: number) =>
    rows
      .filter((r) => queues.includes(r.job_queue) && statuses.includes(r.status) && r.last_updated.getTime() > Date.now() - 30 * 86_400_000)
      .sort((a, b) => {
        const c = a.job_name < b.job_name ? -1 : a.job_name > b.job_name ? 1 : a.job_id < b.job_id ? -1 : a.job_id > b.job_id ? 1 : 0;
        return dir === 'ASC' ? c : -c;
      })
      .slice(page * 100, page * 100 + 100)
      .map((r) => r.job_id);

  const cases: [string[], JobStatus[], 'ASC' | 'DESC', number, SearchPath][] = [
    [['queue-a'], ['RUNNING'], 'ASC', 0, 'name walk'],
    [['queue-a'], ['RUNNING'], 'DESC', 0, 'name walk'],
    // The second page needs twice the walk: longer than the slice, which is sorted.
    [['queue-a'], ['RUNNING'], 'ASC', 1, 'planner'],
    // A short walk (~270 entries): the planner's statement walks by itself.
    [['queue-a', 'queue-b'], ['RUNNING', 'SUCCEEDED'], 'ASC', 2, 'planner'],
    // FAILED is 0.01 %: the walk would read the whole index; the slice is sorted.
    [['queue-a'], ['FAILED'], 'ASC', 0, 'planner'],
  ];
  for (const [queues, statuses, dir, page, path] of cases) {
    it(`${queues.join(',')} + ${statuses.join(',')} by name ${dir}, page ${page}: ${path}, same rows as sorting every match`, async () => {
      const want = expected(queues, statuses, dir, page);
      expect(want.length).to.be.greaterThan(0);
      const got = await searchWithPath(t.db, jobSearch({ queues, statuses, sortColumn: 'name', sortDirection: dir, page }));
      expect(got.ids).to.deep.equal(want);
      expect(got.path).to.equal(path);
    });
  }
});
