import { ConfigError, describeConfig, loadConfig } from './config';
import { createLogger } from './log';
import type { Config } from './config/schema';
import { untilSignal } from './pipeline/shutdown';

/**
 * What each role does once it has a Config. Modules load lazily (require, so
 * that tsx's CommonJS hook serves them) and a role pays only for what it uses.
 */
type RoleRunner = (config: Config) => Promise<void>;

const CONFIG_ROLES: Record<string, () => Promise<RoleRunner>> = {
  all: async () => (require('./roles/all') as typeof import('./roles/all')).runAll,
  api: async () => (require('./roles/api') as typeof import('./roles/api')).runApi,
  worker: async () => (require('./roles/worker') as typeof import('./roles/worker')).runWorker,
  scheduler: async () => (require('./roles/scheduler') as typeof import('./roles/scheduler')).runScheduler,
  migrate: async () => (require('./roles/migrate') as typeof import('./roles/migrate')).runMigrate,
};

/** Roles that run until SIGTERM/SIGINT (migrate runs to its end). */
const SERVING_ROLES = new Set(['all', 'api', 'worker', 'scheduler']);

/** Roles that take their own flags instead of a config file. */
const FLAG_ROLES: Record<string, () => Promise<(args: string[]) => Promise<void>>> = {
  simulate: async () => (require('./roles/simulate') as typeof import('./roles/simulate')).runSimulate,
  demo: async () => (require('./roles/demo') as typeof import('./roles/demo')).runDemo,
};

const USAGE = `usage: batchiepatchie [ROLE] [config.toml | s3://bucket/key]

Roles:
  (none)       everything in one process: api + worker + scheduler
  api          the HTTP API and UI
  worker       pipeline workers (run as many as you like)
  scheduler    registers the periodic job schedulers
  migrate      apply database migrations
  simulate     the AWS simulator  [--port N] [--seed S] [--scenario NAME]
  demo         simulator + migrations + every role with demo data

The config file may also be given by BATCHIEPATCHIE_CONFIG.`;

export async function main(argv: string[]): Promise<void> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    console.log(USAGE);
    return;
  }
  const known = first !== undefined && (first in CONFIG_ROLES || first in FLAG_ROLES);
  const role = known ? first : 'all';
  const args = known ? rest : argv;
  try {
    if (role in FLAG_ROLES) {
      await (await FLAG_ROLES[role]())(args);
      return;
    }
    const runner = CONFIG_ROLES[role];
    const config = await loadConfig({ path: args[0], env: process.env });
    // Secrets redacted: what an operator checking a deployment needs to see.
    // `code`: the compiled build (dist/) or the TypeScript sources (development, tests).
    const code = __filename.endsWith('.js') ? 'compiled' : 'sources';
    // A serving role stops gracefully on SIGTERM: listen before loading it.
    if (SERVING_ROLES.has(role)) void untilSignal();
    createLogger(config.log_level, { role }).info({ config: describeConfig(config), code }, 'configuration loaded');
    // Before the role's modules load, so that their http/pg/redis/AWS calls are traced.
    const tracing = config.use_datadog_tracing ? (require('./tracing') as typeof import('./tracing')).startTracing({ role }) : null;
    try {
      await (await runner())(config);
    } finally {
      await tracing?.shutdown();
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exitCode = 2;
      return;
    }
    console.error(`batchiepatchie ${role}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
