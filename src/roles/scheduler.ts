import type { Config } from '../types';

// STUB: replaced when this role is built.
export async function runScheduler(_config: Config): Promise<void> {
  console.error('batchiepatchie scheduler: not implemented yet');
  process.exitCode = 1;
}
