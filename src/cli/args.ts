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
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true });
    return { values: values as Record<string, unknown>, positionals };
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
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
