import { describe, expect, it } from '@jest/globals';
import { type EventFilter, matches } from '../../src/domain/audit-feed';
import { SseStream } from '../../src/http/sse';
import type { AuditRecord } from '../../src/store/audit';

const read = (stream: SseStream): string => {
  let text = '';
  for (let chunk = stream.body.read() as Buffer | null; chunk !== null; chunk = stream.body.read() as Buffer | null) text += chunk.toString();
  return text;
};
const options = { retryMs: 3000, heartbeatMs: 20, maxBufferedBytes: 10_000, maxLifetimeMs: 60_000, stillAllowed: () => Promise.resolve(true) };
const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('an SSE response body', () => {
  it('advises a retry delay, then frames each event', () => {
    const stream = new SseStream(options);
    stream.send('evt_1', 'agent.created', { a: 1 });
    expect(read(stream)).toBe('retry: 3000\n\nid: evt_1\nevent: agent.created\ndata: {"a":1}\n\n');
    stream.end();
  });

  it('sends heartbeats while the credential holds, and ends when it no longer does', async () => {
    let allowed = true;
    const stream = new SseStream({ ...options, stillAllowed: () => Promise.resolve(allowed) });
    stream.send('evt_1', 'agent.created', {});
    await wait(60);
    expect(read(stream)).toContain(': heartbeat\n\n');
    allowed = false;
    let ended = false;
    stream.whenEnded(() => (ended = true));
    await wait(60);
    expect(read(stream)).toContain('event: unauthorized\ndata: {"lastEventId":"evt_1"}\n\n');
    expect(ended).toBe(true);
  });

  it('ends by itself once its lifetime is over, with no final message', async () => {
    const stream = new SseStream({ ...options, heartbeatMs: 60_000, maxLifetimeMs: 30 });
    let ended = false;
    stream.whenEnded(() => (ended = true));
    stream.send('evt_1', 'agent.created', {});
    await wait(60);
    expect(ended).toBe(true);
    expect(stream.body.writableEnded).toBe(true);
    expect(read(stream)).toBe('retry: 3000\n\nid: evt_1\nevent: agent.created\ndata: {}\n\n');
  });

  it('cuts off a reader that falls behind, naming the last event it was sent', () => {
    const stream = new SseStream({ ...options, heartbeatMs: 60_000 });
    const payload = { padding: 'x'.repeat(1000) };
    for (let i = 0; i < 50; i++) stream.send(`evt_${i}`, 'agent.created', payload); // nobody reads
    const text = read(stream);
    const last = /id: (evt_\d+)\n(?![\s\S]*id: )/.exec(text)?.[1];
    expect(text.endsWith(`event: overflow\ndata: {"lastEventId":"${last ?? ''}"}\n\n`)).toBe(true);
    expect(text.split('event: agent.created').length - 1).toBeLessThan(50);
    expect(stream.body.writableEnded).toBe(true);
  });
});

describe('event filters', () => {
  const event = { action: 'agent.suspended', outcome: 'success', actorType: 'admin_token', actorId: 'tok_1', targetType: 'agent', targetId: 'agt_1' } as AuditRecord;
  const filter = (f: Partial<EventFilter>): EventFilter => ({ actions: [], ...f });

  it('match exact actions, resource prefixes, the agent as actor or target, and outcomes', () => {
    expect(matches(filter({}), event)).toBe(true);
    expect(matches(filter({ actions: ['agent.*'] }), event)).toBe(true);
    expect(matches(filter({ actions: ['agent.created', 'agent.suspended'] }), event)).toBe(true);
    expect(matches(filter({ actions: ['agent.created'] }), event)).toBe(false);
    expect(matches(filter({ actions: ['agents.*'] }), event)).toBe(false);
    expect(matches(filter({ agentId: 'agt_1' }), event)).toBe(true);
    expect(matches(filter({ agentId: 'agt_1' }), { ...event, targetId: 'agt_2', actorType: 'agent', actorId: 'agt_1' })).toBe(true);
    expect(matches(filter({ agentId: 'agt_2' }), event)).toBe(false);
    expect(matches(filter({ outcome: 'failure' }), event)).toBe(false);
  });
});
