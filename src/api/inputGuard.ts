/**
 * Input every route reads, checked once before any of them runs, so that no
 * odd byte reaches a handler, Postgres or a log as something else:
 * - methods no route knows (PROPFIND, TRACE, ...) → 405 (the router would say 501);
 * - a path that is not valid percent-encoded UTF-8, or holds control characters → 400;
 * - query parameters likewise (Node's parser would silently turn a bad escape
 *   into literal text or U+FFFD) → 400 naming the parameter.
 * Malformed HTTP that Node's own parser refuses (control characters in a
 * header, raw non-ASCII bytes in the request line) is answered as JSON by
 * `answerMalformedRequest` on the server's clientError.
 */
import type { Duplex } from 'node:stream';
import type { Context, Next } from 'koa';
import { HttpError, badRequest } from './errors';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** C0 controls (NUL included) and DEL: no parameter, name or path segment of ours holds one. */
const CONTROL = /[\u0000-\u001f\u007f]/;

function decode(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null; // a bad escape or an escape of invalid UTF-8
  }
}

function checkQuery(querystring: string): void {
  if (!querystring) return;
  for (const pair of querystring.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawName = eq >= 0 ? pair.slice(0, eq) : pair;
    const rawValue = eq >= 0 ? pair.slice(eq + 1) : '';
    const name = decode(rawName.replace(/\+/g, ' '));
    if (name === null || CONTROL.test(name)) {
      throw badRequest('query: a parameter name is not valid percent-encoded UTF-8 text', { parameter: 'query' });
    }
    const value = decode(rawValue.replace(/\+/g, ' '));
    if (value === null) throw badRequest(`${name}: not valid percent-encoded UTF-8`, { parameter: name });
    if (CONTROL.test(value)) throw badRequest(`${name}: control characters are not allowed`, { parameter: name });
  }
}

export function inputGuard() {
  return async function checkInput(ctx: Context, next: Next): Promise<void> {
    if (!KNOWN_METHODS.has(ctx.method)) {
      throw new HttpError(405, 'method not allowed', { method: ctx.method.slice(0, 20) });
    }
    const path = decode(ctx.path);
    if (path === null) throw badRequest('path: not valid percent-encoded UTF-8', { parameter: 'path' });
    if (CONTROL.test(path)) throw badRequest('path: control characters are not allowed', { parameter: 'path' });
    checkQuery(ctx.querystring);
    await next();
  };
}

/** JSON answers for requests Node's HTTP parser refuses before the app sees them (its default has no body). */
export function answerMalformedRequest(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'request headers too large']
      : err.code === 'HPE_INVALID_METHOD'
        ? [405, 'Method Not Allowed', 'method not allowed']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout', 'request not received in time']
          : [400, 'Bad Request', 'malformed HTTP request (control characters or raw non-ASCII bytes in the request line or a header?)'];
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
