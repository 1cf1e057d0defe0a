import FindMyWay from 'find-my-way';
import type { Context, Middleware, Next } from 'koa';
import compose from 'koa-compose';

/** The operations of one path of the spec by method, and the methods a request is told it may use. */
interface PathOperations {
  byMethod: Map<string, (ctx: Context, next: Next) => Promise<void>>;
  allow: string[];
}

/** find-my-way matches paths only; every path is filed under this one method, and methods are dispatched here. */
const FILED_UNDER = 'GET';

/** What the table leaves in `ctx.state` for the steps of the operation it matched. */
export interface RoutedState {
  /** The path's parameters, decoded. */
  params?: Record<string, string>;
}

/** The path parameters of the request's operation (none before it is matched). */
export const pathParams = (ctx: Context): Record<string, string> => (ctx.state as RoutedState).params ?? {};

/** The route handler find-my-way requires; never called, since the table dispatches from `store`. */
const unused = (): void => undefined;

/**
 * The spec's operations by path and method. A radix tree (find-my-way, Fastify's router)
 * finds the path in one walk, its parameters decoded; each operation's steps are composed
 * once, here, rather than on every request. As before: a trailing slash and the case of the
 * path's fixed parts do not matter, a GET operation answers HEAD too, and a known path asked
 * with another method answers 405 with its Allow list (OPTIONS: 200 and the list).
 */
export class RouteTable {
  // No cap of its own on a parameter's length (find-my-way's default is 100): an overlong id
  // reaches the operation's validation and is refused there as a bad parameter, not as no route.
  private readonly tree = FindMyWay({ ignoreTrailingSlash: true, caseSensitive: false, maxParamLength: Number.MAX_SAFE_INTEGER });
  private readonly byTemplate = new Map<string, PathOperations>();

  /** `template` in the spec's form (`/v1/agents/{agentId}`). */
  add(template: string, method: string, steps: Middleware[]): void {
    let operations = this.byTemplate.get(template);
    if (operations === undefined) {
      operations = { byMethod: new Map(), allow: [] };
      this.byTemplate.set(template, operations);
      this.tree.on(FILED_UNDER, template.replace(/\{([^}]+)\}/g, ':$1'), unused, operations);
    }
    const chain = compose(steps);
    for (const each of method === 'GET' ? ['HEAD', 'GET'] : [method]) {
      operations.byMethod.set(each, chain);
      operations.allow.push(each);
    }
  }

  /** Runs the matched operation with its path parameters set; an unknown path goes on (to the 404 problem). */
  middleware(): Middleware {
    return (ctx: Context, next: Next) => {
      const found = this.tree.find(FILED_UNDER, ctx.path);
      if (found === null) return next();
      const operations = found.store as PathOperations;
      const chain = operations.byMethod.get(ctx.method);
      if (chain === undefined) {
        ctx.set('Allow', operations.allow.join(', '));
        if (ctx.method === 'OPTIONS') {
          ctx.status = 200;
          ctx.body = '';
        } else {
          // Left without a body: the problems step answers it as METHOD_NOT_ALLOWED.
          ctx.status = 405;
        }
        return Promise.resolve();
      }
      (ctx.state as RoutedState).params = found.params as Record<string, string>;
      return chain(ctx, next);
    };
  }
}
