/**
 * Port admission for the class-based engine: port profiles (what a destination's named ports resolve
 * to) and port aggregates (the union of the `ports` of every rule that names the same peer).
 *
 * Design choice: a rule's ports are kept symbolic (numeric ranges, names, "every port of a protocol",
 * "every port") and only resolved against a destination's profile when a probe is asked, because
 * "named ports resolve against the destination pod": two destinations may give one rule two numbers.
 * Merging the rules of a group per peer is exact because a side admits traffic when *some* rule
 * matches both the peer and the port, and a union of port lists admits a port when some list does.
 */
import type { Protocol } from '../model/index.js';
import type { PortSpec } from '../policy/index.js';
import { PortSet } from '../policy/index.js';

export const PROTOCOL_INDEX: Readonly<Record<Protocol, number>> = { TCP: 0, UDP: 1, SCTP: 2 };

/**
 * What a destination's named ports resolve to: for each (name, protocol), the first container port
 * with that name and protocol, as `resolveNamedPort` reads a pod ("name and protocol must both match").
 */
export class PortProfile {
  /** By protocol index, name -> port (the keys of `byName` split, so a lookup builds no string). */
  private readonly byProtocol: readonly ReadonlyMap<string, number>[];

  constructor(
    readonly id: number,
    readonly key: string,
    byName: ReadonlyMap<string, number>,
  ) {
    const byProtocol = [new Map<string, number>(), new Map<string, number>(), new Map<string, number>()];
    for (const [k, port] of byName) {
      const slash = k.indexOf('/');
      const i = PROTOCOL_INDEX[k.slice(0, slash) as Protocol];
      byProtocol[i]!.set(k.slice(slash + 1), port);
    }
    this.byProtocol = byProtocol;
  }

  /** The profile's key from a pod's container ports (unnamed ports do not matter to policies). */
  static keyOf(ports: readonly { readonly name?: string; readonly port: number; readonly protocol: Protocol }[]): { key: string; byName: Map<string, number> } {
    const byName = new Map<string, number>();
    for (const p of ports) {
      if (p.name === undefined || p.name === '') continue;
      const k = `${p.protocol}/${p.name}`;
      if (!byName.has(k)) byName.set(k, p.port);
    }
    const key = [...byName.entries()]
      .map(([k, v]) => `${k}=${v}`)
      .sort()
      .join(',');
    return { key, byName };
  }

  resolve(name: string, protocol: Protocol): number | undefined {
    return this.byProtocol[PROTOCOL_INDEX[protocol]]!.get(name);
  }
}

/** The profile of a destination that has no container ports (an address outside the cluster). */
export const NO_PORTS = new PortProfile(-1, '', new Map());

interface ProtocolPorts {
  /** Some entry admits every port of the protocol (an entry with a protocol and no port). */
  any: boolean;
  ranges: PortSet;
  names: string[];
}

const ofRule = new WeakMap<readonly PortSpec[], PortAgg>();

/**
 * The union of the `ports` lists of one or more rules. Tables start an entry with the shared
 * aggregate of one rule's list (`PortAgg.of`) and copy it when a second rule adds to the entry
 * (`with`), so most entries of most tables are the same few objects.
 */
export class PortAgg {
  /** Some rule has no `ports`: "this rule matches all ports" (of every protocol). */
  all = false;
  /** Some entry names a port: what it admits depends on the destination's profile. */
  named = false;
  private readonly byProtocol: (ProtocolPorts | undefined)[] = [undefined, undefined, undefined];
  private keyText: string | undefined;

  /** @param shared Shared between tables: never changed (`addRule` throws). */
  constructor(readonly shared = false) {}

  /** The shared aggregate of one rule's ports (undefined: every port). */
  static of(ports: readonly PortSpec[] | undefined): PortAgg {
    if (ports === undefined) return EVERY_PORT;
    let agg = ofRule.get(ports);
    if (!agg) {
      const fresh = new PortAgg();
      fresh.addRule(ports);
      agg = fresh.copy(true);
      ofRule.set(ports, agg);
    }
    return agg;
  }

  /** A new (unshared) aggregate: this one's ports and one more rule's. */
  with(ports: readonly PortSpec[] | undefined): PortAgg {
    const agg = this.copy(false);
    agg.addRule(ports);
    return agg;
  }

  private copy(shared: boolean): PortAgg {
    const agg = new PortAgg(shared);
    agg.all = this.all;
    agg.named = this.named;
    for (let i = 0; i < 3; i++) {
      const p = this.byProtocol[i];
      if (p) agg.byProtocol[i] = { any: p.any, ranges: p.ranges, names: [...p.names] };
    }
    return agg;
  }

  /** Text of what the aggregate admits: equal keys admit the same ports on every destination. */
  get key(): string {
    if (this.keyText === undefined) {
      let k = this.all ? '*' : '';
      for (const p of this.byProtocol) {
        k += '|';
        if (!p) continue;
        k += p.any ? '*' : '';
        for (const [a, b] of p.ranges.ranges) k += `${a}-${b},`;
        k += [...p.names].sort().join(',');
      }
      this.keyText = k;
    }
    return this.keyText;
  }

  /** Adds one rule's ports (undefined = the rule's ports are empty or absent). */
  addRule(ports: readonly PortSpec[] | undefined): void {
    if (this.shared) throw new Error('a shared port aggregate cannot change');
    this.keyText = undefined;
    if (ports === undefined) {
      this.all = true;
      return;
    }
    for (const spec of ports) {
      const i = PROTOCOL_INDEX[spec.protocol];
      let p = this.byProtocol[i];
      if (!p) {
        p = { any: false, ranges: PortSet.EMPTY, names: [] };
        this.byProtocol[i] = p;
      }
      switch (spec.port.kind) {
        case 'all':
          p.any = true;
          break;
        case 'range':
          p.ranges = p.ranges.union(PortSet.range(spec.port.from, spec.port.to));
          break;
        case 'named':
          this.named = true;
          if (!p.names.includes(spec.port.name)) p.names.push(spec.port.name);
          break;
      }
    }
  }

  /**
   * Does some rule admit `port` (a number, or a name resolved against the destination) of `protocol`
   * on a destination with this profile? A name the destination does not define has no number: only
   * "every port" entries admit it.
   */
  admits(protocol: Protocol, port: number | string, destination: PortProfile): boolean {
    if (this.all) return true;
    const p = this.byProtocol[PROTOCOL_INDEX[protocol]];
    if (!p) return false;
    if (p.any) return true;
    const asked = typeof port === 'number' ? port : destination.resolve(port, protocol);
    if (asked === undefined) return false;
    if (p.ranges.has(asked)) return true;
    for (const name of p.names) if (destination.resolve(name, protocol) === asked) return true;
    return false;
  }

  /** Every port of `protocol` admitted on a destination with this profile. */
  admitted(protocol: Protocol, destination: PortProfile): PortSet {
    if (this.all) return PortSet.ALL;
    const p = this.byProtocol[PROTOCOL_INDEX[protocol]];
    if (!p) return PortSet.EMPTY;
    if (p.any) return PortSet.ALL;
    let set = p.ranges;
    for (const name of p.names) {
      const n = destination.resolve(name, protocol);
      if (n !== undefined) set = set.union(PortSet.range(n, n));
    }
    return set;
  }
}

/** The shared aggregate of a rule without ports. */
const EVERY_PORT = new PortAgg(true);
EVERY_PORT.all = true;
