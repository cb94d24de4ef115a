/**
 * Where the server's cluster comes from: a small seam. The file source reads `-f PATH...` once, through
 * the same pipeline as every CLI command (read, load, validate); the live source (live.ts: kubeconfig,
 * list + watch) implements `watch` too, and the page follows its snapshots and its connection state.
 */
import type { Diagnostic } from '../diag/index.js';
import type { SourceText } from '../load/node.js';
import type { Cluster } from '../model/index.js';
import { globalFlags } from '../cli/args.js';
import { readFiles } from '../cli/input.js';

/** One state of the cluster and what was found reading it. */
export interface Snapshot {
  readonly cluster: Cluster;
  /** Read, decoding and validation diagnostics, in source order. */
  readonly diagnostics: readonly Diagnostic[];
  /** The texts the objects came from (the editor shows the policies' documents); empty for a live cluster. */
  readonly sources: readonly SourceText[];
  /** Some object is invalid or some source unreadable: the snapshot is shown but not analysed. */
  readonly invalid: boolean;
}

/** A live source's link to the API server: `reconnecting` while some watch fails (the last snapshot stands). */
export type ConnectionState = { readonly state: 'connected' } | { readonly state: 'reconnecting'; readonly message: string };

export interface SourceListener {
  /** A newer snapshot can be read; `changes` names the objects that changed (`Pod ns/name deleted`). */
  snapshot(changes: readonly string[]): void;
  connection?(state: ConnectionState): void;
}

export interface ClusterSource {
  /** What the page shows as the origin ("examples/three-tier"). Untrusted text. */
  readonly description: string;
  /** The current snapshot. Rejects only on IO failures that leave nothing to show. */
  read(): Promise<Snapshot>;
  /**
   * For sources that change (a live cluster): tells `listener` of newer snapshots and of the connection,
   * until the returned function is called. File sources do not watch.
   */
  watch?(listener: SourceListener): () => void;
  /** A live source's connection now. */
  connection?(): ConnectionState;
  /** Releases what the source holds (a live source's watches). */
  stop?(): Promise<void>;
}

export interface FileSourceOptions {
  readonly filenames: readonly string[];
  readonly recursive: boolean;
  readonly namespace?: string;
}

/** `-f PATH... [-R] [-n NS]`, read as `netpol check` and `netpol matrix` read them. */
export function fileSource(opts: FileSourceOptions): ClusterSource {
  return {
    description: opts.filenames.join(', '),
    async read(): Promise<Snapshot> {
      const flags = globalFlags({ filename: [...opts.filenames], recursive: opts.recursive, namespace: opts.namespace });
      const input = await readFiles(flags, { stdout: () => undefined, stderr: () => undefined });
      return { cluster: input.cluster, diagnostics: input.diagnostics, sources: input.sources ?? [], invalid: input.invalid || input.unreadable };
    },
  };
}
