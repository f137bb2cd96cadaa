import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { CONFIG_KEYS, configWith, describeConfig, envVarFor } from '../../src/config';

describe('config: describeConfig', () => {
  const secretful = configWith({
    database_name: 'bp',
    database_password: 'db-secret-1',
    notify_secret: 'notify-secret-2',
    redis_url: 'rediss://default:redis-secret-3@cache:6380',
    aws_endpoint: 'https://key:aws-secret-4@s3.example',
    auth_mode: 'tokens',
    auth_tokens: [
      { name: 'ci', role: 'operator', token: 'token-secret-5' },
      { role: 'viewer', token: 'token-secret-6' },
    ],
  });

  it('redacts passwords, token values and the notify secret, and nothing else', () => {
    const described = describeConfig(secretful);
    const text = JSON.stringify(described);
    for (const secret of ['db-secret-1', 'notify-secret-2', 'redis-secret-3', 'aws-secret-4', 'token-secret-5', 'token-secret-6']) {
      expect(text).not.to.contain(secret);
    }
    expect(described.database_password).to.equal('[redacted]');
    expect(described.notify_secret).to.equal('[redacted]');
    expect(described.redis_url).to.equal('rediss://default:redacted@cache:6380');
    expect(described.auth_tokens).to.deep.equal([
      { name: 'ci', role: 'operator', token: '[redacted]' },
      { role: 'viewer', token: '[redacted]' },
    ]);
    expect(described).to.include({ database_name: 'bp', port: secretful.port, auth_mode: 'tokens' });
  });

  it('leaves unset secrets absent and does not touch the config it describes', () => {
    const plain = configWith({ database_name: 'bp' });
    const described = describeConfig(plain);
    expect(described).not.to.have.property('database_password');
    expect(described).not.to.have.property('notify_secret');
    describeConfig(secretful);
    expect(secretful.database_password).to.equal('db-secret-1');
    expect(secretful.auth_tokens[0].token).to.equal('token-secret-5');
  });
});

describe('config: docs/configuration.md', () => {
  const doc = readFileSync(path.resolve(__dirname, '../../docs/configuration.md'), 'utf8');

  it('documents every key and its environment variable', () => {
    for (const key of Object.keys(CONFIG_KEYS)) {
      expect(doc, `docs/configuration.md lacks a row for ${key}`).to.match(new RegExp(`^\\| \`${key}\` \\|`, 'm'));
    }
    expect(doc).to.contain(envVarFor('sync_period'));
  });
});
