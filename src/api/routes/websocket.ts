/**
 * GET /api/v1/jobs/:id/status_websocket: the job's JSON at once, on every
 * status change (src/live hears changes made by any process, so this works
 * across API replicas), and every 5 s regardless. The upgrade is handled on
 * the HTTP server itself, with the same auth rules as the read endpoints
 * (a browser cannot set headers on a WebSocket, so `?access_token=` is
 * accepted too).
 *
 * A job not mirrored yet (a UI opened from a just-submitted job's link, say)
 * keeps its socket open, as the Go original's did: the job's JSON goes out
 * once it appears. After STATUS_WAIT_MS without it the socket closes with
 * 4404 "job not found" and an error message saying how long it waited.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { getJob } from '../../store/jobs/lookups';
import { identify, authRequired } from '../auth';
import { hostAllowed } from '../crossSite';
import type { ApiDeps } from '../deps';
import { toJobJson } from '../jobJson';
import { websocketGauge } from '../metrics';
import { JOB_ID_PATTERN } from '../validation';
import { webSocketLimits } from '../wsLimits';

const PATH = /^\/api\/v1\/jobs\/([^/]+)\/status_websocket\/?$/;
export const DEFAULT_STATUS_PUSH_MS = 5_000;
/** Close codes in the application range: 4000 + the HTTP status they stand for. */
export const CLOSE_BAD_ID = 4400;
export const CLOSE_NOT_FOUND = 4404;
/** How long a socket waits for a job not mirrored yet: a few sync rounds. */
export const DEFAULT_STATUS_WAIT_MS = 5 * 60_000;

export interface StatusWebSocketServer {
  clientCount(): number;
  close(): Promise<void>;
}

function refuse(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${message}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** With auth on, refuse pages of other origins riding on the user's proxy cookies. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    const originHost = new URL(origin).host;
    const hosts = [req.headers.host, req.headers['x-forwarded-host']].flat().filter(Boolean);
    return hosts.some((h) => h === originHost);
  } catch {
    return false;
  }
}

function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

interface JobWatch {
  id: string;
  /** Each socket with whether it has had the job yet, and its wait's timer while not. */
  sockets: Map<WebSocket, SocketWait>;
  sending: boolean;
  again: boolean;
  timer: NodeJS.Timeout;
  unsubscribe: () => void;
}

interface SocketWait {
  found: boolean;
  timer: NodeJS.Timeout | null;
}

/** What a push sends: the job's JSON, or nothing while the job is not mirrored yet. */
type PushMessage = { found: true; text: string } | { found: false };

/**
 * Everyone watching one job shares one live subscription, one timer and one
 * query per push, so a job open in many browsers costs the same as in one.
 */
