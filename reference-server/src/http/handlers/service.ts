import type { Context } from 'koa';
import type { Cache } from '../../cache/cache';
import type { Metrics } from '../../observability/metrics';
import type { Database } from '../../store/database';
import type { PublicHandler } from '../router';
import { renderDevicePage } from '../device-page';
import { API_REFERENCE_CSP } from '../api-reference';

const CHECK_TIMEOUT_MS = 2000;

/** Runs a dependency check with a deadline; a hung database counts as down. */
async function check(probe: () => Promise<void>): Promise<{ status: 'up' | 'down'; latencyMs: number }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error('timeout'));
    }, CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([probe(), deadline]);
    return { status: 'up', latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  } catch {
    return { status: 'down', latencyMs: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
  }
}

export interface ServiceDeps {
  db: Database;
  /** A database call running longer than this should have timed out: the process is stuck. */
  stuckAfterMs: number;
  cache: Cache;
  metrics: Metrics;
  /** The bundled spec, as served at /openapi.json. */
  documentJson: string;
  /** The API reference page, which loads the spec from /openapi.json in the browser. */
  docsPage: () => string;
  issuer: string;
}

export function serviceHandlers(deps: ServiceDeps): Record<string, PublicHandler> {
  // Rendered on first request, not at start-up: most servers never serve it.
  let docsPage: string | undefined;
  return {
    getHealth(ctx: Context) {
      const oldestCallMs = deps.db.oldestCallMs();
      ctx.set('Cache-Control', 'no-store');
      if (oldestCallMs > deps.stuckAfterMs) {
        ctx.status = 503;
        ctx.body = { status: 'stuck', detail: `A database call has been running for ${Math.round(oldestCallMs / 1000)} s; restart this instance.` };
      } else {
        ctx.body = { status: 'ok' };
      }
      return Promise.resolve();
    },
    async getReadiness(ctx: Context) {
      const [database, cache] = await Promise.all([check(() => deps.db.ping()), check(() => deps.cache.ping())]);
      const ready = database.status === 'up' && cache.status === 'up';
      ctx.status = ready ? 200 : 503;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { status: ready ? 'ready' : 'unavailable', checks: { database, cache } };
    },
    async getMetrics(ctx: Context) {
      ctx.type = deps.metrics.registry.contentType;
      ctx.body = await deps.metrics.registry.metrics();
    },
    getOpenApiDocument(ctx: Context) {
      ctx.type = 'application/json';
      ctx.body = deps.documentJson;
      return Promise.resolve();
    },
    getDeviceVerificationPage(ctx: Context) {
      ctx.type = 'text/html; charset=utf-8';
      ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
      const userCode = ctx.query.user_code;
      ctx.body = renderDevicePage(deps.issuer, typeof userCode === 'string' ? userCode : undefined);
      return Promise.resolve();
    },
    getApiReference(ctx: Context) {
      ctx.type = 'text/html; charset=utf-8';
      // Its script and the spec come from this server; nothing from elsewhere may load.
      ctx.set('Content-Security-Policy', API_REFERENCE_CSP);
      // Small, and names the bundle by its hash: asked again each time, so an upgrade shows at once.
      ctx.set('Cache-Control', 'no-cache');
      docsPage ??= deps.docsPage();
      ctx.body = docsPage;
      return Promise.resolve();
    },
  };
}
