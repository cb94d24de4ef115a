/**
 * A small interpreter of the IR: what the kernel would do with one packet, without a kernel. The property
 * tests hold the compiled rulesets to the engine through it, and it answers "which rule dropped this" from
 * a ruleset alone.
 *
 * Design choice: it follows nftables' evaluation literally (rules in order, a rule applies when all its
 * matches hold, `jump` pushes a return point (`goto` does not), `return` or the end of a regular chain pops it, the end of
 * a base chain applies its policy, a verdict-map miss falls through) over the small vocabulary of the IR.
 * Rate limits are taken as never exceeded; `unknown` matches never hold.
 */
import { AddressSet, type Family } from '../ip/index.js';
import { canonicalAddress, concatElement, elementInterval, familyOfType, isConcatType, parseAddressIn } from './elements.js';
import type { Chain, CtState, Hook, Match, NamedSet, Rule, Ruleset } from './ir.js';
import { logPrefix } from './names.js';

export interface Packet {
  readonly family: Family;
  readonly saddr: string;
  readonly daddr: string;
  /** `tcp`, `udp`, `sctp`, `icmp`, `icmpv6`, ... */
  readonly protocol: string;
  readonly dport?: number;
  readonly icmpv6Type?: string;
  /** Conntrack state (default `new`). */
  readonly ct?: CtState;
}

export interface TraceStep {
  readonly chain: string;
  /** Index of the rule in its chain. */
  readonly rule: number;
  readonly comment?: string;
}

export interface Outcome {
  /** `reject` when a reject statement ended evaluation. */
  readonly verdict: 'accept' | 'drop' | 'reject';
  /** Every rule that applied, in order (counters, logs, jumps, the final verdict). */
  readonly trace: readonly TraceStep[];
  /** Prefixes of log statements that applied. */
  readonly logged: readonly string[];
  /**
   * Subject chains whose audit tail ran (their `netpol audit <chain>: ` log applied): chains of staged
   * policies that would have dropped the packet; and cluster policy rules (`<dir>_rule_<Kind>/<name>[i]`)
   * that would have denied it in an audit view. Whatever the verdict, it was not theirs.
   */
  readonly audited: readonly string[];
}

const AUDIT_PREFIX = 'netpol audit ';

type Membership = (key: string) => boolean;
const cache = new WeakMap<NamedSet, Membership>();

function membership(set: NamedSet): Membership {
  let m = cache.get(set);
  if (m) return m;
  const family = familyOfType(set.type);
  if (isConcatType(set.type)) {
    const keys = new Set(set.elements);
    m = (key) => keys.has(key);
  } else {
    const intervals = set.elements.map((e) => elementInterval(e, family)).filter((x): x is readonly [bigint, bigint] => x !== undefined);
    const addresses = AddressSet.fromIntervals(family, intervals);
    m = (key) => {
      const ip = parseAddressIn(key, family);
      return ip !== undefined && addresses.contains(ip);
    };
  }
  cache.set(set, m);
  return m;
}

class Machine {
  private readonly sets: Map<string, NamedSet>;
  private readonly maps: Map<string, Map<string, string>>;
  private readonly chains: Map<string, Chain>;

  constructor(rs: Ruleset) {
    this.sets = new Map(rs.sets.map((s) => [s.name, s]));
    this.maps = new Map(rs.maps.map((m) => [m.name, new Map(m.elements.map(([k, c]) => [k, c]))]));
    this.chains = new Map(rs.chains.map((c) => [c.name, c]));
  }

  private address(p: Packet, field: 'saddr' | 'daddr'): string | undefined {
    return canonicalAddress(field === 'saddr' ? p.saddr : p.daddr, p.family);
  }

