import { Argument, type Command } from 'commander';
import { bashScript, fishScript, zshScript } from '../completion/scripts.js';
import { commandTree } from '../completion/tree.js';
import { run } from './common.js';

const SHELLS = { bash: bashScript, zsh: zshScript, fish: fishScript } as const;
type Shell = keyof typeof SHELLS;

/** Agent ids offered per completion, and agents looked at: enough to choose from, few enough to answer at once. */
const COMPLETION_LIMIT = 100;
const SCAN_LIMIT = 500;

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script (agent ids are completed from the server)')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(Object.keys(SHELLS)))
    .addHelpText('after', '\nLoad it:\n  bash:  source <(mandate completion bash)\n  zsh:   source <(mandate completion zsh)\n  fish:  mandate completion fish | source')
    .action(function (this: Command, shell: Shell) {
      process.stdout.write(SHELLS[shell](commandTree(program)));
    });

  // Called by the scripts while the user presses Tab: quick, quiet, and never an error
  // message in the middle of their command line.
  program
    .command('__complete', { hidden: true })
    .argument('<what>', 'agents or profiles')
    .argument('[prefix]', 'what has been typed of the value', '')
    .action(run(async (ctx, _opts, [what = '', prefix = '']) => {
      if (what === 'profiles') {
        for (const name of Object.keys(ctx.config.profiles)) ctx.out.raw(name);
        return;
      }
      if (what !== 'agents' || ctx.settings.token === undefined) return;
      const client = ctx.client({ maxRetries: 0, timeout: 3_000 });
      let shown = 0;
      let scanned = 0;
      for await (const agent of client.agents.list({ limit: 100 })) {
        if (++scanned > SCAN_LIMIT) break;
        if (agent.status === 'decommissioned' || !agent.id.startsWith(prefix)) continue;
        ctx.out.raw(`${agent.id}\t${agent.name}`);
        if (++shown >= COMPLETION_LIMIT) break;
      }
    }));
}
