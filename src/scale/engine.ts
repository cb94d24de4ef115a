/**
 * The class-based engine: whole-cluster NetworkPolicy analysis at 100,000+ pods, exact, incremental.
 *
 * Design choice. Pods that no selector or ipBlock can tell apart are one *class*: same namespace (so
 * the same namespace labels), same pod labels, same named ports (what each name resolves to), same
 * ipBlock membership (which ipBlock peers of the cluster contain one of its addresses). Every verdict
 * between two pods is the verdict between their classes, so everything is computed per class:
 *
 * - each distinct peer (`podSelector`/`namespaceSelector`/`ipBlock`, deduplicated across policies)
 *   knows its member classes, found through label indexes and a sorted address index; each class knows
 *   the peers it matches (a sorted list);
 * - classes selected by the same set of policies for a direction share a *group*; a group folds the
 *   rules of its policies into a table `peer -> ports` (plus the ports of rules without peers), so one
 *   side of one verdict is "does one of the far end's peers appear in the table with the port";
 * - reachability is the relation over classes that both sides give: (source class, destination
 *   class) is allowed when the source's egress group admits the destination and the destination's
 *   ingress group admits the source, for the probe's port resolved against the destination's profile.
 *
 * No pod x pod matrix is ever built. `allowedPairs(probe)` sums, over ingress cells (an ingress
 * group's classes with one port profile) and egress groups E, f(E, cell) x g(E, cell): the weight
 * (pod count) of E's classes the cell admits times the weight of the cell's classes E reaches, which
 * factorises the verdict. Groups that admit everyone ("open") are summed once; groups admitting a peer
 * that matches nearly every class are summed as "everyone but the few left out". Below
 * DENSE_MAX_CLASSES classes, where the fixed costs of that sweep (maps, memos) outweigh its savings,
 * a whole count instead builds the class x class relation as two bit matrices (dense.ts: a few
 * megabytes, word-parallel). A single change (pods, labels, policies) updates classes, groups and
 * tables in place and corrects the cached counts by the rows and columns of the classes it touches
 * (or, with dense counts, marks them for a recount when that is estimated cheaper); open ends and
 * per-group admitted peers are kept per probe across changes.
 *
 * Bulk loading normalises policies with a shared cache (`policyNormalizer`: equal selectors, ipBlocks
 * and port lists are compiled once and shared), so peers and subject selectors are interned by object
 * identity first and by canonical text only on a miss.
 *
 * Semantics are the engine's and the oracle's (docs/semantics.md); property tests hold this module to
 * src/engine/oracle.ts on every pair, before and after random sequences of changes.
 */
import { parseIP, type AddressSet, type IP } from '../ip/index.js';
import { NAMESPACE_NAME_LABEL, podKey, type Cluster, type Labels, type PodInfo, type PolicyInfo, type Protocol } from '../model/cluster.js';
import { normalizePolicy, policyNormalizer, type Peer, type Policy, type PortSpec } from '../policy/model.js';
import { PortSet } from '../policy/portset.js';
import { EVERYTHING, matches, type Selector } from '../selector/index.js';
import type { Endpoint, Traffic } from '../engine/types.js';
import { denseAllowedPairs, type DenseGroup } from './dense.js';
import { IpIndex } from './ipindex.js';
import { NO_PORTS, PortAgg, PortProfile } from './ports.js';
import { LabelIndex, selectIn, selectorKey } from './select.js';

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
   * instead (`dense`; `auto` too below the limit). Tests force each way (`candidates`, `scan`,
   * `complement`, `dense`) so all stay exact.
   */
  readonly strategy?: Strategy;
  /**
   * Called as the build and the counts advance (phase, items done, items in the phase), at most about
   * a hundred times a phase: for progress on a terminal.
   */
  readonly progress?: Progress;
}

export type Progress = (phase: 'policies' | 'pods' | 'peers' | 'groups' | 'count', done: number, total: number) => void;

/** Calls `progress` about every 1% of `total` (and at the end). */
function ticker(progress: Progress | undefined, phase: Parameters<Progress>[0], total: number): (done: number) => void {
  if (!progress || total === 0) return () => {};
  const step = Math.max(1, Math.floor(total / 100));
  return (done) => {
    if (done % step === 0 || done === total) progress(phase, done, total);
  };
}

export type Strategy = 'auto' | 'candidates' | 'scan' | 'complement' | 'dense';

/**
 * Up to this many classes, `auto` counts the whole relation with two class x class bit matrices
 * (dense.ts: 2 x 8 MiB at the limit) rather than the sweep.
 */
export const DENSE_MAX_CLASSES = 8192;

/** Per source and destination namespace, the number of allowed ordered pod pairs. */
export interface NamespaceCounts {
  readonly namespaces: readonly string[];
  /** Pods per namespace, in the order of `namespaces`. */
  readonly pods: readonly number[];
  /** Non-zero cells: [source namespace index, destination namespace index, allowed pairs]. */
  readonly cells: readonly (readonly [number, number, number])[];
}

const NO_GROUPS: ReadonlySet<number> = new Set();
const NO_RULES: readonly RuleRec[] = Object.freeze([]);

const EGRESS = 0;
const INGRESS = 1;
type Dir = typeof EGRESS | typeof INGRESS;

/**
 * A policy change corrects cached counts by the rows and columns of the classes it selects, unless
 * those are so many that counting again is cheaper: more than this many (row x column) class pairs per
 * class of the cluster, or more than MAX_TOUCHED_CLASSES classes.
 */
const CROSS_PAIRS_PER_CLASS = 4;
const MAX_TOUCHED_CLASSES = 20_000;

interface NsRec {
  readonly id: number;
  readonly name: string;
  readonly labels: Labels;
  readonly classes: number[];
  /** Pod peers scoped to this namespace (`podSelector` without `namespaceSelector`). */
  readonly ownPeers: number[];
  /** Namespace selectors (ids) that match this namespace. */
  readonly nsSels: number[];
  /** Subject selectors of this namespace's policies. */
  readonly subjSels: number[];
  /** Those selectors, and the own peers, by selector id (see `selId`; -1: no podSelector). */
  readonly subjBySel: Map<number, number>;
  readonly ownPeerBySel: Map<number, number>;
}

interface ClassRec {
  readonly id: number;
  readonly ns: number;
  readonly labels: Labels;
  readonly labelsKey: string;
  readonly profile: PortProfile;
  sig: number;
  key: string;
  weight: number;
  readonly pods: Set<PodInfo>;
  /** Ids of the peers that match this class, ascending. */
  peers: number[];
  /** Subject selectors (of policies in the class's namespace) that match it, ascending. */
  readonly subj: number[];
  /** Egress and ingress group ids. */
  readonly group: [number, number];
}

interface PeerRec {
  readonly id: number;
  readonly kind: 'pods' | 'ipBlock';
  /** Namespace of a `podSelector`-only peer, else -1. */
  readonly ownNs: number;
  /** Namespace selector id, else -1. */
  readonly nsSel: number;
  readonly podSel: Selector | undefined;
  readonly addresses: AddressSet | undefined;
  readonly members: number[];
  /** Groups (egress, ingress) whose table names this peer (created when first needed). */
  readonly inGroups: [Set<number> | undefined, Set<number> | undefined];
}

interface NsSelRec {
  readonly id: number;
  readonly sel: Selector;
  readonly namespaces: number[];
  readonly peers: number[];
  /** Its peers by pod selector id (-1: no podSelector). */
  readonly peerBySel: Map<number, number>;
}

interface SubjRec {
  readonly id: number;
  readonly ns: number;
  readonly sel: Selector;
  readonly members: number[];
  /** Its policies (a policy is in one subject's list once). */
  readonly policies: PolicyRec[];
  /** Number of policies on this selector affecting egress, ingress. */
  readonly count: [number, number];
  /** Groups whose key contains this selector. */
  readonly groups: Set<number>;
}

interface RuleRec {
  readonly peers: readonly number[] | undefined;
  readonly ports: readonly PortSpec[] | undefined;
}

interface PolicyRec {
  readonly info: PolicyInfo;
  readonly subj: number;
  readonly affects: readonly [boolean, boolean];
  readonly rules: readonly [readonly RuleRec[], readonly RuleRec[]];
}

interface Cell {
  w: number;
  readonly classes: Set<number>;
}

interface GroupRec {
  readonly id: number;
  readonly dir: Dir;
  readonly key: string;
  readonly sels: readonly number[];
  /** Some policy selects the members for this direction. */
  readonly isolated: boolean;
  table: Map<number, PortAgg>;
  /** The table's entries as two lists (peer, ports), for the dense count; built when it first needs them. */
  tablePeers: number[] | undefined;
  tableAggs: PortAgg[] | undefined;
  /** Ports of the rules without peers ("matches all sources/destinations"). */
  any: PortAgg | undefined;
  /** Some entry names a port (so what the table admits depends on the destination's profile). */
  named: boolean;
  readonly members: Set<number>;
  weight: number;
  /** Members by port profile (id): the cells. */
  readonly byProfile: Map<number, Cell>;
}

interface ProbeCache {
  readonly probe: ScaleProbe;
  count: number;
  dirty: boolean;
  /** Open ends for this probe, kept across changes (see OpenCache). */
  open: OpenCache;
}

/**
 * For one probe and each destination profile: the ingress groups that admit every source ("open
 * destinations") and the egress groups that reach every destination ("open sources"), with their
 * total weight. Kept by the engine across changes: pods joining or leaving a group adjust the weights; a
 * group whose rules change, or a new group, is put in or out.
 */
interface OpenCache {
  readonly dest: Map<number, { w: number; cells: Set<number> }>;
  readonly src: Map<number, { w: number; groups: Set<number> }>;
  /** What each group's table admits, by group id then profile id; dropped for a group whose table changes. */
  readonly admit: ((AdmitSet | undefined)[] | undefined)[];
  /** Profile-independent answers (numeric probe, no named ports in the table), by group id. */
  readonly shared: (AdmitSet | undefined)[];
}

function newOpenCache(): OpenCache {
  return { dest: new Map(), src: new Map(), admit: [], shared: [] };
}

function labelsKeyOf(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  let s = '';
  for (const k of keys) s += `${k}\u0000${labels[k] as string}\u0001`;
  return s;
}

function parseIPs(pod: PodInfo): IP[] {
  const out: IP[] = [];
  for (const t of pod.ips) {
    const ip = parseIP(t);
    if (ip) out.push(ip);
  }
  return out;
}

/** Is some element of the ascending list `list` in `set`? */
function meets(list: readonly number[], set: ReadonlySet<number>): boolean {
  if (set.size === 0) return false;
  if (list.length <= set.size * 4) {
    for (const x of list) if (set.has(x)) return true;
    return false;
  }
  for (const x of set) if (has(list, x)) return true;
  return false;
}

/** Binary search in an ascending list. */
function has(list: readonly number[], x: number): boolean {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = list[mid] as number;
    if (v < x) lo = mid + 1;
    else if (v > x) hi = mid - 1;
    else return true;
  }
  return false;
}

