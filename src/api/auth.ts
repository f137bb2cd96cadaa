/**
 * Who is calling, and may they? Three modes (Config.auth_mode):
 * - none: everyone is an operator (the Go original); fine on loopback only.
 * - tokens: `Authorization: Bearer <token>` matched against Config.auth_tokens.
 * - proxy: a trusted reverse proxy (e.g. oauth2-proxy) sets the user and
 *   groups headers; members of auth_proxy_operator_groups are operators.
 * Viewers read; operators also change things.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Context, Next } from 'koa';
import type { Logger } from '../log';
import type { Config } from '../config/schema';
import type { Role } from '../types';
import { HttpError } from './errors';

export interface Identity {
  name: string;
  role: Role;
  via: 'none' | 'token' | 'proxy';
}

export type AuthConfig = Pick<
  Config,
  'auth_mode' | 'auth_tokens' | 'auth_proxy_user_header' | 'auth_proxy_groups_header' | 'auth_proxy_operator_groups'
>;

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time comparison; hashing first makes lengths equal. */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headerValue(headers, 'authorization') ?? '');
  return match?.[1];
}

function identifyByToken(token: string | undefined, config: AuthConfig): Identity | null {
  if (!token) return null;
  // Check every configured token so timing does not reveal which one matched.
  let found: Identity | null = null;
  config.auth_tokens.forEach((t, i) => {
    if (sameSecret(token, t.token) && !found) found = { name: t.name ?? `token#${i + 1}`, role: t.role, via: 'token' };
  });
  return found;
}

function identifyByProxy(headers: IncomingHttpHeaders, config: AuthConfig): Identity | null {
  const user = headerValue(headers, config.auth_proxy_user_header)?.trim();
  if (!user) return null;
  const groups = (headerValue(headers, config.auth_proxy_groups_header) ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter(Boolean);
  const operator = groups.some((g) => config.auth_proxy_operator_groups.includes(g));
  return { name: user, role: operator ? 'operator' : 'viewer', via: 'proxy' };
}

/**
 * The caller's identity, or null when credentials are missing or wrong.
 * `queryToken` lets a browser WebSocket (which cannot set headers) present a token.
 */
export function identify(headers: IncomingHttpHeaders, config: AuthConfig, queryToken?: string): Identity | null {
  switch (config.auth_mode) {
    case 'none':
      return { name: 'anonymous', role: 'operator', via: 'none' };
    case 'tokens':
      return identifyByToken(bearerToken(headers) ?? queryToken, config);
    case 'proxy':
      return identifyByProxy(headers, config);
  }
}

export function authRequired(config: AuthConfig): boolean {
  return config.auth_mode !== 'none';
}

/** 401 without (valid) credentials, 403 when the role is not enough. */
export function assertAllowed(identity: Identity | null, needed: Role, config: AuthConfig): Identity {
  if (!identity) {
    throw new HttpError(401, 'authentication required', {
      hint: config.auth_mode === 'tokens' ? 'send Authorization: Bearer <token>' : 'sign in through the proxy',
    });
  }
  if (needed === 'operator' && identity.role !== 'operator') {
    throw new HttpError(403, 'operators only', { role: identity.role });
  }
  return identity;
}

export function requireRole(needed: Role, config: AuthConfig) {
  return async function checkRole(ctx: Context, next: Next): Promise<void> {
    const identity = assertAllowed(identify(ctx.req.headers, config), needed, config);
    ctx.state.identity = identity;
    if (identity.via !== 'none') ctx.state.user = identity.name;
    await next();
  };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/i;

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.test(host.trim().replace(/^\[|\]$/g, ''));
}

/** Off is the Go original's behaviour: tolerated quietly only where nobody else can connect. */
export function warnIfUnprotected(config: AuthConfig & Pick<Config, 'host' | 'notify_secret'>, logger: Logger): boolean {
  if (config.auth_mode !== 'none' || isLoopbackHost(config.host)) return false;
  logger.warn(
    { host: config.host, auth_mode: config.auth_mode },
    '!!! AUTHENTICATION IS OFF and the API listens beyond loopback: anyone who can reach it may kill jobs and ' +
      'change queues. Set auth_mode = "tokens" or "proxy" (see docs/api.md). !!!',
  );
  return true;
}
