/**
 * The whole-relation count as class x class bits, word-parallel, no memos.
 *
 * Design choice. With K classes, the allowed pairs are
 *   sum over classes s, d of w(s) w(d) [egress of s admits d] [ingress of d admits s], minus the self pairs
 *   sum over c of w(c) [c admits c].
 * The sweep (sweep.ts) factorises that sum per (egress group, ingress cell) to stay far below K x K
 * when peers match few classes, at the price of many maps and memos. When K is small, or when peers
 * match so many classes that walking their members costs more than K x K / 1024 blocks of 32 x 32
 * bits, building the relation word by word is cheaper:
 * - OUT(E), the destination classes egress group E admits, is the union of the member bitsets of the
 *   peers its table admits (a named port makes an entry admit only destinations of some port profiles:
 *   its members are masked with those profiles' classes); row s of the matrix is OUT(E(s));
 * - the matrix is transposed in 32 x 32 blocks, 32 destinations at a time (the K x K matrix is never
 *   stored: rows are read from the OUT rows of the sources' groups), so column d lists the sources
 *   whose egress admits d;
 * - IN(c), the sources an ingress cell c (group, destination profile) admits, is built the same way;
 *   for each destination d of the cell, the sum of w(s) over the set bits of IN(c) AND column d is
 *   what d receives. A bit set for d itself is the self pair, subtracted.
 * The result is the same relation the sweep counts (and the property tests hold both to the oracle);
 * the engine chooses this path when K is small (see `ScaleOptions.strategy`).
 *
 * The count need not tell apart classes that every row or column treats alike: as sources, classes
 * with the same egress group that the same peers of ingress tables match; as destinations, classes of
 * the same ingress cell that the same peers of egress tables match (`DenseUnits`, units.ts). A count
 * over *units* (their weights summed) is the same sum with fewer bits: on clusters whose pods carry
 * labels no policy reads (a version, a zone), units are a fraction of the classes, and the cost falls
 * with the product of the two. Self pairs are subtracted per class, as before.
 */
import type { Protocol } from '../model/index.js';
import type { PortAgg, PortProfile } from './ports.js';

/** What the dense count reads of the engine's structures (a structural view of its records). */
export interface DenseClass {
  readonly id: number;
  readonly weight: number;
  readonly profile: PortProfile;
  readonly group: readonly [number, number];
}

export interface DenseGroup {
  readonly id: number;
  readonly dir: number;
  readonly isolated: boolean;
  /** The table's entries: peer, and the ports admitted for it. */
  readonly tablePeers: readonly number[];
  readonly tableAggs: readonly PortAgg[];
  readonly any: PortAgg | undefined;
  readonly weight: number;
  readonly byProfile: ReadonlyMap<number, { readonly w: number; readonly classes: ReadonlySet<number> }>;
}

export interface DenseView {
  readonly classes: readonly DenseClass[];
  readonly groups: readonly DenseGroup[];
  /** How many classes peer q matches, each of them, and each class it does not match. */
  memberCount(q: number): number;
  eachMember(q: number, f: (c: number) => void): void;
  eachNonMember(q: number, f: (c: number) => void): void;
  readonly profiles: readonly PortProfile[];
  /** Classes counted as one, per side; undefined: each class on its own. */
  readonly units?: DenseUnits;
}

/**
 * Per class id, the unit it is counted in as a source and as a destination: classes of one source
 * unit have the same egress group and are matched by the same peers of ingress tables; classes of one
 * destination unit have the same ingress group and port profile and are matched by the same peers of
 * egress tables. (Any finer partition is correct too; each class on its own is the finest.)
 */
export interface DenseUnits {
  /** Undefined: each class its own unit on that side (units.ts gave up: nearly every class was). */
  readonly source: Int32Array | undefined;
  readonly destination: Int32Array | undefined;
}

/** A bit position: one class, or a unit of classes alike on that side (`id`, `profile`, `group`: the first's). */
interface Slot {
  readonly id: number;
  readonly weight: number;
  readonly profile: PortProfile;
  readonly group: readonly [number, number];
  /** The classes with pods it stands for. */
  readonly classes: readonly DenseClass[];
}

const EGRESS = 0;
const INGRESS = 1;

