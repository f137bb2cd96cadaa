#!/usr/bin/env node
/** `aws-batch-simulator [flags]`: the simulator as a process (the package's bin). */
import { runSimulatorCli } from './cli';

runSimulatorCli(process.argv.slice(2)).catch((err: unknown) => {
  console.error('aws-batch-simulator:', err);
  process.exitCode = 1;
});
