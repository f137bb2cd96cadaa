let firstSignal: Promise<NodeJS.Signals> | undefined;

/**
 * Resolves with the process's first SIGTERM/SIGINT; a second one exits at once
 * (a stuck shutdown stays killable). One listener for the whole process, made
 * by the first call: without a listener a SIGTERM ends the process on the spot,
 * so the CLI makes it before it loads a serving role (test/roles/compiled.test.ts).
 */
export function untilSignal(): Promise<NodeJS.Signals> {
  firstSignal ??= new Promise((resolve) => {
    let received = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (received) process.exit(130);
      received = true;
      resolve(signal);
    };
    for (const s of ['SIGTERM', 'SIGINT'] as const) process.on(s, onSignal);
  });
  return firstSignal;
}
