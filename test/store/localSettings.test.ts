import { expect } from 'chai';
import type { Knex } from 'knex';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { withLocalSettings } from '../../src/store/db';
import { jobStats } from '../../src/store/stats';
import { countJobs } from '../../src/store/jobs/count';
import { jobSearch, searchJobs } from '../../src/store/jobs/search';
import { upsertJobs } from '../../src/store/jobs/upsert';
import { mirroredJob } from './fixtures';

const show = async (db: Knex, name: string): Promise<string> =>
  (await db.raw<{ rows: { value: string }[] }>('SELECT current_setting(?) AS value', [name])).rows[0].value;

const SETTINGS = ['jit', 'max_parallel_workers_per_gather', 'statement_timeout', 'random_page_cost'];

/** The settings' values, asked one after another (one connection runs one statement at a time). */
async function showAll(db: Knex): Promise<string[]> {
  const values: string[] = [];
  for (const name of SETTINGS) values.push(await show(db, name));
  return values;
}

describe('store: settings for one statement (withLocalSettings)', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
    await upsertJobs(t.db, [mirroredJob({ job_id: 'ls-1', job_name: 'needle-1', status: 'SUCCEEDED', run_started_at: new Date(Date.now() - 60_000) })]);
  });
  after(async () => t.drop());

  it('applies them to the work alone, on a pool connection', async () => {
    const inside = await withLocalSettings(t.db, { jit: 'off', work_mem: '7MB' }, async (trx) => [await show(trx, 'jit'), await show(trx, 'work_mem')]);
    expect(inside).to.deep.equal(['off', '7MB']);
    expect(await show(t.db, 'work_mem')).to.equal('4MB');
  });

  it("puts the caller's values back inside the caller's transaction, after success and after failure", async () => {
    await t.db.transaction(async (trx) => {
      await trx.raw("SELECT set_config('work_mem', '5MB', true)");
      expect(await withLocalSettings(trx, { work_mem: '9MB' }, (inner) => show(inner, 'work_mem'))).to.equal('9MB');
      expect(await show(trx, 'work_mem')).to.equal('5MB');
      const failed = await withLocalSettings(trx, { work_mem: '11MB', statement_timeout: '1' }, (inner) => inner.raw('SELECT pg_sleep(0.2)')).then(
        () => null,
        (err: { code?: string }) => err.code,
      );
      expect(failed, 'canceled by its own statement_timeout').to.equal('57014');
      expect(await show(trx, 'work_mem')).to.equal('5MB');
      expect(await show(trx, 'statement_timeout')).to.equal('0');
    });
  });

  it("leaves the caller's transaction as it was after stats, a count and a search", async () => {
    await t.db.transaction(async (trx) => {
      const before = await showAll(trx);
      const stats = await jobStats(trx, { start: new Date(Date.now() - 3_600_000), end: new Date(), queues: [], statuses: [] });
      expect(stats.length).to.be.greaterThan(0);
      expect(await countJobs(trx, jobSearch({ tokens: ['needle'] }))).to.deep.equal({ count: 1, exact: true });
      expect((await searchJobs(trx, jobSearch({ tokens: ['needle-1'], sortColumn: 'stopped_at' }))).map((j) => j.job_id)).to.deep.equal(['ls-1']);
      expect(await showAll(trx)).to.deep.equal(before);
    });
  });
});
