import { expect } from 'chai';
import { caseVariantStarts, jobSearch, searchJobs } from '../../src/store/jobs/search';
import { upsertJobs } from '../../src/store/jobs/upsert';
import type { JobSearch, MirroredJob } from '../../src/types';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { mirroredJob } from './fixtures';

const pad = (n: number) => String(n).padStart(5, '0');

/** The copy the triggers keep, by job id: its text (id, queue, image) and name, tab-separated. */
async function searchTexts(db: TestDatabase['db']): Promise<Record<string, string>> {
  const rows: { job_id: string; search_text: string; job_name: string }[] = await db('job_search_texts').select('job_id', 'search_text', 'job_name');
  return Object.fromEntries(rows.map((r) => [r.job_id, `${r.search_text}\t${r.job_name}`]));
}

/** The search's ids, the statements it ran, and whether one walked a range of the name index to its end (in parallel). */
async function searchLogged(db: TestDatabase['db'], search: JobSearch): Promise<{ ids: string[]; statements: string[]; walkedToEnd: boolean }> {
  const statements: string[] = [];
  let walkedToEnd = false;
  const log = (q: { sql: string; bindings?: unknown[] }) => {
    statements.push(q.sql);
    if (q.bindings?.includes('parallel_setup_cost')) walkedToEnd = true;
  };
  db.on('query', log);
  try {
    const ids = (await searchJobs(db, search)).map((j) => j.job_id);
    return { ids, statements, walkedToEnd };
  } finally {
    db.removeListener('query', log);
  }
}

/** Adds n jobs built from their index, in queue q-1 with image img:1 unless given. */
const jobAdder = (jobs: MirroredJob[]) => (n: number, job: (i: number) => Partial<MirroredJob>) => {
  for (let i = 0; i < n; i++) jobs.push(mirroredJob({ image: 'img:1', job_queue: 'q-1', ...job(i) }));
};

/** The page order by name: name, then id (code point order, as the test databases sort). */
const byNameThenId = (a: MirroredJob, b: MirroredJob) =>
  a.job_name < b.job_name ? -1 : a.job_name > b.job_name ? 1 : a.job_id < b.job_id ? -1 : a.job_id > b.job_id ? 1 : 0;

/** A database of its own holding `jobs`, written by the upsert, with fresh statistics. */
async function databaseWith(jobs: MirroredJob[]): Promise<TestDatabase> {
  const t = await createTestDatabase();
  await upsertJobs(t.db, jobs);
  await t.db.raw('ANALYZE jobs, job_search_texts, job_names');
  return t;
}

/**
 * Never-matching names at both ends of the name order (digits sort before
 * upper-case letters), more than a probe's rows: the probe from either end
 * finds nothing.
 */
function addNeverMatchingEnds(add: ReturnType<typeof jobAdder>): void {
  add(3200, (i) => ({ job_id: `a-${pad(i)}`, job_name: `000-${pad(i)}` }));
  add(3200, (i) => ({ job_id: `z-${pad(i)}`, job_name: `zzz-${pad(i)}` }));
}

const textOf = (j: Pick<MirroredJob, 'job_id' | 'job_name' | 'job_queue' | 'image'>) => `${j.job_id} ${j.job_queue} ${j.image}\t${j.job_name}`;

/** The names job_names holds, sorted. */
async function storedNames(db: TestDatabase['db']): Promise<string[]> {
  return (await db('job_names').pluck('job_name')).sort();
}

