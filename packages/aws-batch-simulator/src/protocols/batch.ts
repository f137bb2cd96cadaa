/**
 * AWS Batch, REST-JSON: POST /v1/<operation> with a JSON body; errors carry
 * the type in `x-amzn-errortype`; times are epoch milliseconds (plain numbers).
 */
import type { ComputeEnvironmentDetail, JobQueueDetail } from '@aws-sdk/client-batch';
import { z } from 'zod';
import { listJobs } from '../listing';
import { SimError, type SimModel } from '../model';
import { computeEnvironmentDetail, jobDetail, jobQueueDetail } from '../views';
import { ApiError, type FaultKind, type Protocol, type WireRequest, type WireResponse, jsonResponse, offsetToken, parseJsonBody, parseOffsetToken } from './common';
import { validate } from './validate';

const OPERATIONS: Record<string, string> = {
  '/v1/listjobs': 'ListJobs',
  '/v1/describejobs': 'DescribeJobs',
  '/v1/describejobqueues': 'DescribeJobQueues',
  '/v1/describecomputeenvironments': 'DescribeComputeEnvironments',
  '/v1/updatecomputeenvironment': 'UpdateComputeEnvironment',
  '/v1/terminatejob': 'TerminateJob',
  '/v1/canceljob': 'CancelJob',
  '/v1/submitjob': 'SubmitJob',
};

const CE = 'ClientException';

const keyValue = z.object({ name: z.string(), value: z.string() });
const resourceRequirement = z.object({ type: z.enum(['VCPU', 'MEMORY', 'GPU']), value: z.string() });

const schemas = {
  ListJobs: z.object({
    jobQueue: z.string().optional(),
    arrayJobId: z.string().optional(),
    multiNodeJobId: z.string().optional(),
    jobStatus: z.string().optional(),
    maxResults: z.number().int().optional(),
    nextToken: z.string().optional(),
    filters: z.array(z.object({ name: z.string(), values: z.array(z.string()) })).optional(),
  }),
  DescribeJobs: z.object({ jobs: z.array(z.string()) }),
  DescribeJobQueues: z.object({ jobQueues: z.array(z.string()).optional(), maxResults: z.number().int().optional(), nextToken: z.string().optional() }),
  DescribeComputeEnvironments: z.object({
    computeEnvironments: z.array(z.string()).optional(),
    maxResults: z.number().int().optional(),
    nextToken: z.string().optional(),
  }),
  UpdateComputeEnvironment: z.object({
    computeEnvironment: z.string(),
    state: z.enum(['ENABLED', 'DISABLED']).optional(),
    serviceRole: z.string().optional(),
    computeResources: z
      .object({ minvCpus: z.number().int().optional(), maxvCpus: z.number().int().optional(), desiredvCpus: z.number().int().optional() })
      .loose()
      .optional(),
  }),
  TerminateJob: z.object({ jobId: z.string(), reason: z.string() }),
  SubmitJob: z.object({
    jobName: z.string(),
    jobQueue: z.string(),
    jobDefinition: z.string(),
    arrayProperties: z.object({ size: z.number().int().optional() }).optional(),
    retryStrategy: z.object({ attempts: z.number().int().optional() }).loose().optional(),
    containerOverrides: z
      .object({
        vcpus: z.number().optional(),
        memory: z.number().optional(),
        command: z.array(z.string()).optional(),
        environment: z.array(keyValue).optional(),
        resourceRequirements: z.array(resourceRequirement).optional(),
      })
      .loose()
      .optional(),
    nodeOverrides: z.object({ numNodes: z.number().int().optional() }).loose().optional(),
    timeout: z.object({ attemptDurationSeconds: z.number().int().min(60) }).optional(),
    dependsOn: z.array(z.object({ jobId: z.string(), type: z.enum(['N_TO_N', 'SEQUENTIAL']).optional() })).optional(),
  }),
};

/** Names or ARNs, as the Describe* calls accept either. */
function matchesNameOrArn(wanted: string[], name: string, arn: string): boolean {
  return wanted.includes(name) || wanted.includes(arn);
}

function pageOf<T>(items: T[], maxResults: number | undefined, nextToken: string | undefined): { page: T[]; nextToken?: string } {
  if (maxResults !== undefined && (maxResults < 1 || maxResults > 100)) throw new ApiError(400, CE, 'maxResults must be between 1 and 100');
  const start = parseOffsetToken(nextToken, CE);
  const size = maxResults ?? 100;
  const page = items.slice(start, start + size);
  const next = start + size < items.length ? offsetToken(start + size) : undefined;
  return next ? { page, nextToken: next } : { page };
}

