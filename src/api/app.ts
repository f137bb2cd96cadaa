/**
 * The Koa app (createApp) and the HTTP server around it (startApi): routes,
 * middleware order, WebSocket upgrade, and graceful shutdown.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa, { type Context, type Next } from 'koa';
import bodyParser from 'koa-bodyparser';
import { Redis } from 'ioredis';
import { instrumentAwsClients } from '../aws/calls';
import { createAwsClients } from '../aws/clients';
import { startJobStatusFeed } from '../live/jobStatusFeed';
import { createLogger } from '../log';
import { openRateLimiter } from '../pipeline/connection';
import { reportSyncRoundAgeFrom } from '../pipeline/metrics';
import { openPipelineQueues } from '../pipeline/queues';
import { createDb } from '../store/db';
import type { Config } from '../config/schema';
import { requireRole, warnIfUnprotected } from './auth';
import type { ApiDeps } from './deps';
import { crossSiteGuard } from './crossSite';
import { errorMiddleware } from './errors';
import { answerMalformedRequest, inputGuard } from './inputGuard';
import { requestCostLimits } from './limits';
import { proxyAuthGuard, proxyVetter } from './proxyAuth';
import { ensureDefaultMetrics, httpMetricsMiddleware } from './metrics';
import { requestLogger, securityHeaders } from './middleware';
import { BULL_BOARD_PATH, adminArea } from './routes/admin';
import { jobAwsRoutes } from './routes/jobAws';
import { jobRoutes } from './routes/jobs';
import { killRoutes } from './routes/kill';
import { logRoutes } from './routes/logs';
import { notifyRoutes } from './routes/notify';
import { opsRoutes } from './routes/ops';
import { queueRoutes } from './routes/queues';
import { statsRoutes } from './routes/stats';
import { loadIndexPage, staticAssets, uiRoutes } from './routes/ui';
import { attachStatusWebSocket } from './routes/websocket';

export const JSON_BODY_LIMIT = '1mb';

/**
 * JSON bodies for our routes; notify and bull-board parse their own. Kill also
 * reads a JSON body sent as text/plain, as the Go UI sends it (crossSite.ts
 * refuses such posts from other sites).
 */
function jsonBodies() {
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: JSON_BODY_LIMIT, strict: true });
  const parseKill = bodyParser({ enableTypes: ['json'], extendTypes: { json: ['text/plain'] }, jsonLimit: JSON_BODY_LIMIT, strict: true });
  return async function parseJson(ctx: Context, next: Next): Promise<void> {
    if (ctx.path === '/api/v1/jobs/notify' || ctx.path.startsWith(BULL_BOARD_PATH)) return next();
    await (ctx.path === '/api/v1/jobs/kill' ? parseKill : parse)(ctx, next);
  };
}

/**
 * base_path: behind a path-routing proxy (which passes the prefix on) every
 * path of ours arrives under it; the prefix is taken off so routes, auth and
 * logs see the paths they know. Paths without it still work (health checks
 * that bypass the proxy).
 */
export function stripBasePath(basePath: string | undefined) {
  return async function underBasePath(ctx: Context, next: Next): Promise<void> {
    if (basePath && (ctx.path === basePath || ctx.path.startsWith(`${basePath}/`))) {
      ctx.path = ctx.path.slice(basePath.length) || '/';
    }
    await next();
  };
}

export function createApp(deps: ApiDeps): Koa {
  const { config, logger } = deps;
  ensureDefaultMetrics();
  // Behind a trusted proxy, client addresses (logs only) come from X-Forwarded-For's last hop, the one the proxy added.
  const app = new Koa({ proxy: config.auth_mode === 'proxy', maxIpsCount: 1 });
  app.on('error', (err: unknown) => logger.warn({ err }, 'response error'));

  const viewer = requireRole('viewer', config);
  const operator = requireRole('operator', config);

  // Public: operations and the UI shell (it carries no data).
  const open = new Router();
  opsRoutes(open, deps);
  uiRoutes(open, deps);

  // The API: every route needs at least a viewer; mutations an operator.
  const api = new Router();
  notifyRoutes(api, deps); // its own guard: the shared secret
  api.use('/api', async (ctx, next) => {
    if (ctx.path === '/api/v1/jobs/notify') return next();
    return viewer(ctx, next);
  });
  statsRoutes(api, deps); // before /jobs/:id, which would match "stats"
  killRoutes(api, deps, operator);
  jobRoutes(api, deps);
  jobAwsRoutes(api, deps);
  logRoutes(api, deps);
  queueRoutes(api, deps, operator);

  app.use(stripBasePath(config.base_path));
  app.use(requestLogger(logger));
  app.use(httpMetricsMiddleware());
  app.use(securityHeaders({ assetsBaseUrl: config.frontend_assets_base_url }));
  app.use(errorMiddleware(logger));
  app.use(inputGuard());
  app.use(proxyAuthGuard(config));
  app.use(crossSiteGuard(config));
  app.use(requestCostLimits(config));
  app.use(adminArea(deps.pipeline?.queues, operator));
  app.use(jsonBodies());
  app.use(open.routes());
  app.use(api.routes());
  app.use(api.allowedMethods({ throw: true }));
  app.use(open.allowedMethods({ throw: true }));
  app.use(staticAssets(config));
  return app;
}

