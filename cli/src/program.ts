import { Command, Option } from 'commander';
import { registerAgents } from './commands/agents.js';
import { registerApprovals } from './commands/approvals.js';
import { registerAudit } from './commands/audit.js';
import { registerAuth } from './commands/auth.js';
import { registerCompletion } from './commands/completion.js';
import { registerCredentials } from './commands/credentials.js';
import { registerKeys } from './commands/keys.js';
import { registerOrgs } from './commands/orgs.js';
import { registerTokens } from './commands/tokens.js';
import { registerTrustPolicies } from './commands/trust-policies.js';
import { registerWebhooks } from './commands/webhooks.js';
import { OUTPUT_FORMATS } from './settings/config-file.js';

export const VERSION = '0.1.0';

const EXIT_CODES_HELP = `
Settings: flags, then MANDATE_API_TOKEN (or MANDATE_API_TOKEN_FILE), MANDATE_BASE_URL and
MANDATE_ORGANIZATION, then the profile (--profile or MANDATE_PROFILE, else the default one)
in $XDG_CONFIG_HOME/mandate/config.yaml (mode 0600).

Exit status: 0 done; 1 the API refused (4xx); 2 usage or configuration error; 3 no, a
refused (401) or an insufficient (403) credential; 4 not found (404); 5 server error (5xx)
or server unreachable; 6 finished with failures (import rows, audit chain, token check).`;

/**
 * The command tree. Settings are read by each command when it runs (context.ts), so that
 * `--help` and `completion` work without a config file or a server.
 */
export function buildProgram(): Command {
  const program = new Command('mandate');
  program
    .description('Mandate from the command line: agents, credentials, tokens, audit trail and more')
    .version(VERSION, '-V, --version')
    .option('--profile <name>', 'the saved profile to use (default: MANDATE_PROFILE, else the default profile)')
    .option('--base-url <url>', 'the Mandate server (default: MANDATE_BASE_URL, else the profile)')
    .option('--org, --organization <orgId>', 'the organization to act in (default: MANDATE_ORGANIZATION, else the profile)')
    .option('--token-file <file>', 'read the API token from this file (- for standard input)')
    .addOption(new Option('-o, --output <format>', 'table for people, json or yaml for scripts (the API objects as they are)').choices(OUTPUT_FORMATS))
    .option('--debug', 'log each request and response to stderr, with tokens and secrets masked')
    .option('--no-color', 'no colours (also NO_COLOR)')
    .showSuggestionAfterError()
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .addHelpText('after', EXIT_CODES_HELP);

  registerAuth(program);
  registerOrgs(program);
  registerAgents(program);
  registerCredentials(program);
  registerKeys(program);
  registerTokens(program);
  registerAudit(program);
  registerWebhooks(program);
  registerApprovals(program);
  registerTrustPolicies(program);
  registerCompletion(program);
  return program;
}
