/**
 * The listing reconciliation a queue's sync and an array parent's children
 * sync share: merge what ListJobs returns, diff it against our rows,
 * describe what changed plus what we believe active that AWS no longer
 * lists, write, and mark seen — as a pipeline whose stages overlap
 * (reconcileListing). An array parent about to be stored as
 * finished has its children reconciled first (syncArrayChildren), hence both
 * live here.
 */
import type { JobSummary, JobDetail } from '@aws-sdk/client-batch';
import { confirmEventWritten, getJobStates, touchLastSeen, type JobState } from '../store/jobs/sync';
import { getArrayChildren } from '../store/jobs/lookups';
import { upsertJobs, type DependencySets } from '../store/jobs/upsert';
import { clearNeedsDescribe } from '../store/jobEvents';
import { AWS_JOB_STATUSES, isTerminal, statusRank, type AwsJobStatus } from '../domain/jobStatus';
import type { JobDependencyLink, MirroredJob } from '../types';
import { childCounts } from '../domain/arrayProperties';
import {
  DESCRIBE_CONCURRENCY,
  DESCRIBE_JOBS_MAX_IDS,
  describeJobChunk,
  describeJobs,
  forEachJobPage,
  type ListJobsQuery,
} from '../aws/batch';
import { BoundedQueue } from './boundedQueue';
import type { TaskContext } from './context';
import { arrayPropertiesOf, dependenciesOf, JobMappingError, mapJobDetail } from './mapping';
import { summaryChanged } from './summaryDiff';

/** An array parent's child counts per AWS status. */
type ChildCounts = Partial<Record<AwsJobStatus, number>>;

/** Where a listed job is in this round's pipeline. */
const LISTED = 0; // listed; unchanged as far as we know
const QUEUED = 1; // waiting for DescribeJobs
const SENT = 2; // its DescribeJobs call went out
type Stage = typeof LISTED | typeof QUEUED | typeof SENT;

/**
 * The jobs a round's listing has returned so far, merged as pages arrive from
 * the parallel ListJobs queries: per job the most advanced status seen (a job
 * may move between two list calls and be listed twice) and its pipeline stage,
 * packed in one number so a million listed ids stay a compact map (the
 * summaries and descriptions themselves are not kept).
 */
export class ListedJobs {
  private entries = new Map<string, number>();
  /** Listed ids whose latest summary is non-terminal: marked seen at the end of the round. */
  readonly activeNow = new Set<string>();
  /** Ids listed more advanced after their DescribeJobs went out: described again once the rest is written. */
  readonly late = new Set<string>();
  newestCreatedAt: number | null = null;

