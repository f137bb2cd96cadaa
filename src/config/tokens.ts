import type { AuthToken, Role } from '../types';

const ROLES: readonly Role[] = ['viewer', 'operator'];

export type TokenParse = { ok: true; token: AuthToken } | { ok: false; problem: string };

/**
 * One token written as `role:token` or `name=role:token`. A name is present
 * only when an `=` comes before the first `:`, so tokens may contain `=`
 * (base64 padding) and `:`.
 */
export function parseTokenSpec(spec: string): TokenParse {
  const text = spec.trim();
  const colon = text.indexOf(':');
  if (colon === -1) return { ok: false, problem: 'expected "role:token" or "name=role:token" (no ":" found)' };
  const head = text.slice(0, colon);
  const token = text.slice(colon + 1);
  const eq = head.indexOf('=');
  const name = eq === -1 ? undefined : head.slice(0, eq).trim();
  const role = (eq === -1 ? head : head.slice(eq + 1)).trim();
  return checkToken({ name, role, token });
}

/** One token written as a TOML table `{ name = "...", role = "...", token = "..." }`. */
export function parseTokenTable(table: Record<string, unknown>): TokenParse {
  const unknown = Object.keys(table).filter((k) => k !== 'name' && k !== 'role' && k !== 'token');
  if (unknown.length) return { ok: false, problem: `unknown field(s) ${unknown.join(', ')} (expected name, role, token)` };
  const { name, role, token } = table;
  if (name !== undefined && typeof name !== 'string') return { ok: false, problem: 'expected name to be a string' };
  if (typeof role !== 'string') return { ok: false, problem: 'expected role = "viewer" or "operator"' };
  if (typeof token !== 'string') return { ok: false, problem: 'expected token to be a string' };
  return checkToken({ name, role, token });
}

function checkToken(t: { name?: string; role: string; token: string }): TokenParse {
  if (!(ROLES as readonly string[]).includes(t.role)) {
    // The role is not echoed: a token written the wrong way round would land here.
    return { ok: false, problem: 'expected the role "viewer" or "operator" before ":"' };
  }
  if (t.token.length === 0) return { ok: false, problem: 'expected a non-empty token' };
  if (/\s/.test(t.token)) return { ok: false, problem: 'the token must not contain white space' };
  if (t.name !== undefined && t.name.length === 0) return { ok: false, problem: 'expected a non-empty name before "="' };
  const token: AuthToken = { token: t.token, role: t.role as Role };
  if (t.name !== undefined) token.name = t.name;
  return { ok: true, token };
}

/** Splits a comma-separated list, dropping blanks. */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
