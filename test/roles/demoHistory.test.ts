/** The demo's generated history: weeks of finished jobs in the mirror, written once per database. */
import { expect } from 'chai';
import { seedDemoHistory } from '../../src/roles/demoHistory';
import { createTestDatabase, type TestDatabase } from '../helpers/db';

describe('demo history', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  before(async () => {
    tdb = await createTestDatabase();
  });
  after(async () => tdb?.drop());

  it('writes weeks of finished jobs over the given queues, spread in time, once', async () => {
    const now = new Date('2026-12-01T12:00:00Z');
    const written = await seedDemoHistory(tdb.db, { days: 21, perDay: 100, queues: ['etl-prod', 'ml-training'], now });
    expect(written).to.equal(2100);
    const rows = await tdb.db('jobs').select('status', 'job_queue', 'run_started_at', 'stopped_at', 'exitcode', 'status_reason');
    expect(rows).to.have.length(2100);
    expect(new Set(rows.map((r) => r.status))).to.deep.equal(new Set(['SUCCEEDED', 'FAILED']));
    expect(new Set(rows.map((r) => r.job_queue))).to.deep.equal(new Set(['etl-prod', 'ml-training']));
    const starts = rows.map((r) => new Date(r.run_started_at).getTime());
    expect(Math.min(...starts)).to.be.at.least(now.getTime() - 22 * 86_400_000);
    expect(Math.max(...starts)).to.be.below(now.getTime());
    const days = new Set(starts.map((t) => Math.floor(t / 86_400_000)));
    expect(days.size, 'every day has jobs').to.be.at.least(21);
    expect(rows.every((r) => new Date(r.stopped_at) > new Date(r.run_started_at))).to.equal(true);
    expect(rows.some((r) => r.status === 'FAILED' && /OutOfMemoryError/.test(r.status_reason ?? ''))).to.equal(true);
    expect(rows.filter((r) => r.status === 'SUCCEEDED').every((r) => r.exitcode === 0)).to.equal(true);
    const onInstances = await tdb.db('jobs').join('task_arns_to_instance_info as t', 't.task_arn', 'jobs.task_arn').countDistinct({ n: 'jobs.job_id' });
    expect(Number(onInstances[0].n), 'each ran on an instance').to.equal(2100);

    expect(await seedDemoHistory(tdb.db, { days: 21, perDay: 100, queues: ['etl-prod'], now }), 'written once').to.equal(0);
    expect(Number((await tdb.db('jobs').count({ n: '*' }))[0].n)).to.equal(2100);
  });
});