function probeKey(p: ScaleProbe): string {
  return `${p.protocol}/${typeof p.port === 'number' ? p.port : `name:${p.port}`}`;
}

export class ScaleEngine {
  private readonly nss: NsRec[] = [];
  private readonly nsByName = new Map<string, number>();
  private readonly nsIndex = new LabelIndex();
  private readonly classes: ClassRec[] = [];
  private readonly classByKey = new Map<string, number>();
  private readonly classIndex = new LabelIndex();
  private readonly peers: PeerRec[] = [];
  /** ipBlock peers by their canonical intervals. */
  private readonly peerByKey = new Map<string, number>();
  private readonly ipPeers: number[] = [];
  /** ipBlock peers by their text (`cidr` and `except`), before the set comparison. */
  private readonly ipPeerByText = new Map<string, number>();
  /** ipBlock peers by address set object (a normalizer shares the set of equal ipBlocks). */
  private readonly ipPeerBySet = new WeakMap<AddressSet, number>();
  /** Selector ids: equal selectors (same `selectorKey`) get the same id; remembered per object. */
  private readonly selIds = new WeakMap<Selector, number>();
  private readonly selIdByKey = new Map<string, number>();
  private readonly nsSels: NsSelRec[] = [];
  private readonly nsSelBySel = new Map<number, number>();
  private readonly subjs: SubjRec[] = [];
  /** Policies by namespace, then name. */
  private readonly policies = new Map<string, Map<string, PolicyRec>>();
  private policyCount = 0;
  /** Policies attached and not yet in `policies` (indexed by name when first needed). */
  private unindexed: PolicyRec[] = [];
  private readonly groups: GroupRec[] = [];
  private readonly groupByKey: [Map<string, number>, Map<string, number>] = [new Map(), new Map()];
  /** Groups with a rule that has no peers, per direction. */
  private readonly anyGroups: [Set<number>, Set<number>] = [new Set(), new Set()];
  private readonly profiles: PortProfile[] = [];
  private readonly profileByKey = new Map<string, PortProfile>();
  /** Profiles by the named ports as listed (order and duplicates kept): skips building the key. */
  private readonly profileByRaw = new Map<string, PortProfile>();
  private readonly sigs: number[][] = [[]];
  private readonly sigByKey = new Map<string, number>([['', 0]]);
  private readonly podClass = new Map<PodInfo, number>();
  private readonly podIPs = new Map<PodInfo, IP[]>();
  /** Built on the first lookup by name, then kept up to date. */
  private podByKey: Map<string, PodInfo> | undefined;
  /** Keys (`ns/name`) shared by more than one loaded pod. */
  private readonly sharedKeys = new Set<string>();
  private ipIndex: IpIndex<PodInfo> = new IpIndex();
  private readonly caches = new Map<string, ProbeCache>();
  private readonly scratch: number[] = [];
  private building = true;
  /** See {@link ScaleOptions.strategy}. */
  readonly strategy: Strategy;
  private readonly progress: Progress | undefined;
  /** The non-isolated groups. */
  private readonly open: [number, number];

  constructor(cluster: Cluster, opts: ScaleOptions = {}) {
    this.strategy = opts.strategy ?? 'auto';
    this.progress = opts.progress;
    this.open = [this.newGroup(EGRESS, []), this.newGroup(INGRESS, [])];
    for (const ns of cluster.namespaces.values()) this.internNs(ns.name, ns.labels);
    for (const p of cluster.pods) this.internNs(p.namespace);
    for (const p of cluster.policies) this.internNs(p.namespace);
    // Each phase is a method of its own: the optimiser compiles a loop's function whole, so one big
    // constructor would be compiled again for every loop it enters.
    if (opts.policies) this.attachNormalised(cluster, opts.policies);
    else this.attachAll(cluster.policies);
    const podSig = this.ipSignatures(cluster.pods);
    this.bareClasses(cluster.pods, podSig);
    this.fillPeers();
    this.fillSubjects();
    // Joining a group adds the class's weight to it.
    const tickGroups = ticker(this.progress, 'groups', this.classes.length);
    for (const c of this.classes) {
      this.regroup(c);
      tickGroups(c.id + 1);
    }
    this.building = false;
  }

