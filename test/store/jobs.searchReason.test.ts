import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { jobSearch, REASON_WORDS_SQL, reasonWordsQuery, searchJobs } from '../../src/store/jobs/search';
import { countJobs } from '../../src/store/jobs/count';
import { upsertJobs } from '../../src/store/jobs/upsert';
import type { JobSearch } from '../../src/types';
import { mirroredJob } from './fixtures';

const NOW = new Date();
const search = (o: Partial<JobSearch>) => jobSearch({ now: NOW, sortColumn: 'id', sortDirection: 'ASC', ...o });

describe('store/jobs search: words of the status reason and command line', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
    await upsertJobs(t.db, [
      mirroredJob({ job_id: 'r-oom-1', job_name: 'train-a', status: 'FAILED', status_reason: 'OutOfMemoryError: Container killed due to memory usage', command_line: '["python","train.py"]' }),
      mirroredJob({ job_id: 'r-oom-2', job_name: 'etl-b', status: 'FAILED', status_reason: 'OutOfMemoryError: Container killed due to memory usage', command_line: '["python","/opt/run_model.py","--shard","7"]' }),
      mirroredJob({ job_id: 'r-exit', job_name: 'etl-c', status: 'FAILED', status_reason: 'Essential container in task exited', command_line: '["bash","-c","make all"]' }),
      mirroredJob({ job_id: 'r-none', job_name: 'etl-d', status: 'RUNNING', status_reason: null, command_line: '["java","-jar","Zürich.jar"]' }),
      // A long command line is kept whole and searchable to its end.
      mirroredJob({ job_id: 'r-long', job_name: 'long', command_line: JSON.stringify(['run', ...Array.from({ length: 2000 }, (_, i) => `arg${i}`), 'finalword']) }),
    ]);
  });
  after(async () => t.drop());

  const found = async (o: Partial<JobSearch>) => (await searchJobs(t.db, search(o))).map((r) => r.job_id);

  it('finds a word (or the start of one) of the reason, case-insensitively', async () => {
    expect(await found({ tokens: ['OutOfMemory'] })).to.deep.equal(['r-oom-1', 'r-oom-2']);
    expect(await found({ tokens: ['outofmemoryerror'] })).to.deep.equal(['r-oom-1', 'r-oom-2']);
    expect(await found({ tokens: ['exited'] })).to.deep.equal(['r-exit']);
    // Not inside a word: "emory" starts none.
    expect(await found({ tokens: ['emory'] })).to.deep.equal([]);
  });

  it('finds words of the command line, split at punctuation, and non-ASCII words', async () => {
    expect(await found({ tokens: ['run_model'] })).to.deep.equal(['r-oom-2']);
    expect(await found({ tokens: ['run_model.py'] })).to.deep.equal(['r-oom-2']);
    expect(await found({ tokens: ['zürich'] })).to.deep.equal(['r-none']);
    expect(await found({ tokens: ['finalword'] })).to.deep.equal(['r-long']);
    const [long] = await searchJobs(t.db, search({ tokens: ['finalword'] }));
    expect(long.command_line.length).to.be.greaterThan(10_000);
  });

  it('combines with the other columns and filters: every token must match somewhere', async () => {
    expect(await found({ tokens: ['etl', 'OutOfMemory'] })).to.deep.equal(['r-oom-2']);
    expect(await found({ tokens: ['OutOfMemory'], statuses: ['RUNNING'] })).to.deep.equal([]);
    expect(await found({ tokens: ['python'], sortColumn: 'name', sortDirection: 'DESC' })).to.deep.equal(['r-oom-1', 'r-oom-2']);
    expect(await countJobs(t.db, search({ tokens: ['OutOfMemory'] }))).to.deep.equal({ count: 2, exact: true });
  });

  it('builds a prefix query of the token words; none for punctuation only', () => {
    expect(reasonWordsQuery('Run_Model.py')).to.equal("'run':* & 'model':* & 'py':*");
    expect(reasonWordsQuery('--')).to.equal(null);
  });

  it('is served by the word index (the expressions of query and index agree)', async () => {
    const plan = await t.db.transaction(async (trx) => {
      await trx.raw('SET LOCAL enable_seqscan = off');
      return trx.raw<{ rows: { 'QUERY PLAN': string }[] }>(
        `EXPLAIN SELECT job_id FROM jobs WHERE to_tsvector('simple', regexp_replace(COALESCE(jobs.status_reason, '') || ' ' || jobs.command_line, '[^[:alnum:]]+', ' ', 'g')) @@ to_tsquery('simple', 'outofmemory:*')`,
      );
    });
    expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).to.include('jobs_reason_command_words');
    // And the query's own expression is that one.
    expect(REASON_WORDS_SQL).to.equal(
      "to_tsvector('simple', regexp_replace(COALESCE(jobs.status_reason, '') || ' ' || jobs.command_line, '[^[:alnum:]]+', ' ', 'g'))",
    );
  });
});
