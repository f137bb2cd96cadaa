import type { z } from 'zod';
import { type Config, crossFieldRules, fieldSchema } from './schema';
import { CONFIG_KEY_NAMES, envVarFor, SECRET_KEYS } from './keys';

/** Where a key's value came from; env values are named by their variable in problems. */
export type ValueSource = 'default' | 'file' | 'env';

export type ValidationResult = { ok: true; config: Config } | { ok: false; problems: string[] };

/** Checks every key and every rule between keys; returns all problems at once. */
export function validateConfig(
  input: Record<string, unknown>,
  sources: Record<string, ValueSource>,
  /** Keys already reported (e.g. a failed ${VAR}); their value says nothing more. */
  skipKeys: ReadonlySet<string> = new Set(),
): ValidationResult {
  const fields = fieldSchema.safeParse(input);
  const rules = crossFieldRules.safeParse(input);
  const fieldIssues = fields.success ? [] : fields.error.issues;
  // A key whose own value is wrong needs no second message from a rule about it.
  const keysWithFieldIssues = new Set(fieldIssues.map((issue) => String(issue.path[0])));
  const ruleIssues = (rules.success ? [] : rules.error.issues).filter((issue) => !keysWithFieldIssues.has(String(issue.path[0])));
  const issues = [...fieldIssues, ...ruleIssues];
  if (issues.length > 0 || !fields.success) {
    const reportable = issues.filter((issue) => !skipKeys.has(String(issue.path[0])));
    const problems = reportable.flatMap((issue) => formatIssue(issue, input, sources));
    return { ok: false, problems: [...new Set(problems)] };
  }
  const config: Config = fields.data;
  return { ok: true, config };
}

function formatIssue(issue: z.core.$ZodIssue, input: Record<string, unknown>, sources: Record<string, ValueSource>): string[] {
  if (issue.code === 'unrecognized_keys') return issue.keys.map(unknownKeyProblem);
  const [key, ...rest] = issue.path.map(String);
  if (key === undefined) return [issue.message];
  const label = sources[key] === 'env' ? `${key} (from ${envVarFor(key)})` : key;
  const where = label + rest.map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join('');
  const value = valueAt(input, issue.path);
  if (value === undefined && issue.code === 'invalid_type') return [`${where}: missing, ${issue.message}`];
  // Messages of rules between keys describe the situation, not the value.
  const shown = issue.code === 'custom' || SECRET_KEYS.has(key) ? '' : `, got ${describeValue(value)}`;
  return [`${where}: ${issue.message}${shown}`];
}

function unknownKeyProblem(key: string): string {
  const guess = closestKey(key);
  return `${key}: unknown key${guess ? ` (did you mean ${guess}?)` : ''}; see docs/configuration.md for the keys`;
}

/** The known key nearest in spelling, if near enough to be a typo. */
export function closestKey(key: string): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of CONFIG_KEY_NAMES) {
    const distance = editDistance(key.toLowerCase(), name);
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(key.length / 4)) ? best.name : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const step of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[step];
  }
  return value;
}

/** A short, log-safe rendering of a value for "got ..." (URLs lose their passwords). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value instanceof Date) return 'a date';
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'a table';
  if (typeof value === 'string') {
    const text = redactUrlPassword(value);
    return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
  }
  return String(value);
}

/** `redis://user:secret@host` -> `redis://user:redacted@host`; other strings unchanged. */
export function redactUrlPassword(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1redacted@');
}