  private attachNormalised(cluster: Cluster, normalised: readonly Policy[]): void {
    const infos = new Map(cluster.policies.map((p) => [`${p.namespace}/${p.name}`, p]));
    const tickPolicies = ticker(this.progress, 'policies', normalised.length);
    let done = 0;
    for (const norm of normalised) {
      tickPolicies(++done);
      const info = infos.get(norm.key) ?? { namespace: norm.ref.namespace, name: norm.ref.name, policy: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: norm.ref.name, namespace: norm.ref.namespace }, spec: { podSelector: {} } } };
      this.attachPolicy(this.policyRec(info, norm));
    }
  }

  private attachAll(policies: readonly PolicyInfo[]): void {
    // Identical selectors, ipBlocks and port lists (frequent) are compiled once and shared.
    const normalize = policyNormalizer();
    const tickPolicies = ticker(this.progress, 'policies', policies.length);
    let done = 0;
    for (const info of policies) {
      tickPolicies(++done);
      this.attachPolicy(this.policyRec(info, normalize(info)));
    }
  }

  /** Addresses, then the ipBlock peers each pod lies in, through the address index. */
  private ipSignatures(pods: readonly PodInfo[]): Map<PodInfo, number[]> {
    const entries: { item: PodInfo; ips: IP[] }[] = [];
    for (const pod of pods) {
      if (this.podClass.has(pod) || this.podIPs.has(pod)) continue;
      const ips = parseIPs(pod);
      this.podIPs.set(pod, ips);
      if (ips.length > 0) entries.push({ item: pod, ips });
    }
    this.ipIndex = IpIndex.of(entries);
    const podSig = new Map<PodInfo, number[]>();
    for (const q of this.ipPeers) {
      const addresses = this.peers[q]!.addresses!;
      const add = (pod: PodInfo): void => {
        const list = podSig.get(pod);
        if (!list) podSig.set(pod, [q]);
        else if (list[list.length - 1] !== q) list.push(q);
      };
      this.ipIndex.within(4, addresses.intervals(4), add);
      this.ipIndex.within(6, addresses.intervals(6), add);
    }
    return podSig;
  }

  /** Classes, bare (peers, selectors and groups come in bulk after). */
  private bareClasses(pods: readonly PodInfo[], podSig: ReadonlyMap<PodInfo, number[]>): void {
    const tickPods = ticker(this.progress, 'pods', pods.length);
    let done = 0;
    for (const pod of pods) {
      tickPods(++done);
      if (this.podClass.has(pod)) continue;
      const ns = this.nss[this.nsByName.get(pod.namespace)!]!;
      const c = this.classFor(ns, pod.labels, this.profileOf(pod), this.internSig(podSig.get(pod) ?? []));
      this.podClass.set(pod, c.id);
      c.pods.add(pod);
      c.weight++;
    }
  }

  /** The member classes of every peer, and the peers of every class. */
  private fillPeers(): void {
    const ipMembers = new Map<number, number[]>();
    for (const c of this.classes) {
      for (const q of this.sigs[c.sig]!) {
        const list = ipMembers.get(q);
        if (list) list.push(c.id);
        else ipMembers.set(q, [c.id]);
      }
    }
    const tickPeers = ticker(this.progress, 'peers', this.peers.length);
    for (const p of this.peers) {
      tickPeers(p.id + 1);
      const members = p.kind === 'ipBlock' ? (ipMembers.get(p.id) ?? []) : this.selectPeerMembers(p);
      for (const c of members) {
        p.members.push(c);
        this.classes[c]!.peers.push(p.id);
      }
    }
  }

  private fillSubjects(): void {
    for (const s of this.subjs) {
      for (const c of this.selectSubjMembers(s)) {
        s.members.push(c);
        this.classes[c]!.subj.push(s.id);
      }
    }
  }

  // --- public: questions ----------------------------------------------------------------------------

  get stats(): ScaleStats {
    this.indexPolicies();
    let classes = 0;
    for (const c of this.classes) if (c.weight > 0) classes++;
    let eg = 0;
    let ig = 0;
    for (const g of this.groups) {
      if (g.weight === 0 || !g.isolated) continue;
      if (g.dir === EGRESS) eg++;
      else ig++;
    }
    return {
      namespaces: this.nss.length,
      pods: this.podClass.size,
      policies: this.policyCount,
      classes,
      peers: this.peers.length,
      egressGroups: eg,
      ingressGroups: ig,
      portProfiles: this.profiles.length,
    };
  }

  /** The pod named `ns/name`, if loaded. */
  pod(key: string): PodInfo | undefined {
    if (!this.podByKey) {
      this.podByKey = new Map();
      for (const p of this.podClass.keys()) this.indexKey(p);
    }
    return this.podByKey.get(key);
  }

  /** Every loaded pod (order unspecified). */
  pods(): IterableIterator<PodInfo> {
    return this.podClass.keys();
  }

  /** The class id of a pod: pods with the same id get the same verdicts from and to everyone. */
  classOf(pod: PodInfo): number | undefined {
    return this.podClass.get(pod);
  }

  /** May `source` open a connection to `destination` on the probe's port? Both must be loaded pods. */
  allows(source: PodInfo, destination: PodInfo, probe: ScaleProbe): boolean {
    // "Traffic from a pod to itself never leaves the pod and is always allowed."
    if (source === destination) return true;
    return this.classAllows(this.classRec(source), this.classRec(destination), probe.protocol, probe.port);
  }

  /** The ports of `protocol` on which `source` may connect to `destination`. */
  admittedPorts(source: PodInfo, destination: PodInfo, protocol: Protocol): PortSet {
    if (source === destination) return PortSet.ALL;
    const s = this.classRec(source);
    const d = this.classRec(destination);
    let set = PortSet.ALL;
    const e = this.groups[s.group[EGRESS]]!;
    if (e.isolated) set = set.intersect(this.sidePorts(e, d.peers, d.profile, protocol));
    const i = this.groups[d.group[INGRESS]]!;
    if (i.isolated && !set.isEmpty()) set = set.intersect(this.sidePorts(i, s.peers, d.profile, protocol));
    return set;
  }

  /**
   * The verdict for any traffic the engine answers (`Engine.allows`): pods or addresses outside the
   * cluster at either end, a numbered or named port, or no port ("any port").
   */
  allowsTraffic(t: Traffic): boolean {
    const s = t.source.kind === 'pod' ? this.classRec(t.source.pod) : undefined;
    const d = t.destination.kind === 'pod' ? this.classRec(t.destination.pod) : undefined;
    if (t.source.kind === 'pod' && t.destination.kind === 'pod' && t.source.pod === t.destination.pod) return true;
    const profile = d?.profile ?? NO_PORTS;
    if (t.port === undefined) {
      let set = PortSet.ALL;
      if (s) {
        const e = this.groups[s.group[EGRESS]]!;
        if (e.isolated) set = set.intersect(this.sidePortsFor(e, t.destination, d, profile, t.protocol));
      }
      if (d && !set.isEmpty()) {
        const i = this.groups[d.group[INGRESS]]!;
        if (i.isolated) set = set.intersect(this.sidePortsFor(i, t.source, s, profile, t.protocol));
      }
      return !set.isEmpty();
    }
    if (s) {
      const e = this.groups[s.group[EGRESS]]!;
      if (e.isolated && !this.sideAdmitsFor(e, t.destination, d, profile, t.protocol, t.port)) return false;
    }
    if (d) {
      const i = this.groups[d.group[INGRESS]]!;
      if (i.isolated && !this.sideAdmitsFor(i, t.source, s, profile, t.protocol, t.port)) return false;
    }
    return true;
  }

  /**
   * The exact number of ordered pairs of distinct pods (a, b) such that a may connect to b on the
   * probe. Cached per probe and kept up to date across changes.
   */
  allowedPairs(probe: ScaleProbe): number {
    const key = probeKey(probe);
    let cache = this.caches.get(key);
    if (!cache) {
      cache = { probe, count: 0, dirty: true, open: newOpenCache() };
      this.caches.set(key, cache);
    }
    if (cache.dirty) {
      cache.count = this.countAll(probe, cache.open);
      cache.dirty = false;
    }
    return cache.count;
  }

  /** How many other pods `pod` may connect to on the probe. */
  reachableCount(pod: PodInfo, probe: ScaleProbe): number {
    const c = this.classRec(pod);
    const ev = new Eval(this, probe);
    return ev.row(c) - (this.classAllows(c, c, probe.protocol, probe.port) ? 1 : 0);
  }

  /** How many other pods may connect to `pod` on the probe. */
  reachingCount(pod: PodInfo, probe: ScaleProbe): number {
    const c = this.classRec(pod);
    const ev = new Eval(this, probe);
    return ev.col(c) - (this.classAllows(c, c, probe.protocol, probe.port) ? 1 : 0);
  }

  /** The pods `pod` may connect to on the probe (itself excluded). */
  destinations(pod: PodInfo, probe: ScaleProbe): PodInfo[] {
    const s = this.classRec(pod);
    return this.podsOf((d) => this.classAllows(s, d, probe.protocol, probe.port), pod);
  }

  /** The pods that may connect to `pod` on the probe (itself excluded). */
  sources(pod: PodInfo, probe: ScaleProbe): PodInfo[] {
    const d = this.classRec(pod);
    return this.podsOf((s) => this.classAllows(s, d, probe.protocol, probe.port), pod);
  }

  /** The pods, except `but`, of the classes with pods for which `test` holds. */
  private podsOf(test: (c: ClassRec) => boolean, but: PodInfo): PodInfo[] {
    const out: PodInfo[] = [];
    for (const c of this.classes) {
      if (c.weight === 0 || !test(c)) continue;
      for (const p of c.pods) if (p !== but) out.push(p);
    }
    return out;
  }

  /**
   * Allowed pairs aggregated by source and destination namespace (self pairs excluded): the table a
   * large cluster prints instead of 100,000 columns.
   */
  namespaceCounts(probe: ScaleProbe): NamespaceCounts {
    const cells = new Map<number, number>();
    const n = this.nss.length;
    new Eval(this, probe).sweep(true, (a, b, v) => {
      if (v === 0) return;
      const k = a * n + b;
      cells.set(k, (cells.get(k) ?? 0) + v);
    });
    const pods = this.nss.map((ns) => ns.classes.reduce((sum, c) => sum + this.classes[c]!.weight, 0));
    const out: [number, number, number][] = [];
    for (const [k, v] of cells) if (v !== 0) out.push([Math.floor(k / n), k % n, v]);
    out.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    return { namespaces: this.nss.map((ns) => ns.name), pods, cells: out };
  }

  // --- public: changes ------------------------------------------------------------------------------

  apply(change: ClusterChange): void {
    switch (change.kind) {
      case 'addPod':
        this.addPod(change.pod);
        break;
      case 'removePod':
        this.removePod(change.pod);
        break;
      case 'setPodLabels':
        this.setPodLabels(change.pod, change.labels);
        break;
      case 'replacePod':
        this.replacePod(change.pod, change.next);
        break;
      case 'upsertPolicy':
        this.upsertPolicy(change.policy);
        break;
      case 'removePolicy':
        this.removePolicy(change.namespace, change.name);
        break;
    }
  }

  /** Adds a pod (a pod already loaded is left alone). Its namespace is created, unlabelled, if unknown. */
  addPod(pod: PodInfo): void {
    if (this.podClass.has(pod)) return;
    const ns = this.nss[this.internNs(pod.namespace)]!;
    const ips = parseIPs(pod);
    const sig: number[] = [];
    for (const q of this.ipPeers) {
      const a = this.peers[q]!.addresses!;
      if (ips.some((ip) => a.contains(ip))) sig.push(q);
    }
    const c = this.classFor(ns, pod.labels, this.profileOf(pod), this.internSig(sig));
    this.podIPs.set(pod, ips);
    this.ipIndex.insert(pod, ips);
    this.podClass.set(pod, c.id);
    c.pods.add(pod);
    this.attachWeight(c, 1);
    this.indexKey(pod);
    this.countPod(c, 1);
  }

  /**
   * Corrects the cached counts for one pod of class `c` arriving (+1, call after adding it) or leaving
   * (-1, call before removing it): its row and column, its self pair counted in neither; or marks them
   * for a recount when that is cheaper.
   */
  private countPod(c: ClassRec, sign: 1 | -1): void {
    const recount = this.denseCheaper([c.id], [c.id]);
    for (const cache of this.caches.values()) {
      if (cache.dirty) continue;
      if (recount) {
        cache.dirty = true;
        continue;
      }
      const ev = new Eval(this, cache.probe, cache.open);
      cache.count += sign * (ev.row(c) + ev.col(c) - (this.classAllows(c, c, cache.probe.protocol, cache.probe.port) ? 2 : 0));
    }
  }

  /** Removes a pod; false when it was not loaded. */
  removePod(pod: PodInfo): boolean {
    const id = this.podClass.get(pod);
    if (id === undefined) return false;
    const c = this.classes[id]!;
    this.countPod(c, -1);
    c.pods.delete(pod);
    this.attachWeight(c, -1);
    this.podClass.delete(pod);
    this.ipIndex.remove(pod, this.podIPs.get(pod) ?? []);
    this.podIPs.delete(pod);
    const key = podKey(pod);
    if (this.podByKey && this.podByKey.get(key) === pod) {
      this.podByKey.delete(key);
      if (this.sharedKeys.has(key)) {
        this.sharedKeys.delete(key);
        for (const other of this.podClass.keys()) if (podKey(other) === key) this.indexKey(other);
      }
    }
    return true;
  }

  private indexKey(pod: PodInfo): void {
    if (!this.podByKey) return;
    const key = podKey(pod);
    if (!this.podByKey.has(key)) this.podByKey.set(key, pod);
    else if (this.podByKey.get(key) !== pod) this.sharedKeys.add(key);
  }

  /** Replaces a pod's labels; returns the pod as now loaded (a new object). */
  setPodLabels(pod: PodInfo, labels: Labels): PodInfo {
    const next: PodInfo = { ...pod, labels: { ...labels } };
    this.replacePod(pod, next);
    return next;
  }

  /** `next` takes the place of `pod` (a changed pod: labels, ports or addresses); false when `pod` was not loaded. */
  replacePod(pod: PodInfo, next: PodInfo): boolean {
    if (!this.removePod(pod)) return false;
    this.addPod(next);
    return true;
  }

  /** Adds a policy, or replaces the one with the same namespace and name. It must be valid. */
  upsertPolicy(info: PolicyInfo, norm: Policy = normalizePolicy(info)): void {
    this.changePolicy(this.policyNamed(info.namespace, info.name), info, norm);
  }

  /** Removes a policy; false when there is none by that name. */
  removePolicy(namespace: string, name: string): boolean {
    const old = this.policyNamed(namespace, name);
    if (!old) return false;
    this.changePolicy(old, undefined, undefined);
    return true;
  }

  // --- verdicts ------------------------------------------------------------------------------------

  private classRec(pod: PodInfo): ClassRec {
    const id = this.podClass.get(pod);
    if (id === undefined) throw new Error(`pod ${podKey(pod)} is not loaded in this engine`);
    return this.classes[id]!;
  }

  /** @internal Class-level verdict (two distinct pods of these classes). */
  classAllows(s: ClassRec, d: ClassRec, protocol: Protocol, port: number | string): boolean {
    const e = this.groups[s.group[EGRESS]]!;
    if (e.isolated && !sideAdmits(e, d.peers, d.profile, protocol, port)) return false;
    const i = this.groups[d.group[INGRESS]]!;
    if (i.isolated && !sideAdmits(i, s.peers, d.profile, protocol, port)) return false;
    return true;
  }

  private sidePorts(g: GroupRec, other: readonly number[], profile: PortProfile, protocol: Protocol): PortSet {
    let set = g.any ? g.any.admitted(protocol, profile) : PortSet.EMPTY;
    for (const q of other) {
      if (set.isAll()) break;
      const agg = g.table.get(q);
      if (agg) set = set.union(agg.admitted(protocol, profile));
    }
    return set;
  }

  /** The peers of the far end: a class's list, or (for an address) the ipBlock peers of the table containing it. */
  private farPeers(g: GroupRec, far: Endpoint, cls: ClassRec | undefined): number[] {
    if (cls) return cls.peers;
    if (far.kind !== 'external') return [];
    const out: number[] = [];
    for (const q of g.table.keys()) {
      const p = this.peers[q]!;
      if (p.kind === 'ipBlock' && p.addresses!.contains(far.ip)) out.push(q);
    }
    return out.sort((a, b) => a - b);
  }

  private sideAdmitsFor(g: GroupRec, far: Endpoint, cls: ClassRec | undefined, profile: PortProfile, protocol: Protocol, port: number | string): boolean {
    return sideAdmits(g, this.farPeers(g, far, cls), profile, protocol, port);
  }

  private sidePortsFor(g: GroupRec, far: Endpoint, cls: ClassRec | undefined, profile: PortProfile, protocol: Protocol): PortSet {
    return this.sidePorts(g, this.farPeers(g, far, cls), profile, protocol);
  }

  private countAll(probe: ScaleProbe, open?: OpenCache): number {
    if (this.usesDense()) {
      const tick = ticker(this.progress, 'count', this.groups.length);
      const groups: DenseGroup[] = [];
      for (const g of this.groups) {
        if (g.tablePeers === undefined || g.tableAggs === undefined) {
          g.tablePeers = [...g.table.keys()];
          g.tableAggs = [...g.table.values()];
        }
        groups.push(g as DenseGroup);
      }
      return denseAllowedPairs({ classes: this.classes, groups, peers: this.peers, profiles: this.profiles }, probe.protocol, probe.port, tick);
    }
    let total = 0;
    new Eval(this, probe, open, this.progress).sweep(false, (_s, _d, v) => {
      total += v;
    });
    return total;
  }

  // --- structure: namespaces, profiles, signatures, classes --------------------------------------------

  private internNs(name: string, labels?: Labels): number {
    const known = this.nsByName.get(name);
    if (known !== undefined) return known;
    const id = this.nss.length;
    const rec: NsRec = {
      id,
      name,
      labels: labels ?? { [NAMESPACE_NAME_LABEL]: name },
      classes: [],
      ownPeers: [],
      nsSels: [],
      subjSels: [],
      subjBySel: new Map(),
      ownPeerBySel: new Map(),
    };
    this.nss.push(rec);
    this.nsByName.set(name, id);
    this.nsIndex.add(id, rec.labels);
    for (const s of this.nsSels) {
      if (matches(s.sel, rec.labels)) {
        s.namespaces.push(id);
        rec.nsSels.push(s.id);
      }
    }
    return id;
  }

  private profileOf(pod: PodInfo): PortProfile {
    let raw = '';
    for (const p of pod.ports) if (p.name) raw += `${p.protocol}/${p.name}=${p.port},`;
    const seen = this.profileByRaw.get(raw);
    if (seen) return seen;
    const p = this.internProfile(pod);
    this.profileByRaw.set(raw, p);
    return p;
  }

  private internProfile(pod: PodInfo): PortProfile {
    const { key, byName } = PortProfile.keyOf(pod.ports);
    let p = this.profileByKey.get(key);
    if (!p) {
      p = new PortProfile(this.profiles.length, key, byName);
      this.profiles.push(p);
      this.profileByKey.set(key, p);
    }
    return p;
  }

  private internSig(list: readonly number[]): number {
    const key = list.join(',');
    let id = this.sigByKey.get(key);
    if (id === undefined) {
      id = this.sigs.length;
      this.sigs.push([...list]);
      this.sigByKey.set(key, id);
    }
    return id;
  }

  private classKey(ns: number, labelsKey: string, profile: PortProfile, sig: number): string {
    return `${ns}\u0002${labelsKey}\u0002${profile.id}\u0002${sig}`;
  }

  /** The class for these attributes, created (with its peers, selectors and groups) if new. */
  private classFor(ns: NsRec, labels: Labels, profile: PortProfile, sig: number): ClassRec {
    const labelsKey = labelsKeyOf(labels);
    const key = this.classKey(ns.id, labelsKey, profile, sig);
    const known = this.classByKey.get(key);
    if (known !== undefined) return this.classes[known]!;
    const c: ClassRec = {
      id: this.classes.length,
      ns: ns.id,
      labels,
      labelsKey,
      profile,
      sig,
      key,
      weight: 0,
      pods: new Set(),
      peers: [],
      subj: [],
      group: [-1, -1],
    };
    this.classes.push(c);
    this.classByKey.set(key, c.id);
    ns.classes.push(c.id);
    this.classIndex.add(c.id, labels);
    if (this.building) return c;

    const peers: number[] = [...this.sigs[sig]!];
    const test = (q: number): void => {
      const p = this.peers[q]!;
      if (p.podSel === undefined || matches(p.podSel, labels)) peers.push(q);
    };
    for (const q of ns.ownPeers) test(q);
    for (const s of ns.nsSels) for (const q of this.nsSels[s]!.peers) test(q);
    peers.sort((a, b) => a - b);
    c.peers = peers;
    for (const q of peers) this.peers[q]!.members.push(c.id);
    for (const s of ns.subjSels) {
      const rec = this.subjs[s]!;
      if (matches(rec.sel, labels)) {
        c.subj.push(s);
        rec.members.push(c.id);
      }
    }
    this.regroup(c);
    return c;
  }

  // --- structure: selectors and peers --------------------------------------------------------------

  /** The id of a selector: equal ones (same canonical text) share it. */
  private selId(sel: Selector): number {
    let id = this.selIds.get(sel);
    if (id === undefined) {
      const key = selectorKey(sel);
      id = this.selIdByKey.get(key);
      if (id === undefined) this.selIdByKey.set(key, (id = this.selIdByKey.size));
      this.selIds.set(sel, id);
    }
    return id;
  }

  private internNsSel(sel: Selector): number {
    const sid = this.selId(sel);
    const known = this.nsSelBySel.get(sid);
    if (known !== undefined) return known;
    const id = this.nsSels.length;
    let namespaces: number[];
    if (sel.requirements.length === 0) {
      namespaces = [];
      for (let n = 0; n < this.nss.length; n++) namespaces.push(n);
    } else {
      namespaces = selectIn(sel, this.nsIndex, this.nss.map((n) => n.id), () => true, (n) => this.nss[n]!.labels);
    }
    this.nsSels.push({ id, sel, namespaces, peers: [], peerBySel: new Map() });
    this.nsSelBySel.set(sid, id);
    for (const n of namespaces) this.nss[n]!.nsSels.push(id);
    return id;
  }

  private internSubj(ns: number, sel: Selector): number {
    const sid = this.selId(sel);
    const nsRec = this.nss[ns]!;
    const known = nsRec.subjBySel.get(sid);
    if (known !== undefined) return known;
    const rec: SubjRec = { id: this.subjs.length, ns, sel, members: [], policies: [], count: [0, 0], groups: new Set() };
    this.subjs.push(rec);
    nsRec.subjBySel.set(sid, rec.id);
    nsRec.subjSels.push(rec.id);
    if (!this.building) {
      for (const c of this.selectSubjMembers(rec)) {
        rec.members.push(c);
        this.classes[c]!.subj.push(rec.id); // the newest selector: the list stays ascending
      }
    }
    return rec.id;
  }

  private selectSubjMembers(s: SubjRec): number[] {
    const ns = this.nss[s.ns]!;
    return selectIn(s.sel, this.classIndex, ns.classes, (c) => this.classes[c]!.ns === ns.id, (c) => this.classes[c]!.labels);
  }

  private selectPeerMembers(p: PeerRec): number[] {
    const labelsOf = (c: number): Labels => this.classes[c]!.labels;
    const sel = p.podSel ?? EVERYTHING;
    if (p.ownNs >= 0) {
      const ns = this.nss[p.ownNs]!;
      return selectIn(sel, this.classIndex, ns.classes, (c) => this.classes[c]!.ns === ns.id, labelsOf);
    }
    const namespaces = this.nsSels[p.nsSel]!.namespaces;
    const out: number[] = [];
    if (sel.requirements.length === 0) {
      for (const n of namespaces) out.push(...this.nss[n]!.classes);
      return out;
    }
    let total = 0;
    for (const n of namespaces) total += this.nss[n]!.classes.length;
    const cand = this.classIndex.candidates(sel, total);
    if (cand !== undefined) {
      const inNs = new Set(namespaces);
      for (const c of cand) if (inNs.has(this.classes[c]!.ns) && matches(sel, labelsOf(c))) out.push(c);
    } else {
      for (const n of namespaces) for (const c of this.nss[n]!.classes) if (matches(sel, labelsOf(c))) out.push(c);
    }
    return out;
  }

  private internPeer(peer: Peer, ownNs: number): number {
    let ownNsId = -1;
    let nsSel = -1;
    let key: string | undefined;
    let bySel: Map<number, number> | undefined;
    let sid = -1;
    if (peer.kind === 'ipBlock') {
      // The same set object (a normalizer shares them) or the same text: the same peer (the common
      // cases, cheap); else the set's canonical intervals decide.
      const bySet = this.ipPeerBySet.get(peer.addresses);
      if (bySet !== undefined) return bySet;
      const text = `${peer.cidr}\u0002${peer.except.join('\u0002')}`;
      const byText = this.ipPeerByText.get(text);
      if (byText !== undefined) {
        this.ipPeerBySet.set(peer.addresses, byText);
        return byText;
      }
      key = `B${[4, 6].map((f) => peer.addresses.intervals(f as 4 | 6).map(([lo, hi]) => `${lo.toString(16)}-${hi.toString(16)}`).join(',')).join('/')}`;
      const known = this.peerByKey.get(key);
      this.ipPeerByText.set(text, known ?? this.peers.length);
      this.ipPeerBySet.set(peer.addresses, known ?? this.peers.length);
      if (known !== undefined) return known;
    } else {
      sid = peer.pods ? this.selId(peer.pods) : -1;
      if (peer.namespaces.kind === 'own') {
        ownNsId = ownNs;
        bySel = this.nss[ownNs]!.ownPeerBySel;
      } else {
        nsSel = this.internNsSel(peer.namespaces.selector);
        bySel = this.nsSels[nsSel]!.peerBySel;
      }
      const known = bySel.get(sid);
      if (known !== undefined) return known;
    }
    const rec: PeerRec = {
      id: this.peers.length,
      kind: peer.kind,
      ownNs: ownNsId,
      nsSel,
      podSel: peer.kind === 'pods' ? peer.pods : undefined,
      addresses: peer.kind === 'ipBlock' ? peer.addresses : undefined,
      members: [],
      inGroups: [undefined, undefined],
    };
    this.peers.push(rec);
    if (key !== undefined) this.peerByKey.set(key, rec.id);
    else bySel!.set(sid, rec.id);
    if (rec.kind === 'ipBlock') this.ipPeers.push(rec.id);
    else if (ownNsId >= 0) this.nss[ownNsId]!.ownPeers.push(rec.id);
    else this.nsSels[nsSel]!.peers.push(rec.id);
    if (this.building) return rec.id;

    if (rec.kind === 'pods') {
      for (const c of this.selectPeerMembers(rec)) {
        rec.members.push(c);
        this.classes[c]!.peers.push(rec.id); // the newest peer: the list stays ascending
      }
    } else {
      this.splitByBlock(rec);
    }
    return rec.id;
  }

  /**
   * A new ipBlock peer: the classes whose pods all lie in it take it into their signature; classes
   * with pods on both sides split, the pods inside moving to a class whose signature has it.
   */
  private splitByBlock(rec: PeerRec): void {
    const inside = new Map<number, Set<PodInfo>>();
    const add = (pod: PodInfo): void => {
      const c = this.podClass.get(pod);
      if (c === undefined) return;
      let set = inside.get(c);
      if (!set) inside.set(c, (set = new Set()));
      set.add(pod);
    };
    this.ipIndex.within(4, rec.addresses!.intervals(4), add);
    this.ipIndex.within(6, rec.addresses!.intervals(6), add);
    for (const [id, pods] of [...inside.entries()].sort((a, b) => a[0] - b[0])) {
      const c = this.classes[id]!;
      const sig = this.internSig([...this.sigs[c.sig]!, rec.id]);
      if (pods.size === c.weight) {
        this.classByKey.delete(c.key);
        c.sig = sig;
        c.key = this.classKey(c.ns, c.labelsKey, c.profile, sig);
        this.classByKey.set(c.key, c.id);
        c.peers.push(rec.id);
        rec.members.push(c.id);
      } else {
        const target = this.classFor(this.nss[c.ns]!, c.labels, c.profile, sig);
        for (const pod of pods) {
          c.pods.delete(pod);
          this.attachWeight(c, -1);
          target.pods.add(pod);
          this.attachWeight(target, 1);
          this.podClass.set(pod, target.id);
        }
      }
    }
  }

  // --- structure: policies and groups --------------------------------------------------------------

  private policyRec(info: PolicyInfo, norm: Policy): PolicyRec {
    const ns = this.internNs(info.namespace);
    const subj = this.internSubj(ns, norm.subject);
    return { info, subj, affects: [norm.egress, norm.ingress], rules: [this.ruleRecs(norm.egressRules, ns), this.ruleRecs(norm.ingressRules, ns)] };
  }

  /** A policy's rules of one direction, peers interned. (Lists of their exact size: they stay in memory.) */
  private ruleRecs(list: Policy['ingressRules'], ns: number): readonly RuleRec[] {
    if (list.length === 0) return NO_RULES;
    const out = new Array<RuleRec>(list.length);
    const scratch = this.scratch;
    for (let i = 0; i < list.length; i++) {
      const r = list[i]!;
      let peers: number[] | undefined;
      if (r.peers) {
        scratch.length = 0;
        for (const p of r.peers) {
          const q = this.internPeer(p, ns);
          if (!scratch.includes(q)) scratch.push(q);
        }
        peers = scratch.slice();
      }
      out[i] = { peers, ports: r.ports };
    }
    return out;
  }

  private policyNamed(namespace: string, name: string): PolicyRec | undefined {
    this.indexPolicies();
    return this.policies.get(namespace)?.get(name);
  }

  /** Puts the policies attached so far in the index by name (a later one of the same name wins). */
  private indexPolicies(): void {
    if (this.unindexed.length === 0) return;
    for (const p of this.unindexed) {
      let byName = this.policies.get(p.info.namespace);
      if (!byName) this.policies.set(p.info.namespace, (byName = new Map()));
      if (!byName.has(p.info.name)) this.policyCount++;
      byName.set(p.info.name, p);
    }
    this.unindexed = [];
  }

  private attachPolicy(p: PolicyRec): void {
    this.unindexed.push(p);
    const s = this.subjs[p.subj]!;
    s.policies.push(p);
    if (p.affects[EGRESS]) s.count[EGRESS]++;
    if (p.affects[INGRESS]) s.count[INGRESS]++;
  }

  private detachPolicy(p: PolicyRec): void {
    this.indexPolicies();
    if (this.policies.get(p.info.namespace)?.delete(p.info.name)) this.policyCount--;
    const s = this.subjs[p.subj]!;
    const at = s.policies.indexOf(p);
    if (at >= 0) s.policies.splice(at, 1);
    if (p.affects[EGRESS]) s.count[EGRESS]--;
    if (p.affects[INGRESS]) s.count[INGRESS]--;
  }

  private changePolicy(old: PolicyRec | undefined, info: PolicyInfo | undefined, norm: Policy | undefined): void {
    const ns = info ? this.internNs(info.namespace) : -1;
    const newSubj = info && norm ? this.internSubj(ns, norm.subject) : undefined;
    // Every class the policy selects (before or after), pods or not: an empty class must be regrouped
    // too, since a pod added later joins it as it stands.
    const touched = (): number[] => {
      const set = new Set<number>();
      if (old) for (const c of this.subjs[old.subj]!.members) set.add(c);
      if (newSubj !== undefined) for (const c of this.subjs[newSubj]!.members) set.add(c);
      return [...set];
    };
    const populated = (list: number[]): number[] => list.filter((c) => this.classes[c]!.weight > 0);
    const egress = (old?.affects[EGRESS] ?? false) || (norm?.egress ?? false);
    const ingress = (old?.affects[INGRESS] ?? false) || (norm?.ingress ?? false);

    const before = populated(touched());
    const rows = egress ? before : [];
    const cols = ingress ? before : [];
    const pending: { cache: ProbeCache; old: number }[] = [];
    for (const cache of this.caches.values()) {
      if (cache.dirty) continue;
      if (this.recountCheaper(rows, cols)) {
        cache.dirty = true;
        continue;
      }
      pending.push({ cache, old: this.contribution(cache, rows, cols) });
    }

    const rec = info && norm ? this.policyRec(info, norm) : undefined;
    if (old) this.detachPolicy(old);
    if (rec) this.attachPolicy(rec);
    const stale = new Set<number>();
    if (old) for (const g of this.subjs[old.subj]!.groups) stale.add(g);
    if (newSubj !== undefined) for (const g of this.subjs[newSubj]!.groups) stale.add(g);
    for (const g of stale) this.buildTable(this.groups[g]!);
    const all = touched();
    for (const c of all) this.regroup(this.classes[c]!);
    const after = populated(all);

    const rowsAfter = egress ? after : [];
    const colsAfter = ingress ? after : [];
    for (const p of pending) {
      if (this.recountCheaper(rowsAfter, colsAfter)) {
        p.cache.dirty = true;
        continue;
      }
      p.cache.count += this.contribution(p.cache, rowsAfter, colsAfter) - p.old;
    }
  }

  private recountCheaper(rows: readonly number[], cols: readonly number[]): boolean {
    return rows.length * cols.length > CROSS_PAIRS_PER_CLASS * this.classes.length || rows.length + cols.length > MAX_TOUCHED_CLASSES || this.denseCheaper(rows, cols);
  }

  /** Whole counts use the dense matrices (see `ScaleOptions.strategy`). */
  private usesDense(): boolean {
    return this.strategy === 'dense' || (this.strategy === 'auto' && this.classes.length <= DENSE_MAX_CLASSES);
  }

  /**
   * With dense counts, is counting again cheaper than correcting the counts by these rows and
   * columns? A row walks the ingress groups naming the class's peers, a column the egress groups
   * (and the cells and classes behind them); a dense count costs about K x K / 32 words. Measured on
   * the realistic shape, a correction costs about as much as a dense count at a sixteenth of that.
   */
  private denseCheaper(rows: readonly number[], cols: readonly number[]): boolean {
    if (!this.usesDense()) return false;
    const k = this.classes.length;
    const budget = (k * ((k + 31) >>> 5)) / 16;
    let cost = 0;
    for (const s of rows) {
      for (const q of this.classes[s]!.peers) cost += this.peers[q]!.inGroups[INGRESS]?.size ?? 0;
      if (cost > budget) return true;
    }
    for (const d of cols) {
      for (const q of this.classes[d]!.peers) cost += this.peers[q]!.inGroups[EGRESS]?.size ?? 0;
      if (cost > budget) return true;
    }
    return false;
  }

  /**
   * Allowed pod pairs with a source class in `rows` or a destination class in `cols` (self pairs
   * excluded): what a change confined to those rows and columns can alter.
   */
  private contribution(cache: ProbeCache, rows: readonly number[], cols: readonly number[]): number {
    const probe = cache.probe;
    const ev = new Eval(this, probe, cache.open);
    let sum = 0;
    for (const s of rows) {
      const c = this.classes[s]!;
      sum += c.weight * ev.row(c);
    }
    for (const d of cols) {
      const c = this.classes[d]!;
      sum += c.weight * ev.col(c);
    }
    if (rows.length > 0 && cols.length > 0) {
      for (const s of rows) {
        const sc = this.classes[s]!;
        for (const d of cols) {
          const dc = this.classes[d]!;
          if (this.classAllows(sc, dc, probe.protocol, probe.port)) sum -= sc.weight * dc.weight;
        }
      }
    }
    const both = new Set([...rows, ...cols]);
    for (const id of both) {
      const c = this.classes[id]!;
      if (this.classAllows(c, c, probe.protocol, probe.port)) sum -= c.weight;
    }
    return sum;
  }

  private newGroup(dir: Dir, sels: readonly number[], key = sels.join(',')): number {
    const g: GroupRec = {
      id: this.groups.length,
      dir,
      key,
      sels,
      isolated: sels.length > 0,
      table: new Map(),
      tablePeers: undefined,
      tableAggs: undefined,
      any: undefined,
      named: false,
      members: new Set(),
      weight: 0,
      byProfile: new Map(),
    };
    this.groups.push(g);
    this.groupByKey[dir].set(key, g.id);
    for (const s of sels) this.subjs[s]!.groups.add(g.id);
    if (g.isolated) this.buildTable(g);
    else this.refreshOpen(g);
    return g.id;
  }

  /** Folds the rules of the group's policies into its table `peer -> ports`. */
  private buildTable(g: GroupRec): void {
    for (const q of g.table.keys()) this.peers[q]!.inGroups[g.dir]?.delete(g.id);
    const table = new Map<number, PortAgg>();
    let any: PortAgg | undefined;
    // An entry starts as the shared aggregate of its first rule's ports, copied if another rule adds.
    const add = (agg: PortAgg | undefined, ports: readonly PortSpec[] | undefined): PortAgg => {
      if (agg === undefined) return PortAgg.of(ports);
      if (agg.shared) return agg.with(ports);
      agg.addRule(ports);
      return agg;
    };
    for (const s of g.sels) {
      for (const p of this.subjs[s]!.policies) {
        if (!p.affects[g.dir]) continue;
        for (const rule of p.rules[g.dir]) {
          if (rule.peers === undefined) {
            any = add(any, rule.ports);
            continue;
          }
          for (const q of rule.peers) table.set(q, add(table.get(q), rule.ports));
        }
      }
    }
    g.table = table;
    g.any = any;
    let named = any?.named ?? false;
    for (const [q, agg] of table) {
      if (agg.named) named = true;
      (this.peers[q]!.inGroups[g.dir] ??= new Set()).add(g.id);
    }
    g.tablePeers = undefined;
    g.tableAggs = undefined;
    g.named = named;
    if (any) this.anyGroups[g.dir].add(g.id);
    else this.anyGroups[g.dir].delete(g.id);
    this.refreshOpen(g);
  }

  /** A group's rules changed or the group is new: is it open now, for each cached probe and profile? */
  private refreshOpen(g: GroupRec): void {
    for (const cache of this.caches.values()) {
      cache.open.admit[g.id] = undefined;
      cache.open.shared[g.id] = undefined;
      const { protocol, port } = cache.probe;
      const entries = g.dir === INGRESS ? cache.open.dest : cache.open.src;
      for (const [pid, entry] of entries) {
        const set = 'cells' in entry ? entry.cells : entry.groups;
        const w = g.dir === INGRESS ? (g.byProfile.get(pid)?.w ?? 0) : g.weight;
        const now = !g.isolated || (g.any !== undefined && g.any.admits(protocol, port, this.profiles[pid]!));
        if (set.has(g.id) === now) continue;
        if (now) {
          set.add(g.id);
          entry.w += w;
        } else {
          set.delete(g.id);
          entry.w -= w;
        }
      }
    }
  }

  /** `delta` pods of class `c` joined (or left) group `g`: adjust the cached open weights. */
  private adjustOpen(c: ClassRec, g: GroupRec, delta: number): void {
    if (delta === 0) return;
    for (const cache of this.caches.values()) {
      if (g.dir === INGRESS) {
        const entry = cache.open.dest.get(c.profile.id);
        if (entry && entry.cells.has(g.id)) entry.w += delta;
      } else {
        for (const entry of cache.open.src.values()) if (entry.groups.has(g.id)) entry.w += delta;
      }
    }
  }

  /** Puts a class in the groups its selectors (with policies of each direction) call for. */
  private regroup(c: ClassRec): void {
    for (const dir of [EGRESS, INGRESS] as const) {
      const sels: number[] = [];
      let key = '';
      for (const s of c.subj) {
        if (this.subjs[s]!.count[dir] === 0) continue;
        key += sels.length === 0 ? `${s}` : `,${s}`;
        sels.push(s);
      }
      const id = this.groupByKey[dir].get(key) ?? this.newGroup(dir, sels, key);
      const current = c.group[dir];
      if (current === id) continue;
      if (current >= 0) this.leaveGroup(c, this.groups[current]!);
      c.group[dir] = id;
      this.joinGroup(c, this.groups[id]!);
    }
  }

  private joinGroup(c: ClassRec, g: GroupRec): void {
    g.members.add(c.id);
    let cell = g.byProfile.get(c.profile.id);
    if (!cell) g.byProfile.set(c.profile.id, (cell = { w: 0, classes: new Set() }));
    cell.classes.add(c.id);
    cell.w += c.weight;
    g.weight += c.weight;
    this.adjustOpen(c, g, c.weight);
  }

  private leaveGroup(c: ClassRec, g: GroupRec): void {
    g.members.delete(c.id);
    const cell = g.byProfile.get(c.profile.id)!;
    cell.classes.delete(c.id);
    cell.w -= c.weight;
    g.weight -= c.weight;
    this.adjustOpen(c, g, -c.weight);
  }

  /** Adds `delta` pods to a class and to its groups' weights. */
  private attachWeight(c: ClassRec, delta: number): void {
    c.weight += delta;
    if (this.building && c.group[0] < 0) return;
    for (const dir of [EGRESS, INGRESS] as const) {
      const g = this.groups[c.group[dir]]!;
      g.weight += delta;
      g.byProfile.get(c.profile.id)!.w += delta;
      this.adjustOpen(c, g, delta);
    }
  }

  // --- access for Eval -----------------------------------------------------------------------------

  /** @internal */ get _classes(): readonly ClassRec[] {
    return this.classes;
  }
  /** @internal */ get _groups(): readonly GroupRec[] {
    return this.groups;
  }
  /** @internal */ get _peers(): readonly PeerRec[] {
    return this.peers;
  }
  /** @internal */ get _profiles(): readonly PortProfile[] {
    return this.profiles;
  }
  /** @internal */ get _open(): readonly [number, number] {
    return this.open;
  }
  /** @internal */ get _anyGroups(): readonly [ReadonlySet<number>, ReadonlySet<number>] {
    return this.anyGroups;
  }
}

