/**
 * One HTTP server, every protocol: requests are told apart by what the SDKs
 * send (X-Amz-Target for the JSON 1.1 services, /v1/ paths for Batch, a form
 * body with Action= for EC2, anything else is S3), counted, given their
 * faults, and answered in their protocol's shape — errors included.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { handleAdmin } from './admin';
import { type CallRecord, Counters, Faults } from './faults';
import { SimModel } from './model';
import { REORDER_HOLD_MS } from './sqs';

/** A message held back by an out-of-order fault waits at least this long (ms). */
const REORDER_MIN_HOLD_MS = 500;
import { batchProtocol } from './protocols/batch';
import { ApiError, type Protocol, type WireRequest, type WireResponse, jsonResponse } from './protocols/common';
import { ec2Protocol } from './protocols/ec2';
import { ecsProtocol } from './protocols/ecs';
import { jsonTargetFallback } from './protocols/jsonTarget';
import { logsProtocol } from './protocols/logs';
import { s3Protocol } from './protocols/s3';
import { type SqsDelivery, sqsProtocol } from './protocols/sqs';
import { JobEventRule } from './jobEvents';
import { startScenario } from './scenarios';
import type { SimulatorHandle, SimulatorOptions } from './types';

const MAX_BODY = 16 * 1024 * 1024;
const REAL_CLOCK_SYNC_MS = 100;

function pickProtocol(req: WireRequest, sqs: Protocol): Protocol {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') {
    if (target.startsWith('AmazonEC2ContainerServiceV20141113.')) return ecsProtocol;
    if (target.startsWith('Logs_20140328.')) return logsProtocol;
    if (target.startsWith('AmazonSQS.')) return sqs;
    return jsonTargetFallback;
  }
  if (req.url.pathname.startsWith('/v1/')) return batchProtocol;
  const contentType = String(req.headers['content-type'] ?? '');
  if (req.method === 'POST' && req.url.pathname === '/' && contentType.startsWith('application/x-www-form-urlencoded')) return ec2Protocol;
  return s3Protocol;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ApiError(413, 'RequestEntityTooLarge', 'Request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, r: WireResponse, head: boolean): void {
  const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
  res.writeHead(r.status, { ...r.headers, 'content-length': String(r.headers['content-length'] ?? body.length) });
  res.end(head ? undefined : body);
}

function reportToStderr(err: unknown): void {
  console.error('aws-batch-simulator: the model failed to advance:', err);
}

function safeSync(model: SimModel, onError: (err: unknown) => void): void {
  try {
    model.sync();
  } catch (err) {
    onError(err);
  }
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const seed = opts.seed ?? 1;
  const model = new SimModel({
    seed,
    clock: opts.clock ?? 'real',
    speed: opts.speed ?? 1,
    retentionSeconds: opts.retentionSeconds,
    region: opts.region,
  });
  const faults = new Faults(seed, opts.faults);
  const counters = new Counters();
  /** Every message entering a queue passes here: the delivery faults (lost, duplicated, held back) apply. */
  const deliver: SqsDelivery = (faultKey, queue, body, delaySeconds) => {
    const kind = faults.decideDelivery(faultKey);
    if (kind) counters.deliveryFault(faultKey, kind);
    const holdMs = kind === 'reordered' ? Math.ceil(REORDER_MIN_HOLD_MS + faults.random() * (REORDER_HOLD_MS - REORDER_MIN_HOLD_MS)) : 0;
    return model.sqs.send(model.sqs.find(queue), body, delaySeconds, kind, holdMs);
  };
  const sqs = sqsProtocol(deliver);
  const rule = new JobEventRule(model, deliver);
  if (opts.eventsQueue) rule.route(opts.eventsQueue);
  startScenario(model, opts.scenario ?? 'empty', opts.bulk);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let wire: WireRequest | undefined;
    let protocol: Protocol | undefined;
    let endCall: ((fault: CallRecord['fault']) => void) | undefined;
    let fault: CallRecord['fault'] = null;
    try {
      const url = new URL(req.url ?? '/', 'http://simulator');
      const gone = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) gone.abort();
      });
      wire = { method: req.method ?? 'GET', url, headers: req.headers, body: await readBody(req), signal: gone.signal };
      model.sync();
      if (url.pathname === '/_sim' || url.pathname.startsWith('/_sim/')) {
        send(res, handleAdmin(wire, { model, faults, counters, rule }), false);
        return;
      }
      protocol = pickProtocol(wire, sqs);
      const operation = protocol.operation(wire);
      const key = `${protocol.service}.${operation}`;
      counters.increment(key);
      const decision = faults.decide(key);
      endCall = counters.begin(key);
      fault = decision.kind;
      if (decision.delayMs > 0) await sleep(decision.delayMs);
      if (decision.kind) throw protocol.fault(decision.kind);
      const out = await protocol.handle(operation, wire, model);
      send(res, out, wire.method === 'HEAD');
      endCall(null);
    } catch (err) {
      endCall?.(fault);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const apiErr = err instanceof ApiError ? err : new ApiError(500, 'InternalFailure', `simulator error: ${err instanceof Error ? err.message : String(err)}`);
      if (protocol && wire) send(res, protocol.errorResponse(apiErr, wire), wire.method === 'HEAD');
      else send(res, jsonResponse(apiErr.status, { __type: apiErr.code, message: apiErr.message }), false);
    }
  }

  const server: Server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 4566, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host && opts.host !== '0.0.0.0' && opts.host !== '::' ? opts.host : '127.0.0.1';
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  model.sqs.baseUrl = endpoint;
  // A bug in the model must not take the process down from a timer: log it, keep serving.
  const timer = (opts.clock ?? 'real') === 'real' ? setInterval(() => safeSync(model, opts.onModelError ?? reportToStderr), REAL_CLOCK_SYNC_MS) : undefined;
  timer?.unref();

  return {
    endpoint,
    port,
    model,
    faults: { set: (f) => faults.set(f), get: () => faults.get(), clear: () => faults.clear() },
    counters: { get: () => counters.get(), faults: () => counters.faults(), calls: () => counters.calls(), reset: () => counters.reset() },
    events: { route: (queue) => rule.route(queue), queue: () => rule.queue },
    async stop() {
      if (timer) clearInterval(timer);
      rule.route(null);
      model.sqs.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
