/**
 * The simulator's own control endpoint under /_sim (not an AWS API): faults,
 * counters, the clock, submitting jobs and creating infrastructure by HTTP.
 */
import { z } from 'zod';
import type { Counters, Faults } from './faults';
import type { JobEventRule } from './jobEvents';
import { SqsError } from './sqs';
import { SimError, type SimModel } from './model';
import { type WireRequest, type WireResponse, jsonResponse } from './protocols/common';

const jobInput = z.object({
  jobName: z.string(),
  jobQueue: z.string(),
  jobDefinition: z.string().optional(),
  image: z.string().optional(),
  command: z.array(z.string()).optional(),
  vcpus: z.number().positive().optional(),
  memory: z.number().positive().optional(),
  resourceRequirements: z.array(z.object({ type: z.enum(['VCPU', 'MEMORY', 'GPU']), value: z.string() })).optional(),
  arraySize: z.number().int().optional(),
  environment: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
  multiNode: z.boolean().optional(),
  numNodes: z.number().int().optional(),
  fargate: z.boolean().optional(),
  retryAttempts: z.number().int().optional(),
  timeoutSeconds: z.number().int().min(60).optional(),
  dependsOn: z.array(z.string()).max(20).optional(),
  plan: z
    .object({
      outcome: z.enum(['SUCCEEDED', 'FAILED']).optional(),
      exitCode: z.number().int().optional(),
      reason: z.string().optional(),
      runSeconds: z.number().positive().optional(),
      startingSeconds: z.number().positive().optional(),
      logLines: z.array(z.string()).optional(),
      nodeLogLines: z.array(z.array(z.string())).max(1000).optional(),
      failAttempts: z.number().int().optional(),
      failChildren: z.array(z.number().int()).optional(),
    })
    .optional(),
});

const faultsInput = z.object({
  throttleRate: z.number().min(0).max(1).optional(),
  errorRate: z.number().min(0).max(1).optional(),
  delayMs: z.number().min(0).max(600_000).optional(),
  lossRate: z.number().min(0).max(1).optional(),
  duplicateRate: z.number().min(0).max(1).optional(),
  reorderRate: z.number().min(0).max(1).optional(),
  operations: z.array(z.string()).optional(),
});

const ceInput = z.object({
  name: z.string().min(1),
  type: z.enum(['MANAGED', 'UNMANAGED']).optional(),
  state: z.enum(['ENABLED', 'DISABLED']).optional(),
  minvCpus: z.number().int().min(0).optional(),
  maxvCpus: z.number().int().min(0).optional(),
  desiredvCpus: z.number().int().min(0).optional(),
  fargate: z.boolean().optional(),
  instances: z.number().int().min(0).max(1000).optional(),
  instanceVcpus: z.number().int().positive().optional(),
});

const queueInput = z.object({
  name: z.string().min(1),
  computeEnvironments: z.array(z.string()).min(1),
  priority: z.number().int().optional(),
  state: z.enum(['ENABLED', 'DISABLED']).optional(),
});

