/**
 * What the whole-cluster commands (matrix, diff, group questions) ask of a class engine, and the engine
 * for a cluster: the NetworkPolicy class engine, or, when the cluster has cluster-scoped policies, the
 * tier-aware one built on it (tiers/). Both answer per class of pods, never pair by pair.
 */
import type { Cluster, PodInfo, Protocol } from '../model/index.js';
import type { PortSet } from '../policy/index.js';
import { ScaleEngine } from './engine.js';
import { TieredScaleEngine } from './tiers/index.js';
import type { NamespaceCounts, ScaleOptions, ScaleProbe, ScaleStats } from './types.js';

export interface ClassAnalysis {
  readonly stats: ScaleStats;
  /** Pods with the same id get the same verdicts from and to everyone. */
  classOf(pod: PodInfo): number | undefined;
  allows(source: PodInfo, destination: PodInfo, probe: ScaleProbe): boolean;
  admittedPorts(source: PodInfo, destination: PodInfo, protocol: Protocol): PortSet;
  allowedPairs(probe: ScaleProbe): number;
  namespaceCounts(probe: ScaleProbe): NamespaceCounts;
}

/** The class engine for `cluster`: tier-aware when it has cluster-scoped policies. */
export function classAnalysis(cluster: Cluster, opts: ScaleOptions = {}): ClassAnalysis {
  return (cluster.clusterPolicies?.length ?? 0) > 0 ? new TieredScaleEngine(cluster, opts) : new ScaleEngine(cluster, opts);
}
