import type { Command, Option } from 'commander';

/** What a value is, so a completion script can offer the right things for it. */
export type ValueKind = 'agent' | 'profile' | 'file' | 'choice' | 'text';

export interface OptionSpec {
  /** `--output` and, when there is one, `-o`. */
  names: string[];
  takesValue: boolean;
  kind: ValueKind;
  choices: string[];
}

/** One command of the tree, by its path from the root (`agents keys add`; "" is the root). */
export interface CommandSpec {
  path: string;
  subcommands: string[];
  options: OptionSpec[];
  /** The kind of each positional argument, in order. */
  args: ValueKind[];
}

// Values completed from the server or the disk, recognised by the option's or argument's name.
const AGENT_VALUES = new Set(['agent', 'client-id']);
const FILE_VALUES = new Set(['token-file', 'key-file', 'secret-file', 'out']);

function optionSpec(option: Option): OptionSpec {
  const names = [option.long, option.short].filter((name): name is string => name !== undefined);
  const takesValue = option.required || option.optional;
  const long = option.long?.replace(/^--/, '') ?? '';
  const choices = option.argChoices ?? [];
  let kind: ValueKind = 'text';
  if (choices.length > 0) kind = 'choice';
  else if (AGENT_VALUES.has(long)) kind = 'agent';
  else if (FILE_VALUES.has(long)) kind = 'file';
  else if (long === 'profile') kind = 'profile';
  return { names, takesValue, kind, choices };
}

function argKind(name: string): ValueKind {
  if (name === 'agentId') return 'agent';
  if (name === 'file') return 'file';
  if (name === 'name' || name === 'shell') return 'text';
  return 'text';
}

/** Every visible command, depth first; the scripts are generated from this, never by hand. */
export function commandTree(root: Command): CommandSpec[] {
  const out: CommandSpec[] = [];
  const visit = (command: Command, path: string): void => {
    const visible = command.commands.filter((sub) => !(sub as unknown as { _hidden: boolean })._hidden);
    out.push({
      path,
      subcommands: visible.map((sub) => sub.name()),
      options: command.options.filter((option) => !option.hidden).map(optionSpec),
      args: command.registeredArguments.map((argument) => argKind(argument.name())),
    });
    for (const sub of visible) visit(sub, path === '' ? sub.name() : `${path} ${sub.name()}`);
  };
  visit(root, '');
  return out;
}