/**
 * Transposes the 32 x 32 bit block whose rows are a[o], a[o + stride], ..., a[o + 31 * stride]
 * (bit c of row r is element (r, c)), in place.
 */
export function transpose32(a: Int32Array, o: number, stride: number): void {
  let m = 0x0000ffff;
  for (let j = 16; j !== 0; j >>>= 1, m ^= m << j) {
    for (let k = 0; k < 32; k = ((k | j) + 1) & ~j) {
      const lo = o + k * stride;
      const hi = o + (k | j) * stride;
      const t = ((a[lo]! >>> j) ^ a[hi]!) & m;
      a[hi] = a[hi]! ^ t;
      a[lo] = a[lo]! ^ (t << j);
    }
  }
}

/**
 * Transposes an n x n bit matrix (n = 32 * words; row r is words [r * words, (r + 1) * words)) into
 * `out`: bit c of row r becomes bit r of row c.
 */
export function transposeBits(m: Int32Array, words: number, out: Int32Array): void {
  const stride = words;
  for (let bi = 0; bi < words; bi++) {
    for (let bj = 0; bj < words; bj++) {
      // Block (bi, bj): rows 32 bi .. 32 bi + 31, word bj. Copied to block (bj, bi) and transposed there.
      const src = bi * 32 * stride + bj;
      const dst = bj * 32 * stride + bi;
      let any = 0;
      for (let r = 0; r < 32; r++) {
        const v = m[src + r * stride]!;
        out[dst + r * stride] = v;
        any |= v;
      }
      if (any !== 0) transpose32(out, dst, stride);
    }
  }
}

/** Number of set bits of a 32-bit word. */
function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * The exact number of ordered pairs of distinct pods (a, b) such that a may connect to b on the
 * probe: the count `ScaleEngine.allowedPairs` returns. Memory: one row per isolated egress group and
 * one 32-destination slice of the transposed matrix, never the K x K matrix itself.
 */
export function denseAllowedPairs(v: DenseView, protocol: Protocol, port: number | string, tick?: (done: number) => void): number {
  const plan = planOf(v);
  if (plan === undefined) return 0;
  return new DenseCount(plan, v, protocol, port).sumColumns(tick);
}

/** The bit positions of both sides and the member bitsets of peers: the same for every probe. */
interface Plan {
  readonly src: BitSpace;
  readonly dst: BitSpace;
  readonly srcBits: MemberBits;
  readonly dstBits: MemberBits;
}

/** Plans by the units they were made for: the engine makes new units after any change. */
const plans = new WeakMap<DenseUnits, Plan>();

function planOf(v: DenseView): Plan | undefined {
  const known = v.units && plans.get(v.units);
  if (known) return known;
  const src = BitSpace.of(v, v.units?.source, (a, b) => a.weight - b.weight || a.group[EGRESS] - b.group[EGRESS]);
  if (src === undefined) return undefined;
  const dst = BitSpace.of(v, v.units?.destination, (a, b) => a.group[INGRESS] - b.group[INGRESS] || a.profile.id - b.profile.id)!;
  const plan = { src, dst, srcBits: new MemberBits(src, v), dstBits: new MemberBits(dst, v) };
  if (v.units) plans.set(v.units, plan);
  return plan;
}

/**
 * The relation itself rather than its count, for a reader that draws it (the web page): per class, the
 * bitset of source classes that may connect to it (two different pods of the classes; a pod and itself
 * are always allowed). Bit positions and row order are those of `classes`. Memory: K x K bits.
 */
export interface DenseRelation {
  /** Class ids by bit position. */
  readonly classes: readonly number[];
  /** Words per row. */
  readonly words: number;
  /** Row d (d * words ...): the source classes allowed to reach the class at position d. */
  readonly incoming: Int32Array;
}

export function denseRelation(v: DenseView, protocol: Protocol, port: number | string): DenseRelation {
  // Bits of classes, not units: the reader maps pods to classes.
  const plan = planOf({ ...v, units: undefined });
  if (plan === undefined) return { classes: [], words: 0, incoming: new Int32Array(0) };
  const count = new DenseCount(plan, v, protocol, port);
  return { classes: plan.src.order.map((c) => c.id), words: plan.src.words, incoming: count.relationRows() };
}

