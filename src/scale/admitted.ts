/**
 * The whole-relation count from per-group admitted sets: output-sensitive where the dense count
 * (dense.ts) is quadratic in classes.
 *
 * Design choice. The allowed pairs are
 *   T = sum over ingress cells c, sum over sources s in IN(c) of w(s) x g(E(s), c), minus self pairs,
 * where IN(c) is the set of source classes cell c admits, E(s) the egress group of s, and g(E, c) the
 * weight of c's classes that E reaches (its OUT set). Each admitted set is kept in the smaller of its two
 * forms: the classes in it, or the classes out of it. On real clusters an ingress cell admits either a
 * few classes (one app, one namespace) or nearly all of them (`namespaceSelector: {}`, `10.0.0.0/8`
 * minus a /24), rarely half; the complement form turns the second kind into a short list:
 *   sum over s in IN(c) of w(s) g(E(s), c) = sum over d in c of w(d) rho(d) - sum over s not in IN(c) of w(s) g(E(s), c),
 * with rho(d) the weight of every source whose egress reaches d (computed once per probe, each egress
 * group walking the shorter of its OUT set and its complement). OUT sets are bitsets over class ids (one
 * per isolated egress group: a membership test is one bit), so g(E, c) costs one bit per class of c.
 *
 * Cost: per cell, the length of the shorter form of IN(c) (plus a bit per class of c and per egress
 * group met); per egress group, a pass over its bitset plus the shorter form of OUT(E). Nothing is
 * quadratic in classes unless the sets are half-full (then both forms are long: the dense count is the
 * better tool, and the engine's `auto` strategy compares the two estimates, see `admittedCost`).
 */
import type { PortProfile } from './ports.js';
import { EGRESS, INGRESS, eachNonMember, meetsClass, type AdmitSet, type GroupRec } from './records.js';
import { ProbeEval, type EngineView } from './probe.js';
import type { OpenCache } from './records.js';
import type { ScaleProbe } from './types.js';

/**
 * The OUT bitsets of one count (a bit per class for each isolated egress group: 130 MB at 100,000
 * classes and 11,000 groups), kept by the engine for the next count: a new buffer that size each time
 * makes V8 collect the whole heap for the external memory.
 */
export interface CountScratch {
  rows: Int32Array;
}

/**
 * An admitted set of classes with pods in a short form: the classes in it (`list`); or everyone but
 * `list` (`complement`); or the members of its wide peers (`base`) plus `list` (the classes in the set
 * that no base peer matches), when the set is half full because of a few peers (an `Exists` on a
 * namespace label a third of the namespaces carry) and neither list of classes would be short.
 */
interface ShortForm {
  readonly complement: boolean;
  readonly base: BaseMembers | undefined;
  readonly list: Int32Array;
}

/** Part of an egress group's OUT set: a form (undefined: every class) for destinations of some profiles. */
interface OutPart {
  readonly form: ShortForm | undefined;
  readonly profiles: readonly PortProfile[];
}

/** The classes with pods that some of a few wide peers match, as the count reads them. */
interface BaseMembers {
  /** Its member classes with pods, as a bitset over class ids. */
  readonly bits: Int32Array;
  /** Egress groups of its members and, for each, the weight of its members in it. */
  readonly groups: Int32Array;
  readonly weights: Float64Array;
}

/**
 * A peer with at least this many member classes is a base when its set is half full: a base costs a
 * bitset and a pass over its egress groups per destination, worth it when it saves walking as many.
 */
const BASE_COST = 1024;

/** Number of set bits of a 32-bit word. */
function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

