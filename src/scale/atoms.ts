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

  constructor(private readonly sets: readonly AddressSet[]) {
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

  /**
   * For each of these addresses, the sets (indices in the order given to the constructor, ascending)
   * that contain it. Computed per atom that holds one of them, by walking each set's intervals over
   * those atoms only: the cost follows the memberships found, not sets x addresses.
   */
  containing(ips: readonly IP[]): (ip: IP) => readonly number[] {
    const occupied4 = [...new Set(ips.filter((ip) => ip.family === 4).map((ip) => atomOf(this.v4, Number(ip.value))))].sort((a, b) => a - b);
    const occupied6 = [...new Set(ips.filter((ip) => ip.family === 6).map((ip) => atomOf6(this.v6, ip.value)))].sort((a, b) => a - b);
    const lists4 = occupied4.map((): number[] => []);
    const lists6 = occupied6.map((): number[] => []);
    this.sets.forEach((set, k) => {
      for (const [lo, hi] of set.intervals(4)) {
        for (let i = firstAtLeast(occupied4, atomOf(this.v4, Number(lo))); i < occupied4.length && occupied4[i]! <= atomOf(this.v4, Number(hi)); i++) lists4[i]!.push(k);
      }
      for (const [lo, hi] of set.intervals(6)) {
        for (let i = firstAtLeast(occupied6, atomOf6(this.v6, lo)); i < occupied6.length && occupied6[i]! <= atomOf6(this.v6, hi); i++) lists6[i]!.push(k);
      }
    });
    return (ip) => (ip.family === 4 ? lists4[firstAtLeast(occupied4, atomOf(this.v4, Number(ip.value)))]! : lists6[firstAtLeast(occupied6, atomOf6(this.v6, ip.value))]!);
  }
}

/** Index of the first element >= x in an ascending list (its length: none). */
function firstAtLeast(list: readonly number[], x: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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
