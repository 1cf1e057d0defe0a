/**
 * The actions as published: each action.yml runs its committed bundle, declares exactly the
 * inputs and outputs its code uses, and is documented input by input; and the committed
 * bundles are what the sources build to now.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { ACTIONS_ROOT } from './helpers/live-server';

const ACTIONS = ['issue-token', 'register-agent'];

interface ActionYml {
  name: string;
  description: string;
  inputs: Record<string, { description: string; required: boolean }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string };
}

const actionYml = (action: string) => parse(readFileSync(path.join(ACTIONS_ROOT, action, 'action.yml'), 'utf8')) as ActionYml;

/** The inputs and outputs the action's main module reads and sets, by their names in the source. */
function usedBySource(action: string): { inputs: string[]; outputs: string[] } {
  const source = readFileSync(path.join(ACTIONS_ROOT, 'src', action, 'main.ts'), 'utf8');
  const inputs = [...source.matchAll(/\b(?:optional|required|scopes|envName)Input\('([a-z-]+)'/g)].map((match) => match[1] ?? '');
  if (source.includes('baseUrlInput()')) inputs.push('base-url');
  const outputs = [...source.matchAll(/core\.setOutput\('([a-z-]+)'/g)].map((match) => match[1] ?? '');
  return { inputs: [...new Set(inputs)].sort(), outputs: [...new Set(outputs)].sort() };
}

describe.each(ACTIONS)('%s', (action) => {
  it('runs its committed bundle on node20', () => {
    const yml = actionYml(action);
    expect(yml.runs).toEqual({ using: 'node20', main: 'dist/index.js' });
    expect(existsSync(path.join(ACTIONS_ROOT, action, yml.runs.main))).toBe(true);
  });

  it('declares exactly the inputs and outputs that its code uses, each described', () => {
    const yml = actionYml(action);
    const used = usedBySource(action);
    expect(Object.keys(yml.inputs).sort()).toEqual(used.inputs);
    expect(Object.keys(yml.outputs).sort()).toEqual(used.outputs);
    for (const entry of [...Object.values(yml.inputs), ...Object.values(yml.outputs)]) expect(entry.description.length).toBeGreaterThan(10);
  });

  it('documents every input and output in its README', () => {
    const yml = actionYml(action);
    const readme = readFileSync(path.join(ACTIONS_ROOT, action, 'README.md'), 'utf8');
    for (const name of [...Object.keys(yml.inputs), ...Object.keys(yml.outputs)]) expect(readme).toContain(`| \`${name}\` |`);
    expect(readme).toContain('id-token: write');
  });
});

it('the committed bundles are what the sources build to (else: make actions, and commit)', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'mandate-actions-bundle-'));
  try {
    execFileSync(process.execPath, [path.join(ACTIONS_ROOT, 'scripts', 'bundle.mjs'), '--out', out], { stdio: 'pipe' });
    for (const action of ACTIONS) {
      const committed = readFileSync(path.join(ACTIONS_ROOT, action, 'dist', 'index.js'), 'utf8');
      const fresh = readFileSync(path.join(out, action, 'dist', 'index.js'), 'utf8');
      if (committed !== fresh) throw new Error(`${action}/dist/index.js is stale: run \`make actions\` and commit the bundles.`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
