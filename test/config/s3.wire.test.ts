import { expect } from 'chai';
import { loadConfig } from '../../src/config';
import { startSimulator, type SimulatorHandle } from 'aws-batch-simulator';
import { configError, MINIMAL_TOML } from './helpers';

/**
 * The configuration and the password fetched over HTTP by the real S3 client
 * (createS3Client: path-style, the endpoint from BATCHIEPATCHIE_AWS_ENDPOINT,
 * then the file's aws_endpoint), from the AWS simulator.
 */
describe('config: S3 over the wire (simulator)', function () {
  let sim: SimulatorHandle;

  before(async () => {
    sim = await startSimulator({ port: 0, scenario: 'empty' });
  });
  after(async () => sim?.stop());

  const env = () => ({ BATCHIEPATCHIE_AWS_ENDPOINT: sim.endpoint, BATCHIEPATCHIE_REGION: 'us-east-1' });

  it('loads s3://bucket/key and the password object with real SDK calls', async () => {
    sim.model.putObject('ops-config', 'batchiepatchie/prod.toml', `${MINIMAL_TOML}\nport = 7070\npassword_bucket = "ops-secrets"\npassword_key = "bp/db.toml"\n`);
    sim.model.putObject('ops-secrets', 'bp/db.toml', 'database_password = "over-the-wire"\n');
    sim.counters.reset();
    const config = await loadConfig({ path: 's3://ops-config/batchiepatchie/prod.toml', env: env() });
    expect(config.port).to.equal(7070);
    expect(config.aws_endpoint).to.equal(sim.endpoint);
    expect(config.database_password).to.equal('over-the-wire');
    expect(sim.counters.get()['S3.GetObject']).to.equal(2);
  });

  it('reports a missing object with the error S3 returns', async () => {
    const err = await configError(() => loadConfig({ path: 's3://ops-config/nope.toml', env: env() }));
    expect(err.problems[0]).to.contain('cannot read s3://ops-config/nope.toml').and.to.match(/NoSuchKey|NoSuchBucket|NotFound/);
  });
});
