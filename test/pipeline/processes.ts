/** Real `batchiepatchie` role processes for the pipeline tests: config of a harness, output capture, exits. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Harness } from './harness';

const BIN = path.resolve(__dirname, '../../bin/batchiepatchie');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TOML config pointing at the harness's database, Redis prefix and simulator; `extra` lines are appended. */
export function tomlFor(h: Harness, extra: string[] = []): string {
  const c = h.config;
  return [
    `database_host = "${c.database_host}"`,
    `database_port = ${c.database_port}`,
    `database_username = "${c.database_username}"`,
    `database_name = "${c.database_name}"`,
    `redis_url = "${c.redis_url}"`,
    `redis_prefix = "${c.redis_prefix}"`,
    `aws_endpoint = "${c.aws_endpoint}"`,
    `aws_calls_per_second = 10000`,
    `worker_concurrency = 4`,
    `log_level = "info"`,
    ...extra,
  ].join('\n');
}

export interface RoleProcess {
  child: ChildProcess;
  /** Everything it wrote so far (stdout and stderr). */
  output(): string;
  /** Its JSON log lines so far. */
  logs(): Record<string, unknown>[];
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** `compiled`: the build in dist/ as production runs it, instead of the sources under test. */
export function startRole(configPath: string, role = 'worker', opts: { compiled?: boolean } = {}): RoleProcess {
  // The test run silences logs through BATCHIEPATCHIE_LOG_LEVEL, which would override the file's log_level.
  const env = { ...process.env };
  delete env.BATCHIEPATCHIE_LOG_LEVEL;
  if (opts.compiled) delete env.BATCHIEPATCHIE_FROM_SOURCE;
  const child = spawn(process.execPath, [BIN, role, configPath], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const logs = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { child, output: () => out, logs, exited };
}

export async function waitForOutput(get: () => string, re: RegExp, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!re.test(get())) {
    if (Date.now() > deadline) throw new Error(`no ${re} in:\n${get()}`);
    await sleep(50);
  }
}

/** SIGTERM, then the exit code (SIGKILL first if it is still running when the caller gives up elsewhere). */
export async function stopRole(p: RoleProcess): Promise<number | null> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.child.exitCode;
  p.child.kill('SIGTERM');
  return p.exited;
}
