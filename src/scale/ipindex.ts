/**
 * Pods by address, sorted, so "which pods lie in this ipBlock" is a few binary searches plus the pods
 * found, not a scan of every pod. IPv4 addresses are kept as plain numbers (fast compares), IPv6 as
 * bigints.
 */
import type { IP, Interval } from '../ip/index.js';

interface Entry<V, T> {
  readonly v: V;
  readonly item: T;
}

function lowerBound<V>(list: readonly Entry<V, unknown>[], v: V): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] as Entry<V, unknown>).v < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class IpIndex<T> {
  private v4: Entry<number, T>[] = [];
  private v6: Entry<bigint, T>[] = [];

  /** Bulk load (sorts once). */
  static of<T>(items: Iterable<{ readonly item: T; readonly ips: readonly IP[] }>): IpIndex<T> {
    const idx = new IpIndex<T>();
    for (const { item, ips } of items) {
      for (const ip of ips) {
        if (ip.family === 4) idx.v4.push({ v: Number(ip.value), item });
        else idx.v6.push({ v: ip.value, item });
      }
    }
    idx.v4.sort((a, b) => a.v - b.v);
    idx.v6.sort((a, b) => (a.v < b.v ? -1 : a.v > b.v ? 1 : 0));
    return idx;
  }

  insert(item: T, ips: readonly IP[]): void {
    for (const ip of ips) {
      if (ip.family === 4) {
        const v = Number(ip.value);
        this.v4.splice(lowerBound(this.v4, v), 0, { v, item });
      } else {
        this.v6.splice(lowerBound(this.v6, ip.value), 0, { v: ip.value, item });
      }
    }
  }

  remove(item: T, ips: readonly IP[]): void {
    for (const ip of ips) {
      if (ip.family === 4) removeFrom(this.v4, Number(ip.value), item);
      else removeFrom(this.v6, ip.value, item);
    }
  }

  /** Calls `f` for every (item, address) with the address in one of the intervals (an item may come twice). */
  within(family: 4 | 6, intervals: readonly Interval[], f: (item: T) => void): void {
    if (family === 4) {
      for (const [lo, hi] of intervals) {
        const h = Number(hi);
        for (let i = lowerBound(this.v4, Number(lo)); i < this.v4.length; i++) {
          const e = this.v4[i] as Entry<number, T>;
          if (e.v > h) break;
          f(e.item);
        }
      }
    } else {
      for (const [lo, hi] of intervals) {
        for (let i = lowerBound(this.v6, lo); i < this.v6.length; i++) {
          const e = this.v6[i] as Entry<bigint, T>;
          if (e.v > hi) break;
          f(e.item);
        }
      }
    }
  }
}

function removeFrom<V>(list: Entry<V, unknown>[], v: V, item: unknown): void {
  for (let i = lowerBound(list, v); i < list.length && (list[i] as Entry<V, unknown>).v === v; i++) {
    if ((list[i] as Entry<V, unknown>).item === item) {
      list.splice(i, 1);
      return;
    }
  }
}
