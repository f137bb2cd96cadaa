import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { createTestDatabase, PG, type TestDatabase } from '../helpers/db';
import { tempDir } from './helpers';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/batchiepatchie');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs bin/batchiepatchie as an operator would; BATCHIEPATCHIE_* of this process are not inherited. */
function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('BATCHIEPATCHIE_') || k === 'BATCHIEPATCHIE_FROM_SOURCE'),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...inherited, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('config: the CLI on a configuration', function () {
  this.timeout(60_000);
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('exits 2 and lists every problem with its key when the file is bad', async () => {
    const bad = tmp.write(
      'bad.toml',
      `port = 0
frontend_assets = "s3"
sync_perod = 10
database_password = "\${UNDEFINED_FOR_CLI_TEST}"
log_level = "chatty"
`,
    );
    const run = await runCli(['migrate', bad]);
    expect(run.code, run.stderr).to.equal(2);
    const lines = run.stderr.split('\n').filter((l) => l.startsWith('  - '));
    const expectedKeys = [
      'database_password',
      'port',
      'database_host',
      'database_username',
      'database_name',
      'log_level',
      'sync_perod',
      'frontend_assets_bucket',
      'frontend_assets_key',
    ];
    expect(run.stderr).to.contain(`Invalid configuration ${bad} (${expectedKeys.length} problems)`);
    expect(lines.map((l) => l.slice(4).split(/[: ]/)[0]).sort()).to.deep.equal([...expectedKeys].sort());
    expect(run.stdout).to.equal('');
  });

  it('exits 2 when no configuration is given at all', async () => {
    const run = await runCli(['migrate']);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.contain('BATCHIEPATCHIE_CONFIG');
  });

  describe('with a good file', () => {
    let database: TestDatabase;
    before(async () => {
      database = await createTestDatabase({ migrate: false });
    });
    after(async () => database.drop());

    it('migrates the database the file names, taking the file from BATCHIEPATCHIE_CONFIG and the password from the environment', async () => {
      const good = tmp.write(
        'good.toml',
        `database_host = "${PG.database_host}"
database_port = ${PG.database_port}
database_username = "${PG.database_username}"
database_name = "\${BP_TEST_DB}"
`,
      );
      const run = await runCli(['migrate'], {
        BATCHIEPATCHIE_CONFIG: good,
        BP_TEST_DB: database.name,
        ...(PG.database_password ? { BATCHIEPATCHIE_DATABASE_PASSWORD: PG.database_password } : {}),
      });
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.match(/applied \d+ migration/);
      const tables = await database.db('pg_tables').where({ schemaname: 'public', tablename: 'jobs' }).count<{ count: number }[]>('* as count');
      expect(Number(tables[0].count)).to.equal(1);
    });
  });
});
