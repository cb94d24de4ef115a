/**
 * The input pipeline every command shares: read -f sources, load them into a Cluster, validate every
 * NetworkPolicy as the API server would. Returns diagnostics as values; commands decide what they mean.
 */
import { hasErrors, type Diagnostic } from '../diag/index.js';
import { readSources, STDIN_NAME, type SourceText } from '../load/node.js';
import { isDNS1123Label, validateCluster } from '../validate/index.js';
import type { Cluster } from '../model/index.js';
import { loadClusterFast } from '../load/index.js';
import { progressLine } from './progress.js';
import type { GlobalFlags } from './args.js';
import { UsageError, type IO } from './io.js';
import { diagnosticText } from './render/diagnostic.js';
import { readClusterInput, usesCluster } from './cluster.js';

export interface Input {
  readonly cluster: Cluster;
  /** Everything found, in file order: read errors, YAML and decoding problems, validation errors, notes. */
  readonly diagnostics: readonly Diagnostic[];
  /** Some source could not be read at all (exit 2). */
  readonly unreadable: boolean;
  /** Some object is invalid: analysis would be guessing. */
  readonly invalid: boolean;
  /** Namespace of names given without one (`-n`, else the kubeconfig context's, else `default`). */
  readonly namespace: string;
  /** The texts read from files (for a reader that shows them again, such as the web editor). */
  readonly sources?: readonly SourceText[];
}

export interface InputOptions {
  /**
   * Which namespaces to read from a cluster: those the flags name (`-n`, `-A`, else the context's
   * namespace, as kubectl), or all of them (check: its two ends may be anywhere).
   */
  readonly clusterScope?: 'flags' | 'all';
  /** Read the cluster's Services too (a `svc/NAME` on the command line). Files always give theirs. */
  readonly services?: boolean;
}

/** Files (`-f`), the live cluster (no `-f`, or `--kubeconfig`/`--context`), or files over the cluster (`--overlay`). */
export async function readInput(flags: GlobalFlags, io: IO, opts: InputOptions = {}): Promise<Input> {
  checkNamespaceFlag(flags.namespace);
  if (usesCluster(flags)) return readClusterInput(flags, io, opts.clusterScope ?? 'flags', readFiles, opts.services === true);
  return readFiles(flags, io);
}

export async function readFiles(flags: GlobalFlags, io: IO, defaultNamespace = flags.namespace ?? 'default'): Promise<Input> {
  if (flags.filenames.length === 0) throw new UsageError('no input: give one or more -f FILE|DIR|- (use -f - for stdin)');
  const read = await readSources(flags.filenames, {
    recursive: flags.recursive,
    ...(io.stdin ? { stdin: io.stdin } : {}),
  });
  return inputFromSources(read, flags.filenames, flags, io, defaultNamespace);
}

/** Load and validate texts already read (from files, stdin or a git revision); `names` say where they came from. */
export function inputFromSources(
  read: { sources: readonly SourceText[]; diagnostics: readonly Diagnostic[] },
  names: readonly string[],
  flags: GlobalFlags,
  io: IO,
  defaultNamespace = flags.namespace ?? 'default',
): Input {
  // The fast loader handles the YAML subset generated and dumped manifests use and hands anything
  // else to the reference loader, with identical results either way.
  const progress = progressLine(io);
  const loaded = loadClusterFast(read.sources, { defaultNamespace, progress: (d, t) => progress.update('loading files', d, t) });
  progress.done();
  const validation = validateCluster(loaded.cluster);
  const diagnostics = inSourceOrder(
    [...read.diagnostics, ...loaded.diagnostics, ...validation],
    read.sources.map((s) => s.file),
  );
  const c = loaded.cluster;
  const none = c.pods.length === 0 && c.policies.length === 0 && c.namespaces.size === 0 && !c.services?.length && !c.clusterPolicies?.length && !c.nodes?.length;
  if (read.sources.length > 0 && none && !hasErrors(diagnostics)) {
    // kubectl says "no objects passed to apply": an empty input (a failed `helm template` upstream, a
    // wrong path) is an error. Objects of kinds netpol does not read are a warning: it is told about them.
    const ignored = diagnostics.some((d) => d.code === 'UnknownKind');
    diagnostics.push({
      severity: ignored ? 'warning' : 'error',
      code: 'NoObjects',
      message: ignored ? `no objects netpol reads in ${sourceNames(names)}` : `no objects passed: ${sourceNames(names)} ${names.length === 1 ? 'holds' : 'hold'} no objects`,
    });
  }
  if (read.sources.length === 0 && !hasErrors(read.diagnostics)) {
    diagnostics.push({ severity: 'error', code: 'ReadError', message: `no .yaml, .yml or .json files in ${names.join(', ')}${flags.recursive ? '' : ' (use -R to descend into subdirectories)'}` });
  }
  return {
    cluster: loaded.cluster,
    diagnostics,
    unreadable: hasErrors(read.diagnostics) || read.sources.length === 0,
    invalid: hasErrors(diagnostics),
    namespace: defaultNamespace,
    sources: read.sources,
  };
}

function sourceNames(names: readonly string[]): string {
  return names.map((f) => (f === '-' ? STDIN_NAME : f)).join(', ');
}

/** `-n` names a namespace: a DNS label, as the API server requires (`-n 'A B'`, `-n ../x` are usage errors). */
export function checkNamespaceFlag(namespace: string | undefined): void {
  if (namespace === undefined) return;
  const problems = isDNS1123Label(namespace);
  if (problems.length > 0) throw new UsageError(`-n ${JSON.stringify(namespace)}: not a valid namespace name: ${problems.join('; ')}`);
}

/** Diagnostics in the order the sources were given, then by position; diagnostics without a file first. */
function inSourceOrder(ds: Diagnostic[], files: string[]): Diagnostic[] {
  const rank = new Map(files.map((f, i) => [f, i]));
  const fileRank = (d: Diagnostic) => (d.file === undefined ? -1 : (rank.get(d.file) ?? files.length));
  return ds
    .map((d, i) => ({ d, i }))
    .sort((a, b) => fileRank(a.d) - fileRank(b.d) || (a.d.line ?? 0) - (b.d.line ?? 0) || (a.d.column ?? 0) - (b.d.column ?? 0) || a.i - b.i)
    .map((x) => x.d);
}

/** Why a command does not analyse its input (said once, after the diagnostics): what is wrong, in its words. */
export function refusal(input: Input, what = 'analysed'): string {
  if (input.unreadable) return `error: the input could not be read (see above), so it is not ${what}\n`;
  const c = input.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code);
  if (c.length > 0 && c.every((x) => x === 'NoObjects')) return `error: there is nothing to analyse\n`;
  return `error: the input has errors (see above); the API server would reject it, so it is not ${what}\n`;
}

/** kubectl manners: `Warning: ...` for warnings, `Note: ...` for notes, `error: ...` for errors, all on stderr. */
export function reportDiagnostics(io: IO, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) io.stderr(`${diagnosticLine(d)}\n`);
}

export function diagnosticLine(d: Diagnostic): string {
  return diagnosticText(d, d.severity === 'error' ? 'error' : d.severity === 'warning' ? 'Warning' : 'Note');
}
