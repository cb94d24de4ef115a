/**
 * The whole-relation count for clusters with few classes: two class x class bit matrices, no memos.
 *
 * Design choice. With K classes, the allowed pairs are
 *   sum over classes s, d of w(s) w(d) [egress of s admits d] [ingress of d admits s], minus the self pairs
 *   sum over c of w(c) [c admits c].
 * The sweep (engine.ts) factorises that sum per (egress group, ingress cell) to stay far below K x K
 * at 100,000 classes, at the price of many maps and memos. Below a few thousand classes the K x K
 * relation fits in a few megabytes of bits, and building it word by word is cheaper than any memo:
 * - OUT(E), the destination classes egress group E admits, is the union of the member bitsets of the
 *   peers its table admits (a named port makes an entry admit only destinations of some port profiles:
 *   its members are masked with those profiles' classes); row s of the matrix is OUT(E(s));
 * - the matrix is transposed in 32 x 32 blocks, so row d lists the sources whose egress admits d;
 * - IN(c), the sources an ingress cell c (group, destination profile) admits, is built the same way;
 *   for each destination d of the cell, the sum of w(s) over the set bits of IN(c) AND column d is
 *   what d receives. A bit set for d itself is the self pair, subtracted.
 * The result is the same relation the sweep counts (and the property tests hold both to the oracle);
 * the engine chooses this path when K is small (see `ScaleOptions.strategy`).
 */
import type { Protocol } from '../model/cluster.js';
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

export interface DensePeer {
  readonly members: readonly number[];
}

export interface DenseView {
  readonly classes: readonly DenseClass[];
  readonly groups: readonly DenseGroup[];
  readonly peers: readonly DensePeer[];
  readonly profiles: readonly PortProfile[];
}

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
 * probe: the count `ScaleEngine.allowedPairs` returns. Memory: two K x K bit matrices.
 */
export function denseAllowedPairs(v: DenseView, protocol: Protocol, port: number | string, tick?: (done: number) => void): number {
  const space = BitSpace.of(v);
  if (space === undefined) return 0;
  const count = new DenseCount(space, v, protocol, port);
  const m = count.sourceRows();
  const t = new Int32Array(space.n * space.words);
  transposeBits(m, space.words, t);
  return count.sumCells(t, tick);
}

/**
 * The relation itself rather than its count, for a reader that draws it (the web UI): per destination
 * class, the bitset of source classes that may connect to it (two different pods of the classes;
 * a pod and itself are always allowed). Bit positions are those of `classes`. Memory: two K x K bit
 * matrices while building, one returned.
 */
export interface DenseRelation {
  /** Class ids by bit position. */
  readonly classes: readonly number[];
  /** Words per row. */
  readonly words: number;
  /** Row d (d * words ... ): the source classes allowed to reach destination class d. */
  readonly incoming: Int32Array;
}

export function denseRelation(v: DenseView, protocol: Protocol, port: number | string): DenseRelation {
  const space = BitSpace.of(v);
  if (space === undefined) return { classes: [], words: 0, incoming: new Int32Array(0) };
  const count = new DenseCount(space, v, protocol, port);
  const t = new Int32Array(space.n * space.words);
  transposeBits(count.sourceRows(), space.words, t);
  count.applyIngress(t);
  return { classes: space.byWeight.map((c) => c.id), words: space.words, incoming: t };
}

/**
 * Bit positions of the classes with pods, ordered by weight, so that most words hold classes of one
 * weight and the weight of a bitset is, word by word, that weight times a popcount. (The count is
 * split into small functions and methods so that each hot loop is optimised on its own: one big
 * function is compiled again, whole, for every loop the optimiser enters.)
 */
class BitSpace {
  private constructor(
    /** Classes with pods, by position. */
    readonly byWeight: readonly DenseClass[],
    readonly words: number,
    readonly n: number,
    /** Position of each class id (-1: no pods). */
    readonly pos: Int32Array,
    /** Weight by position. */
    readonly w: Float64Array,
    /** Per word: the weight of each of its classes when they all have the same, else -1. */
    readonly wordWeight: Float64Array,
  ) {}

