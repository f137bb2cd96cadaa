/**
 * Choices a user makes once and expects remembered in this browser: the time
 * zone times are shown in, and the Jobs page's date range. Kept in
 * localStorage. No React here: the entry script (prefetch.ts) reads the date
 * range before React has loaded; useTimeZone.ts is the hook.
 */
import { DATE_RANGES, type DateRange } from '../../../src/api/contract';
import type { TimeZoneMode } from './format';

const KEYS = { timeZone: 'batchiepatchie.timeZone', dateRange: 'batchiepatchie.dateRange' } as const;

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage disabled: defaults every time
  }
}

function write(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    /* storage disabled: the choice lasts until the page reloads */
  }
}

const listeners = new Set<() => void>();
let timeZone: TimeZoneMode = read(KEYS.timeZone) === 'utc' ? 'utc' : 'local';

export function subscribePrefs(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function getTimeZone(): TimeZoneMode {
  return timeZone;
}

export function setTimeZone(zone: TimeZoneMode): void {
  timeZone = zone;
  write(KEYS.timeZone, zone);
  for (const l of listeners) l();
}

/** The Jobs page's default range: the user's last choice, else the original UI's 1 day. */
export const DEFAULT_DATE_RANGE: DateRange = '1d';

export function rememberedDateRange(): DateRange {
  const v = read(KEYS.dateRange);
  return (DATE_RANGES as readonly string[]).includes(v ?? '') ? (v as DateRange) : DEFAULT_DATE_RANGE;
}

export function rememberDateRange(range: DateRange): void {
  write(KEYS.dateRange, range);
}
