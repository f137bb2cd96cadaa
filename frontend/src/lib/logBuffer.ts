/**
 * A job's log as the viewer holds it: an array of lines (and, when asked for,
 * each line's CloudWatch timestamp), appended chunk by chunk as the API sends
 * them, plus the forward token to continue from. Searching and filtering work
 * on line indices, so a 1,000,000-line log is never copied.
 */
export class LogBuffer {
  readonly lines: string[] = [];
  /** Per-line CloudWatch timestamps (ms), only when the log was read with timestamps. */
  readonly times: number[] | null;
  /** Where the next read continues ('' = from the head). */
  token = '';
  /** Bytes of log text received, for the page and the benchmark. */
  bytes = 0;

  constructor(readonly withTimes: boolean) {
    this.times = withTimes ? [] : null;
  }

  /** Adds a chunk of text (whole lines, each ending in a newline). */
  append(text: string, nextToken: string | null): void {
    if (nextToken) this.token = nextToken;
    this.bytes += text.length;
    if (!text) return;
    const parts = text.split('\n');
    if (parts[parts.length - 1] === '') parts.pop();
    if (!this.times) {
      for (const p of parts) this.lines.push(p);
      return;
    }
    for (const p of parts) {
      const tab = p.indexOf('\t');
      const t = tab > 0 ? Number(p.slice(0, tab)) : NaN;
      if (Number.isFinite(t)) {
        this.times.push(t);
        this.lines.push(p.slice(tab + 1));
      } else {
        this.times.push(this.times.length ? this.times[this.times.length - 1] : 0);
        this.lines.push(p);
      }
    }
  }

  get length(): number {
    return this.lines.length;
  }

  text(): string {
    if (!this.times) return this.lines.length ? `${this.lines.join('\n')}\n` : '';
    const times = this.times;
    return this.lines.map((l, i) => `${new Date(times[i]).toISOString()}\t${l}`).join('\n') + (this.lines.length ? '\n' : '');
  }
}

/**
 * Positions (within `view`, or within all lines when `view` is null) of the
 * lines containing `needle`, case-insensitively; `from` skips positions already
 * examined (new lines appended while following).
 */
export function findLines(lines: readonly string[], view: Int32Array | null, needle: string, from = 0, into: number[] = []): number[] {
  const wanted = needle.toLowerCase();
  const n = view ? view.length : lines.length;
  for (let p = from; p < n; p++) {
    const line = lines[view ? view[p] : p];
    if (line.includes(needle) || line.toLowerCase().includes(wanted)) into.push(p);
  }
  return into;
}

/** The indices of the lines containing `needle`, case-insensitively (the filter's view). */
export function filterLines(lines: readonly string[], needle: string): Int32Array {
  return Int32Array.from(findLines(lines, null, needle));
}

/** `line` cut into plain and matching pieces (case-insensitive), for highlighting every match. */
export function splitMatches(line: string, needle: string): { text: string; match: boolean }[] {
  if (!needle) return [{ text: line, match: false }];
  const lower = line.toLowerCase();
  const wanted = needle.toLowerCase();
  const out: { text: string; match: boolean }[] = [];
  let at = 0;
  for (let i = lower.indexOf(wanted); i !== -1; i = lower.indexOf(wanted, i + wanted.length)) {
    if (i > at) out.push({ text: line.slice(at, i), match: false });
    out.push({ text: line.slice(i, i + wanted.length), match: true });
    at = i + wanted.length;
  }
  if (at < line.length) out.push({ text: line.slice(at), match: false });
  return out;
}

/** The line a `#L123` location names (1-based), or null. */
export function lineFromHash(hash: string): number | null {
  const m = /^#L(\d+)$/.exec(hash);
  return m ? Number(m[1]) : null;
}
