/**
 * Loads the configuration: TOML from a local path or s3://, ${NAME}
 * substitution, defaults, BATCHIEPATCHIE_<KEY> overrides, validation that
 * reports every problem at once, and the database password from S3. The
 * result is a plain Config that callers pass down; nothing here is global.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { parse as parseToml } from 'toml';
import type { Config } from './schema';
import { checkRootCertificate } from './certificate';
import { CONFIG_DEFAULTS, SYNC_PERIOD_WITH_EVENTS } from './defaults';
import { coerceEnvValue, envOverrides, unusedEnvVariables } from './envOverrides';
import { CONFIG_KEYS, envVarFor, isConfigKey, OBSOLETE_KEYS } from './keys';
import { parsePasswordObject } from './password';
import { readS3Text } from '../aws/s3';
import { isS3Path, parseS3Path, readLocalText, type S3Location } from './source';
import { substituteEnv } from './substitute';
import { closestKey, validateConfig, type ValueSource } from './validate';

export { CONFIG_DEFAULTS, SYNC_PERIOD_WITH_EVENTS, configWith } from './defaults';
export { describeConfig } from './describe';
export { CONFIG_KEYS, envVarFor } from './keys';

export class ConfigError extends Error {
  constructor(
    public readonly problems: string[],
    /** The file or s3:// path the problems are about, when there is one. */
    public readonly source?: string,
  ) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`Invalid configuration${source ? ` ${source}` : ''} (${count}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** Local path or s3://bucket/key; falls back to env BATCHIEPATCHIE_CONFIG. */
  path?: string;
  /** Environment for ${NAME} and BATCHIEPATCHIE_<KEY>; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** S3 client for s3:// paths and password_bucket; built from region/aws_endpoint when absent. */
  s3?: S3Client;
  /** Non-fatal notes (obsolete keys, BATCHIEPATCHIE_* variables that set nothing); defaults to stderr. */
  onWarning?: (message: string) => void;
}

export async function loadConfig(opts: LoadConfigOptions = {}): Promise<Config> {
  const env = opts.env ?? process.env;
  const warn = opts.onWarning ?? ((message: string) => console.warn(`batchiepatchie config: ${message}`));
  const path = opts.path || env.BATCHIEPATCHIE_CONFIG;
  if (!path) {
    throw new ConfigError([
      'no configuration file: give a path (config.toml or s3://bucket/key) on the command line or set BATCHIEPATCHIE_CONFIG',
    ]);
  }

  const table = parseTomlTable(await readConfigText(path, env, opts.s3), path);
  const file = prepareFileValues(table, env, warn);
  const { values, sources } = mergeLayers(file.values, envOverrides(env));
  warnAboutUnusedEnv(env, warn);

  const validation = validateConfig(values, sources, file.badKeys);
  const problems = [...file.problems, ...(validation.ok ? [] : validation.problems)];
  const certificateProblem = await checkCertificateValue(values.database_root_certificate);
  if (certificateProblem) problems.push(`database_root_certificate: ${certificateProblem}`);
  if (problems.length > 0 || !validation.ok) throw new ConfigError(problems, path);

  const config = validation.config;
  if (config.password_bucket && config.password_key) {
    config.database_password = await fetchDatabasePassword(config, { bucket: config.password_bucket, key: config.password_key }, opts.s3, path);
  }
  return config;
}

function warnAboutUnusedEnv(env: NodeJS.ProcessEnv, warn: (message: string) => void): void {
  for (const name of unusedEnvVariables(env)) {
    const guess = closestKey(name.slice('BATCHIEPATCHIE_'.length));
    warn(`${name} is not a configuration key and is ignored${guess ? ` (did you mean ${envVarFor(guess)}?)` : ''}`);
  }
}

/** The file check runs on the raw value, so it is reported with the other problems. */
async function checkCertificateValue(value: unknown): Promise<string | undefined> {
  return typeof value === 'string' && value !== '' ? checkRootCertificate(value) : undefined;
}

/** Reads the file's text; S3 paths use the region/endpoint of the environment (the file is not read yet). */
async function readConfigText(path: string, env: NodeJS.ProcessEnv, s3?: S3Client): Promise<string> {
  try {
    if (!isS3Path(path)) return await readLocalText(path);
    const location = parseS3Path(path);
    if (!location) throw new Error(`expected s3://bucket/key, got ${JSON.stringify(path)}`);
    return await withS3Client(s3, bootstrapAwsSettings(env), (client) => readS3Text(client, location));
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
}

