/**
 * Sets of port numbers as sorted, disjoint, inclusive ranges within 1..65535. Small and immutable: the
 * engine uses them to answer "which ports" when a question names none, and to intersect what the two
 * ends of a connection allow. The algebra is src/ip's interval algebra, on numbers.
 */
import { intersectSpans, sameSpans, spansContain, subtractSpans, unionSpans } from '../ip/index.js';

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
    return spansContain(this.ranges, port);
  }

  union(o: PortSet): PortSet {
    if (o.isEmpty()) return this;
    if (this.isEmpty()) return o;
    return new PortSet(unionSpans([...this.ranges, ...o.ranges]));
  }

  intersect(o: PortSet): PortSet {
    return new PortSet(intersectSpans(this.ranges, o.ranges));
  }

  /** The ports of this set that are not in `o`. */
  minus(o: PortSet): PortSet {
    if (o.isEmpty() || this.isEmpty()) return this;
    return new PortSet(subtractSpans(this.ranges, o.ranges));
  }

  equals(o: PortSet): boolean {
    return sameSpans(this.ranges, o.ranges);
  }

  /** `80`, `8000-8080`, `all ports`, `none`, comma separated. */
  toString(): string {
    if (this.isEmpty()) return 'none';
    if (this.isAll()) return 'all ports';
    return this.ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',');
  }
}
