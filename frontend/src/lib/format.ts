/** Display helpers: times, durations, sizes, statuses. Pure functions, easy to test. */
import type { JobJson } from './api';

export const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'GONE']);

/** What the UI calls a job's status: a FAILED job killed by SIGKILL (exit 137) is TERMINATED. */
export function displayStatus(job: Pick<JobJson, 'status' | 'exitcode'>): string {
  return job.status === 'FAILED' && job.exitcode === 137 ? 'TERMINATED' : job.status;
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

/** Local time, compact: "2026-11-27 00:45:44". */
export function formatTime(iso: string | null | undefined): string {
  const t = ms(iso);
  if (t === null) return '—';
  const d = new Date(t);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Table-sized time: the clock today, month-day and minutes this year, the full date otherwise. */
export function formatShortTime(iso: string | null | undefined, now = Date.now()): string {
  const t = ms(iso);
  if (t === null) return '—';
  const full = formatTime(iso);
  const today = formatTime(new Date(now).toISOString()).slice(0, 10);
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
  return String(Math.round(n * 10) / 10);
}
