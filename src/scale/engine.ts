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
 *   the pod peers it matches (a sorted list) and its ipBlock *signature*, the sorted list of ipBlock
 *   peers its pods lie in, shared by every class with the same one (an ipBlock such as `10.0.0.0/8`
 *   minus a /24 matches nearly every class: per class, such lists were most of the engine's memory);
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
 * megabytes, word-parallel), and so does one above it when peers match so many classes that the
 * sweep's member walks would dominate. (A count from per-group admitted sets in their short form,
 * admitted.ts, is kept as the strategy `admitted`; it was measured no faster.) A single change (pods, labels, policies) updates classes, groups and
 * tables in place and corrects the cached counts by the rows and columns of the classes it touches
 * (or, with dense counts, marks them for a recount when that is estimated cheaper); open ends and
 * per-group admitted peers are kept per probe across changes.
 *
 * Bulk loading normalises policies with a shared cache (`policyNormalizer`: equal selectors, ipBlocks
 * and port lists are compiled once and shared), so peers and subject selectors are interned by object
 * identity first and by canonical text only on a miss.
 *
 * Modules, bottom up: types.ts (the public vocabulary), records.ts (what is kept per namespace, class,
 * peer, selector, policy and group), classes.ts (classes, selectors, peers and who matches whom),
 * policies.ts (policies, groups and their tables, open ends kept current), this file (the engine:
 * questions, changes and the corrections of cached counts), probe.ts, lines.ts and sweep.ts (one
 * probe's admit sets, rows and columns, and the whole-relation sweep), dense.ts (the bit-matrix count),
 * units.ts (the classes it counts as one), admitted.ts (the count from admitted sets' short forms) and
 * choice.ts (which count, and whether a change recounts or corrects).
 *
 * Semantics are the engine's and the oracle's (docs/semantics.md); property tests hold this module to
 * src/engine/oracle.ts on every pair, before and after random sequences of changes.
 */
import { podKey, type Cluster, type Labels, type PodInfo, type PolicyInfo, type Protocol } from '../model/index.js';
import { normalizePolicy, type Policy, PortSet } from '../policy/index.js';
import type { Endpoint, Traffic } from '../engine/index.js';
import { denseAllowedPairs, denseRelation, type DenseGroup, type DenseRelation, type DenseUnits, type DenseView } from './dense.js';
import type { PortProfile } from './ports.js';
import { NO_PORTS, type PortAgg } from './ports.js';
import { EGRESS, INGRESS, eachMember, eachNonMember, memberCount, newOpenCache, parseIPs, probeKey, type ClassRec, type GroupRec, type OpenCache, type PolicyRec, type ProbeCache } from './records.js';
import { DENSE_MAX_CLASSES, ticker, type ClusterChange, type NamespaceCounts, type ScaleOptions, type ScaleProbe, type ScaleStats } from './types.js';
import { PolicyGroups } from './policies.js';
import { LineCounts, Sweep, type EngineView } from './sweep.js';
import { AdmittedCount, type CountScratch } from './admitted.js';
import { sideAdmits, type PeerLists } from './side.js';
import { CountChoice } from './choice.js';

export class ScaleEngine extends PolicyGroups {
  /** The non-isolated groups. */
  private readonly openGroups: [number, number];
  /** Buffers the admitted-set count keeps between counts. */
  private readonly countScratch: CountScratch = { rows: new Int32Array(0) };
  /** Changes applied so far (what cached structures are valid for). */
  private changes = 0;
  /** Which count, and whether a change recounts (choice.ts). */
  private readonly choice = new CountChoice({
    strategy: this.strategy,
    classes: this.classes,
    peers: this.peers,
    sigs: this.sigs,
    changes: () => this.changes,
    peerListsBelow: (bound) => this.peerListsBelow(bound),
  });
  /** The dense count's units, and the number of changes they were computed after. */
  private units: { readonly changes: number; readonly units: DenseUnits } | undefined;

  constructor(cluster: Cluster, opts: ScaleOptions = {}) {
    super(opts);
    this.openGroups = [this.newGroup(EGRESS, []), this.newGroup(INGRESS, [])];
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
    if (e.isolated) set = set.intersect(this.sidePorts(e, d.lists, d.profile, protocol));
    const i = this.groups[d.group[INGRESS]]!;
    if (i.isolated && !set.isEmpty()) set = set.intersect(this.sidePorts(i, s.lists, d.profile, protocol));
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

  /**
   * The whole relation for the probe as class x class bits (see `denseRelation`), for at most
   * DENSE_MAX_CLASSES classes (a few megabytes); undefined above. Pod p is at bit position
   * `relation.classes.indexOf(classOf(p))`.
   */
  relation(probe: ScaleProbe): DenseRelation | undefined {
    if (this.classes.length > DENSE_MAX_CLASSES) return undefined;
    return denseRelation({ classes: this.classes, groups: this.denseGroups(), ...this.denseMembers(), profiles: this.profiles }, probe.protocol, probe.port);
  }

  /** How many other pods `pod` may connect to on the probe. */
  reachableCount(pod: PodInfo, probe: ScaleProbe): number {
    const c = this.classRec(pod);
    const ev = new LineCounts(this.view(), probe);
    return ev.row(c) - (this.classAllows(c, c, probe.protocol, probe.port) ? 1 : 0);
  }

  /** How many other pods may connect to `pod` on the probe. */
  reachingCount(pod: PodInfo, probe: ScaleProbe): number {
    const c = this.classRec(pod);
    const ev = new LineCounts(this.view(), probe);
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
    new Sweep(this.view(), probe).sweep(true, (a, b, v) => {
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
    this.changing();
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
    const recount = this.choice.denseCheaper([c.id], [c.id]);
    for (const cache of this.caches.values()) {
      if (cache.dirty) continue;
      if (recount) {
        cache.dirty = true;
        continue;
      }
      const ev = new LineCounts(this.view(), cache.probe, cache.open);
      cache.count += sign * (ev.row(c) + ev.col(c) - (this.classAllows(c, c, cache.probe.protocol, cache.probe.port) ? 2 : 0));
    }
  }

  /** Before a change: counted (cached structures go stale), and with the classes' peer lists made (see `ClassRecord`). */
  private changing(): void {
    this.changes++;
    this.makePeerLists();
  }

  /** Removes a pod; false when it was not loaded. */
  removePod(pod: PodInfo): boolean {
    const id = this.podClass.get(pod);
    if (id === undefined) return false;
    this.changing();
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

  // --- hooks for the cluster tiers (src/scale/tiers) ----------------------------------------------------

  /**
   * NetworkPolicy's verdict on one side of traffic between two distinct pods of classes `source` and
   * `destination` (ids from `classOf`): undefined when the side's subject is not isolated for it.
   */
  sideAllows(direction: 'egress' | 'ingress', source: number, destination: number, protocol: Protocol, port: number | string): boolean | undefined {
    const s = this.classes[source]!;
    const d = this.classes[destination]!;
    const g = this.groups[direction === 'egress' ? s.group[EGRESS] : d.group[INGRESS]]!;
    if (!g.isolated) return undefined;
    return sideAdmits(g, (direction === 'egress' ? d : s).lists, d.profile, protocol, port);
  }

  /**
   * What one side of a verdict reads of the class whose side it is (its subject): the egress group of a
   * source class; the ingress group and port profile of a destination class. Classes with equal keys get
   * the same `sideAllows` for that direction against any far end.
   */
  sideKey(direction: 'egress' | 'ingress', cls: number): string {
    const c = this.classes[cls]!;
    return direction === 'egress' ? `${c.group[EGRESS]}` : `${c.group[INGRESS]}/${c.profile.id}`;
  }

  /** Is a class isolated for the direction (selected by a NetworkPolicy with that policy type)? */
  sideIsolated(direction: 'egress' | 'ingress', cls: number): boolean {
    return this.groups[this.classes[cls]!.group[direction === 'egress' ? EGRESS : INGRESS]]!.isolated;
  }

  /**
   * One side's whole row at once: for the class `cls` as subject of `direction`, a byte per class id of
   * the far end (1: NetworkPolicy admits it on the probe, as `sideAllows`), or undefined when the side is
   * not isolated. Walks the members of the peers its group's table names, as the dense count does.
   */
  sideRow(direction: 'egress' | 'ingress', cls: number, protocol: Protocol, port: number | string): Uint8Array | undefined {
    const c = this.classes[cls]!;
    const g = this.groups[c.group[direction === 'egress' ? EGRESS : INGRESS]]!;
    if (!g.isolated) return undefined;
    const row = new Uint8Array(this.classes.length);
    // Egress: the destination's profile resolves named ports, per far-end class; ingress: the subject's.
    // An entry's answer depends on the profile only: asked once per (entry, profile).
    const admits = (agg: PortAgg): ((far: number) => boolean) => {
      if (direction === 'ingress') {
        const v = agg.admits(protocol, port, c.profile);
        return () => v;
      }
      const known = new Map<PortProfile, boolean>();
      return (far) => {
        const profile = this.classes[far]!.profile;
        let v = known.get(profile);
        if (v === undefined) known.set(profile, (v = agg.admits(protocol, port, profile)));
        return v;
      };
    };
    if (g.any) {
      const any = admits(g.any);
      for (let m = 0; m < row.length; m++) if (any(m)) row[m] = 1;
    }
    for (const [q, agg] of g.table) {
      const entry = admits(agg);
      // Every member class: a pod peer's list, an ipBlock peer's signatures' classes.
      eachMember(this.peers, this.sigs, q, (m) => {
        if (row[m] === 0 && entry(m)) row[m] = 1;
      });
    }
    return row;
  }

  /** The ports of `protocol` one side admits (as `sideAllows`); undefined when not isolated. */
  sidePortSet(direction: 'egress' | 'ingress', source: number, destination: number, protocol: Protocol): PortSet | undefined {
    const s = this.classes[source]!;
    const d = this.classes[destination]!;
    const g = this.groups[direction === 'egress' ? s.group[EGRESS] : d.group[INGRESS]]!;
    if (!g.isolated) return undefined;
    return this.sidePorts(g, (direction === 'egress' ? d : s).lists, d.profile, protocol);
  }

  // --- verdicts ------------------------------------------------------------------------------------

  /** @internal Class-level verdict (two distinct pods of these classes). */
  classAllows(s: ClassRec, d: ClassRec, protocol: Protocol, port: number | string): boolean {
    const e = this.groups[s.group[EGRESS]]!;
    if (e.isolated && !sideAdmits(e, d.lists, d.profile, protocol, port)) return false;
    const i = this.groups[d.group[INGRESS]]!;
    if (i.isolated && !sideAdmits(i, s.lists, d.profile, protocol, port)) return false;
    return true;
  }

  private sidePorts(g: GroupRec, other: PeerLists, profile: PortProfile, protocol: Protocol): PortSet {
    let set = g.any ? g.any.admitted(protocol, profile) : PortSet.EMPTY;
    for (const list of other) {
      for (const q of list) {
        if (set.isAll()) return set;
        const agg = g.table.get(q);
        if (agg) set = set.union(agg.admitted(protocol, profile));
      }
    }
    return set;
  }

  /** The peers of the far end: a class's lists, or (for an address) the ipBlock peers of the table containing it. */
  private farPeers(g: GroupRec, far: Endpoint, cls: ClassRec | undefined): PeerLists {
    if (cls) return cls.lists;
    if (far.kind !== 'external') return [];
    const out: number[] = [];
    for (const q of g.table.keys()) {
      const p = this.peers[q]!;
      if (p.kind === 'ipBlock' && p.addresses!.contains(far.ip)) out.push(q);
    }
    return [out.sort((a, b) => a - b)];
  }

  private sideAdmitsFor(g: GroupRec, far: Endpoint, cls: ClassRec | undefined, profile: PortProfile, protocol: Protocol, port: number | string): boolean {
    return sideAdmits(g, this.farPeers(g, far, cls), profile, protocol, port);
  }

  private sidePortsFor(g: GroupRec, far: Endpoint, cls: ClassRec | undefined, profile: PortProfile, protocol: Protocol): PortSet {
    return this.sidePorts(g, this.farPeers(g, far, cls), profile, protocol);
  }

  /** Who matches whom, as the dense count reads it. */
  private denseMembers(): Pick<DenseView, 'memberCount' | 'eachMember' | 'eachNonMember'> {
    return {
      memberCount: (q) => memberCount(this.peers, q),
      eachMember: (q, f) => eachMember(this.peers, this.sigs, q, f),
      eachNonMember: (q, f) => eachNonMember(this.classes, this.peers, this.sigs, q, f),
    };
  }

  private denseGroups(): DenseGroup[] {
    const groups: DenseGroup[] = [];
    for (const g of this.groups) {
      if (g.tablePeers === undefined || g.tableAggs === undefined) {
        g.tablePeers = [...g.table.keys()];
        g.tableAggs = [...g.table.values()];
      }
      groups.push(g as DenseGroup);
    }
    return groups;
  }

  private countAll(probe: ScaleProbe, open?: OpenCache): number {
    // The count from admitted sets' short forms is chosen only when asked for: on an idle machine it was
    // no faster than the dense bits on mixed 100k (8.3 s against 8.4 s end to end) and slower on mixed 50k
    // (second count 661 ms against 421 ms), with 300 MiB more and slower changes, though its estimate
    // said 24 times cheaper (docs/benchmarks.md, "Third round (counting)").
    if (this.strategy === 'admitted') return new AdmittedCount(this.view(), probe, open, this.countScratch).count(ticker(this.progress, 'count', this.groups.length));
    if (this.choice.usesDense()) {
      const tick = ticker(this.progress, 'count', this.groups.length);
      if (this.units?.changes !== this.changes) this.units = { changes: this.changes, units: this.choice.units() };
      const view = { classes: this.classes, groups: this.denseGroups(), ...this.denseMembers(), profiles: this.profiles, units: this.units.units };
      return denseAllowedPairs(view, probe.protocol, probe.port, tick);
    }
    let total = 0;
    new Sweep(this.view(), probe, open, this.progress).sweep(false, (_s, _d, v) => {
      total += v;
    });
    return total;
  }

  // --- structure: namespaces, profiles, signatures, classes --------------------------------------------

  private changePolicy(old: PolicyRec | undefined, info: PolicyInfo | undefined, norm: Policy | undefined): void {
    this.changing();
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
      if (this.choice.recountCheaper(rows, cols)) {
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
      if (this.choice.recountCheaper(rowsAfter, colsAfter)) {
        p.cache.dirty = true;
        continue;
      }
      p.cache.count += this.contribution(p.cache, rowsAfter, colsAfter) - p.old;
    }
  }

  /**
   * Allowed pod pairs with a source class in `rows` or a destination class in `cols` (self pairs
   * excluded): what a change confined to those rows and columns can alter.
   */
  private contribution(cache: ProbeCache, rows: readonly number[], cols: readonly number[]): number {
    const probe = cache.probe;
    const ev = new LineCounts(this.view(), probe, cache.open);
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

  /** What the counts read of the engine. */
  private view(): EngineView {
    return {
      classes: this.classes,
      groups: this.groups,
      peers: this.peers,
      sigs: this.sigs,
      profiles: this.profiles,
      openGroups: this.openGroups,
      anyGroups: this.anyGroups,
      strategy: this.strategy,
      classAllows: (s, d, protocol, port) => this.classAllows(s, d, protocol, port),
    };
  }
}
