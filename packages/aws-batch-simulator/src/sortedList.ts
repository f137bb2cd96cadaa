/**
 * An ordered list in chunks (a flat B-tree of one level): insert/remove cost
 * O(log n + chunk), and a page read from any position costs O(log n + page).
 * ListJobs pages read these, newest first, so a page never scans the whole
 * retained history.
 */
const MAX_CHUNK = 1024;

export interface Position {
  chunk: number;
  index: number;
}

export class ChunkedSortedList<T> {
  private chunks: T[][] = [];
  private count = 0;

  constructor(private readonly compare: (a: T, b: T) => number) {}

  get size(): number {
    return this.count;
  }

  insert(item: T): void {
    this.count++;
    const chunks = this.chunks;
    if (chunks.length === 0) {
      chunks.push([item]);
      return;
    }
    const last = chunks[chunks.length - 1];
    if (this.compare(last[last.length - 1], item) < 0) {
      // Fast path: newest item (submissions arrive in time order).
      if (last.length < MAX_CHUNK) last.push(item);
      else chunks.push([item]);
      return;
    }
    const pos = this.lowerBound((x) => this.compare(x, item) < 0);
    const ci = Math.min(pos.chunk, chunks.length - 1);
    const chunk = chunks[ci];
    const at = pos.chunk === chunks.length ? chunk.length : pos.index;
    chunk.splice(at, 0, item);
    if (chunk.length > MAX_CHUNK) chunks.splice(ci + 1, 0, chunk.splice(MAX_CHUNK >> 1));
  }

  remove(item: T): boolean {
    const pos = this.lowerBound((x) => this.compare(x, item) < 0);
    if (pos.chunk >= this.chunks.length) return false;
    const chunk = this.chunks[pos.chunk];
    if (chunk[pos.index] !== item) return false;
    chunk.splice(pos.index, 1);
    if (chunk.length === 0) this.chunks.splice(pos.chunk, 1);
    this.count--;
    return true;
  }

  /**
   * Position of the first item for which `isBefore` is false (`isBefore` must
   * be true for a prefix of the list and false after it).
   */
  lowerBound(isBefore: (x: T) => boolean): Position {
    const chunks = this.chunks;
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = chunks[mid];
      if (isBefore(c[c.length - 1])) lo = mid + 1;
      else hi = mid;
    }
    if (lo === chunks.length) return { chunk: lo, index: 0 };
    const chunk = chunks[lo];
    let a = 0;
    let b = chunk.length;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (isBefore(chunk[mid])) a = mid + 1;
      else b = mid;
    }
    return { chunk: lo, index: a };
  }

  /**
   * Walks items in descending order, starting just before `end` (the list's
   * end when absent). `visit` returns false to stop. Visits at most `budget`
   * items. Says why the walk ended.
   */
  walkDescending(end: Position | null, visit: (item: T) => boolean, budget = Infinity): 'end' | 'stopped' | 'budget' {
    const chunks = this.chunks;
    let ci: number;
    let i: number;
    if (!end || end.chunk >= chunks.length) {
      ci = chunks.length - 1;
      i = ci >= 0 ? chunks[ci].length - 1 : -1;
    } else {
      ci = end.chunk;
      i = end.index - 1;
    }
    let visited = 0;
    while (ci >= 0) {
      const chunk = chunks[ci];
      for (; i >= 0; i--) {
        if (visited++ >= budget) return 'budget';
        if (!visit(chunk[i])) return 'stopped';
      }
      ci--;
      if (ci >= 0) i = chunks[ci].length - 1;
    }
    return 'end';
  }

  first(): T | undefined {
    return this.chunks.length ? this.chunks[0][0] : undefined;
  }

  /** Oldest-first iteration (used for FIFO-like placement and tests). */
  *ascending(): IterableIterator<T> {
    for (const chunk of this.chunks) yield* chunk;
  }
}
