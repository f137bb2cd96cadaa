import { readFile } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';

export interface S3Location {
  bucket: string;
  key: string;
}

export function isS3Path(path: string): boolean {
  return path.startsWith('s3://');
}

/** `s3://bucket/some/key` -> { bucket, key }; undefined when either part is missing. */
export function parseS3Path(path: string): S3Location | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(path);
  return match ? { bucket: match[1], key: match[2] } : undefined;
}

/** Text of an S3 object; errors carry the s3:// path and the SDK's reason. */
export async function readS3Text(s3: S3Client, { bucket, key }: S3Location): Promise<string> {
  try {
    // Loaded on use, not with the config module (see withS3Client in ./index).
    const { GetObjectCommand } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!out.Body) throw new Error('empty response body');
    return await out.Body.transformToString('utf8');
  } catch (err) {
    throw new Error(`cannot read s3://${bucket}/${key}: ${describeError(err)}`);
  }
}

export async function readLocalText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${path}: ${describeError(err)}`);
  }
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return err.name && err.name !== 'Error' ? `${err.name}: ${err.message}` : err.message;
}
