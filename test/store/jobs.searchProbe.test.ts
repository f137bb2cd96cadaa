import { expect } from 'chai';
import { jobSearch, searchJobs, trigramCore, upsertJobs } from '../../src/store/jobs';
import type { JobSearch, MirroredJob } from '../../src/types';
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
    await t.db.raw('ANALYZE jobs');
  });
  after(async () => t.drop());

  const search = (overrides: Partial<JobSearch>) => jobSearch({ sortColumn: 'name', sortDirection: 'ASC', ...overrides });

  const cases: [string, 'name' | 'id', 'ASC' | 'DESC', number][] = [
    ['needle', 'name', 'ASC', 0], // no match in the probe: collect and sort
    ['needle', 'name', 'ASC', 1],
    ['needle', 'name', 'DESC', 0], // the matches come first walking DESC: answered from the probe
    ['needle', 'id', 'ASC', 0],
    ['early', 'name', 'ASC', 0], // a few matches in the probe, not a page: the planner's plan
    ['z-001', 'id', 'ASC', 0],
  ];
  for (const [token, sort, dir, page] of cases) {
    it(`"${token}" sorted by ${sort} ${dir}, page ${page}`, async () => {
      const rows = await searchJobs(t.db, search({ tokens: [token], sortColumn: sort, sortDirection: dir, page }));
      const want = expectedPage(jobs, token, sort === 'name' ? 'job_name' : 'job_id', dir, page);
      expect(want.length).to.be.greaterThan(0);
      expect(rows.map((r) => r.job_id)).to.deep.equal(want);
    });
  }

  it('gives the trigram index only the strong part of a token, keeping one separator each side', () => {
    expect(trigramCore('team-7')).to.equal('team-');
    expect(trigramCore('x-report-7')).to.equal('-report-');
    expect(trigramCore('ingest-daily-12')).to.equal('ingest-daily-12');
    expect(trigramCore('a-b')).to.equal('a-b');
  });
});

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
    // Names that never match fill the first and the last 3,200 places, so the
    // probe from either end finds nothing.
    for (let i = 0; i < 3200; i++) jobs.push(mirroredJob({ job_id: `a-${pad(i)}`, job_name: `aaa-${pad(i)}`, image: 'img:1' }));
    for (let i = 0; i < 3200; i++) jobs.push(mirroredJob({ job_id: `z-${pad(i)}`, job_name: `zzz-${pad(i)}`, image: 'img:1' }));
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
    await t.db.raw('ANALYZE jobs');
  });
  after(async () => t.drop());

  /** The jobs inside the default 30-day range (the o-* ones are older). */
  const recent = () => jobs.filter((j) => !j.job_id.startsWith('o-'));

  for (const [token, dir, page] of [
    ['needle', 'ASC', 0],
    ['needle', 'ASC', 1],
    ['needle', 'ASC', 2],
    ['NEEDLE', 'ASC', 0],
    ['needle', 'DESC', 0],
    ['needle', 'DESC', 2],
  ] as const) {
    it(`"${token}" sorted by name ${dir}, page ${page}`, async () => {
      const want = expectedPage(recent(), 'needle', 'job_name', dir, page);
      expect(want.length).to.be.greaterThan(0);
      const rows = await searchJobs(t.db, jobSearch({ tokens: [token], sortColumn: 'name', sortDirection: dir, page }));
      expect(rows.map((r) => r.job_id)).to.deep.equal(want);
    });
  }

  it('a common token far from the start and not where names start with it is walked to: same rows', async () => {
    // The probe sees only aaa-*, the walk from "common" no match: too many to collect.
    const search = jobSearch({ tokens: ['common'], sortColumn: 'name', sortDirection: 'ASC', page: 1 });
    const want = jobs.filter((j) => j.image === 'img:common').map((j) => j.job_id).sort().slice(100, 200);
    expect((await searchJobs(t.db, search)).map((r) => r.job_id)).to.deep.equal(want);
  });

  it('a common token found from the end of the order is answered by the probe: same rows', async () => {
    // `img:1` is in nearly every job but no name starts with it.
    const search = jobSearch({ tokens: ['img:1'], sortColumn: 'name', sortDirection: 'DESC' });
    const want = recent()
      .filter((j) => j.image === 'img:1')
      .sort((a, b) => (a.job_name < b.job_name ? 1 : a.job_name > b.job_name ? -1 : 0))
      .slice(0, 100)
      .map((j) => j.job_id);
    expect((await searchJobs(t.db, search)).map((r) => r.job_id)).to.deep.equal(want);
  });
});
