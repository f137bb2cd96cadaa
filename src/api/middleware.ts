/** Cross-cutting middleware: security headers and request logs. */
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from '../log';

/**
 * CSP for a Vite-built React app: scripts and styles from our origin only
 * (styles may be inline: React and chart libraries set style attributes),
 * WebSockets back to us, no framing by anyone.
 */
export function contentSecurityPolicy(assetsOrigin?: string): string {
  const assets = assetsOrigin ? ` ${assetsOrigin}` : '';
  return [
    "default-src 'self'",
    `script-src 'self'${assets}`,
    `style-src 'self' 'unsafe-inline'${assets}`,
    `img-src 'self' data:${assets}`,
    `font-src 'self' data:${assets}`,
    "connect-src 'self' ws: wss:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export const CONTENT_SECURITY_POLICY = contentSecurityPolicy();

/**
 * `assetsBaseUrl`: frontend_assets_base_url, where a UI built with
 * ASSETS_BASE_URL loads its scripts, styles and images from (a CDN, an S3
 * website): its origin is allowed beside ours.
 */
export function securityHeaders(opts: { assetsBaseUrl?: string } = {}) {
  const policy = contentSecurityPolicy(opts.assetsBaseUrl ? new URL(opts.assetsBaseUrl).origin : undefined);
  return async function setSecurityHeaders(ctx: Context, next: Next): Promise<void> {
    ctx.set('Content-Security-Policy', policy);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    // Job data changes by the second and may be private: no shared or stale copies.
    if (ctx.path.startsWith('/api/')) ctx.set('Cache-Control', 'no-store');
    await next();
  };
}

/** One JSON line per request, after it is answered (status, duration, who). */
export function requestLogger(logger: Logger) {
  return async function logRequest(ctx: Context, next: Next): Promise<void> {
    const started = process.hrtime.bigint();
    // Echoed back and logged: only a client's printable ASCII id is kept.
    const given = ctx.get('x-request-id');
    const requestId = /^[\x21-\x7e]{1,100}$/.test(given) ? given : randomUUID();
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const fields = {
        requestId,
        method: ctx.method,
        path: ctx.path,
        status: ctx.status,
        ms: Math.round(ms * 10) / 10,
        user: ctx.state.user as string | undefined,
        remote: ctx.ip,
      };
      if (ctx.status >= 500) logger.error(fields, 'request');
      else logger.info(fields, 'request');
    }
  };
}
