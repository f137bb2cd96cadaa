/** Resolves with the first SIGTERM/SIGINT; a second one exits at once (a stuck shutdown stays killable). */
export function untilSignal(signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (received) process.exit(130);
      received = true;
      resolve(signal);
    };
    for (const s of signals) process.on(s, onSignal);
  });
}
