import { parse as parseToml } from 'toml';

export type PasswordParse = { ok: true; password: string } | { ok: false; problem: string };

/**
 * The password object in S3 holds a `database_password = "..."` line (TOML,
 * as in the Go original; other keys in it are ignored). Problems never quote
 * the object's content: it is a secret.
 */
export function parsePasswordObject(text: string): PasswordParse {
  let parsed: unknown;
  try {
    parsed = parseToml(text);
  } catch (err) {
    const line = (err as { location?: { start?: { line?: number } } }).location?.start?.line;
    return { ok: false, problem: `expected a TOML line database_password = "...", but the object is not valid TOML${line ? ` (line ${line})` : ''}` };
  }
  const password = (parsed as Record<string, unknown>).database_password;
  if (typeof password !== 'string') {
    return { ok: false, problem: 'expected a line database_password = "..." in the object, found none' };
  }
  if (password === '') return { ok: false, problem: 'the object\'s database_password is empty' };
  return { ok: true, password };
}
