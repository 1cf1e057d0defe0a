import type { CommandSpec, OptionSpec } from './tree.js';

/**
 * The completion scripts are generated from the command tree at run time, so they never
 * drift from the commands. Each holds the tree as small lookup functions; only agent ids and
 * profile names are asked of the CLI itself (`mandate __complete agents|profiles`).
 *
 * bash and zsh share the lookups and the walk over the words typed so far (both shells run
 * this subset of shell alike); each has its own few lines of glue. fish gets its own syntax.
 */

// Global options that change where `__complete agents` looks, passed on to it.
const PASSED_ON = ['--profile', '--base-url', '--organization', '--token-file'];

/** Single-quoted for sh and fish; the words here are command and option names. */
const q = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

const rootOf = (tree: readonly CommandSpec[]): CommandSpec => {
  const root = tree.find((spec) => spec.path === '');
  if (root === undefined) throw new Error('the command tree has no root');
  return root;
};

interface Entry {
  pattern: string;
  value: string;
}

/** The lookups as (pattern, value) pairs, most specific first; root options match any path. */
function tables(tree: readonly CommandSpec[]) {
  const root = rootOf(tree);
  const subcommands: Entry[] = tree.filter((spec) => spec.subcommands.length > 0).map((spec) => ({ pattern: spec.path, value: spec.subcommands.join(' ') }));
  const optionNames: Entry[] = tree
    .filter((spec) => spec.path !== '' && spec.options.length > 0)
    .map((spec) => ({ pattern: spec.path, value: spec.options.flatMap((option) => option.names).join(' ') }));
  const globalNames = [...root.options.flatMap((option) => option.names), '--help'].join(' ');
  const kinds: Entry[] = [];
  const choices: Entry[] = [];
  const add = (path: string, option: OptionSpec, anyPath: boolean): void => {
    for (const name of option.names) {
      const key = anyPath ? `*|${name}` : `${path}|${name}`;
      kinds.push({ pattern: key, value: option.takesValue ? option.kind : 'none' });
      if (option.kind === 'choice') choices.push({ pattern: key, value: option.choices.join(' ') });
    }
  };
  for (const spec of tree) if (spec.path !== '') for (const option of spec.options) add(spec.path, option, false);
  for (const option of root.options) add('', option, true);
  const args: Entry[] = tree.flatMap((spec) => spec.args.map((kind, index) => ({ pattern: `${spec.path}|${index}`, value: kind })).filter((entry) => entry.value !== 'text'));
  return { subcommands, optionNames, globalNames, kinds, choices, args };
}

/** A `case` pattern: quoted, except a leading `*` which must stay a wildcard. */
const shPattern = (pattern: string): string => (pattern.startsWith('*') ? `*${q(pattern.slice(1))}` : q(pattern));

function shCase(name: string, subject: string, entries: readonly Entry[], render: (value: string) => string, fallback = ''): string {
  const lines = entries.map((entry) => `    ${shPattern(entry.pattern)}) ${render(entry.value)} ;;`);
  if (fallback !== '') lines.push(`    *) ${fallback} ;;`);
  return `${name}() {\n  case "${subject}" in\n${lines.join('\n')}\n  esac\n}\n`;
}

const words = (value: string): string => `printf '%s\\n' ${value.split(' ').map(q).join(' ')}`;

/** The lookups and the walk, valid in both bash and zsh. */
function shCore(tree: readonly CommandSpec[]): string {
  const t = tables(tree);
  return [
    shCase('__mandate_subcommands', '$1', t.subcommands, words),
    shCase('__mandate_own_options', '$1', t.optionNames, words),
    `__mandate_option_names() {\n  __mandate_own_options "$1"\n  ${words(t.globalNames)}\n}\n`,
    shCase('__mandate_option_kind', '$1|$2', t.kinds, (value) => `echo ${value}`, 'echo none'),
    shCase('__mandate_option_choices', '$1|$2', t.choices, words),
    shCase('__mandate_arg_kind', '$1|$2', t.args, (value) => `echo ${value}`, 'echo text'),
    `__mandate_is_subcommand() {
  case $'\\n'"$(__mandate_subcommands "$1")"$'\\n' in
    *$'\\n'"$2"$'\\n'*) return 0 ;;
  esac
  return 1
}

# Sets __mandate_path (the command typed so far), __mandate_npos (positional arguments
# after it), __mandate_pending (an option still waiting for its value) and __mandate_flags
# (the global options that __complete needs to look in the right place).
__mandate_walk() {
  __mandate_path=''
  __mandate_npos=0
  __mandate_pending=''
  __mandate_flags=()
  local w
  for w in "$@"; do
    if [ -n "$__mandate_pending" ]; then
      case "$__mandate_pending" in
        ${PASSED_ON.join('|')}) __mandate_flags+=("$__mandate_pending" "$w") ;;
      esac
      __mandate_pending=''
      continue
    fi
    case "$w" in
      --*=*) ;;
      -*) [ "$(__mandate_option_kind "$__mandate_path" "$w")" = none ] || __mandate_pending="$w" ;;
      *)
        if __mandate_is_subcommand "$__mandate_path" "$w"; then
          __mandate_path="\${__mandate_path:+$__mandate_path }$w"
        else
          __mandate_npos=$((__mandate_npos + 1))
        fi
        ;;
    esac
  done
}

# Candidates for the current word ($1), one per line, given the words before it; the line
# __files__ asks the shell for file names.
__mandate_candidates() {
  local cur="$1"
  shift
  __mandate_walk "$@"
  if [ -n "$__mandate_pending" ]; then
    __mandate_values "$(__mandate_option_kind "$__mandate_path" "$__mandate_pending")" "$__mandate_path" "$__mandate_pending" "$cur"
    return
  fi
  case "$cur" in
    -*) __mandate_option_names "$__mandate_path"; return ;;
  esac
  local subs
  subs="$(__mandate_subcommands "$__mandate_path")"
  if [ -n "$subs" ]; then
    printf '%s\\n' "$subs"
    return
  fi
  __mandate_values "$(__mandate_arg_kind "$__mandate_path" "$__mandate_npos")" "$__mandate_path" '' "$cur"
}

__mandate_values() {
  case "$1" in
    choice) __mandate_option_choices "$2" "$3" ;;
    agent) command mandate __complete agents "\${__mandate_flags[@]}" -- "$4" 2>/dev/null | cut -f1 ;;
    profile) command mandate __complete profiles 2>/dev/null ;;
    file) echo __files__ ;;
  esac
}
`,
  ].join('\n');
}