  get size(): number {
    return this.entries.size;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  stage(id: string): Stage | undefined {
    const e = this.entries.get(id);
    return e === undefined ? undefined : ((e % 3) as Stage);
  }

  /**
   * Takes one summary; true when it must be compared with our row: the job's
   * first summary, or a more advanced (or equally advanced, newer) one while
   * nothing is queued for it. An older view than one already seen is ignored.
   */
  offer(s: JobSummary): boolean {
    const id = s.jobId;
    if (!id) return false;
    if (typeof s.createdAt === 'number' && (this.newestCreatedAt === null || s.createdAt > this.newestCreatedAt)) this.newestCreatedAt = s.createdAt;
    const rank = rankOf(s);
    const prev = this.entries.get(id);
    const prevRank = prev === undefined ? -1 : Math.floor(prev / 3);
    const stage = prev === undefined ? LISTED : ((prev % 3) as Stage);
    if (rank < prevRank) return false;
    if (s.status && !isTerminal(s.status)) this.activeNow.add(id);
    else this.activeNow.delete(id);
    this.entries.set(id, rank * 3 + stage);
    if (stage === SENT && rank > prevRank) this.late.add(id);
    return stage === LISTED;
  }

  /** LISTED -> QUEUED; false when the job was queued meanwhile (by another page's check). */
  queue(id: string): boolean {
    const e = this.entries.get(id);
    if (e === undefined || e % 3 !== LISTED) return false;
    this.entries.set(id, e + (QUEUED - LISTED));
    return true;
  }

  sent(id: string): void {
    const e = this.entries.get(id);
    if (e !== undefined && e % 3 === QUEUED) this.entries.set(id, e + (SENT - QUEUED));
  }
}

function rankOf(s: JobSummary): number {
  return statusRank(s.status ?? '');
}

/** A job to describe, with our stored status from before this round's writes (undefined: no row). */
interface Pending {
  id: string;
  prior: string | undefined;
}

/** Its description (undefined: AWS does not know the job). */
interface Described extends Pending {
  detail: JobDetail | undefined;
}

/** Ids listed and waiting for DescribeJobs: listing pauses while this many wait (bounds memory). */
export const DESCRIBE_QUEUE_CAPACITY = 5_000;
/** Jobs written per upsert statement; also the resume granularity of a retried task (written rows then match). */
export const WRITE_BATCH = 1_000;
/** Descriptions waiting to be written: describing pauses while this many wait. */
const WRITE_QUEUE_CAPACITY = 2 * WRITE_BATCH;
/** Upsert statements in flight at once for one reconcile (the old step-wise sync used 2 connections too). */
const WRITERS = 2;

/** Every described job's dependsOn: a describe is the one source of it (events do not carry it). */
function dependencySets(details: JobDetail[]): DependencySets {
  const sets = new Map<string, JobDependencyLink[]>();
  for (const d of details) if (typeof d.jobId === 'string') sets.set(d.jobId, dependenciesOf(d));
  return sets;
}

function mapDetails(ctx: TaskContext, label: Record<string, string>, details: JobDetail[]): MirroredJob[] {
  const mapped: MirroredJob[] = [];
  for (const d of details) {
    try {
      mapped.push(mapJobDetail(d));
    } catch (err) {
      if (!(err instanceof JobMappingError)) throw err;
      ctx.logger.warn({ ...label, jobId: err.jobId, err: err.message }, 'skipping a job description that cannot be mirrored');
    }
  }
  return mapped;
}

/** What the describe-and-write stages add up, shared by the stages of one reconcile. */
interface Written {
  described: number;
  changedIds: string[];
  finishedParents: string[];
  activeNow: Set<string>;
}

/** One DescribeJobs stage worker: full chunks of 100 ids (fewer only at the end) until the queue closes. */
async function describeStage(
  ctx: TaskContext,
  from: BoundedQueue<Pending>,
  to: BoundedQueue<Described>,
  onSent: (id: string) => void,
): Promise<void> {
  for (;;) {
    const chunk = await from.take(DESCRIBE_JOBS_MAX_IDS);
    if (!chunk) return;
    for (const p of chunk) onSent(p.id);
    const details = await describeJobChunk(ctx.aws.batch, chunk.map((p) => p.id));
    const byId = new Map(details.map((d) => [d.jobId, d]));
    await to.push(chunk.map((p) => ({ ...p, detail: byId.get(p.id) })));
  }
}

/** One write stage worker: batches of WRITE_BATCH descriptions until the queue closes. */
async function writeStage(ctx: TaskContext, label: Record<string, string>, from: BoundedQueue<Described>, out: Written): Promise<void> {
  for (;;) {
    const batch = await from.take(WRITE_BATCH);
    if (!batch) return;
    await writeDescribed(ctx, label, batch, out);
  }
}

async function writeDescribed(ctx: TaskContext, label: Record<string, string>, batch: Described[], out: Written): Promise<void> {
  const details = batch.flatMap((b) => (b.detail ? [b.detail] : []));
  out.described += details.length;
  // An event-written row AWS does not know has no truth to wait for (a forged or forgotten job): stop describing it.
  await clearNeedsDescribe(ctx.db, batch.filter((b) => !b.detail).map((b) => b.id));
  const mapped = mapDetails(ctx, label, details);
  const prior = new Map(batch.map((b) => [b.id, b.prior]));
  const parents = mapped.filter((j) => j.array_properties?.size !== undefined && !j.array_parent_id);
  // An array parent about to be stored as finished will not be "open" next round: mirror its
  // children first, so a failure here leaves the parent open and the next round tries again.
  const finishing = parents.filter((j) => isTerminal(j.status) && !isTerminal(prior.get(j.job_id) ?? 'SUBMITTED'));
  // One new to the mirror and still running is open only from the next round's start (open
  // parents are listed then): its children are mirrored now, not a round later.
  const arriving = parents.filter((j) => !isTerminal(j.status) && prior.get(j.job_id) === undefined);
  for (const parent of [...finishing, ...arriving]) {
    await syncArrayChildren(ctx, parent.job_id, childCounts(parent.array_properties) ?? undefined);
  }
  const written = await upsertJobs(ctx.db, mapped, { batchSize: WRITE_BATCH, concurrency: 1, dependencies: dependencySets(details) });
  out.changedIds.push(...written.changedIds);
  out.finishedParents.push(...finishing.map((j) => j.job_id));
  for (const job of mapped) {
    if (isTerminal(job.status)) out.activeNow.delete(job.job_id);
    else out.activeNow.add(job.job_id);
  }
}

/**
 * Runs `produce` (which pushes the ids to describe) beside DESCRIBE_CONCURRENCY
 * describe workers and WRITERS write workers, linked by bounded queues: the
 * stages overlap, and a slow one holds the ones before it. The first failure
 * aborts every stage; this resolves once all have stopped, so nothing of a
 * failed reconcile is still writing when its task is retried.
 */
async function describeAndWrite(
  ctx: TaskContext,
  label: Record<string, string>,
  produce: (queue: BoundedQueue<Pending>) => Promise<void>,
  out: Written,
  onSent: (id: string) => void = () => undefined,
): Promise<void> {
  const toDescribe = new BoundedQueue<Pending>(DESCRIBE_QUEUE_CAPACITY);
  const toWrite = new BoundedQueue<Described>(WRITE_QUEUE_CAPACITY);
  const describers = Array.from({ length: DESCRIBE_CONCURRENCY }, () => describeStage(ctx, toDescribe, toWrite, onSent));
  const stages = [
    produce(toDescribe).then(() => toDescribe.close()),
    Promise.all(describers).then(() => toWrite.close()),
    ...Array.from({ length: WRITERS }, () => writeStage(ctx, label, toWrite, out)),
  ];
  let failure: { error: unknown } | null = null;
  await Promise.all(
    [...describers, ...stages].map((p) =>
      p.catch((error: unknown) => {
        failure ??= { error };
        toDescribe.abort(error);
        toWrite.abort(error);
      }),
    ),
  );
  if (failure) throw (failure as { error: unknown }).error;
}

export interface ListingInput {
  queries: ListJobsQuery[];
  /** Our rows believed active (read before listing): those AWS does not list are described once. */
  believedActive: string[];
  /** Rows events wrote since their last describe (read before listing): described unless this round already does. */
  unconfirmed?: string[];
  /** A listing error this resolves true for counts as an empty listing (a queue AWS no longer knows). */
  listingErrorMeansEmpty?: (err: unknown) => Promise<boolean>;
}

export interface ReconcileStats {
  listed: number;
  described: number;
  changed: number;
  missingDescribed: number;
  /** Rows SQS events wrote that a listed summary agreed with (no describe needed). */
  confirmedBySummary: number;
  changedIds: string[];
  /** Array parents this reconcile saw reach a terminal status (their children were synced first). */
  finishedParents: string[];
  /** The newest createdAt listed (null: nothing listed). */
  newestCreatedAt: number | null;
  /** The listing failed in a way listingErrorMeansEmpty accepted. */
  listedAsEmpty: boolean;
}

/**
 * Every page of every query, in parallel, each page through `onPage` before
 * its query asks for the next. The first failure stops the other queries
 * after their current page; it is rethrown unless `meansEmpty` accepts it
 * (then this resolves false).
 */
async function listPages(
  ctx: TaskContext,
  input: ListingInput,
  onPage: (page: JobSummary[]) => Promise<void>,
): Promise<boolean> {
  let stop = false;
  let failure: { error: unknown } | null = null;
  await Promise.all(
    input.queries.map((q) =>
      forEachJobPage(ctx.aws.batch, q, onPage, () => stop).catch((error: unknown) => {
        stop = true;
        failure ??= { error };
      }),
    ),
  );
  if (!failure) return true;
  const { error } = failure as { error: unknown };
  if (input.listingErrorMeansEmpty && (await input.listingErrorMeansEmpty(error))) return false;
  throw error;
}

/**
 * The common half of queue and array-children sync, as a pipeline: list
 * (all queries in parallel); as each page arrives, diff it against our rows
 * and queue what is new or changed for DescribeJobs; describe in full chunks
 * of 100, DESCRIBE_CONCURRENCY calls in flight (each also waits for the
 * shared per-operation rate limit); write the descriptions in upserts of
 * WRITE_BATCH while further pages are listed and described. Once the listing
 * is complete, what we believe active that AWS did not list and what events
 * wrote since the last describe (`unconfirmed`) are described too. Jobs that
 * moved on after their describe went out are described again at the end.
 * Then everything AWS reports active is marked seen.
 *
 * Bounded queues between the stages keep memory to a few thousand summaries
 * and descriptions whatever the queue's size; the listed ids are kept (a
 * compact map) to merge the parallel queries and find what was not listed.
 * Any failure fails the whole reconcile (the caller then raises no mark).
 */
export async function reconcileListing(ctx: TaskContext, label: Record<string, string>, input: ListingInput): Promise<ReconcileStats> {
  const listed = new ListedJobs();
  const out: Written = { described: 0, changedIds: [], finishedParents: [], activeNow: listed.activeNow };
  let missing: string[] = [];
  let listedAsEmpty = false;
  let confirmed = 0;

  const queueChanged = async (page: JobSummary[], queue: BoundedQueue<Pending>) => {
    const candidates = page.filter((s) => listed.offer(s));
    if (candidates.length === 0) return;
    const states = await getJobStates(ctx.db, candidates.map((s) => s.jobId!));
    const pending: Pending[] = [];
    const agreeing: JobState[] = [];
    for (const s of candidates) {
      const state = states.get(s.jobId!);
      if (summaryChanged(s, state)) {
        if (listed.queue(s.jobId!)) pending.push({ id: s.jobId!, prior: state?.status });
      } else if (state?.event_written) agreeing.push(state);
    }
    // What an SQS event wrote and AWS's listing now agrees with needs no describe: confirmed as read.
    confirmed += await confirmEventWritten(ctx.db, agreeing);
    await queue.push(pending);
  };

  await describeAndWrite(
    ctx,
    label,
    async (queue) => {
      listedAsEmpty = !(await listPages(ctx, input, (page) => queueChanged(page, queue)));
      missing = input.believedActive.filter((id) => !listed.has(id));
      // An unconfirmed row listed and queued here is confirmed by this round's describe.
      const rest = [...new Set([...missing, ...(input.unconfirmed ?? [])])].filter((id) => (listed.stage(id) ?? LISTED) === LISTED);
      const states = await getJobStates(ctx.db, rest.filter((id) => listed.has(id)));
      await queue.push(rest.map((id) => ({ id, prior: states.get(id)?.status })));
    },
    out,
    (id) => listed.sent(id),
  );
  if (listed.late.size > 0) {
    const late = [...listed.late];
    await describeAndWrite(ctx, label, async (queue) => {
      const states = await getJobStates(ctx.db, late);
      await queue.push(late.map((id) => ({ id, prior: states.get(id)?.status })));
    }, out);
  }
  await touchLastSeen(ctx.db, [...listed.activeNow], new Date());
  return {
    listed: listed.size,
    described: out.described,
    changed: out.changedIds.length,
    missingDescribed: missing.length,
    confirmedBySummary: confirmed,
    changedIds: out.changedIds,
    finishedParents: out.finishedParents,
    newestCreatedAt: listed.newestCreatedAt,
    listedAsEmpty,
  };
}

export interface SyncArrayChildrenResult extends Pick<ReconcileStats, 'listed' | 'described' | 'changed' | 'missingDescribed'> {
  parentId: string;
}

async function populatedStatuses(
  ctx: TaskContext,
  parentId: string,
  known?: ChildCounts,
): Promise<readonly AwsJobStatus[]> {
  // Our stored counts may be a round old (the parent's own task runs beside this one): ask AWS.
  const counts = known ?? childCounts(arrayPropertiesOf((await describeJobs(ctx.aws.batch, [parentId]))[0]?.arrayProperties));
  if (!counts) return AWS_JOB_STATUSES;
  const populated = AWS_JOB_STATUSES.filter((s) => (counts[s] ?? 0) > 0);
  return populated.length > 0 ? populated : AWS_JOB_STATUSES;
}

/** `statusSummary`: the parent's fresh child counts when the caller has them (else our stored ones). */
export async function syncArrayChildren(
  ctx: TaskContext,
  parentId: string,
  statusSummary?: ChildCounts,
): Promise<SyncArrayChildrenResult> {
  const statuses = await populatedStatuses(ctx, parentId, statusSummary);
  const queries: ListJobsQuery[] = statuses.map((jobStatus) => ({ arrayJobId: parentId, jobStatus }));
  const believedActive = (await getArrayChildren(ctx.db, parentId)).filter((c) => !isTerminal(c.status)).map((c) => c.job_id);
  const stats = await reconcileListing(ctx, { parentId }, { queries, believedActive });
  return {
    parentId,
    listed: stats.listed,
    described: stats.described,
    changed: stats.changed,
    missingDescribed: stats.missingDescribed,
  };
}
