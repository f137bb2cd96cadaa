import { readFile } from 'node:fs/promises';

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

export async function readLocalText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${path}: ${describeError(err)}`);
  }
}

export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return err.name && err.name !== 'Error' ? `${err.name}: ${err.message}` : err.message;
}