export class AdmittedCount extends ProbeEval {
  private readonly words = (this.classes.length + 31) >>> 5;
  /** Member count from which a peer may be a base: BASE_COST, less on small clusters (a base costs a bitset). */
  private readonly baseMin = Math.max(4, Math.min(BASE_COST, this.classes.length >>> 4));
  /** Per class id: its weight (pods) and its egress group, read in the hot loops without the records. */
  private readonly weight: Float64Array;
  private readonly egress: Int32Array;
  /** Classes with pods, as a bitset. */
  private readonly populated = new Int32Array(this.words);
  /** Classes with pods of each profile (by profile id), as bitsets. */
  private readonly profileMask: (Int32Array | undefined)[] = [];
  private readonly presentProfiles: PortProfile[] = [];
  /** Unions of profile masks, by the profile ids joined. */
  private readonly masks = new Map<string, Int32Array>();
  /** Per egress group id, its OUT set by destination profile (see `outParts`). */
  private readonly parts: (OutPart[] | undefined)[] = [];
  /** Per egress group id: offset of its OUT bitset in `rows`, -1 when it reaches everyone, -2 when unused. */
  private readonly rowAt: Int32Array;
  private rows: Int32Array = new Int32Array(0);
  /** Per class id: weight of the sources whose egress reaches it. */
  private readonly reach: Float64Array;
  private readonly forms = new Map<AdmitSet, ShortForm>();
  /** Forms by the admitted peers (sorted ids joined): groups with the same admitted peers share one. */
  private readonly formByPeers = new Map<string, ShortForm>();
  private readonly leftOut = new Map<number, Int32Array>();
  /** Base members by their peers (sorted ids joined). */
  private readonly bases = new Map<string, BaseMembers>();
  /** Scratch: per egress group, g(E, c) for the current cell (valid when gStamp equals the cell's tick). */
  private readonly gStamp: Int32Array;
  private readonly gValue: Float64Array;
  /** Scratch of `baseMembers`: weight per egress group (all zero between calls). */
  private readonly groupWeight: Float64Array;
  private cellTick = 0;

  constructor(
    v: EngineView,
    probe: ScaleProbe,
    open?: OpenCache,
    /** Where the OUT bitsets are kept between counts (see `CountScratch`). */
    private readonly scratch: CountScratch = { rows: new Int32Array(0) },
  ) {
    super(v, probe, open);
    this.rowAt = new Int32Array(this.groups.length).fill(-2);
    this.reach = new Float64Array(this.classes.length);
    this.gStamp = new Int32Array(this.groups.length);
    this.gValue = new Float64Array(this.groups.length);
    this.groupWeight = new Float64Array(this.groups.length);
    this.weight = new Float64Array(this.classes.length);
    this.egress = new Int32Array(this.classes.length);
    for (const c of this.classes) {
      this.weight[c.id] = c.weight;
      this.egress[c.id] = c.group[EGRESS];
      if (c.weight === 0) continue;
      this.populated[c.id >>> 5]! |= 1 << (c.id & 31);
      let m = this.profileMask[c.profile.id];
      if (!m) {
        m = this.profileMask[c.profile.id] = new Int32Array(this.words);
        this.presentProfiles.push(c.profile);
      }
      m[c.id >>> 5]! |= 1 << (c.id & 31);
    }
  }

  /** The exact number of ordered pairs of distinct pods allowed on the probe. */
  count(tick?: (done: number) => void): number {
    this.outRows();
    this.reachWeights();
    let total = 0;
    for (const j of this.groups) {
      tick?.(j.id + 1);
      if (j.dir !== INGRESS || j.weight === 0) continue;
      for (const [pid, cell] of j.byProfile) {
        if (cell.w === 0) continue;
        total += this.cellSum(j, this.profiles[pid]!, cell.classes);
      }
    }
    return total;
  }

  /**
   * About how many classes the count walks: per ingress cell and egress group, the shortest form's
   * length as the member counts of its table's peers tell it (ports not read: an upper bound).
   */
  estimate(): number {
    let sum = 0;
    const k = this.classes.length;
    for (const g of this.groups) {
      if (g.weight === 0 || !g.isolated || g.table.size === 0) continue;
      let union = 0;
      let widest = 0;
      let narrow = 0;
      let wide = false;
      for (const q of g.table.keys()) {
        const n = this.memberCount(q);
        union += n;
        widest = Math.max(widest, n);
        if (n >= this.baseMin && n * 2 <= k) wide = true;
        else narrow += n;
      }
      const shortest = Math.min(union, k - widest, wide ? narrow + this.baseMin : Infinity);
      sum += shortest * (g.dir === INGRESS ? g.byProfile.size : 1);
    }
    return sum;
  }

  // --- OUT sets ------------------------------------------------------------------------------------

