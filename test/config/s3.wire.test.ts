import { existsSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../src/config';
import { configError, MINIMAL_TOML } from './helpers';

/** The part of the simulator's contract (BRIEF) this test uses. */
interface WireSimulator {
  endpoint: string;
  model: { putObject(bucket: string, key: string, body: string): void };
  stop(): Promise<void>;
}
type StartSimulator = (opts?: { port?: number; scenario?: 'empty' | 'demo' }) => Promise<WireSimulator>;

/** The simulator's entry point, or undefined while it has not landed. */
function findStartSimulator(): StartSimulator | undefined {
  const entry = path.resolve(__dirname, '../../src/simulator/index.ts');
  if (!existsSync(entry)) return undefined;
  const mod = require(entry) as { startSimulator?: unknown };
  return typeof mod.startSimulator === 'function' ? (mod.startSimulator as StartSimulator) : undefined;
}

/**
 * The configuration and the password fetched over HTTP by the real S3 client
 * (createS3Client: path-style, the endpoint from BATCHIEPATCHIE_AWS_ENDPOINT,
 * then the file's aws_endpoint), from the AWS simulator.
 */
describe('config: S3 over the wire (simulator)', function () {
  let sim: WireSimulator | undefined;

  before(async function () {
    const startSimulator = findStartSimulator();
    if (!startSimulator) this.skip();
    else sim = await startSimulator({ port: 0, scenario: 'empty' });
  });
  after(async () => sim?.stop());

  const env = () => ({ BATCHIEPATCHIE_AWS_ENDPOINT: sim?.endpoint ?? '', BATCHIEPATCHIE_REGION: 'us-east-1' });

  it('loads s3://bucket/key and the password object with real SDK calls', async () => {
    if (!sim) throw new Error('simulator not started');
    sim.model.putObject('ops-config', 'batchiepatchie/prod.toml', `${MINIMAL_TOML}\nport = 7070\npassword_bucket = "ops-secrets"\npassword_key = "bp/db.toml"\n`);
    sim.model.putObject('ops-secrets', 'bp/db.toml', 'database_password = "over-the-wire"\n');
    const config = await loadConfig({ path: 's3://ops-config/batchiepatchie/prod.toml', env: env() });
    expect(config.port).to.equal(7070);
    expect(config.aws_endpoint).to.equal(sim.endpoint);
    expect(config.database_password).to.equal('over-the-wire');
  });

  it('reports a missing object with the error S3 returns', async () => {
    const err = await configError(() => loadConfig({ path: 's3://ops-config/nope.toml', env: env() }));
    expect(err.problems[0]).to.contain('cannot read s3://ops-config/nope.toml').and.to.match(/NoSuchKey|NoSuchBucket|NotFound/);
  });
});
