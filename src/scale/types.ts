/**
 * The class engine's public vocabulary: probes, changes, options and statistics (see engine.ts).
 */
import type { Labels, PodInfo, PolicyInfo, Protocol } from '../model/index.js';
import type { Policy } from '../policy/index.js';

/** A port (number, or name resolved against the destination) and protocol. */
export interface ScaleProbe {
  readonly port: number | string;
  readonly protocol: Protocol;
}

/** One change to the cluster. */
export type ClusterChange =
  | { readonly kind: 'addPod'; readonly pod: PodInfo }
  | { readonly kind: 'removePod'; readonly pod: PodInfo }
  | { readonly kind: 'setPodLabels'; readonly pod: PodInfo; readonly labels: Labels }
  /** `next` (the same pod changed: labels, ports, addresses) takes the place of `pod`. */
  | { readonly kind: 'replacePod'; readonly pod: PodInfo; readonly next: PodInfo }
  | { readonly kind: 'upsertPolicy'; readonly policy: PolicyInfo }
  | { readonly kind: 'removePolicy'; readonly namespace: string; readonly name: string };

export interface ScaleStats {
  readonly namespaces: number;
  readonly pods: number;
  readonly policies: number;
  /** Classes holding at least one pod. */
  readonly classes: number;
  /** Distinct peers (selectors and ipBlocks after deduplication). */
  readonly peers: number;
  readonly egressGroups: number;
  readonly ingressGroups: number;
  readonly portProfiles: number;
}

export interface ScaleOptions {
  /** Pre-normalised policies (as `Engine` accepts); normalised from the cluster otherwise. */
  readonly policies?: readonly Policy[];
  /**
   * How counts walk a set: from the candidates a group's peers name, or over the whole set, whichever is
   * smaller; and whether a cell admitting a peer that matches most classes is summed as "everyone but
   * the few it leaves out" (`auto`, the default, decides each time). Whole counts (`allowedPairs`
   * from scratch) of clusters with at most DENSE_MAX_CLASSES classes use class x class bit matrices
   * instead (`dense`; `auto` too below the limit); above it, where peers match so many classes that the
   * sweep would walk long member lists, `auto` still counts with the dense bits; `admitted` counts from
   * per-group admitted sets in their shorter form (admitted.ts), only when asked for (measured no faster,
   * docs/benchmarks.md). Tests force each way (`candidates`, `scan`, `complement`, `dense`, `admitted`)
   * so all stay exact.
   */
  readonly strategy?: Strategy;
  /**
   * Called as the build and the counts advance (phase, items done, items in the phase), at most about
   * a hundred times a phase: for progress on a terminal.
   */
  readonly progress?: Progress;
  /**
   * Count audit-mode policies as enforcing (the reachability once they enforce). By default they are
   * left out: the enforced view, as `Engine` answers (src/policy/mode.ts).
   */
  readonly includeAudit?: boolean;
}

export type Progress = (phase: 'policies' | 'pods' | 'peers' | 'groups' | 'count', done: number, total: number) => void;

/** Calls `progress` about every 1% of `total` (and at the end). */
export function ticker(progress: Progress | undefined, phase: Parameters<Progress>[0], total: number): (done: number) => void {
  if (!progress || total === 0) return () => {};
  const step = Math.max(1, Math.floor(total / 100));
  return (done) => {
    if (done % step === 0 || done === total) progress(phase, done, total);
  };
}

export type Strategy = 'auto' | 'candidates' | 'scan' | 'complement' | 'dense' | 'admitted';

/**
 * Up to this many classes, `auto` counts the whole relation with two class x class bit matrices
 * (dense.ts: 2 x 8 MiB at the limit) rather than the sweep.
 */
export const DENSE_MAX_CLASSES = 8192;

/** Up to this many classes, `auto` counts with each class on its own bit, without units (units.ts). */
export const UNITS_MIN_CLASSES = 4096;

/** Per source and destination namespace, the number of allowed ordered pod pairs. */
export interface NamespaceCounts {
  readonly namespaces: readonly string[];
  /** Pods per namespace, in the order of `namespaces`. */
  readonly pods: readonly number[];
  /** Non-zero cells: [source namespace index, destination namespace index, allowed pairs]. */
  readonly cells: readonly (readonly [number, number, number])[];
}
