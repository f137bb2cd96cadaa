/**
 * Bounds on the status WebSockets: at most `websocket_max_connections` open
 * in this process and `websocket_max_per_user` per identity (the user or
 * token name; the client address when auth is off), refused at the upgrade
 * with 503 / 429; and ping/pong heartbeats every `websocket_ping_seconds`
 * that drop a peer which did not answer the previous ping (a dead laptop, a
 * half-open connection) instead of pushing to it forever.
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { Config } from '../config/schema';
import type { Identity } from './auth';

export type WebSocketLimitConfig = Pick<Config, 'websocket_max_connections' | 'websocket_max_per_user' | 'websocket_ping_seconds'>;

export interface WebSocketLimits {
  /** Null when the upgrade may go on; otherwise the status and message to refuse it with. */
  admit(req: IncomingMessage, identity: Identity): { status: number; message: string } | null;
  /** Counts an accepted socket (under the key admit computed) until it closes, and heartbeats it. */
  track(req: IncomingMessage, identity: Identity, ws: WebSocket): void;
  stop(): void;
}

function keyOf(req: IncomingMessage, identity: Identity): string {
  return identity.via === 'none' ? `address:${req.socket.remoteAddress ?? '?'}` : `${identity.via}:${identity.name}`;
}

export function webSocketLimits(config: WebSocketLimitConfig): WebSocketLimits {
  const perKey = new Map<string, number>();
  const alive = new Map<WebSocket, boolean>();
  let total = 0;
  // Upgrades admitted but not yet open count too, so a burst cannot overshoot.
  const heartbeat = setInterval(() => {
    for (const [ws, answered] of alive) {
      if (!answered) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, config.websocket_ping_seconds * 1000);
  heartbeat.unref();

  return {
    admit(req, identity) {
      if (total >= config.websocket_max_connections) {
        return { status: 503, message: 'Too many WebSockets open (websocket_max_connections)' };
      }
      if ((perKey.get(keyOf(req, identity)) ?? 0) >= config.websocket_max_per_user) {
        return { status: 429, message: 'Too many WebSockets open for this user (websocket_max_per_user)' };
      }
      return null;
    },
    track(req, identity, ws) {
      const key = keyOf(req, identity);
      total++;
      perKey.set(key, (perKey.get(key) ?? 0) + 1);
      alive.set(ws, true);
      ws.on('pong', () => alive.has(ws) && alive.set(ws, true));
      ws.once('close', () => {
        total--;
        const n = (perKey.get(key) ?? 1) - 1;
        if (n > 0) perKey.set(key, n);
        else perKey.delete(key);
        alive.delete(ws);
      });
    },
    stop() {
      clearInterval(heartbeat);
    },
  };
}
