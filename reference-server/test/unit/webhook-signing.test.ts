import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { Webhook } from 'standardwebhooks';
import { newWebhookSecret, signatureHeaders } from '../../src/workers/webhooks/signing';

// standardwebhooks is CommonJS, so unlike jose it loads with a plain import.

interface Vector {
  name: string;
  secret: string;
  id: string;
  timestamp: number;
  body: string;
  signature: string;
  valid: boolean;
}

const vectorFile = path.resolve(__dirname, '../../../conformance/vectors/standard-webhooks.json');
const { description, vectors } = JSON.parse(readFileSync(vectorFile, 'utf8')) as { description: string; vectors: Vector[] };

const body = JSON.stringify({ type: 'agent.created', timestamp: '2026-01-01T00:00:00.000Z', data: { id: 'evt_1', note: 'Zoë 🤖' } });

/** Whether the standardwebhooks package accepts the message (it checks the clock too). */
function verifies(secret: string, headers: Record<string, string>, payload: string): boolean {
  try {
    new Webhook(secret).verify(payload, headers);
    return true;
  } catch {
    return false;
  }
}

afterEach(() => {
  jest.restoreAllMocks();
});

describe('newWebhookSecret', () => {
  it('is whsec_ and the base64 of 32 random bytes', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(new Set(Array.from({ length: 100 }, newWebhookSecret)).size).toBe(100);
  });
});

describe('signatureHeaders', () => {
  it('sets the id, the timestamp in whole seconds, and one v1 signature', () => {
    const headers = signatureHeaders({ id: 'msg_1', timestamp: new Date(1_767_225_600_999), body, secrets: [newWebhookSecret()] });
    expect(headers['webhook-id']).toBe('msg_1');
    expect(headers['webhook-timestamp']).toBe('1767225600');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
  });

  it('verifies with the standardwebhooks package', () => {
    const secret = newWebhookSecret();
    const headers = signatureHeaders({ id: 'msg_1', timestamp: new Date(), body, secrets: [secret] });
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('signs with the current and the previous secret during a rotation, and either one verifies', () => {
    const current = newWebhookSecret();
    const previous = newWebhookSecret();
    const at = new Date();
    const headers = signatureHeaders({ id: 'msg_2', timestamp: at, body, secrets: [current, previous] });
    const [first, second, ...rest] = headers['webhook-signature'].split(' ');
    expect(rest).toEqual([]);
    expect(first).toBe(signatureHeaders({ id: 'msg_2', timestamp: at, body, secrets: [current] })['webhook-signature']);
    expect(second).toBe(signatureHeaders({ id: 'msg_2', timestamp: at, body, secrets: [previous] })['webhook-signature']);
    expect(verifies(current, headers, body)).toBe(true);
    expect(verifies(previous, headers, body)).toBe(true);
    expect(verifies(newWebhookSecret(), headers, body)).toBe(false);
  });

  it('fails verification for a changed body, id or timestamp, a wrong secret, or an old timestamp', () => {
    const secret = newWebhookSecret();
    const headers = signatureHeaders({ id: 'msg_3', timestamp: new Date(), body, secrets: [secret] });
    expect(verifies(secret, headers, body)).toBe(true);
    expect(verifies(secret, headers, body.replace('evt_1', 'evt_2'))).toBe(false);
    expect(verifies(secret, headers, `${body} `)).toBe(false);
    expect(verifies(secret, { ...headers, 'webhook-id': 'msg_4' }, body)).toBe(false);
    expect(verifies(secret, { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) - 1) }, body)).toBe(false);
    expect(verifies(newWebhookSecret(), headers, body)).toBe(false);

    const old = signatureHeaders({ id: 'msg_5', timestamp: new Date(Date.now() - 10 * 60_000), body, secrets: [secret] });
    expect(verifies(secret, old, body)).toBe(false);
  });

  it('signs the UTF-8 bytes of the body', () => {
    const secret = newWebhookSecret();
    const headers = signatureHeaders({ id: 'msg_6', timestamp: new Date(), body, secrets: [secret] });
    expect(verifies(secret, headers, body)).toBe(true);
    expect(new Webhook(secret).verify(Buffer.from(body, 'utf8'), headers)).toEqual(JSON.parse(body));
  });

  it('refuses no secret, a malformed secret, an invalid date, and ids that would change what is signed', () => {
    const valid = { id: 'msg_7', timestamp: new Date(), body, secrets: [newWebhookSecret()] };
    expect(() => signatureHeaders({ ...valid, secrets: [] })).toThrow(/at least one secret/);
    for (const secret of ['', 'whsec_', 'abc', newWebhookSecret().slice(6), 'whsec_not*base64', 'whsec_QUJ']) {
      expect(() => signatureHeaders({ ...valid, secrets: [secret] })).toThrow(/whsec_/);
    }
    expect(() => signatureHeaders({ ...valid, timestamp: new Date(NaN) })).toThrow(/timestamp/);
    for (const id of ['', 'msg 1', 'msg\n1', 'msg.1']) expect(() => signatureHeaders({ ...valid, id })).toThrow(/webhook id/);
  });
});

describe('conformance vectors (conformance/vectors/standard-webhooks.json)', () => {
  it('are a handful, valid and invalid, and say how they were made', () => {
    expect(description).toMatch(/standardwebhooks 1\.3\.0/);
    expect(vectors.filter((vector) => vector.valid).length).toBeGreaterThanOrEqual(5);
    expect(vectors.filter((vector) => !vector.valid).length).toBeGreaterThanOrEqual(3);
    expect(new Set(vectors.map((vector) => vector.name)).size).toBe(vectors.length);
  });

  it('carry whole delivery envelopes (the WebhookPayload schema) as bodies, so SDKs can parse them typed', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(JSON.parse(readFileSync(path.resolve(__dirname, '../../../spec/dist/openapi.json'), 'utf8')) as object, 'spec');
    const validate = ajv.getSchema('spec#/components/schemas/WebhookPayload');
    expect(validate).toBeDefined();
    for (const vector of vectors.filter((each) => each.valid)) {
      const payload = JSON.parse(vector.body);
      expect({ name: vector.name, errors: validate?.(payload) === true ? null : validate?.errors }).toEqual({ name: vector.name, errors: null });
      expect(payload.type).toBe(payload.data.action);
      expect(vector.id).toMatch(/^whd_[0-9a-z]{26}$/);
    }
  });

  it.each(vectors.map((vector) => [vector.name, vector] as const))('%s: the standardwebhooks package agrees', (_name, vector) => {
    // The package checks the timestamp against the clock, so verify at the vector's time.
    jest.spyOn(Date, 'now').mockReturnValue(vector.timestamp * 1000);
    const headers = { 'webhook-id': vector.id, 'webhook-timestamp': String(vector.timestamp), 'webhook-signature': vector.signature };
    expect(verifies(vector.secret, headers, vector.body)).toBe(vector.valid);
  });

  it('are reproduced by signatureHeaders where they carry one signature made with their own secret', () => {
    const single = vectors.filter((vector) => vector.valid && !vector.signature.includes(' '));
    expect(single.length).toBeGreaterThanOrEqual(3);
    for (const vector of single) {
      const headers = signatureHeaders({ id: vector.id, timestamp: new Date(vector.timestamp * 1000), body: vector.body, secrets: [vector.secret] });
      expect(headers['webhook-signature']).toBe(vector.signature);
    }
  });
});
