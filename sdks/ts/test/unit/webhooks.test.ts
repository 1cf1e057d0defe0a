import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MandateError, type WebhookHeaders, WebhookVerificationError, verifyWebhook } from '../../src/index';
import { REPO_ROOT } from '../helpers/live-server';

const NOW = 1_763_812_800; // seconds
const clock = { now: () => NOW * 1000 };
const newKey = randomBytes(32);
const oldKey = randomBytes(32);
const SECRET = `whsec_${newKey.toString('base64')}`;
const OLD_SECRET = `whsec_${oldKey.toString('base64')}`;

const envelope = {
  type: 'agent.created',
  timestamp: '2025-11-22T12:00:00.000Z',
  data: {
    id: 'evt_1',
    orgId: 'org_1',
    sequence: 7,
    action: 'agent.created',
    outcome: 'success',
    actor: { type: 'admin_token', id: null },
    target: { type: 'agent', id: 'agt_1' },
    ip: null,
    userAgent: null,
    requestId: 'req_1',
    occurredAt: '2025-11-22T12:00:00.000Z',
    metadata: { name: 'bot' },
    prevHash: 'a'.repeat(64),
    hash: 'b'.repeat(64),
  },
  deliveryAttempt: 1, // a field this SDK version does not know
};
const BODY = JSON.stringify(envelope);

/** Signs as the server does, with the standard library rather than the code under test. */
function sign(key: Buffer, id: string, timestamp: number | string, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${String(timestamp)}.${body}`).digest('base64')}`;
}

function delivery(options: { key?: Buffer; timestamp?: number; body?: string; signature?: string } = {}): Record<string, string> {
  const timestamp = options.timestamp ?? NOW;
  return {
    'webhook-id': 'msg_1',
    'webhook-timestamp': String(timestamp),
    'webhook-signature': options.signature ?? sign(options.key ?? newKey, 'msg_1', timestamp, options.body ?? BODY),
  };
}

async function failure(promise: Promise<unknown>): Promise<WebhookVerificationError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof WebhookVerificationError)) throw new Error(`expected a WebhookVerificationError, got ${String(error)}`);
  for (const secret of [SECRET, OLD_SECRET, newKey.toString('base64'), oldKey.toString('base64')]) {
    expect(error.message).not.toContain(secret);
  }
  return error;
}

async function reason(body: string | Uint8Array, headers: WebhookHeaders, secret: string | string[] = SECRET, tolerance?: number): Promise<string> {
  return (await failure(verifyWebhook(body, headers, secret, { clock, ...(tolerance === undefined ? {} : { toleranceSeconds: tolerance }) }))).reason;
}