  private holds(m: Match, p: Packet): boolean {
    switch (m.kind) {
      case 'ct-state':
        return m.states.includes(p.ct ?? 'new');
      case 'address': {
        if (p.family !== m.family) return false;
        const set = this.sets.get(m.set);
        const a = this.address(p, m.field);
        return set !== undefined && a !== undefined && membership(set)(a);
      }
      case 'l4proto':
        return p.protocol === m.protocol;
      case 'dport':
        return p.dport !== undefined && m.ranges.some(([a, b]) => p.dport! >= a && p.dport! <= b);
      case 'daddr-dport': {
        if (p.family !== m.family || p.dport === undefined) return false;
        const set = this.sets.get(m.set);
        const a = this.address(p, 'daddr');
        return set !== undefined && a !== undefined && membership(set)(concatElement(a, p.dport));
      }
      case 'icmpv6-type':
        return p.family === 6 && p.protocol === 'icmpv6' && p.icmpv6Type !== undefined && m.types.includes(p.icmpv6Type);
      case 'unknown':
        return false;
    }
  }

  run(base: Chain, p: Packet): Outcome {
    const trace: TraceStep[] = [];
    const logged: string[] = [];
    const audited: string[] = [];
    const stack: { chain: Chain; next: number }[] = [];
    let chain = base;
    let i = 0;
    for (let steps = 0; steps < 100_000; steps++) {
      const rule: Rule | undefined = chain.rules[i];
      if (rule === undefined) {
        const back = stack.pop();
        if (!back) return { verdict: base.base?.policy ?? 'accept', trace, logged, audited };
        chain = back.chain;
        i = back.next;
        continue;
      }
      const index = i;
      i++;
      if (!rule.matches.every((m) => this.holds(m, p))) continue;
      trace.push({ chain: chain.name, rule: index, ...(rule.comment !== undefined ? { comment: rule.comment } : {}) });
      if (rule.log) {
        logged.push(rule.log.prefix);
        if (rule.log.prefix === logPrefix('audit', chain.name)) audited.push(chain.name);
        // A cluster policy's Deny rule in an audit view names itself (`tierRuleLogName`), not its chain.
        else if (rule.log.prefix.startsWith(AUDIT_PREFIX)) audited.push(rule.log.prefix.slice(AUDIT_PREFIX.length, -2));
      }
      let v = rule.verdict;
      if (v?.kind === 'vmap') {
        if (p.family !== v.family) continue;
        const a = this.address(p, v.field);
        const target = a === undefined ? undefined : this.maps.get(v.map)?.get(a);
        if (target === undefined) continue;
        v = { kind: 'jump', chain: target };
      }
      if (!v) continue;
      switch (v.kind) {
        case 'accept':
        case 'drop':
          return { verdict: v.kind, trace, logged, audited };
        case 'reject':
          return { verdict: 'reject', trace, logged, audited };
        case 'return': {
          const back = stack.pop();
          if (!back) return { verdict: base.base?.policy ?? 'accept', trace, logged, audited };
          chain = back.chain;
          i = back.next;
          continue;
        }
        case 'jump':
        case 'goto': {
          const target = this.chains.get(v.chain);
          if (!target) continue;
          // `goto` leaves no return point: the target's end returns to where this chain was jumped from.
          if (v.kind === 'jump') stack.push({ chain, next: i });
          chain = target;
          i = 0;
          continue;
        }
      }
    }
    return { verdict: 'drop', trace, logged, audited };
  }

  hook(h: Hook): Chain | undefined {
    for (const c of this.chains.values()) if (c.base?.hook === h) return c;
    return undefined;
  }
}

const machines = new WeakMap<Ruleset, Machine>();

/** What the ruleset does with a packet on a hook; a hook the ruleset does not use accepts. */
export function interpret(rs: Ruleset, hook: Hook, packet: Packet): Outcome {
  let m = machines.get(rs);
  if (!m) {
    m = new Machine(rs);
    machines.set(rs, m);
  }
  const base = m.hook(hook);
  return base ? m.run(base, packet) : { verdict: 'accept', trace: [], logged: [], audited: [] };
}
