import { runSimulatorCli } from 'aws-batch-simulator';

/** `batchiepatchie simulate`: the AWS simulator package's command, with how to point Batchiepatchie at it. */
export function runSimulate(args: string[]): Promise<void> {
  return runSimulatorCli(args, {
    command: 'batchiepatchie simulate',
    docs: 'docs/simulator.md',
    banner: (e) =>
      `Batchiepatchie: set aws_endpoint = "${e}" in the config (or BATCHIEPATCHIE_AWS_ENDPOINT=${e}).` +
      (args.includes('--events-queue') || args.some((a) => a.startsWith('--events-queue='))
        ? `\nWith --events-queue NAME: events_queue_url = "${e}/123456789012/NAME" (docs/pipeline.md#events-from-sqs).`
        : ''),
  });
}
