import { expect } from 'chai';
import { loadConfig } from '../../src/config';
import { substituteString } from '../../src/config/substitute';
import { configError, MINIMAL_TOML, problemAbout, tempDir, warnings } from './helpers';

describe('config: environment', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  const load = (toml: string, env: NodeJS.ProcessEnv) => loadConfig({ path: tmp.write('env.toml', toml), env });

  describe('${NAME} substitution', () => {
    it('replaces variables anywhere in any string value, several per string', async () => {
      const config = await load(
        `database_host = "\${DB_HOST}"
database_username = "svc-\${TEAM}-\${STAGE}"
database_name = "bp"
database_password = "\${DB_PASSWORD}"
auth_proxy_operator_groups = ["\${TEAM}-admins", "sre"]
auth_tokens = ["ci=operator:\${CI_TOKEN}"]
`,
        { DB_HOST: 'db.prod', TEAM: 'data', STAGE: 'prod', DB_PASSWORD: 'p@ss "quoted"', CI_TOKEN: 'tok123' },
      );
      expect(config.database_host).to.equal('db.prod');
      expect(config.database_username).to.equal('svc-data-prod');
      expect(config.database_password).to.equal('p@ss "quoted"');
      expect(config.auth_proxy_operator_groups).to.deep.equal(['data-admins', 'sre']);
      expect(config.auth_tokens).to.deep.equal([{ name: 'ci', role: 'operator', token: 'tok123' }]);
    });

    it('substitutes an empty variable as an empty string, and leaves a lone $ alone', async () => {
      const config = await load(`${MINIMAL_TOML}\ndatabase_password = "a\${EMPTY}b$c{d}"\n`, { EMPTY: '' });
      expect(config.database_password).to.equal('ab$c{d}');
    });

    it('gives a substituted number or boolean the key\'s type', async () => {
      const config = await load(`${MINIMAL_TOML}\nport = "\${PORT}"\nuse_cleaner = "\${CLEAN}"\nsync_period = "\${SYNC}"\n`, {
        PORT: '8081',
        CLEAN: 'true',
        SYNC: '2.5',
      });
      expect(config.port).to.equal(8081);
      expect(config.use_cleaner).to.equal(true);
      expect(config.sync_period).to.equal(2.5);
    });

    it('reports an undefined variable, naming the key and the variable', async () => {
      const err = await configError(() => load(`${MINIMAL_TOML}\ndatabase_password = "\${NOT_SET_ANYWHERE}"\n`, {}));
      expect(err.problems).to.deep.equal([
        'database_password: environment variable NOT_SET_ANYWHERE is not defined (used as "${NOT_SET_ANYWHERE}")',
      ]);
    });

    it('reports an unclosed ${, naming the key', async () => {
      const err = await configError(() => load(`${MINIMAL_TOML}\nregion = "us-\${REGION"\n`, { REGION: 'x' }));
      expect(err.problems).to.have.length(1);
      expect(problemAbout(err, 'region')).to.contain('unclosed "${"');
    });

    it('reports a bad variable inside an array with its position, together with other problems', async () => {
      const err = await configError(() =>
        load(`${MINIMAL_TOML}\nauth_proxy_operator_groups = ["ok", "\${MISSING_GROUP}"]\nport = "\${MISSING_PORT}"\nlog_level = "loud"\n`, {}),
      );
      expect(problemAbout(err, 'auth_proxy_operator_groups[1]')).to.contain('MISSING_GROUP');
      expect(problemAbout(err, 'port')).to.contain('MISSING_PORT');
      problemAbout(err, 'log_level');
      // The key whose substitution failed gets no second, confusing type error.
      expect(err.problems).to.have.length(3);
    });

    it('substituteString: an empty or invalid name, and several problems in one string', () => {
      expect(substituteString('${}', {}, 'k').problems[0]).to.contain('not a valid environment variable name');
      expect(substituteString('${A B}', { 'A B': 'x' }, 'k').problems[0]).to.contain('not a valid environment variable name');
      const r = substituteString('${X}/${Y', { X: '1' }, 'k');
      expect(r.problems).to.deep.equal(['k: unclosed "${" at character 6 (expected "${NAME}")']);
      expect(substituteString('${X}${X}', { X: 'ab' }, 'k')).to.deep.equal({ value: 'abab', problems: [] });
    });
  });

  describe('BATCHIEPATCHIE_<KEY> overrides', () => {
    it('overrides strings, integers, numbers, booleans, lists and tokens', async () => {
      const config = await load(`${MINIMAL_TOML}\nport = 5454\nhost = "0.0.0.0"\nuse_auto_scaler = true\n`, {
        BATCHIEPATCHIE_HOST: '10.0.0.1',
        BATCHIEPATCHIE_PORT: '9000',
        BATCHIEPATCHIE_DATABASE_HOST: 'override.db',
        BATCHIEPATCHIE_SYNC_PERIOD: '0.5',
        BATCHIEPATCHIE_USE_AUTO_SCALER: 'false',
        BATCHIEPATCHIE_USE_CLEANER: '1',
        BATCHIEPATCHIE_KILL_STUCK_JOBS: 'TRUE',
        BATCHIEPATCHIE_USE_DATADOG_TRACING: '0',
        BATCHIEPATCHIE_AUTH_MODE: 'tokens',
        BATCHIEPATCHIE_AUTH_TOKENS: 'viewer:v1, ci=operator:o1== ,',
        BATCHIEPATCHIE_AUTH_PROXY_OPERATOR_GROUPS: 'admins, sre',
        BATCHIEPATCHIE_AWS_ENDPOINT: 'http://127.0.0.1:4566',
      });
      expect(config).to.include({
        host: '10.0.0.1',
        port: 9000,
        database_host: 'override.db',
        sync_period: 0.5,
        use_auto_scaler: false,
        use_cleaner: true,
        kill_stuck_jobs: true,
        use_datadog_tracing: false,
        auth_mode: 'tokens',
        aws_endpoint: 'http://127.0.0.1:4566',
      });
      expect(config.auth_tokens).to.deep.equal([
        { role: 'viewer', token: 'v1' },
        { name: 'ci', role: 'operator', token: 'o1==' },
      ]);
      expect(config.auth_proxy_operator_groups).to.deep.equal(['admins', 'sre']);
    });

    it('can supply a key the file lacks (here every database key)', async () => {
      const config = await load('port = 5454\n', {
        BATCHIEPATCHIE_DATABASE_HOST: 'h',
        BATCHIEPATCHIE_DATABASE_USERNAME: 'u',
        BATCHIEPATCHIE_DATABASE_NAME: 'n',
        BATCHIEPATCHIE_DATABASE_PORT: '6543',
      });
      expect(config).to.include({ database_host: 'h', database_username: 'u', database_name: 'n', database_port: 6543 });
    });

    it('warns about a BATCHIEPATCHIE_ variable that sets no key, suggesting the key meant', async () => {
      const w = warnings();
      const file = tmp.write('warn.toml', MINIMAL_TOML);
      const config = await loadConfig({
        path: file,
        env: { BATCHIEPATCHIE_SYNC_PERIDO: '5', BATCHIEPATCHIE_CONFIG: file, BATCHIEPATCHIE_PORT: '6100' },
        onWarning: w.onWarning,
      });
      expect(config.sync_period).to.equal(30);
      expect(config.port).to.equal(6100);
      expect(w.seen).to.deep.equal([
        'BATCHIEPATCHIE_SYNC_PERIDO is not a configuration key and is ignored (did you mean BATCHIEPATCHIE_SYNC_PERIOD?)',
      ]);
    });

    it('treats an empty variable as unset', async () => {
      const config = await load(`${MINIMAL_TOML}\nport = 7000\n`, { BATCHIEPATCHIE_PORT: '' });
      expect(config.port).to.equal(7000);
    });

    it('does not substitute ${NAME} inside an override (the shell already did)', async () => {
      const config = await load(MINIMAL_TOML, { BATCHIEPATCHIE_DATABASE_PASSWORD: 'lit${X}', X: 'no' });
      expect(config.database_password).to.equal('lit${X}');
    });

    it('reports a bad override under its key and its variable, alongside file problems', async () => {
      const err = await configError(() =>
        load(`${MINIMAL_TOML}\nclean_period = -1\n`, {
          BATCHIEPATCHIE_PORT: 'eighty',
          BATCHIEPATCHIE_USE_CLEANER: 'yes',
          BATCHIEPATCHIE_WORKER_CONCURRENCY: '2.5',
          BATCHIEPATCHIE_REDIS_URL: 'localhost',
        }),
      );
      expect(problemAbout(err, 'port')).to.equal('port (from BATCHIEPATCHIE_PORT): expected an integer from 1 to 65535, got "eighty"');
      expect(problemAbout(err, 'use_cleaner')).to.equal('use_cleaner (from BATCHIEPATCHIE_USE_CLEANER): expected true or false, got "yes"');
      expect(problemAbout(err, 'worker_concurrency')).to.contain('(from BATCHIEPATCHIE_WORKER_CONCURRENCY): expected a positive integer, got "2.5"');
      expect(problemAbout(err, 'redis_url')).to.contain('(from BATCHIEPATCHIE_REDIS_URL)');
      expect(problemAbout(err, 'clean_period')).to.equal('clean_period: expected a positive number of seconds, got -1');
      expect(err.problems).to.have.length(5);
    });

    it('a password override conflicts with password_bucket in the file', async () => {
      const err = await configError(() =>
        load(`${MINIMAL_TOML}\npassword_bucket = "b"\npassword_key = "k"\n`, { BATCHIEPATCHIE_DATABASE_PASSWORD: 'pw' }),
      );
      expect(problemAbout(err, 'database_password')).to.contain('must not be set together');
    });
  });
});
