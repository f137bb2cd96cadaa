import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { upsertJobs } from '../../src/store/jobs/upsert';
import { applyJobEventRows, type JobEventRow } from '../../src/store/jobEvents';
import type { MirroredJob } from '../../src/types';
import { mirroredJob } from './fixtures';

/** A deterministic shuffle (the test must not depend on luck to run the same way twice). */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i -= 1) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * Writers of the same jobs at once: the pipeline's workers (several
 * processes) upsert batches, the notify endpoint writes events. Every
 * statement locks its rows in byte order of job ids, so none waits on a row
 * another holds while holding one that other waits on: no deadlock
 * (40P01), whatever order the callers pass the jobs in.
 */
describe('store/jobs upsertJobs: concurrent writers of overlapping jobs', function () {
  this.timeout(120_000);
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
    await t.db('activated_job_queues').insert({ job_queue: 'queue-a' });
  });
  after(async () => t.drop());

  it('never deadlock: batched upserts, upserts in transactions and event writes of the same jobs', async () => {
    // Ids whose byte order differs from a case-insensitive or natural one (as a locale collation sorts).
    const ids = Array.from({ length: 600 }, (_, i) => `${['a', 'B', 'c', 'D'][i % 4]}${i % 3 === 0 ? '-' : '_'}${i}:${i % 11}`);
    const base = ids.map((job_id) => mirroredJob({ job_id }));
    await upsertJobs(t.db, base);
    const statuses = ['RUNNABLE', 'STARTING', 'RUNNING'] as const;
    for (let round = 0; round < 4; round += 1) {
      const version = (w: number): MirroredJob[] =>
        shuffled(base, round * 10 + w + 1).map((j) => ({ ...j, status: statuses[(round + w) % 3], status_reason: `writer ${w} round ${round}` }));
      const events: JobEventRow[] = shuffled(base, round + 99).map((j, k) => ({
        eventTime: k,
        fields: {
          job_id: j.job_id, status: 'RUNNING', status_reason: `event ${round}`, run_started_at: null, stopped_at: null, exitcode: null,
          attempts: round + 1, job_name: j.job_name, job_queue: j.job_queue, created_at: j.created_at.toISOString(),
          array_parent_id: null, array_index: null,
        },
      }));
      const results = await Promise.allSettled([
        // Batches of 50 on 2 connections each: many statements over the same rows at once.
        upsertJobs(t.db, version(0), { batchSize: 50, concurrency: 2 }),
        upsertJobs(t.db, version(1), { batchSize: 50, concurrency: 2 }),
        // A transaction holds every batch's locks to its end: its batches must come in the same order too.
        t.db.transaction((trx) => upsertJobs(trx, version(2), { batchSize: 50 })),
        t.db.transaction((trx) => upsertJobs(trx, version(3), { batchSize: 50 })),
        applyJobEventRows(t.db, events),
      ]);
      const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
      expect(failures, `round ${round}`).to.deep.equal([]);
    }
    // Each job holds one writer's complete version (no half-applied statement).
    const rows: { status: string; status_reason: string }[] = await t.db('jobs').select('status', 'status_reason');
    expect(rows).to.have.length(ids.length);
    for (const row of rows) expect(row.status_reason).to.match(/^(writer \d|event) /);
  });
});
