/** Path parameters, validated the same way everywhere. */
import type { Context } from 'koa';
import { badRequest } from './errors';
import { JOB_ID_PATTERN, QUEUE_NAME_PATTERN } from './validation';

function param(ctx: Context, name: string): string {
  const value = (ctx as Context & { params?: Record<string, string> }).params?.[name];
  return typeof value === 'string' ? value : '';
}

export function jobIdParam(ctx: Context): string {
  const id = param(ctx, 'id');
  if (!JOB_ID_PATTERN.test(id)) throw badRequest('id: not a job id (letters, digits, - _ . : # up to 64)', { parameter: 'id' });
  return id;
}

export function queueNameParam(ctx: Context): string {
  const name = param(ctx, 'name');
  if (!QUEUE_NAME_PATTERN.test(name)) {
    throw badRequest('name: not a job queue name (letters, digits, - _ up to 128)', { parameter: 'name' });
  }
  return name;
}
