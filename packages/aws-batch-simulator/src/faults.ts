/** Fault injection and per-operation call counters. */
import { Rng } from './rng';
import type { FaultSettings } from './types';

const NO_FAULTS: FaultSettings = { throttleRate: 0, errorRate: 0, delayMs: 0, lossRate: 0, duplicateRate: 0, reorderRate: 0 };

export type FaultDecision = { delayMs: number; kind: 'throttle' | 'error' | null };

/** What happens to one message entering an SQS queue (an event delivered by the rule, or SendMessage). */
export type DeliveryFaultKind = 'lost' | 'duplicated' | 'reordered';

export class Faults {
  private settings: FaultSettings = { ...NO_FAULTS };
  private readonly rng: Rng;

  constructor(seed: number, initial?: Partial<FaultSettings>) {
    this.rng = new Rng(seed ^ 0x5f3759df);
    if (initial) this.set(initial);
  }

  set(f: Partial<FaultSettings>): void {
    const next = { ...this.settings, ...f };
    for (const key of ['throttleRate', 'errorRate', 'lossRate', 'duplicateRate', 'reorderRate'] as const) {
      const v = next[key];
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new RangeError(`${key} must be a number between 0 and 1`);
    }
    if (typeof next.delayMs !== 'number' || !(next.delayMs >= 0 && next.delayMs <= 600_000)) throw new RangeError('delayMs must be a number between 0 and 600000');
    if (next.operations !== undefined && (!Array.isArray(next.operations) || next.operations.some((o) => typeof o !== 'string'))) {
      throw new RangeError('operations must be a list of "Service.Operation" keys');
    }
    this.settings = next;
  }

  get(): FaultSettings {
    return { ...this.settings, ...(this.settings.operations ? { operations: [...this.settings.operations] } : {}) };
  }

  clear(): void {
    this.settings = { ...NO_FAULTS };
  }

  /**
   * What happens to a message entering a queue, by its key: "Events.Delivery"
   * (the job state change rule) or "SQS.SendMessage" / "SQS.SendMessageBatch".
   */
  decideDelivery(key: string): DeliveryFaultKind | null {
    const s = this.settings;
    if (!(s.lossRate || s.duplicateRate || s.reorderRate)) return null;
    if (s.operations && s.operations.length > 0 && !s.operations.some((o) => matches(o, key))) return null;
    const r = this.rng.next();
    if (r < s.lossRate) return 'lost';
    if (r < s.lossRate + s.duplicateRate) return 'duplicated';
    if (r < s.lossRate + s.duplicateRate + s.reorderRate) return 'reordered';
    return null;
  }

  /** Uniform in [0, 1), from the faults' own seeded stream. */
  random(): number {
    return this.rng.next();
  }

  /** What happens to this call ("Batch.ListJobs"). */
  decide(key: string): FaultDecision {
    const s = this.settings;
    if (s.operations && s.operations.length > 0 && !s.operations.some((o) => matches(o, key))) return { delayMs: 0, kind: null };
    const r = this.rng.next();
    const kind = r < s.throttleRate ? 'throttle' : r < s.throttleRate + s.errorRate ? 'error' : null;
    return { delayMs: s.delayMs, kind };
  }
}

/** "Batch.ListJobs" matches itself; "Batch.*" matches every Batch operation. */
function matches(pattern: string, key: string): boolean {
  return pattern === key || (pattern.endsWith('.*') && key.startsWith(pattern.slice(0, -1)));
}

/** One call as the simulator saw it: when it arrived, when it was answered, which fault it was given. */
export interface CallRecord {
  operation: string;
  /** Epoch milliseconds (fractional, monotonic within the process). */
  startedAt: number;
  endedAt: number;
  fault: 'throttle' | 'error' | null;
}

/** Injected faults per operation (messages: per delivery key, with how many were lost, duplicated, reordered). */
export type FaultCounts = Record<string, { throttle: number; error: number; lost?: number; duplicated?: number; reordered?: number }>;

/** The most recent calls kept in the log: enough for any test or bench round, bounded for a long-running demo. */
export const CALL_LOG_LIMIT = 20_000;

const preciseNow = () => performance.timeOrigin + performance.now();

/**
 * Calls per operation, the faults given, and a bounded log of the latest calls
 * with their times, so that tests can prove a fault happened and how calls
 * were spaced or overlapped (rate limits, concurrency).
 */
export class Counters {
  private counts = new Map<string, number>();
  private faultCounts = new Map<string, FaultCounts[string]>();
  private log: CallRecord[] = [];
  private dropped = 0;

  increment(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Starts a call's record; the returned function ends it with the fault it was given. */
  begin(operation: string): (fault: CallRecord['fault']) => void {
    const startedAt = preciseNow();
    return (fault) => {
      if (fault) {
        const f = this.faultCounts.get(operation) ?? { throttle: 0, error: 0 };
        f[fault]++;
        this.faultCounts.set(operation, f);
      }
      this.log.push({ operation, startedAt, endedAt: preciseNow(), fault });
      if (this.log.length > CALL_LOG_LIMIT * 1.5) {
        this.dropped += this.log.length - CALL_LOG_LIMIT;
        this.log = this.log.slice(-CALL_LOG_LIMIT);
      }
    };
  }

  /** A delivery fault given to a message (not a call: no call record). */
  deliveryFault(key: string, kind: DeliveryFaultKind): void {
    const f = this.faultCounts.get(key) ?? { throttle: 0, error: 0 };
    f[kind] = (f[kind] ?? 0) + 1;
    this.faultCounts.set(key, f);
  }

  get(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  faults(): FaultCounts {
    return Object.fromEntries([...this.faultCounts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, { ...v }]));
  }

  /** The latest answered calls (up to CALL_LOG_LIMIT), in the order they were answered. */
  calls(): CallRecord[] {
    return this.log.slice(-CALL_LOG_LIMIT);
  }

  reset(): void {
    this.counts.clear();
    this.faultCounts.clear();
    this.log = [];
    this.dropped = 0;
  }
}
