/**
 * Bounded work per user (issue 13.7): the API's statements are cut at
 * api_statement_timeout_ms (503), search pages and stats spans are bounded
 * with a 400 that says how to narrow, and the status WebSockets are capped per
 * user and in total, with heartbeats that drop peers which stop answering.
 * Real Postgres (a lock held by the test makes a statement wait), real sockets.
 */
import { expect } from 'chai';
import { WebSocket } from 'ws';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { getJson, insertJobs, job, startTestApi } from './helpers';

const JOB_ID = 'beef0000-0000-4000-8000-000000000137';
const NOW = Math.floor(Date.now() / 1000);
const DAY = 86_400;

/** Opens a status WebSocket; resolves "open" once the first message came, or the refusal. */
function openSocket(url: string, token: string, opts: { autoPong?: boolean } = {}): Promise<{ ws: WebSocket; outcome: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/api/v1/jobs/${JOB_ID}/status_websocket`, {
      headers: { authorization: `Bearer ${token}` },
      autoPong: opts.autoPong ?? true,
    });
    ws.once('message', () => resolve({ ws, outcome: 'open' }));
    ws.once('unexpected-response', (_req, res) => resolve({ ws, outcome: `HTTP ${res.statusCode}` }));
    ws.once('error', (err) => resolve({ ws, outcome: err.message }));
  });
}

const closed = (ws: WebSocket) =>
  new Promise<number>((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve(-1) : ws.once('close', (code) => resolve(code))));

describe('API: bounded work per request and per user', function () {
  this.timeout(30_000);
  let tdb: TestDatabase;
  before(async () => {
    tdb = await createTestDatabase();
    await insertJobs(tdb.db, [job({ job_id: JOB_ID })]);
  });
  after(() => tdb.drop());

  it('cuts a statement at api_statement_timeout_ms with a 503, lock waits included, without internals', async () => {
    // The API's own pool (deps.db unset), as in production.
    const t = await startTestApi({ tdb, config: { api_statement_timeout_ms: 300 }, deps: { db: undefined } });
    const trx = await tdb.db.transaction();
    try {
      await trx.raw('LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE');
      const res = await getJson(`${t.url}/api/v1/jobs?q=anything`);
      expect(res.status).to.equal(503);
      expect(res.body).to.deep.equal({ error: 'the query took too long (api_statement_timeout_ms); narrow the request or try again later' });
    } finally {
      await trx.rollback();
    }
    try {
      expect((await getJson(`${t.url}/api/v1/jobs?q=anything`)).status).to.equal(200);
    } finally {
      await t.close();
    }
  });

  it('bounds search pages and stats spans with a 400 that says how to narrow', async () => {
    const t = await startTestApi({ tdb, config: { search_max_page: 5, stats_max_span_days: 30 } });
    try {
      expect((await getJson(`${t.url}/api/v1/jobs?page=5`)).status).to.equal(200);
      const deep = await getJson(`${t.url}/api/v1/jobs?page=6`);
      expect(deep.status).to.equal(400);
      expect(deep.body.parameter).to.equal('page');
      expect(deep.body.error).to.equal(
        'page: at most 5 (the first 600 jobs of a search); narrow the search (q, queue, status, a shorter dateRange) or sort the other way',
      );
      expect((await getJson(`${t.url}/api/v1/jobs/stats?start=${NOW - 30 * DAY}&end=${NOW}`)).status).to.equal(200);
      const long = await getJson(`${t.url}/api/v1/jobs/stats?start=${NOW - 30 * DAY - 1}&end=${NOW}`);
      expect(long.status).to.equal(400);
      expect(long.body).to.deep.equal({
        error: 'end: at most 30 days after start; ask for a shorter span (or several)',
        parameter: 'end',
        max_days: 30,
      });
    } finally {
      await t.close();
    }
  });

  it('caps status WebSockets per user (429) and in total (503); a closed one frees its place', async () => {
    const t = await startTestApi({
      tdb,
      config: {
        auth_mode: 'tokens',
        auth_tokens: [
          { name: 'alice', role: 'viewer', token: 'alice-token-1' },
          { name: 'bob', role: 'viewer', token: 'bob-token-1' },
          { name: 'carol', role: 'viewer', token: 'carol-token-1' },
        ],
        websocket_max_per_user: 2,
        websocket_max_connections: 3,
      },
    });
    const open: WebSocket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const a = await openSocket(t.url, 'alice-token-1');
        expect(a.outcome).to.equal('open');
        open.push(a.ws);
      }
      expect((await openSocket(t.url, 'alice-token-1')).outcome).to.equal('HTTP 429');
      const b = await openSocket(t.url, 'bob-token-1');
      expect(b.outcome).to.equal('open');
      open.push(b.ws);
      expect((await openSocket(t.url, 'carol-token-1')).outcome).to.equal('HTTP 503');
      // Alice closes one: the server counts it gone once its close handshake is done.
      const first = open.shift()!;
      first.close();
      await closed(first);
      let carol = await openSocket(t.url, 'carol-token-1');
      while (carol.outcome === 'HTTP 503') carol = await openSocket(t.url, 'carol-token-1');
      expect(carol.outcome).to.equal('open');
      open.push(carol.ws);
    } finally {
      for (const ws of open) ws.terminate();
      await t.close();
    }
  });

  it('drops a peer that stops answering pings, and keeps one that answers', async () => {
    const t = await startTestApi({ tdb, config: { websocket_ping_seconds: 0.1 } });
    try {
      const live = await openSocket(t.url, 'x');
      const dead = await openSocket(t.url, 'x', { autoPong: false });
      expect([live.outcome, dead.outcome]).to.deep.equal(['open', 'open']);
      let livePings = 0;
      let deadPings = 0;
      live.ws.on('ping', () => livePings++);
      dead.ws.on('ping', () => deadPings++);
      const code = await closed(dead.ws);
      expect(code).to.equal(1006); // terminated: no close handshake
      expect(deadPings).to.be.at.least(1);
      // The answering peer goes on getting pings after the dead one was dropped, and stays open.
      const seen = livePings;
      await new Promise<void>((resolve) => live.ws.on('ping', () => livePings >= seen + 3 && resolve()));
      expect(live.ws.readyState).to.equal(WebSocket.OPEN);
      live.ws.terminate();
    } finally {
      await t.close();
    }
  });
});
