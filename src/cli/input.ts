/**
 * The input pipeline every command shares: read -f sources, load them into a Cluster, validate every
 * NetworkPolicy as the API server would. Returns diagnostics as values; commands decide what they mean.
 */
import { formatDiagnostic, hasErrors, type Diagnostic } from '../diag/diagnostic.js';
import { loadCluster } from '../load/index.js';
import { readSources } from '../load/sources.js';
import type { Cluster } from '../model/cluster.js';
import { validateCluster } from '../analysis.js';
import type { GlobalFlags } from './args.js';
import { UsageError, type IO } from './io.js';

export interface Input {
  readonly cluster: Cluster;
  /** Everything found, in file order: read errors, YAML and decoding problems, validation errors, notes. */
  readonly diagnostics: readonly Diagnostic[];
  /** Some source could not be read at all (exit 2). */
  readonly unreadable: boolean;
  /** Some object is invalid: analysis would be guessing. */
  readonly invalid: boolean;
}

export async function readInput(flags: GlobalFlags, io: IO): Promise<Input> {
  if (flags.filenames.length === 0) throw new UsageError('no input: give one or more -f FILE|DIR|- (use -f - for stdin)');
  const read = await readSources(flags.filenames, {
    recursive: flags.recursive,
    ...(io.stdin ? { stdin: io.stdin } : {}),
    ...(io.cwd ? { cwd: io.cwd } : {}),
  });
  const loaded = loadCluster(read.sources, { defaultNamespace: flags.namespace ?? 'default' });
  const validation = validateCluster(loaded.cluster);
  const diagnostics = [...read.diagnostics, ...loaded.diagnostics, ...validation];
  return {
    cluster: loaded.cluster,
    diagnostics: sortDiagnostics(diagnostics),
    unreadable: hasErrors(read.diagnostics),
    invalid: hasErrors(diagnostics),
  };
}

function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return ds
    .map((d, i) => ({ d, i }))
    .sort((a, b) => {
      if ((a.d.file ?? '') !== (b.d.file ?? '')) return (a.d.file ?? '') < (b.d.file ?? '') ? -1 : 1;
      return (a.d.line ?? 0) - (b.d.line ?? 0) || (a.d.column ?? 0) - (b.d.column ?? 0) || a.i - b.i;
    })
    .map((x) => x.d);
}

/** kubectl manners: `Warning: ...` for warnings, `Note: ...` for notes, `error: ...` for errors, all on stderr. */
export function reportDiagnostics(io: IO, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) io.stderr(`${diagnosticLine(d)}\n`);
}

export function diagnosticLine(d: Diagnostic): string {
  return formatDiagnostic(d, d.severity === 'error' ? 'error' : d.severity === 'warning' ? 'Warning' : 'Note');
}
