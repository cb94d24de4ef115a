/**
 * Sets of port numbers as sorted, disjoint, inclusive ranges within 1..65535. Small and immutable: the
 * engine uses them to answer "which ports" when a question names none, and to intersect what the two
 * ends of a connection allow.
 */

export const MIN_PORT = 1;
export const MAX_PORT = 65535;

export type PortRange = readonly [number, number];

export class PortSet {
  private constructor(readonly ranges: readonly PortRange[]) {}

  static readonly EMPTY = new PortSet([]);
  static readonly ALL = new PortSet([[MIN_PORT, MAX_PORT]]);

  static range(from: number, to: number): PortSet {
    const lo = Math.max(MIN_PORT, from);
    const hi = Math.min(MAX_PORT, to);
    return lo > hi ? PortSet.EMPTY : new PortSet([[lo, hi]]);
  }

  static of(ranges: readonly PortRange[]): PortSet {
    return ranges.reduce((acc, [a, b]) => acc.union(PortSet.range(a, b)), PortSet.EMPTY);
  }

  isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  isAll(): boolean {
    return this.ranges.length === 1 && this.ranges[0]![0] === MIN_PORT && this.ranges[0]![1] === MAX_PORT;
  }

  has(port: number): boolean {
    for (const [a, b] of this.ranges) {
      if (port < a) return false;
      if (port <= b) return true;
    }
    return false;
  }

  union(o: PortSet): PortSet {
    if (o.isEmpty()) return this;
    if (this.isEmpty()) return o;
    const all = [...this.ranges, ...o.ranges].sort((x, y) => x[0] - y[0]);
    const out: [number, number][] = [];
    for (const [a, b] of all) {
      const last = out[out.length - 1];
      if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
      else out.push([a, b]);
    }
    return new PortSet(out);
  }

  intersect(o: PortSet): PortSet {
    const out: [number, number][] = [];
    let i = 0;
    let j = 0;
    while (i < this.ranges.length && j < o.ranges.length) {
      const [a1, b1] = this.ranges[i]!;
      const [a2, b2] = o.ranges[j]!;
      const lo = Math.max(a1, a2);
      const hi = Math.min(b1, b2);
      if (lo <= hi) out.push([lo, hi]);
      if (b1 < b2) i++;
      else j++;
    }
    return new PortSet(out);
  }

  /** The ports of this set that are not in `o`. */
  minus(o: PortSet): PortSet {
    if (o.isEmpty() || this.isEmpty()) return this;
    const out: [number, number][] = [];
    let j = 0;
    for (const [a, b] of this.ranges) {
      let lo = a;
      while (j < o.ranges.length && o.ranges[j]![1] < lo) j++;
      let k = j;
      while (lo <= b && k < o.ranges.length && o.ranges[k]![0] <= b) {
        const [c, d] = o.ranges[k]!;
        if (c > lo) out.push([lo, c - 1]);
        lo = Math.max(lo, d + 1);
        if (d <= b) k++;
        else break;
      }
      if (lo <= b) out.push([lo, b]);
    }
    return new PortSet(out);
  }

  equals(o: PortSet): boolean {
    return this.ranges.length === o.ranges.length && this.ranges.every(([a, b], k) => o.ranges[k]![0] === a && o.ranges[k]![1] === b);
  }

  /** `80`, `8000-8080`, `all ports`, `none`, comma separated. */
  toString(): string {
    if (this.isEmpty()) return 'none';
    if (this.isAll()) return 'all ports';
    return this.ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',');
  }
}
