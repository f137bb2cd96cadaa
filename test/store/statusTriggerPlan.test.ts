import { expect } from 'chai';
import type { Knex } from 'knex';
import type { Client } from 'pg';
import { createTestDatabase, PG, type TestDatabase } from '../helpers/db';
import { createDb } from '../../src/store/db';
import { upsertJobs } from '../../src/store/jobs/upsert';
import { mirroredJob } from './fixtures';

/**
 * The status trigger's join of the UPDATE transition tables is planned with
 * each statement's row counts (migration 20261204200000): a connection whose
 * first trigger run saw empty transition tables must not keep a nested loop
 * for its later, large batches. The plans are read from auto_explain, sent to
 * this session as notices.
 */
describe('store: trigger statements over transition tables are planned with their row counts', () => {
  let t: TestDatabase;
  let db: Knex;
  const plans: string[] = [];

  before(async () => {
    t = await createTestDatabase();
    // One connection, so the trigger's plan cache is the one the statements share.
    db = createDb({ ...PG, database_name: t.name }, { min: 1, max: 1 });
    const conn = (await db.client.acquireConnection()) as Client;
    conn.on('notice', (n: { message?: string }) => plans.push(n.message ?? ''));
    await db.client.releaseConnection(conn);
  });
  after(async () => {
    await db.destroy();
    await t.drop();
  });

  it('joins old and new rows by hash or merge after a first run on empty transition tables', async () => {
    // New jobs: INSERT .. ON CONFLICT fires the UPDATE trigger with empty transition tables.
    await upsertJobs(db, [mirroredJob({ status: 'RUNNING' })]);
    await upsertJobs(db, Array.from({ length: 2000 }, () => mirroredJob({ status: 'RUNNING' })));
    await db.raw("LOAD 'auto_explain'");
    await db.raw('SET auto_explain.log_min_duration = 0');
    await db.raw('SET auto_explain.log_nested_statements = on');
    await db.raw("SET auto_explain.log_level = 'notice'");
    await db('jobs').update({ status: 'FAILED' });
    await db.raw('RESET auto_explain.log_min_duration');

    const plan = plans.find((p) => p.includes('INSERT INTO job_status_events'));
    expect(plan, 'the trigger statement was explained').to.be.a('string');
    expect(plan).to.match(/Hash Join|Merge Join/);
    expect(plan).not.to.contain('Nested Loop');
    const recorded = await db('job_status_events').count({ n: '*' }).first();
    expect(Number(recorded?.n)).to.equal(2001);
  });

  it('deletes from the search copies by probe or hash after a first delete on empty copies', async () => {
    // A database whose copies have never held a row, and one connection: its first delete caches the plans.
    const t2 = await createTestDatabase();
    const fresh = createDb({ ...PG, database_name: t2.name }, { min: 1, max: 1 });
    try {
      const conn = (await fresh.client.acquireConnection()) as Client;
      conn.on('notice', (n: { message?: string }) => plans.push(n.message ?? ''));
      await fresh.client.releaseConnection(conn);
      await fresh('jobs').del();
      await upsertJobs(fresh, Array.from({ length: 2000 }, () => mirroredJob({ status: 'SUCCEEDED' })));
      plans.length = 0;
      await fresh.raw("LOAD 'auto_explain'");
      await fresh.raw('SET auto_explain.log_min_duration = 0');
      await fresh.raw('SET auto_explain.log_nested_statements = on');
      await fresh.raw("SET auto_explain.log_level = 'notice'");
      await fresh('jobs').del();
      await fresh.raw('RESET auto_explain.log_min_duration');
      for (const copy of ['job_command_lines', 'job_search_texts']) {
        const plan = plans.find((p) => p.includes(`DELETE FROM ${copy}`));
        expect(plan, `the delete from ${copy} was explained`).to.be.a('string');
        // A join filter is the nested loop comparing every deleted job with every row of the copy.
        expect(plan).not.to.contain('Join Filter');
        expect(Number((await fresh(copy).count({ n: '*' }).first())?.n), copy).to.equal(0);
      }
    } finally {
      await fresh.destroy();
      await t2.drop();
    }
  });
});