describe('store/jobs search copies (job_search_texts, job_names)', () => {
  let t: TestDatabase;
  const jobs = [
    mirroredJob({ job_id: 's-1', job_name: 'ingest-1', job_queue: 'q-a', image: 'img:1' }),
    mirroredJob({ job_id: 's-2', job_name: 'etl-2', job_queue: 'q-b', image: 'img:2' }),
    mirroredJob({ job_id: 's-3', job_name: 'etl-2', job_queue: 'q-b', image: 'img:2' }),
  ];
  before(async () => {
    t = await createTestDatabase();
    await upsertJobs(t.db, jobs);
  });
  after(async () => t.drop());

  it('keeps the copies equal to jobs through inserts, changes, deletes and TRUNCATE, by any writer', async () => {
    const expected = () => Object.fromEntries(jobs.map((j) => [j.job_id, textOf(j)]));
    expect(await searchTexts(t.db)).to.deep.equal(expected());
    expect(await storedNames(t.db), 'each name once').to.deep.equal(['etl-2', 'ingest-1']);
    // A status change leaves the copies alone (no trigger call); a changed name, queue or image replaces the text.
    await upsertJobs(t.db, [{ ...jobs[0], status: 'RUNNING' }]);
    expect(await searchTexts(t.db)).to.deep.equal(expected());
    for (const change of [{ job_name: 'Renamed-1' }, { job_queue: 'q-moved' }, { image: 'img:new' }]) {
      await t.db('jobs').where({ job_id: 's-1' }).update(change);
      Object.assign(jobs[0], change);
      expect(await searchTexts(t.db)).to.deep.equal(expected());
    }
    await upsertJobs(t.db, [{ ...jobs[1], job_name: 'etl-renamed' }]);
    Object.assign(jobs[1], { job_name: 'etl-renamed' });
    expect(await searchTexts(t.db)).to.deep.equal(expected());
    // Every name a job has had stays (only the cleaner prunes): a stale name is a candidate without a job.
    expect(await storedNames(t.db)).to.deep.equal(['Renamed-1', 'etl-2', 'etl-renamed', 'ingest-1']);
    await t.db('jobs').where({ job_id: 's-1' }).del();
    expect(await searchTexts(t.db)).to.deep.equal({ 's-2': textOf(jobs[1]), 's-3': textOf(jobs[2]) });
    await t.db.raw('TRUNCATE jobs');
    expect(await searchTexts(t.db)).to.deep.equal({});
    expect(await storedNames(t.db)).to.deep.equal([]);
  });

  it('lets two writers add the same new names in either order at once', async () => {
    const batch = (prefix: string, names: string[]) =>
      names.map((name, i) => mirroredJob({ job_id: `${prefix}-${i}`, job_name: name, job_queue: 'q-a', image: 'img:1' }));
    const names = Array.from({ length: 200 }, (_, i) => `shared-${pad(i)}`);
    await Promise.all([upsertJobs(t.db, batch('w1', names)), upsertJobs(t.db, batch('w2', [...names].reverse()))]);
    expect(await storedNames(t.db)).to.deep.equal(names);
  });

  it('spells every case of the token\'s start, at most 16 of them', () => {
    expect(caseVariantStarts('etl')).to.have.members(['etl', 'etL', 'eTl', 'eTL', 'Etl', 'EtL', 'ETl', 'ETL']);
    expect(caseVariantStarts('needle')).to.have.length(16).and.include.members(['need', 'NEED', 'neeD']);
    expect(caseVariantStarts('2026-12-ab')).to.have.members(['2026-12-ab', '2026-12-aB', '2026-12-Ab', '2026-12-AB']);
  });
});

/**
 * A token that a cluster of names starts with, sorted by name: the split
 * walks the cluster and collects the matches on the other side of it from
 * job_search_texts and job_names (its trigrams, its case-variant ranges). Every other
 * way a job can match is here (another case, mid-name, id, queue, image),
 * and texts that would match only across two columns must not.
 */
