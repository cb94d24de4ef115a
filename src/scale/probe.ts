/**
 * One probe's evaluation over the class engine, the base of the counts (lines.ts, sweep.ts): which
 * peers each group admits for each destination port profile (its *admit set*), and the open ends.
 *
 * Vocabulary: a *cell* is an ingress group restricted to one port profile (its destinations resolve
 * named ports alike). A cell is *open* when it admits every source (not isolated, or a rule without
 * peers admits the probe); an egress group is open for a profile when it admits every destination of
 * that profile. Memos are valid while the engine does not change; admit sets and open ends live in an
 * `OpenCache` the engine keeps across changes.
 */
import { type Protocol } from '../model/index.js';
import type { PortProfile } from './ports.js';
import { EGRESS, INGRESS, type AdmitSet, eachMember, matchedBy, meetsClass, memberCount, newOpenCache, type ClassRec, type GroupRec, type OpenCache, type PeerRec, type SigRec } from './records.js';
import { type Progress, type ScaleProbe, type Strategy } from './types.js';

/** What an evaluation reads of the engine. */
export interface EngineView {
  readonly classes: readonly ClassRec[];
  readonly groups: readonly GroupRec[];
  readonly peers: readonly PeerRec[];
  /** ipBlock signatures (the ipBlock peers of a class are its signature's). */
  readonly sigs: readonly SigRec[];
  readonly profiles: readonly PortProfile[];
  /** The non-isolated groups (egress, ingress). */
  readonly openGroups: readonly [number, number];
  /** Groups with a rule that has no peers, per direction. */
  readonly anyGroups: readonly [ReadonlySet<number>, ReadonlySet<number>];
  readonly strategy: Strategy;
  classAllows(s: ClassRec, d: ClassRec, protocol: Protocol, port: number | string): boolean;
}

/** What one evaluation derives from an admit set (depends on the classes, so never kept across changes). */
export interface Derived {
  /** The admitted peer with the most member classes (-1 when none). */
  big?: number;
  /** `peers` as a sorted text. */
  sig?: string;
  /** See `Sweep.widestAdmittedPeer`. */
  wide?: number;
  /** See `Sweep.wideReachPeer`. */
  reach?: number;
  /**
   * admittedFreeSources results by destination profile and split (`profile.id * 2 + split`). Keyed by profile too: one
   * admit set can serve several profiles (a rule without ports admits the same peers for all), while
   * which sources are free depends on the profile.
   */
  admittedFree?: Map<number, Map<number, number>>;
}

export class ProbeEval {
  protected readonly derivedMemo = new Map<AdmitSet, Derived>();
  protected readonly classStamp: Int32Array;
  protected classTick = 0;
  protected readonly groupStamp: Int32Array;
  protected groupTick = 0;
  protected readonly classes: readonly ClassRec[];
  protected readonly groups: readonly GroupRec[];
  protected readonly peers: readonly PeerRec[];
  protected readonly sigs: readonly SigRec[];
  protected readonly profiles: readonly PortProfile[];
  protected readonly open: OpenCache;

  constructor(
    protected readonly v: EngineView,
    protected readonly probe: ScaleProbe,
    open?: OpenCache,
    protected readonly progress?: Progress,
  ) {
    this.open = open ?? newOpenCache();
    this.classes = v.classes;
    this.groups = v.groups;
    this.peers = v.peers;
    this.sigs = v.sigs;
    this.profiles = v.profiles;
    this.classStamp = new Int32Array(this.classes.length);
    this.groupStamp = new Int32Array(this.groups.length);
  }

  protected admitSet(g: GroupRec, profile: PortProfile): AdmitSet {
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

  protected derived(a: AdmitSet): Derived {
    let d = this.derivedMemo.get(a);
    if (!d) this.derivedMemo.set(a, (d = {}));
    return d;
  }

  protected cellKey(g: GroupRec, profile: PortProfile): number {
    return g.id * this.profiles.length + profile.id;
  }

  /** Destinations that admit every source, per profile: the open ingress group plus open cells. */
  /** Destinations that admit every source, per profile: the open ingress group plus open cells. */
  protected openDestinations(profile: PortProfile): { w: number; cells: Set<number> } {
    let entry = this.open.dest.get(profile.id);
    if (!entry) {
      entry = { w: 0, cells: new Set() };
      for (const gid of [this.v.openGroups[INGRESS], ...this.v.anyGroups[INGRESS]]) {
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
  protected openSources(profile: PortProfile): { w: number; groups: Set<number> } {
    let entry = this.open.src.get(profile.id);
    if (!entry) {
      entry = { w: 0, groups: new Set() };
      for (const gid of [this.v.openGroups[EGRESS], ...this.v.anyGroups[EGRESS]]) {
        const g = this.groups[gid]!;
        if (!this.admitSet(g, profile).any) continue;
        entry.w += g.weight;
        entry.groups.add(gid);
      }
      this.open.src.set(profile.id, entry);
    }
    return entry;
  }

  protected isOpenDestination(d: ClassRec): boolean {
    return this.admitSet(this.groups[d.group[INGRESS]]!, d.profile).any;
  }

  protected isOpenSource(s: ClassRec, profile: PortProfile): boolean {
    return this.admitSet(this.groups[s.group[EGRESS]]!, profile).any;
  }

  /**
   * Walk the members of the admitted peers rather than the whole of a set whose parts have `sizes`?
   * Yes when the set is larger; the set's sizes are summed only as far as needed.
   */
  protected viaCandidates(a: AdmitSet, sizes: Iterable<number>): boolean {
    if (this.v.strategy === 'candidates' || this.v.strategy === 'scan') return this.v.strategy === 'candidates';
    let cand = 0;
    for (const q of a.peers) cand += memberCount(this.peers, q);
    let n = 0;
    for (const x of sizes) {
      n += x;
      if (n > cand) return true;
    }
    return false;
  }

  /** Number of classes peer q matches. */
  protected memberCount(q: number): number {
    return memberCount(this.peers, q);
  }

  /** Calls f with each class peer q matches. */
  protected eachMember(q: number, f: (c: number) => void): void {
    eachMember(this.peers, this.sigs, q, f);
  }

  /** Does peer q match class c? */
  protected matchedBy(c: ClassRec, q: number): boolean {
    return matchedBy(this.sigs, c, q);
  }

  /** Does some peer of `set` match class c? */
  protected meets(c: ClassRec, set: ReadonlySet<number>): boolean {
    return meetsClass(this.sigs, c, set);
  }

  protected *cellSizes(cells: Iterable<number>, profile: PortProfile): Generator<number> {
    for (const gid of cells) yield this.groups[gid]!.byProfile.get(profile.id)?.classes.size ?? 0;
  }

  protected *groupSizes(groups: Iterable<number>): Generator<number> {
    for (const gid of groups) yield this.groups[gid]!.members.size;
  }
}
