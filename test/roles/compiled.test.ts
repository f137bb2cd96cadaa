/**
 * Production runs the compiled build (issue 16): `bin/batchiepatchie` without
 * BATCHIEPATCHIE_FROM_SOURCE runs dist/, and every role starts from it: the
 * migrations (recorded under the names the sources gave them), the API, a
 * worker and a scheduler, each up and then stopped by SIGTERM with exit 0.
 * `npm test` builds dist/ first; run `npm run build` before this file alone.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startSimulator, type SimulatorHandle } from 'aws-batch-simulator';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { freePort } from '../helpers/net';
import { testRedisPrefix } from '../helpers/redis';
import { startRole, stopRole, waitForOutput, type RoleProcess } from '../pipeline/processes';

const ROOT = path.resolve(__dirname, '../..');

describe('the compiled build (dist/) starts every role', function () {
  this.timeout(120_000);
  let t: TestDatabase;
  let sim: SimulatorHandle;
  let redis: ReturnType<typeof testRedisPrefix>;
  let dir: string;
  let configPath: string;

  before(async function () {
    expect(existsSync(path.join(ROOT, 'dist/src/cli.js')), 'dist/src/cli.js: run `npm run build` first').to.equal(true);
    t = await createTestDatabase({ migrate: false });
    sim = await startSimulator({ port: 0, clock: 'manual', scenario: 'empty' });
    redis = testRedisPrefix();
    dir = mkdtempSync(path.join(tmpdir(), 'bp-compiled-'));
    configPath = path.join(dir, 'config.toml');
    writeFileSync(
      configPath,
      [
        'host = "127.0.0.1"',
        `port = ${await freePort()}`,
        `database_host = "${t.config.database_host}"`,
        `database_port = ${t.config.database_port}`,
        `database_username = "${t.config.database_username}"`,
        `database_name = "${t.name}"`,
        `redis_prefix = "${redis.prefix}"`,
        `aws_endpoint = "${sim.endpoint}"`,
        'log_level = "info"',
      ].join('\n'),
    );
  });
  after(async () => {
    await sim?.stop();
    await redis?.cleanup();
    await t?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The role's "configuration loaded" line says which code it runs. */
  const codeOf = (p: RoleProcess) => p.logs().find((l) => l.msg === 'configuration loaded')?.code;

  it('migrate: applies every migration, recorded under its source name', async () => {
    const p = startRole(configPath, 'migrate', { compiled: true });
    expect(await p.exited, p.output()).to.equal(0);
    expect(codeOf(p)).to.equal('compiled');
    const recorded = (await t.db('knex_migrations').select('name').orderBy('name')).map((r: { name: string }) => r.name);
    const sources = readdirSync(path.join(ROOT, 'migrations')).filter((f) => f.endsWith('.ts')).sort();
    expect(recorded).to.deep.equal(sources);
  });

  const roles: [string, RegExp][] = [
    ['api', /"msg":"API listening"/],
    ['worker', /"msg":"pipeline workers started"/],
    ['scheduler', /"msg":"job schedulers registered"/],
  ];
  for (const [role, up] of roles) {
    it(`${role}: comes up from dist/ and exits 0 on SIGTERM`, async () => {
      const p = startRole(configPath, role, { compiled: true });
      try {
        await waitForOutput(p.output, up);
        expect(codeOf(p)).to.equal('compiled');
        expect(await stopRole(p), p.output()).to.equal(0);
      } finally {
        if (p.child.exitCode === null) p.child.kill('SIGKILL');
      }
    });

    it(`${role}: a SIGTERM while it is still starting ends it cleanly, exit 0`, async () => {
      const p = startRole(configPath, role, { compiled: true });
      try {
        // The config is loaded; the role is still connecting to Postgres, Redis and AWS.
        await waitForOutput(p.output, /"msg":"configuration loaded"/);
        expect(await stopRole(p), p.output()).to.equal(0);
      } finally {
        if (p.child.exitCode === null) p.child.kill('SIGKILL');
      }
    });
  }
});
