import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError } from '../../src/config';

/** The seed's example file (deployment.md), which must keep loading unchanged. */
export const SEED_TOML = `
host = "0.0.0.0"
port = 5454
region = "us-west-2"
database_host = "postgres"
database_port = 5432
database_username = "postgres"
database_name = "postgres"
database_password = "123456"
frontend_assets = "local"
frontend_assets_local_prefix = "frontend/dist"
`;

/** The minimum a file needs: the database keys without defaults. */
export const MINIMAL_TOML = `
database_host = "db.internal"
database_username = "bp"
database_name = "batchiepatchie"
`;

/** A temporary directory of real files for one test file; call cleanup() in after(). */
export function tempDir() {
  const dir = mkdtempSync(path.join(tmpdir(), 'bp-config-'));
  return {
    dir,
    write(name: string, content: string): string {
      const file = path.join(dir, name);
      writeFileSync(file, content);
      return file;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs fn, which must reject with a ConfigError, and returns that error. */
export async function configError(fn: () => Promise<unknown>): Promise<ConfigError> {
  try {
    await fn();
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  expect.fail('expected a ConfigError, but loading succeeded');
}

/** The problem about `key` (the line starting with it); fails the test when there is none. */
export function problemAbout(err: ConfigError, key: string): string {
  const found = err.problems.find((p) => p === key || p.startsWith(`${key}:`) || p.startsWith(`${key} (`) || p.startsWith(`${key}[`));
  expect(found, `no problem about ${key} in:\n${err.message}`).to.be.a('string');
  return found as string;
}

/** A silent warning sink that remembers what it was told. */
export function warnings() {
  const seen: string[] = [];
  return { seen, onWarning: (m: string) => seen.push(m) };
}
