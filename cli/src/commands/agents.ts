import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Agent, AgentCreate, AgentType, AgentUpdate, DeploymentEnv, GetAgentScaffoldParamsLanguage, ListAgentsParams, AgentStatus, TrustLevel } from '@mandate/sdk';
import type { Context } from '../context.js';
import type { Column } from '../io/output.js';
import { registerAgentKeys } from './agent-keys.js';
import { registerImport } from './agents-import.js';
import { collectItems, confirmAction, defined, limitOption, metadataJson, choice, orNull, pageSize, positiveInt, run, splitList, yesOption } from './common.js';

export const AGENT_TYPES: readonly AgentType[] = ['assistant', 'autonomous', 'workflow', 'tool', 'other'];
export const DEPLOYMENT_ENVS: readonly DeploymentEnv[] = ['development', 'staging', 'production'];
const STATUSES: readonly AgentStatus[] = ['active', 'suspended', 'decommissioned'];
const TRUST_LEVELS: readonly TrustLevel[] = ['trusted', 'unknown', 'blocked'];
const LANGUAGES: readonly GetAgentScaffoldParamsLanguage[] = ['typescript', 'python', 'go', 'java'];

export const agentColumns: Column<Agent>[] = [
  { header: 'ID', value: (a) => a.id },
  { header: 'NAME', value: (a) => a.name },
  { header: 'TYPE', value: (a) => a.agentType },
  { header: 'STATUS', value: (a) => a.status, status: true },
  { header: 'ENV', value: (a) => a.deploymentEnv },
  { header: 'OWNER', value: (a) => a.owner },
  { header: 'SCOPES', value: (a) => a.allowedScopes },
  { header: 'CREATED', value: (a) => a.createdAt },
];

interface AgentFields {
  name?: string;
  type?: AgentType;
  description?: string;
  agentVersion?: string;
  owner?: string;
  env?: DeploymentEnv;
  scopes?: string;
  capabilities?: string;
  metadata?: Record<string, string>;
  trustLevel?: TrustLevel;
  dpopRequired?: boolean;
  public?: boolean;
}

/** The request body from the flags given; an empty text value clears a nullable field. */
function agentBody(opts: AgentFields): AgentUpdate {
  return defined({
    name: opts.name,
    agentType: opts.type,
    description: opts.description === undefined ? undefined : orNull(opts.description),
    version: opts.agentVersion === undefined ? undefined : orNull(opts.agentVersion),
    owner: opts.owner === undefined ? undefined : orNull(opts.owner),
    deploymentEnv: opts.env,
    allowedScopes: opts.scopes === undefined ? undefined : splitList(opts.scopes),
    capabilities: opts.capabilities === undefined ? undefined : splitList(opts.capabilities),
    metadata: opts.metadata,
    trustLevel: opts.trustLevel,
    dpopRequired: opts.dpopRequired,
    public: opts.public,
  });
}

function agentFieldOptions(command: Command): Command {
  return command
    .option('--description <text>', 'what the agent does ("" clears it)')
    .option('--agent-version <version>', 'the agent\'s own version ("" clears it)')
    .option('--owner <owner>', 'the person or team responsible ("" clears it)')
    .addOption(choice('--env <env>', `deployment environment (${DEPLOYMENT_ENVS.join(', ')})`, DEPLOYMENT_ENVS))
    .option('--scopes <scopes>', 'allowed scopes, comma- or space-separated (replaces the old)')
    .option('--capabilities <list>', 'capabilities, comma- or space-separated (replaces the old)')
    .option('--metadata <json>', 'metadata as a JSON object of strings (replaces the old)', metadataJson('--metadata'))
    .addOption(choice('--trust-level <level>', `for device authorization (${TRUST_LEVELS.join(', ')})`, TRUST_LEVELS))
    .option('--dpop-required', 'only DPoP-bound tokens for this agent')
    .option('--no-dpop-required', 'bearer tokens allowed')
    .option('--public', 'list the agent in the public directory')
    .option('--no-public', 'keep the agent out of the public directory');
}

interface ListOptions {
  status?: AgentStatus;
  type?: AgentType;
  owner?: string;
  env?: DeploymentEnv;
  query?: string;
  limit?: number;
}

async function setStatus(ctx: Context, agentId: string, status: 'active' | 'suspended'): Promise<void> {
  ctx.out.object(await ctx.client().agents.update(agentId, { status }));
}

