import { readFile, stat } from 'node:fs/promises';

/**
 * database_root_certificate must be a readable PEM file: knexSettings reads it
 * synchronously when connecting, so a bad path would otherwise surface later
 * as a connection error far from its cause.
 */
export async function checkRootCertificate(path: string): Promise<string | undefined> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return `expected a readable PEM file, but ${path} is not a file`;
    const text = await readFile(path, 'utf8');
    if (!text.includes('-----BEGIN CERTIFICATE-----')) {
      return `expected a PEM file with at least one certificate, but ${path} has no "BEGIN CERTIFICATE" block`;
    }
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(err);
    return `expected a readable PEM file, cannot read ${path}: ${reason}`;
  }
}
