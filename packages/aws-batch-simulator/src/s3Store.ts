import { createHash } from 'node:crypto';

/** S3 as the simulator keeps it: buckets of objects, in memory. */
export interface S3Object {
  body: Buffer;
  contentType: string;
  lastModified: number;
  etag: string;
}

export class S3Store {
  readonly buckets = new Map<string, Map<string, S3Object>>();

  createBucket(bucket: string): void {
    if (!this.buckets.has(bucket)) this.buckets.set(bucket, new Map());
  }

  putObject(bucket: string, key: string, body: string | Buffer | Uint8Array, now: number, contentType = guessContentType(key)): S3Object {
    this.createBucket(bucket);
    const buf = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
    const obj: S3Object = {
      body: buf,
      contentType,
      lastModified: now,
      etag: `"${createHash('md5').update(buf).digest('hex')}"`,
    };
    this.buckets.get(bucket)?.set(key, obj);
    return obj;
  }

  getObject(bucket: string, key: string): S3Object | undefined {
    return this.buckets.get(bucket)?.get(key);
  }
}

function guessContentType(key: string): string {
  if (key.endsWith('.html')) return 'text/html';
  if (key.endsWith('.json')) return 'application/json';
  if (key.endsWith('.js')) return 'application/javascript';
  if (key.endsWith('.css')) return 'text/css';
  if (key.endsWith('.toml') || key.endsWith('.txt')) return 'text/plain';
  return 'binary/octet-stream';
}