/** Does one side (group `g`) admit the far end (its peers) on the port, for a destination with `profile`? */
function sideAdmits(g: GroupRec, other: readonly number[], profile: PortProfile, protocol: Protocol, port: number | string): boolean {
  if (g.any && g.any.admits(protocol, port, profile)) return true;
  if (other.length <= g.table.size) {
    for (const q of other) {
      const agg = g.table.get(q);
      if (agg && agg.admits(protocol, port, profile)) return true;
    }
  } else {
    for (const [q, agg] of g.table) if (has(other, q) && agg.admits(protocol, port, profile)) return true;
  }
  return false;
}

interface AdmitSet {
  /** A rule without peers admits the probe: everyone is admitted. */
  readonly any: boolean;
  readonly peers: Set<number>;
}

/** What one evaluation derives from an admit set (depends on the classes, so never kept across changes). */
interface Derived {
  /** The admitted peer with the most member classes (-1 when none). */
  big?: number;
  /** `peers` as a sorted text. */
  sig?: string;
  /** See `Eval.widest`. */
  wide?: number;
  /** See `Eval.egressWide`. */
  reach?: number;
  /**
   * freeF results by destination profile and split (`profile.id * 2 + split`). Keyed by profile too: one
   * admit set can serve several profiles (a rule without ports admits the same peers for all), while
   * which sources are free depends on the profile.
   */
  freeF?: Map<number, Map<number, number>>;
}

