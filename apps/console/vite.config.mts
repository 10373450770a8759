import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const root = fileURLToPath(new URL('.', import.meta.url));
const API = process.env.GRIDLINE_API_URL ?? 'http://127.0.0.1:8080';

/** The console is static files under the api's /console; `npm run build` writes them to dist/apps/console. */
export default defineConfig({
  root,
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../../dist/apps/console', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
    sourcemap: false,
  },
  server: {
    // `npm run console:dev` serves the console with live reload against a running api (`npm start`'s by default).
    proxy: { '/api': API, '/v1': API, '/admin': API },
  },
  logLevel: 'warn',
});
