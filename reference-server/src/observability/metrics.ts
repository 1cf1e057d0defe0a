import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The server's Prometheus metrics; one registry per app so tests can run several apps. */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'mandate_http_requests_total',
    help: 'HTTP requests by operation, method and status.',
    labelNames: ['operation', 'method', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'mandate_http_request_duration_seconds',
    help: 'HTTP request latency by operation.',
    labelNames: ['operation', 'method'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly agentsRegistered = new Counter({
    name: 'mandate_agents_registered_total',
    help: 'Agents registered.',
    registers: [this.registry],
  });

  readonly tokensIssued = new Counter({
    name: 'mandate_tokens_issued_total',
    help: 'Access tokens issued.',
    registers: [this.registry],
  });

  readonly rateLimited = new Counter({
    name: 'mandate_rate_limited_total',
    help: 'Requests refused by a rate limit, by policy.',
    labelNames: ['policy'] as const,
    registers: [this.registry],
  });

  readonly rateLimiterFailures = new Counter({
    name: 'mandate_rate_limiter_failures_total',
    help: 'Rate limit checks that could not reach the shared store and let the request through (fail open), by policy.',
    labelNames: ['policy'] as const,
    registers: [this.registry],
  });

  readonly authFailures = new Counter({
    name: 'mandate_auth_failures_total',
    help: 'Failed authentications by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly dbQueryDuration = new Histogram({
    name: 'mandate_db_query_duration_seconds',
    help: 'Database statement latency.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });

  readonly cacheDuration = new Histogram({
    name: 'mandate_cache_operation_duration_seconds',
    help: 'Cache command latency by command.',
    labelNames: ['operation'] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
    registers: [this.registry],
  });

  readonly webhookDeliveries = new Counter({
    name: 'mandate_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome: succeeded, retry (will try again), failed (refused for good), dead (out of attempts).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly webhookAttemptDuration = new Histogram({
    name: 'mandate_webhook_attempt_duration_seconds',
    help: 'Latency of webhook delivery attempts.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'mandate_' });
  }
}