/**
 * One probe's evaluation, with memos valid while the engine does not change: which peers each group
 * admits for each destination profile, group x cell sums, and the "open" ends.
 *
 * Vocabulary: a *cell* is an ingress group restricted to one port profile (its destinations resolve
 * named ports alike). A cell is *open* when it admits every source (not isolated, or a rule without
 * peers admits the probe); an egress group is open for a profile when it admits every destination of
 * that profile.
 */
class Eval {
  private readonly derivedMemo = new Map<AdmitSet, Derived>();
  /** (peer, profile) -> the closed egress groups whose table admits that peer for the profile. */
  private readonly closedMemo = new Map<number, number[]>();
  private readonly gMemo = new Map<number, Map<number, number>>();
  private readonly fMemo = new Map<number, Map<number, number>>();
  private readonly hMemo = new Map<number, number>();
  private readonly hNsMemo = new Map<number, Map<number, number>>();
  private readonly vMemo = new Map<number, number>();
  private readonly distMemo = new Map<number, Map<number, number>>();
  private readonly excludedMemo = new Map<number, number[]>();
  private readonly openFMemo = new Map<string, Map<number, number>>();
  private readonly freeMemo = new Map<number, { w: number; groups: GroupRec[]; wide: GroupRec[] }>();
  private readonly freeByMemo = new Map<number, Map<number, number>>();
  private readonly wideExclMemo = new Map<number, Map<number, GroupRec[]>>();
  private readonly classStamp: Int32Array;
  private classTick = 0;
  private readonly groupStamp: Int32Array;
  private groupTick = 0;
  /** Scratch: per egress group, the weight reached (g) or missed (y) in the current cell (0 between cells). */
  private readonly gWeight: Float64Array;
  private readonly yWeight: Float64Array;
  private readonly classes: readonly ClassRec[];
  private readonly groups: readonly GroupRec[];
  private readonly peers: readonly PeerRec[];
  private readonly profiles: readonly PortProfile[];

