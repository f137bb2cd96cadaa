/**
 * Tracing for `use_datadog_tracing` (the Go original's key): OpenTelemetry spans
 * of HTTP requests, Koa routes, Postgres queries, Redis commands and AWS calls,
 * exported over OTLP/HTTP. The Datadog Agent ingests OTLP (port 4318), as do
 * most tracing back-ends; the endpoint comes from the standard
 * OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT variables.
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

export function startTracing(opts: TracingOptions): Tracing {
  const env = opts.env ?? process.env;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': env.OTEL_SERVICE_NAME ?? env.DD_SERVICE ?? 'batchiepatchie',
      'service.version': env.DD_VERSION ?? '0.1.0',
      'deployment.environment': env.DD_ENV ?? 'production',
      'batchiepatchie.role': opts.role,
    }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(opts.url ? { url: opts.url } : {}))],
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
