import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { createDb, migrateLatest } from '../../src/store/db';
import { createTestDatabase, PG, type TestDatabase } from '../helpers/db';
import { freePort } from '../helpers/net';
import { getJson, insertJobs, job, startTestApi, type TestApi } from './helpers';

const PG_BIN = '/usr/lib/postgresql/15/bin';

/** Runs a PostgreSQL program as the postgres user (initdb refuses root). */
function asPostgres(program: string, args: string[]): void {
  const direct = process.getuid?.() !== 0;
  const [cmd, cmdArgs] = direct ? [path.join(PG_BIN, program), args] : ['runuser', ['-u', 'postgres', '--', path.join(PG_BIN, program), ...args]];
  execFileSync(cmd, cmdArgs, { stdio: 'pipe' });
}

/**
 * database_replica_host: the API's searches, counts and stats read from the
 * replica; job lookups and every write stay on the primary. The "replica" is
 * a second cluster this test starts (initdb into a temporary directory),
 * holding other rows than the primary and refusing writes as a standby does,
 * so where each answer came from is visible.
 */
describe('API: read replica (database_replica_host)', function () {
  this.timeout(180_000);
  let dir: string;
  let port: number;
  let primary: TestDatabase;
  let replica: Knex;
  let t: TestApi;
  const now = Math.floor(Date.now() / 1000);
  const onPrimary = job({ job_name: 'only-on-primary', status: 'SUCCEEDED', run_started_at: new Date((now - 600) * 1000), stopped_at: new Date((now - 60) * 1000) });
  const onReplica = job({ job_name: 'only-on-replica', status: 'FAILED', run_started_at: new Date((now - 600) * 1000), stopped_at: new Date((now - 60) * 1000) });

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'bp-replica-'));
    if (process.getuid?.() === 0) {
      const ids = execFileSync('sh', ['-c', 'echo $(id -u postgres) $(id -g postgres)']).toString().trim().split(' ').map(Number);
      chownSync(dir, ids[0], ids[1]);
    }
    port = await freePort();
    asPostgres('initdb', ['-D', path.join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    asPostgres('pg_ctl', [
      '-D', path.join(dir, 'data'), '-l', path.join(dir, 'log'), '-w', '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=16MB`, 'start',
    ]);
    primary = await createTestDatabase();
    await insertJobs(primary.db, [onPrimary]);
    // The replica: same database name and schema, other rows, read-only.
    const admin = createDb({ ...PG, database_port: port, database_name: 'postgres' }, { min: 0, max: 1 });
    await admin.raw('CREATE DATABASE ??', [primary.name]);
    await admin.destroy();
    replica = createDb({ ...PG, database_port: port, database_name: primary.name }, { min: 0, max: 2 });
    await migrateLatest(replica);
    await insertJobs(replica, [onReplica]);
    await replica.raw('ALTER DATABASE ?? SET default_transaction_read_only = on', [primary.name]);
    t = await startTestApi({ tdb: primary, config: { database_replica_host: '127.0.0.1', database_replica_port: port } });
  });

  after(async () => {
    await t?.close();
    await replica?.destroy();
    await primary?.drop();
    try {
      asPostgres('pg_ctl', ['-D', path.join(dir, 'data'), '-m', 'immediate', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('searches, counts and stats read the replica', async () => {
    const found = await getJson(`${t.url}/api/v1/jobs`);
    expect(found.status).to.equal(200);
    expect(found.body.map((j: { name: string }) => j.name)).to.deep.equal(['only-on-replica']);
    const count = await getJson(`${t.url}/api/v1/jobs/count`);
    expect(count.body).to.include({ count: 1, exact: true });
    const stats = await getJson(`${t.url}/api/v1/jobs/stats?start=${now - 3600}&end=${now}`);
    expect(stats.status).to.equal(200);
    expect(stats.body.map((r: { status: string; job_count: number }) => [r.status, r.job_count])).to.deep.equal([['FAILED', 1]]);
  });

  it('a job lookup and a write go to the primary (the replica refuses writes)', async () => {
    expect((await getJson(`${t.url}/api/v1/jobs/${onPrimary.job_id}`)).status).to.equal(200);
    expect((await getJson(`${t.url}/api/v1/jobs/${onReplica.job_id}`)).status).to.equal(404);
    const res = await getJson(`${t.url}/api/v1/job_queues/queue-on-primary/activate`, { method: 'POST' });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(await primary.db('activated_job_queues').pluck('job_queue')).to.deep.equal(['queue-on-primary']);
    expect(await replica('activated_job_queues').pluck('job_queue')).to.deep.equal([]);
  });
});
