import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { createTestDatabase, PG, type TestDatabase } from '../helpers/db';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

/** `npx knex migrate:*` reads knexfile.ts, which reads the same config as `batchiepatchie migrate`. */
describe('knex CLI with knexfile.ts', function () {
  this.timeout(60_000);
  let t: TestDatabase;
  const env = () => ({
    ...process.env,
    BATCHIEPATCHIE_CONFIG: path.join(ROOT, 'config/local.toml'),
    BATCHIEPATCHIE_DATABASE_NAME: t.name,
    BATCHIEPATCHIE_DATABASE_HOST: PG.database_host,
    BATCHIEPATCHIE_DATABASE_PORT: String(PG.database_port),
    BATCHIEPATCHIE_DATABASE_USERNAME: PG.database_username,
  });
  const knexCli = (...args: string[]) =>
    run(process.execPath, [path.join(ROOT, 'node_modules/knex/bin/cli.js'), ...args], { cwd: ROOT, env: env() });

  before(async () => {
    t = await createTestDatabase({ migrate: false });
  });
  after(async () => t.drop());

  it('migrate:latest builds the schema and migrate:rollback --all removes it', async () => {
    const up = await knexCli('migrate:latest');
    expect(up.stdout).to.match(/Batch 1 run: \d+ migrations/);
    expect(await t.db.schema.hasTable('jobs')).to.equal(true);
    const down = await knexCli('migrate:rollback', '--all');
    expect(down.stdout).to.match(/rolled back/);
    expect(await t.db.schema.hasTable('jobs')).to.equal(false);
  });
});
