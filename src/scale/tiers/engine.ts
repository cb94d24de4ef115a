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
 * Counts are factorised (`sum`): the egress side reads the source only through its tier group and
 * NetworkPolicy egress group (a row key), the ingress side the destination only through its column key,
 * so a count costs (row keys + column keys) x tier classes side verdicts, not tier classes squared.
 */
import { podEndpoint } from '../../engine/index.js';
import { ClusterTiers, ONE_PORT, PORT_SETS } from '../../engine/index.js';
import { parseIP, type IP } from '../../ip/index.js';
import { podKey, type Cluster, type PodInfo, type Protocol } from '../../model/index.js';
import { inView, namespaceLabels, normalizeClusterPolicies, type ClusterPolicy } from '../../policy/index.js';
import { PortSet } from '../../policy/index.js';
import { ScaleEngine } from '../engine.js';
import { probeKey } from '../records.js';
import type { NamespaceCounts, ScaleOptions, ScaleProbe, ScaleStats } from '../types.js';
import { buildTierClasses, type TierClass, type TierClasses } from './classes.js';

type Side = 'egress' | 'ingress';

export interface TieredScaleOptions extends ScaleOptions {
  /** Pre-normalised cluster policies; normalised from the cluster otherwise. */
  readonly clusterPolicies?: readonly ClusterPolicy[];
  /**
   * The NetworkPolicy class engine of exactly this cluster's namespaces, pods and NetworkPolicies, kept
   * by the caller (one updated change by change: `netpol watch`); built from the cluster otherwise. It
   * must not change while this engine is used.
   */
  readonly networkPolicy?: ScaleEngine;
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
  /** The cluster policies of the view: staged ones only with `includeAudit`, as for NetworkPolicies. */
  readonly clusterPolicies: readonly ClusterPolicy[];
  private readonly tiers: ClusterTiers;
  private readonly built: TierClasses;
  /** Memoised tier walks per side and protocol, by `walkKey`. */
  private readonly walks = { egress: new Map<Protocol, Map<number, Walk<PortSet>>>(), ingress: new Map<Protocol, Map<number, Walk<PortSet>>>() };
  private readonly unnamedWalks = { egress: new Map<Protocol, Map<number, Walk<boolean>>>(), ingress: new Map<Protocol, Map<number, Walk<boolean>>>() };
  private readonly counts = new Map<string, number>();

  constructor(
    readonly cluster: Cluster,
    opts: TieredScaleOptions = {},
  ) {
    this.networkPolicy = opts.networkPolicy ?? new ScaleEngine(cluster, opts);
    this.clusterPolicies = (opts.clusterPolicies ?? normalizeClusterPolicies(cluster.clusterPolicies)).filter((p) => inView(p, opts.includeAudit === true));
    const addresses = new Map<PodInfo, readonly IP[]>();
    this.tiers = new ClusterTiers(
      this.clusterPolicies,
      cluster,
      (ns) => namespaceLabels(cluster.namespaces, ns),
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
      this.sum(probe, false, (_s, _d, pairs) => {
        total += pairs;
      });
      n = total;
      this.counts.set(key, n);
    }
    return n;
  }

  /** The pods `pod` may connect to on the probe (itself excluded). */
  destinations(pod: PodInfo, probe: ScaleProbe): PodInfo[] {
    const s = this.tierClass(pod);
    return this.podsOf((d) => this.classAllows(s, d, probe), pod);
  }

  /** The pods that may connect to `pod` on the probe (itself excluded). */
  sources(pod: PodInfo, probe: ScaleProbe): PodInfo[] {
    const d = this.tierClass(pod);
    return this.podsOf((s) => this.classAllows(s, d, probe), pod);
  }

  /** The pods, except `but`, of the tier classes for which `test` holds: one verdict per class. */
  private podsOf(test: (c: TierClass) => boolean, but: PodInfo): PodInfo[] {
    const out: PodInfo[] = [];
    for (const c of this.built.classes) {
      if (!test(c)) continue;
      for (const p of c.pods) if (p !== but) out.push(p);
    }
    return out;
  }