describe('store/jobs search: a name cluster\'s token by name, every way to match', function () {
  this.timeout(60_000);
  let t: TestDatabase;
  const jobs: MirroredJob[] = [];
  const add = jobAdder(jobs);

  before(async () => {
    addNeverMatchingEnds(add);
    add(250, (i) => ({ job_id: `n-${pad(i)}`, job_name: `needle-${pad(i)}` }));
    // Other cases of the start: upper-case letters sort before lower-case ones.
    add(20, (i) => ({ job_id: `u-${pad(i)}`, job_name: `NEEDLE-${pad(i)}` }));
    add(20, (i) => ({ job_id: `c-${pad(i)}`, job_name: `Needle_${pad(i)}` }));
    add(15, (i) => ({ job_id: `d-${pad(i)}`, job_name: `neeDLE-${pad(i)}` }));
    add(5, (i) => ({ job_id: `e-${pad(i)}`, job_name: `needlE-${pad(i)}` }));
    // The token later in the name, before and after the cluster.
    add(10, (i) => ({ job_id: `b-${pad(i)}`, job_name: `b-needle-${pad(i)}` }));
    add(10, (i) => ({ job_id: `x-${pad(i)}`, job_name: `xneedle${pad(i)}` }));
    // In the id, the queue, the image.
    add(10, (i) => ({ job_id: `id-NEEDLE-${pad(i)}`, job_name: `ccc-${pad(i)}` }));
    add(10, (i) => ({ job_id: `q-${pad(i)}`, job_name: `ttt-${pad(i)}`, job_queue: 'q-needle' }));
    add(10, (i) => ({ job_id: `i-${pad(i)}`, job_name: `ddd-${pad(i)}`, image: `needle:${i}` }));
    // Only across two columns (id|name, name|queue, queue|image, and the name's first character): no match.
    add(5, (i) => ({ job_id: `sep-nee${pad(i)}`.slice(0, -5) + 'nee', job_name: `Xdle-${pad(i)}` }));
    add(5, (i) => ({ job_id: `s2-${pad(i)}`, job_name: `ccc-nee`, job_queue: 'dle-q' }));
    add(5, (i) => ({ job_id: `s3-${pad(i)}`, job_name: `ccc-${pad(i)}`, job_queue: 'q-nee', image: 'dle:1' }));
    add(5, (i) => ({ job_id: `s4-${pad(i)}`, job_name: `needl-${pad(i)}` }));
    // Ids must be unique: the separator-spanning ids above differ by their name.
    const seen = new Set<string>();
    for (const j of jobs) {
      if (seen.has(j.job_id)) j.job_id = `${j.job_id}-${seen.size}`;
      seen.add(j.job_id);
    }
    t = await databaseWith(jobs);
  });
  after(async () => t.drop());

  function expected(token: string, dir: 'ASC' | 'DESC', page: number): string[] {
    const has = (v: string) => v.toLowerCase().includes(token.toLowerCase());
    const matching = jobs.filter((j) => [j.job_id, j.job_name, j.job_queue, j.image].some(has));
    matching.sort((a, b) => (dir === 'ASC' ? byNameThenId(a, b) : byNameThenId(b, a)));
    return matching.slice(page * 100, page * 100 + 100).map((j) => j.job_id);
  }

  for (const token of ['needle', 'NeEdLe', 'needle-0']) {
    for (const dir of ['ASC', 'DESC'] as const) {
      for (const page of [0, 1]) {
        it(`"${token}" by name ${dir}, page ${page}: the same rows as every match sorted`, async () => {
          const want = expected(token, dir, page);
          expect(want.length).to.be.greaterThan(0);
          const got = await searchLogged(t.db, jobSearch({ tokens: [token], sortColumn: 'name', sortDirection: dir, page }));
          expect(got.ids).to.deep.equal(want);
          expect(got.statements.some((sql) => sql.includes('job_search_texts')), 'split, reading the copy').to.equal(true);
        });
      }
    }
  }

  it('collects no job that matches only across two columns', async () => {
    const got = await searchLogged(t.db, jobSearch({ tokens: ['needle'], sortColumn: 'name', sortDirection: 'ASC', page: 0 }));
    expect(got.ids.filter((id) => id.startsWith('s'))).to.deep.equal([]);
    expect(got.ids.slice(0, 3)).to.deep.equal(['u-00000', 'u-00001', 'u-00002']);
  });
});

/**
 * Two tokens by name whose matches sit inside the longer one's cluster, at a
 * sub-cluster (`report-daily-…` after every `report-adhoc-…`): the walk
 * starts at the sub-cluster and the part of the cluster before it (after it,
 * DESC) is walked to its end. Matches hide in that part, in every other place, and
 * in other cases; the answer must be every match sorted.
 */
