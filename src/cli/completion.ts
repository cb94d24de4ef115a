/**
 * `netpol completion bash|zsh|fish`: completion scripts generated from the commands' own flag tables,
 * so a new flag is completed without touching this file. Commands and their flags are completed;
 * `-f` completes file names, `-o`, `--protocol` and `--by` their values.
 */
import { GLOBAL_OPTIONS, type OptionSpec } from './args.js';
import { UsageError } from './io.js';

const VALUES: Record<string, string> = {
  protocol: 'TCP UDP SCTP',
  by: 'namespace pod',
  output: 'text table wide json yaml csv md name',
  'deny-action': 'drop reject',
  'existing-connections': 'cut keep',
  enforcer: 'agent nft',
};

function flagsOf(options: OptionSpec): string[] {
  return Object.entries({ ...GLOBAL_OPTIONS, ...options } as OptionSpec).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]);
}

export function completionScript(shell: string | undefined, commands: Readonly<Record<string, OptionSpec>>): string {
  const names = Object.keys(commands);
  switch (shell) {
    case 'bash':
      return bash(names, commands);
    case 'zsh':
      // zsh runs bash completion functions through bashcompinit.
      return `#compdef netpol kubectl-netpol\nautoload -U +X bashcompinit && bashcompinit\n${bash(names, commands)}`;
    case 'fish':
      return fish(names, commands);
    default:
      throw new UsageError(`completion ${shell ?? ''}: give the shell: bash, zsh or fish`.replace('  ', ' '));
  }
}

function bash(names: string[], commands: Readonly<Record<string, OptionSpec>>): string {
  const cases = names
    .filter((c) => c !== 'completion')
    .map((c) => `    ${c}) flags="${flagsOf(commands[c]!).join(' ')}" ;;`)
    .join('\n');
  const values = Object.entries(VALUES)
    .map(([flag, v]) => {
      const short = (GLOBAL_OPTIONS as OptionSpec)[flag]?.short;
      return `    --${flag}${short ? `|-${short}` : ''}) COMPREPLY=($(compgen -W "${v}" -- "$cur")); return ;;`;
    })
    .join('\n');
  return `# netpol bash completion: source <(netpol completion bash)
_netpol() {
  local cur prev cmd flags
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${names.join(' ')} version help" -- "$cur")); return
  fi
  case "$prev" in
    -f|--filename) COMPREPLY=($(compgen -f -- "$cur")); return ;;
${values}
  esac
  case "$cmd" in
${cases}
    completion) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")); return ;;
    *) flags="" ;;
  esac
  COMPREPLY=($(compgen -W "$flags" -- "$cur"))
}
complete -o default -F _netpol netpol kubectl-netpol
`;
}

function fish(names: string[], commands: Readonly<Record<string, OptionSpec>>): string {
  const lines = [`# netpol fish completion: netpol completion fish > ~/.config/fish/completions/netpol.fish`, 'complete -c netpol -f'];
  lines.push(`complete -c netpol -n __fish_use_subcommand -a '${[...names, 'version', 'help'].join(' ')}'`);
  lines.push(`complete -c netpol -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'`);
  for (const c of names) {
    for (const [name, o] of Object.entries({ ...GLOBAL_OPTIONS, ...commands[c]! } as OptionSpec)) {
      const values = VALUES[name] !== undefined ? ` -x -a '${VALUES[name]}'` : name === 'filename' ? ' -r -F' : o.type === 'string' ? ' -x' : '';
      lines.push(`complete -c netpol -n '__fish_seen_subcommand_from ${c}' -l ${name}${o.short ? ` -s ${o.short}` : ''}${values}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