  private readonly open: OpenCache;

  constructor(
    private readonly e: ScaleEngine,
    private readonly probe: ScaleProbe,
    open?: OpenCache,
    private readonly progress?: Progress,
  ) {
    this.open = open ?? newOpenCache();
    this.classes = e._classes;
    this.groups = e._groups;
    this.peers = e._peers;
    this.profiles = e._profiles;
    this.classStamp = new Int32Array(this.classes.length);
    this.groupStamp = new Int32Array(this.groups.length);
    this.gWeight = new Float64Array(this.groups.length);
    this.yWeight = new Float64Array(this.groups.length);
  }

  private admitSet(g: GroupRec, profile: PortProfile): AdmitSet {
    let byProfile = this.open.admit[g.id];
    if (!byProfile) this.open.admit[g.id] = byProfile = [];
    let a = byProfile[profile.id];
    if (!a) {
      // Without names on either side, every profile gets the same answer: compute it once per group.
      const shared = typeof this.probe.port === 'number' && !g.named;
      if (shared) a = this.open.shared[g.id];
      if (!a) {
        const { protocol, port } = this.probe;
        const any = !g.isolated || (g.any !== undefined && g.any.admits(protocol, port, profile));
        const peers = new Set<number>();
        if (!any) for (const [q, agg] of g.table) if (agg.admits(protocol, port, profile)) peers.add(q);
        a = { any, peers };
        if (shared) this.open.shared[g.id] = a;
      }
      byProfile[profile.id] = a;
    }
    return a;
  }

  private derived(a: AdmitSet): Derived {
    let d = this.derivedMemo.get(a);
    if (!d) this.derivedMemo.set(a, (d = {}));
    return d;
  }

  /** Egress groups that are isolated, neither open nor wide for `profile`, and admit peer `q` for it. */
  private closedAdmitting(q: number, profile: PortProfile): readonly number[] {
    const k = q * this.profiles.length + profile.id;
    let list = this.closedMemo.get(k);
    if (!list) {
      list = [];
      for (const gid of this.peers[q]!.inGroups[EGRESS] ?? NO_GROUPS) {
        const e = this.groups[gid]!;
        if (e.weight === 0) continue;
        const a = this.admitSet(e, profile);
        if (!a.any && a.peers.has(q) && this.egressWide(e, profile) < 0) list.push(gid);
      }
      this.closedMemo.set(k, list);
    }
    return list;
  }

  private cellKey(g: GroupRec, profile: PortProfile): number {
    return g.id * this.profiles.length + profile.id;
  }

  /** Destinations that admit every source, per profile: the open ingress group plus open cells. */
  /** Destinations that admit every source, per profile: the open ingress group plus open cells. */
  private openDest(profile: PortProfile): { w: number; cells: Set<number> } {
    let entry = this.open.dest.get(profile.id);
    if (!entry) {
      entry = { w: 0, cells: new Set() };
      for (const gid of [this.e._open[INGRESS], ...this.e._anyGroups[INGRESS]]) {
        const g = this.groups[gid]!;
        if (!this.admitSet(g, profile).any) continue;
        entry.w += g.byProfile.get(profile.id)?.w ?? 0;
        entry.cells.add(gid);
      }
      this.open.dest.set(profile.id, entry);
    }
    return entry;
  }

  /** Sources that reach every destination of a profile: the open egress group plus open groups. */
  private openSrc(profile: PortProfile): { w: number; groups: Set<number> } {
    let entry = this.open.src.get(profile.id);
    if (!entry) {
      entry = { w: 0, groups: new Set() };
      for (const gid of [this.e._open[EGRESS], ...this.e._anyGroups[EGRESS]]) {
        const g = this.groups[gid]!;
        if (!this.admitSet(g, profile).any) continue;
        entry.w += g.weight;
        entry.groups.add(gid);
      }
      this.open.src.set(profile.id, entry);
    }
    return entry;
  }

  private isOpenDest(d: ClassRec): boolean {
    return this.admitSet(this.groups[d.group[INGRESS]]!, d.profile).any;
  }

  private isOpenSrc(s: ClassRec, profile: PortProfile): boolean {
    return this.admitSet(this.groups[s.group[EGRESS]]!, profile).any;
  }

