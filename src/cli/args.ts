/**
 * Flag parsing with node:util parseArgs, kubectl-style: global flags (-f, -R, -n, -A, -o) plus each
 * command's own. Unknown flags and bad values are UsageErrors (exit 2), never stack traces.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './io.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export const GLOBAL_OPTIONS = {
  filename: { type: 'string', short: 'f', multiple: true },
  recursive: { type: 'boolean', short: 'R' },
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
  // Reading a live cluster (src/kube): kubectl's flags, and files applied on top of the cluster.
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  overlay: { type: 'boolean' },
} as const satisfies OptionSpec;

export interface GlobalFlags {
  filenames: string[];
  recursive: boolean;
  namespace: string | undefined;
  allNamespaces: boolean;
  output: string | undefined;
  help: boolean;
  kubeconfig: string | undefined;
  context: string | undefined;
  overlay: boolean;
}

export function parse(argv: string[], options: OptionSpec): { values: Record<string, unknown>; positionals: string[] } {
  const all: OptionSpec = { ...GLOBAL_OPTIONS, ...options };
  let parsed;
  try {
    parsed = parseArgs({ args: argv.flatMap(splitShortEquals), options: all, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    throw new UsageError(flagError(e as Error & { code?: string }, all));
  }
  // A single-valued flag given twice is a mistake (which one was meant?), not "the last one wins".
  const seen = new Map<string, string>();
  for (const t of parsed.tokens) {
    if (t.kind !== 'option' || all[t.name]?.multiple === true) continue;
    const before = seen.get(t.name);
    if (before !== undefined) throw new UsageError(`flag --${t.name} given more than once (${before} and ${t.rawName}${t.value !== undefined ? ` ${t.value}` : ''}): give it once`);
    seen.set(t.name, `${t.rawName}${t.value !== undefined ? ` ${t.value}` : ''}`);
  }
  return { values: parsed.values as Record<string, unknown>, positionals: parsed.positionals };
}

/** `-f=path` as kubectl (pflag) reads it: the short flag `-f` with the value `path`. */
function splitShortEquals(arg: string): string[] {
  const m = /^-([A-Za-z])=(.*)$/s.exec(arg);
  return m ? [`-${m[1]}`, m[2]!] : [arg];
}

/** parseArgs' errors in kubectl's (pflag's) words, with the nearest flag suggested for an unknown one. */
function flagError(e: Error & { code?: string }, options: OptionSpec): string {
  const quoted = /'([^']+)'/.exec(e.message)?.[1] ?? '';
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const name = quoted.replace(/^-+/, '').replace(/=.*$/, '');
    const short = /^-[^-]/.test(quoted);
    const hint = short ? undefined : nearest(name, Object.keys(options));
    return `${short ? `unknown shorthand flag: '${name.slice(0, 1)}' in ${quoted}` : `unknown flag: --${name}`}${hint ? ` (did you mean --${hint}?)` : ''}`;
  }
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = /--[a-z-]+/.exec(quoted)?.[0] ?? quoted;
    if (/argument missing/.test(e.message)) return `flag needs an argument: ${flag}`;
    if (/does not take an argument/.test(e.message)) return `flag ${flag} does not take a value`;
  }
  return e.message.replace(/^TypeError \[[A-Z_]+\]: /, '');
}

/** The option closest to a mistyped one (edit distance at most 2, or a prefix of it). */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 2 ? 1 : distance(word, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

export function globalFlags(values: Record<string, unknown>): GlobalFlags {
  return {
    filenames: (values.filename as string[] | undefined) ?? [],
    recursive: values.recursive === true,
    namespace: values.namespace as string | undefined,
    allNamespaces: values['all-namespaces'] === true,
    output: values.output as string | undefined,
    help: values.help === true,
    kubeconfig: values.kubeconfig as string | undefined,
    context: values.context as string | undefined,
    overlay: values.overlay === true,
  };
}

export function outputFormat<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`unsupported output format "${value}": use one of ${allowed.join(', ')}`);
}