class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function body<S extends z.ZodType>(schema: S, req: WireRequest): z.infer<S> {
  let value: unknown = {};
  if (req.body.length > 0) {
    try {
      value = JSON.parse(req.body.toString('utf8'));
    } catch {
      throw new AdminError(400, 'body is not valid JSON');
    }
  }
  const r = schema.safeParse(value);
  if (!r.success) throw new AdminError(400, r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return r.data;
}

export function handleAdmin(req: WireRequest, deps: { model: SimModel; faults: Faults; counters: Counters; rule: JobEventRule }): WireResponse {
  const { model, faults, counters, rule } = deps;
  const route = `${req.method} ${req.url.pathname.replace(/\/+$/, '')}`;
  try {
    switch (route) {
      case 'GET /_sim/faults':
        return jsonResponse(200, faults.get());
      case 'PUT /_sim/faults':
      case 'POST /_sim/faults':
        faults.set(body(faultsInput, req));
        return jsonResponse(200, faults.get());
      case 'DELETE /_sim/faults':
        faults.clear();
        return jsonResponse(200, faults.get());
      case 'GET /_sim/counters':
        return jsonResponse(200, counters.get());
      case 'GET /_sim/calls':
        return jsonResponse(200, { faults: counters.faults(), calls: counters.calls() });
      case 'DELETE /_sim/counters':
        counters.reset();
        return jsonResponse(200, {});
      case 'POST /_sim/advance': {
        const { ms } = body(z.object({ ms: z.number().min(0) }), req);
        model.advance(ms);
        return jsonResponse(200, { now: model.now() });
      }
      case 'POST /_sim/jobs':
        return jsonResponse(200, model.submitJob(body(jobInput, req)));
      case 'POST /_sim/compute-environments':
        return jsonResponse(200, model.createComputeEnvironment(body(ceInput, req)));
      case 'POST /_sim/job-queues':
        return jsonResponse(200, model.createJobQueue(body(queueInput, req)));
      case 'GET /_sim/events':
        return jsonResponse(200, { queue: rule.queue });
      case 'PUT /_sim/events':
        rule.route(body(z.object({ queue: z.string().min(1).nullable() }), req).queue);
        return jsonResponse(200, { queue: rule.queue });
      case 'DELETE /_sim/events':
        rule.route(null);
        return jsonResponse(200, { queue: null });
      case 'POST /_sim/sqs/advance': {
        // SQS runs on the wall clock: this moves it forward (visibility timeouts, retention) without waiting.
        const { ms } = body(z.object({ ms: z.number().min(0) }), req);
        model.sqs.skewMs += ms;
        for (const q of model.sqs.queues.values()) q.wake();
        return jsonResponse(200, { skewMs: model.sqs.skewMs });
      }
      case 'GET /_sim/state':
        return jsonResponse(200, state(model));
      default:
        if (req.method === 'PUT' && req.url.pathname.startsWith('/_sim/s3/')) return putObject(req, model);
        return jsonResponse(404, { error: `no admin route ${route}` });
    }
  } catch (err) {
    if (err instanceof AdminError) return jsonResponse(err.status, { error: err.message });
    if (err instanceof SimError || err instanceof RangeError || err instanceof SqsError) return jsonResponse(400, { error: err.message });
    throw err;
  }
}

/** PUT /_sim/s3/<bucket>/<key...>: seeds an object (same as S3 PutObject). */
function putObject(req: WireRequest, model: SimModel): WireResponse {
  const [bucket, ...key] = req.url.pathname.slice('/_sim/s3/'.length).split('/');
  if (!bucket || key.length === 0) return jsonResponse(400, { error: 'use PUT /_sim/s3/<bucket>/<key>' });
  const contentType = req.headers['content-type'];
  let decoded: string[];
  try {
    decoded = [bucket, ...key].map(decodeURIComponent);
  } catch {
    return jsonResponse(400, { error: 'bucket or key is not valid URI encoding' });
  }
  model.putObject(decoded[0], decoded.slice(1).join('/'), req.body, contentType);
  return jsonResponse(200, { bucket, key: key.join('/') });
}

function state(model: SimModel) {
  const mem = process.memoryUsage();
  return {
    now: new Date(model.now()).toISOString(),
    process: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed },
    jobs: model.jobs.size,
    sqs: [...model.sqs.queues.values()].map((q) => ({ name: q.name, url: model.sqs.urlOf(q), messages: q.messages.length })),
    queues: [...model.queues.values()].map((q) => ({ name: q.name, counts: model.statusCounts(q.name) })),
    computeEnvironments: [...model.computeEnvironments.values()].map((c) => ({
      name: c.name,
      state: c.state,
      minvCpus: c.minvCpus,
      desiredvCpus: c.desiredvCpus,
      maxvCpus: c.maxvCpus,
      instances: [...c.instances].map((i) => ({ id: i.id, type: i.type, state: i.state, tasks: i.containerInstance?.tasks.size ?? 0 })),
    })),
  };
}