  /** OUT(E) of every isolated egress group with pods, as bitsets over class ids (those with pods). */
  private outRows(): void {
    const words = this.words;
    const used: GroupRec[] = [];
    for (const e of this.groups) {
      if (e.dir !== EGRESS || e.weight === 0) continue;
      if (this.reachesAll(e)) this.rowAt[e.id] = -1;
      else used.push(e);
    }
    const need = used.length * words;
    if (this.scratch.rows.length < need) this.scratch.rows = new Int32Array(need + (need >>> 3));
    this.rows = this.scratch.rows;
    const scratch = new Int32Array(words);
    used.forEach((e, i) => {
      const off = i * words;
      this.rowAt[e.id] = off;
      this.rows.fill(0, off, off + words);
      const parts = this.outParts(e);
      if (parts.length === 1) {
        this.fillBits(parts[0]!.form, this.rows, off);
        return;
      }
      for (const { form, profiles } of parts) {
        scratch.fill(0);
        this.fillBits(form, scratch, 0);
        const mask = this.maskOf(profiles);
        for (let w = 0; w < words; w++) this.rows[off + w]! |= scratch[w]! & mask[w]!;
      }
    });
  }

  /**
   * What an egress group admits, split by destination profile: one part for all of them unless named
   * ports make profiles differ (`form` undefined: every class of those profiles).
   */
  private outParts(e: GroupRec): OutPart[] {
    let parts = this.parts[e.id];
    if (parts === undefined) parts = this.parts[e.id] = this.splitByForm(e);
    return parts;
  }

  private splitByForm(e: GroupRec): OutPart[] {
    const byForm = new Map<ShortForm | undefined, PortProfile[]>();
    for (const p of this.presentProfiles) {
      const a = this.admitSet(e, p);
      const f = a.any ? undefined : this.form(a);
      const list = byForm.get(f);
      if (list) list.push(p);
      else byForm.set(f, [p]);
    }
    return [...byForm].map(([form, profiles]) => ({ form, profiles }));
  }

  /** The classes with pods of some of these profiles, as a bitset (once per set of profiles). */
  private maskOf(profiles: readonly PortProfile[]): Int32Array {
    const key = profiles.map((p) => p.id).join(',');
    let m = this.masks.get(key);
    if (!m) {
      m = new Int32Array(this.words);
      for (const p of profiles) {
        const pm = this.profileMask[p.id]!;
        for (let w = 0; w < this.words; w++) m[w]! |= pm[w]!;
      }
      this.masks.set(key, m);
    }
    return m;
  }

  /** Does egress group e admit every destination (not isolated, or a rule without peers for every profile)? */
  private reachesAll(e: GroupRec): boolean {
    for (const p of this.presentProfiles) if (!this.admitSet(e, p).any) return false;
    return true;
  }

  /** Sets the bits of the classes with pods in a form (undefined: every class), at target[at ..]. */
  private fillBits(f: ShortForm | undefined, target: Int32Array, at: number): void {
    if (f === undefined) {
      target.set(this.populated, at);
      return;
    }
    if (f.complement) {
      target.set(this.populated, at);
      for (const c of f.list) target[at + (c >>> 5)]! &= ~(1 << (c & 31));
      return;
    }
    if (f.base) {
      const bits = f.base.bits;
      for (let i = 0; i < this.words; i++) target[at + i]! |= bits[i]!;
    }
    for (const c of f.list) target[at + (c >>> 5)]! |= 1 << (c & 31);
  }

