/**
 * `${NAME}` substitution in configuration strings. Every string inside the
 * parsed TOML (also inside arrays and inline tables) is substituted; numbers,
 * booleans and dates are left alone.
 */

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface SubstitutionResult<T> {
  value: T;
  /** Each names the key (dotted path) and the variable. */
  problems: string[];
}

/** Substitutes one string; `where` names the key in problems. */
export function substituteString(input: string, env: NodeJS.ProcessEnv, where: string): SubstitutionResult<string> {
  const problems: string[] = [];
  let output = '';
  let cursor = 0;
  for (;;) {
    const start = input.indexOf('${', cursor);
    if (start === -1) {
      output += input.slice(cursor);
      break;
    }
    output += input.slice(cursor, start);
    const end = input.indexOf('}', start + 2);
    if (end === -1) {
      problems.push(`${where}: unclosed "\${" at character ${start + 1} (expected "\${NAME}")`);
      output += input.slice(start);
      break;
    }
    const name = input.slice(start + 2, end);
    const value = env[name];
    if (!VARIABLE_NAME.test(name)) {
      problems.push(`${where}: "\${${name}}" is not a valid environment variable name (expected letters, digits and _)`);
    } else if (value === undefined) {
      problems.push(`${where}: environment variable ${name} is not defined (used as "\${${name}}")`);
    } else {
      output += value;
    }
    cursor = end + 1;
  }
  return { value: output, problems };
}

/** Substitutes every string in a parsed TOML value, recursively. */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, where: string): SubstitutionResult<unknown> {
  if (typeof value === 'string') return substituteString(value, env, where);
  if (Array.isArray(value)) {
    const problems: string[] = [];
    const items = value.map((item, i) => {
      const r = substituteEnv(item, env, `${where}[${i}]`);
      problems.push(...r.problems);
      return r.value;
    });
    return { value: items, problems };
  }
  if (isPlainTable(value)) {
    const problems: string[] = [];
    const table: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const r = substituteEnv(item, env, `${where}.${key}`);
      problems.push(...r.problems);
      table[key] = r.value;
    }
    return { value: table, problems };
  }
  return { value, problems: [] };
}

/** A TOML table (the parser builds them with a null prototype), not a Date or array. */
export function isPlainTable(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Date) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}
