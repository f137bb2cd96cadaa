import { expect } from 'chai';
import { WebSocket } from 'ws';
import { CLOSE_BAD_ID, CLOSE_NOT_FOUND } from '../../src/api/routes/websocket';
import { startJobStatusFeed, type JobStatusFeed } from '../../src/live/jobStatusFeed';
import { createLogger } from '../../src/log';
import type { JobJson } from '../../src/api/contract';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { insertJobs, job, startTestApi, type TestApi } from './helpers';

const JOB_ID = 'beef0000-0000-4000-8000-000000000001';
const logger = createLogger('silent');

/** A WebSocket client that queues what it receives. */
class Client {
  readonly messages: unknown[] = [];
  private waiters: (() => void)[] = [];
  closed: { code: number; reason: string } | null = null;
  readonly ws: WebSocket;
  readonly opened: Promise<void>;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url, { headers });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
    this.ws.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)));
      this.wake();
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      this.wake();
    });
  }

  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits for predicate; `ms` only stops a hang (below the test's time-out, far above what anything here needs). */
  async until<T>(predicate: () => T | undefined | null | false, ms = 15_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = predicate();
      if (value) return value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  statusSeen(status: string) {
    return this.until(() => (this.messages as JobJson[]).find((m) => m.status === status));
  }

  close() {
    this.ws.close();
    return this.until(() => this.closed);
  }
}

const wsUrl = (t: TestApi, id: string, query = '') => `${t.url.replace('http', 'ws')}/api/v1/jobs/${id}/status_websocket${query}`;

describe('API: status WebSocket and live status across replicas', function () {
  this.timeout(20_000);
  let tdb: TestDatabase;
  let feedA: JobStatusFeed;
  let a: TestApi;
  let b: TestApi;

  before(async () => {
    tdb = await createTestDatabase();
    await insertJobs(tdb.db, [job({ job_id: JOB_ID, status: 'RUNNABLE' })]);
    feedA = startJobStatusFeed(tdb.config, logger, { maxBackoffMs: 200 });
    await feedA.ready();
    // Two API processes' worth on one database; pushes every minute, so what arrives sooner is the live path.
    a = await startTestApi({ tdb, deps: { live: feedA, statusPushIntervalMs: 60_000 } });
    b = await startTestApi({ tdb, deps: { statusPushIntervalMs: 60_000 } });
  });
  after(async () => {
    await a.close();
    await b.close();
    await feedA.close();
    await tdb.drop();
  });

  it('sends the job JSON at once', async () => {
    const c = new Client(wsUrl(a, JOB_ID));
    await c.opened;
    const first = (await c.until(() => c.messages[0])) as JobJson;
    expect(first).to.include({ id: JOB_ID, status: 'RUNNABLE', termination_requested: false });
    expect(first).to.have.property('desc');
    await c.close();
  });

  it('tells clients of both replicas when the status changes in the database', async () => {
    const ca = new Client(wsUrl(a, JOB_ID));
    const cb = new Client(wsUrl(b, JOB_ID));
    try {
      await Promise.all([ca.opened, cb.opened]);
      await Promise.all([ca.statusSeen('RUNNABLE'), cb.statusSeen('RUNNABLE')]);
      // Periodic pushes come every 60 s here: what arrives within seconds came through LISTEN/NOTIFY.
      await tdb.db('jobs').where({ job_id: JOB_ID }).update({ status: 'RUNNING' });
      await Promise.all([ca.statusSeen('RUNNING'), cb.statusSeen('RUNNING')]);
      await tdb.db('jobs').where({ job_id: JOB_ID }).update({ status: 'STARTING' });
      await Promise.all([ca.statusSeen('STARTING'), cb.statusSeen('STARTING')]);
    } finally {
      await Promise.all([ca.close(), cb.close()]);
    }
  });

  it('unsubscribes on disconnect', async () => {
    const before = feedA.subscriberCount();
    const c = new Client(wsUrl(a, JOB_ID));
    await c.opened;
    await c.until(() => c.messages[0]);
    expect(feedA.subscriberCount()).to.equal(before + 1);
    await c.close();
    const deadline = Date.now() + 2000;
    while (feedA.subscriberCount() !== before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(feedA.subscriberCount()).to.equal(before);
  });

  it('sockets watching one job share one subscription', async () => {
    const before = feedA.subscriberCount();
    const clients = [new Client(wsUrl(a, JOB_ID)), new Client(wsUrl(a, JOB_ID)), new Client(wsUrl(a, JOB_ID))];
    try {
      await Promise.all(clients.map((c) => c.until(() => c.messages[0])));
      expect(feedA.subscriberCount()).to.equal(before + 1);
      await tdb.db('jobs').where({ job_id: JOB_ID }).update({ status: 'PENDING' });
      await Promise.all(clients.map((c) => c.statusSeen('PENDING')));
      await clients[0].close();
      expect(feedA.subscriberCount()).to.equal(before + 1); // the others still watch
    } finally {
      await Promise.all(clients.slice(1).map((c) => c.close()));
    }
    const deadline = Date.now() + 2000;
    while (feedA.subscriberCount() !== before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(feedA.subscriberCount()).to.equal(before);
  });

  it('a job not mirrored yet keeps the socket open and is delivered when it appears (as the Go original)', async () => {
    const id = 'fade0000-0000-4000-8000-00000000fade';
    const c = new Client(wsUrl(a, id));
    try {
      await c.opened;
      // Sentinel: another socket on a known job got its first push, so this socket's first look is done too.
      const other = new Client(wsUrl(a, JOB_ID));
      await other.until(() => other.messages[0]);
      await other.close();
      expect(c.closed).to.equal(null);
      expect(c.messages).to.deep.equal([]);
      await insertJobs(tdb.db, [job({ job_id: id, status: 'SUBMITTED' })]);
      const first = (await c.until(() => c.messages[0])) as JobJson;
      expect(first).to.include({ id, status: 'SUBMITTED' });
      expect(c.closed).to.equal(null);
    } finally {
      await c.close();
    }
  });

  it('after its bounded wait, a socket for an unknown job closes 4404 saying so; malformed ids close 4400', async () => {
    const t = await startTestApi({ tdb, deps: { statusWaitMs: 300, statusPushIntervalMs: 60_000 } });
    try {
      const unknown = new Client(wsUrl(t, 'ffff0000-0000-4000-8000-00000000ffff'));
      const closed = await unknown.until(() => unknown.closed);
      expect(closed).to.deep.equal({ code: CLOSE_NOT_FOUND, reason: 'job not found within 0.3 s' });
      expect(unknown.messages).to.deep.equal([{ error: 'job not found', id: 'ffff0000-0000-4000-8000-00000000ffff', waited_seconds: 0.3 }]);
      const bad = new Client(wsUrl(t, encodeURIComponent("x' OR 1=1")));
      expect((await bad.until(() => bad.closed)).code).to.equal(CLOSE_BAD_ID);
    } finally {
      await t.close();
    }
    expect(feedA.subscriberCount()).to.equal(0);
  });

  it('pushes periodically even without changes', async () => {
    const t = await startTestApi({ tdb, deps: { statusPushIntervalMs: 100 } });
    try {
      const c = new Client(wsUrl(t, JOB_ID));
      // Nothing changes the job: four messages can only be the periodic pushes, each the same job JSON.
      await c.until(() => c.messages.length >= 4);
      expect(new Set(c.messages.slice(0, 4).map((m) => JSON.stringify(m))).size).to.equal(1);
      await c.close();
    } finally {
      await t.close();
    }
  });

  it('the live feed survives losing its connection, and re-notifies subscribers', async () => {
    const c = new Client(wsUrl(a, JOB_ID));
    await c.until(() => c.messages[0]);
    const before = c.messages.length;
    await tdb.db.raw(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'batchiepatchie-live' AND datname = ?`, [tdb.name]);
    // The reconnect tells subscribers something may have changed: one more push.
    await c.until(() => c.messages.length > before);
    await tdb.db('jobs').where({ job_id: JOB_ID }).update({ status: 'SUCCEEDED' });
    await c.statusSeen('SUCCEEDED');
    await c.close();
  });

  it('with auth on: refused without credentials, accepted with a token (header or access_token)', async () => {
    const t = await startTestApi({ tdb, config: { auth_mode: 'tokens', auth_tokens: [{ token: 'view-token-123', role: 'viewer' }] } });
    try {
      const anonymous = new Client(wsUrl(t, JOB_ID));
      let refused = '';
      await anonymous.opened.catch((err: Error) => (refused = err.message));
      expect(refused).to.equal('HTTP 401');
      const viaHeader = new Client(wsUrl(t, JOB_ID), { authorization: 'Bearer view-token-123' });
      await viaHeader.until(() => viaHeader.messages[0]);
      await viaHeader.close();
      const viaQuery = new Client(wsUrl(t, JOB_ID, '?access_token=view-token-123'));
      await viaQuery.until(() => viaQuery.messages[0]);
      await viaQuery.close();
      const otherOrigin = new Client(wsUrl(t, JOB_ID, '?access_token=view-token-123'), { origin: 'https://evil.example' });
      let forbidden = '';
      await otherOrigin.opened.catch((err: Error) => (forbidden = err.message));
      expect(forbidden).to.equal('HTTP 403');
    } finally {
      await t.close();
    }
  });

  it('with proxy auth: the proxy identity headers admit the upgrade', async () => {
    const t = await startTestApi({ tdb, config: { auth_mode: 'proxy', auth_proxy_operator_groups: ['ops'], auth_proxy_trusted_cidrs: ['127.0.0.1'] } });
    try {
      const anonymous = new Client(wsUrl(t, JOB_ID));
      let refused = '';
      await anonymous.opened.catch((err: Error) => (refused = err.message));
      expect(refused).to.equal('HTTP 401');
      const viewer = new Client(wsUrl(t, JOB_ID), { 'x-forwarded-user': 'vera@example.com' });
      await viewer.until(() => viewer.messages[0]);
      await viewer.close();
    } finally {
      await t.close();
    }
  });
});
