/**
 * Tracing for `use_datadog_tracing` (the Go original's key): OpenTelemetry spans
 * of HTTP requests, Koa routes, Postgres queries, Redis commands and AWS calls,
 * exported over OTLP/HTTP. The Datadog Agent ingests OTLP (port 4318), as do
 * most tracing back-ends; the endpoint comes from the standard
 * OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT variables,
 * or, without them, from BATCHIEPATCHIE_IP as the Go original's deployments
 * set it (the host's address, where the agent runs): see otlpTracesUrl.
 *
 * Must start before the instrumented modules (http, pg, ioredis, koa, the AWS
 * SDK) are loaded: the CLI calls it right after reading the config, before it
 * loads the role.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { AwsInstrumentation } from '@opentelemetry/instrumentation-aws-sdk';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { KoaInstrumentation } from '@opentelemetry/instrumentation-koa';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export interface Tracing {
  /** Sends what is buffered now (tests, and before exit). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  role: string;
  /** Overrides the OTLP traces URL (tests); otherwise the OTEL_* variables decide. */
  url?: string;
  env?: NodeJS.ProcessEnv;
}

/** The Datadog Agent's OTLP/HTTP intake port (otlp_config.receiver.protocols.http). */
export const AGENT_OTLP_HTTP_PORT = 4318;

/**
 * Where spans go. The OTEL_* variables, when set, decide (the exporter reads
 * them). Otherwise, with BATCHIEPATCHIE_IP set (the Go original sent its
 * traces to the agent at that address, port 8126; its docker_run.sh sets it
 * to the host's private IP), the agent's OTLP intake at that address, port
 * 4318 (BATCHIEPATCHIE_OTLP_PORT changes it). Otherwise undefined: the
 * exporter's default, http://localhost:4318.
 */
export function otlpTracesUrl(env: NodeJS.ProcessEnv): string | undefined {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  const ip = env.BATCHIEPATCHIE_IP?.trim();
  if (!ip) return undefined;
  const host = ip.includes(':') && !ip.startsWith('[') ? `[${ip}]` : ip; // an IPv6 address
  const port = env.BATCHIEPATCHIE_OTLP_PORT?.trim() || String(AGENT_OTLP_HTTP_PORT);
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw new Error(`BATCHIEPATCHIE_OTLP_PORT: expected a port number (1-65535), got ${JSON.stringify(env.BATCHIEPATCHIE_OTLP_PORT)}`);
  }
  return `http://${host}:${port}/v1/traces`;
}

export function startTracing(opts: TracingOptions): Tracing {
  const env = opts.env ?? process.env;
  const url = opts.url ?? otlpTracesUrl(env);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': env.OTEL_SERVICE_NAME ?? env.DD_SERVICE ?? 'batchiepatchie',
      'service.version': env.DD_VERSION ?? '0.1.0',
      'deployment.environment': env.DD_ENV ?? 'production',
      'batchiepatchie.role': opts.role,
    }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(url ? { url } : {}))],
  });
  provider.register();
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation(),
      new KoaInstrumentation(),
      new PgInstrumentation(),
      new IORedisInstrumentation(),
      new AwsInstrumentation(),
    ],
  });
  return {
    flush: () => provider.forceFlush(),
    async shutdown() {
      unregister();
      await provider.shutdown();
    },
  };
}
