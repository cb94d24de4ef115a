/**
 * The class engine with the cluster tiers: Admin tier cluster policies by priority (with Pass), then
 * NetworkPolicy (the class engine, src/scale/engine.ts), then Baseline tier, then allow; each side on its
 * own ("an egress Accept does not bypass the destination's ingress evaluation"). Exact: the property test
 * holds it to the tier oracle (src/engine/oracle-tiers.ts) on every pair.
 *
 * Design choice. Verdicts are per tier class (classes.ts). One side of a verdict is
 *
 *   accepted-by-admin  or  (undecided-by-admin  and  NetworkPolicy allows)       when NetworkPolicy isolates the subject
 *   allowed through admin, then baseline, then the default                        when it does not
 *
 * where the admin and baseline parts depend only on (tier group of the subject, peer signature of the far
 * end, named ports of the destination): the tier walk (src/engine/tiers.ts, `ClusterTiers.decide`, the
 * explaining engine's own code) runs once per such key and protocol, over every port at once, and is
 * memoised as three port sets (`accepted`, `throughAdmin`, `withoutNetworkPolicy`); the NetworkPolicy side
 * comes from the class engine. A side whose subject no cluster policy selects is NetworkPolicy's alone.
 *
 * Counts start from the class engine's count and correct only the pairs a cluster policy can change: the
 * rows of classes selected for egress and the columns of classes selected for ingress (or count every
 * pair of tier classes directly when those cover most of the relation). The cost follows the classes
 * the cluster policies select, not the pods.
 */
import { podEndpoint } from '../../engine/engine.js';
import { ClusterTiers, ONE_PORT, PORT_SETS } from '../../engine/tiers.js';
import { parseIP, type IP } from '../../ip/index.js';
import { NAMESPACE_NAME_LABEL, podKey, type Cluster, type PodInfo, type Protocol } from '../../model/cluster.js';
import { normalizeClusterPolicies, type ClusterPolicy } from '../../policy/cluster.js';
import { PortSet } from '../../policy/portset.js';
import { ScaleEngine } from '../engine.js';
import { probeKey } from '../records.js';
import type { NamespaceCounts, ScaleOptions, ScaleProbe, ScaleStats } from '../types.js';
import { buildTierClasses, type TierClass, type TierClasses } from './classes.js';

type Side = 'egress' | 'ingress';

export interface TieredScaleOptions extends ScaleOptions {
  /** Pre-normalised cluster policies; normalised from the cluster otherwise. */
  readonly clusterPolicies?: readonly ClusterPolicy[];
  /**
   * Counts correct the class engine's by the rows and columns the cluster policies select
   * (`corrections`), or walk every pair of tier classes (`direct`); `auto` (the default) takes the
   * fewer pairs. Tests force each so both stay exact.
   */
  readonly tierCount?: 'auto' | 'direct' | 'corrections';
}

/** One side's tier walk for a key: what the admin tier accepts, what it leaves to NetworkPolicy, and the verdict without NetworkPolicy. */
interface Walk<T> {
  readonly accepted: T;
  readonly throughAdmin: T;
  readonly withoutNetworkPolicy: T;
}

export class TieredScaleEngine {
  /** The NetworkPolicy class engine underneath. */
  readonly networkPolicy: ScaleEngine;
  readonly clusterPolicies: readonly ClusterPolicy[];
  private readonly tiers: ClusterTiers;
  private readonly built: TierClasses;
  private readonly walks = new Map<string, Map<number, Walk<PortSet>>>();
  private readonly unnamedWalks = new Map<string, Map<number, Walk<boolean>>>();
  private readonly counts = new Map<string, number>();
  private readonly count: NonNullable<TieredScaleOptions['tierCount']>;

  constructor(
    readonly cluster: Cluster,
    opts: TieredScaleOptions = {},
  ) {
    this.count = opts.tierCount ?? 'auto';
    this.networkPolicy = new ScaleEngine(cluster, opts);
    this.clusterPolicies = opts.clusterPolicies ?? normalizeClusterPolicies(cluster.clusterPolicies);
    const addresses = new Map<PodInfo, readonly IP[]>();
    this.tiers = new ClusterTiers(
      this.clusterPolicies,
      cluster,
      (ns) => cluster.namespaces.get(ns)?.labels ?? { [NAMESPACE_NAME_LABEL]: ns },
      (pod) => {
        let a = addresses.get(pod);
        if (!a) {
          a = pod.ips.map((t) => parseIP(t)).filter((x): x is IP => x !== undefined);
          addresses.set(pod, a);
        }
        return a;
      },
      (pod, name, protocol) => resolveName(pod, name, protocol),
    );
    this.built = buildTierClasses(this.networkPolicy, cluster.pods, this.tiers);
  }

  get stats(): ScaleStats {
    return { ...this.networkPolicy.stats, classes: this.built.classes.length };
  }