describe('store/jobs search: two tokens by name, walked from their sub-cluster', function () {
  this.timeout(60_000);
  let t: TestDatabase;
  const jobs: MirroredJob[] = [];
  const add = jobAdder(jobs);

  before(async () => {
    addNeverMatchingEnds(add);
    // The cluster: more than a probe's rows on each side of the sub-cluster.
    // Names repeat (8-9 jobs each), as a mirror's do: the sub-cluster's sides are then read by name.
    add(3500, (i) => ({ job_id: `ra-${pad(i)}`, job_name: `report-adhoc-${pad(i % 400)}` }));
    add(400, (i) => ({ job_id: `rd-${pad(i)}`, job_name: `report-daily-${pad(i % 50)}` }));
    add(3500, (i) => ({ job_id: `rw-${pad(i)}`, job_name: `report-weekly-${pad(i % 400)}` }));
    // Matches on both sides of the sub-cluster inside the cluster, and around it.
    add(3, (i) => ({ job_id: `ma-${pad(i)}`, job_name: `report-adhoc-daily-${pad(i)}` }));
    add(3, (i) => ({ job_id: `mq-${pad(i)}`, job_name: `report-adhoc-q${pad(i)}`, job_queue: 'q-DAILY' }));
    add(3, (i) => ({ job_id: `mi-${pad(i)}`, job_name: `report-weekly-i${pad(i)}`, image: 'daily:1' }));
    add(3, (i) => ({ job_id: `mu-${pad(i)}`, job_name: `REPORT-Daily-${pad(i)}` }));
    add(3, (i) => ({ job_id: `mx-${pad(i)}`, job_name: `x-report-daily-${pad(i)}` }));
    add(3, (i) => ({ job_id: `md-${pad(i)}`, job_name: `report_daily-${pad(i)}` }));
    // Only across columns: no match.
    add(3, (i) => ({ job_id: `s-${pad(i)}`, job_name: `report-adhoc-dai${pad(i)}`, job_queue: 'ly-q' }));
    t = await databaseWith(jobs);
  });
  after(async () => t.drop());

  function expected(tokens: string[], dir: 'ASC' | 'DESC', page: number): string[] {
    const matching = jobs.filter((j) =>
      tokens.every((token) => [j.job_id, j.job_name, j.job_queue, j.image].some((v) => v.toLowerCase().includes(token.toLowerCase()))),
    );
    matching.sort((a, b) => (dir === 'ASC' ? byNameThenId(a, b) : byNameThenId(b, a)));
    return matching.slice(page * 100, page * 100 + 100).map((j) => j.job_id);
  }

  for (const tokens of [['report', 'daily'], ['daily', 'REPORT']]) {
    for (const dir of ['ASC', 'DESC'] as const) {
      for (const page of [0, 1]) {
        it(`"${tokens.join(' ')}" by name ${dir}, page ${page}: the same rows as every match sorted`, async () => {
          const want = expected(tokens, dir, page);
          expect(want.length).to.equal(100);
          const got = await searchLogged(t.db, jobSearch({ tokens, sortColumn: 'name', sortDirection: dir, page }));
          expect(got.ids).to.deep.equal(want);
          const walkedFromSubCluster = got.statements.filter((sql) => sql.startsWith('EXPLAIN') && sql.includes('UNION ALL'));
          expect(walkedFromSubCluster, 'the sub-cluster estimated').to.have.length(1);
          expect(got.walkedToEnd, 'the part before the sub-cluster collected from job_names, not walked').to.equal(false);
          expect(got.statements.some((sql) => sql.includes('FROM job_names')), 'job_names read').to.equal(true);
        });
      }
    }
  }

  it('walks from the cluster itself when the words make no sub-cluster, and finds the same rows', async () => {
    for (const tokens of [['report', 'adhoc'], ['report', 'q-daily'], ['report', '0001']]) {
      const want = expected(tokens, 'ASC', 0);
      expect(want.length, tokens.join(' ')).to.be.greaterThan(0);
      const got = await searchLogged(t.db, jobSearch({ tokens, sortColumn: 'name', sortDirection: 'ASC' }));
      expect(got.ids, tokens.join(' ')).to.deep.equal(want);
    }
  });
});

