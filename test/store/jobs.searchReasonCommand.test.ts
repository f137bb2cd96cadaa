import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { commandIndexPatterns, jobSearch, searchJobs } from '../../src/store/jobs/search';
import { countJobs } from '../../src/store/jobs/count';
import { upsertJobs } from '../../src/store/jobs/upsert';
import type { JobSearch, MirroredJob } from '../../src/types';
import { mirroredJob } from './fixtures';

const ids = (rows: { job_id: string }[]) => rows.map((r) => r.job_id);
const search = (overrides: Partial<JobSearch> = {}) => jobSearch({ sortColumn: 'id', sortDirection: 'ASC', ...overrides });

async function commandLines(db: TestDatabase['db']): Promise<Record<string, string>> {
  const rows = await db('job_command_lines').select('job_id', 'command_line');
  return Object.fromEntries(rows.map((r: { job_id: string; command_line: string }) => [r.job_id, r.command_line]));
}

describe('store/jobs search by status reason (reason:) and command line (cmd:)', () => {
  let t: TestDatabase;
  const jobs: MirroredJob[] = [
    mirroredJob({ job_id: 'r-oom', job_name: 'train-a', status: 'FAILED', status_reason: 'OutOfMemoryError: Container killed due to memory usage',
      command_line: '["python","-m","train","--shard","7"]' }),
    mirroredJob({ job_id: 'r-exit', job_name: 'train-b', status: 'SUCCEEDED', status_reason: 'Essential container in task exited',
      command_line: '["python","-m","train","--shard","12"]' }),
    mirroredJob({ job_id: 'r-host', job_name: 'etl-c', status: 'FAILED', status_reason: 'Host EC2 (instance i-0abc) terminated.',
      command_line: '["bash","-c","run 100%_done"]' }),
    mirroredJob({ job_id: 'r-none', job_name: 'etl-d', status: 'RUNNING', status_reason: null, command_line: '["echo","OutOfMemory"]' }),
  ];

  before(async () => {
    t = await createTestDatabase();
    await upsertJobs(t.db, jobs);
  });
  after(async () => t.drop());

  it('finds reason words case-insensitively as substrings, all of them, never in a job without a reason', async () => {
    expect(ids(await searchJobs(t.db, search({ reasonWords: ['outofmemory'] })))).to.deep.equal(['r-oom']);
    expect(ids(await searchJobs(t.db, search({ reasonWords: ['CONTAINER'] })))).to.deep.equal(['r-exit', 'r-oom']);
    expect(ids(await searchJobs(t.db, search({ reasonWords: ['container', 'killed'] })))).to.deep.equal(['r-oom']);
    expect(ids(await searchJobs(t.db, search({ reasonWords: ['i-0abc'] })))).to.deep.equal(['r-host']);
    expect(ids(await searchJobs(t.db, search({ reasonWords: ['nothing-like-it'] })))).to.deep.equal([]);
  });

  it('finds command line words, literally (%, _), and combines them with plain words and filters', async () => {
    expect(ids(await searchJobs(t.db, search({ commandWords: ['--SHARD'] })))).to.deep.equal(['r-exit', 'r-oom']);
    expect(ids(await searchJobs(t.db, search({ commandWords: ['--shard', '"12"'] })))).to.deep.equal(['r-exit']);
    expect(ids(await searchJobs(t.db, search({ commandWords: ['100%_'] })))).to.deep.equal(['r-host']);
    expect(ids(await searchJobs(t.db, search({ commandWords: ['1000'] })))).to.deep.equal([]);
    // A word in the command line is not a word of the reason, and the reverse.
    expect(ids(await searchJobs(t.db, search({ commandWords: ['OutOfMemory'] })))).to.deep.equal(['r-none']);
    expect(ids(await searchJobs(t.db, search({ tokens: ['train'], commandWords: ['--shard'], reasonWords: ['memory'] })))).to.deep.equal(['r-oom']);
    expect(ids(await searchJobs(t.db, search({ commandWords: ['python'], statuses: ['SUCCEEDED'] })))).to.deep.equal(['r-exit']);
    expect(await countJobs(t.db, search({ commandWords: ['python'] }))).to.deep.equal({ count: 2, exact: true });
    expect(await countJobs(t.db, search({ reasonWords: ['container'], commandWords: ['shard'] }))).to.deep.equal({ count: 2, exact: true });
  });

  it('keeps the command lines\' copy equal to jobs through inserts, changes, deletes and TRUNCATE, by any writer', async () => {
    const expected = () => Object.fromEntries(jobs.map((j) => [j.job_id, j.command_line]));
    expect(await commandLines(t.db)).to.deep.equal(expected());
    // A status change leaves the copy alone; a changed command line (a re-describe) replaces it.
    await upsertJobs(t.db, [{ ...jobs[3], status: 'SUCCEEDED', status_reason: 'Essential container in task exited' }]);
    expect(await commandLines(t.db)).to.deep.equal(expected());
    await upsertJobs(t.db, [{ ...jobs[3], command_line: '["echo","bye"]' }]);
    expect(ids(await searchJobs(t.db, search({ commandWords: ['OutOfMemory'] })))).to.deep.equal([]);
    expect(ids(await searchJobs(t.db, search({ commandWords: ['bye'] })))).to.deep.equal(['r-none']);
    // Written outside the upsert (another writer, an adopted Go mirror): the same.
    await t.db('jobs').insert({ ...mirroredJob({ job_id: 'r-raw', command_line: '["raw-writer"]' }), array_properties: null, last_updated: new Date() });
    expect((await commandLines(t.db))['r-raw']).to.equal('["raw-writer"]');
    await t.db('jobs').where({ job_id: 'r-raw' }).update({ command_line: '["raw-again"]' });
    expect((await commandLines(t.db))['r-raw']).to.equal('["raw-again"]');
    await t.db('jobs').where({ job_id: 'r-raw' }).del();
    expect(await commandLines(t.db)).to.not.have.property('r-raw');
    await t.db.raw('TRUNCATE jobs');
    expect(await commandLines(t.db)).to.deep.equal({});
    await upsertJobs(t.db, jobs);
    expect(await commandLines(t.db)).to.deep.equal(expected());
  });
});

