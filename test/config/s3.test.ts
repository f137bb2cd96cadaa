import { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, S3Client, S3ServiceException, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { expect } from 'chai';
import { loadConfig } from '../../src/config';
import { configError, MINIMAL_TOML, problemAbout, tempDir } from './helpers';

/** An S3 object body as the SDK hands it out (a stream with transform helpers). */
function s3Body(text: string): GetObjectCommandOutput['Body'] {
  const bytes = Buffer.from(text, 'utf8');
  return Object.assign(Readable.from([bytes]), {
    transformToString: async () => text,
    transformToByteArray: async () => new Uint8Array(bytes),
    transformToWebStream: (): ReadableStream => {
      throw new Error('not used by the config loader');
    },
  });
}

/**
 * S3 through a stubbed client: the loader's S3 paths without a network. The
 * same paths over the real wire are in s3.wire.test.ts (against the simulator).
 */
describe('config: S3 (stubbed client)', () => {
  const tmp = tempDir();
  const s3 = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const mock = mockClient(s3);
  after(() => {
    mock.restore();
    s3.destroy();
    tmp.cleanup();
  });
  beforeEach(() => mock.reset());

  const getObjectCalls = () => mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input);

  it('reads the configuration from s3://bucket/key', async () => {
    mock.on(GetObjectCommand, { Bucket: 'ops-config', Key: 'batchiepatchie/prod.toml' }).resolves({ Body: s3Body(`${MINIMAL_TOML}\nport = 7777\n`) });
    const config = await loadConfig({ path: 's3://ops-config/batchiepatchie/prod.toml', env: {}, s3 });
    expect(config.port).to.equal(7777);
    expect(config.database_host).to.equal('db.internal');
    expect(getObjectCalls()).to.deep.equal([{ Bucket: 'ops-config', Key: 'batchiepatchie/prod.toml' }]);
  });

  it('takes an s3:// path from BATCHIEPATCHIE_CONFIG and applies overrides to it', async () => {
    mock.on(GetObjectCommand).resolves({ Body: s3Body(MINIMAL_TOML) });
    const config = await loadConfig({ env: { BATCHIEPATCHIE_CONFIG: 's3://b/k.toml', BATCHIEPATCHIE_PORT: '6000' }, s3 });
    expect(config.port).to.equal(6000);
    expect(getObjectCalls()).to.deep.equal([{ Bucket: 'b', Key: 'k.toml' }]);
  });

  it('reports validation problems of a file from S3 under its s3:// path', async () => {
    mock.on(GetObjectCommand).resolves({ Body: s3Body('port = 0\n') });
    const err = await configError(() => loadConfig({ path: 's3://b/bad.toml', env: {}, s3 }));
    expect(err.source).to.equal('s3://b/bad.toml');
    expect(err.message).to.contain('s3://b/bad.toml');
    problemAbout(err, 'port');
    problemAbout(err, 'database_host');
  });

  it('rejects an s3:// path without a key', async () => {
    const err = await configError(() => loadConfig({ path: 's3://bucket-only', env: {}, s3 }));
    expect(err.message).to.contain('expected s3://bucket/key');
    expect(getObjectCalls()).to.have.length(0);
  });

  it('names the object and the S3 error when the object cannot be read', async () => {
    mock.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }));
    const err = await configError(() => loadConfig({ path: 's3://b/missing.toml', env: {}, s3 }));
    expect(err.problems).to.have.length(1);
    expect(err.problems[0]).to.contain('cannot read s3://b/missing.toml').and.to.contain('NoSuchKey');
  });

  describe('password_bucket + password_key', () => {
    const withPasswordObject = `${MINIMAL_TOML}\npassword_bucket = "secrets"\npassword_key = "bp/db.toml"\n`;

    it('fetches the object and takes its database_password line', async () => {
      mock.on(GetObjectCommand, { Bucket: 'secrets', Key: 'bp/db.toml' }).resolves({ Body: s3Body('# rotated monthly\ndatabase_password = "from-s3 \\"x\\""\n') });
      const config = await loadConfig({ path: tmp.write('pw.toml', withPasswordObject), env: {}, s3 });
      expect(config.database_password).to.equal('from-s3 "x"');
      expect(getObjectCalls()).to.deep.equal([{ Bucket: 'secrets', Key: 'bp/db.toml' }]);
    });

    it('works when the configuration itself also comes from S3 (one client for both)', async () => {
      mock.on(GetObjectCommand, { Bucket: 'cfg', Key: 'bp.toml' }).resolves({ Body: s3Body(withPasswordObject) });
      mock.on(GetObjectCommand, { Bucket: 'secrets', Key: 'bp/db.toml' }).resolves({ Body: s3Body('database_password = "pw2"\n') });
      const config = await loadConfig({ path: 's3://cfg/bp.toml', env: {}, s3 });
      expect(config.database_password).to.equal('pw2');
      expect(getObjectCalls()).to.have.length(2);
    });

    it('substitutes ${NAME} in the bucket and key', async () => {
      mock.on(GetObjectCommand, { Bucket: 'secrets-prod', Key: 'bp/db.toml' }).resolves({ Body: s3Body('database_password = "p"\n') });
      const file = tmp.write('pw-env.toml', `${MINIMAL_TOML}\npassword_bucket = "secrets-\${STAGE}"\npassword_key = "bp/db.toml"\n`);
      const config = await loadConfig({ path: file, env: { STAGE: 'prod' }, s3 });
      expect(config.database_password).to.equal('p');
    });

    it('reports an object without a database_password line, without quoting the object', async () => {
      mock.on(GetObjectCommand).resolves({ Body: s3Body('password = "do-not-print-me"\n') });
      const err = await configError(() => loadConfig({ path: tmp.write('pw2.toml', withPasswordObject), env: {}, s3 }));
      expect(err.problems).to.have.length(1);
      expect(err.problems[0]).to.match(/^password_bucket\/password_key: s3:\/\/secrets\/bp\/db.toml: expected a line database_password = "\.\.\."/);
      expect(err.message).not.to.contain('do-not-print-me');
    });

    it('reports an object that is not TOML, without quoting it', async () => {
      mock.on(GetObjectCommand).resolves({ Body: s3Body('database_password = do-not-print-me\n') });
      const err = await configError(() => loadConfig({ path: tmp.write('pw3.toml', withPasswordObject), env: {}, s3 }));
      expect(err.problems[0]).to.contain('not valid TOML (line 1)');
      expect(err.message).not.to.contain('do-not-print-me');
    });

    it('reports an unreadable object with the S3 error', async () => {
      mock.on(GetObjectCommand).rejects(
        new S3ServiceException({ name: 'AccessDenied', $fault: 'client', message: 'Access Denied', $metadata: { httpStatusCode: 403 } }),
      );
      const err = await configError(() => loadConfig({ path: tmp.write('pw4.toml', withPasswordObject), env: {}, s3 }));
      expect(err.problems[0]).to.contain('password_bucket/password_key: cannot read s3://secrets/bp/db.toml: AccessDenied: Access Denied');
    });

    it('touches S3 only once the rest of the file is valid', async () => {
      mock.on(GetObjectCommand).resolves({ Body: s3Body('database_password = "p"\n') });
      await configError(() => loadConfig({ path: tmp.write('pw5.toml', `${withPasswordObject}\nport = -1\n`), env: {}, s3 }));
      expect(getObjectCalls()).to.have.length(0);
    });
  });
});
