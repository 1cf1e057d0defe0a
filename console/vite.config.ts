import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is served by the reference server under /console/ (console-assets.ts there).
// The SDK is compiled from its TypeScript source, so the console never runs a stale build of it.
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  resolve: {
    alias: { '@mandate/sdk': decodeURIComponent(new URL('../sdks/ts/src/index.ts', import.meta.url).pathname) },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The server's Content-Security-Policy allows no data: URLs and no inline code.
    assetsInlineLimit: 0,
    sourcemap: true,
    target: 'es2022',
  },
});
