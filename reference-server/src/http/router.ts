import { createHash } from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import { ApiError, type FieldProblem, badRequest, forbidden, notFound, validationError } from '../domain/errors';
import type { Principal } from '../domain/principal';
import type { Database, Sql, TenantContext } from '../store/database';
import { idempotencyStore } from '../store/idempotency';
import { orgService } from '../domain/orgs';
import { apiCallsExceeded } from '../domain/plans';
import { type AuditEntry, type RequestInfo, appendEvents } from '../domain/audit';
import { IDEMPOTENCY_HEADER, ORGANIZATION_HEADER, type Operation } from '../spec/operations';
import type { RequestValidator } from '../spec/validator';
import type { Authenticator, ProofContext } from './authenticate';
import { type RateLimits, rateLimited } from './rate-limits';
import { canonicalJson } from '../domain/canonical-json';
import { isUnstorable } from '../domain/text';
import { type BodyLimits, parseJsonBody, readRawBody, unstorableProblem } from './body';
import type { Call, Handler, Reply } from './handler';
import { RouteTable, type RoutedState, pathParams } from './route-table';

/** Per-request state the steps hand to each other. */
export interface RequestState extends RoutedState {
  requestId: string;
  operationId?: string;
  principal?: Principal;
  /** The credential presented (kept for answers that outlive the request, never logged). */
  authorization?: string;
}

export type PublicHandler = (ctx: Context) => Promise<void>;

export interface RouterDeps {
  db: Database;
  /** Told which audit chains a request's transaction extended, once it committed. */
  onAuditCommitted: (chains: string[]) => void;
  authenticator: Authenticator;
  validator: RequestValidator;
  bodyLimits: BodyLimits;
  services: Call['services'];
  /** Where clients address this server: a DPoP proof's htu names it. */
  issuer: string;
  rateLimits: RateLimits;
}

/** Fails when the spec and the handlers disagree on the set of operations. */
export function checkCoverage(operations: Operation[], handlerIds: string[]): void {
  const specIds = new Set(operations.map((o) => o.operationId));
  const missing = [...specIds].filter((id) => !handlerIds.includes(id));
  const extra = handlerIds.filter((id) => !specIds.has(id));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(`Spec and server disagree. Not implemented: [${missing.join(', ')}]; not in the spec: [${extra.join(', ')}].`);
  }
}

/**
 * Builds the route table from the spec. Each operation is a chain of small named steps, in
 * this order: authenticate → authorize (scopes from the spec) → read body → validate →
 * resolve tenant → act (in one transaction, with idempotency) → respond.
 */
export function buildRouter(
  operations: Operation[],
  handlers: Record<string, Handler>,
  publicHandlers: Record<string, PublicHandler>,
  deps: RouterDeps,
): RouteTable {
  checkCoverage(operations, [...Object.keys(handlers), ...Object.keys(publicHandlers)]);
  const routes = new RouteTable();
  for (const operation of operations) {
    const name: Middleware = (ctx, next) => {
      (ctx.state as RequestState).operationId = operation.operationId;
      return next();
    };
    const publicHandler = publicHandlers[operation.operationId];
    const steps: Middleware[] =
      publicHandler !== undefined
        ? [name, ...(checksParameters(operation) ? [checkParameters(operation, deps)] : []), (ctx) => publicHandler(ctx)]
        : [name, authenticate(operation, deps), limit(operation, deps), authorize(operation), act(operation, handlers[operation.operationId] as Handler, deps)];
    routes.add(operation.path, operation.method.toUpperCase(), steps);
  }
  return routes;
}

/** Where the request came from, for the audit trail. */
export function requestInfo(ctx: Context): RequestInfo {
  return { ip: ctx.ip || null, userAgent: ctx.get('user-agent') || null, requestId: (ctx.state as RequestState).requestId };
}

