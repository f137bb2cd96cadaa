/**
 * GET /api/v1/jobs/:id/logs: the job's CloudWatch log as text/plain
 * (src/aws/logs.ts reads it). Without `after`: the whole log, streamed page
 * by page; the next page is fetched only when the client has taken the
 * previous one (Readable.from pulls on demand). With `after`: the events
 * after that forward token (from the head when empty: then the first 1,000
 * events only, so the first lines show at once), up to a few MB, with
 * `X-Next-Forward-Token` to continue from and `X-Log-More` saying whether
 * more may already be there; a follower polls with it and gets only new events.
 * With `node`: the same for that node of a multi-node parallel job, whose
 * stream DescribeJobs names (src/aws/nodeLog.ts); empty until the node started.
 * A row that DescribeJobs has not confirmed (written from an SQS event's
 * description, or only from a hint) opens the stream DescribeJobs names now,
 * never the row's: the mirror field is not AWS's word (docs/pipeline.md).
 */
import { Readable } from 'node:stream';
import type Router from '@koa/router';
import { LogTokenRefused, MAX_LOG_CHUNK_BYTES, logPages, openLog, readLogChunk, type JobLogLocation } from '../../aws/logs';
import { UnknownNode, nodeLogLocation } from '../../aws/nodeLog';
import { describeJobs } from '../../aws/batch';
import { upstreamCall } from '../../aws/errors';
import { mapJobDetail } from '../../pipeline/mapping';
import { getJob } from '../../store/jobs/lookups';
import type { JobWithInstance } from '../../types';
import type { ApiDeps } from '../deps';
import { badRequest, notFound } from '../errors';
import { jobIdParam } from '../params';
import { logsQuerySchema, parseQueryOr400 } from '../validation';

/** A node's log location from AWS, or 404 when there is no such node; null while the node has no stream yet. */
async function nodeLog(deps: ApiDeps, id: string, node: number): Promise<JobLogLocation | null> {
  try {
    const where = await nodeLogLocation(deps.aws.batch, id, node);
    return where.log_stream_name ? where : null;
  } catch (err) {
    if (err instanceof UnknownNode) throw notFound(err.message, { id, node, num_nodes: err.numNodes });
    throw err;
  }
}

/** Where the job logs: the row's stream once DescribeJobs confirmed it, else AWS's answer now (null: none yet, or AWS does not know the job). */
async function jobLog(deps: ApiDeps, job: JobWithInstance): Promise<JobLogLocation | null> {
  if (!job.event_written && !job.needs_describe) return job;
  const [detail] = await upstreamCall('AWS Batch', 'DescribeJobs', () => describeJobs(deps.aws.batch, [job.job_id]));
  if (!detail) return null;
  const described = mapJobDetail(detail);
  return described.log_stream_name ? described : null;
}

export function logRoutes(router: Router, deps: ApiDeps): void {
  router.get('/api/v1/jobs/:id/logs', async (ctx) => {
    const id = jobIdParam(ctx);
    const query = parseQueryOr400(logsQuerySchema, ctx.query);
    const job = await getJob(deps.db, id);
    if (!job) throw notFound('job not found', { id });
    const where = query.node === undefined ? await jobLog(deps, job) : await nodeLog(deps, id, query.node);
    const opts = { timestamps: query.timestamps === 'true' };
    ctx.set('Cache-Control', 'no-store');
    if (query.after !== undefined) {
      let chunk;
      try {
        chunk = where
          ? await readLogChunk(deps.aws.logs, where, query.after, { ...opts, maxBytes: query.after ? MAX_LOG_CHUNK_BYTES : 0 })
          : { text: '', nextToken: query.after || undefined, more: false };
      } catch (err) {
        if (err instanceof LogTokenRefused) throw badRequest(`after: ${err.message}`, { parameter: 'after' });
        throw err;
      }
      ctx.type = 'text/plain; charset=utf-8';
      if (chunk.nextToken) ctx.set('X-Next-Forward-Token', chunk.nextToken);
      ctx.set('X-Log-More', String(chunk.more));
      ctx.body = chunk.text;
      return;
    }
    ctx.type = 'text/plain; charset=utf-8';
    const log = where ? await openLog(deps.aws.logs, where) : null;
    if (!log) {
      ctx.body = '';
      return;
    }
    const stream = Readable.from(logPages(deps.aws.logs, log.ref, log.first, opts), { objectMode: false });
    stream.on('error', (err) => deps.logger.warn({ err, id }, 'log stream broke off'));
    ctx.body = stream;
  });
}