  static of(v: DenseView): BitSpace | undefined {
    const byWeight: DenseClass[] = [];
    for (const c of v.classes) if (c.weight > 0) byWeight.push(c);
    if (byWeight.length === 0) return undefined;
    byWeight.sort((a, b) => a.weight - b.weight);
    const k = byWeight.length;
    const words = (k + 31) >>> 5;
    const n = words * 32;
    const pos = new Int32Array(v.classes.length).fill(-1);
    const w = new Float64Array(n);
    for (let i = 0; i < k; i++) {
      const c = byWeight[i]!;
      pos[c.id] = i;
      w[i] = c.weight;
    }
    const wordWeight = new Float64Array(words);
    for (let i = 0; i < words; i++) {
      const first = w[i * 32]!;
      let same = true;
      for (let b = 1; b < 32 && same; b++) same = w[i * 32 + b] === first;
      wordWeight[i] = same ? first : -1;
    }
    return new BitSpace(byWeight, words, n, pos, w, wordWeight);
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

/** One probe's count over a bit space. */
class DenseCount {
  private readonly words: number;
  /** Classes of each port profile (with pods), for entries whose admission depends on the profile. */
  private readonly profMask: (Int32Array | undefined)[] = [];
  private readonly present: PortProfile[] = [];
  /** Member bitsets of the peers, built for those with more members than a bitset has words. */
  private readonly memberBits: (Int32Array | undefined)[] = [];
  /** Unions of profile masks, by the set of profiles (ids joined). */
  private readonly unionMasks = new Map<string, Int32Array>();
  /** What each aggregate (by its key) admits the probe to: all, none, or a class mask. */
  private readonly byAgg = new Map<string, Int32Array | boolean>();
  private readonly numeric: boolean;

  constructor(
    private readonly space: BitSpace,
    private readonly v: DenseView,
    private readonly protocol: Protocol,
    private readonly port: number | string,
  ) {
    this.words = space.words;
    this.numeric = typeof port === 'number';
    for (const c of space.byWeight) {
      let mask = this.profMask[c.profile.id];
      if (!mask) {
        mask = this.profMask[c.profile.id] = new Int32Array(this.words);
        this.present.push(c.profile);
      }
      const i = space.pos[c.id]!;
      mask[i >>> 5]! |= 1 << (i & 31);
    }
  }

  private bitsOf(q: number): Int32Array {
    let b = this.memberBits[q];
    if (!b) {
      b = this.memberBits[q] = new Int32Array(this.words);
      const pos = this.space.pos;
      for (const c of this.v.peers[q]!.members) {
        const i = pos[c]!;
        if (i >= 0) b[i >>> 5]! |= 1 << (i & 31);
      }
    }
    return b;
  }

  /** Adds the member classes of peer q (within `mask`, if given) to the bitset at target[off]. */
  private orPeer(target: Int32Array, off: number, q: number, mask: Int32Array | undefined): void {
    const members = this.v.peers[q]!.members;
    const words = this.words;
    if (members.length > words) {
      const b = this.bitsOf(q);
      if (mask === undefined) for (let i = 0; i < words; i++) target[off + i]! |= b[i]!;
      else for (let i = 0; i < words; i++) target[off + i]! |= b[i]! & mask[i]!;
      return;
    }
    const pos = this.space.pos;
    for (const c of members) {
      const i = pos[c]!;
      if (i < 0 || (mask !== undefined && ((mask[i >>> 5]! >>> (i & 31)) & 1) === 0)) continue;
      target[off + (i >>> 5)]! |= 1 << (i & 31);
    }
  }

  private maskFor(ids: number[]): Int32Array {
    const key = ids.join(',');
    let m = this.unionMasks.get(key);
    if (!m) {
      m = new Int32Array(this.words);
      for (const id of ids) {
        const pm = this.profMask[id]!;
        for (let i = 0; i < this.words; i++) m[i]! |= pm[i]!;
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
      if (a !== false) for (let i = 0; i < this.words; i++) out[off + i]! |= a[i]!;
    }
    const qs = g.tablePeers;
    const aggs = g.tableAggs;
    for (let e = 0; e < qs.length; e++) {
      const a = this.admitting(aggs[e]!);
      if (a !== false) this.orPeer(out, off, qs[e]!, a === true ? undefined : a);
    }
    return true;
  }

  /** The source x destination matrix: row s is OUT(E(s)). */
  sourceRows(): Int32Array {
    const { words, n, byWeight } = this.space;
    const groups = this.v.groups;
    let egressGroups = 0;
    for (const g of groups) if (g.dir !== INGRESS && g.weight > 0 && g.isolated) egressGroups++;
    const outBuf = new Int32Array(egressGroups * words);
    const outAt = new Int32Array(groups.length).fill(-1);
    let next = 0;
    for (const g of groups) {
      if (g.dir === INGRESS || g.weight === 0 || !g.isolated) continue; // not isolated: every class (-1)
      const off = next * words;
      next++;
      if (this.outRow(g, outBuf, off)) outAt[g.id] = off;
    }
    const m = new Int32Array(n * words);
    const k = byWeight.length;
    for (let i = 0; i < k; i++) fillRow(m, i * words, words, k, outBuf, outAt[byWeight[i]!.group[0]]!);
    return m;
  }

  /** Sources an ingress cell admits, into `into`; false when it admits none, undefined when all. */
  private inBits(g: DenseGroup, profile: PortProfile, into: Int32Array): boolean | undefined {
    if (!g.isolated || (g.any !== undefined && g.any.admits(this.protocol, this.port, profile))) return undefined;
    into.fill(0);
    let some = false;
    const qs = g.tablePeers;
    const aggs = g.tableAggs;
    for (let e = 0; e < qs.length; e++) {
      if (aggs[e]!.admits(this.protocol, this.port, profile)) {
        this.orPeer(into, 0, qs[e]!, undefined);
        some = true;
      }
    }
    return some;
  }

  /** Row d of t (sources whose egress admits d) AND the sources d's ingress cell admits: the relation. */
  applyIngress(t: Int32Array): void {
    const { groups, profiles } = this.v;
    const { pos, words } = this.space;
    const into = new Int32Array(words);
    for (const g of groups) {
      if (g.dir !== INGRESS || g.weight === 0) continue;
      for (const [pid, cell] of g.byProfile) {
        if (cell.w === 0) continue;
        const admitted = this.inBits(g, profiles[pid]!, into);
        if (admitted === undefined) continue;
        for (const id of cell.classes) {
          const d = pos[id]!;
          if (d < 0) continue;
          const base = d * words;
          if (admitted === false) t.fill(0, base, base + words);
          else for (let i = 0; i < words; i++) t[base + i]! &= into[i]!;
        }
      }
    }
  }

  /** Sum over ingress cells and their destinations d of w(d) x weight(IN(cell) AND column d), self pairs out. */
  sumCells(t: Int32Array, tick?: (done: number) => void): number {
    const { groups, profiles } = this.v;
    const into = new Int32Array(this.words);
    let total = 0;
    for (const g of groups) {
      tick?.(g.id + 1);
      if (g.dir !== INGRESS || g.weight === 0) continue;
      for (const [pid, cell] of g.byProfile) {
        if (cell.w === 0) continue;
        const admitted = this.inBits(g, profiles[pid]!, into);
        if (admitted === false) continue;
        total += this.cellSum(cell.classes, admitted === undefined ? undefined : into, t);
      }
    }
    return total;
  }

  /** One cell's destinations: IN (undefined: every source) AND each one's column of t. */
  private cellSum(classes: ReadonlySet<number>, into: Int32Array | undefined, t: Int32Array): number {
    const { pos, w, words } = this.space;
    const space = this.space;
    let total = 0;
    for (const id of classes) {
      const d = pos[id]!;
      if (d < 0) continue;
      const base = d * words;
      let sum = 0;
      if (into === undefined) for (let i = 0; i < words; i++) sum += space.weightOf(t[base + i]!, i);
      else for (let i = 0; i < words; i++) sum += space.weightOf(into[i]! & t[base + i]!, i);
      // The pair (d, d) stands for w(d) x w(d) pod pairs, of which w(d) are self pairs.
      const admitsSelf = into === undefined || ((into[d >>> 5]! >>> (d & 31)) & 1) === 1;
      const self = admitsSelf && ((t[base + (d >>> 5)]! >>> (d & 31)) & 1) === 1;
      const wd = w[d]!;
      total += wd * sum - (self ? wd : 0);
    }
    return total;
  }
}

/** Row `row` of m: a copy of out[off] (off -1: every one of the k classes). */
function fillRow(m: Int32Array, row: number, words: number, k: number, out: Int32Array, off: number): void {
  if (off < 0) {
    for (let x = 0; x < words; x++) m[row + x] = -1;
    if ((k & 31) !== 0) m[row + words - 1] = (1 << (k & 31)) - 1;
  } else {
    for (let x = 0; x < words; x++) m[row + x] = out[off + x]!;
  }
}
