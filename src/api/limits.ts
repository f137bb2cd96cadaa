/**
 * What one request may cost, checked before the route runs: how deep a search
 * may page (`search_max_page`; OFFSET reads and throws away every row before
 * the page) and how long a stats span may be (`stats_max_span_days`). Both
 * answer 400 saying how to narrow. Statement time is bounded by the API's own
 * database pool (`api_statement_timeout_ms`, see app.ts); a query cut short
 * answers 503 (errors.ts).
 */
import type { Context, Next } from 'koa';
import type { Config } from '../config/schema';
import { badRequest } from './errors';

export const SEARCH_PAGE_SIZE = 100;

type LimitConfig = Pick<Config, 'search_max_page' | 'stats_max_span_days'>;

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function requestCostLimits(config: LimitConfig) {
  return async function boundRequestCost(ctx: Context, next: Next): Promise<void> {
    if (ctx.method === 'GET' && ctx.path === '/api/v1/jobs') {
      const page = single(ctx.query.page);
      if (page !== undefined && /^\d+$/.test(page) && Number(page) > config.search_max_page) {
        throw badRequest(
          `page: at most ${config.search_max_page} (the first ${(config.search_max_page + 1) * SEARCH_PAGE_SIZE} jobs of a search); ` +
            'narrow the search (q, queue, status, a shorter dateRange) or sort the other way',
          { parameter: 'page', max: config.search_max_page },
        );
      }
    } else if (ctx.method === 'GET' && ctx.path === '/api/v1/jobs/stats') {
      const start = single(ctx.query.start);
      const end = single(ctx.query.end);
      if (start && end && /^\d{1,10}$/.test(start) && /^\d{1,10}$/.test(end)) {
        const days = (Number(end) - Number(start)) / 86_400;
        if (days > config.stats_max_span_days) {
          throw badRequest(
            `end: at most ${config.stats_max_span_days} days after start; ask for a shorter span (or several)`,
            { parameter: 'end', max_days: config.stats_max_span_days },
          );
        }
      }
    }
    await next();
  };
}
