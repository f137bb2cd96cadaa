/**
 * Prometheus metrics of the API on prom-client's default register, which the
 * pipeline's metrics share, so /metrics shows both. Registration is
 * idempotent: several apps in one process (tests, the all-in-one role) reuse
 * the same collectors.
 */
import type { Context, Next } from 'koa';
import { Gauge, Histogram, collectDefaultMetrics, register } from 'prom-client';
import { once } from '../promRegistry';

export function httpDurationHistogram(): Histogram<'method' | 'route' | 'status'> {
  return once(
    'batchiepatchie_http_request_duration_seconds',
    () =>
      new Histogram({
        name: 'batchiepatchie_http_request_duration_seconds',
        help: 'HTTP request latency of the API by route pattern',
        labelNames: ['method', 'route', 'status'],
        buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      }),
  );
}

export function websocketGauge(): Gauge {
  return once(
    'batchiepatchie_status_websockets',
    () => new Gauge({ name: 'batchiepatchie_status_websockets', help: 'Open job status WebSockets' }),
  );
}

export function ensureDefaultMetrics(): void {
  if (!register.getSingleMetric('process_cpu_user_seconds_total')) collectDefaultMetrics();
}

/** Route label: the router's pattern (bounded cardinality), never the raw path. */
function routeLabel(ctx: Context): string {
  const matched = (ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute;
  if (typeof matched === 'string') return matched;
  return ctx.state.routeLabel ?? 'unmatched';
}

export function httpMetricsMiddleware() {
  const histogram = httpDurationHistogram();
  return async function measure(ctx: Context, next: Next): Promise<void> {
    const stop = histogram.startTimer();
    try {
      await next();
    } finally {
      stop({ method: ctx.method, route: routeLabel(ctx), status: String(ctx.status) });
    }
  };
}

export async function metricsText(): Promise<{ contentType: string; body: string }> {
  return { contentType: register.contentType, body: await register.metrics() };
}
