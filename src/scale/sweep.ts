/**
 * The whole-relation sweep: allowed pod pairs of one probe, in total or by namespace pair, without
 * ever listing pairs of classes.
 *
 * T = sum over cells c and egress groups E of f(E, c) x g(E, c), where f is the weight of E's
 * classes that c admits and g the weight of c's classes that E reaches: for a fixed E and c the verdict
 * [S -> D] = [D in Out(E)] and [S in U(c)] factors into a condition on D and one on S. Open egress
 * groups (admitting every destination of the cell's profile) and wide ones (all but a few) are the
 * *free sources*, summed per cell; open cells (admitting every source) are summed through the egress
 * groups reaching each destination.
 */
import type { PortProfile } from './ports.js';
import { EGRESS, INGRESS, NO_GROUPS, type AdmitSet, type Cell, type ClassRec, type GroupRec } from './records.js';
import { ticker } from './types.js';
import { LineCounts } from './lines.js';

export { LineCounts } from './lines.js';
export type { EngineView } from './probe.js';

export class Sweep extends LineCounts {
  /** (peer, profile) -> the closed egress groups whose table admits that peer for the profile. */
  private readonly closedAdmittingMemo = new Map<number, number[]>();
  private readonly weightByEgressGroupMemo = new Map<number, Map<number, number>>();
  private readonly leftOutMemo = new Map<number, number[]>();
  private readonly admittedFreeMemo = new Map<string, Map<number, number>>();
  private readonly freeSourcesMemo = new Map<number, { w: number; groups: GroupRec[]; wide: GroupRec[] }>();
  private readonly freeSourcesByNsMemo = new Map<number, Map<number, number>>();
  private readonly wideMissesMemo = new Map<number, Map<number, GroupRec[]>>();
  /** Scratch: per egress group, the weight reached (g) or missed (y) in the current cell (0 between cells). */
  private readonly reachedWeight = new Float64Array(this.groups.length);
  private readonly missedWeight = new Float64Array(this.groups.length);

