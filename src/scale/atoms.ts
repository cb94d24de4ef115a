/**
 * Address atoms: the boundaries of the cluster's ipBlock peers cut each address family into intervals
 * (atoms) whose addresses all lie in the same peers. Pods whose addresses fall in the same atoms have
 * the same ipBlock signature, so the signature is computed once per distinct set of atoms (a few
 * hundred in a cluster of 100,000 pods), not by walking each peer's pods: a peer such as
 * `10.0.0.0/8` minus one /24 contains nearly every pod, and hundreds of them would otherwise make
 * hundreds of millions of steps.
 */
import type { AddressSet, IP } from '../ip/index.js';

export class AddressAtoms {
  /** Ascending starts of the atoms, per family (an address before the first is in atom -1). */
  private readonly v4: Float64Array;
  private readonly v6: bigint[];

  constructor(sets: Iterable<AddressSet>) {
    const v4 = new Set<number>();
    const v6 = new Set<bigint>();
    for (const set of sets) {
      for (const [lo, hi] of set.intervals(4)) {
        v4.add(Number(lo));
        v4.add(Number(hi) + 1);
      }
      for (const [lo, hi] of set.intervals(6)) {
        v6.add(lo);
        v6.add(hi + 1n);
      }
    }
    this.v4 = Float64Array.from(v4).sort();
    this.v6 = [...v6].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The atoms of a pod's addresses, as a key: equal keys, equal ipBlock signatures. */
  keyOf(ips: readonly IP[]): string {
    let key = '';
    for (const ip of ips) key += ip.family === 4 ? `${atomOf(this.v4, Number(ip.value))},` : `6:${atomOf6(this.v6, ip.value)},`;
    return key;
  }
}

/** Index of the last start <= x (-1: none). */
function atomOf(starts: Float64Array, x: number): number {
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

function atomOf6(starts: readonly bigint[], x: bigint): number {
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
