/**
 * The seam between where a cluster comes from and who follows it: a `ClusterSource` delivers whole
 * snapshots. The agent's file source (src/agent/source.ts) and the live cluster's (src/kube/source.ts)
 * implement it; the agent consumes it without knowing which.
 */
import type { Diagnostic } from '../diag/index.js';
import type { Cluster } from './cluster.js';

export interface ClusterSnapshot {
  readonly cluster: Cluster;
  /** Problems in the input, including which fallbacks were taken. */
  readonly diagnostics: readonly Diagnostic[];
  /** Increases with every snapshot. */
  readonly generation: number;
  /**
   * Set when part of the input could not be read and there is no last good content to stand in for it
   * (a path missing at start, an object the API server holds that cannot be decoded): the snapshot is
   * not the cluster, and the agent does not apply it (fail closed: the node keeps the rules it has).
   * Says what is missing.
   */
  readonly incomplete?: string;
}

export interface ClusterSource {
  /** Delivers a first snapshot, then one per change, until stopped. */
  start(onSnapshot: (s: ClusterSnapshot) => void | Promise<void>): Promise<void>;
  stop(): Promise<void>;
}
