export { Mandate, API } from './generated/client.js';
export type * from './generated/models.js';
export * from './generated/resources.js';
export { APIPromise, type RawResponse } from './core/api-promise.js';
export type { DelegateParams, DelegatedToken } from './core/client-core.js';
export type { ClientOptions, RequestOptions, StreamOptions, LogLevel, Clock } from './core/options.js';
export type { Logger } from './core/log.js';
export type { PrivateJwk, PrivateKeyInput } from './core/private-key.js';
export type { FederatedTokenInput } from './core/federated-token.js';
export type { DpopKeyInput, DpopProofTarget } from './core/dpop.js';
export { Page, PagePromise } from './core/pagination.js';
export { EventStream, isOverflow, type StreamEvent, type OverflowEvent } from './core/event-stream.js';
export {
  MandateError,
  APIError,
  BadRequestError,
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  ConflictError,
  RateLimitError,
  InternalServerError,
  APIConnectionError,
  APITimeoutError,
} from './core/errors.js';
export {
  verifyAccessToken,
  actors,
  TokenVerificationError,
  type AccessTokenClaims,
  type ActClaim,
  type VerifyOptions,
  type VerificationFailure,
} from './core/verify.js';
export {
  ProtectedResource,
  type ProtectedResourceOptions,
  type ResourceRequest,
  type ResourceDecision,
  type HeaderSource,
} from './core/protected-resource.js';
export type {
  KoaContextLike,
  KoaMiddleware,
  ExpressRequestLike,
  ExpressResponseLike,
  ExpressMiddleware,
  FetchHandler,
} from './core/protected-resource-adapters.js';
export {
  verifyWebhook,
  WebhookVerificationError,
  type WebhookHeaders,
  type WebhookVerifyOptions,
  type WebhookVerificationFailure,
} from './core/webhooks.js';
export { Mandate as default } from './generated/client.js';
