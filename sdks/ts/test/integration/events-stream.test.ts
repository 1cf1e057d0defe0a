/**
 * Reconnect and resume, end to end against the real server. With
 * MANDATE_EVENT_STREAM_MAX_SECONDS=1 the server ends every stream connection after a second,
 * and its `retry: 3000` keeps the SDK away for three. Each event received prompts the next
 * agent, so six events span several connections, and the agent created after a connection's
 * last event is committed while the stream is away: it arrives only if the SDK reconnects
 * with Last-Event-ID (a reconnect without it starts from "now" and misses that agent).
 */
import { isOverflow, type Logger, Mandate } from '../../src/index';
import { type LiveServer, startLiveServer } from '../helpers/live-server';

const AGENTS = 6;
/** A stream that lost an event would wait forever: close it and let the assertions say what is missing. */
const GIVE_UP_MS = 45_000;

let server: LiveServer;
beforeAll(async () => {
  server = await startLiveServer({ env: { MANDATE_EVENT_STREAM_MAX_SECONDS: '1' } });
}, 60_000);
afterAll(() => server.stop());

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

it('reconnects after the server ends each connection and resumes after the last event, missing and repeating none', async () => {
  const instanceAdmin = new Mandate({ baseURL: server.baseURL, apiToken: server.token });
  const org = await instanceAdmin.orgs.create({ name: `stream-resume-${Date.now()}` });
  const { token } = await instanceAdmin.adminTokens.create(org.id, { role: 'admin', label: 'stream-resume' });
  const debug: string[] = [];
  const ignore = (): void => undefined;
  const logger: Logger = { debug: (message) => debug.push(message), info: ignore, warn: ignore, error: ignore };
  const client = new Mandate({ baseURL: server.baseURL, apiToken: token, logLevel: 'debug', logger });

  // Start after the org's first event rather than at "now": the server fixes "now" only once
  // it starts following, which could be after agent 1 is committed.
  const orgCreated = (await client.auditEvents.list({ action: 'org.created' })).data[0];
  const stream = client.events.stream({ action: ['agent.created'] }, { lastEventId: orgCreated?.id });
  const created: string[] = [];
  const createAgent = async (): Promise<void> => {
    const agent = await client.agents.create({ name: `stream-agent-${created.length + 1}`, agentType: 'autonomous' });
    created.push(agent.id);
  };

  const received: { event: string; action: string; target: string | undefined; requestId: string | null | undefined }[] = [];
  const giveUp = setTimeout(() => {
    stream.close();
  }, GIVE_UP_MS);
  const started = Date.now();
  try {
    await createAgent();
    for await (const event of stream) {
      if (isOverflow(event)) continue; // not expected at this pace; the stream resumes after it anyway
      // Each connection has its own request id: more than one seen means events came over several.
      const requestId = stream.response?.headers.get('x-request-id');
      received.push({ event: event.event, action: event.data.action, target: event.data.target?.id, requestId });
      if (received.length === AGENTS) break;
      await sleep(400); // lets connections end between agents, so some are created while away
      await createAgent();
    }
  } finally {
    clearTimeout(giveUp);
    stream.close();
  }
  const elapsed = Date.now() - started;

  // Every agent's event, in order: none lost while disconnected, none replayed twice.
  expect(received.map((event) => event.target)).toEqual(created);
  expect(created).toHaveLength(AGENTS);
  expect(new Set(created).size).toBe(AGENTS);
  for (const event of received) expect(event).toMatchObject({ event: 'agent.created', action: 'agent.created' });
  // It reconnected: six events 0.4 s apart outlast a one-second connection, and the wait
  // before a reconnect is the server's advice of 3 s (a lower bound, safe on a slow machine).
  expect(elapsed).toBeGreaterThan(3_000);
  expect(debug.filter((line) => /reconnecting GET \/v1\/events\/stream in \d+ ms \(the stream ended\)/.test(line)).length).toBeGreaterThanOrEqual(1);
  expect(new Set(received.map((event) => event.requestId)).size).toBeGreaterThan(1);
}, 60_000);
