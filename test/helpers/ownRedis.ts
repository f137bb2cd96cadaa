/**
 * A redis-server of a test's own (no persistence: it always starts empty), on
 * a free port, so the test can kill it and start it again under running
 * workers — as an ElastiCache failover or the docker-compose Redis does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './net';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface OwnRedis {
  port: number;
  url: string;
  /** Starts it (empty) and resolves once it answers PING. */
  start(): Promise<void>;
  /** SIGKILL: everything in it is lost. */
  stop(): Promise<void>;
}

export async function ownRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let server: ChildProcess | null = null;
  const own: OwnRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      let spawnError: Error | null = null;
      server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      server.once('error', (err) => (spawnError = err)); // e.g. no redis-server binary
      const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      for (let i = 0; i < 200 && !spawnError; i++) {
        try {
          await probe.connect();
          await probe.ping();
          probe.disconnect();
          return;
        } catch {
          await sleep(50);
        }
      }
      probe.disconnect();
      throw new Error(`the test's own redis-server did not start (${(spawnError as Error | null)?.message ?? 'no answer'}); Debian's redis-server package has it`);
    },
    async stop() {
      const s = server;
      server = null;
      if (!s || s.exitCode !== null || s.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        s.once('exit', () => resolve());
        s.kill('SIGKILL');
      });
    },
  };
  return own;
}
