/**
 * ListJobs as AWS Batch answers it: one of jobQueue / arrayJobId /
 * multiNodeJobId; by status (default RUNNING, up to 1000 a page) or with one
 * filter (status ignored, up to 100 a page), newest first.
 *
 * Pages read the per-(queue, status) ordered indexes from a cursor (creation
 * time + sequence of the last job returned), so a page costs O(log n + page)
 * and paging stays consistent while jobs move between statuses.
 */
import type { JobSummary, KeyValuesPair } from '@aws-sdk/client-batch';
import { AWS_JOB_STATUSES, type AwsJobStatus } from './statuses';
import { type SimJob, STATUS_INDEX } from './entities';
import { SimError, type SimModel } from './model';
import type { ChunkedSortedList, Position } from './sortedList';
import { jobSummary } from './views';

export interface ListJobsInput {
  jobQueue?: string;
  arrayJobId?: string;
  multiNodeJobId?: string;
  jobStatus?: string;
  maxResults?: number;
  nextToken?: string;
  filters?: KeyValuesPair[];
}

export interface ListJobsOutput {
  jobSummaryList: JobSummary[];
  nextToken?: string;
}

const MAX_BY_STATUS = 1000;
const MAX_WITH_FILTER = 100;
/** Jobs a filtered page may examine before answering with what it found and a token (as AWS does). */
const FILTER_SCAN_BUDGET = 50_000;

interface Cursor {
  scope: string;
  createdAt: number;
  seq: number;
}

function encodeToken(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.scope, c.createdAt, c.seq])).toString('base64url');
}

function decodeToken(token: string, scope: string): Cursor {
  try {
    const [s, createdAt, seq] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as [unknown, unknown, unknown];
    if (s === scope && typeof createdAt === 'number' && typeof seq === 'number') return { scope, createdAt, seq };
  } catch {
    // fall through
  }
  throw new SimError('ClientException', 'Invalid nextToken');
}

function parseStatus(value: string | undefined): AwsJobStatus {
  if (value === undefined) return 'RUNNING';
  if (!(AWS_JOB_STATUSES as readonly string[]).includes(value)) {
    throw new SimError('ClientException', `1 validation error detected: Value '${value}' at 'jobStatus' failed to satisfy constraint: Member must satisfy enum value set: [${AWS_JOB_STATUSES.join(', ')}]`);
  }
  return value as AwsJobStatus;
}

export function listJobs(model: SimModel, input: ListJobsInput): ListJobsOutput {
  const targets = [input.jobQueue, input.arrayJobId, input.multiNodeJobId].filter((v) => v !== undefined && v !== '');
  if (targets.length !== 1) {
    throw new SimError('ClientException', 'You must specify only one of the following: jobQueue, arrayJobId, or multiNodeJobId');
  }
  if (input.maxResults !== undefined && (!Number.isInteger(input.maxResults) || input.maxResults < 1 || input.maxResults > MAX_BY_STATUS)) {
    throw new SimError('ClientException', `maxResults must be between 1 and ${MAX_BY_STATUS}`);
  }
  const filters = input.filters ?? [];
  if (filters.length > 1) throw new SimError('ClientException', 'Only one filter can be used at a time');
  const filter = filters[0];
  if (input.arrayJobId) return listArrayChildren(model, input.arrayJobId, input);
  if (input.multiNodeJobId) return listNodes(model, input.multiNodeJobId, input);
  const queue = model.findQueue(input.jobQueue as string);
  if (filter) return listFiltered(model, queue.all, `f:${queue.name}:${filter.name}:${(filter.values ?? []).join(',')}`, filter, input);
  const status = parseStatus(input.jobStatus);
  const limit = input.maxResults ?? MAX_BY_STATUS;
  return page(model, { list: queue.byStatus[STATUS_INDEX[status]], scope: `s:${queue.name}:${status}`, token: input.nextToken, limit });
}

interface PageRequest {
  list: ChunkedSortedList<SimJob>;
  /** What the token was issued for; a token from another listing is refused. */
  scope: string;
  token: string | undefined;
  limit: number;
  /** Jobs that belong in the answer (default: all). */
  accept?: (job: SimJob) => boolean;
  /** Where to start when there is no token (default: the newest job). */
  start?: Position;
  /** True for the first job too old to matter: the walk ends there. */
  stop?: (job: SimJob) => boolean;
  /** Jobs examined at most before answering with what was found and a token. */
  budget?: number;
}

/** Reads up to `limit` accepted jobs, newest first, from just below the cursor. */
function page(model: SimModel, req: PageRequest): ListJobsOutput {
  const { list, scope, token, limit } = req;
  const accept = req.accept ?? (() => true);
  const stop = req.stop ?? (() => false);
  let end = req.start ?? null;
  if (token) {
    const c = decodeToken(token, scope);
    end = list.lowerBound((j) => j.createdAt < c.createdAt || (j.createdAt === c.createdAt && j.seq < c.seq));
  }
  const found: SimJob[] = [];
  let last: SimJob | undefined;
  let more = false;
  const walk = list.walkDescending(
    end,
    (job) => {
      if (stop(job)) return false;
      if (!accept(job)) {
        last = job;
        return true;
      }
      if (found.length === limit) {
        more = true;
        return false;
      }
      found.push(job);
      last = job;
      return true;
    },
    req.budget,
  );
  const out: ListJobsOutput = { jobSummaryList: found.map((j) => jobSummary(model, j)) };
  const cursorJob = more ? found[found.length - 1] : walk === 'budget' ? last : undefined;
  if (cursorJob) out.nextToken = encodeToken({ scope, createdAt: cursorJob.createdAt, seq: cursorJob.seq });
  return out;
}