  /**
   * rho(d) for every class: the weight of the sources whose egress group reaches d. A group whose OUT
   * set is one admit set for every profile adds its weight through that set's short form (a base peer's
   * members once for all the groups on it); otherwise through the shorter side of its bitset.
   */
  private reachWeights(): void {
    const rho = this.reach;
    let everywhere = 0;
    /** Weight to add to the members of each base. */
    const onBase = new Map<BaseMembers, number>();
    for (const e of this.groups) {
      if (e.dir !== EGRESS || e.weight === 0) continue;
      const off = this.rowAt[e.id]!;
      const w = e.weight;
      if (off === -1) {
        everywhere += w;
        continue;
      }
      const parts = this.outParts(e);
      const f = parts.length === 1 ? parts[0]!.form : undefined;
      if (f === undefined) {
        everywhere += this.addRow(off, w);
        continue;
      }
      if (f.complement) everywhere += w;
      else if (f.base) onBase.set(f.base, (onBase.get(f.base) ?? 0) + w);
      const sign = f.complement ? -w : w;
      for (const c of f.list) rho[c]! += sign;
    }
    for (const [b, w] of onBase) {
      const bits = b.bits;
      for (let i = 0; i < this.words; i++) {
        let x = bits[i]!;
        while (x !== 0) {
          const low = x & -x;
          rho[(i << 5) + 31 - Math.clz32(low)]! += w;
          x ^= low;
        }
      }
    }
    if (everywhere !== 0) for (let d = 0; d < rho.length; d++) rho[d]! += everywhere;
  }

  /** Adds w to rho of each class in the bitset at rows[off ..]; returns what to add to everyone instead. */
  private addRow(off: number, w: number): number {
    const rows = this.rows;
    const rho = this.reach;
    let set = 0;
    for (let i = 0; i < this.words; i++) set += popcount(rows[off + i]!);
    const most = set * 2 > this.classes.length;
    for (let i = 0; i < this.words; i++) {
      // Nearly everyone: add w to all, take it back from the classes the set misses.
      let x = most ? ~rows[off + i]! & this.populated[i]! : rows[off + i]!;
      while (x !== 0) {
        const low = x & -x;
        rho[(i << 5) + 31 - Math.clz32(low)]! += most ? -w : w;
        x ^= low;
      }
    }
    return most ? w : 0;
  }

  /** Does egress group e (by its OUT bitset) reach class d? */
  private reaches(e: number, d: number): boolean {
    const off = this.rowAt[e]!;
    return off === -1 || ((this.rows[off + (d >>> 5)]! >>> (d & 31)) & 1) === 1;
  }

  // --- cells -----------------------------------------------------------------------------------------

  /**
   * The pairs whose destination is in cell (j, profile): for each destination d, the weight of the
   * sources s that j admits and whose egress reaches d; self pairs out.
   */
  private cellSum(j: GroupRec, profile: PortProfile, cellClasses: ReadonlySet<number>): number {
    const a = this.admitSet(j, profile);
    if (!a.any && a.peers.size === 0) return 0;
    const members: number[] = [];
    let sum = 0;
    let self = 0;
    for (const id of cellClasses) {
      const d = this.classes[id]!;
      if (d.weight === 0) continue;
      members.push(id);
      // "Traffic from a pod to itself": the pair (d, d) stands for w(d) x w(d) pod pairs, w(d) of them self.
      if (this.reaches(d.group[EGRESS], id) && (a.any || meetsClass(this.sigs, d, a.peers))) self += d.weight;
    }
    if (a.any) {
      for (const id of members) sum += this.weight[id]! * this.reach[id]!;
      return sum - self;
    }
    const f = this.form(a);
    if (f.complement) for (const id of members) sum += this.weight[id]! * this.reach[id]!;
    else if (f.base) sum += this.baseSum(f.base, members);
    const tick = ++this.cellTick;
    let listed = 0;
    for (const s of f.list) {
      const e = this.egress[s]!;
      let g: number;
      if (this.gStamp[e] === tick) g = this.gValue[e]!;
      else {
        g = 0;
        for (const id of members) if (this.reaches(e, id)) g += this.weight[id]!;
        this.gStamp[e] = tick;
        this.gValue[e] = g;
      }
      listed += this.weight[s]! * g;
    }
    return (f.complement ? sum - listed : sum + listed) - self;
  }

  /** Sum over destinations d of w(d) x the weight of the base's classes whose egress reaches d. */
  private baseSum(b: BaseMembers, members: readonly number[]): number {
    const { groups, weights } = b;
    let sum = 0;
    for (const id of members) {
      let v = 0;
      for (let k = 0; k < groups.length; k++) if (this.reaches(groups[k]!, id)) v += weights[k]!;
      sum += this.weight[id]! * v;
    }
    return sum;
  }

  // --- admitted sets in their shorter form -------------------------------------------------------------