  /**
   * Walk the members of the admitted peers rather than the whole of a set whose parts have `sizes`?
   * Yes when the set is larger; the set's sizes are summed only as far as needed.
   */
  private viaCandidates(a: AdmitSet, sizes: Iterable<number>): boolean {
    if (this.e.strategy === 'candidates' || this.e.strategy === 'scan') return this.e.strategy === 'candidates';
    let cand = 0;
    for (const q of a.peers) cand += this.peers[q]!.members.length;
    let n = 0;
    for (const x of sizes) {
      n += x;
      if (n > cand) return true;
    }
    return false;
  }

  private *cellSizes(cells: Iterable<number>, profile: PortProfile): Generator<number> {
    for (const gid of cells) yield this.groups[gid]!.byProfile.get(profile.id)?.classes.size ?? 0;
  }

  private *groupSizes(groups: Iterable<number>): Generator<number> {
    for (const gid of groups) yield this.groups[gid]!.members.size;
  }

  /** Weight of the open destinations that egress group `e` reaches. */
  private hOpen(e: GroupRec): number {
    let h = this.hMemo.get(e.id);
    if (h !== undefined) return h;
    h = 0;
    for (const p of this.profiles) {
      const open = this.openDest(p);
      if (open.w === 0) continue;
      const a = this.admitSet(e, p);
      if (a.any) {
        h += open.w;
        continue;
      }
      if (a.peers.size === 0) continue;
      if (this.viaCandidates(a, this.cellSizes(open.cells, p))) {
        const tick = ++this.classTick;
        for (const q of a.peers) {
          for (const id of this.peers[q]!.members) {
            if (this.classStamp[id] === tick) continue;
            this.classStamp[id] = tick;
            const d = this.classes[id]!;
            if (d.profile === p && d.weight > 0 && this.isOpenDest(d)) h += d.weight;
          }
        }
      } else {
        for (const gid of open.cells) {
          for (const id of this.groups[gid]!.byProfile.get(p.id)?.classes ?? []) {
            const d = this.classes[id]!;
            if (d.weight > 0 && meets(d.peers, a.peers)) h += d.weight;
          }
        }
      }
    }
    this.hMemo.set(e.id, h);
    return h;
  }

  /** Weight of the destinations of a (non-open) cell that egress group `e` reaches. */
  private g(e: GroupRec, j: GroupRec, profile: PortProfile, cell: Cell): number {
    const key = this.cellKey(j, profile);
    let byCell = this.gMemo.get(e.id);
    if (!byCell) this.gMemo.set(e.id, (byCell = new Map()));
    let v = byCell.get(key);
    if (v !== undefined) return v;
    const a = this.admitSet(e, profile);
    if (a.any) v = cell.w;
    else if (a.peers.size === 0) v = 0;
    else {
      v = 0;
      for (const id of cell.classes) {
        const d = this.classes[id]!;
        if (d.weight > 0 && meets(d.peers, a.peers)) v += d.weight;
      }
    }
    byCell.set(key, v);
    return v;
  }

  /** Non-open cells (ingress group, profile) that admit source class `s`. */
  private cellsAdmitting(s: ClassRec, f: (j: GroupRec, profile: PortProfile, cell: Cell) => void): void {
    const tick = ++this.groupTick;
    for (const q of s.peers) {
      for (const gid of this.peers[q]!.inGroups[INGRESS] ?? NO_GROUPS) {
        if (this.groupStamp[gid] === tick) continue;
        this.groupStamp[gid] = tick;
        const j = this.groups[gid]!;
        if (j.weight === 0) continue;
        for (const [pid, cell] of j.byProfile) {
          if (cell.w === 0) continue;
          const profile = this.profiles[pid]!;
          const a = this.admitSet(j, profile);
          if (a.any || !meets(s.peers, a.peers)) continue;
          f(j, profile, cell);
        }
      }
    }
  }

  /** Weight of the destination classes that source class `s` reaches (itself included, as a class). */
  row(s: ClassRec): number {
    const e = this.groups[s.group[EGRESS]]!;
    let total = this.hOpen(e);
    this.cellsAdmitting(s, (j, profile, cell) => {
      total += this.g(e, j, profile, cell);
    });
    return total;
  }

  /** Weight of the source classes that reach destination class `d` (itself included, as a class). */
  col(d: ClassRec): number {
    const j = this.groups[d.group[INGRESS]]!;
    const profile = d.profile;
    const cellA = this.admitSet(j, profile);
    let total = this.vOpen(j, profile, cellA);
    const tick = ++this.groupTick;
    for (const q of d.peers) {
      for (const gid of this.peers[q]!.inGroups[EGRESS] ?? NO_GROUPS) {
        if (this.groupStamp[gid] === tick) continue;
        this.groupStamp[gid] = tick;
        const e = this.groups[gid]!;
        if (e.weight === 0) continue;
        const a = this.admitSet(e, profile);
        if (a.any || !meets(d.peers, a.peers)) continue;
        total += this.f(e, j, profile, cellA);
      }
    }
    return total;
  }

  /** Weight of the open sources (for `profile`) that cell (j, profile) admits. */
  private vOpen(j: GroupRec, profile: PortProfile, cellA: AdmitSet): number {
    const open = this.openSrc(profile);
    if (cellA.any) return open.w;
    const key = this.cellKey(j, profile);
    let v = this.vMemo.get(key);
    if (v !== undefined) return v;
    v = 0;
    if (cellA.peers.size > 0 && open.w > 0) {
      if (this.viaCandidates(cellA, this.groupSizes(open.groups))) {
        const tick = ++this.classTick;
        for (const q of cellA.peers) {
          for (const id of this.peers[q]!.members) {
            if (this.classStamp[id] === tick) continue;
            this.classStamp[id] = tick;
            const s = this.classes[id]!;
            if (s.weight > 0 && this.isOpenSrc(s, profile)) v += s.weight;
          }
        }
      } else {
        for (const gid of open.groups) {
          for (const id of this.groups[gid]!.members) {
            const s = this.classes[id]!;
            if (s.weight > 0 && meets(s.peers, cellA.peers)) v += s.weight;
          }
        }
      }
    }
    this.vMemo.set(key, v);
    return v;
  }

  /** Weight of the sources in egress group `e` that cell (j, profile) admits. */
  private f(e: GroupRec, j: GroupRec, profile: PortProfile, cellA: AdmitSet): number {
    if (cellA.any) return e.weight;
    const key = this.cellKey(j, profile);
    let byCell = this.fMemo.get(e.id);
    if (!byCell) this.fMemo.set(e.id, (byCell = new Map()));
    let v = byCell.get(key);
    if (v !== undefined) return v;
    v = 0;
    if (cellA.peers.size > 0) {
      if (this.viaCandidates(cellA, [e.members.size])) {
        const tick = ++this.classTick;
        for (const q of cellA.peers) {
          for (const id of this.peers[q]!.members) {
            if (this.classStamp[id] === tick) continue;
            this.classStamp[id] = tick;
            const s = this.classes[id]!;
            if (s.weight > 0 && s.group[EGRESS] === e.id) v += s.weight;
          }
        }
      } else {
        for (const id of e.members) {
          const s = this.classes[id]!;
          if (s.weight > 0 && meets(s.peers, cellA.peers)) v += s.weight;
        }
      }
    }
    byCell.set(key, v);
    return v;
  }
  // --- the whole-relation sweep ------------------------------------------------------------------------
  //
  // T = sum over cells c and egress groups E of f(E, c) * g(E, c), where f is the weight of E's
  // classes that c admits and g the weight of c's classes that E reaches: for a fixed E and c the
  // verdict [S -> D] = [D in Out(E)] and [S in U(c)] factors into a condition on D and one on S.
  // Open egress groups (admitting every destination of the cell's profile) are summed through
  // `openF`; open cells (admitting every source) through the reachers of each destination.

  /**
   * Emits, for every part of the relation, (source namespace, destination namespace, allowed pod
   * pairs), self pairs subtracted. Namespaces are -1 unless `split`.
   */
  sweep(split: boolean, emit: (sourceNs: number, destinationNs: number, pairs: number) => void): void {
    const { protocol, port } = this.probe;
    const tick = ticker(this.progress, 'count', this.groups.length);
    for (const j of this.groups) {
      tick(j.id + 1);
      if (j.dir !== INGRESS || j.weight === 0) continue;
      for (const [pid, cell] of j.byProfile) {
        if (cell.w === 0) continue;
        const profile = this.profiles[pid]!;
        const a = this.admitSet(j, profile);
        for (const part of this.parts(cell, split && !j.isolated)) {
          const dstNs = split ? part.ns : -1;
          if (a.any) this.openCell(part, profile, split, dstNs, emit);
          else this.closedCell(a, part, profile, split, dstNs, emit);
        }
      }
    }
    for (const c of this.classes) {
      if (c.weight > 0 && this.e.classAllows(c, c, protocol, port)) emit(split ? c.ns : -1, split ? c.ns : -1, -c.weight);
    }
  }

  /** A cell's classes, whole or split by namespace (an isolated group lies in one namespace). */
  private parts(cell: Cell, byNs: boolean): { ns: number; w: number; classes: Iterable<number> }[] {
    if (!byNs) {
      let ns = -1;
      for (const id of cell.classes) {
        ns = this.classes[id]!.ns;
        break;
      }
      return [{ ns, w: cell.w, classes: cell.classes }];
    }
    const m = new Map<number, { ns: number; w: number; classes: number[] }>();
    for (const id of cell.classes) {
      const c = this.classes[id]!;
      if (c.weight === 0) continue;
      let part = m.get(c.ns);
      if (!part) m.set(c.ns, (part = { ns: c.ns, w: 0, classes: [] }));
      part.w += c.weight;
      part.classes.push(id);
    }
    return [...m.values()];
  }

  /** Isolated egress groups, not open for the profile, that reach destination class `d`. */
  private reachingClosed(d: ClassRec, f: (e: GroupRec) => void): void {
    const tick = ++this.groupTick;
    const stamp = this.groupStamp;
    for (const q of d.peers) {
      for (const gid of this.closedAdmitting(q, d.profile)) {
        if (stamp[gid] === tick) continue;
        stamp[gid] = tick;
        f(this.groups[gid]!);
      }
    }
  }

  private openCell(part: { w: number; classes: Iterable<number> }, profile: PortProfile, split: boolean, dstNs: number, emit: (s: number, d: number, v: number) => void): void {
    for (const [ns, w] of this.freeSrcBy(profile, split)) emit(ns, dstNs, w * part.w);
    const wideExcl = this.wideExcluding(profile);
    for (const id of part.classes) {
      const d = this.classes[id]!;
      if (d.weight === 0) continue;
      this.reachingClosed(d, (e) => emit(split ? this.nsOf(e) : -1, dstNs, d.weight * e.weight));
      for (const e of wideExcl.get(id) ?? []) emit(split ? this.nsOf(e) : -1, dstNs, -d.weight * e.weight);
    }
  }

