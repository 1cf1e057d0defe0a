import { randomBytesFromPool } from '../domain/ids';
import type { Context, Middleware, Next } from 'koa';
import { ApiError } from '../domain/errors';
import type { Logger } from '../observability/logger';
import { DatabaseTimeoutError } from '../store/database';
import type { Metrics } from '../observability/metrics';
import { PROBLEM_CONTENT_TYPE, problemBody } from './problem';
import type { RequestState } from './router';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Adopts a well-formed incoming X-Request-Id (from a proxy) or makes one. */
export function requestId(): Middleware {
  return (ctx: Context, next: Next) => {
    const incoming = ctx.get('x-request-id');
    const id = REQUEST_ID_PATTERN.test(incoming) ? incoming : `req_${randomBytesFromPool(12).toString('hex')}`;
    (ctx.state as RequestState).requestId = id;
    ctx.set('X-Request-Id', id);
    return next();
  };
}

/** One log line and metrics per request, labelled by operation (never by raw path). */
export function observe(logger: Logger, metrics: Metrics): Middleware {
  return async (ctx: Context, next: Next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const state = ctx.state as RequestState;
      const operation = state.operationId ?? 'unmatched';
      metrics.httpRequests.inc({ operation, method: ctx.method, status: String(ctx.status) });
      metrics.httpDuration.observe({ operation, method: ctx.method }, seconds);
      logger.info(
        {
          requestId: state.requestId,
          method: ctx.method,
          path: ctx.path,
          operation,
          status: ctx.status,
          durationMs: Math.round(seconds * 100000) / 100,
          principal: state.principal?.id,
        },
        'request',
      );
    }
  };
}

/**
 * Logs a request still running past its deadline, while it runs: a request that hangs is
 * seen in the log, not only the one that eventually finishes slowly. (An event stream's
 * handler returns at once; its body streams on after this step.)
 */
export function deadline(logger: Logger, deadlineMs: number): Middleware {
  return async (ctx: Context, next: Next) => {
    const timer = setTimeout(() => {
      const state = ctx.state as RequestState;
      logger.warn({ requestId: state.requestId, method: ctx.method, path: ctx.path, operation: state.operationId, deadlineMs }, 'request exceeded its deadline');
    }, deadlineMs);
    try {
      await next();
    } finally {
      clearTimeout(timer);
    }
  };
}

/** Statuses the router answers without a body (no route, wrong method) as problems. */
function routingProblem(ctx: Context): ApiError | null {
  if (ctx.body !== undefined && ctx.body !== null) return null;
  if (ctx.status === 404) return new ApiError(404, 'ROUTE_NOT_FOUND', 'Not found', `No operation at ${ctx.method} ${ctx.path}.`);
  if (ctx.status === 405) {
    return new ApiError(405, 'METHOD_NOT_ALLOWED', 'Method not allowed', `${ctx.path} supports ${ctx.response.get('Allow')}.`);
  }
  if (ctx.status === 501) return new ApiError(501, 'NOT_IMPLEMENTED', 'Not implemented', `The ${ctx.method} method is not supported.`);
  return null;
}

/** Renders every failure as problem+json; unexpected ones are logged and answered as 500. */
export function problems(logger: Logger): Middleware {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      const problem = routingProblem(ctx);
      if (problem !== null) throw problem;
    } catch (error) {
      const state = ctx.state as RequestState;
      let problem = error instanceof ApiError ? error : null;
      if (error instanceof DatabaseTimeoutError) {
        logger.warn({ err: error, requestId: state.requestId, operation: state.operationId }, 'database timeout');
        problem = new ApiError(503, 'DATABASE_TIMEOUT', 'Service unavailable', `${error.message} Retry shortly.`, [], { 'Retry-After': '1' });
      }
      if (problem === null) {
        logger.error({ err: error, requestId: state.requestId, operation: state.operationId }, 'unhandled error');
        problem = new ApiError(500, 'INTERNAL_ERROR', 'Internal error', 'Something went wrong on our side; quote the request id.');
      }
      for (const [name, value] of Object.entries(problem.headers)) ctx.set(name, value);
      ctx.status = problem.status;
      ctx.type = PROBLEM_CONTENT_TYPE;
      ctx.body = problemBody(problem, ctx.path, state.requestId);
    }
  };
}

/** `/` is no API operation; whoever opens the server's address in a browser wants the reference. */
export function rootToDocs(): Middleware {
  return (ctx: Context, next: Next) => {
    if (ctx.path !== '/' || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    ctx.redirect('/docs');
    return Promise.resolve();
  };
}