  /** The classes with pods that some peer of `a` matches, in their shortest form. */
  private form(a: AdmitSet): ShortForm {
    let f = this.forms.get(a);
    if (!f) {
      // Keyed by the peers in the set's order first (a group's profiles list them alike), then sorted.
      const seen = [...a.peers].join(',');
      f = this.formByPeers.get(seen);
      if (!f) {
        const key = [...a.peers].sort((x, y) => x - y).join(',');
        f = this.formByPeers.get(key);
        if (!f) {
          f = this.shortForm(a);
          this.formByPeers.set(key, f);
        }
        this.formByPeers.set(seen, f);
      }
      this.forms.set(a, f);
    }
    return f;
  }

  /**
   * The shortest form: the members of the peers walked (their sum of member counts); the classes the
   * widest peer leaves out; or the wide peers as a base and the members of the others outside it.
   */
  private shortForm(a: AdmitSet): ShortForm {
    let widest = -1;
    let widestCount = -1;
    let union = 0;
    let narrow = 0;
    const wide: number[] = [];
    for (const q of a.peers) {
      const n = this.memberCount(q);
      union += n;
      // A peer matching most classes is never a base: its complement is the short list.
      if (n >= this.baseMin && n * 2 <= this.classes.length) wide.push(q);
      else narrow += n;
      if (n > widestCount) {
        widestCount = n;
        widest = q;
      }
    }
    const out: number[] = [];
    const outside = this.classes.length - widestCount;
    const viaBase = wide.length > 0 ? narrow + this.baseMin : Infinity;
    if (widest >= 0 && outside < union && (outside <= viaBase || widestCount * 2 > this.classes.length)) {
      // The classes the widest peer leaves out, less those another peer matches.
      const alone = a.peers.size === 1;
      for (const c of this.leftOutBy(widest)) if (alone || !meetsClass(this.sigs, this.classes[c]!, a.peers)) out.push(c);
      return { complement: true, base: undefined, list: Int32Array.from(out) };
    }
    const base = viaBase < union ? this.baseMembers(wide) : undefined;
    const tick = ++this.classTick;
    const bits = base?.bits;
    for (const q of a.peers) {
      if (base && wide.includes(q)) continue;
      this.eachMember(q, (c) => {
        if (this.classStamp[c] === tick || this.weight[c] === 0) return;
        this.classStamp[c] = tick;
        if (bits === undefined || ((bits[c >>> 5]! >>> (c & 31)) & 1) === 0) out.push(c);
      });
    }
    return { complement: false, base, list: Int32Array.from(out) };
  }

  /** The members of some of these peers: bitset, and weight per egress group (once per count and set of peers). */
  private baseMembers(peers: number[]): BaseMembers {
    peers.sort((x, y) => x - y);
    const key = peers.join(',');
    let m = this.bases.get(key);
    if (!m) {
      const bits = new Int32Array(this.words);
      for (const q of peers) {
        this.eachMember(q, (c) => {
          if (this.weight[c]! > 0) bits[c >>> 5]! |= 1 << (c & 31);
        });
      }
      const weight = this.groupWeight;
      const groups: number[] = [];
      for (let i = 0; i < this.words; i++) {
        let x = bits[i]!;
        while (x !== 0) {
          const low = x & -x;
          const c = (i << 5) + 31 - Math.clz32(low);
          const e = this.egress[c]!;
          if (weight[e] === 0) groups.push(e);
          weight[e]! += this.weight[c]!;
          x ^= low;
        }
      }
      const weights = new Float64Array(groups.length);
      groups.forEach((e, k) => {
        weights[k] = weight[e]!;
        weight[e] = 0;
      });
      m = { bits, groups: Int32Array.from(groups), weights };
      this.bases.set(key, m);
    }
    return m;
  }

  /** The classes with pods that peer q does not match. */
  private leftOutBy(q: number): Int32Array {
    let list = this.leftOut.get(q);
    if (!list) {
      const out: number[] = [];
      eachNonMember(this.classes, this.peers, this.sigs, q, (c) => {
        if (this.weight[c]! > 0) out.push(c);
      });
      list = Int32Array.from(out);
      this.leftOut.set(q, list);
    }
    return list;
  }
}
