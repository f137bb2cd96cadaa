import type { Config } from '../types';

// STUB: replaced when this role is built.
export async function runWorker(_config: Config): Promise<void> {
  console.error('batchiepatchie worker: not implemented yet');
  process.exitCode = 1;
}
