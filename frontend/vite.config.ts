import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// In development the API runs elsewhere (e.g. `batchiepatchie demo`); BP_API points at it.
const apiTarget = process.env.BP_API ?? 'http://127.0.0.1:5454';

export default defineConfig({
  plugins: [react()],
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
