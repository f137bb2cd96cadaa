import type { Config } from '../types';

// STUB: replaced when this role is built.
export async function runAll(_config: Config): Promise<void> {
  console.error('batchiepatchie all: not implemented yet');
  process.exitCode = 1;
}