/**
 * More jobs than the planner's probe reads (3,000), so each of its paths
 * (probe, collect, planner's walk) answers some reason/cmd search; every
 * answer is checked against the same search done here.
 */
describe('store/jobs reason: and cmd: search on the planner\'s paths', function () {
  this.timeout(120_000);
  let t: TestDatabase;
  const N = 6000;
  const REASONS = ['Essential container in task exited', 'OutOfMemoryError: Container killed due to memory usage', null];
  const jobs: MirroredJob[] = Array.from({ length: N }, (_, i) =>
    mirroredJob({
      job_id: `p-${String(i).padStart(5, '0')}`,
      job_name: `${['etl', 'report', 'train'][i % 3]}-${i % 500}`,
      status: i % 3 === 2 ? 'RUNNING' : 'FAILED',
      // The OOM reason: one job in 40 (rare), a rare instance in a handful.
      status_reason: i % 997 === 0 ? `Host EC2 (instance i-0rare${i}) terminated.` : REASONS[i % 40 === 1 ? 1 : i % 3 === 2 ? 2 : 0],
      command_line: JSON.stringify(['python', '-m', `jobs.${['etl', 'report', 'train'][i % 3]}`, '--shard', String(i % 64), '--input', `s3://b/${i}`]),
    }),
  );
  before(async () => {
    t = await createTestDatabase();
    await upsertJobs(t.db, jobs);
    // Spread over the last 20 days, newest last: the walks have an order to follow.
    await t.db.raw("UPDATE jobs SET last_updated = now() - (6000 - substr(job_id, 3)::int) * interval '5 minutes'");
    await t.db.raw('ANALYZE jobs, job_command_lines');
  });
  after(async () => t.drop());

  function expected(q: JobSearch): string[] {
    const has = (text: string | null, word: string) => text !== null && text.toLowerCase().includes(word.toLowerCase());
    const byKey: Record<string, (j: MirroredJob, i: number) => string | number> = {
      id: (j) => j.job_id,
      name: (j) => j.job_name,
      last_updated: (_, i) => i,
    };
    const key = byKey[q.sortColumn];
    const rows = jobs
      .map((j, i) => ({ j, k: key(j, i) }))
      .filter(({ j }) => (q.reasonWords ?? []).every((w) => has(j.status_reason, w)) && (q.commandWords ?? []).every((w) => has(j.command_line, w)))
      .filter(({ j }) => q.statuses.length === 0 || q.statuses.includes(j.status));
    const cmp = (a: { j: MirroredJob; k: string | number }, b: { j: MirroredJob; k: string | number }) =>
      a.k < b.k ? -1 : a.k > b.k ? 1 : a.j.job_id < b.j.job_id ? -1 : a.j.job_id > b.j.job_id ? 1 : 0;
    rows.sort((a, b) => (q.sortDirection === 'ASC' ? cmp(a, b) : cmp(b, a)));
    return rows.slice(q.page * 100, q.page * 100 + 100).map(({ j }) => j.job_id);
  }

  const cases: [string, Partial<JobSearch>][] = [
    ['a common reason word', { reasonWords: ['essential'] }],
    ['a reason word in one job of 40', { reasonWords: ['OutOfMemory'] }],
    ['a rare reason word', { reasonWords: ['i-0rare'] }],
    ['a common command word', { commandWords: ['--shard'] }],
    ['a command word in a third', { commandWords: ['jobs.train'] }],
    ['a rare command word', { commandWords: ['s3://b/4242"'] }],
    ['a command word of common, frequent and rare parts', { commandWords: ['jobs.train","--shard","7"'] }],
    ['both, and a status', { reasonWords: ['memory'], commandWords: ['jobs.etl'], statuses: ['FAILED'] }],
  ];
  for (const [what, q] of cases) {
    for (const [sortColumn, sortDirection] of [['last_updated', 'DESC'], ['name', 'ASC'], ['id', 'DESC']] as const) {
      it(`${what}, by ${sortColumn} ${sortDirection}: the exact page`, async () => {
        const s = jobSearch({ ...q, sortColumn, sortDirection });
        const want = expected(s);
        expect(want.length, 'the case has matches').to.be.greaterThan(0);
        expect(ids(await searchJobs(t.db, s))).to.deep.equal(want);
      });
    }
  }

  it('pages deep into a common command word', async () => {
    const s = jobSearch({ commandWords: ['--shard'], page: 7 });
    expect(ids(await searchJobs(t.db, s))).to.deep.equal(expected(s));
  });

  it('gives the trigram index only the parts of a command word not in most lines, and stays exact', async () => {
    const words = ['s3://b/4242"', '--shard', 'jobs.train","--shard', 'python/4242"', 'x3://b/4242'];
    expect(Object.fromEntries((await commandIndexPatterns(t.db, words)) ?? [])).to.deep.equal({
      's3://b/4242"': ['/4242"'], // "s3" is in every line
      'jobs.train","--shard': ['.train"'], // "jobs" and "shard" are in every line, "train" in a third
      'python/4242"': ['/4242"'],
      // "--shard": one part; "x3://b/4242": no part is common
    });
    // Lines that hold every part given to the index but not the word: none found, none counted.
    for (const word of ['python/4242"', 'x3://b/4242']) {
      expect(ids(await searchJobs(t.db, jobSearch({ commandWords: [word] })))).to.deep.equal([]);
      expect(await countJobs(t.db, jobSearch({ commandWords: [word] }))).to.deep.equal({ count: 0, exact: true });
    }
    const s = jobSearch({ commandWords: ['s3://b/4244"', 'jobs.train","--shard'] });
    expect(expected(s)).to.deep.equal(['p-04244']);
    expect(ids(await searchJobs(t.db, s))).to.deep.equal(expected(s));
  });
});
