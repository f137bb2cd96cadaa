import { runSimulatorCli } from 'aws-batch-simulator';

/** `batchiepatchie simulate`: the AWS simulator package's command, with how to point Batchiepatchie at it. */
export function runSimulate(args: string[]): Promise<void> {
  return runSimulatorCli(args, {
    command: 'batchiepatchie simulate',
    docs: 'docs/simulator.md',
    banner: (e) => `Batchiepatchie: set aws_endpoint = "${e}" in the config (or BATCHIEPATCHIE_AWS_ENDPOINT=${e}).`,
  });
}