/**
 * Bit positions of the classes with pods in some order. Sources are ordered by weight, so that most
 * words hold classes of one weight and the weight of a bitset is, word by word, that weight times a
 * popcount; destinations by ingress cell, so that the destinations of a cell are consecutive and its
 * admitted sources are computed once. (The count is split into small functions and methods so that
 * each hot loop is optimised on its own: one big function is compiled again, whole, for every loop
 * the optimiser enters.)
 */
class BitSpace {
  private constructor(
    /** Classes with pods (or units of them), by position. */
    readonly order: readonly Slot[],
    readonly words: number,
    /** Position of each class id (of its unit; -1: no pods). */
    readonly pos: Int32Array,
    /** Weight by position. */
    readonly w: Float64Array,
    /** Per word: the weight of each of its classes when they all have the same, else -1. */
    readonly wordWeight: Float64Array,
  ) {}

  static of(v: DenseView, unitOf: Int32Array | undefined, compare: (a: Slot, b: Slot) => number): BitSpace | undefined {
    const order = BitSpace.slots(v.classes, unitOf);
    if (order.length === 0) return undefined;
    order.sort(compare);
    const k = order.length;
    const words = (k + 31) >>> 5;
    const pos = new Int32Array(v.classes.length).fill(-1);
    const w = new Float64Array(words * 32);
    for (let i = 0; i < k; i++) {
      const slot = order[i]!;
      for (const c of slot.classes) pos[c.id] = i;
      w[i] = slot.weight;
    }
    const wordWeight = new Float64Array(words);
    for (let i = 0; i < words; i++) {
      const first = w[i * 32]!;
      let same = true;
      for (let b = 1; b < 32 && same; b++) same = w[i * 32 + b] === first;
      wordWeight[i] = same ? first : -1;
    }
    return new BitSpace(order, words, pos, w, wordWeight);
  }

  /** The classes with pods, each its own slot or gathered by unit. */
  private static slots(classes: readonly DenseClass[], unitOf: Int32Array | undefined): Slot[] {
    const out: Slot[] = [];
    if (unitOf === undefined) {
      for (const c of classes) if (c.weight > 0) out.push({ id: c.id, weight: c.weight, profile: c.profile, group: c.group, classes: [c] });
      return out;
    }
    const byUnit = new Map<number, { id: number; weight: number; profile: PortProfile; group: readonly [number, number]; classes: DenseClass[] }>();
    for (const c of classes) {
      if (c.weight === 0) continue;
      const u = unitOf[c.id]!;
      const slot = byUnit.get(u);
      if (slot === undefined) {
        const fresh = { id: c.id, weight: c.weight, profile: c.profile, group: c.group, classes: [c] };
        byUnit.set(u, fresh);
        out.push(fresh);
      } else {
        slot.weight += c.weight;
        slot.classes.push(c);
      }
    }
    return out;
  }

  /** Weight of the classes in word x, the i-th word of a bitset. */
  weightOf(x: number, i: number): number {
    if (x === 0) return 0;
    const ww = this.wordWeight[i]!;
    if (ww >= 0) return ww * popcount(x);
    return this.weightOfBits(x, i);
  }

  private weightOfBits(x: number, i: number): number {
    const w = this.w;
    let sum = 0;
    while (x !== 0) {
      const low = x & -x;
      sum += w[i * 32 + 31 - Math.clz32(low)]!;
      x ^= low;
    }
    return sum;
  }
}

/** Member bitsets of peers in one bit space (for peers with more members than a bitset has words). */
class MemberBits {
  private readonly bits: (Int32Array | undefined)[] = [];

  constructor(
    readonly space: BitSpace,
    private readonly v: DenseView,
  ) {}

  private bitsOf(q: number): Int32Array {
    let b = this.bits[q];
    if (!b) {
      b = this.bits[q] = new Int32Array(this.space.words);
      const pos = this.space.pos;
      const bits = b;
      if (this.v.memberCount(q) * 2 <= this.v.classes.length) {
        this.v.eachMember(q, (c) => {
          const i = pos[c]!;
          if (i >= 0) bits[i >>> 5]! |= 1 << (i & 31);
        });
      } else {
        // A peer matching most classes (an ipBlock such as 10.0.0.0/8 minus a /24): every position,
        // but those of the classes it leaves out. (The classes of one position agree on every peer
        // the count asks about, see `DenseUnits`.)
        const n = this.space.order.length;
        bits.fill(-1, 0, n >>> 5);
        if ((n & 31) !== 0) bits[n >>> 5] = (1 << (n & 31)) - 1;
        this.v.eachNonMember(q, (c) => {
          const i = pos[c]!;
          if (i >= 0) bits[i >>> 5]! &= ~(1 << (i & 31));
        });
      }
    }
    return b;
  }

