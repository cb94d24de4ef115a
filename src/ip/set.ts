/**
 * Immutable sets of IP addresses of both families.
 *
 * Design choice: each family is a sorted array of disjoint, non-adjacent inclusive intervals of
 * bigints. This is the canonical form (two equal sets have identical arrays), membership is a binary
 * search, set algebra is a linear merge (intervals.ts, the one interval algebra), and a minimal CIDR
 * cover falls out of each interval independently (no CIDR block can straddle the gap between two
 * intervals).
 */

import type { CIDR, Family, IP } from './parse.js';
import { cidrLast, familyBits, maxAddress } from './parse.js';
import { intersectSpans, sameSpans, spansContain, subtractSpans, unionSpans } from './intervals.js';

export type Interval = readonly [bigint, bigint];
type Intervals = readonly Interval[];

const EMPTY: Intervals = Object.freeze([]);

/** Sorts and merges overlapping or adjacent intervals; drops empty ones. */
function normalise(list: Iterable<Interval>): Intervals {
  return freeze(unionSpans(list));
}

function freeze(list: [bigint, bigint][]): Intervals {
  if (list.length === 0) return EMPTY;
  return Object.freeze(list.map((iv) => Object.freeze(iv) as Interval));
}

function unionOf(a: Intervals, b: Intervals): Intervals {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return normalise([...a, ...b]);
}

function subtractOf(a: Intervals, b: Intervals): Intervals {
  if (a.length === 0 || b.length === 0) return a;
  return freeze(subtractSpans(a, b));
}

function intersectOf(a: Intervals, b: Intervals): Intervals {
  if (a.length === 0 || b.length === 0) return EMPTY;
  return freeze(intersectSpans(a, b));
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Minimal CIDR cover of one interval: greedily the largest aligned block that fits. */
function intervalToCIDRs(family: Family, lo0: bigint, hi: bigint, out: CIDR[]): void {
  const bits = familyBits(family);
  let lo = lo0;
  while (lo <= hi) {
    // Largest block aligned at lo (2^bits when lo is 0) ...
    const alignBits = lo === 0n ? bits : bitLength(lo & -lo) - 1;
    // ... and the largest power of two not exceeding the remaining length.
    const fitBits = bitLength(hi - lo + 1n) - 1;
    const blockBits = Math.min(alignBits, fitBits);
    out.push({ family, base: lo, prefix: bits - blockBits });
    lo += 1n << BigInt(blockBits);
  }
}

/** Immutable set of addresses of both families, as sorted disjoint inclusive intervals per family. */
export class AddressSet {
  private static readonly EMPTY_SET = new AddressSet(EMPTY, EMPTY);
  private static readonly ALL_SET = new AddressSet(Object.freeze([Object.freeze([0n, maxAddress(4)] as const)]), Object.freeze([Object.freeze([0n, maxAddress(6)] as const)]));

  private constructor(
    private readonly v4: Intervals,
    private readonly v6: Intervals,
  ) {}

  static empty(): AddressSet {
    return AddressSet.EMPTY_SET;
  }

  /** Every IPv4 and every IPv6 address. */
  static all(): AddressSet {
    return AddressSet.ALL_SET;
  }

  static fromCIDR(c: CIDR): AddressSet {
    const iv: Intervals = Object.freeze([Object.freeze([c.base, cidrLast(c)] as const)]);
    return c.family === 4 ? new AddressSet(iv, EMPTY) : new AddressSet(EMPTY, iv);
  }

  static fromIP(ip: IP): AddressSet {
    return AddressSet.fromCIDR({ family: ip.family, base: ip.value, prefix: familyBits(ip.family) });
  }

  /** From arbitrary (possibly overlapping, unsorted) inclusive intervals of one family; clipped to the family's range. */
  static fromIntervals(family: Family, list: Iterable<Interval>): AddressSet {
    const max = maxAddress(family);
    const clipped: Interval[] = [];
    for (const [lo, hi] of list) {
      const l = lo < 0n ? 0n : lo;
      const h = hi > max ? max : hi;
      if (l <= h) clipped.push([l, h]);
    }
    const iv = normalise(clipped);
    return family === 4 ? new AddressSet(iv, EMPTY) : new AddressSet(EMPTY, iv);
  }

  /** Union of many sets. */
  static unionAll(sets: Iterable<AddressSet>): AddressSet {
    const v4: Interval[] = [];
    const v6: Interval[] = [];
    for (const s of sets) {
      v4.push(...s.v4);
      v6.push(...s.v6);
    }
    return new AddressSet(normalise(v4), normalise(v6));
  }

  union(o: AddressSet): AddressSet {
    return new AddressSet(unionOf(this.v4, o.v4), unionOf(this.v6, o.v6));
  }

  subtract(o: AddressSet): AddressSet {
    return new AddressSet(subtractOf(this.v4, o.v4), subtractOf(this.v6, o.v6));
  }

  intersect(o: AddressSet): AddressSet {
    return new AddressSet(intersectOf(this.v4, o.v4), intersectOf(this.v6, o.v6));
  }

  /** O(log n). */
  contains(ip: IP): boolean {
    return spansContain(ip.family === 4 ? this.v4 : this.v6, ip.value);
  }

  isEmpty(): boolean {
    return this.v4.length === 0 && this.v6.length === 0;
  }

  equals(o: AddressSet): boolean {
    return sameSpans(this.v4, o.v4) && sameSpans(this.v6, o.v6);
  }

  /** Whether every address of this set is in `o`. */
  isSubsetOf(o: AddressSet): boolean {
    return this.subtract(o).isEmpty();
  }

  intervals(family: Family): readonly (readonly [bigint, bigint])[] {
    return family === 4 ? this.v4 : this.v6;
  }

  /** Number of addresses of one family in the set. */
  size(family: Family): bigint {
    let n = 0n;
    for (const [lo, hi] of this.intervals(family)) n += hi - lo + 1n;
    return n;
  }

  /** Minimal list of CIDRs covering exactly this set: IPv4 first, each family in ascending order. */
  toCIDRs(): CIDR[] {
    const out: CIDR[] = [];
    for (const [lo, hi] of this.v4) intervalToCIDRs(4, lo, hi, out);
    for (const [lo, hi] of this.v6) intervalToCIDRs(6, lo, hi, out);
    return out;
  }
}