  private closedCell(
    a: AdmitSet,
    part: { w: number; classes: Iterable<number> },
    profile: PortProfile,
    split: boolean,
    dstNs: number,
    emit: (s: number, d: number, v: number) => void,
  ): void {
    if (a.peers.size === 0) return;
    const gw = this.gWeight;
    const touched: GroupRec[] = [];
    const stamp = this.groupStamp;
    for (const id of part.classes) {
      const d = this.classes[id]!;
      if (d.weight === 0) continue;
      const tick = ++this.groupTick;
      for (const q of d.peers) {
        for (const gid of this.closedAdmitting(q, d.profile)) {
          if (stamp[gid] === tick) continue;
          stamp[gid] = tick;
          if (gw[gid] === 0) touched.push(this.groups[gid]!);
          gw[gid]! += d.weight;
        }
      }
    }
    // Wide egress groups reach everyone of the profile but a few: subtract those in this part.
    const yw = this.yWeight;
    const yTouched: GroupRec[] = [];
    const wideExcl = this.wideExcluding(profile);
    for (const id of part.classes) {
      const d = this.classes[id]!;
      if (d.weight === 0) continue;
      for (const e of wideExcl.get(id) ?? []) {
        if (yw[e.id] === 0) yTouched.push(e);
        yw[e.id]! += d.weight;
      }
    }
    const wide = this.widest(a);
    if (wide >= 0) {
      // U(c) is everyone but X: the classes outside the widest admitted peer that no other admitted
      // peer matches. f(E, c) = w(E) - w(E in X); the free sources admitted = all free ones - X's.
      const xByGroup = new Map<number, number>();
      const xFree = new Map<number, number>();
      for (const id of this.excluded(wide)) {
        const s = this.classes[id]!;
        if (s.weight === 0 || meets(s.peers, a.peers)) continue;
        xByGroup.set(s.group[EGRESS], (xByGroup.get(s.group[EGRESS]) ?? 0) + s.weight);
        if (this.isFreeSrc(s, profile)) {
          const k = split ? s.ns : -1;
          xFree.set(k, (xFree.get(k) ?? 0) + s.weight);
        }
      }
      const f = (e: GroupRec): number => e.weight - (xByGroup.get(e.id) ?? 0);
      this.emitGroups(touched, gw, yTouched, yw, f, split, dstNs, emit);
      for (const [ns, w] of this.freeSrcBy(profile, split)) emit(ns, dstNs, (w - (xFree.get(ns) ?? 0)) * part.w);
      return;
    }
    this.emitGroups(touched, gw, yTouched, yw, (e) => this.fAdmitted(e, a), split, dstNs, emit);
    for (const [ns, w] of this.freeF(a, profile, split)) emit(ns, dstNs, w * part.w);
  }

  /** f * g for the narrow groups that reach the part, - f * y for the wide groups that miss some of it. */
  private emitGroups(
    touched: readonly GroupRec[],
    gw: Float64Array,
    yTouched: readonly GroupRec[],
    yw: Float64Array,
    f: (e: GroupRec) => number,
    split: boolean,
    dstNs: number,
    emit: (s: number, d: number, v: number) => void,
  ): void {
    for (const e of touched) {
      const g = gw[e.id]!;
      gw[e.id] = 0;
      const fe = f(e);
      if (fe > 0) emit(split ? this.nsOf(e) : -1, dstNs, fe * g);
    }
    for (const e of yTouched) {
      const y = yw[e.id]!;
      yw[e.id] = 0;
      const fe = f(e);
      if (fe > 0) emit(split ? this.nsOf(e) : -1, dstNs, -fe * y);
    }
  }

  /**
   * An egress group that admits, for this profile, a peer matching nearly every class is summed as
   * "everyone but the few that peer leaves out (and no other admitted peer matches)". Returns that
   * peer, or -1 (open groups, groups without such a peer).
   */
  private egressWide(e: GroupRec, profile: PortProfile): number {
    const a = this.admitSet(e, profile);
    const dv = this.derived(a);
    if (dv.reach === undefined) {
      dv.reach = -1;
      if (!a.any) {
        const strategy = this.e.strategy;
        const k = this.classes.length;
        const limit = strategy === 'complement' ? k : strategy === 'auto' ? k / 8 : -1;
        let size = Infinity;
        for (const q of a.peers) {
          const out = k - this.peers[q]!.members.length;
          if (out <= limit && out < size) {
            size = out;
            dv.reach = q;
          }
        }
      }
    }
    return dv.reach;
  }

  /** For each destination class of the profile, the wide egress groups that do not reach it. */
  private wideExcluding(profile: PortProfile): Map<number, GroupRec[]> {
    let m = this.wideExclMemo.get(profile.id);
    if (!m) {
      m = new Map();
      for (const e of this.freeSrc(profile).wide) {
        const q = this.egressWide(e, profile);
        const a = this.admitSet(e, profile);
        for (const id of this.excluded(q)) {
          const d = this.classes[id]!;
          if (d.profile !== profile || meets(d.peers, a.peers)) continue;
          const list = m.get(id);
          if (list) list.push(e);
          else m.set(id, [e]);
        }
      }
      this.wideExclMemo.set(profile.id, m);
    }
    return m;
  }

  /**
   * Sources that the sweep sums per cell rather than per group, for a destination profile: open
   * groups (they reach every destination) and wide ones (every destination but a few, subtracted).
   */
  private freeSrc(profile: PortProfile): { w: number; groups: GroupRec[]; wide: GroupRec[] } {
    let entry = this.freeMemo.get(profile.id);
    if (!entry) {
      entry = { w: 0, groups: [], wide: [] };
      for (const g of this.groups) {
        if (g.dir !== EGRESS || g.weight === 0) continue;
        if (this.admitSet(g, profile).any) {
          entry.w += g.weight;
          entry.groups.push(g);
        } else if (this.egressWide(g, profile) >= 0) {
          entry.w += g.weight;
          entry.groups.push(g);
          entry.wide.push(g);
        }
      }
      this.freeMemo.set(profile.id, entry);
    }
    return entry;
  }

  private isFreeSrc(s: ClassRec, profile: PortProfile): boolean {
    const e = this.groups[s.group[EGRESS]]!;
    return this.admitSet(e, profile).any || this.egressWide(e, profile) >= 0;
  }

  /** Weight of the free sources, whole (key -1) or by namespace. */
  private freeSrcBy(profile: PortProfile, split: boolean): Map<number, number> {
    const key = profile.id * 2 + (split ? 1 : 0);
    let m = this.freeByMemo.get(key);
    if (!m) {
      m = new Map();
      if (!split) m.set(-1, this.freeSrc(profile).w);
      else {
        for (const g of this.freeSrc(profile).groups) {
          for (const id of g.members) {
            const s = this.classes[id]!;
            if (s.weight > 0) m.set(s.ns, (m.get(s.ns) ?? 0) + s.weight);
          }
        }
      }
      this.freeByMemo.set(key, m);
    }
    return m;
  }

  /** The admitted peer that matches more than half the classes and leaves out the fewest, or -1. */
  private widest(a: AdmitSet): number {
    const dv = this.derived(a);
    if (dv.wide === undefined) {
      const strategy = this.e.strategy;
      const half = strategy === 'complement' ? -1 : strategy === 'auto' ? this.classes.length / 2 : Infinity;
      let best = -1;
      let size = Infinity;
      for (const q of a.peers) {
        const n = this.peers[q]!.members.length;
        if (n > half && this.classes.length - n < size) {
          size = this.classes.length - n;
          best = q;
        }
      }
      dv.wide = best;
    }
    return dv.wide;
  }

  /** The classes (with pods) a peer does not match. */
  private excluded(q: number): readonly number[] {
    let list = this.excludedMemo.get(q);
    if (!list) {
      list = [];
      for (const c of this.classes) if (c.weight > 0 && !has(c.peers, q)) list.push(c.id);
      this.excludedMemo.set(q, list);
    }
    return list;
  }

  private nsOf(e: GroupRec): number {
    for (const id of e.members) return this.classes[id]!.ns;
    return -1;
  }

  private biggest(a: AdmitSet): number {
    const dv = this.derived(a);
    if (dv.big === undefined) {
      let best = -1;
      let size = -1;
      for (const q of a.peers) {
        const n = this.peers[q]!.members.length;
        if (n > size) {
          size = n;
          best = q;
        }
      }
      dv.big = best;
    }
    return dv.big;
  }

  /** Weight of each egress group's classes within a peer's members. */
  private distByGroup(q: number): Map<number, number> {
    let m = this.distMemo.get(q);
    if (!m) {
      m = new Map();
      for (const id of this.peers[q]!.members) {
        const s = this.classes[id]!;
        if (s.weight > 0) m.set(s.group[EGRESS], (m.get(s.group[EGRESS]) ?? 0) + s.weight);
      }
      this.distMemo.set(q, m);
    }
    return m;
  }

  /** f(E, c): weight of E's classes that the admitted peers of a closed cell match. */
  private fAdmitted(e: GroupRec, a: AdmitSet): number {
    const big = this.biggest(a);
    const inBig = this.distByGroup(big).get(e.id) ?? 0;
    if (inBig === e.weight || a.peers.size === 1) return inBig;
    let v = inBig;
    for (const id of e.members) {
      const s = this.classes[id]!;
      if (s.weight > 0 && !has(s.peers, big) && meets(s.peers, a.peers)) v += s.weight;
    }
    return v;
  }

  /** Free sources (for the profile) that a closed cell's admitted peers match, by namespace when split. */
  private freeF(a: AdmitSet, profile: PortProfile, split: boolean): Map<number, number> {
    const dv = this.derived(a);
    dv.freeF ??= new Map();
    const slot = profile.id * 2 + (split ? 1 : 0);
    const cached = dv.freeF.get(slot);
    if (cached) return cached;
    dv.sig ??= [...a.peers].sort((x, y) => x - y).join(',');
    const key = `${profile.id}|${split ? 1 : 0}|${dv.sig}`;
    let m = this.openFMemo.get(key);
    if (m) {
      dv.freeF.set(slot, m);
      return m;
    }
    m = new Map();
    const big = this.biggest(a);
    const add = (s: ClassRec): void => {
      const k = split ? s.ns : -1;
      m!.set(k, (m!.get(k) ?? 0) + s.weight);
    };
    for (const id of this.peers[big]!.members) {
      const s = this.classes[id]!;
      if (s.weight > 0 && this.isFreeSrc(s, profile)) add(s);
    }
    if (a.peers.size > 1) {
      const tick = ++this.classTick;
      for (const q of a.peers) {
        if (q === big) continue;
        for (const id of this.peers[q]!.members) {
          if (this.classStamp[id] === tick) continue;
          this.classStamp[id] = tick;
          const s = this.classes[id]!;
          if (s.weight > 0 && !has(s.peers, big) && this.isFreeSrc(s, profile)) add(s);
        }
      }
    }
    this.openFMemo.set(key, m);
    dv.freeF.set(slot, m);
    return m;
  }
}
