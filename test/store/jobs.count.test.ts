import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { countJobs } from '../../src/store/jobs/count';
import { jobSearch, searchWhere } from '../../src/store/jobs/search';
import { upsertJobs } from '../../src/store/jobs/upsert';
import { mirroredJob } from './fixtures';

describe('store/jobs count', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
    await upsertJobs(t.db, Array.from({ length: 300 }, (_, i) =>
      mirroredJob({ job_id: `c-${i}`, job_name: i % 3 === 0 ? `oom-${i}` : `ok-${i}`, job_queue: i % 2 ? 'q1' : 'q2', status: i % 5 ? 'SUCCEEDED' : 'FAILED' })));
    await t.db.raw('ANALYZE jobs, job_search_texts');
  });
  after(async () => t.drop());

  it('counts the matches of tokens and filters exactly up to the bound', async () => {
    expect(await countJobs(t.db, jobSearch({}))).to.deep.equal({ count: 300, exact: true });
    expect(await countJobs(t.db, jobSearch({ tokens: ['oom'] }))).to.deep.equal({ count: 100, exact: true });
    expect(await countJobs(t.db, jobSearch({ tokens: ['oom'], queues: ['q1'], statuses: ['FAILED'] }))).to.deep.equal({
      count: [...Array(300).keys()].filter((i) => i % 3 === 0 && i % 2 === 1 && i % 5 === 0).length, exact: true,
    });
    expect(await countJobs(t.db, jobSearch({ dateRange: '10m', now: new Date('2036-01-01T00:00:00Z') }))).to.deep.equal({ count: 0, exact: true });
  });

  it("looks tokens up in the copy's trigram index, whose expression the condition repeats", async () => {
    const where = searchWhere(jobSearch({ tokens: ['oom-27', 'q1'] }));
    const plan = await t.db.transaction(async (trx) => {
      // This small table would be read whole (or its key walked); without those plans, the index must be usable.
      await trx.raw("SELECT set_config('enable_seqscan', 'off', true), set_config('enable_indexscan', 'off', true)");
      return (await trx.raw(`EXPLAIN SELECT 1 FROM jobs WHERE ${where.sql}`, where.bindings)).rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).to.include('job_search_texts_tokens_trgm');
    const want = [...Array(300).keys()].filter((i) => i % 3 === 0 && `oom-${i}`.includes('oom-27') && i % 2 === 1).length;
    expect(want).to.equal(3); // oom-27, oom-273, oom-279
    expect(await countJobs(t.db, jobSearch({ tokens: ['oom-27', 'q1'] }))).to.deep.equal({ count: want, exact: true });
    // Across two columns (a name ending in "oom-27", a queue "q1") is no match: every token is in one column.
    expect(await countJobs(t.db, jobSearch({ tokens: ['27q1'] }))).to.deep.equal({ count: 0, exact: true });
  });

  it('beyond the bound answers an estimate, at least the bound + 1, marked inexact', async () => {
    const c = await countJobs(t.db, jobSearch({}), 50);
    expect(c.exact).to.equal(false);
    expect(c.count).to.be.at.least(51);
    // The planner's estimate of 300 rows after ANALYZE.
    expect(c.count).to.be.within(200, 400);
  });
});