describe('verifyWebhook', () => {
  it('returns the typed payload, unknown fields kept', async () => {
    const payload = await verifyWebhook(BODY, delivery(), SECRET, { clock });
    expect(payload.type).toBe('agent.created');
    expect(payload.data.target?.id).toBe('agt_1');
    expect(payload.data.sequence).toBe(7);
    expect(payload).toEqual(envelope);
  });

  it('takes the body as bytes, and headers as Headers or a record in any case', async () => {
    const headers = delivery();
    await expect(verifyWebhook(Buffer.from(BODY), headers, SECRET, { clock })).resolves.toEqual(envelope);
    await expect(verifyWebhook(new TextEncoder().encode(BODY), new Headers(headers), SECRET, { clock })).resolves.toEqual(envelope);
    const shouting = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toUpperCase(), value]));
    await expect(verifyWebhook(BODY, shouting, SECRET, { clock })).resolves.toEqual(envelope);
    // Node's req.headers: a repeated header may come as an array
    await expect(verifyWebhook(BODY, { ...headers, 'webhook-signature': ['v2,bm9wZQ==', headers['webhook-signature'] ?? ''] }, SECRET, { clock })).resolves.toEqual(envelope);
  });

  it('takes the secret with or without whsec_', async () => {
    await expect(verifyWebhook(BODY, delivery(), newKey.toString('base64'), { clock })).resolves.toEqual(envelope);
  });

  it('accepts any v1 signature and skips other versions', async () => {
    const good = sign(newKey, 'msg_1', NOW, BODY);
    const wrong = sign(oldKey, 'msg_1', NOW, BODY);
    const value = good.slice('v1,'.length);
    await expect(verifyWebhook(BODY, delivery({ signature: `v1a,${value} v2,${value} ${wrong} ${good}` }), SECRET, { clock })).resolves.toEqual(envelope);
    // Headers joins a repeated header with ", "
    const joined = new Headers({ 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW) });
    joined.append('webhook-signature', wrong);
    joined.append('webhook-signature', good);
    await expect(verifyWebhook(BODY, joined, SECRET, { clock })).resolves.toEqual(envelope);
    // the right value under another version, or no v1 entry that decodes, is no signature
    expect(await reason(BODY, delivery({ signature: `v2,${value} v1a,${value}` }))).toBe('invalid_signature');
    expect(await reason(BODY, delivery({ signature: `v1,not*base64 ${value}` }))).toBe('invalid_signature');
  });

  it('verifies with any of several secrets, as during a rotation', async () => {
    const both = `${sign(newKey, 'msg_1', NOW, BODY)} ${sign(oldKey, 'msg_1', NOW, BODY)}`;
    await expect(verifyWebhook(BODY, delivery({ signature: both }), OLD_SECRET, { clock })).resolves.toEqual(envelope);
    await expect(verifyWebhook(BODY, delivery({ signature: both }), SECRET, { clock })).resolves.toEqual(envelope);
    await expect(verifyWebhook(BODY, delivery({ key: oldKey }), [SECRET, OLD_SECRET], { clock })).resolves.toEqual(envelope);
    await expect(verifyWebhook(BODY, delivery({ key: newKey }), [OLD_SECRET, SECRET], { clock })).resolves.toEqual(envelope);
    expect(await reason(BODY, delivery({ key: oldKey }), [SECRET])).toBe('invalid_signature');
  });

  it('accepts timestamps up to the tolerance either way (default 5 minutes)', async () => {
    for (const timestamp of [NOW - 300, NOW + 300]) {
      await expect(verifyWebhook(BODY, delivery({ timestamp }), SECRET, { clock })).resolves.toEqual(envelope);
    }
    for (const timestamp of [NOW - 301, NOW + 301]) {
      expect(await reason(BODY, delivery({ timestamp }))).toBe('timestamp_out_of_tolerance');
    }
    await expect(verifyWebhook(BODY, delivery({ timestamp: NOW - 3000 }), SECRET, { clock, toleranceSeconds: 3600 })).resolves.toEqual(envelope);
    expect(await reason(BODY, delivery({ timestamp: NOW + 31 }), SECRET, 30)).toBe('timestamp_out_of_tolerance');
  });

  it('uses the system clock by default', async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    await expect(verifyWebhook(BODY, delivery({ timestamp }), SECRET)).resolves.toEqual(envelope);
    await expect(verifyWebhook(BODY, delivery(), SECRET)).rejects.toMatchObject({ reason: 'timestamp_out_of_tolerance' });
  });

  it('checks the timestamp before the signature', async () => {
    expect(await reason(BODY, delivery({ timestamp: NOW - 3600, signature: 'v1,AAAA' }))).toBe('timestamp_out_of_tolerance');
    expect(await reason(BODY, { ...delivery(), 'webhook-timestamp': 'soon', 'webhook-signature': 'v1,AAAA' })).toBe('invalid_timestamp');
  });

  it('refuses a timestamp that is not integer seconds', async () => {
    for (const timestamp of ['abc', '1763812800.5', '-1763812800', '2025-11-22T12:00:00Z', '1763812800000000000000', '0x69']) {
      const headers = { ...delivery(), 'webhook-timestamp': timestamp };
      expect(await reason(BODY, headers)).toBe('invalid_timestamp');
    }
  });

  it('requires all three headers', async () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const { [name]: _omitted, ...rest } = delivery();
      const error = await failure(verifyWebhook(BODY, rest, SECRET, { clock }));
      expect(error.reason).toBe('missing_header');
      expect(error.message).toContain(name);
      expect(await reason(BODY, new Headers({ ...rest, [name]: '  ' }))).toBe('missing_header');
    }
    expect(await reason(BODY, {})).toBe('missing_header');
  });

  it('refuses a changed body, id or timestamp, and re-serialized JSON', async () => {
    expect(await reason(BODY.replace('agt_1', 'agt_2'), delivery())).toBe('invalid_signature');
    expect(await reason(BODY, { ...delivery(), 'webhook-id': 'msg_2' })).toBe('invalid_signature');
    expect(await reason(BODY, { ...delivery(), 'webhook-timestamp': String(NOW + 1) })).toBe('invalid_signature');
    expect(await reason(JSON.stringify(envelope, null, 2), delivery())).toBe('invalid_signature');
  });

  it('checks only that type, timestamp and data are there, as the other SDKs do', async () => {
    // data's members are the generated model's business, and TypeScript types are not
    // checked at run time; unknown members stay, at both levels.
    const body = '{"type": "agent.created", "timestamp": "2025-11-22T12:00:00Z", "data": {"novel": true}, "extra": [1]}';
    await expect(verifyWebhook(body, delivery({ body }), SECRET, { clock })).resolves.toEqual(JSON.parse(body));
  });

  it('refuses a signed body that is not the envelope', async () => {
    const refused = [
      'not json',
      '[1, 2]',
      'null',
      '"agent.created"',
      '{"timestamp": "2025-11-22T12:00:00Z", "data": {}}',
      '{"type": "agent.created", "data": {}}',
      '{"type": "agent.created", "timestamp": "2025-11-22T12:00:00Z"}',
      '{"type": 1, "timestamp": "2025-11-22T12:00:00Z", "data": {}}',
      '{"type": null, "timestamp": "2025-11-22T12:00:00Z", "data": {}}',
      '{"type": "agent.created", "timestamp": 1763812800, "data": {}}',
      '{"type": "agent.created", "timestamp": "2025-11-22T12:00:00Z", "data": null}',
      '{"type": "agent.created", "timestamp": "2025-11-22T12:00:00Z", "data": []}',
      '{"type": "agent.created", "timestamp": "2025-11-22T12:00:00Z", "data": "evt_1"}',
    ];
    for (const body of refused) {
      expect(await reason(body, delivery({ body }))).toBe('invalid_payload');
    }
    const latin1 = Buffer.from([0x7b, 0xff, 0x7d]);
    const headers = { ...delivery(), 'webhook-signature': `v1,${createHmac('sha256', newKey).update(Buffer.concat([Buffer.from(`msg_1.${String(NOW)}.`), latin1])).digest('base64')}` };
    expect(await reason(latin1, headers)).toBe('invalid_payload');
  });

  it('throws a plain MandateError, without the secret, for a secret that is not base64', async () => {
    for (const secret of [[], ['whsec_'], [SECRET, 'whsec_not base64!']]) {
      const error: unknown = await verifyWebhook(BODY, delivery(), secret, { clock }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MandateError);
      expect(error).not.toBeInstanceOf(WebhookVerificationError);
      expect((error as Error).message).not.toContain('not base64!');
    }
  });

  it('is a MandateError with the reason as a property', async () => {
    const error = await failure(verifyWebhook(BODY, delivery({ key: oldKey }), SECRET, { clock }));
    expect(error).toBeInstanceOf(MandateError);
    expect(error.name).toBe('WebhookVerificationError');
    expect(error.reason).toBe('invalid_signature');
  });
});

