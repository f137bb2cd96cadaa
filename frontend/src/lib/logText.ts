/** Log text helpers: counting and tailing lines without splitting a multi-megabyte string. */

export function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return text.length > 0 && !text.endsWith('\n') ? n + 1 : n;
}

/** The last `max` lines of `text` (all of it when shorter). */
export function lastLines(text: string, max: number): string {
  let at = text.endsWith('\n') ? text.length - 1 : text.length;
  for (let i = 0; i < max; i++) {
    at = text.lastIndexOf('\n', at - 1);
    if (at === -1) return text;
  }
  return text.slice(at + 1);
}

/** The lines containing `needle`, case-insensitively, each ending in a newline. */
export function matchingLines(text: string, needle: string): string {
  const wanted = needle.toLowerCase();
  const out: string[] = [];
  for (const line of text.split('\n')) if (line.toLowerCase().includes(wanted)) out.push(line);
  return out.length ? `${out.join('\n')}\n` : '';
}
