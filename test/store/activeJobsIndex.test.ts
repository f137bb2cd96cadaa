import { expect } from 'chai';
import type { Knex } from 'knex';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { upsertJobs } from '../../src/store/jobs/upsert';
import { listNonTerminalTopLevelJobIds } from '../../src/store/jobEvents';
import { listOpenArrayParents, markGone } from '../../src/store/jobs/sync';
import { countActiveByQueue, findTimedOutJobs } from '../../src/store/jobs/maintenance';
import { mirroredJob } from './fixtures';

/**
 * The questions a sync round and the maintenance tasks ask about active jobs
 * are served by jobs_active (migration 20261204210000), never by a scan of
 * the whole table, which is nearly all finished jobs in a mirror kept forever.
 */
describe('store: active-job queries read the jobs_active index', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
    const finished = Array.from({ length: 3000 }, (_, i) =>
      mirroredJob({ status: i % 2 ? 'SUCCEEDED' : 'FAILED', job_queue: i % 3 ? 'queue-a' : 'queue-b', timeout: 60, stopped_at: new Date('2026-11-01T01:00:00Z') }),
    );
    const active = Array.from({ length: 30 }, (_, i) => mirroredJob({ status: i % 2 ? 'RUNNING' : 'RUNNABLE', job_queue: i % 3 ? 'queue-a' : 'queue-b', timeout: 60 }));
    await upsertJobs(t.db, [...finished, ...active]);
    await t.db.raw('ANALYZE jobs');
  });
  after(async () => t.drop());

  /** The plans of the statements `run` sends, explained (not run again) with sequential scans off. */
  async function plansOf(run: (db: Knex) => Promise<unknown>): Promise<string[]> {
    return t.db.transaction(async (trx) => {
      await trx.raw('SET LOCAL enable_seqscan = off');
      const sent: { sql: string; bindings: readonly unknown[] }[] = [];
      const capture = (q: { sql: string; bindings?: readonly unknown[] }) => sent.push({ sql: q.sql, bindings: q.bindings ?? [] });
      trx.client.on('query', capture);
      try {
        await run(trx);
      } finally {
        trx.client.removeListener('query', capture);
      }
      const plans: string[] = [];
      for (const q of sent.filter((s) => /\bjobs\b/.test(s.sql) && !/^EXPLAIN|^SET/i.test(s.sql))) {
        const r = await trx.raw(`EXPLAIN ${q.sql.replace(/\$\d+/g, '?')}`, q.bindings as readonly never[]);
        plans.push(r.rows.map((row: { 'QUERY PLAN': string }) => row['QUERY PLAN']).join('\n'));
      }
      return plans;
    });
  }

  const cases: [string, (db: Knex) => Promise<unknown>][] = [
    ['listNonTerminalTopLevelJobIds', (db) => listNonTerminalTopLevelJobIds(db, 'queue-a')],
    // A cutoff before every job's last update: nothing is marked.
    ['markGone', (db) => markGone(db, ['queue-a'], new Date('2026-01-01T00:00:00Z'))],
    ['listOpenArrayParents', (db) => listOpenArrayParents(db, ['queue-a', 'queue-b'])],
    ['findTimedOutJobs', (db) => findTimedOutJobs(db, new Date('2026-11-02T00:00:00Z'))],
    ['countActiveByQueue', (db) => countActiveByQueue(db, ['queue-a'])],
  ];
  for (const [name, run] of cases) {
    it(`${name} reads jobs_active`, async () => {
      const plans = await plansOf(run);
      expect(plans, 'the query ran').to.have.length.greaterThan(0);
      for (const plan of plans) {
        expect(plan).to.contain('jobs_active');
        expect(plan).not.to.match(/Seq Scan on jobs\b/);
      }
    });
  }

  it('answers as before: active jobs only, finished ones never', async () => {
    const ids = await listNonTerminalTopLevelJobIds(t.db, 'queue-b');
    expect(ids).to.have.length(10);
    const timedOut = await findTimedOutJobs(t.db, new Date('2026-11-02T00:00:00Z'));
    expect(timedOut).to.have.length(30);
    expect((await countActiveByQueue(t.db, ['queue-a'])).get('queue-a')).to.deep.include({ running: 10, runnable: 10 });
  });
});