export interface ApiServer {
  url: string;
  server: http.Server;
  close(): Promise<void>;
}

/** What startApi opens itself when not given; closed again by close(). */
type Owned = { close(): Promise<void> | void }[];

async function openDefaults(config: Config, given: Partial<ApiDeps>, owned: Owned): Promise<ApiDeps> {
  const logger = given.logger ?? createLogger(config.log_level, { role: 'api' });
  // The API's own pool: every statement bounded (api_statement_timeout_ms), lock waits included.
  const db = given.db ?? createDb(config, undefined, { statementTimeoutMs: config.api_statement_timeout_ms });
  if (!given.db) owned.push({ close: () => db.destroy() });
  let readDb = given.readDb;
  if (!readDb && config.database_replica_host) {
    const replica = createDb({
      ...config,
      database_host: config.database_replica_host,
      database_port: config.database_replica_port ?? config.database_port,
    }, undefined, { statementTimeoutMs: config.api_statement_timeout_ms });
    owned.push({ close: () => replica.destroy() });
    readDb = replica;
  }
  let aws = given.aws;
  if (!aws) {
    const clients = createAwsClients(config);
    owned.push({ close: () => clients.destroy() });
    aws = clients;
  }
  // The API's AWS calls share the pipeline's rate limit and are counted alike.
  const rateLimit = openRateLimiter(config, 'bp-api-rate-limit');
  owned.push(rateLimit);
  aws = instrumentAwsClients(aws, rateLimit.limiter);
  let redis = given.redis;
  if (!redis) {
    // Commands wait for the connection (a probe right after start-up must not fail); /readyz bounds the wait.
    const client = new Redis(config.redis_url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    client.on('error', () => undefined); // readiness reports it; no log flood
    client.connect().catch(() => undefined);
    owned.push({ close: () => void client.disconnect() });
    redis = client;
  }
  let live = given.live;
  if (!live) {
    const feed = startJobStatusFeed(config, logger);
    owned.push(feed);
    live = feed;
  }
  let pipeline = given.pipeline;
  if (!pipeline) {
    const queues = openPipelineQueues(config);
    owned.push(queues);
    pipeline = queues;
  }
  const indexPage = given.indexPage ?? (await loadIndexPage(config, aws.s3, logger));
  return { ...given, config, logger, db, readDb, aws, redis, live, pipeline, indexPage };
}

const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Listens on config.host:config.port (port 0 = any free port). close() stops
 * accepting, lets in-flight requests finish (up to a grace period), closes
 * WebSockets, then whatever startApi opened (pools, listener, clients).
 */
export async function startApi(config: Config, given: Partial<ApiDeps> = {}): Promise<ApiServer> {
  const vetter = proxyVetter(config); // refuses proxy mode without a way to tell the proxy, before opening anything
  const owned: Owned = [];
  const deps = await openDefaults(config, given, owned);
  owned.push({ close: reportSyncRoundAgeFrom(deps.db) }); // batchiepatchie_sync_round_age_seconds on /metrics
  warnIfUnprotected(config, deps.logger);
  const app = createApp(deps);
  const server = http.createServer(app.callback());
  server.keepAliveTimeout = 65_000; // longer than typical load balancer idle timeouts
  server.on('clientError', answerMalformedRequest);
  // Upgrades skip Koa: identity headers not from the proxy are removed before the WebSocket reads them.
  if (vetter) server.prependListener('upgrade', (req: http.IncomingMessage) => void vetter.vet(req));
  const sockets = attachStatusWebSocket(server, deps);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  deps.logger.info({ url, auth_mode: config.auth_mode }, 'API listening');

  let closing: Promise<void> | null = null;
  async function shutdown(): Promise<void> {
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    await sockets.close();
    // Keep-alive connections go as soon as they are idle (their request done); stragglers after the grace period.
    const reap = setInterval(() => server.closeIdleConnections(), 50);
    server.closeIdleConnections();
    const grace = setTimeout(() => server.closeAllConnections(), deps.shutdownGraceMs ?? SHUTDOWN_GRACE_MS);
    await stopped;
    clearInterval(reap);
    clearTimeout(grace);
    for (const resource of owned.reverse()) {
      try {
        await resource.close();
      } catch (err) {
        deps.logger.warn({ err }, 'error while closing');
      }
    }
  }
  return { url, server, close: () => (closing ??= shutdown()) };
}