export function bashScript(tree: readonly CommandSpec[]): string {
  return `# bash completion for mandate. Load it with:  source <(mandate completion bash)
# or save it:  mandate completion bash > ~/.local/share/bash-completion/completions/mandate

${shCore(tree)}
_mandate() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  local IFS=$'\\n'
  local -a candidates
  candidates=($(__mandate_candidates "$cur" "\${COMP_WORDS[@]:1:COMP_CWORD-1}"))
  if [ "\${candidates[0]-}" = __files__ ]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  else
    COMPREPLY=($(compgen -W "\${candidates[*]}" -- "$cur"))
  fi
}
complete -F _mandate mandate
`;
}

export function zshScript(tree: readonly CommandSpec[]): string {
  return `#compdef mandate
# zsh completion for mandate. Load it with:  source <(mandate completion zsh)
# or save it as _mandate in a directory of your $fpath.

${shCore(tree)}
_mandate() {
  emulate -L zsh
  local -a candidates
  candidates=("\${(@f)$(__mandate_candidates "\${words[CURRENT]}" "\${(@)words[2,CURRENT-1]}")}")
  if [[ "\${candidates[1]}" == __files__ ]]; then
    _files
    return
  fi
  compadd -- "\${(@)candidates:#}"
}

if (( ! $+functions[compdef] )); then
  autoload -Uz compinit && compinit
fi
compdef _mandate mandate
`;
}

function fishSwitch(name: string, subject: string, entries: readonly Entry[], render: (value: string) => string, fallback = ''): string {
  const lines = entries.map((entry) => `    case ${q(entry.pattern)}\n        ${render(entry.value)}`);
  if (fallback !== '') lines.push(`    case '*'\n        ${fallback}`);
  return `function ${name}\n    switch "${subject}"\n${lines.join('\n')}\n    end\nend\n`;
}

export function fishScript(tree: readonly CommandSpec[]): string {
  const t = tables(tree);
  return `# fish completion for mandate. Load it with:  mandate completion fish | source
# or save it:  mandate completion fish > ~/.config/fish/completions/mandate.fish

${fishSwitch('__mandate_subcommands', '$argv[1]', t.subcommands, words)}
${fishSwitch('__mandate_own_options', '$argv[1]', t.optionNames, words)}
function __mandate_option_names
    __mandate_own_options "$argv[1]"
    ${words(t.globalNames)}
end

${fishSwitch('__mandate_option_kind', '$argv[1]|$argv[2]', t.kinds, (value) => `echo ${value}`, 'echo none')}
${fishSwitch('__mandate_option_choices', '$argv[1]|$argv[2]', t.choices, words)}
${fishSwitch('__mandate_arg_kind', '$argv[1]|$argv[2]', t.args, (value) => `echo ${value}`, 'echo text')}
function __mandate_values
    set -l flags $argv[5..-1]
    switch $argv[1]
        case choice
            __mandate_option_choices "$argv[2]" "$argv[3]"
        case agent
            command mandate __complete agents $flags -- "$argv[4]" 2>/dev/null
        case profile
            command mandate __complete profiles 2>/dev/null
        case file
            __fish_complete_path "$argv[4]"
    end
end

function __mandate_candidates
    set -l typed (commandline -opc)
    set -e typed[1]
    set -l cur (commandline -ct)
    set -l path ''
    set -l npos 0
    set -l pending ''
    set -l flags
    for w in $typed
        if test -n "$pending"
            if contains -- $pending ${PASSED_ON.join(' ')}
                set -a flags $pending $w
            end
            set pending ''
            continue
        end
        switch $w
            case '--*=*'
                continue
            case '-*'
                if test (__mandate_option_kind "$path" $w) != none
                    set pending $w
                end
            case '*'
                if contains -- $w (__mandate_subcommands "$path")
                    if test -z "$path"
                        set path $w
                    else
                        set path "$path $w"
                    end
                else
                    set npos (math $npos + 1)
                end
        end
    end
    if test -n "$pending"
        __mandate_values (__mandate_option_kind "$path" $pending) "$path" $pending "$cur" $flags
        return
    end
    if string match -q -- '-*' "$cur"
        __mandate_option_names "$path"
        return
    end
    set -l subs (__mandate_subcommands "$path")
    if test (count $subs) -gt 0
        printf '%s\\n' $subs
        return
    end
    __mandate_values (__mandate_arg_kind "$path" $npos) "$path" '' "$cur" $flags
end

complete -c mandate -f -a '(__mandate_candidates)'
`;
}
