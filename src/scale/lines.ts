/**
 * Rows and columns of the class relation for one probe: how many pods one class reaches, or is
 * reached by. The engine corrects its cached counts with them after a change (the rows and columns of
 * the classes a change touches).
 *
 * Row of source class s (egress group E): the open destinations E reaches, plus, for each closed cell
 * admitting s, the weight of that cell's classes E reaches. Column of destination class d (cell c):
 * the open sources c admits, plus, for each closed egress group E reaching d, the weight of E's
 * classes c admits.
 */
import type { PortProfile } from './ports.js';
import { EGRESS, INGRESS, NO_GROUPS, type AdmitSet, type Cell, type ClassRec, type GroupRec } from './records.js';
import { ProbeEval } from './probe.js';

export class LineCounts extends ProbeEval {
  /** Weight of a cell's classes an egress group reaches, by group then cell. */
  protected readonly reachedInCellMemo = new Map<number, Map<number, number>>();
  /** Weight of an egress group's classes a cell admits, by group then cell. */
  protected readonly admittedInGroupMemo = new Map<number, Map<number, number>>();
  /** Weight of the open destinations an egress group reaches, by group. */
  protected readonly reachedOpenMemo = new Map<number, number>();
  /** Weight of the open sources a cell admits, by cell. */
  protected readonly admittedOpenMemo = new Map<number, number>();

  /** Weight of the open destinations that egress group `e` reaches. */
  protected reachedOpenDestinations(e: GroupRec): number {
    const known = this.reachedOpenMemo.get(e.id);
    if (known !== undefined) return known;
    let h = 0;
    for (const p of this.profiles) {
      const open = this.openDestinations(p);
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
          this.eachMember(q, (id) => {
            if (this.classStamp[id] === tick) return;
            this.classStamp[id] = tick;
            const d = this.classes[id]!;
            if (d.profile === p && d.weight > 0 && this.isOpenDestination(d)) h += d.weight;
          });
        }
      } else {
        for (const gid of open.cells) {
          for (const id of this.groups[gid]!.byProfile.get(p.id)?.classes ?? []) {
            const d = this.classes[id]!;
            if (d.weight > 0 && this.meets(d, a.peers)) h += d.weight;
          }
        }
      }
    }
    this.reachedOpenMemo.set(e.id, h);
    return h;
  }

  /** Weight of the destinations of a (non-open) cell that egress group `e` reaches. */
  protected reachedInCell(e: GroupRec, j: GroupRec, profile: PortProfile, cell: Cell): number {
    const key = this.cellKey(j, profile);
    let byCell = this.reachedInCellMemo.get(e.id);
    if (!byCell) this.reachedInCellMemo.set(e.id, (byCell = new Map()));
    let v = byCell.get(key);
    if (v !== undefined) return v;
    const a = this.admitSet(e, profile);
    if (a.any) v = cell.w;
    else if (a.peers.size === 0) v = 0;
    else {
      v = 0;
      for (const id of cell.classes) {
        const d = this.classes[id]!;
        if (d.weight > 0 && this.meets(d, a.peers)) v += d.weight;
      }
    }
    byCell.set(key, v);
    return v;
  }

  /** Non-open cells (ingress group, profile) that admit source class `s`. */
  protected cellsAdmitting(s: ClassRec, f: (j: GroupRec, profile: PortProfile, cell: Cell) => void): void {
    const tick = ++this.groupTick;
    for (const list of s.lists)
      for (const q of list) {
        for (const gid of this.peers[q]!.inGroups[INGRESS] ?? NO_GROUPS) {
          if (this.groupStamp[gid] === tick) continue;
          this.groupStamp[gid] = tick;
          const j = this.groups[gid]!;
          if (j.weight === 0) continue;
          for (const [pid, cell] of j.byProfile) {
            if (cell.w === 0) continue;
            const profile = this.profiles[pid]!;
            const a = this.admitSet(j, profile);
            if (a.any || !this.meets(s, a.peers)) continue;
            f(j, profile, cell);
          }
        }
      }
  }

  /** Weight of the destination classes that source class `s` reaches (itself included, as a class). */
  row(s: ClassRec): number {
    const e = this.groups[s.group[EGRESS]]!;
    let total = this.reachedOpenDestinations(e);
    this.cellsAdmitting(s, (j, profile, cell) => {
      total += this.reachedInCell(e, j, profile, cell);
    });
    return total;
  }

  /** Weight of the source classes that reach destination class `d` (itself included, as a class). */
  col(d: ClassRec): number {
    const j = this.groups[d.group[INGRESS]]!;
    const profile = d.profile;
    const cellA = this.admitSet(j, profile);
    let total = this.admittedOpenSources(j, profile, cellA);
    const tick = ++this.groupTick;
    for (const list of d.lists)
      for (const q of list) {
        for (const gid of this.peers[q]!.inGroups[EGRESS] ?? NO_GROUPS) {
          if (this.groupStamp[gid] === tick) continue;
          this.groupStamp[gid] = tick;
          const e = this.groups[gid]!;
          if (e.weight === 0) continue;
          const a = this.admitSet(e, profile);
          if (a.any || !this.meets(d, a.peers)) continue;
          total += this.admittedInGroup(e, j, profile, cellA);
        }
      }
    return total;
  }

  /** Weight of the open sources (for `profile`) that cell (j, profile) admits. */
  protected admittedOpenSources(j: GroupRec, profile: PortProfile, cellA: AdmitSet): number {
    const open = this.openSources(profile);
    if (cellA.any) return open.w;
    const key = this.cellKey(j, profile);
    const known = this.admittedOpenMemo.get(key);
    if (known !== undefined) return known;
    let v = 0;
    if (cellA.peers.size > 0 && open.w > 0) {
      if (this.viaCandidates(cellA, this.groupSizes(open.groups))) {
        const tick = ++this.classTick;
        for (const q of cellA.peers) {
          this.eachMember(q, (id) => {
            if (this.classStamp[id] === tick) return;
            this.classStamp[id] = tick;
            const s = this.classes[id]!;
            if (s.weight > 0 && this.isOpenSource(s, profile)) v += s.weight;
          });
        }
      } else {
        for (const gid of open.groups) {
          for (const id of this.groups[gid]!.members) {
            const s = this.classes[id]!;
            if (s.weight > 0 && this.meets(s, cellA.peers)) v += s.weight;
          }
        }
      }
    }
    this.admittedOpenMemo.set(key, v);
    return v;
  }

  /** Weight of the sources in egress group `e` that cell (j, profile) admits. */
  protected admittedInGroup(e: GroupRec, j: GroupRec, profile: PortProfile, cellA: AdmitSet): number {
    if (cellA.any) return e.weight;
    const key = this.cellKey(j, profile);
    let byCell = this.admittedInGroupMemo.get(e.id);
    if (!byCell) this.admittedInGroupMemo.set(e.id, (byCell = new Map()));
    const known = byCell.get(key);
    if (known !== undefined) return known;
    let v = 0;
    if (cellA.peers.size > 0) {
      if (this.viaCandidates(cellA, [e.members.size])) {
        const tick = ++this.classTick;
        for (const q of cellA.peers) {
          this.eachMember(q, (id) => {
            if (this.classStamp[id] === tick) return;
            this.classStamp[id] = tick;
            const s = this.classes[id]!;
            if (s.weight > 0 && s.group[EGRESS] === e.id) v += s.weight;
          });
        }
      } else {
        for (const id of e.members) {
          const s = this.classes[id]!;
          if (s.weight > 0 && this.meets(s, cellA.peers)) v += s.weight;
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
}