function authenticate(operation: Operation, deps: RouterDeps): Middleware {
  return async (ctx: Context, next: Next) => {
    const state = ctx.state as RequestState;
    state.authorization = authorizationOf(ctx, operation);
    state.principal = await deps.authenticator.authenticate(state.authorization, requestInfo(ctx), proofContext(ctx, deps.issuer));
    await next();
  };
}

/** The rate limit policy of an organization's `apiCallsPerMinute` quota. */
const ORG_API_POLICY = 'org-api';

/**
 * The management API's rate limits: per caller (an admin token, or an agent whatever access
 * token it holds), counted once the caller is known; dynamic registration also per address.
 * The organization's plan paces all its callers together (`apiCallsPerMinute`); the instance
 * administrator is not on any organization's plan.
 */
function limit(operation: Operation, deps: RouterDeps): Middleware {
  const { apiPerCaller, registrationPerAddress } = deps.rateLimits.policies;
  const perAddress = operation.operationId === 'registerClient' ? registrationPerAddress : null;
  return async (ctx: Context, next: Next) => {
    const principal = principalOf(ctx);
    const limits = [{ policy: apiPerCaller, key: `${principal.kind}:${principal.id}` }];
    if (perAddress !== null) limits.push({ policy: perAddress, key: ctx.ip });
    const { orgId } = principal;
    if (orgId !== null) {
      const perOrg = (await deps.services.plans.current(orgId)).quotas.apiCallsPerMinute;
      if (perOrg !== null) limits.push({ policy: { name: ORG_API_POLICY, perMinute: perOrg }, key: orgId });
    }
    await deps.rateLimits.enforce(ctx, limits, (verdict) => {
      const byPlan = verdict.states.find((state) => state.refused && state.policy.name === ORG_API_POLICY);
      return byPlan === undefined ? rateLimited(verdict) : apiCallsExceeded(byPlan.policy.perMinute, verdict.retryAfterSeconds, Date.now());
    });
    await next();
  };
}

/** What a DPoP proof of this request must match: its method, and its URL at the issuer. */
export function proofContext(ctx: Context, issuer: string): ProofContext {
  return { proof: ctx.get('dpop') || undefined, method: ctx.method, url: `${issuer}${ctx.path}` };
}

/**
 * The Authorization header, or on an operation that allows it (the event stream, for
 * browsers' EventSource) a bearer token in the query. RFC 6750 §2.3: one method per request.
 */
function authorizationOf(ctx: Context, operation: Operation): string | undefined {
  const header = ctx.get('authorization') || undefined;
  const parameter = operation.queryTokenParameter;
  const inQuery = parameter === null ? undefined : ctx.query[parameter];
  if (inQuery === undefined) return header;
  if (header !== undefined || typeof inQuery !== 'string') {
    throw badRequest('INVALID_REQUEST', `Send the token once: in the Authorization header or as one ${parameter ?? ''} query parameter.`);
  }
  return `Bearer ${inQuery}`;
}

function authorize(operation: Operation): Middleware {
  const required = operation.requiredScopes ?? [];
  return async (ctx: Context, next: Next) => {
    const principal = principalOf(ctx);
    const lacking = required.filter((scope) => !principal.scopes.has(scope));
    if (lacking.length > 0) {
      const holder = principal.role === null ? 'the access token' : `the token's role (${principal.role})`;
      throw forbidden('INSUFFICIENT_SCOPE', `This operation requires the ${lacking.join(', ')} scope; ${holder} lacks it.`);
    }
    await next();
  };
}

function principalOf(ctx: Context): Principal {
  const principal = (ctx.state as RequestState).principal;
  if (principal === undefined) throw new Error('authorize ran before authenticate');
  return principal;
}

interface ValidatedRequest {
  path: Record<string, string>;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
  body: unknown;
}

