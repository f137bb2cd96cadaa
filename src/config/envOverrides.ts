import { CONFIG_KEY_NAMES, CONFIG_KEYS, envVarFor, isConfigKey, type ConfigKey, type KeyKind } from './keys';

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Turns an environment string into the key's type. A value that does not fit
 * is returned unchanged, so validation reports it with the key's expectation
 * (e.g. "port: expected an integer from 1 to 65535, got "abc"").
 */
export function coerceEnvValue(kind: KeyKind, raw: string): unknown {
  const text = raw.trim();
  switch (kind) {
    case 'integer':
      return INTEGER.test(text) ? Number(text) : raw;
    case 'number':
      return NUMBER.test(text) ? Number(text) : raw;
    case 'boolean': {
      const lower = text.toLowerCase();
      if (lower === 'true' || lower === '1') return true;
      if (lower === 'false' || lower === '0') return false;
      return raw;
    }
    // Lists and tokens stay strings: the schema splits them, the same way it
    // splits a comma-separated string written in the file.
    case 'list':
    case 'tokens':
    case 'string':
      return raw;
  }
}

/**
 * Values of every `BATCHIEPATCHIE_<KEY>` variable that is set and not empty.
 * Empty variables count as unset (compose files and shells leave them empty).
 */
export function envOverrides(env: NodeJS.ProcessEnv): Partial<Record<ConfigKey, unknown>> {
  const values: Partial<Record<ConfigKey, unknown>> = {};
  for (const key of CONFIG_KEY_NAMES) {
    const raw = env[envVarFor(key)];
    if (raw === undefined || raw === '') continue;
    values[key] = coerceEnvValue(CONFIG_KEYS[key], raw);
  }
  return values;
}

/**
 * Variables that are not configuration keys (never a typo): the file, how
 * it is run, and the Datadog Agent's address for tracing (src/tracing.ts), as
 * the Go original's deployments set it.
 */
const NON_KEY_VARIABLES = new Set(['BATCHIEPATCHIE_CONFIG', 'BATCHIEPATCHIE_FROM_SOURCE', 'BATCHIEPATCHIE_IP', 'BATCHIEPATCHIE_OTLP_PORT']);

/**
 * `BATCHIEPATCHIE_*` variables that override nothing, e.g. a misspelt key.
 * Only a warning: other tools may use the prefix for their own variables.
 */
export function unusedEnvVariables(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env).filter(
    (name) =>
      name.startsWith('BATCHIEPATCHIE_') && !NON_KEY_VARIABLES.has(name) && !isConfigKey(name.slice('BATCHIEPATCHIE_'.length).toLowerCase()),
  );
}
