/**
 * The UI: index.html for the SPA's routes (from the local build or from S3,
 * as the Go original did), and the build's static assets from the local
 * prefix. A page explaining what is missing stands in when index.html cannot
 * be found, so a fresh checkout shows a hint rather than a bare 404.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type Router from '@koa/router';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'koa';
import send from 'koa-send';
import { readS3Text } from '../../aws/s3';
import type { Logger } from '../../log';
import type { Config } from '../../config/schema';
import type { ApiDeps } from '../deps';

export const UI_ROUTES = ['/', '/index.html', '/stats', '/jobs', '/job/:id', '/job_queues'];

export interface IndexPage {
  /** The HTML to serve, and whether it is the real UI or the explanation page. */
  get(): Promise<{ html: string; found: boolean }>;
}

type UiConfig = Pick<
  Config,
  'frontend_assets' | 'frontend_assets_local_prefix' | 'frontend_assets_bucket' | 'frontend_assets_key'
>;

export function localAssetsRoot(config: UiConfig): string {
  return path.resolve(config.frontend_assets_local_prefix ?? 'frontend/dist');
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export function missingUiPage(problem: string, remedy: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Batchiepatchie: UI not available</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>Batchiepatchie</h1>
<p>The API is running, but the web UI could not be loaded: ${escapeHtml(problem)}</p>
<p>${escapeHtml(remedy)}</p>
<p>The HTTP API works regardless: try <a href="/api/v1/jobs">/api/v1/jobs</a>.</p>
</body></html>`;
}

/** Local build: re-read when the file changes, so `npm run build` needs no restart. */
function localIndexPage(config: UiConfig): IndexPage {
  const file = path.join(localAssetsRoot(config), 'index.html');
  let cached: { mtimeMs: number; html: string } | null = null;
  return {
    async get() {
      try {
        const { mtimeMs } = await stat(file);
        if (!cached || cached.mtimeMs !== mtimeMs) cached = { mtimeMs, html: await readFile(file, 'utf8') };
        return { html: cached.html, found: true };
      } catch {
        cached = null;
        return {
          html: missingUiPage(`${file} does not exist.`, 'Build the frontend with `npm run build`, or point frontend_assets_local_prefix at a built UI.'),
          found: false,
        };
      }
    },
  };
}

/** S3: fetched once at start-up with a few retries, like the Go original. */
async function s3IndexPage(config: UiConfig, s3: S3Client, logger: Logger, retryDelayMs: number): Promise<IndexPage> {
  const bucket = config.frontend_assets_bucket ?? '';
  const key = config.frontend_assets_key ?? '';
  let lastError = 'frontend_assets_bucket / frontend_assets_key are not set';
  for (let attempt = 1; bucket && key && attempt <= 3; attempt++) {
    try {
      const html = await readS3Text(s3, { bucket, key });
      return { get: async () => ({ html, found: true }) };
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
      logger.warn({ err, bucket, key, attempt }, 'could not fetch the UI index.html from S3');
      if (attempt < 3) await new Promise((r) => setTimeout(r, retryDelayMs * attempt));
    }
  }
  const html = missingUiPage(
    `s3://${bucket}/${key} could not be fetched (${lastError}).`,
    'Upload the built index.html there (npm run build), or use frontend_assets = "local".',
  );
  return { get: async () => ({ html, found: false }) };
}

export async function loadIndexPage(
  config: UiConfig,
  s3: S3Client,
  logger: Logger,
  opts: { retryDelayMs?: number } = {},
): Promise<IndexPage> {
  return config.frontend_assets === 's3'
    ? s3IndexPage(config, s3, logger, opts.retryDelayMs ?? 1_000)
    : localIndexPage(config);
}

/** Vite names built files `name-<hash>.ext`: those never change, cache them for a year. */
const HASHED_FILE = /-[A-Za-z0-9_-]{8,}\.[A-Za-z0-9]+$/;

export function uiRoutes(router: Router, deps: ApiDeps): void {
  const page = deps.indexPage ?? localIndexPage(deps.config);
  const base = deps.config.base_path;
  const serveIndex = async (ctx: Context) => {
    const { html: raw } = await page.get();
    // Under base_path the UI learns its prefix from this tag (frontend/src/lib/basePath.ts).
    const html = base ? raw.replace(/<head[^>]*>/i, (head) => `${head}<meta name="batchiepatchie-base-path" content="${escapeHtml(base)}">`) : raw;
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = html;
  };
  for (const route of UI_ROUTES) router.get(route, serveIndex);
}

/**
 * Static files of the local build, for GET/HEAD the router did not answer.
 * koa-send resolves paths inside the root and refuses `..` and hidden files.
 */
export function staticAssets(config: UiConfig) {
  const root = localAssetsRoot(config);
  /**
   * The last middleware: whatever reaches it matched no route. A miss is left
   * as a JSON 404 (not thrown) so the router's allowedMethods can still turn
   * it into a 405 when the path exists with another method.
   */
  return async function serveStatic(ctx: Context): Promise<void> {
    const servable =
      (ctx.method === 'GET' || ctx.method === 'HEAD') &&
      !ctx.path.startsWith('/api/') &&
      !ctx.path.startsWith('/admin/') &&
      config.frontend_assets === 'local';
    if (servable && (await sendAsset(ctx, root))) return;
    ctx.status = 404;
    ctx.body = { error: 'not found', path: ctx.path.slice(0, 200) };
  };
}

/** true when a file was sent; false when there is none; 4xx for hostile paths (koa-send's checks). */
async function sendAsset(ctx: Context, root: string): Promise<boolean> {
  try {
    await send(ctx, ctx.path, {
      root,
      index: false,
      hidden: false,
      setHeaders(res, filePath) {
        const cache = HASHED_FILE.test(filePath) ? 'public, max-age=31536000, immutable' : 'public, max-age=300';
        res.setHeader('Cache-Control', cache);
      },
    });
    return ctx.body !== undefined && ctx.body !== null; // a directory is "sent" without a body
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status === 404 || status === undefined) return false;
    throw err;
  }
}
