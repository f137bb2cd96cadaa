import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { startSimulator, type SimulatorHandle } from 'aws-batch-simulator';
import { expect } from 'chai';
import { createS3Client } from '../../src/aws/clients';
import { loadConfig } from '../../src/config';
import { configError, MINIMAL_TOML, problemAbout, tempDir } from './helpers';

/**
 * The configuration and the database password from S3, read by the real S3
 * client over HTTP from the AWS simulator's S3. Only AccessDenied, which the
 * simulator cannot produce, goes through a stubbed client (last describe).
 */
describe('config: S3 (simulator)', () => {
  const tmp = tempDir();
  let sim: SimulatorHandle;
  let s3: S3Client;

  before(async () => {
    sim = await startSimulator({ port: 0, scenario: 'empty' });
    s3 = createS3Client({ region: 'us-east-1', aws_endpoint: sim.endpoint });
    // Neighbours of every object the tests read: a wrong bucket or key would read one of these.
    sim.model.putObject('ops-config', 'batchiepatchie/other.toml', `${MINIMAL_TOML}\nport = 1111\n`);
    sim.model.putObject('secrets', 'bp/other.toml', 'database_password = "wrong-object"\n');
  });
  after(async () => {
    s3?.destroy();
    await sim?.stop();
    tmp.cleanup();
  });
  beforeEach(() => sim.counters.reset());

  const getObjectCalls = () => sim.counters.get()['S3.GetObject'] ?? 0;

  it('reads the configuration from s3://bucket/key', async () => {
    sim.model.putObject('ops-config', 'batchiepatchie/prod.toml', `${MINIMAL_TOML}\nport = 7777\n`);
    const config = await loadConfig({ path: 's3://ops-config/batchiepatchie/prod.toml', env: {}, s3 });
    expect(config.port).to.equal(7777);
    expect(config.database_host).to.equal('db.internal');
    expect(getObjectCalls()).to.equal(1);
  });

  it('takes an s3:// path from BATCHIEPATCHIE_CONFIG and applies overrides to it', async () => {
    sim.model.putObject('b', 'k.toml', MINIMAL_TOML);
    const config = await loadConfig({ env: { BATCHIEPATCHIE_CONFIG: 's3://b/k.toml', BATCHIEPATCHIE_PORT: '6000' }, s3 });
    expect(config.port).to.equal(6000);
    expect(config.database_name).to.equal('batchiepatchie');
    expect(getObjectCalls()).to.equal(1);
  });

  it('builds its own client from BATCHIEPATCHIE_AWS_ENDPOINT when none is given, and uses it for the password too', async () => {
    sim.model.putObject('ops-config', 'batchiepatchie/wire.toml', `${MINIMAL_TOML}\nport = 7070\npassword_bucket = "secrets"\npassword_key = "bp/wire.toml"\n`);
    sim.model.putObject('secrets', 'bp/wire.toml', 'database_password = "over-the-wire"\n');
    const env = { BATCHIEPATCHIE_AWS_ENDPOINT: sim.endpoint, BATCHIEPATCHIE_REGION: 'us-east-1' };
    const config = await loadConfig({ path: 's3://ops-config/batchiepatchie/wire.toml', env });
    expect(config.port).to.equal(7070);
    expect(config.aws_endpoint).to.equal(sim.endpoint);
    expect(config.database_password).to.equal('over-the-wire');
    expect(getObjectCalls()).to.equal(2);
  });

  it('substitutes ${NAME} in a file from S3, and names the key of an undefined one', async () => {
    sim.model.putObject('b', 'env.toml', `${MINIMAL_TOML}\nredis_prefix = "bp-\${STAGE}"\n`);
    expect((await loadConfig({ path: 's3://b/env.toml', env: { STAGE: 'prod' }, s3 })).redis_prefix).to.equal('bp-prod');
    const err = await configError(() => loadConfig({ path: 's3://b/env.toml', env: {}, s3 }));
    expect(problemAbout(err, 'redis_prefix')).to.contain('STAGE');
  });

  it('reports validation problems of a file from S3 under its s3:// path', async () => {
    sim.model.putObject('b', 'bad.toml', 'port = 0\n');
    const err = await configError(() => loadConfig({ path: 's3://b/bad.toml', env: {}, s3 }));
    expect(err.source).to.equal('s3://b/bad.toml');
    expect(err.message).to.contain('s3://b/bad.toml');
    problemAbout(err, 'port');
    problemAbout(err, 'database_host');
  });

  it('reports a file from S3 that is not TOML, naming it', async () => {
    sim.model.putObject('b', 'broken.toml', 'port = = 1\n');
    const err = await configError(() => loadConfig({ path: 's3://b/broken.toml', env: {}, s3 }));
    expect(err.message).to.contain('s3://b/broken.toml');
    expect(err.message).to.match(/line 1/);
  });

  it('rejects an s3:// path without a key, without calling S3', async () => {
    const err = await configError(() => loadConfig({ path: 's3://bucket-only', env: {}, s3 }));
    expect(err.message).to.contain('expected s3://bucket/key');
    expect(getObjectCalls()).to.equal(0);
  });

  it('names the object and the S3 error when the object does not exist', async () => {
    const err = await configError(() => loadConfig({ path: 's3://ops-config/missing.toml', env: {}, s3 }));
    expect(err.problems).to.have.length(1);
    expect(err.problems[0]).to.contain('cannot read s3://ops-config/missing.toml').and.to.contain('NoSuchKey');
    expect(getObjectCalls()).to.equal(1);
  });

  describe('password_bucket + password_key', () => {
    const withPasswordObject = `${MINIMAL_TOML}\npassword_bucket = "secrets"\npassword_key = "bp/db.toml"\n`;

    it('fetches the object and takes its database_password line', async () => {
      sim.model.putObject('secrets', 'bp/db.toml', '# rotated monthly\ndatabase_password = "from-s3 \\"x\\""\n');
      const config = await loadConfig({ path: tmp.write('pw.toml', withPasswordObject), env: {}, s3 });
      expect(config.database_password).to.equal('from-s3 "x"');
      expect(getObjectCalls()).to.equal(1);
    });

    it('works when the configuration itself also comes from S3 (one client for both)', async () => {
      sim.model.putObject('cfg', 'bp.toml', withPasswordObject);
      sim.model.putObject('secrets', 'bp/db.toml', 'database_password = "pw2"\n');
      const config = await loadConfig({ path: 's3://cfg/bp.toml', env: {}, s3 });
      expect(config.database_password).to.equal('pw2');
      expect(getObjectCalls()).to.equal(2);
    });

    it('substitutes ${NAME} in the bucket and key', async () => {
      sim.model.putObject('secrets-prod', 'bp/db-prod.toml', 'database_password = "p"\n');
      const file = tmp.write('pw-env.toml', `${MINIMAL_TOML}\npassword_bucket = "secrets-\${STAGE}"\npassword_key = "bp/db-\${STAGE}.toml"\n`);
      const config = await loadConfig({ path: file, env: { STAGE: 'prod' }, s3 });
      expect(config.database_password).to.equal('p');
    });

    it('reports an object without a database_password line, without quoting the object', async () => {
      sim.model.putObject('secrets', 'bp/no-line.toml', 'password = "do-not-print-me"\n');
      const file = tmp.write('pw2.toml', withPasswordObject.replace('bp/db.toml', 'bp/no-line.toml'));
      const err = await configError(() => loadConfig({ path: file, env: {}, s3 }));
      expect(err.problems).to.have.length(1);
      expect(err.problems[0]).to.match(/^password_bucket\/password_key: s3:\/\/secrets\/bp\/no-line.toml: expected a line database_password = "\.\.\."/);
      expect(err.message).not.to.contain('do-not-print-me');
    });

    it('reports an object that is not TOML, without quoting it', async () => {
      sim.model.putObject('secrets', 'bp/not-toml.toml', 'database_password = do-not-print-me\n');
      const file = tmp.write('pw3.toml', withPasswordObject.replace('bp/db.toml', 'bp/not-toml.toml'));
      const err = await configError(() => loadConfig({ path: file, env: {}, s3 }));
      expect(err.problems[0]).to.contain('not valid TOML (line 1)');
      expect(err.message).not.to.contain('do-not-print-me');
    });

    it('reports a missing object with the S3 error', async () => {
      const file = tmp.write('pw4.toml', withPasswordObject.replace('bp/db.toml', 'bp/missing.toml'));
      const err = await configError(() => loadConfig({ path: file, env: {}, s3 }));
      expect(err.problems[0]).to.contain('password_bucket/password_key: cannot read s3://secrets/bp/missing.toml: NoSuchKey');
    });

    it('touches S3 only once the rest of the file is valid', async () => {
      sim.model.putObject('secrets', 'bp/db.toml', 'database_password = "p"\n');
      const err = await configError(() => loadConfig({ path: tmp.write('pw5.toml', `${withPasswordObject}\nport = -1\n`), env: {}, s3 }));
      problemAbout(err, 'port');
      expect(getObjectCalls()).to.equal(0);
      // The same file made valid does read the object: the count above could have been 1.
      await loadConfig({ path: tmp.write('pw6.toml', withPasswordObject), env: {}, s3 });
      expect(getObjectCalls()).to.equal(1);
    });
  });
});

/** What the simulator cannot answer: S3 refusing access. A stubbed client stands in. */
describe('config: S3 refusing access (stubbed client)', () => {
  const tmp = tempDir();
  const s3 = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const mock = mockClient(s3);
  after(() => {
    mock.restore();
    s3.destroy();
    tmp.cleanup();
  });

  it('reports an unreadable password object with the S3 error', async () => {
    mock.on(GetObjectCommand).rejects(
      new S3ServiceException({ name: 'AccessDenied', $fault: 'client', message: 'Access Denied', $metadata: { httpStatusCode: 403 } }),
    );
    const file = tmp.write('pw.toml', `${MINIMAL_TOML}\npassword_bucket = "secrets"\npassword_key = "bp/db.toml"\n`);
    const err = await configError(() => loadConfig({ path: file, env: {}, s3 }));
    expect(err.problems[0]).to.contain('password_bucket/password_key: cannot read s3://secrets/bp/db.toml: AccessDenied: Access Denied');
    expect(mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).to.deep.equal([{ Bucket: 'secrets', Key: 'bp/db.toml' }]);
  });
});
