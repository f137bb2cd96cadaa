/**
 * What a container's exit code (and AWS Batch's status reason) usually means,
 * in a sentence: the first question when a job failed.
 */
const SIGNALS: Record<number, string> = {
  1: 'SIGHUP',
  2: 'SIGINT',
  3: 'SIGQUIT',
  4: 'SIGILL',
  6: 'SIGABRT',
  7: 'SIGBUS',
  8: 'SIGFPE',
  9: 'SIGKILL',
  11: 'SIGSEGV',
  13: 'SIGPIPE',
  14: 'SIGALRM',
  15: 'SIGTERM',
};

const SIGNAL_MEANING: Record<string, string> = {
  SIGKILL: 'killed outright: out of memory (the container hit its memory limit), or terminated (AWS Batch, a timeout, a user)',
  SIGTERM: 'asked to stop: terminated by AWS Batch, a timeout or a user, or the instance went away (Spot reclaim)',
  SIGSEGV: 'crashed on a bad memory access (segmentation fault)',
  SIGABRT: 'aborted itself (a failed assertion, abort())',
  SIGINT: 'interrupted',
  SIGPIPE: 'wrote to a pipe nobody was reading',
  SIGBUS: 'crashed on a bus error',
  SIGFPE: 'crashed on an arithmetic error',
  SIGILL: 'ran an illegal instruction (built for another CPU?)',
};

/** A sentence on the exit code, with what the status reason adds; null when there is no code. */
export function explainExit(code: number | null | undefined, reason?: string | null): string | null {
  const r = reason ?? '';
  if (/OutOfMemory/i.test(r)) return 'Out of memory: the container used more than its memory limit and was killed. Give it more memory.';
  if (/CannotPullContainer/i.test(r)) return 'The image could not be pulled: check its name and tag, and that the instance role may read the registry.';
  if (/Host EC2.*terminated/i.test(r)) return 'The instance running it went away (Spot reclaim or scale-in); a retry strategy would run it again.';
  if (/Job attempt duration exceeded timeout/i.test(r)) return 'It ran longer than its timeout and AWS Batch stopped it.';
  if (code === null || code === undefined) return null;
  if (code === 0) return 'Success.';
  if (code === 1) return 'The program failed (a generic error; its log says why).';
  if (code === 2) return 'Misused: a bad argument or option (shells and many tools use 2).';
  if (code === 126) return 'The command was found but could not be run (not executable, permissions).';
  if (code === 127) return 'Command not found: check the command line and the image.';
  if (code > 128 && code <= 128 + 64) {
    const name = SIGNALS[code - 128];
    const meaning = name ? SIGNAL_MEANING[name] : undefined;
    return `Stopped by signal ${code - 128}${name ? ` (${name})` : ''}${meaning ? `: ${meaning}` : ''}.`;
  }
  if (code === 255) return 'Exited with -1 / 255: often an uncaught error in the program, or ssh/shell failing.';
  return 'The program chose this code: its documentation or log says what it means.';
}
