/** What every wire protocol module shares: the request/response shapes and AWS-style errors. */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { SimModel } from '../model';

export interface WireRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Aborted when the caller goes away before the answer (a long poll then receives nothing). */
  signal?: AbortSignal;
}

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** An error answered in the protocol's own shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type FaultKind = 'throttle' | 'error';

export interface Protocol {
  /** Counter/fault key prefix: "Batch", "ECS", "EC2", "Logs", "S3". */
  readonly service: string;
  /** The operation the request asks for ("Unknown" when it names none we know). */
  operation(req: WireRequest): string;
  handle(operation: string, req: WireRequest, model: SimModel): WireResponse | Promise<WireResponse>;
  errorResponse(err: ApiError, req: WireRequest): WireResponse;
  /** The service's own throttling / internal error. */
  fault(kind: FaultKind): ApiError;
}

export function requestId(): string {
  return randomUUID();
}

export function jsonResponse(status: number, body: unknown, contentType = 'application/json', extra: Record<string, string> = {}): WireResponse {
  return {
    status,
    headers: { 'content-type': contentType, 'x-amzn-requestid': requestId(), ...extra },
    body: JSON.stringify(body),
  };
}

/** Parses a JSON request body; a malformed one is the protocol's 400. */
export function parseJsonBody(req: WireRequest, code = 'SerializationException'): Record<string, unknown> {
  if (req.body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(req.body.toString('utf8'));
  } catch {
    throw new ApiError(400, code, 'Malformed request body: not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ApiError(400, code, 'Request body must be a JSON object');
  return value as Record<string, unknown>;
}

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Opaque page tokens over a stable list: an offset, tagged so garbage is recognised. */
export function offsetToken(offset: number): string {
  return Buffer.from(`sim-page:${offset}`).toString('base64url');
}

export function parseOffsetToken(token: string | undefined | null, code: string): number {
  if (!token) return 0;
  const m = /^sim-page:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!m) throw new ApiError(400, code, 'The specified nextToken is invalid.');
  return Number(m[1]);
}