function bootstrapAwsSettings(env: NodeJS.ProcessEnv): Pick<Config, 'region' | 'aws_endpoint'> {
  return {
    region: env.BATCHIEPATCHIE_REGION || env.AWS_REGION || env.AWS_DEFAULT_REGION || CONFIG_DEFAULTS.region,
    aws_endpoint: env.BATCHIEPATCHIE_AWS_ENDPOINT || undefined,
  };
}

async function withS3Client<T>(
  given: S3Client | undefined,
  settings: Pick<Config, 'region' | 'aws_endpoint'>,
  use: (client: S3Client) => Promise<T>,
): Promise<T> {
  // Loaded only when a config or password lives in S3: the CLI starts tracing after reading the config,
  // and the AWS SDK must load after that for its calls to be traced.
  const { createS3Client } = require('../aws/clients') as typeof import('../aws/clients');
  const client = given ?? createS3Client(settings);
  try {
    return await use(client);
  } finally {
    if (!given) client.destroy();
  }
}

function parseTomlTable(text: string, path: string): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (err) {
    const start = (err as { location?: { start?: { line?: number; column?: number } } }).location?.start;
    const where = start?.line ? ` at line ${start.line}, column ${start.column ?? 1}` : '';
    throw new ConfigError([`not valid TOML${where}: ${(err as Error).message}`], path);
  }
}

interface FileValues {
  values: Record<string, unknown>;
  problems: string[];
  /** Keys whose ${NAME} substitution failed (already reported). */
  badKeys: Set<string>;
}

/** Substitutes ${NAME} in the file's values and drops obsolete keys of the Go original. */
function prepareFileValues(table: Record<string, unknown>, env: NodeJS.ProcessEnv, warn: (m: string) => void): FileValues {
  const result: FileValues = { values: {}, problems: [], badKeys: new Set() };
  for (const [key, raw] of Object.entries(table)) {
    if (key in OBSOLETE_KEYS) {
      warn(`${key} is ignored: ${OBSOLETE_KEYS[key]}`);
      continue;
    }
    const substituted = substituteEnv(raw, env, key);
    if (substituted.problems.length > 0) {
      result.problems.push(...substituted.problems);
      result.badKeys.add(key);
    }
    result.values[key] = typedSubstitution(key, raw, substituted.value);
  }
  return result;
}

/** `port = "${PORT}"`: a substituted string takes the key's type, like an env override. */
function typedSubstitution(key: string, raw: unknown, value: unknown): unknown {
  if (typeof raw !== 'string' || !raw.includes('${') || typeof value !== 'string' || !isConfigKey(key)) return value;
  return coerceEnvValue(CONFIG_KEYS[key], value);
}

/** Defaults < file < environment, remembering where each value came from. */
function mergeLayers(file: Record<string, unknown>, env: Record<string, unknown>) {
  const values: Record<string, unknown> = {};
  const sources: Record<string, ValueSource> = {};
  const layers: [ValueSource, Record<string, unknown>][] = [
    // A copy: the defaults' arrays must never be shared with a loaded config.
    ['default', structuredClone(CONFIG_DEFAULTS)],
    ['file', file],
    ['env', env],
  ];
  for (const [source, layer] of layers) {
    for (const [key, value] of Object.entries(layer)) {
      values[key] = value;
      sources[key] = source;
    }
  }
  // With events from SQS the round reconciles: a longer default period (an explicit one stays).
  if (values.events_queue_url !== undefined && values.events_queue_url !== '' && sources.sync_period === 'default') {
    values.sync_period = SYNC_PERIOD_WITH_EVENTS;
  }
  // The local prefix has a default for the common case; with S3 assets only
  // an explicitly written prefix is a conflict.
  if (values.frontend_assets === 's3' && sources.frontend_assets_local_prefix === 'default') {
    delete values.frontend_assets_local_prefix;
  }
  return { values, sources };
}

async function fetchDatabasePassword(config: Config, location: S3Location, s3: S3Client | undefined, path: string): Promise<string> {
  let text: string;
  try {
    text = await withS3Client(s3, config, (client) => readS3Text(client, location));
  } catch (err) {
    throw new ConfigError([`password_bucket/password_key: ${(err as Error).message}`], path);
  }
  const parsed = parsePasswordObject(text);
  if (!parsed.ok) {
    throw new ConfigError([`password_bucket/password_key: s3://${location.bucket}/${location.key}: ${parsed.problem}`], path);
  }
  return parsed.password;
}