  /** The pod named `ns/name`, if loaded. */
  pod(key: string): PodInfo | undefined {
    return this.networkPolicy.pod(key);
  }

  pods(): IterableIterator<PodInfo> {
    return this.networkPolicy.pods();
  }

  /** The tier class of a pod: pods with the same id get the same verdicts from and to everyone. */
  classOf(pod: PodInfo): number | undefined {
    return this.built.byPod.get(pod);
  }

  allows(source: PodInfo, destination: PodInfo, probe: ScaleProbe): boolean {
    // "Traffic from a pod to itself never leaves the pod and is always allowed."
    if (source === destination) return true;
    return this.classAllows(this.tierClass(source), this.tierClass(destination), probe);
  }

  admittedPorts(source: PodInfo, destination: PodInfo, protocol: Protocol): PortSet {
    if (source === destination) return PortSet.ALL;
    const s = this.tierClass(source);
    const d = this.tierClass(destination);
    const egress = this.sidePorts('egress', s, d, protocol);
    if (egress.isEmpty()) return egress;
    return egress.intersect(this.sidePorts('ingress', s, d, protocol));
  }

  /** The exact number of ordered pairs of distinct pods (a, b) such that a may connect to b on the probe. */
  allowedPairs(probe: ScaleProbe): number {
    const key = probeKey(probe);
    let n = this.counts.get(key);
    if (n === undefined) {
      let total = 0;
      const corrected = this.sweep(probe, (_s, _d, v) => {
        total += v;
      });
      n = (corrected ? this.networkPolicy.allowedPairs(probe) : 0) + total;
      this.counts.set(key, n);
    }
    return n;
  }

  /** Allowed pairs aggregated by source and destination namespace (self pairs excluded). */
  namespaceCounts(probe: ScaleProbe): NamespaceCounts {
    // The class engine's order: namespaces of the input, then those only pods or policies name.
    const c = this.cluster;
    const names = [...new Set([...c.namespaces.keys(), ...c.pods.map((p) => p.namespace), ...c.policies.map((p) => p.namespace)])];
    const index = new Map(names.map((n, i) => [n, i]));
    const n = names.length;
    const cells = new Map<number, number>();
    const add = (a: number, b: number, v: number) => {
      if (v === 0) return;
      const k = a * n + b;
      cells.set(k, (cells.get(k) ?? 0) + v);
    };
    const corrected = this.sweep(probe, (s, d, v) => add(index.get(s.namespace)!, index.get(d.namespace)!, v));
    if (corrected) {
      const base = this.networkPolicy.namespaceCounts(probe);
      for (const [a, b, v] of base.cells) add(index.get(base.namespaces[a]!)!, index.get(base.namespaces[b]!)!, v);
    }
    const pods = names.map(() => 0);
    for (const p of this.cluster.pods) pods[index.get(p.namespace)!]!++;
    const out: [number, number, number][] = [];
    for (const [k, v] of cells) if (v !== 0) out.push([Math.floor(k / n), k % n, v]);
    out.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    return { namespaces: names, pods, cells: out };
  }

  // --- the relation -----------------------------------------------------------------------------------

  /**
   * Calls `emit` with pod pair counts per pair of tier classes. Returns true when the counts are
   * corrections to the class engine's (allowed with the tiers minus allowed by NetworkPolicy alone, over
   * the rows and columns the cluster policies select), false when they are the whole relation.
   */
  private sweep(probe: ScaleProbe, emit: (s: TierClass, d: TierClass, pairs: number) => void): boolean {
    const all = this.built.classes;
    const rows = all.filter((c) => c.egress !== 0);
    const cols = all.filter((c) => c.ingress !== 0);
    const others = all.filter((c) => c.egress === 0);
    const corrected = this.count === 'auto' ? rows.length * all.length + others.length * cols.length < (all.length * all.length) / 2 : this.count === 'corrections';
    const pairs = (s: TierClass, d: TierClass) => s.pods.length * (d.pods.length - (s === d ? 1 : 0));
    if (!corrected) {
      for (const s of all) {
        for (const d of all) {
          const n = pairs(s, d);
          if (n > 0 && this.classAllows(s, d, probe)) emit(s, d, n);
        }
      }
      return false;
    }
    const delta = (s: TierClass, d: TierClass) => {
      const n = pairs(s, d);
      if (n === 0) return;
      const v = (this.classAllows(s, d, probe) ? 1 : 0) - (this.networkPolicyAllows(s, d, probe) ? 1 : 0);
      if (v !== 0) emit(s, d, v * n);
    };
    for (const s of rows) for (const d of all) delta(s, d);
    for (const s of others) for (const d of cols) delta(s, d);
    return true;
  }

