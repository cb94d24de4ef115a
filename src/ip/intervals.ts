/**
 * The one interval algebra: sorted, disjoint, non-adjacent inclusive spans [lo, hi] of integers, as
 * numbers (ports, IPv4 addresses in the nft compiler) or bigints (addresses of both families). Address
 * sets (set.ts), port sets (src/policy/portset.ts) and the nft compiler's peer sets use it.
 *
 * Design choice: plain arrays of pairs, no class: the callers keep their own representations (frozen
 * bigint intervals, port ranges, number pairs) and call these functions on them. Union and
 * normalisation sort, then merge in one pass; intersection and subtraction are linear merges of two
 * normalised lists; membership is a binary search. Inputs of the two-list operations must be normalised.
 */

export type Bound = number | bigint;
export type Span<V extends Bound> = readonly [V, V];

function plusOne<V extends Bound>(v: V): V {
  return (typeof v === 'bigint' ? v + 1n : (v as number) + 1) as V;
}

function minusOne<V extends Bound>(v: V): V {
  return (typeof v === 'bigint' ? v - 1n : (v as number) - 1) as V;
}

/** Sorts and merges overlapping or adjacent spans; drops empty ones (lo > hi). */
export function unionSpans<V extends Bound>(list: Iterable<Span<V>>): [V, V][] {
  const sorted = [...list].filter(([lo, hi]) => lo <= hi).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: [V, V][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && lo <= plusOne(last[1])) {
      if (hi > last[1]) last[1] = hi;
    } else out.push([lo, hi]);
  }
  return out;
}

/** The values in both (normalised) lists. */
export function intersectSpans<V extends Bound>(a: readonly Span<V>[], b: readonly Span<V>[]): [V, V][] {
  const out: [V, V][] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const [alo, ahi] = a[i] as Span<V>;
    const [blo, bhi] = b[j] as Span<V>;
    const lo = alo > blo ? alo : blo;
    const hi = ahi < bhi ? ahi : bhi;
    if (lo <= hi) out.push([lo, hi]);
    if (ahi < bhi) i++;
    else j++;
  }
  return out;
}

/** The values of `a` not in `b` (both normalised). */
export function subtractSpans<V extends Bound>(a: readonly Span<V>[], b: readonly Span<V>[]): [V, V][] {
  const out: [V, V][] = [];
  let j = 0;
  for (const [lo0, hi] of a) {
    let lo = lo0;
    // Skip cuts entirely below this span.
    while (j < b.length && (b[j] as Span<V>)[1] < lo) j++;
    let k = j;
    while (k < b.length && lo <= hi) {
      const [clo, chi] = b[k] as Span<V>;
      if (clo > hi) break;
      if (clo > lo) out.push([lo, minusOne(clo)]);
      lo = plusOne(chi);
      k++;
    }
    if (lo <= hi) out.push([lo, hi]);
  }
  return out;
}

/** Whether `v` lies in a (normalised) list: a binary search. */
export function spansContain<V extends Bound>(list: readonly Span<V>[], v: V): boolean {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [s, e] = list[mid] as Span<V>;
    if (v < s) hi = mid - 1;
    else if (v > e) lo = mid + 1;
    else return true;
  }
  return false;
}

export function sameSpans<V extends Bound>(a: readonly Span<V>[], b: readonly Span<V>[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) {
    const x = a[k] as Span<V>;
    const y = b[k] as Span<V>;
    if (x[0] !== y[0] || x[1] !== y[1]) return false;
  }
  return true;
}
