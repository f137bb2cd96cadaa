/**
 * GET /api/v1/jobs/:id/status_websocket: the job's JSON at once, on every
 * status change (src/live hears changes made by any process, so this works
 * across API replicas), and every 5 s regardless. The upgrade is handled on
 * the HTTP server itself, with the same auth rules as the read endpoints
 * (a browser cannot set headers on a WebSocket, so `?access_token=` is
 * accepted too).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { getJob } from '../../store/jobs';
import { identify, authRequired } from '../auth';
import type { ApiDeps } from '../deps';
import { toJobJson } from '../jobJson';
import { websocketGauge } from '../metrics';
import { JOB_ID_PATTERN } from '../validation';

const PATH = /^\/api\/v1\/jobs\/([^/]+)\/status_websocket\/?$/;
export const DEFAULT_STATUS_PUSH_MS = 5_000;
/** Close codes in the application range: 4000 + the HTTP status they stand for. */
export const CLOSE_BAD_ID = 4400;
export const CLOSE_NOT_FOUND = 4404;

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

export function attachStatusWebSocket(server: Server, deps: ApiDeps): StatusWebSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 * 1024 });
  const gauge = websocketGauge();
  const pushEvery = deps.statusPushIntervalMs ?? DEFAULT_STATUS_PUSH_MS;

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = PATH.exec(url.pathname);
    if (!match) return refuse(socket, 404, 'Not Found');
    const identity = identify(req.headers, deps.config, url.searchParams.get('access_token') ?? undefined);
    if (!identity) return refuse(socket, 401, 'Unauthorized');
    if (authRequired(deps.config) && !sameOrigin(req)) return refuse(socket, 403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => serveJobStatus(ws, safeDecode(match[1])));
  }

  function serveJobStatus(ws: WebSocket, id: string | null): void {
    if (id === null || !JOB_ID_PATTERN.test(id)) {
      ws.send(JSON.stringify({ error: 'id: not a job id' }));
      ws.close(CLOSE_BAD_ID, 'not a job id');
      return;
    }
    gauge.inc();
    let sending = false;
    let again = false;
    let closed = false;

    const push = async (): Promise<void> => {
      if (closed) return;
      if (sending) {
        again = true; // coalesce bursts: one more push after the current one
        return;
      }
      sending = true;
      try {
        const job = await getJob(deps.db, id);
        if (closed) return;
        if (!job) {
          ws.send(JSON.stringify({ error: 'job not found', id }));
          ws.close(CLOSE_NOT_FOUND, 'job not found');
          return;
        }
        ws.send(JSON.stringify(toJobJson(job)));
      } catch (err) {
        deps.logger.warn({ err, id }, 'status websocket push failed');
      } finally {
        sending = false;
        if (again && !closed) {
          again = false;
          void push();
        }
      }
    };

    const unsubscribe = deps.live?.subscribe(id, () => void push()) ?? (() => undefined);
    const timer = setInterval(() => void push(), pushEvery);
    ws.on('close', () => {
      closed = true;
      clearInterval(timer);
      unsubscribe();
      gauge.dec();
    });
    ws.on('error', (err) => deps.logger.debug({ err, id }, 'status websocket error'));
    // Clients have nothing to say; anything they send is ignored.
    void push();
  }

  server.on('upgrade', onUpgrade);

  return {
    clientCount: () => wss.clients.size,
    async close() {
      server.off('upgrade', onUpgrade);
      for (const ws of wss.clients) ws.close(1001, 'server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      for (const ws of wss.clients) ws.terminate();
    },
  };
}