/**
 * The same, where reading the names of the cluster's part before the
 * sub-cluster is not worth it: many of them hold the other word, most jobs
 * hold it in their queue, or names do not repeat. That part is walked
 * instead, with the same answer.
 */
const walkedLeadIns: [what: string, fill: (add: ReturnType<typeof jobAdder>) => void][] = [
  [
    'many names beside the sub-cluster hold the other word',
    (add) => {
      add(3500, (i) => ({ job_id: `ra-${pad(i)}`, job_name: `report-adhoc-${pad(i % 100)}` }));
      add(4800, (i) => ({ job_id: `ma-${pad(i)}`, job_name: `report-adhoc-daily-${pad(i % 600)}` }));
      add(400, (i) => ({ job_id: `rd-${pad(i)}`, job_name: `report-daily-${pad(i % 50)}` }));
      add(4800, (i) => ({ job_id: `mw-${pad(i)}`, job_name: `report-weekly-daily-${pad(i % 600)}` }));
      add(3500, (i) => ({ job_id: `rw-${pad(i)}`, job_name: `report-weekly-${pad(i % 100)}` }));
    },
  ],
  [
    'most queues hold the other word',
    (add) => {
      add(6000, (i) => ({ job_id: `ra-${pad(i)}`, job_name: `report-adhoc-${pad(i % 100)}`, job_queue: 'q-daily' }));
      add(400, (i) => ({ job_id: `rd-${pad(i)}`, job_name: `report-daily-${pad(i % 50)}` }));
      add(6000, (i) => ({ job_id: `rw-${pad(i)}`, job_name: `report-weekly-${pad(i % 100)}`, job_queue: 'q-daily' }));
    },
  ],
  [
    'every name is unique',
    (add) => {
      add(3500, (i) => ({ job_id: `ra-${pad(i)}`, job_name: `report-adhoc-${pad(i)}` }));
      add(3, (i) => ({ job_id: `ma-${pad(i)}`, job_name: `report-adhoc-daily-${pad(i)}` }));
      add(400, (i) => ({ job_id: `rd-${pad(i)}`, job_name: `report-daily-${pad(i)}` }));
      add(3, (i) => ({ job_id: `mw-${pad(i)}`, job_name: `report-weekly-daily-${pad(i)}` }));
      add(3500, (i) => ({ job_id: `rw-${pad(i)}`, job_name: `report-weekly-${pad(i)}` }));
    },
  ],
];

for (const [what, fill] of walkedLeadIns) {
  describe(`store/jobs search: two tokens by name, ${what}`, function () {
    this.timeout(60_000);
    let t: TestDatabase;
    const jobs: MirroredJob[] = [];
    const add = jobAdder(jobs);

    before(async () => {
      addNeverMatchingEnds(add);
      fill(add);
      t = await databaseWith(jobs);
    });
    after(async () => t.drop());

    for (const dir of ['ASC', 'DESC'] as const) {
      it(`"report daily" by name ${dir}: walked, the same rows as every match sorted`, async () => {
        const has = (j: MirroredJob, word: string) => [j.job_id, j.job_name, j.job_queue, j.image].some((v) => v.includes(word));
        const matching = jobs.filter((j) => has(j, 'report') && has(j, 'daily'));
        matching.sort((a, b) => (dir === 'ASC' ? byNameThenId(a, b) : byNameThenId(b, a)));
        const got = await searchLogged(t.db, jobSearch({ tokens: ['report', 'daily'], sortColumn: 'name', sortDirection: dir }));
        expect(got.ids).to.deep.equal(matching.slice(0, 100).map((j) => j.job_id));
        expect(got.walkedToEnd, 'walked').to.equal(true);
      });
    }
  });
}