function listFiltered(model: SimModel, list: ChunkedSortedList<SimJob>, scope: string, filter: KeyValuesPair, input: ListJobsInput): ListJobsOutput {
  const limit = Math.min(input.maxResults ?? MAX_WITH_FILTER, MAX_WITH_FILTER);
  const values = filter.values ?? [];
  if (values.length !== 1) throw new SimError('ClientException', `Filter ${filter.name} takes exactly one value`);
  const value = values[0];
  const base = { list, scope, token: input.nextToken, limit };
  switch (filter.name) {
    case 'JOB_NAME': {
      const lower = value.toLowerCase();
      const prefix = lower.endsWith('*') ? lower.slice(0, -1) : undefined;
      const accept = prefix !== undefined
        ? (j: SimJob) => j.name.length >= prefix.length && j.name.slice(0, prefix.length).toLowerCase() === prefix
        : (j: SimJob) => j.name.length === lower.length && j.name.toLowerCase() === lower;
      return page(model, { ...base, accept, budget: FILTER_SCAN_BUDGET });
    }
    case 'JOB_DEFINITION':
      return page(model, { ...base, accept: jobDefinitionMatcher(value), budget: FILTER_SCAN_BUDGET });
    case 'AFTER_CREATED_AT': {
      const after = parseEpochMs(value, filter.name);
      return page(model, { ...base, stop: (j) => j.createdAt <= after });
    }
    case 'BEFORE_CREATED_AT': {
      const before = parseEpochMs(value, filter.name);
      return page(model, { ...base, start: list.lowerBound((j) => j.createdAt < before) });
    }
    default:
      throw new SimError('ClientException', `Invalid filter name ${String(filter.name)}: expected JOB_NAME, JOB_DEFINITION, BEFORE_CREATED_AT or AFTER_CREATED_AT`);
  }
}

function parseEpochMs(value: string, name: string | undefined): number {
  if (!/^\d+$/.test(value)) throw new SimError('ClientException', `Filter ${name} expects milliseconds since the epoch, got '${value}'`);
  return Number(value);
}

/** name, name:rev, ARN (with or without :rev), or a prefix ending with '*'. */
function jobDefinitionMatcher(value: string): (j: SimJob) => boolean {
  const plain = value.replace(/^arn:aws[^:]*:batch:[^:]*:\d+:job-definition\//, '');
  if (plain.endsWith('*')) {
    const prefix = plain.slice(0, -1);
    return (j) => `${j.spec.definitionName}:${j.spec.revision}`.startsWith(prefix);
  }
  const [name, rev] = plain.split(':');
  if (rev !== undefined) return (j) => j.spec.definitionName === name && String(j.spec.revision) === rev;
  return (j) => j.spec.definitionName === name;
}

/** Children of an array job (index order), by status unless filtered. */
function listArrayChildren(model: SimModel, parentId: string, input: ListJobsInput): ListJobsOutput {
  const parent = model.jobs.get(parentId);
  if (!parent || !parent.isArrayParent) throw new SimError('ClientException', `Job ${parentId} is not an array job or does not exist`);
  const children = parent.children ?? [];
  const filtered = (input.filters ?? []).length > 0;
  const status = filtered ? undefined : parseStatus(input.jobStatus);
  return indexPage(`a:${parentId}:${status ?? '*'}`, children.length, input, filtered ? MAX_WITH_FILTER : MAX_BY_STATUS, (i) => {
    const child = children[i];
    return child && (status === undefined || child.status === status) ? jobSummary(model, child) : undefined;
  });
}

function listNodes(model: SimModel, jobId: string, input: ListJobsInput): ListJobsOutput {
  const job = model.jobs.get(jobId);
  if (!job || job.spec.numNodes === 0) throw new SimError('ClientException', `Job ${jobId} is not a multi-node parallel job or does not exist`);
  const filtered = (input.filters ?? []).length > 0;
  const status = filtered ? undefined : parseStatus(input.jobStatus);
  return indexPage(`n:${jobId}:${status ?? '*'}`, job.spec.numNodes, input, filtered ? MAX_WITH_FILTER : MAX_BY_STATUS, (i) =>
    status === undefined || job.status === status ? jobSummary(model, job, i) : undefined,
  );
}

function indexPage(scope: string, count: number, input: ListJobsInput, cap: number, at: (i: number) => JobSummary | undefined): ListJobsOutput {
  const limit = Math.min(input.maxResults ?? cap, cap);
  let i = input.nextToken ? decodeToken(input.nextToken, scope).seq : 0;
  const out: JobSummary[] = [];
  for (; i < count; i++) {
    const s = at(i);
    if (!s) continue;
    if (out.length === limit) return { jobSummaryList: out, nextToken: encodeToken({ scope, createdAt: 0, seq: i }) };
    out.push(s);
  }
  return { jobSummaryList: out };
}