  /** Allowed pairs aggregated by source and destination namespace (self pairs excluded). */
  namespaceCounts(probe: ScaleProbe): NamespaceCounts {
    // The class engine's order: namespaces of the input, then those only pods or policies name.
    const c = this.cluster;
    const names = [...new Set([...c.namespaces.keys(), ...c.pods.map((p) => p.namespace), ...c.policies.map((p) => p.namespace)])];
    const index = new Map(names.map((n, i) => [n, i]));
    const n = names.length;
    const cells = new Map<number, number>();
    this.sum(probe, true, (s, d, pairs) => {
      const k = index.get(s.namespace)! * n + index.get(d.namespace)!;
      cells.set(k, (cells.get(k) ?? 0) + pairs);
    });
    const pods = names.map(() => 0);
    for (const p of c.pods) pods[index.get(p.namespace)!]!++;
    const out: [number, number, number][] = [];
    for (const [k, v] of cells) if (v !== 0) out.push([Math.floor(k / n), k % n, v]);
    out.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    return { namespaces: names, pods, cells: out };
  }

  // --- the relation -----------------------------------------------------------------------------------

  /**
   * The allowed pairs, factorised. The egress side of (s, d) depends on s only through its *row key*
   * (tier group and NetworkPolicy egress group), the ingress side on d only through its *column key*
   * (tier group, NetworkPolicy ingress group and port profile, named container ports). With OUT(r), the
   * classes row key r's egress admits, and IN(c), the classes column key c's ingress admits, the allowed
   * pod pairs from classes of r to classes of c number
   *   (weight of the classes of r in IN(c)) x (weight of the classes of c in OUT(r)).
   * `emit` receives that product for every (r, c) with both non-zero, with a class of each (keys split by
   * namespace when `byNamespace`), then minus the pod count of each class whose pods may connect to each
   * other (its w x w counted its w self pairs). OUT and IN are composed from the tier walk's bits per tier
   * key and NetworkPolicy's row per NetworkPolicy key, asked only where the tiers leave it the decision.
   * Cost: (row keys + column keys) x tier classes, plus the (r, c) blocks that have pairs; never classes
   * squared unless the relation's blocks are.
   */
  private sum(probe: ScaleProbe, byNamespace: boolean, emit: (s: TierClass, d: TierClass, pairs: number) => void): void {
    const all = this.built.classes;
    const K = all.length;
    const np = this.networkPolicy;
    const ns = (c: TierClass) => (byNamespace ? `|${c.namespace}` : '');
    const rowKeys = grouped(all, (c) => `${c.egress}|${np.sideKey('egress', c.np)}${ns(c)}`);
    const colKeys = grouped(all, (c) => `${c.ingress}|${np.sideKey('ingress', c.np)}|${c.portSig}${ns(c)}`);
    const ports = all.map((d) => (typeof probe.port === 'number' ? probe.port : resolveName(d.rep, probe.port, probe.protocol)));
    const tierOut = memoised(
      (s: TierClass) => Uint8Array.from(all, (d) => this.tierOutcome('egress', s, d, probe.protocol, ports[d.id])),
      (c) => c.egress,
    );
    const tierIn = memoised(
      (d: TierClass) => Uint8Array.from(all, (s) => this.tierOutcome('ingress', s, d, probe.protocol, ports[d.id])),
      (c) => `${c.ingress}|${c.portSig}`,
    );
    // NetworkPolicy's row for a side is asked only where the tiers leave the decision to it, once per key.
    const rows = { egress: new Map<string, Uint8Array | undefined>(), ingress: new Map<string, Uint8Array | undefined>() };
    const networkPolicyRow = (side: Side, first: TierClass): Uint8Array | undefined => {
      const key = np.sideKey(side, first.np);
      if (rows[side].has(key)) return rows[side].get(key);
      const row = np.sideRow(side, first.np, probe.protocol, probe.port);
      rows[side].set(key, row);
      return row;
    };
    const compose = (side: Side, first: TierClass, tier: Uint8Array): Uint8Array => {
      const bits = new Uint8Array(K);
      let row: Uint8Array | undefined | null = null;
      for (let x = 0; x < K; x++) {
        const o = tier[x]!;
        if (o & ACCEPTED) bits[x] = 1;
        else if (o & (THROUGH_ADMIN | WITHOUT_NETWORK_POLICY)) {
          if (row === null) row = networkPolicyRow(side, first);
          bits[x] = row === undefined ? (o & WITHOUT_NETWORK_POLICY ? 1 : 0) : o & THROUGH_ADMIN ? row[all[x]!.np]! : 0;
        }
      }
      return bits;
    };
    const into = colKeys.map((cols) => compose('ingress', cols[0]!, tierIn(cols[0]!)));
    const colOf = new Int32Array(K);
    colKeys.forEach((cols, k) => cols.forEach((c) => (colOf[c.id] = k)));
    const weight = Float64Array.from(all, (c) => c.pods.length);
    const received = new Float64Array(colKeys.length);
    const touched: number[] = [];
    for (const rows of rowKeys) {
      const out = compose('egress', rows[0]!, tierOut(rows[0]!));
      for (let d = 0; d < K; d++) {
        if (out[d] === 0) continue;
        const k = colOf[d]!;
        if (received[k] === 0) touched.push(k);
        received[k] = received[k]! + weight[d]!;
      }
      for (const k of touched) {
        const admits = into[k]!;
        let sent = 0;
        for (const s of rows) if (admits[s.id] === 1) sent += weight[s.id]!;
        if (sent > 0) emit(rows[0]!, colKeys[k]![0]!, sent * received[k]!);
        received[k] = 0;
      }
      touched.length = 0;
      for (const c of rows) if (out[c.id] === 1 && into[colOf[c.id]!]![c.id] === 1) emit(c, c, -weight[c.id]!);
    }
  }

