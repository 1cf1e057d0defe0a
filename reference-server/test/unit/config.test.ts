import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig, withListeningPort } from '../../src/config';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('loadConfig', () => {
  it('has working defaults for the embedded store', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8080, issuer: 'http://localhost:8080', databaseUrl: null, redisUrl: null, logLevel: 'info' });
    expect(config.dataDir).toBe(path.resolve('.mandate-data'));
  });

  it('derives the default issuer from the port, and keeps an explicit one', () => {
    expect(loadConfig({ PORT: '9090' }).issuer).toBe('http://localhost:9090');
    expect(withListeningPort(loadConfig({ PORT: '0' }), 41234).issuer).toBe('http://localhost:41234');
    const explicit = loadConfig({ PORT: '0', MANDATE_ISSUER: 'https://id.example.com/' });
    expect(withListeningPort(explicit, 41234)).toMatchObject({ port: 41234, issuer: 'https://id.example.com' });
  });

  it('reads secrets from NAME_FILE', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    writeFileSync(path.join(dir, 'pepper'), `${'p'.repeat(40)}\n`);
    writeFileSync(path.join(dir, 'kek'), 'ab'.repeat(32));
    const config = loadConfig({
      MANDATE_SECRET_PEPPER_FILE: path.join(dir, 'pepper'),
      MANDATE_KEY_ENCRYPTION_KEY_FILE: path.join(dir, 'kek'),
      DATABASE_URL: 'postgres://db/x',
    });
    expect(config.keyEncryptionKey).toEqual(Buffer.alloc(32, 0xab));
    expect(config.secretPepper).toBe('p'.repeat(40));
  });

  it('reports every problem at once, one clear message each', () => {
    const problems = problemsOf({
      PORT: '99999',
      LOG_LEVEL: 'loud',
      MANDATE_ISSUER: 'ftp://x',
      REDIS_URL: 'http://cache',
      DATABASE_URL: 'postgres://db/x',
      MANDATE_BOOTSTRAP_TOKEN_FILE: '/does/not/exist',
    });
    expect(problems).toHaveLength(7); // including the missing key-encryption key
    expect(problems.join('\n')).toMatch(/PORT must be a whole number from 0 to 65535/);
    expect(problems.join('\n')).toMatch(/MANDATE_SECRET_PEPPER .* is required when DATABASE_URL is set/);
    expect(problems.join('\n')).toMatch(/MANDATE_BOOTSTRAP_TOKEN_FILE cannot be read/);
  });

  it('refuses a secret set twice, a short pepper, and plain-http issuers off localhost', () => {
    expect(problemsOf({ REDIS_URL: 'redis://a', REDIS_URL_FILE: '/x' })).toEqual(['Set REDIS_URL or REDIS_URL_FILE, not both.']);
    expect(problemsOf({ MANDATE_SECRET_PEPPER: 'short' })[0]).toMatch(/at least 32/);
    expect(problemsOf({ MANDATE_ISSUER: 'http://mandate.example.com' })[0]).toMatch(/https/);
    expect(problemsOf({ MANDATE_ISSUER: 'https://mandate.example.com/' })).toEqual([]);
  });
});
