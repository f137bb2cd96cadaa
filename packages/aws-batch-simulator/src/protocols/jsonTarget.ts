/** JSON 1.1 (X-Amz-Target) plumbing shared by ECS and CloudWatch Logs. */
import { ApiError, type Protocol, type WireRequest, type WireResponse, jsonResponse } from './common';

export const AMZ_JSON = 'application/x-amz-json-1.1';

export function targetOperation(req: WireRequest, prefix: string): string {
  const target = String(req.headers['x-amz-target'] ?? '');
  return target.startsWith(prefix) ? target.slice(prefix.length) || 'Unknown' : 'Unknown';
}

export function jsonTargetError(status: number, code: string, message: string): WireResponse {
  return jsonResponse(status, { __type: code, message }, AMZ_JSON, { 'x-amzn-errortype': code });
}

/** An SDK output shape as it travels in JSON 1.1: its Date members are epoch seconds. */
export type OnTheWire<T> = T extends Date
  ? number
  : T extends (infer U)[]
    ? OnTheWire<U>[]
    : T extends object
      ? { [K in keyof T]: OnTheWire<T[K]> }
      : T;

/** Epoch seconds, as JSON 1.1 timestamps travel. */
export function epochSeconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

/** A target naming a service we do not simulate. */
export const jsonTargetFallback: Protocol = {
  service: 'Unknown',
  operation(req) {
    return String(req.headers['x-amz-target'] ?? 'Unknown');
  },
  handle(op) {
    return jsonTargetError(400, 'UnknownOperationException', `Unknown operation ${op}`);
  },
  errorResponse(err) {
    return jsonTargetError(err.status, err.code, err.message);
  },
  fault(kind) {
    return kind === 'throttle' ? new ApiError(400, 'ThrottlingException', 'Rate exceeded') : new ApiError(500, 'InternalFailure', 'Internal failure (simulated)');
  },
};
