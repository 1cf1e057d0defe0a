/**
 * The `GET /docs` page: Redoc (the `redoc` package's standalone browser bundle) renders the
 * API reference in the browser from `/openapi.json`. This server serves the bundle itself,
 * so the page works without internet access, and the page's Content-Security-Policy lets
 * it load nothing from anywhere else.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Context, Middleware, Next } from 'koa';
import { html } from './html';

const BUNDLE = 'redoc.standalone.js';
/** The bundle's own notice of the licenses of what it contains; its first line points here. */
const LICENSES = `${BUNDLE}.LICENSE.txt`;
const ASSET_PREFIX = '/docs/assets/';
/** `npm run build` copies the files beside the compiled server: the image has no devDependencies. */
const BUILT_DIR = path.join(__dirname, '..', 'docs-assets');

/**
 * What the page needs beyond 'none' (checked in headless Chromium by test/browser):
 * - styled-components adds an empty <style> and fills it through the CSSOM, and the bundle
 *   injects one fixed stylesheet (perfect-scrollbar's): their hashes, not 'unsafe-inline'.
 *   Both change only with the redoc version; the browser test fails on any violation.
 * - one data: image (an icon); the search index runs in a worker made from a blob: URL.
 * Redoc 2 also tries to show its logo from its CDN in the sidebar's footer: img-src stops it.
 */
export const API_REFERENCE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' 'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
  'img-src data:',
  "connect-src 'self'",
  'worker-src blob:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The built copy when running dist/, else (running from source, as the tests do) the installed package. */
function locate(file: string): string {
  const built = path.join(BUILT_DIR, file);
  if (existsSync(built)) return built;
  try {
    return require.resolve(`redoc/bundles/${file}`);
  } catch {
    throw new Error(`The API reference's ${file} is missing: \`npm run build\` copies it into dist/docs-assets/.`);
  }
}

interface Asset {
  type: string;
  cacheControl: string;
  bytes: Buffer;
  gzipped?: Buffer;
}

function loadAssets(bundleFile: string, licensesFile: string): { bundleUrl: string; byPath: Map<string, Asset> } {
  const bundle = readFileSync(bundleFile);
  // The URL names the content, so browsers may keep it for good and an upgrade changes it.
  const digest = createHash('sha256').update(bundle).digest('hex').slice(0, 16);
  const bundleUrl = `${ASSET_PREFIX}redoc.standalone.${digest}.js`;
  const byPath = new Map<string, Asset>([
    [bundleUrl, { type: 'text/javascript; charset=utf-8', cacheControl: 'public, max-age=31536000, immutable', bytes: bundle, gzipped: gzipSync(bundle) }],
    [`${ASSET_PREFIX}${LICENSES}`, { type: 'text/plain; charset=utf-8', cacheControl: 'no-cache', bytes: readFileSync(licensesFile) }],
  ]);
  return { bundleUrl, byPath };
}

function renderPage(title: string, bundleUrl: string): string {
  return html`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · API reference</title></head>
<body>
<noscript>This reference needs JavaScript. The OpenAPI document it shows is at <a href="/openapi.json">/openapi.json</a>.</noscript>
<redoc spec-url="/openapi.json"></redoc>
<script src="${bundleUrl}"></script>
</body>
</html>
`.markup;
}

export interface ApiReference {
  /** The HTML of `GET /docs`. */
  page: () => string;
  /**
   * Serves the page's script under /docs/assets/. A file is no API operation, so this runs
   * before the spec-driven router instead of being a route in the spec; other paths and
   * methods go on to the router (a 404 problem for unknown assets).
   */
  assets: Middleware;
}

/** Finds the bundle at start-up (a broken install fails there); reads it on first use. */
export function apiReference(title: string): ApiReference {
  const bundleFile = locate(BUNDLE);
  const licensesFile = locate(LICENSES);
  let loaded: ReturnType<typeof loadAssets> | undefined;
  // Read on first use, not at start-up: most servers never serve the page.
  const assets = (): ReturnType<typeof loadAssets> => (loaded ??= loadAssets(bundleFile, licensesFile));
  return {
    page: () => renderPage(title, assets().bundleUrl),
    // Not async: every other request passes on without an extra promise.
    assets(ctx: Context, next: Next) {
      const asset = ctx.path.startsWith(ASSET_PREFIX) && (ctx.method === 'GET' || ctx.method === 'HEAD') ? assets().byPath.get(ctx.path) : undefined;
      if (asset === undefined) return next();
      ctx.type = asset.type;
      ctx.set('Cache-Control', asset.cacheControl);
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
      if (asset.gzipped === undefined) {
        ctx.body = asset.bytes;
        return Promise.resolve();
      }
      ctx.vary('Accept-Encoding');
      const gzip = ctx.acceptsEncodings('gzip', 'identity') === 'gzip';
      if (gzip) ctx.set('Content-Encoding', 'gzip');
      ctx.body = gzip ? asset.gzipped : asset.bytes;
      return Promise.resolve();
    },
  };
}

// `npm run build` runs this file to copy the bundle and its license notice into dist/.
if (require.main === module) {
  mkdirSync(BUILT_DIR, { recursive: true });
  for (const file of [BUNDLE, LICENSES]) copyFileSync(require.resolve(`redoc/bundles/${file}`), path.join(BUILT_DIR, file));
}