async function readAndValidate(ctx: Context, operation: Operation, deps: RouterDeps): Promise<ValidatedRequest> {
  const raw = operation.requestBody === null ? Buffer.alloc(0) : await readRawBody(ctx.req, deps.bodyLimits);
  const body = operation.requestBody === null ? undefined : parseJsonBody(raw, ctx.get('content-type') || undefined);
  // A token in the query is a credential, not input.
  const query = Object.fromEntries(Object.entries(ctx.query).filter(([name]) => name !== operation.queryTokenParameter));
  const path = pathParams(ctx);
  const unstorable = [...unstorableParameters('path', path), ...unstorableParameters('query', query)];
  if (unstorable.length > 0) throw validationError(unstorable);
  const { values, problems } = deps.validator.parameters(operation.operationId, { path, query, headers: ctx.headers });
  if (operation.requestBody !== null) {
    if (body === undefined && operation.requestBody.required) {
      problems.push({ field: 'body', code: 'required', message: 'is required' });
    } else if (body !== undefined) {
      problems.push(...deps.validator.body(operation.operationId, body));
    }
  }
  if (problems.length > 0) throw validationError(problems);
  return { path: values.path as Record<string, string>, query: values.query, headers: values.headers, body };
}

/** A public operation's query parameters, checked as those of authenticated operations are. */
/** A public operation's parameters are checked when it takes a query, or documents a 400 for bad ones. */
const checksParameters = (operation: Operation): boolean =>
  operation.parameters.some((p) => p.location === 'query') || (operation.parameters.length > 0 && operation.responses.has('400'));

function checkParameters(operation: Operation, deps: RouterDeps): Middleware {
  return async (ctx: Context, next: Next) => {
    const { problems } = deps.validator.parameters(operation.operationId, { path: pathParams(ctx), query: ctx.query, headers: ctx.headers });
    if (problems.length > 0) throw validationError(problems);
    await next();
  };
}

/** Parameters screened as bodies are: text PostgreSQL cannot store never reaches a query. */
function unstorableParameters(location: string, values: Record<string, string | string[] | undefined>): FieldProblem[] {
  return Object.entries(values).flatMap(([name, value]) =>
    [value ?? []].flat().some((text) => isUnstorable(text) || isUnstorable(name)) ? [unstorableProblem(`${location}.${name.toWellFormed().replaceAll('\u0000', '?')}`)] : [],
  );
}

/**
 * Which organization the call acts in. A token of one organization never reaches another:
 * naming a foreign organization answers 404, exactly as if it did not exist.
 */
function tenantOf(operation: Operation, principal: Principal, request: ValidatedRequest): TenantContext {
  const isInstanceAdmin = principal.orgId === null;
  const foreign = () => notFound('ORG_NOT_FOUND', 'No such organization.');
  let orgId: string | null = principal.orgId;
  if (request.path.orgId !== undefined) {
    if (!isInstanceAdmin && request.path.orgId !== principal.orgId) throw foreign();
    orgId = request.path.orgId;
  } else if (operation.orgScoped) {
    const named = request.headers[ORGANIZATION_HEADER.toLowerCase()] as string | undefined;
    if (!isInstanceAdmin && named !== undefined && named !== principal.orgId) throw foreign();
    if (isInstanceAdmin && named === undefined) {
      throw badRequest('ORGANIZATION_REQUIRED', `The instance-admin token must name the organization in the ${ORGANIZATION_HEADER} header.`);
    }
    orgId = named ?? principal.orgId;
  }
  // Only organization-level calls without a target (list, create) see across organizations.
  return { orgId, instanceAdmin: isInstanceAdmin && orgId === null, principalId: principal.id };
}

/** What makes two requests the same for an Idempotency-Key: the body as parsed JSON, not its bytes. */
function requestHash(ctx: Context, body: unknown): string {
  return createHash('sha256')
    .update(`${ctx.method} ${ctx.url}\n${ctx.get(ORGANIZATION_HEADER)}\n`)
    .update(canonicalJson(body ?? null))
    .digest('hex');
}

