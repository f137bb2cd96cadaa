/**
 * CloudWatch Logs, JSON 1.1 (X-Amz-Target Logs_20140328.*): DescribeLogStreams
 * by prefix, GetLogEvents with forward/backward tokens. At the end of a stream
 * the forward token comes back unchanged, as AWS does.
 */
import type { LogStream as LogStreamView, OutputLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import { z } from 'zod';
import type { LogGroup, LogStream } from '../logStore';
import type { SimModel } from '../model';
import { ApiError, type Protocol, jsonResponse, parseJsonBody } from './common';
import { AMZ_JSON, jsonTargetError, targetOperation } from './jsonTarget';
import { validate } from './validate';

const PREFIX = 'Logs_20140328.';
const INVALID = 'InvalidParameterException';

const schemas = {
  DescribeLogStreams: z.object({
    logGroupName: z.string().optional(),
    logGroupIdentifier: z.string().optional(),
    logStreamNamePrefix: z.string().optional(),
    orderBy: z.enum(['LogStreamName', 'LastEventTime']).optional(),
    descending: z.boolean().optional(),
    nextToken: z.string().optional(),
    limit: z.number().int().min(1).max(50).optional(),
  }),
  GetLogEvents: z.object({
    logGroupName: z.string().optional(),
    logGroupIdentifier: z.string().optional(),
    logStreamName: z.string(),
    startTime: z.number().int().optional(),
    endTime: z.number().int().optional(),
    nextToken: z.string().optional(),
    limit: z.number().int().min(1).max(10_000).optional(),
    startFromHead: z.boolean().optional(),
    unmask: z.boolean().optional(),
  }),
};

function findGroup(model: SimModel, name: string | undefined, identifier: string | undefined): LogGroup {
  const wanted = name ?? identifier?.replace(/^arn:.*:log-group:/, '').replace(/:\*$/, '');
  if (!wanted) throw new ApiError(400, INVALID, 'logGroupName or logGroupIdentifier is required');
  const g = model.logs.groups.get(wanted);
  if (!g) throw new ApiError(400, 'ResourceNotFoundException', 'The specified log group does not exist.');
  return g;
}

function streamView(model: SimModel, group: LogGroup, s: LogStream): LogStreamView {
  const out: LogStreamView = {
    logStreamName: s.name,
    creationTime: s.creationTime,
    arn: `arn:aws:logs:${model.region}:123456789012:log-group:${group.name}:log-stream:${s.name}`,
    storedBytes: 0,
  };
  if (s.events.length > 0) {
    out.firstEventTimestamp = s.events[0].timestamp;
    out.lastEventTimestamp = s.events[s.events.length - 1].timestamp;
    out.lastIngestionTime = s.events[s.events.length - 1].ingestionTime;
    out.uploadSequenceToken = String(s.events.length);
  }
  return out;
}

/** Tokens name a position in the stream: f/<n> reads from n on, b/<n> reads before n. */
function token(direction: 'f' | 'b', position: number): string {
  return `${direction}/${String(position).padStart(56, '0')}/s`;
}

function parseToken(t: string): { direction: 'f' | 'b'; position: number } {
  const m = /^([fb])\/(\d+)\/s$/.exec(t);
  if (!m) throw new ApiError(400, INVALID, 'The specified nextToken is invalid.');
  return { direction: m[1] as 'f' | 'b', position: Number(m[2]) };
}

function getLogEvents(model: SimModel, input: z.infer<typeof schemas.GetLogEvents>) {
  const group = findGroup(model, input.logGroupName, input.logGroupIdentifier);
  const stream = group.streams.get(input.logStreamName);
  if (!stream) throw new ApiError(400, 'ResourceNotFoundException', 'The specified log stream does not exist.');
  const limit = input.limit ?? 10_000;
  const inRange = (e: { timestamp: number }) =>
    (input.startTime === undefined || e.timestamp >= input.startTime) && (input.endTime === undefined || e.timestamp < input.endTime);
  const all = stream.events;
  let start: number;
  let end: number;
  if (input.nextToken) {
    const t = parseToken(input.nextToken);
    if (t.direction === 'f') {
      start = Math.min(t.position, all.length);
      end = Math.min(all.length, start + limit);
    } else {
      end = Math.min(t.position, all.length);
      start = Math.max(0, end - limit);
    }
  } else if (input.startFromHead) {
    start = 0;
    end = Math.min(all.length, limit);
  } else {
    end = all.length;
    start = Math.max(0, end - limit);
  }
  const events: OutputLogEvent[] = all.slice(start, end).filter(inRange).map((e) => ({ timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime }));
  // At the end of the stream the same forward token comes back (that is how readers know to stop).
  const nextForwardToken = input.nextToken && end === start && parseToken(input.nextToken).direction === 'f' ? input.nextToken : token('f', end);
  return { events, nextForwardToken, nextBackwardToken: token('b', start) };
}

function handleOperation(op: string, body: Record<string, unknown>, model: SimModel): unknown {
  switch (op) {
    case 'DescribeLogStreams': {
      const input = validate(schemas.DescribeLogStreams, body, INVALID);
      const group = findGroup(model, input.logGroupName, input.logGroupIdentifier);
      const limit = input.limit ?? 50;
      if (input.orderBy === 'LastEventTime' && input.logStreamNamePrefix) {
        throw new ApiError(400, INVALID, 'Cannot order by LastEventTime with a logStreamNamePrefix.');
      }
      const after = input.nextToken ? Buffer.from(input.nextToken, 'base64url').toString('utf8') : undefined;
      const { names, more } = group.namesWithPrefix(input.logStreamNamePrefix ?? '', after, limit);
      const logStreams = names.map((n) => streamView(model, group, group.streams.get(n) as LogStream));
      return { logStreams, ...(more ? { nextToken: Buffer.from(names[names.length - 1]).toString('base64url') } : {}) };
    }
    case 'GetLogEvents':
      return getLogEvents(model, validate(schemas.GetLogEvents, body, INVALID));
    default:
      throw new ApiError(400, 'UnknownOperationException', `Unknown operation ${op}`);
  }
}

export const logsProtocol: Protocol = {
  service: 'Logs',
  operation: (req) => targetOperation(req, PREFIX),
  handle(op, req, model) {
    const body = parseJsonBody(req, 'SerializationException');
    return jsonResponse(200, handleOperation(op, body, model), AMZ_JSON);
  },
  errorResponse: (err) => jsonTargetError(err.status, err.code, err.message),
  fault: (kind) =>
    kind === 'throttle' ? new ApiError(400, 'ThrottlingException', 'Rate exceeded') : new ApiError(500, 'ServiceUnavailableException', 'The service cannot complete the request (simulated)'),
};