export function registerAgents(program: Command): void {
  const agents = program.command('agents').description('the agent registry: register, change, suspend, resume and decommission agents');

  agents
    .command('list')
    .description('list agents, in registration order; filters combine')
    .addOption(choice('--status <status>', `only this status (${STATUSES.join(', ')})`, STATUSES))
    .addOption(choice('--type <type>', `only this type (${AGENT_TYPES.join(', ')})`, AGENT_TYPES))
    .option('--owner <owner>', 'only this owner')
    .addOption(choice('--env <env>', `only this environment (${DEPLOYMENT_ENVS.join(', ')})`, DEPLOYMENT_ENVS))
    .option('-q, --query <text>', 'names and descriptions containing this text')
    .option(...limitOption, positiveInt('--limit'))
    .action(run<ListOptions>(async (ctx, opts) => {
      const params: ListAgentsParams = defined({ limit: pageSize(opts.limit), status: opts.status, agentType: opts.type, owner: opts.owner, deploymentEnv: opts.env, q: opts.query });
      ctx.out.list(await collectItems(ctx.client().agents.list(params), opts.limit), agentColumns);
    }));

  agents
    .command('get')
    .description('show an agent (decommissioned agents stay readable)')
    .argument('<agentId>', 'agent id (agt_…)')
    .action(run(async (ctx, _opts, [agentId = '']) => {
      ctx.out.object(await ctx.client().agents.get(agentId));
    }));

  agentFieldOptions(
    agents
      .command('create')
      .description('register an agent; it starts active')
      .argument('<name>', 'unique name in the organization')
      .addOption(choice('--type <type>', `agent type (${AGENT_TYPES.join(', ')})`, AGENT_TYPES).makeOptionMandatory())
      .option('--idempotency-key <key>', 'make a retried create happen once (default: a new key per call)'),
  ).action(run<AgentFields & { type: AgentType; idempotencyKey?: string }>(async (ctx, opts, [name = '']) => {
    const body = { ...agentBody(opts), name, agentType: opts.type } as AgentCreate;
    const options = opts.idempotencyKey === undefined ? undefined : { idempotencyKey: opts.idempotencyKey };
    ctx.out.object(await ctx.client().agents.create(body, options));
  }));

  agentFieldOptions(
    agents
      .command('update')
      .description('change an agent: only the fields given')
      .argument('<agentId>', 'agent id')
      .option('--name <name>', 'new name')
      .addOption(choice('--type <type>', `agent type (${AGENT_TYPES.join(', ')})`, AGENT_TYPES)),
  ).action(run<AgentFields>(async (ctx, opts, [agentId = '']) => {
    ctx.out.object(await ctx.client().agents.update(agentId, agentBody(opts)));
  }));

  agents
    .command('suspend')
    .description('stop an agent from obtaining tokens; its tokens introspect inactive at once')
    .argument('<agentId>', 'agent id')
    .action(run(async (ctx, _opts, [agentId = '']) => {
      await setStatus(ctx, agentId, 'suspended');
    }));

  agents
    .command('resume')
    .description('reactivate a suspended agent')
    .argument('<agentId>', 'agent id')
    .action(run(async (ctx, _opts, [agentId = '']) => {
      await setStatus(ctx, agentId, 'active');
    }));

  agents
    .command('decommission')
    .description('retire an agent for good, revoking its credentials (the record stays readable)')
    .argument('<agentId>', 'agent id')
    .option(...yesOption)
    .action(run<{ yes?: boolean }>(async (ctx, opts, [agentId = '']) => {
      await confirmAction(ctx, `Decommission agent ${agentId} (final)`, opts.yes);
      ctx.out.object(await ctx.client().agents.decommission(agentId));
    }));

  agents
    .command('scaffold')
    .description("download a starter project (zip) that uses the agent's identity")
    .argument('<agentId>', 'agent id')
    .addOption(choice('--language <language>', LANGUAGES.join(', '), LANGUAGES).makeOptionMandatory())
    .requiredOption('--out <file>', 'where to write the zip')
    .action(run<{ language: GetAgentScaffoldParamsLanguage; out: string }>(async (ctx, opts, [agentId = '']) => {
      const zip = await ctx.client().agents.scaffold(agentId, { language: opts.language });
      writeFileSync(opts.out, zip);
      ctx.out.success(`Wrote ${opts.out} (${zip.byteLength} bytes).`);
    }));

  registerImport(agents);
  registerAgentKeys(agents);
}
