import type { Config } from '../types';

// STUB: replaced when this role is built.
export async function runApi(_config: Config): Promise<void> {
  console.error('batchiepatchie api: not implemented yet');
  process.exitCode = 1;
}
