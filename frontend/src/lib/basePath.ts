/**
 * The path prefix the UI and API are served under (the server's `base_path`,
 * the Go original's BASE_URL), e.g. "/batchiepatchie"; "" at the root. The
 * server announces it in index.html as
 * `<meta name="batchiepatchie-base-path" content="/batchiepatchie">`.
 */
let cached: string | null = null;

export function basePath(): string {
  if (cached !== null) return cached;
  const meta = typeof document === 'undefined' ? null : document.querySelector('meta[name="batchiepatchie-base-path"]');
  const value = meta?.getAttribute('content') ?? '';
  cached = /^(\/[^/]+)+$/.test(value) ? value : '';
  return cached;
}

/** An absolute path of ours ("/api/v1/jobs") under the prefix. */
export function withBase(path: string): string {
  return path.startsWith('/') ? `${basePath()}${path}` : path;
}