  /** Adds the member classes of peer q (within `mask`, if given) to the bitset at target[off]. */
  orPeer(target: Int32Array, off: number, q: number, mask: Int32Array | undefined): void {
    const words = this.space.words;
    if (this.v.memberCount(q) > words) {
      const b = this.bitsOf(q);
      if (mask === undefined) for (let i = 0; i < words; i++) target[off + i]! |= b[i]!;
      else for (let i = 0; i < words; i++) target[off + i]! |= b[i]! & mask[i]!;
      return;
    }
    const pos = this.space.pos;
    this.v.eachMember(q, (c) => {
      const i = pos[c]!;
      if (i < 0 || (mask !== undefined && ((mask[i >>> 5]! >>> (i & 31)) & 1) === 0)) return;
      target[off + (i >>> 5)]! |= 1 << (i & 31);
    });
  }
}

/**
 * One probe's count. OUT(E) rows are bitsets over destination positions, IN(c) over source
 * positions; the source x destination matrix (row s = OUT(E(s))) is transposed 32 destinations at a
 * time, a 32 x 32 block per source word: a block whose 32 sources share one row is spread without a
 * transposition, an all-zero block is skipped.
 */
class DenseCount {
  /** Words of a bitset over source positions (IN, columns) and over destination positions (OUT, masks). */
  private readonly words: number;
  private readonly destinationWords: number;
  /** Destination classes of each port profile, for entries whose admission depends on the profile. */
  private readonly profMask: (Int32Array | undefined)[] = [];
  private readonly present: PortProfile[] = [];
  private readonly srcBits: MemberBits;
  private readonly dstBits: MemberBits;
  /** Unions of profile masks, by the set of profiles (ids joined). */
  private readonly unionMasks = new Map<string, Int32Array>();
  /** What each aggregate (by its key) admits the probe to: all, none, or a class mask. */
  private readonly byAgg = new Map<string, Int32Array | boolean>();
  private readonly numeric: boolean;

  private readonly src: BitSpace;
  private readonly dst: BitSpace;

  constructor(
    plan: Plan,
    private readonly v: DenseView,
    private readonly protocol: Protocol,
    private readonly port: number | string,
  ) {
    this.src = plan.src;
    this.dst = plan.dst;
    this.words = plan.src.words;
    this.destinationWords = plan.dst.words;
    this.numeric = typeof port === 'number';
    this.srcBits = plan.srcBits;
    this.dstBits = plan.dstBits;
    for (const c of this.dst.order) {
      let mask = this.profMask[c.profile.id];
      if (!mask) {
        mask = this.profMask[c.profile.id] = new Int32Array(this.destinationWords);
        this.present.push(c.profile);
      }
      const i = this.dst.pos[c.id]!;
      mask[i >>> 5]! |= 1 << (i & 31);
    }
  }

  private maskFor(ids: number[]): Int32Array {
    const key = ids.join(',');
    let m = this.unionMasks.get(key);
    if (!m) {
      m = new Int32Array(this.destinationWords);
      const order = this.dst.order;
      // The cheaper of: the union of the profiles' masks (a bitset per profile), or one pass over the
      // destinations (with hundreds of profiles, as when every pod numbers its named ports its own way).
      if (ids.length * this.destinationWords <= order.length) {
        for (const id of ids) {
          const pm = this.profMask[id]!;
          for (let i = 0; i < this.destinationWords; i++) m[i]! |= pm[i]!;
        }
      } else {
        const admitted = new Uint8Array(this.v.profiles.length);
        for (const id of ids) admitted[id] = 1;
        for (let i = 0; i < order.length; i++) if (admitted[order[i]!.profile.id] === 1) m[i >>> 5]! |= 1 << (i & 31);
      }
      this.unionMasks.set(key, m);
    }
    return m;
  }

