import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Deletes every key starting with `prefix` (SCAN, so Redis is never blocked). */
export async function deleteKeysWithPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A key prefix of its own for one test file; `cleanup` deletes its keys. */
export function testRedisPrefix(): { prefix: string; cleanup(): Promise<void> } {
  const prefix = `bp-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  return { prefix, cleanup: () => deleteKeysWithPrefix(REDIS_URL, prefix) };
}