  /** Egress groups that are isolated, neither open nor wide for `profile`, and admit peer `q` for it. */
  private closedAdmitting(q: number, profile: PortProfile): readonly number[] {
    const k = q * this.profiles.length + profile.id;
    let list = this.closedAdmittingMemo.get(k);
    if (!list) {
      list = [];
      for (const gid of this.peers[q]!.inGroups[EGRESS] ?? NO_GROUPS) {
        const e = this.groups[gid]!;
        if (e.weight === 0) continue;
        const a = this.admitSet(e, profile);
        if (!a.any && a.peers.has(q) && this.wideReachPeer(e, profile) < 0) list.push(gid);
      }
      this.closedAdmittingMemo.set(k, list);
    }
    return list;
  }

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
      if (c.weight > 0 && this.v.classAllows(c, c, protocol, port)) emit(split ? c.ns : -1, split ? c.ns : -1, -c.weight);
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
    for (const list of d.lists)
      for (const q of list) {
        for (const gid of this.closedAdmitting(q, d.profile)) {
          if (stamp[gid] === tick) continue;
          stamp[gid] = tick;
          f(this.groups[gid]!);
        }
      }
  }

  private openCell(part: { w: number; classes: Iterable<number> }, profile: PortProfile, split: boolean, dstNs: number, emit: (s: number, d: number, v: number) => void): void {
    for (const [ns, w] of this.freeSourcesByNs(profile, split)) emit(ns, dstNs, w * part.w);
    const wideExcl = this.wideGroupsMissing(profile);
    for (const id of part.classes) {
      const d = this.classes[id]!;
      if (d.weight === 0) continue;
      this.reachingClosed(d, (e) => emit(split ? this.nsOf(e) : -1, dstNs, d.weight * e.weight));
      for (const e of wideExcl.get(id) ?? []) emit(split ? this.nsOf(e) : -1, dstNs, -d.weight * e.weight);
    }
  }

  private closedCell(a: AdmitSet, part: { w: number; classes: Iterable<number> }, profile: PortProfile, split: boolean, dstNs: number, emit: (s: number, d: number, v: number) => void): void {
    if (a.peers.size === 0) return;
    const gw = this.reachedWeight;
    const touched: GroupRec[] = [];
    const stamp = this.groupStamp;
    for (const id of part.classes) {
      const d = this.classes[id]!;
      if (d.weight === 0) continue;
      const tick = ++this.groupTick;
      for (const list of d.lists)
        for (const q of list) {
          for (const gid of this.closedAdmitting(q, d.profile)) {
            if (stamp[gid] === tick) continue;
            stamp[gid] = tick;
            if (gw[gid] === 0) touched.push(this.groups[gid]!);
            gw[gid]! += d.weight;
          }
        }
    }
    // Wide egress groups reach everyone of the profile but a few: subtract those in this part.
    const yw = this.missedWeight;
    const yTouched: GroupRec[] = [];
    const wideExcl = this.wideGroupsMissing(profile);
    for (const id of part.classes) {
      const d = this.classes[id]!;
      if (d.weight === 0) continue;
      for (const e of wideExcl.get(id) ?? []) {
        if (yw[e.id] === 0) yTouched.push(e);
        yw[e.id]! += d.weight;
      }
    }
    const wide = this.widestAdmittedPeer(a);
    if (wide >= 0) {
      // U(c) is everyone but X: the classes outside the widestAdmittedPeer admitted peer that no other admitted
      // peer matches. f(E, c) = w(E) - w(E in X); the free sources admitted = all free ones - X's.
      const xByGroup = new Map<number, number>();
      const xFree = new Map<number, number>();
      for (const id of this.leftOutBy(wide)) {
        const s = this.classes[id]!;
        if (s.weight === 0 || this.meets(s, a.peers)) continue;
        xByGroup.set(s.group[EGRESS], (xByGroup.get(s.group[EGRESS]) ?? 0) + s.weight);
        if (this.isFreeSource(s, profile)) {
          const k = split ? s.ns : -1;
          xFree.set(k, (xFree.get(k) ?? 0) + s.weight);
        }
      }
      const f = (e: GroupRec): number => e.weight - (xByGroup.get(e.id) ?? 0);
      this.emitGroups(touched, gw, yTouched, yw, f, split, dstNs, emit);
      for (const [ns, w] of this.freeSourcesByNs(profile, split)) emit(ns, dstNs, (w - (xFree.get(ns) ?? 0)) * part.w);
      return;
    }
    this.emitGroups(touched, gw, yTouched, yw, (e) => this.admittedWeightIn(e, a), split, dstNs, emit);
    for (const [ns, w] of this.admittedFreeSources(a, profile, split)) emit(ns, dstNs, w * part.w);
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
  private wideReachPeer(e: GroupRec, profile: PortProfile): number {
    const a = this.admitSet(e, profile);
    const dv = this.derived(a);
    if (dv.reach === undefined) {
      dv.reach = -1;
      if (!a.any) {
        const strategy = this.v.strategy;
        const k = this.classes.length;
        const limit = strategy === 'complement' ? k : strategy === 'auto' ? k / 8 : -1;
        let size = Infinity;
        for (const q of a.peers) {
          const out = k - this.memberCount(q);
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
  private wideGroupsMissing(profile: PortProfile): Map<number, GroupRec[]> {
    let m = this.wideMissesMemo.get(profile.id);
    if (!m) {
      m = new Map();
      for (const e of this.freeSources(profile).wide) {
        const q = this.wideReachPeer(e, profile);
        const a = this.admitSet(e, profile);
        for (const id of this.leftOutBy(q)) {
          const d = this.classes[id]!;
          if (d.profile !== profile || this.meets(d, a.peers)) continue;
          const list = m.get(id);
          if (list) list.push(e);
          else m.set(id, [e]);
        }
      }
      this.wideMissesMemo.set(profile.id, m);
    }
    return m;
  }

  /**
   * Sources that the sweep sums per cell rather than per group, for a destination profile: open
   * groups (they reach every destination) and wide ones (every destination but a few, subtracted).
   */
  private freeSources(profile: PortProfile): { w: number; groups: GroupRec[]; wide: GroupRec[] } {
    let entry = this.freeSourcesMemo.get(profile.id);
    if (!entry) {
      entry = { w: 0, groups: [], wide: [] };
      for (const g of this.groups) {
        if (g.dir !== EGRESS || g.weight === 0) continue;
        if (this.admitSet(g, profile).any) {
          entry.w += g.weight;
          entry.groups.push(g);
        } else if (this.wideReachPeer(g, profile) >= 0) {
          entry.w += g.weight;
          entry.groups.push(g);
          entry.wide.push(g);
        }
      }
      this.freeSourcesMemo.set(profile.id, entry);
    }
    return entry;
  }

  private isFreeSource(s: ClassRec, profile: PortProfile): boolean {
    const e = this.groups[s.group[EGRESS]]!;
    return this.admitSet(e, profile).any || this.wideReachPeer(e, profile) >= 0;
  }

  /** Weight of the free sources, whole (key -1) or by namespace. */
  private freeSourcesByNs(profile: PortProfile, split: boolean): Map<number, number> {
    const key = profile.id * 2 + (split ? 1 : 0);
    let m = this.freeSourcesByNsMemo.get(key);
    if (!m) {
      m = new Map();
      if (!split) m.set(-1, this.freeSources(profile).w);
      else {
        for (const g of this.freeSources(profile).groups) {
          for (const id of g.members) {
            const s = this.classes[id]!;
            if (s.weight > 0) m.set(s.ns, (m.get(s.ns) ?? 0) + s.weight);
          }
        }
      }
      this.freeSourcesByNsMemo.set(key, m);
    }
    return m;
  }

  /** The admitted peer that matches more than half the classes and leaves out the fewest, or -1. */
  private widestAdmittedPeer(a: AdmitSet): number {
    const dv = this.derived(a);
    if (dv.wide === undefined) {
      const strategy = this.v.strategy;
      const half = strategy === 'complement' ? -1 : strategy === 'auto' ? this.classes.length / 2 : Infinity;
      let best = -1;
      let size = Infinity;
      for (const q of a.peers) {
        const n = this.memberCount(q);
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
  private leftOutBy(q: number): readonly number[] {
    let list = this.leftOutMemo.get(q);
    if (!list) {
      list = [];
      for (const c of this.classes) if (c.weight > 0 && !this.matchedBy(c, q)) list.push(c.id);
      this.leftOutMemo.set(q, list);
    }
    return list;
  }

  private nsOf(e: GroupRec): number {
    for (const id of e.members) return this.classes[id]!.ns;
    return -1;
  }

  private largestAdmittedPeer(a: AdmitSet): number {
    const dv = this.derived(a);
    if (dv.big === undefined) {
      let best = -1;
      let size = -1;
      for (const q of a.peers) {
        const n = this.memberCount(q);
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
  private weightByEgressGroup(q: number): Map<number, number> {
    const known = this.weightByEgressGroupMemo.get(q);
    if (known) return known;
    const m = new Map<number, number>();
    this.eachMember(q, (id) => {
      const s = this.classes[id]!;
      if (s.weight > 0) m.set(s.group[EGRESS], (m.get(s.group[EGRESS]) ?? 0) + s.weight);
    });
    this.weightByEgressGroupMemo.set(q, m);
    return m;
  }

  /** f(E, c): weight of E's classes that the admitted peers of a closed cell match. */
  private admittedWeightIn(e: GroupRec, a: AdmitSet): number {
    const big = this.largestAdmittedPeer(a);
    const inBig = this.weightByEgressGroup(big).get(e.id) ?? 0;
    if (inBig === e.weight || a.peers.size === 1) return inBig;
    let v = inBig;
    for (const id of e.members) {
      const s = this.classes[id]!;
      if (s.weight > 0 && !this.matchedBy(s, big) && this.meets(s, a.peers)) v += s.weight;
    }
    return v;
  }

  /** Free sources (for the profile) that a closed cell's admitted peers match, by namespace when split. */
  private admittedFreeSources(a: AdmitSet, profile: PortProfile, split: boolean): Map<number, number> {
    const dv = this.derived(a);
    dv.admittedFree ??= new Map();
    const slot = profile.id * 2 + (split ? 1 : 0);
    const cached = dv.admittedFree.get(slot);
    if (cached) return cached;
    dv.sig ??= [...a.peers].sort((x, y) => x - y).join(',');
    const key = `${profile.id}|${split ? 1 : 0}|${dv.sig}`;
    let m = this.admittedFreeMemo.get(key);
    if (m) {
      dv.admittedFree.set(slot, m);
      return m;
    }
    m = new Map();
    const big = this.largestAdmittedPeer(a);
    const add = (s: ClassRec): void => {
      const k = split ? s.ns : -1;
      m!.set(k, (m!.get(k) ?? 0) + s.weight);
    };
    this.eachMember(big, (id) => {
      const s = this.classes[id]!;
      if (s.weight > 0 && this.isFreeSource(s, profile)) add(s);
    });
    if (a.peers.size > 1) {
      const tick = ++this.classTick;
      for (const q of a.peers) {
        if (q === big) continue;
        this.eachMember(q, (id) => {
          if (this.classStamp[id] === tick) return;
          this.classStamp[id] = tick;
          const s = this.classes[id]!;
          if (s.weight > 0 && !this.matchedBy(s, big) && this.isFreeSource(s, profile)) add(s);
        });
      }
    }
    this.admittedFreeMemo.set(key, m);
    dv.admittedFree.set(slot, m);
    return m;
  }
}
