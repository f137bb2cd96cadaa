/** CloudWatch Logs as the simulator keeps it: groups of streams of events. */
export interface LogEvent {
  timestamp: number;
  message: string;
  ingestionTime: number;
}

export interface LogStream {
  name: string;
  creationTime: number;
  events: LogEvent[];
  storedBytes: number;
}

export class LogGroup {
  readonly streams = new Map<string, LogStream>();
  /** Stream names in order, for prefix queries (binary search, no scan). */
  private sorted: string[] = [];

  constructor(
    readonly name: string,
    readonly creationTime: number,
  ) {}

  stream(name: string, now: number): LogStream {
    let s = this.streams.get(name);
    if (!s) {
      s = { name, creationTime: now, events: [], storedBytes: 0 };
      this.streams.set(name, s);
      this.sorted.splice(lowerBound(this.sorted, name), 0, name);
    }
    return s;
  }

  deleteStream(name: string): void {
    if (!this.streams.delete(name)) return;
    const i = lowerBound(this.sorted, name);
    if (this.sorted[i] === name) this.sorted.splice(i, 1);
  }

  /** Names with the prefix, starting strictly after `after` (a page token), in order. */
  namesWithPrefix(prefix: string, after: string | undefined, limit: number): { names: string[]; more: boolean } {
    const start = after !== undefined && after >= prefix ? lowerBound(this.sorted, after) + (this.sorted[lowerBound(this.sorted, after)] === after ? 1 : 0) : lowerBound(this.sorted, prefix);
    const names: string[] = [];
    for (let i = start; i < this.sorted.length; i++) {
      const n = this.sorted[i];
      if (!n.startsWith(prefix)) return { names, more: false };
      if (names.length === limit) return { names, more: true };
      names.push(n);
    }
    return { names, more: false };
  }

  allNames(): string[] {
    return this.sorted;
  }
}

function lowerBound(sorted: string[], value: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Events kept in all; beyond it the oldest streams go, so a long demo cannot eat the machine. */
const DEFAULT_MAX_EVENTS = 2_000_000;

export class LogStore {
  readonly groups = new Map<string, LogGroup>();
  private events = 0;
  /** Streams in creation order, oldest first, for eviction. */
  private readonly created: { group: LogGroup; stream: LogStream }[] = [];
  private evictFrom = 0;

  constructor(private readonly maxEvents = DEFAULT_MAX_EVENTS) {}

  group(name: string, now: number): LogGroup {
    let g = this.groups.get(name);
    if (!g) {
      g = new LogGroup(name, now);
      this.groups.set(name, g);
    }
    return g;
  }

  /** Creates the stream when new (empty streams exist: a job that started logs nothing yet). */
  ensureStream(groupName: string, streamName: string, now: number): LogStream {
    const group = this.group(groupName, now);
    const existing = group.streams.get(streamName);
    if (existing) return existing;
    const stream = group.stream(streamName, now);
    this.created.push({ group, stream });
    return stream;
  }

  append(groupName: string, streamName: string, timestamp: number, message: string, now: number): void {
    const stream = this.ensureStream(groupName, streamName, now);
    stream.events.push({ timestamp, message, ingestionTime: now });
    stream.storedBytes += Buffer.byteLength(message) + 26;
    if (++this.events > this.maxEvents) this.evictOldest();
  }

  private evictOldest(): void {
    const goal = Math.floor(this.maxEvents * 0.9);
    while (this.events > goal && this.evictFrom < this.created.length) {
      const { group, stream } = this.created[this.evictFrom++];
      this.events -= stream.events.length;
      group.deleteStream(stream.name);
    }
    if (this.evictFrom > 1024 && this.evictFrom * 2 > this.created.length) {
      this.created.splice(0, this.evictFrom);
      this.evictFrom = 0;
    }
  }
}