  private networkPolicyAllows(s: TierClass, d: TierClass, probe: ScaleProbe): boolean {
    const np = this.networkPolicy;
    return np.sideAllows('egress', s.np, d.np, probe.protocol, probe.port) !== false && np.sideAllows('ingress', s.np, d.np, probe.protocol, probe.port) !== false;
  }

  /** Verdict between two distinct pods of these tier classes. */
  private classAllows(s: TierClass, d: TierClass, probe: ScaleProbe): boolean {
    const port = typeof probe.port === 'number' ? probe.port : resolveName(d.rep, probe.port, probe.protocol);
    return this.sideAllows('egress', s, d, probe, port) && this.sideAllows('ingress', s, d, probe, port);
  }

  private sideAllows(side: Side, s: TierClass, d: TierClass, probe: ScaleProbe, port: number | undefined): boolean {
    const group = side === 'egress' ? s.egress : d.ingress;
    const networkPolicy = () => this.networkPolicy.sideAllows(side, s.np, d.np, probe.protocol, probe.port);
    if (group === 0) return networkPolicy() ?? true;
    if (port === undefined) {
      const w = this.unnamedWalk(side, s, d, probe.protocol);
      if (w.accepted) return true;
      const np = networkPolicy();
      return np === undefined ? w.withoutNetworkPolicy : np && w.throughAdmin;
    }
    const w = this.walk(side, s, d, probe.protocol);
    if (w.accepted.has(port)) return true;
    const np = networkPolicy();
    return np === undefined ? w.withoutNetworkPolicy.has(port) : np && w.throughAdmin.has(port);
  }

  private sidePorts(side: Side, s: TierClass, d: TierClass, protocol: Protocol): PortSet {
    const group = side === 'egress' ? s.egress : d.ingress;
    const np = this.networkPolicy.sidePortSet(side, s.np, d.np, protocol);
    if (group === 0) return np ?? PortSet.ALL;
    const w = this.walk(side, s, d, protocol);
    return np === undefined ? w.withoutNetworkPolicy : w.accepted.union(w.throughAdmin.intersect(np));
  }

  /** The memo key of one side: the subject's tier group, the far end's peers, the destination's named ports. */
  private walkKey(side: Side, s: TierClass, d: TierClass): number {
    const { peerSigs, portSigs } = this.built;
    const group = side === 'egress' ? s.egress : d.ingress;
    const far = side === 'egress' ? d.peerSig : s.peerSig;
    return (group * peerSigs + far) * portSigs + d.portSig;
  }

  private walk(side: Side, s: TierClass, d: TierClass, protocol: Protocol): Walk<PortSet> {
    const memo = mapFor(this.walks, `${side}/${protocol}`);
    const key = this.walkKey(side, s, d);
    let w = memo.get(key);
    if (!w) {
      const [subject, other] = side === 'egress' ? [s.rep, d.rep] : [d.rep, s.rep];
      const portsOf = this.tiers.portSets(protocol, podEndpoint(d.rep));
      const run = (np: PortSet | undefined) => this.tiers.decide(PORT_SETS, PortSet.ALL, side, subject, podEndpoint(other), portsOf, () => np).allowed;
      w = { accepted: run(PortSet.EMPTY), throughAdmin: run(PortSet.ALL), withoutNetworkPolicy: run(undefined) };
      memo.set(key, w);
    }
    return w;
  }

  /** As `walk`, for a port name the destination does not define (only rules without ports match it). */
  private unnamedWalk(side: Side, s: TierClass, d: TierClass, protocol: Protocol): Walk<boolean> {
    const memo = mapFor(this.unnamedWalks, `${side}/${protocol}`);
    const key = this.walkKey(side, s, d);
    let w = memo.get(key);
    if (!w) {
      const [subject, other] = side === 'egress' ? [s.rep, d.rep] : [d.rep, s.rep];
      const run = (np: boolean | undefined) => this.tiers.decide(ONE_PORT, true, side, subject, podEndpoint(other), ClusterTiers.NO_NUMBER, () => np).allowed;
      w = { accepted: run(false), throughAdmin: run(true), withoutNetworkPolicy: run(undefined) };
      memo.set(key, w);
    }
    return w;
  }

  private tierClass(pod: PodInfo): TierClass {
    const id = this.built.byPod.get(pod);
    if (id === undefined) throw new Error(`pod ${podKey(pod)} is not loaded in this engine`);
    return this.built.classes[id]!;
  }
}

function mapFor<V>(maps: Map<string, Map<number, V>>, key: string): Map<number, V> {
  let m = maps.get(key);
  if (!m) {
    m = new Map();
    maps.set(key, m);
  }
  return m;
}

/** "name and protocol must both match" (the destination's container ports). */
function resolveName(pod: PodInfo, name: string, protocol: Protocol): number | undefined {
  return pod.ports.find((p) => p.name === name && p.protocol === protocol)?.port;
}
