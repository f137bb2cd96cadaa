/**
 * Two browser-borne attacks, refused before any route runs:
 * - cross-site requests (CSRF): a page of another site making the user's
 *   browser post to us, riding on its cookies, proxy session or network
 *   position. Every state-changing method (anything but GET, HEAD, OPTIONS)
 *   is refused with 403 when the browser says it comes from another site
 *   (`Sec-Fetch-Site: cross-site|same-site`) or its `Origin` is not this host,
 *   whatever its content type. Requests with neither header (curl, scripts,
 *   the Lambda hook) are not from a browser page and pass.
 * - DNS rebinding: with `allowed_hosts` set, a request whose `Host` header is
 *   not in the list is refused with 400 (a rebound name reaches us with the
 *   attacker's host name). The probes (/ping, /healthz, /readyz, /metrics)
 *   are exempt: they carry no job data and orchestrators call them by address.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Context, Next } from 'koa';
import type { Config } from '../config/schema';
import { HttpError } from './errors';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const PROBE_PATHS = new Set(['/ping', '/healthz', '/readyz', '/metrics']);

type HostConfig = Pick<Config, 'allowed_hosts'>;

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** "Example.COM:8080" → "example.com"; "[::1]:80" → "[::1]". */
function hostnameOf(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

/** An entry matches the host name (any port), "host:port" exactly, or ".example.com" any subdomain and itself. */
function matchesEntry(host: string, entry: string): boolean {
  const e = entry.trim().toLowerCase();
  const h = host.trim().toLowerCase();
  if (e.startsWith('.')) {
    const name = hostnameOf(h);
    return name === e.slice(1) || name.endsWith(e);
  }
  return e.includes(':') && !e.startsWith('[') ? h === e : hostnameOf(h) === e || h === e;
}

/** True when allowed_hosts is empty (off) or the Host header names one of its entries. */
export function hostAllowed(headers: IncomingHttpHeaders, config: HostConfig): boolean {
  if (config.allowed_hosts.length === 0) return true;
  const host = first(headers.host);
  if (!host) return false;
  return config.allowed_hosts.some((entry) => matchesEntry(host, entry));
}

/**
 * Why a browser request is cross-site, or null when it is not (or not from a browser).
 * Sec-Fetch-Site is the browser's own verdict; without it, Origin is compared with
 * the Host (or X-Forwarded-Host: a page cannot set it cross-site without a CORS preflight, which we never grant).
 */
export function crossSiteReason(headers: IncomingHttpHeaders, config: HostConfig): string | null {
  const fetchSite = first(headers['sec-fetch-site'])?.trim().toLowerCase();
  if (fetchSite === 'cross-site' || fetchSite === 'same-site') return `Sec-Fetch-Site: ${fetchSite}`;
  if (fetchSite === 'same-origin' || fetchSite === 'none') return null;
  const origin = first(headers.origin);
  if (origin === undefined) return null;
  let originHost: string;
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'Origin is not a web origin';
    originHost = url.host.toLowerCase();
  } catch {
    return 'Origin is not a web origin'; // "null" (sandboxed frames, file:), garbage
  }
  const ours = [first(headers.host), first(headers['x-forwarded-host'])?.split(',')[0]]
    .filter((h): h is string => Boolean(h))
    .map((h) => h.trim().toLowerCase());
  if (ours.includes(originHost)) return null;
  if (config.allowed_hosts.some((entry) => matchesEntry(originHost, entry))) return null;
  return 'Origin is another site';
}

export function crossSiteGuard(config: HostConfig) {
  return async function refuseCrossSite(ctx: Context, next: Next): Promise<void> {
    if (!PROBE_PATHS.has(ctx.path) && !hostAllowed(ctx.req.headers, config)) {
      throw new HttpError(400, 'Host header not allowed', { hint: 'call Batchiepatchie by a name listed in allowed_hosts' });
    }
    if (!SAFE_METHODS.has(ctx.method)) {
      const reason = crossSiteReason(ctx.req.headers, config);
      if (reason) {
        throw new HttpError(403, 'cross-site request refused', {
          reason,
          hint: 'change things from the Batchiepatchie UI itself, or call the API without a browser',
        });
      }
    }
    await next();
  };
}
