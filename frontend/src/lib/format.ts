/** Display helpers: times, durations, sizes, statuses. Pure functions, easy to test. */
import type { JobJson } from './api';
import { displayStatusOf, statusNoteOf } from '../../../src/api/contract';

export const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'GONE']);

/**
 * What the UI calls a job's status: the domain's rule, the API's
 * display_status (TERMINATED for a FAILED job asked to terminate, terminated
 * by its reason, or killed by a signal, 130/143 or 137 unless out of memory).
 */
export function displayStatus(job: Pick<JobJson, 'status' | 'exitcode'> & Partial<Pick<JobJson, 'status_reason' | 'termination_requested'>>): string {
  return displayStatusOf(job);
}

/** "out of memory" for an OOM kill (FAILED, exit 137, OutOfMemory reason); null otherwise. */
export function statusNote(job: Pick<JobJson, 'status' | 'exitcode'> & Partial<Pick<JobJson, 'status_reason'>>): string | null {
  return statusNoteOf(job);
}

export function isTerminalStatus(status: string): boolean {
  return TERMINAL.has(status);
}

function ms(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

/** Seconds the job ran: from run start to stop (or now while it runs). */
export function runtimeSeconds(job: Pick<JobJson, 'run_start_time' | 'stopped_at' | 'status'>, now = Date.now()): number | null {
  const start = ms(job.run_start_time);
  if (start === null) return null;
  const end = ms(job.stopped_at) ?? (isTerminalStatus(job.status) ? null : now);
  return end === null ? null : Math.max(0, (end - start) / 1000);
}

/** Seconds from creation to stop (or now while not finished). */
export function totalElapsedSeconds(job: Pick<JobJson, 'created_at' | 'stopped_at' | 'status'>, now = Date.now()): number | null {
  const start = ms(job.created_at);
  if (start === null) return null;
  const end = ms(job.stopped_at) ?? (isTerminalStatus(job.status) ? null : now);
  return end === null ? null : Math.max(0, (end - start) / 1000);
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Times are shown in the browser's zone or in UTC, the user's choice (see prefs.ts). */
export type TimeZoneMode = 'local' | 'utc';

interface TimeParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function timeParts(t: number, zone: TimeZoneMode): TimeParts {
  const d = new Date(t);
  return zone === 'utc'
    ? { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() }
    : { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate(), hour: d.getHours(), minute: d.getMinutes(), second: d.getSeconds() };
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** The zone's short name at that moment ("UTC", "CET", "GMT+2", "PDT"): daylight saving changes it. */
export function zoneName(zone: TimeZoneMode, at = Date.now()): string {
  if (zone === 'utc') return 'UTC';
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(new Date(at)).find((p) => p.type === 'timeZoneName');
  return part?.value ?? 'local';
}

/** 24-hour date and time with its zone: "2026-11-27 00:45:44 UTC". */
export function formatTime(iso: string | null | undefined, zone: TimeZoneMode = 'local', withZone = true): string {
  const t = ms(iso);
  if (t === null) return '—';
  return formatUnixMs(t, zone, withZone);
}

export function formatUnixMs(t: number, zone: TimeZoneMode, withZone = true, seconds = true): string {
  const p = timeParts(t, zone);
  const clock = `${pad2(p.hour)}:${pad2(p.minute)}${seconds ? `:${pad2(p.second)}` : ''}`;
  const text = `${p.year}-${pad2(p.month)}-${pad2(p.day)} ${clock}`;
  return withZone ? `${text} ${zoneName(zone, t)}` : text;
}

/**
 * "2026-11-27 14:05" (or with ":ss") in the given zone -> unix ms; null when
 * it is not such a time. The Stats page's start and end are typed this way:
 * 24-hour, in the zone the page shows (a datetime-local input is always local
 * and follows the browser's 12/24-hour habit).
 */
export function parseTime(text: string, zone: TimeZoneMode): number | null {
  const m = /^\s*(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?\s*$/.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((v) => Number(v ?? 0));
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  const t = zone === 'utc' ? Date.UTC(y, mo - 1, d, h, mi, s) : new Date(y, mo - 1, d, h, mi, s).getTime();
  const back = timeParts(t, zone); // 2026-02-31 would roll over into March: not a date
  return back.day === d && back.month === mo ? t : null;
}

/**
 * Table-sized time, without the zone (the column header names it): the clock
 * today, month-day and minutes this year, the full date otherwise.
 */
export function formatShortTime(iso: string | null | undefined, now = Date.now(), zone: TimeZoneMode = 'local'): string {
  const t = ms(iso);
  if (t === null) return '—';
  const full = formatUnixMs(t, zone, false);
  const today = formatUnixMs(now, zone, false).slice(0, 10);
  if (full.startsWith(today)) return full.slice(11);
  if (full.slice(0, 4) === today.slice(0, 4)) return full.slice(5, 16);
  return full.slice(0, 10);
}

/** An image without its registry host: `123.dkr.ecr.../team/report:1.2` shows as `team/report:1.2`. */
export function shortImage(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0) return image;
  const host = image.slice(0, slash);
  return host.includes('.') || host.includes(':') || host === 'localhost' ? image.slice(slash + 1) : image;
}

/** Keeps both ends of a long id visible (array children differ only in their `:index` suffix). */
/** "arn:aws:batch:r:a:job-definition/name:3" -> "name:3": the API's `desc` is the ARN (as the Go original's). */
export function shortDefinition(desc: string): string {
  const slash = desc.lastIndexOf('/');
  return desc.startsWith('arn:') && slash >= 0 ? desc.slice(slash + 1) : desc;
}

export function middleEllipsis(text: string, max: number): string {
  if (text.length <= max) return text;
  const tail = Math.floor((max - 1) / 2);
  return `${text.slice(0, max - 1 - tail)}…${text.slice(-tail)}`;
}

export function formatAgo(iso: string | null | undefined, now = Date.now()): string {
  const t = ms(iso);
  if (t === null) return '';
  return `${formatDuration(Math.max(0, (now - t) / 1000))} ago`;
}

export function formatMemory(mib: number | null | undefined): string {
  if (mib === null || mib === undefined) return '—';
  return mib >= 1024 ? `${(mib / 1024).toFixed(mib % 1024 === 0 ? 0 : 1)} GiB` : `${mib} MiB`;
}

export function formatVcpus(job: Pick<JobJson, 'vcpus' | 'vcpus_exact'>): string {
  return String(job.vcpus_exact ?? job.vcpus);
}

/** command_line is a JSON array as text; shown space-joined, falling back to the raw text. */
export function formatCommand(commandLine: string | null | undefined): string {
  if (!commandLine) return '';
  try {
    const parsed: unknown = JSON.parse(commandLine);
    if (Array.isArray(parsed)) return parsed.map(String).join(' ');
  } catch {
    /* not JSON */
  }
  return commandLine;
}

export function formatNumber(n: number): string {
  if (Math.abs(n) >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (Math.abs(n) >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Number(n.toPrecision(3))); // 0.055 and 0.15 stay apart on an axis
}

/**
 * How many jobs a search matches, from GET /api/v1/jobs/count: "1 matching
 * job", "1,234 matching jobs"; an estimate (past the server's exact bound)
 * reads "about 12,000", two significant digits and never below the bound.
 */
export function formatMatchCount(c: { count: number; exact: boolean; exactUpTo: number }): string {
  if (c.exact) return `${c.count.toLocaleString('en-US')} matching job${c.count === 1 ? '' : 's'}`;
  const n = Math.max(c.count, c.exactUpTo);
  const step = 10 ** Math.max(0, Math.floor(Math.log10(n)) - 1);
  return `about ${(Math.round(n / step) * step).toLocaleString('en-US')} matching jobs`;
}
