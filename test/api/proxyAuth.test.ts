/**
 * Proxy auth that cannot be walked around (issue 13.5): identity headers are
 * believed only with the proxy's shared secret and/or from a trusted address
 * (the TCP peer, not X-Forwarded-For); a duplicated identity header is refused;
 * proxy mode without either check does not start. Real Postgres, the simulator
 * for kill, the status WebSocket.
 */
import http from 'node:http';
import { expect } from 'chai';
import WebSocket from 'ws';
import { startApi } from '../../src/api/app';
import { createLogger } from '../../src/log';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { getJson, insertJobs, job, startTestApi, type TestApi } from './helpers';

const JOB_ID = 'beef0000-0000-4000-8000-000000000013';
const OPERATOR = { 'x-forwarded-user': 'mallory@example.com', 'x-forwarded-groups': 'batch-admins' };
const SECRET = 'proxy-shared-secret-123';

/** A raw request, so that a header can be sent twice. */
function rawPost(url: string, path: string, rawHeaders: [string, string][]): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, method: 'POST', path, headers: [['host', `${hostname}:${port}`], ...rawHeaders].flat() as unknown as http.OutgoingHttpHeaders }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : text }));
    });
    req.on('error', reject);
    req.end();
  });
}

function upgradeStatus(url: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/api/v1/jobs/${JOB_ID}/status_websocket`, { headers });
    ws.on('message', () => {
      ws.close();
      resolve('open');
    });
    ws.on('error', (err) => resolve(err.message));
  });
}

describe('API: proxy auth (auth_proxy_secret, auth_proxy_trusted_cidrs)', function () {
  this.timeout(30_000);
  let tdb: TestDatabase;
  const activated = async (name: string) => (await tdb.db('activated_job_queues').where({ job_queue: name })).length === 1;
  const activate = (t: TestApi, name: string, headers: Record<string, string>) =>
    getJson(`${t.url}/api/v1/job_queues/${name}/activate`, { method: 'POST', headers });

  before(async () => {
    tdb = await createTestDatabase();
    await insertJobs(tdb.db, [job({ job_id: JOB_ID })]);
  });
  after(() => tdb.drop());

  const proxyConfig = { auth_mode: 'proxy' as const, auth_proxy_operator_groups: ['batch-admins'] };

  describe('with auth_proxy_secret', () => {
    let t: TestApi;
    before(async () => {
      t = await startTestApi({ tdb, config: { ...proxyConfig, auth_proxy_secret: SECRET } });
    });
    after(() => t.close());

    it('ignores spoofed identity headers without the secret or with a wrong one: 401, nothing changed', async () => {
      const extras: Record<string, string>[] = [{}, { 'x-batchiepatchie-proxy-secret': 'wrong' }, { 'x-batchiepatchie-proxy-secret': '' }];
      for (const extra of extras) {
        const res = await activate(t, 'px-spoofed', { ...OPERATOR, ...extra });
        expect(res.status).to.equal(401);
        expect(res.body.error).to.equal('authentication required');
        const read = await getJson(`${t.url}/api/v1/jobs/${JOB_ID}`, { headers: { ...OPERATOR, ...extra } });
        expect(read.status).to.equal(401);
      }
      expect(await activated('px-spoofed')).to.equal(false);
      expect(await upgradeStatus(t.url, OPERATOR)).to.equal('Unexpected server response: 401');
    });

    it('believes them with the secret', async () => {
      const res = await activate(t, 'px-real', { ...OPERATOR, 'x-batchiepatchie-proxy-secret': SECRET });
      expect(res.status).to.equal(200);
      expect(await activated('px-real')).to.equal(true);
      expect(await upgradeStatus(t.url, { ...OPERATOR, 'x-batchiepatchie-proxy-secret': SECRET })).to.equal('open');
    });

    it('refuses a request carrying an identity header twice (400), even with the secret', async () => {
      const cases: [string, [string, string][]][] = [
        ['user twice', [['x-forwarded-user', 'vera@example.com'], ['x-forwarded-user', 'mallory@example.com']]],
        ['groups twice', [['x-forwarded-user', 'vera@example.com'], ['x-forwarded-groups', 'staff'], ['X-Forwarded-Groups', 'batch-admins']]],
      ];
      for (const [name, headers] of cases) {
        const res = await rawPost(t.url, '/api/v1/job_queues/px-dup/activate', [...headers, ['x-batchiepatchie-proxy-secret', SECRET]]);
        expect(res.status, name).to.equal(400);
        expect(res.body.error, name).to.match(/header given more than once/);
      }
      expect(await activated('px-dup')).to.equal(false);
    });
  });

  describe('with auth_proxy_trusted_cidrs', () => {
    it('believes identity headers only from a trusted peer address, whatever X-Forwarded-For says', async () => {
      const elsewhere = await startTestApi({ tdb, config: { ...proxyConfig, auth_proxy_trusted_cidrs: ['10.0.0.0/8', 'fd00::/8'] } });
      try {
        const res = await activate(elsewhere, 'px-cidr', { ...OPERATOR, 'x-forwarded-for': '10.1.2.3' });
        expect(res.status).to.equal(401);
        expect(await activated('px-cidr')).to.equal(false);
      } finally {
        await elsewhere.close();
      }
      const loopback = await startTestApi({ tdb, config: { ...proxyConfig, auth_proxy_trusted_cidrs: ['127.0.0.0/8'] } });
      try {
        expect((await activate(loopback, 'px-cidr', OPERATOR)).status).to.equal(200);
        expect(await activated('px-cidr')).to.equal(true);
      } finally {
        await loopback.close();
      }
    });

    it('needs both the address and the secret when both are set', async () => {
      const both = await startTestApi({ tdb, config: { ...proxyConfig, auth_proxy_trusted_cidrs: ['127.0.0.1'], auth_proxy_secret: SECRET } });
      try {
        expect((await activate(both, 'px-both', OPERATOR)).status).to.equal(401);
        expect(await activated('px-both')).to.equal(false);
        expect((await activate(both, 'px-both', { ...OPERATOR, 'x-batchiepatchie-proxy-secret': SECRET })).status).to.equal(200);
      } finally {
        await both.close();
      }
    });
  });

  it('refuses to start proxy mode with neither check, naming the key', async () => {
    let error: Error | null = null;
    try {
      const api = await startApi({ ...(await startTestConfig()), ...proxyConfig }, { db: tdb.db, logger: createLogger('silent') });
      await api.close();
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.match(/^auth_proxy_secret: expected auth_proxy_secret and\/or auth_proxy_trusted_cidrs/);
  });

  async function startTestConfig() {
    return { ...tdb.config, host: '127.0.0.1', port: 0, aws_endpoint: 'http://127.0.0.1:9' };
  }
});