/** Audit entries for the changes a handler reports, attributed to the caller. */
function auditEntries(reply: Reply, principal: Principal, orgId: string | null, info: RequestInfo): AuditEntry[] {
  return (reply.audit ?? []).map((intent) => ({
    orgId: intent.orgId === undefined ? orgId : intent.orgId,
    action: intent.action,
    outcome: 'success',
    actor: { type: principal.kind, id: principal.id },
    target: intent.target,
    ...info,
    // A delegated token acts for its subject; the event names the agents that acted too.
    metadata: principal.actors === undefined ? (intent.metadata ?? {}) : { ...intent.metadata, actingAgents: principal.actors },
  }));
}

/** A reply as sent: replayed from an earlier request, and the audit chains it extended. */
type Answer = Reply & { replayed: boolean; auditedChains: string[] };

/** Runs the handler and appends its audit events in the same transaction: both commit, or neither. */
async function runAndAudit(handler: Handler, call: Call, info: RequestInfo): Promise<Answer> {
  const reply = await handler(call);
  const entries = auditEntries(reply, call.principal, call.orgId, info);
  const events = entries.length > 0 ? await appendEvents(call.sql, entries) : [];
  const body = reply.bodyAfterAudit === undefined ? reply.body : await reply.bodyAfterAudit(events);
  return { ...reply, body, replayed: false, auditedChains: [...new Set(events.map((event) => event.chain))] };
}

/**
 * Runs `work` once per Idempotency-Key and caller: a retry with the same request gets the
 * stored answer; the same key with a different request is refused.
 */
async function oncePerKey(sql: Sql, principalId: string, key: string, requestHash: string, work: () => Promise<Answer>): Promise<Answer> {
  const earlier = await idempotencyStore.claim(sql, principalId, key, requestHash);
  if (earlier !== null) {
    if (earlier.requestHash !== requestHash) {
      throw new ApiError(422, 'IDEMPOTENCY_KEY_REUSED', 'Idempotency key reused', 'This Idempotency-Key was used with a different request.');
    }
    return { status: earlier.status, body: earlier.body ?? undefined, replayed: true, auditedChains: [] };
  }
  const answer = await work();
  await idempotencyStore.complete(sql, principalId, key, answer.status, answer.body);
  return answer;
}

function act(operation: Operation, handler: Handler, deps: RouterDeps): Middleware {
  const targetsOrg = operation.path.includes('{orgId}') || operation.orgScoped;
  const lock = operation.method === 'get' ? 'none' : 'write';
  return async (ctx: Context) => {
    const principal = principalOf(ctx);
    const request = await readAndValidate(ctx, operation, deps);
    const tenant = tenantOf(operation, principal, request);
    const key = operation.idempotent ? (request.headers[IDEMPOTENCY_HEADER.toLowerCase()] as string | undefined) : undefined;
    const info = requestInfo(ctx);

    const answer = await deps.db.tenantTransaction(tenant, async (sql): Promise<Answer> => {
      if (targetsOrg && tenant.orgId !== null) await orgService.requireLive(sql, tenant.orgId, lock);
      const call: Call = {
        sql,
        principal,
        orgId: tenant.orgId,
        path: request.path,
        query: request.query,
        headers: request.headers,
        body: request.body,
        authorization: (ctx.state as RequestState).authorization,
        accepts: (...types) => ctx.accepts(...types),
        services: deps.services,
      };
      const work = (): Promise<Answer> => runAndAudit(handler, call, info);
      if (key === undefined) return work();
      return oncePerKey(sql, principal.id, key, requestHash(ctx, request.body), work);
    });
    if (answer.auditedChains.length > 0) deps.onAuditCommitted(answer.auditedChains);
    await answer.afterCommit?.();

    ctx.status = answer.status;
    if (answer.replayed) ctx.set('Idempotent-Replayed', 'true');
    for (const [name, value] of Object.entries(answer.headers ?? {})) ctx.set(name, value);
    if (answer.body !== undefined) ctx.body = answer.body;
    if (answer.type !== undefined) ctx.type = answer.type;
  };
}