  /** Which destinations (by profile) an aggregate admits the probe to: all, none, or a class mask. */
  private admitting(agg: PortAgg): Int32Array | boolean {
    if (agg.all) return true;
    if (this.numeric && !agg.named) return agg.admits(this.protocol, this.port, this.present[0]!);
    const key = agg.key;
    let a = this.byAgg.get(key);
    if (a === undefined) {
      const ids: number[] = [];
      for (const p of this.present) if (agg.admits(this.protocol, this.port, p)) ids.push(p.id);
      a = ids.length === this.present.length ? true : ids.length === 0 ? false : this.maskFor(ids);
      this.byAgg.set(key, a);
    }
    return a;
  }

  /** OUT(E) into out[off]: the destination classes egress group g admits; false when it admits all. */
  private outRow(g: DenseGroup, out: Int32Array, off: number): boolean {
    if (g.any) {
      const a = this.admitting(g.any);
      if (a === true) return false;
      if (a !== false) for (let i = 0; i < this.destinationWords; i++) out[off + i]! |= a[i]!;
    }
    const qs = g.tablePeers;
    const aggs = g.tableAggs;
    for (let e = 0; e < qs.length; e++) {
      const a = this.admitting(aggs[e]!);
      if (a !== false) this.dstBits.orPeer(out, off, qs[e]!, a === true ? undefined : a);
    }
    return true;
  }

  /**
   * The OUT rows of the isolated egress groups, and per source position the offset of its row (-1:
   * the source reaches every destination).
   */
  private outRows(): { rows: Int32Array; rowOf: Int32Array } {
    const words = this.destinationWords;
    const groups = this.v.groups;
    let egressGroups = 0;
    for (const g of groups) if (g.dir !== INGRESS && g.weight > 0 && g.isolated) egressGroups++;
    const rows = new Int32Array(egressGroups * words);
    const outAt = new Int32Array(groups.length).fill(-1);
    let next = 0;
    for (const g of groups) {
      if (g.dir === INGRESS || g.weight === 0 || !g.isolated) continue; // not isolated: every class (-1)
      const off = next * words;
      next++;
      if (this.outRow(g, rows, off)) outAt[g.id] = off;
    }
    const order = this.src.order;
    const rowOf = new Int32Array(this.words * 32).fill(-2); // -2: no class at this position
    for (let i = 0; i < order.length; i++) rowOf[i] = outAt[order[i]!.group[0]]!;
    return { rows, rowOf };
  }

  /** The group and table entries `into` was last made of (cells of one group often admit the same entries). */
  private inGroup = -1;
  private inEntries: number[] = [];
  private readonly entries: number[] = [];

  /**
   * Sources an ingress cell admits, into `into`; false when it admits none, undefined when all. Left as
   * it is when the cell's table entries admitting the probe are those it was last made of.
   */
  private inBits(g: DenseGroup, profile: PortProfile, into: Int32Array): boolean | undefined {
    if (!g.isolated || (g.any !== undefined && g.any.admits(this.protocol, this.port, profile))) return undefined;
    const entries = this.entries;
    entries.length = 0;
    const aggs = g.tableAggs;
    for (let e = 0; e < aggs.length; e++) if (aggs[e]!.admits(this.protocol, this.port, profile)) entries.push(e);
    if (entries.length === 0) return false;
    const last = this.inEntries;
    if (g.id === this.inGroup && last.length === entries.length && entries.every((e, i) => last[i] === e)) return true;
    into.fill(0);
    const qs = g.tablePeers;
    for (const e of entries) this.srcBits.orPeer(into, 0, qs[e]!, undefined);
    this.inGroup = g.id;
    this.inEntries = entries.slice();
    return true;
  }

  /** Sum over destinations d of w(d) x weight(IN(cell of d) AND column d), self pairs out. */
  sumColumns(tick?: (done: number) => void): number {
    let total = 0;
    this.eachColumn((d, cols, off, into) => {
      total += this.columnSum(d, cols, off, into);
    }, tick);
    return total;
  }

