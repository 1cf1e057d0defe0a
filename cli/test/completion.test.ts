import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { json, loginEnv, mandate, sandbox, type Sandbox } from './helpers/cli.js';
import { type LiveServer, startServer } from './helpers/server.js';

/**
 * The scripts load in each shell, and complete commands, options, option values and agent
 * ids (asked of the server through the hidden `mandate __complete agents`). The `mandate`
 * the scripts call is the built CLI, through a shim on the sandbox's PATH.
 */
let server: LiveServer;
let box: Sandbox;
let agentIds: string[];

const available = (shell: string): boolean => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;

function shell(program: string, script: string): string {
  return execFileSync(program, ['-c', script], { env: box.env, cwd: box.home, encoding: 'utf8', timeout: 30_000 });
}

beforeAll(async () => {
  server = await startServer();
  const admin = sandbox(loginEnv(server.baseUrl, server.adminToken));
  const orgId = json<{ id: string }>(admin, ['orgs', 'create', '--name', 'completion-org']).id;
  box = sandbox(loginEnv(server.baseUrl, server.adminToken, orgId));
  agentIds = ['alpha', 'beta'].map((name) => json<{ id: string }>(box, ['agents', 'create', name, '--type', 'tool']).id);
  const retired = json<{ id: string }>(box, ['agents', 'create', 'retired', '--type', 'tool']).id;
  json(box, ['agents', 'decommission', retired, '--yes']);
  writeFileSync(path.join(box.home, 'agents.csv'), 'name,agentType\n');
});

afterAll(async () => {
  await server.stop();
});

test('__complete agents lists live agents\' ids with their names', () => {
  const result = mandate(box, ['__complete', 'agents']);
  expect(result.code).toBe(0);
  expect(result.stdout.trim().split('\n').sort()).toEqual(agentIds.map((id, i) => `${id}\t${['alpha', 'beta'][i] ?? ''}`).sort());
  expect(mandate(box, ['__complete', 'agents', agentIds[0] ?? '']).stdout.trim()).toBe(`${agentIds[0] ?? ''}\talpha`);
  expect(mandate(box, ['__complete', 'agents'], { env: { MANDATE_API_TOKEN: undefined } }).stdout).toBe('');
  // Hidden from the help.
  expect(mandate(box, ['--help']).stdout).not.toContain('__complete');
});

/** Runs bash's completion function as the shell would for the words typed. */
function bashComplete(line: string): string[] {
  const words = line.split(' ');
  const script = `source <(mandate completion bash)
COMP_WORDS=(${words.map((word) => `'${word}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_mandate; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return shell('bash', script).split('\n').filter((word) => word !== '');
}

describe('bash', () => {
  test('the script loads and registers the completion', () => {
    expect(shell('bash', 'source <(mandate completion bash) && complete -p mandate')).toContain('complete -F _mandate mandate');
  });

  test('commands, subcommands, options and their values', () => {
    expect(bashComplete('mandate ag')).toEqual(['agents']);
    expect(bashComplete('mandate tr')).toEqual(['trust-policies']);
    expect(bashComplete('mandate agents s')).toEqual(['suspend', 'scaffold']);
    expect(bashComplete('mandate agents list --st')).toEqual(['--status']);
    expect(bashComplete('mandate agents list --status ')).toEqual(['active', 'suspended', 'decommissioned']);
    // A global option's value is skipped on the way to the command.
    expect(bashComplete('mandate --output json ag')).toEqual(['agents']);
    expect(bashComplete('mandate webhooks deliveries ')).toEqual(['list', 'retry']);
    expect(bashComplete('mandate agents list -o ')).toEqual(['table', 'json', 'yaml']);
    expect(bashComplete('mandate completion ')).toEqual([]);
    expect(bashComplete('mandate agents import ag')).toEqual(['agents.csv']);
    expect(mandate(box, ['configure', '--profile', 'work', '--base-url', server.baseUrl]).code).toBe(0);
    expect(bashComplete('mandate --profile ')).toEqual(['work']);
  });

  test('agent ids from the server, where an agent is expected', () => {
    expect(bashComplete('mandate agents get ').sort()).toEqual([...agentIds].sort());
    expect(bashComplete('mandate credentials create ').sort()).toEqual([...agentIds].sort());
    expect(bashComplete(`mandate audit tail --agent ${agentIds[1]?.slice(0, 30) ?? ''}`)).toEqual([agentIds[1]]);
    // The second argument of credentials get is a credential, not an agent.
    expect(bashComplete(`mandate credentials get ${agentIds[0] ?? ''} `)).toEqual([]);
    // Global flags typed before are passed on: a profile that does not exist gives nothing.
    expect(bashComplete('mandate --profile nope agents get ')).toEqual([]);
  });
});

describe('zsh', () => {
  const maybe = available('zsh') ? test : test.skip;

  maybe('the script loads under compinit and registers _mandate for mandate', () => {
    const out = shell('zsh', 'autoload -Uz compinit && compinit -u -d "$HOME/.zcompdump"; source <(mandate completion zsh); print -r -- "$_comps[mandate]"; whence -w _mandate');
    expect(out).toContain('_mandate');
    expect(out).toContain('_mandate: function');
  });

  maybe('the script also loads without compinit, and its candidates match bash', () => {
    const out = shell('zsh', 'source <(mandate completion zsh); __mandate_candidates "" agents; echo ---; __mandate_candidates "" agents get; echo ---; __mandate_candidates "" agents list --status');
    const [subcommands = '', ids = '', statuses = ''] = out.split('---\n');
    expect(subcommands.trim().split('\n')).toEqual(expect.arrayContaining(['list', 'get', 'import', 'decommission']));
    expect(ids.trim().split('\n').sort()).toEqual([...agentIds].sort());
    expect(statuses.trim().split('\n')).toEqual(['active', 'suspended', 'decommissioned']);
  });
});

describe('fish', () => {
  const maybe = available('fish') ? test : test.skip;

  maybe('the script loads and completes with descriptions', () => {
    const out = shell('fish', "mandate completion fish | source; complete -C 'mandate agents su'; echo ---; complete -C 'mandate agents get '");
    const [subcommands = '', ids = ''] = out.split('---\n');
    expect(subcommands.trim()).toBe('suspend');
    expect(ids.trim().split('\n').sort()).toEqual(agentIds.map((id, i) => `${id}\t${['alpha', 'beta'][i] ?? ''}`).sort());
  });
});
