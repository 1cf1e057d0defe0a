import type { AuditFeed } from '../../domain/audit-feed';
import { badRequest, fail } from '../../domain/errors';
import { auditStore } from '../../store/audit';
import { type Handler, orgOf } from '../handler';
import { auditJson } from '../representations';
import { SseStream } from '../sse';

export interface EventStreamOptions {
  retryMs: number;
  heartbeatMs: number;
  maxBufferedBytes: number;
  maxLifetimeMs: number;
}

export const EVENT_STREAM_DEFAULTS: EventStreamOptions = { retryMs: 3000, heartbeatMs: 15_000, maxBufferedBytes: 1024 * 1024, maxLifetimeMs: 3_600_000 };

/** The Events tag: the audit trail live, as Server-Sent Events. */
export function eventHandlers(feed: AuditFeed, options: EventStreamOptions = EVENT_STREAM_DEFAULTS): Record<string, Handler> {
  return {
    async streamEvents(call) {
      const orgId = orgOf(call);
      const lastEventId = call.headers['last-event-id'] as string | undefined;
      let after: number;
      if (lastEventId !== undefined) {
        const last = await auditStore.find(call.sql, orgId, lastEventId);
        after = (last ?? fail(badRequest('INVALID_LAST_EVENT_ID', `Last-Event-ID ${lastEventId} is no event of this organization; reconnect without it to start from now.`))).sequence;
      } else {
        // "Now" is fixed before the response goes out: an event committed after the client
        // saw the response is sent, however late following starts.
        after = (await auditStore.head(call.sql, orgId))?.sequence ?? 0;
      }
      const query = call.query as { action?: string[]; agentId?: string; outcome?: string };
      const filter = { actions: query.action ?? [], agentId: query.agentId, outcome: query.outcome };
      const authorization = call.authorization ?? '';
      const stream = new SseStream({ ...options, stillAllowed: () => call.services.authenticator.stillValid(authorization) });
      return {
        status: 200,
        type: 'text/event-stream',
        // No caching, and no buffering by proxies (nginx honours X-Accel-Buffering).
        headers: { 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' },
        body: stream.body,
        // Following starts once the request's own transaction has committed.
        afterCommit: async () => {
          const stop = await feed.follow(orgId, after, {
            filter,
            send: (event) => {
              stream.send(event.id, event.action, auditJson(event));
            },
            end: () => {
              stream.end();
            },
          });
          stream.whenEnded(stop);
        },
      };
    },
  };
}