  /** Per destination, its sources (IN of its cell AND its column) as a row by source position. */
  relationRows(): Int32Array {
    const words = this.words;
    const out = new Int32Array(this.src.order.length * words);
    this.eachColumn((d, cols, off, into) => {
      const at = this.src.pos[d.id]! * words;
      for (let i = 0; i < words; i++) out[at + i] = into === undefined ? cols[off + i]! : into[i]! & cols[off + i]!;
    });
    return out;
  }

  /**
   * Each destination that some source may reach, with its column (cols[off ..], over source positions)
   * and the sources its ingress cell admits (`into`; undefined: every source). Destinations whose cell
   * admits nobody are skipped; a 32-destination slice is transposed only when one of them is visited.
   */
  private eachColumn(visit: (d: Slot, cols: Int32Array, off: number, into: Int32Array | undefined) => void, tick?: (done: number) => void): void {
    const { rows, rowOf } = this.outRows();
    const words = this.words;
    const cols = new Int32Array(32 * words);
    const block = new Int32Array(32);
    const into = new Int32Array(words);
    const order = this.dst.order;
    const groups = this.v.groups;
    const profiles = this.v.profiles;
    let cellGroup = -1;
    let cellProfile = -1;
    let admitted: boolean | undefined = false;
    const destinationWords = this.destinationWords;
    for (let bj = 0; bj < destinationWords; bj++) {
      tick?.(Math.floor(((bj + 1) / destinationWords) * groups.length));
      let sliced = false;
      for (let b = 0; b < 32 && 32 * bj + b < order.length; b++) {
        const d = order[32 * bj + b]!;
        if (d.group[INGRESS] !== cellGroup || d.profile.id !== cellProfile) {
          cellGroup = d.group[INGRESS];
          cellProfile = d.profile.id;
          admitted = this.inBits(groups[cellGroup]!, profiles[cellProfile]!, into);
        }
        if (admitted === false) continue;
        if (!sliced) {
          this.slice(rows, rowOf, bj, cols, block);
          sliced = true;
        }
        visit(d, cols, b * words, admitted === undefined ? undefined : into);
      }
    }
  }

  /**
   * Columns of destinations 32 bj .. 32 bj + 31 (over source positions) into cols[b * words ..]; the OUT
   * rows are over destination positions, word bj of each is read.
   */
  private slice(rows: Int32Array, rowOf: Int32Array, bj: number, cols: Int32Array, block: Int32Array): void {
    const words = this.words;
    for (let bi = 0; bi < words; bi++) {
      const base = bi * 32;
      const first = rowOf[base]!;
      let uniform = first !== -2;
      let any = 0;
      for (let r = 0; r < 32; r++) {
        const at = rowOf[base + r]!;
        const x = at === -2 ? 0 : at === -1 ? -1 : rows[at + bj]!;
        block[r] = x;
        any |= x;
        if (at !== first) uniform = false;
      }
      if (any === 0) {
        for (let b = 0; b < 32; b++) cols[b * words + bi] = 0;
      } else if (uniform) {
        const x = block[0]!;
        for (let b = 0; b < 32; b++) cols[b * words + bi] = ((x >>> b) & 1) === 1 ? -1 : 0;
      } else {
        transpose32(block, 0, 1);
        for (let b = 0; b < 32; b++) cols[b * words + bi] = block[b]!;
      }
    }
  }

  /** w(d) x weight(IN AND column of d) (IN undefined: every source), the self pairs of d's classes out. */
  private columnSum(d: Slot, cols: Int32Array, off: number, into: Int32Array | undefined): number {
    const src = this.src;
    const words = this.words;
    let sum = 0;
    if (into === undefined) for (let i = 0; i < words; i++) sum += src.weightOf(cols[off + i]!, i);
    else for (let i = 0; i < words; i++) sum += src.weightOf(into[i]! & cols[off + i]!, i);
    // The pair (c, c) of a class stands for w(c) x w(c) pod pairs, of which w(c) are self pairs: a pod
    // of c as a source is at c's source position.
    let self = 0;
    for (const c of d.classes) {
      const s = src.pos[c.id]!;
      const admitsSelf = into === undefined || ((into[s >>> 5]! >>> (s & 31)) & 1) === 1;
      if (admitsSelf && ((cols[off + (s >>> 5)]! >>> (s & 31)) & 1) === 1) self += c.weight;
    }
    return d.weight * sum - self;
  }
}
