/**
 * The ops endpoint of worker and scheduler processes (Config.metrics_port):
 * Prometheus /metrics (the pipeline's counters live in these processes, not
 * in the API's) and /healthz. Deliberately tiny: no Koa, no auth, nothing but
 * what a scraper and a liveness probe read.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, register } from 'prom-client';
import type { Logger } from '../log';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(host: string, port: number, logger: Logger): Promise<MetricsServer> {
  // Once per process (the API registers them too when roles share a process).
  if (!register.getSingleMetric('process_cpu_user_seconds_total')) collectDefaultMetrics();
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { 'content-type': 'application/json' }).end('{"error":"method not allowed"}');
    } else if (path === '/metrics') {
      register.metrics().then(
        (body) => res.writeHead(200, { 'content-type': register.contentType }).end(body),
        (err: unknown) => {
          logger.error({ err }, 'metrics collection failed');
          res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"metrics collection failed"}');
        },
      );
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: bound } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  logger.info({ url }, 'metrics endpoint listening');
  return {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