  /** Verdict between two distinct pods of these tier classes. */
  private classAllows(s: TierClass, d: TierClass, probe: ScaleProbe): boolean {
    const port = typeof probe.port === 'number' ? probe.port : resolveName(d.rep, probe.port, probe.protocol);
    return this.sideAllows('egress', s, d, probe, port) && this.sideAllows('ingress', s, d, probe, port);
  }

  private sideAllows(side: Side, s: TierClass, d: TierClass, probe: ScaleProbe, port: number | undefined): boolean {
    const outcome = this.tierOutcome(side, s, d, probe.protocol, port);
    // The NetworkPolicy side is asked only when the admin tier did not accept.
    if (outcome & ACCEPTED) return true;
    return combine(outcome, networkPolicyCode(this.networkPolicy.sideAllows(side, s.np, d.np, probe.protocol, probe.port)));
  }

  /** The tier walk's bits for one side (see `combine`); a subject no cluster policy selects leaves all to NetworkPolicy. */
  private tierOutcome(side: Side, s: TierClass, d: TierClass, protocol: Protocol, port: number | undefined): number {
    const group = side === 'egress' ? s.egress : d.ingress;
    if (group === 0) return THROUGH_ADMIN | WITHOUT_NETWORK_POLICY;
    if (port === undefined) {
      const w = this.unnamedWalk(side, s, d, protocol);
      return (w.accepted ? ACCEPTED : 0) | (w.throughAdmin ? THROUGH_ADMIN : 0) | (w.withoutNetworkPolicy ? WITHOUT_NETWORK_POLICY : 0);
    }
    const w = this.walk(side, s, d, protocol);
    return (w.accepted.has(port) ? ACCEPTED : 0) | (w.throughAdmin.has(port) ? THROUGH_ADMIN : 0) | (w.withoutNetworkPolicy.has(port) ? WITHOUT_NETWORK_POLICY : 0);
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
    const memo = mapFor(this.walks[side], protocol);
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
    const memo = mapFor(this.unnamedWalks[side], protocol);
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

/** Bits of a tier walk's outcome for one port: admin accepted; reached NetworkPolicy; allowed when NetworkPolicy does not isolate. */
const ACCEPTED = 1;
const THROUGH_ADMIN = 2;
const WITHOUT_NETWORK_POLICY = 4;
/** NetworkPolicy's side: 0 denied, 1 allowed, 2 not isolated. */
const NOT_ISOLATED = 2;

function networkPolicyCode(v: boolean | undefined): number {
  return v === undefined ? NOT_ISOLATED : v ? 1 : 0;
}

/** One side's verdict from the tier walk's bits and NetworkPolicy's code. */
function combine(outcome: number, networkPolicy: number): boolean {
  if (outcome & ACCEPTED) return true;
  if (networkPolicy === NOT_ISOLATED) return (outcome & WITHOUT_NETWORK_POLICY) !== 0;
  return networkPolicy === 1 && (outcome & THROUGH_ADMIN) !== 0;
}

/** The classes grouped by a key, in order of first appearance. */
function grouped(all: readonly TierClass[], key: (c: TierClass) => string): TierClass[][] {
  const ids = new Map<string, TierClass[]>();
  for (const c of all) {
    const k = key(c);
    const list = ids.get(k);
    if (list) list.push(c);
    else ids.set(k, [c]);
  }
  return [...ids.values()];
}

function memoised<K, V>(compute: (first: TierClass) => V, key: (c: TierClass) => K): (c: TierClass) => V {
  const m = new Map<K, V>();
  return (c) => {
    const k = key(c);
    let v = m.get(k);
    if (v === undefined) {
      v = compute(c);
      m.set(k, v);
    }
    return v;
  };
}

function mapFor<V>(maps: Map<Protocol, Map<number, V>>, key: Protocol): Map<number, V> {
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
