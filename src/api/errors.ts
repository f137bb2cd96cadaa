/**
 * Every error the API answers is JSON `{ "error": "...", ...details }` with a
 * status that says whose fault it was. Handlers throw HttpError; anything else
 * that carries an exposable 4xx status (body parser, router, koa-send) is
 * passed through with its message; everything else is a logged 500 whose
 * details stay in the log.
 */
import type { Context, Next } from 'koa';
import { AwsCallError } from '../aws/errors';
import type { Logger } from '../log';

export class HttpError extends Error {
  constructor(
    public readonly status: number,
    message: string,
    public readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string, details: Record<string, unknown> = {}) =>
  new HttpError(400, message, details);
export const notFound = (message: string, details: Record<string, unknown> = {}) => new HttpError(404, message, details);

interface StatusCarrier {
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  message?: unknown;
  type?: unknown;
}

/** Client-facing text for errors thrown by libraries (body parser, router, send). */
function libraryMessage(err: StatusCarrier, status: number): string {
  if (err instanceof SyntaxError) return `malformed JSON body: ${err.message}`;
  if (err.type === 'entity.too.large' || status === 413) return 'request body too large';
  if (err.type === 'entity.parse.failed') return 'malformed JSON body';
  if (status === 415) return 'unsupported content type';
  if (status === 405) return 'method not allowed';
  return typeof err.message === 'string' && err.message ? err.message : 'bad request';
}

/** Postgres cancelled the statement: api_statement_timeout_ms passed (or a lock wait did). */
const QUERY_CANCELED = '57014';

function statusOf(err: StatusCarrier): number {
  const raw = err.status ?? err.statusCode;
  return typeof raw === 'number' && raw >= 400 && raw <= 599 ? raw : 500;
}

export function errorMiddleware(logger: Logger) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (caught) {
      const err = (caught ?? {}) as StatusCarrier;
      let status = statusOf(err);
      let body: Record<string, unknown>;
      if (caught instanceof HttpError) {
        body = { error: caught.message, ...caught.details };
      } else if (caught instanceof AwsCallError) {
        const operator = (ctx.state.identity as { role?: string } | undefined)?.role === 'operator';
        body = { error: operator ? caught.message : caught.summary };
      } else if ((caught as { code?: unknown } | null)?.code === QUERY_CANCELED) {
        status = 503;
        logger.warn({ err: caught, method: ctx.method, path: ctx.path }, 'query cut short by the statement timeout');
        body = { error: 'the query took too long (api_statement_timeout_ms); narrow the request or try again later' };
      } else if (status < 500) {
        body = { error: libraryMessage(err, status) };
      } else {
        status = 500;
        logger.error({ err: caught, method: ctx.method, path: ctx.path }, 'request failed');
        body = { error: 'internal error' };
      }
      if (status >= 500 && (caught instanceof HttpError || caught instanceof AwsCallError)) {
        logger.warn({ err: caught, method: ctx.method, path: ctx.path }, 'request failed upstream');
      }
      if (ctx.headerSent) {
        // A streamed body already started: the only honest signal left is to cut the connection.
        ctx.req.destroy();
        return;
      }
      ctx.status = status;
      ctx.type = 'application/json';
      ctx.body = body;
      if (status === 405 && (caught as { headers?: Record<string, string> }).headers?.Allow) {
        ctx.set('Allow', (caught as { headers: Record<string, string> }).headers.Allow);
      }
    }
  };
}