function handleOperation(op: string, body: Record<string, unknown>, model: SimModel): unknown {
  switch (op) {
    case 'ListJobs':
      return listJobs(model, validate(schemas.ListJobs, body, CE));
    case 'DescribeJobs': {
      const { jobs } = validate(schemas.DescribeJobs, body, CE);
      if (jobs.length > 100) throw new ApiError(400, CE, 'Cannot describe more than 100 jobs in a single request');
      const out = [];
      for (const id of jobs) {
        const found = model.lookupJob(id);
        if (found) out.push(jobDetail(model, found.job, found.node));
      }
      return { jobs: out };
    }
    case 'DescribeJobQueues': {
      const input = validate(schemas.DescribeJobQueues, body, CE);
      const wanted = input.jobQueues ?? [];
      const all: JobQueueDetail[] = [...model.queues.values()]
        .filter((q) => wanted.length === 0 || matchesNameOrArn(wanted, q.name, q.arn))
        .map(jobQueueDetail);
      const { page, nextToken } = pageOf(all, input.maxResults, input.nextToken);
      return { jobQueues: page, ...(nextToken ? { nextToken } : {}) };
    }
    case 'DescribeComputeEnvironments': {
      const input = validate(schemas.DescribeComputeEnvironments, body, CE);
      const wanted = input.computeEnvironments ?? [];
      if (wanted.length > 100) throw new ApiError(400, CE, 'computeEnvironments: at most 100 names');
      const all: ComputeEnvironmentDetail[] = [...model.computeEnvironments.values()]
        .filter((c) => wanted.length === 0 || matchesNameOrArn(wanted, c.name, c.arn))
        .map(computeEnvironmentDetail);
      const { page, nextToken } = pageOf(all, input.maxResults, input.nextToken);
      return { computeEnvironments: page, ...(nextToken ? { nextToken } : {}) };
    }
    case 'UpdateComputeEnvironment': {
      const input = validate(schemas.UpdateComputeEnvironment, body, CE);
      const ce = model.updateComputeEnvironment(input.computeEnvironment, { state: input.state, serviceRole: input.serviceRole, ...input.computeResources });
      return { computeEnvironmentName: ce.name, computeEnvironmentArn: ce.arn };
    }
    case 'TerminateJob': {
      const input = validate(schemas.TerminateJob, body, CE);
      model.terminateJob(input.jobId, input.reason);
      return {};
    }
    case 'CancelJob': {
      const input = validate(schemas.TerminateJob, body, CE);
      model.cancelJob(input.jobId, input.reason);
      return {};
    }
    case 'SubmitJob':
      return submitJob(validate(schemas.SubmitJob, body, CE), model);
    default:
      throw new ApiError(404, 'UnknownOperationException', `Unknown operation ${op}`);
  }
}

/**
 * Wire SubmitJob. SIM_OUTCOME / SIM_EXIT_CODE / SIM_RUN_SECONDS / SIM_REASON in
 * the container environment steer how the simulated run ends.
 */
function submitJob(input: z.infer<typeof schemas.SubmitJob>, model: SimModel) {
  const o = input.containerOverrides;
  const env = o?.environment ?? [];
  const sim = (name: string) => env.find((e) => e.name === name)?.value;
  const outcome = sim('SIM_OUTCOME');
  return model.submitJob({
    jobName: input.jobName,
    jobQueue: input.jobQueue,
    jobDefinition: input.jobDefinition,
    arraySize: input.arrayProperties?.size,
    retryAttempts: input.retryStrategy?.attempts,
    timeoutSeconds: input.timeout?.attemptDurationSeconds,
    dependsOn: input.dependsOn?.map((d) => d.jobId),
    command: o?.command,
    vcpus: o?.vcpus,
    memory: o?.memory,
    resourceRequirements: o?.resourceRequirements,
    environment: env.filter((e) => !e.name.startsWith('SIM_')),
    multiNode: input.nodeOverrides?.numNodes !== undefined ? true : undefined,
    numNodes: input.nodeOverrides?.numNodes,
    plan: {
      outcome: outcome === 'FAILED' ? 'FAILED' : outcome === 'SUCCEEDED' ? 'SUCCEEDED' : undefined,
      exitCode: sim('SIM_EXIT_CODE') !== undefined ? Number(sim('SIM_EXIT_CODE')) : undefined,
      runSeconds: sim('SIM_RUN_SECONDS') !== undefined ? Number(sim('SIM_RUN_SECONDS')) : undefined,
      reason: sim('SIM_REASON'),
    },
  });
}

export const batchProtocol: Protocol = {
  service: 'Batch',
  operation(req) {
    return OPERATIONS[req.url.pathname.toLowerCase().replace(/\/+$/, '')] ?? 'Unknown';
  },
  handle(op, req, model) {
    if (req.method !== 'POST') throw new ApiError(405, 'UnknownOperationException', `${req.method} ${req.url.pathname} is not an operation`);
    const body = parseJsonBody(req);
    try {
      return jsonResponse(200, handleOperation(op, body, model));
    } catch (err) {
      if (err instanceof SimError) throw new ApiError(400, CE, err.message);
      throw err;
    }
  },
  errorResponse(err: ApiError, _req: WireRequest): WireResponse {
    return jsonResponse(err.status, { __type: err.code, message: err.message }, 'application/json', { 'x-amzn-errortype': err.code });
  },
  fault(kind: FaultKind) {
    return kind === 'throttle'
      ? new ApiError(429, 'TooManyRequestsException', 'Too Many Requests')
      : new ApiError(500, 'ServerException', 'Internal server error (simulated)');
  },
};