interface Vector {
  name: string;
  secret: string;
  id: string;
  timestamp: number;
  body: string;
  signature: string;
  valid: boolean;
}

/** The vectors every SDK checks, read from the repository as the conformance runner reads scenarios. */
const { vectors } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'conformance/vectors/standard-webhooks.json'), 'utf8')) as { vectors: Vector[] };

describe('the shared Standard Webhooks vectors', () => {
  const headersOf = (vector: Vector) => ({ 'webhook-id': vector.id, 'webhook-timestamp': String(vector.timestamp), 'webhook-signature': vector.signature });
  const at = (vector: Vector) => ({ clock: { now: () => vector.timestamp * 1000 } });

  it('has vectors of both kinds', () => {
    expect(vectors.filter((v) => v.valid).length).toBeGreaterThan(0);
    expect(vectors.filter((v) => !v.valid).length).toBeGreaterThan(0);
  });

  it.each(vectors.filter((v) => v.valid).map((v) => [v.name, v] as const))('verifies: %s', async (_name, vector) => {
    // Every valid vector signs a whole delivery envelope, so it must come back typed.
    for (const body of [vector.body, new TextEncoder().encode(vector.body)]) {
      await expect(verifyWebhook(body, headersOf(vector), vector.secret, at(vector))).resolves.toEqual(JSON.parse(vector.body));
    }
  });

  it.each(vectors.filter((v) => !v.valid).map((v) => [v.name, v] as const))('refuses: %s', async (_name, vector) => {
    for (const body of [vector.body, new TextEncoder().encode(vector.body)]) {
      expect((await failure(verifyWebhook(body, headersOf(vector), vector.secret, at(vector)))).reason).toBe('invalid_signature');
    }
  });
});
