import type { z } from 'zod';
import { ApiError } from './common';

/** Validates an operation's input; problems become the protocol's 400 with what was wrong. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, code: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
  throw new ApiError(400, code, `${problems.length} validation error(s) detected: ${problems.join('; ')}`);
}
