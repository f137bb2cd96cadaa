import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// In development the API runs elsewhere (e.g. `batchiepatchie demo`); BP_API points at it.
const apiTarget = process.env.BP_API ?? 'http://127.0.0.1:5454';

/**
 * Where the built files will be served from, as the Go original's
 * ASSETS_BASE_URL: by us at / (the default), or a CDN / S3 website
 * (`ASSETS_BASE_URL=https://cdn.example.com/batchiepatchie/ npm run build`,
 * then frontend_assets = "s3" and frontend_assets_base_url; docs/configuration.md).
 */
const base = process.env.ASSETS_BASE_URL ? process.env.ASSETS_BASE_URL.replace(/\/?$/, '/') : '/';

/**
 * The entry chunk is tiny (it starts the Jobs page's API request, then imports
 * the app). Announce the app chunk and its CSS in index.html so the browser
 * fetches them alongside the entry instead of one round trip later.
 */
function preloadAppChunk(): Plugin {
  return {
    name: 'batchiepatchie:preload-app-chunk',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        const app = Object.values(ctx.bundle ?? {}).find((c) => c.type === 'chunk' && c.name === 'app');
        if (!app || app.type !== 'chunk') return [];
        const css = [...(app.viteMetadata?.importedCss ?? [])];
        return [
          { tag: 'link', attrs: { rel: 'modulepreload', crossorigin: true, href: `${base}${app.fileName}` }, injectTo: 'head' },
          ...css.map((href) => ({ tag: 'link', attrs: { rel: 'stylesheet', crossorigin: true, href: `${base}${href}` }, injectTo: 'head' as const })),
        ];
      },
    },
  };
}

export default defineConfig({
  base,
  plugins: [react(), preloadAppChunk()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/api': { target: apiTarget, ws: true },
      '/ping': apiTarget,
    },
  },
});
