import { expect } from 'chai';
import pg from 'pg';
import { execLikeLibPq } from '../../bench/libpqExec';
import { PG } from '../helpers/db';

/** The store bench's model of the Go original's write path must behave like lib/pq on the wire. */
describe('bench: execLikeLibPq (lib/pq wire pattern)', () => {
  let client: pg.Client;

  before(async () => {
    client = new pg.Client({
      host: PG.database_host,
      port: PG.database_port,
      user: PG.database_username,
      password: PG.database_password,
      database: 'postgres',
    });
    await client.connect();
    // A temporary table: private to this session, gone with it.
    await client.query('CREATE TEMP TABLE libpq_exec (id int PRIMARY KEY, note text, at timestamptz, doc jsonb)');
  });

  after(async () => {
    await client.end();
  });

  it('runs a parameterised statement in two Sync-terminated round trips', async () => {
    let readyForQuery = 0;
    const count = () => (readyForQuery += 1);
    client.connection.on('readyForQuery', count);
    try {
      await execLikeLibPq(client, 'INSERT INTO libpq_exec VALUES ($1, $2, $3, $4)', [1, 'a', new Date('2026-01-02T03:04:05Z'), { k: 1 }]);
    } finally {
      client.connection.off('readyForQuery', count);
    }
    expect(readyForQuery).to.equal(2);
    const row = (await client.query('SELECT id, note, at, doc FROM libpq_exec WHERE id = 1')).rows[0];
    expect(row).to.deep.equal({ id: 1, note: 'a', at: new Date('2026-01-02T03:04:05Z'), doc: { k: 1 } });
  });

  it('sends null parameters as SQL NULL', async () => {
    await execLikeLibPq(client, 'INSERT INTO libpq_exec VALUES ($1, $2, $3, $4)', [2, null, undefined, null]);
    const row = (await client.query('SELECT note, at, doc FROM libpq_exec WHERE id = 2')).rows[0];
    expect(row).to.deep.equal({ note: null, at: null, doc: null });
  });

  it('rejects with the server error at either step and leaves the connection usable', async () => {
    let bindError: unknown;
    try {
      await execLikeLibPq(client, 'INSERT INTO libpq_exec (id) VALUES ($1)', [1]);
    } catch (err) {
      bindError = err;
    }
    expect(String(bindError)).to.match(/duplicate key/);
    let parseError: unknown;
    try {
      await execLikeLibPq(client, 'INSERT INTO no_such_table VALUES ($1)', [1]);
    } catch (err) {
      parseError = err;
    }
    expect(String(parseError)).to.match(/no_such_table/);
    await execLikeLibPq(client, 'INSERT INTO libpq_exec (id) VALUES ($1)', [3]);
    expect((await client.query('SELECT count(*)::int AS n FROM libpq_exec')).rows[0].n).to.equal(3);
  });
});
