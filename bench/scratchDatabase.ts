import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';

export interface ScratchDatabase {
  name: string;
  /** Drops the database (connections still open to it are closed by the server). */
  drop(): Promise<void>;
}

/** The signals that stop a run, with the exit code a shell gives each. */
const STOP_SIGNALS = new Map<NodeJS.Signals, number>([
  ['SIGINT', 130],
  ['SIGTERM', 143],
]);

/**
 * A database of the benchmark's own, dropped by `drop()` at the end and also
 * when the run is interrupted (Ctrl-C, SIGTERM): a stopped benchmark no longer
 * leaves a bp_bench_* database of a million rows behind.
 */
export async function createScratchDatabase(admin: Knex, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${process.pid}_${randomBytes(3).toString('hex')}`;
  await admin.raw('CREATE DATABASE ??', [name]);
  let dropped: Promise<void> | null = null;
  const drop = () => {
    dropped ??= admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]).then(() => undefined);
    return dropped;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: dropping ${name}\n`);
    drop().finally(() => process.exit(STOP_SIGNALS.get(signal)));
  };
  for (const signal of STOP_SIGNALS.keys()) process.once(signal, onSignal);
  return {
    name,
    drop: async () => {
      for (const signal of STOP_SIGNALS.keys()) process.off(signal, onSignal);
      await drop();
    },
  };
}
