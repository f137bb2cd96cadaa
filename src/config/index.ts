// STUB, replaced by the config module (issue 2): loadConfig + ConfigError.
import type { Config } from '../types';

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** Local path or s3://bucket/key; falls back to env BATCHIEPATCHIE_CONFIG. */
  path?: string;
  env?: NodeJS.ProcessEnv;
}

export async function loadConfig(_opts: LoadConfigOptions = {}): Promise<Config> {
  throw new ConfigError(['config loading is not implemented yet']);
}
