import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Context, Middleware, Next } from 'koa';
import { ApiError, notFound } from '../domain/errors';

/**
 * The web console's static files (built from console/ by `npm run build -w console`), served
 * at /console/. Page paths the console routes itself (/console/agents/…) get its index.html;
 * /console/api/… and /console/session belong to the console's sessions (console-session.ts)
 * and pass through untouched.
 */

/** Where `npm run build -w console` writes, seen from this file's compiled place in dist/http/. */
export const DEFAULT_CONSOLE_DIR = path.resolve(__dirname, '../../../console/dist');

const PREFIX = '/console';
/** Everything the console's own code needs, and nothing else: no inline script or style, no framing. */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Vite names files under assets/ by a hash of their content: a name never changes meaning. */
const HASHED_DIR = '/assets/';
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html and the other unhashed files are checked on every load, so a new build shows at once. */
const REVALIDATE = 'no-cache';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** The console's session routes and API passage: never answered from files. */
function belongsToSessions(requestPath: string): boolean {
  return ['/console/api', '/console/session'].some((owned) => requestPath === owned || requestPath.startsWith(`${owned}/`));
}

function setSecurityHeaders(ctx: Context): void {
  ctx.set('Content-Security-Policy', CONSOLE_CSP);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
  ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
}

const notBuilt = (dir: string): ApiError =>
  new ApiError(
    503,
    'CONSOLE_NOT_BUILT',
    'Service unavailable',
    `The web console has not been built (no ${path.join(dir, 'index.html')}). Run \`make build\` (or \`npm run build -w console\`) and reload.`,
  );

/** The file below `root` that a URL path names, or null when the path tries to leave it. */
function fileFor(root: string, below: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(below);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.split('/').some((segment) => segment === '..' || segment.startsWith('.'))) return null;
  const file = path.resolve(root, `.${decoded}`);
  return file.startsWith(root + path.sep) ? file : null;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/** A path whose last segment has an extension asks for a file; anything else is a page of the console. */
function looksLikeFile(below: string): boolean {
  const last = below.slice(below.lastIndexOf('/') + 1);
  return below.startsWith(HASHED_DIR) || /\.[A-Za-z0-9]+$/.test(last);
}

/**
 * Serves the built console under /console/: files as they are (hashed ones cached for a year,
 * the rest revalidated), index.html for every other page path, a 404 problem for a missing
 * file, and a 503 problem saying how to build the console when it has not been built.
 */
export function consoleAssets(dir: string = DEFAULT_CONSOLE_DIR): Middleware {
  const root = path.resolve(dir);
  const index = path.join(root, 'index.html');
  const serve = async (ctx: Context): Promise<void> => {
    const requestPath = ctx.path;
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD');
      throw new ApiError(405, 'METHOD_NOT_ALLOWED', 'Method not allowed', `${requestPath} supports GET, HEAD.`);
    }
    setSecurityHeaders(ctx);
    if (requestPath === PREFIX) {
      // Relative links and the client router both expect the trailing slash.
      ctx.status = 308;
      ctx.redirect(`${PREFIX}/${ctx.querystring === '' ? '' : `?${ctx.querystring}`}`);
      return;
    }
    if (!(await isFile(index))) throw notBuilt(root);
    const below = requestPath.slice(PREFIX.length);
    if (looksLikeFile(below)) {
      const file = fileFor(root, below);
      if (file === null || !(await isFile(file))) throw notFound('CONSOLE_FILE_NOT_FOUND', `The console has no file ${requestPath}.`);
      ctx.set('Cache-Control', below.startsWith(HASHED_DIR) ? IMMUTABLE : REVALIDATE);
      ctx.type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
      ctx.body = await readFile(file);
      return;
    }
    ctx.set('Cache-Control', REVALIDATE);
    ctx.type = TYPES['.html'] ?? 'text/html';
    ctx.body = await readFile(index);
  };
  // Not async: every request outside the console passes on without an extra promise.
  return (ctx: Context, next: Next) => {
    const requestPath = ctx.path;
    const ours = (requestPath === PREFIX || requestPath.startsWith(`${PREFIX}/`)) && !belongsToSessions(requestPath);
    return ours ? serve(ctx) : next();
  };
}