function jobWatches(deps: ApiDeps, pushEvery: number, waitMs: number) {
  const watches = new Map<string, JobWatch>();

  async function message(id: string): Promise<PushMessage | null> {
    try {
      const job = await getJob(deps.db, id);
      return job ? { found: true, text: JSON.stringify(toJobJson(job)) } : { found: false };
    } catch (err) {
      deps.logger.warn({ err, id }, 'status websocket push failed');
      return null; // the next change or tick tries again
    }
  }

  function deliver(ws: WebSocket, wait: SocketWait | undefined, msg: PushMessage): void {
    if (ws.readyState !== WebSocket.OPEN || !msg.found) return; // not mirrored yet: keep waiting
    if (wait && !wait.found) {
      wait.found = true;
      if (wait.timer) clearTimeout(wait.timer);
      wait.timer = null;
    }
    ws.send(msg.text);
  }

  /** The wait is over: one last look, then the job's JSON or the close. */
  async function giveUp(id: string, ws: WebSocket, wait: SocketWait): Promise<void> {
    wait.timer = null;
    if (wait.found) return;
    const msg = await message(id);
    if (msg?.found) return deliver(ws, wait, msg);
    if (wait.found || ws.readyState !== WebSocket.OPEN) return;
    const seconds = waitMs / 1000;
    ws.send(JSON.stringify({ error: 'job not found', id, waited_seconds: seconds }));
    ws.close(CLOSE_NOT_FOUND, `job not found within ${seconds} s`);
  }

  async function push(watch: JobWatch): Promise<void> {
    if (watch.sending) {
      watch.again = true; // coalesce bursts: one more push after the current one
      return;
    }
    watch.sending = true;
    try {
      const msg = await message(watch.id);
      if (msg) for (const [ws, wait] of watch.sockets) deliver(ws, wait, msg);
    } finally {
      watch.sending = false;
      if (watch.again && watches.get(watch.id) === watch) {
        watch.again = false;
        void push(watch);
      }
    }
  }

  function join(id: string, ws: WebSocket): void {
    let watch = watches.get(id);
    if (!watch) {
      const created: JobWatch = {
        id,
        sockets: new Map(),
        sending: false,
        again: false,
        timer: setInterval(() => void push(created), pushEvery),
        unsubscribe: () => undefined,
      };
      created.unsubscribe = deps.live?.subscribe(id, () => void push(created)) ?? (() => undefined);
      watches.set(id, created);
      watch = created;
    }
    const wait: SocketWait = { found: false, timer: null };
    wait.timer = setTimeout(() => void giveUp(id, ws, wait), waitMs);
    watch.sockets.set(ws, wait);
    // The newcomer gets the job at once, without waiting for the shared tick.
    void message(id).then((msg) => msg && deliver(ws, wait, msg));
  }

  function leave(id: string, ws: WebSocket): void {
    const watch = watches.get(id);
    const wait = watch?.sockets.get(ws);
    if (wait?.timer) clearTimeout(wait.timer);
    if (!watch?.sockets.delete(ws) || watch.sockets.size > 0) return;
    clearInterval(watch.timer);
    watch.unsubscribe();
    watches.delete(id);
  }

  function clear(): void {
    for (const watch of watches.values()) {
      clearInterval(watch.timer);
      for (const wait of watch.sockets.values()) if (wait.timer) clearTimeout(wait.timer);
      watch.unsubscribe();
    }
    watches.clear();
  }

  return { join, leave, clear, size: () => watches.size };
}

export function attachStatusWebSocket(server: Server, deps: ApiDeps): StatusWebSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 * 1024 });
  const gauge = websocketGauge();
  const watches = jobWatches(deps, deps.statusPushIntervalMs ?? DEFAULT_STATUS_PUSH_MS, deps.statusWaitMs ?? DEFAULT_STATUS_WAIT_MS);
  const limits = webSocketLimits(deps.config);

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const base = deps.config.base_path;
    const pathname = base && url.pathname.startsWith(`${base}/`) ? url.pathname.slice(base.length) : url.pathname;
    const match = PATH.exec(pathname);
    if (!match) return refuse(socket, 404, 'Not Found');
    if (!hostAllowed(req.headers, deps.config)) return refuse(socket, 400, 'Bad Request');
    const identity = identify(req.headers, deps.config, url.searchParams.get('access_token') ?? undefined);
    if (!identity) return refuse(socket, 401, 'Unauthorized');
    if (authRequired(deps.config) && !sameOrigin(req)) return refuse(socket, 403, 'Forbidden');
    const refused = limits.admit(req, identity);
    if (refused) return refuse(socket, refused.status, refused.message);
    wss.handleUpgrade(req, socket, head, (ws) => {
      limits.track(req, identity, ws);
      serveJobStatus(ws, safeDecode(match[1]));
    });
  }

  function serveJobStatus(ws: WebSocket, id: string | null): void {
    if (id === null || !JOB_ID_PATTERN.test(id)) {
      ws.send(JSON.stringify({ error: 'id: not a job id' }));
      ws.close(CLOSE_BAD_ID, 'not a job id');
      return;
    }
    gauge.inc();
    ws.on('close', () => {
      watches.leave(id, ws);
      gauge.dec();
    });
    ws.on('error', (err) => deps.logger.debug({ err, id }, 'status websocket error'));
    // Clients have nothing to say; anything they send is ignored.
    watches.join(id, ws);
  }

  server.on('upgrade', onUpgrade);

  return {
    clientCount: () => wss.clients.size,
    async close() {
      server.off('upgrade', onUpgrade);
      limits.stop();
      watches.clear();
      for (const ws of wss.clients) ws.close(1001, 'server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      for (const ws of wss.clients) ws.terminate();
    },
  };
}
