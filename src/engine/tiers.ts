/**
 * The cluster tiers of one side of a connection: Admin tier cluster policies by ascending priority, then
 * NetworkPolicy, then Baseline tier cluster policies, then the default (allow).
 *
 *   "If Admin tier has made a final decision (Accept or Deny) on a connection, then no further evaluation
 *   is done. [...] v1.NetworkPolicy always makes a final decision for selected pods. Further evaluation
 *   only happens for Pods not selected by a v1.NetworkPolicy. [...] If a given connection wasn't allowed
 *   or denied by any of the tiers, the default kubernetes policy is applied, which says that all pods can
 *   communicate with each other." (ClusterNetworkPolicySpec.tier)
 *
 * Design choice: one walk over the rules decides a whole set of ports at once. The ports still undecided
 * start as what was asked; each rule whose peer matches takes the undecided ports it matches (Accept:
 * allowed, Deny: denied, Pass: handed to the next tier); NetworkPolicy then decides everything that reached
 * it when it isolates the subject; Baseline rules take what is left; the rest is allowed. The walk is
 * generic over the port algebra, so the same code answers "which ports" (PortSet) and "this port name the
 * destination does not define" (a boolean: only rules that do not filter by port match it).
 *
 * Each side is decided on its own, so "an egress Accept does not bypass the destination's ingress
 * evaluation": Accept "accepts the selected traffic [...] No further egress ClusterNetworkPolicy or
 * NetworkPolicy rules will be processed but any ingress rules at the destination do apply."
 */
import type { IP } from '../ip/index.js';
import type { Cluster, Labels, NodeInfo, PodInfo, Protocol } from '../model/index.js';
import { clusterRulesOf, inPodScope, type Action, type ClusterPeer, type ClusterPolicy, type ClusterPort, type ClusterRule, type PodScope, PortSet } from '../policy/index.js';
import type { Direction } from '../policy/index.js';
import { matches, requirementText, unmetRequirements, type Selector } from '../selector/index.js';
import type { ClusterPeerResult, ClusterPolicyResult, ClusterRuleResult, Endpoint, TierDecider } from './types.js';
import { parseIP } from '../ip/index.js';

/** Sets of ports with the operations the walk needs. */
export interface PortAlgebra<T> {
  readonly all: T;
  readonly empty: T;
  union(a: T, b: T): T;
  intersect(a: T, b: T): T;
  minus(a: T, b: T): T;
  isEmpty(a: T): boolean;
}

export const PORT_SETS: PortAlgebra<PortSet> = {
  all: PortSet.ALL,
  empty: PortSet.EMPTY,
  union: (a, b) => a.union(b),
  intersect: (a, b) => a.intersect(b),
  minus: (a, b) => a.minus(b),
  isEmpty: (a) => a.isEmpty(),
};

/** One port that has no number (a name the destination does not define): present or not. */
export const ONE_PORT: PortAlgebra<boolean> = {
  all: true,
  empty: false,
  union: (a, b) => a || b,
  intersect: (a, b) => a && b,
  minus: (a, b) => a && !b,
  isEmpty: (a) => !a,
};

export interface Decision<T> {
  readonly ports: T;
  readonly allowed: boolean;
  readonly by: TierDecider;
}

export interface SideDecision<T> {
  readonly allowed: T;
  /** Final decisions, in evaluation order; together they cover what was asked. */
  readonly decisions: readonly Decision<T>[];
  /** Pass rules that handed ports on to the next tier. */
  readonly passes: readonly { readonly ports: T; readonly by: TierDecider }[];
}

/** What one rule's port entries match: a port set, or whether they match a port without a number. */
export type PortsOf<T> = (ports: readonly ClusterPort[]) => T;

interface Selecting {
  readonly admin: readonly ClusterPolicy[];
  readonly baseline: readonly ClusterPolicy[];
}

const NONE: Selecting = { admin: [], baseline: [] };

/** `domainNames`: "'*' [...] matches one or more entire labels [...] may only be specified as a prefix." */
export function domainMatches(pattern: string, name: string): boolean {
  const norm = (s: string) => s.toLowerCase().replace(/\.$/, '');
  const p = norm(pattern);
  const n = norm(name);
  if (p.startsWith('*.')) return n.endsWith(p.slice(1)) && n.length > p.length - 1;
  return p === n;
}

/** A rule with a peer of no known kind: Accept matches nothing; Deny and Pass deny everything. */
function failsClosed(rule: ClusterRule): boolean {
  return rule.peers.some((p) => p.kind === 'unknown');
}

function effectiveAction(rule: ClusterRule): Action {
  return failsClosed(rule) ? 'deny' : rule.action;
}

export function clusterPortText(p: ClusterPort): string {
  const range = p.port.kind === 'named' ? p.port.name : p.port.from === p.port.to ? `${p.port.from}` : `${p.port.from}-${p.port.to}`;
  return p.protocol === undefined ? range : `${p.protocol}/${range}`;
}

export class ClusterTiers {
  private readonly selected = new Map<PodInfo, { ingress: Selecting; egress: Selecting }>();
  private readonly nodes: readonly NodeInfo[];

  constructor(
    readonly policies: readonly ClusterPolicy[],
    cluster: Cluster,
    private readonly namespaceLabels: (namespace: string) => Labels,
    private readonly addresses: (pod: PodInfo) => readonly IP[],
    private readonly namedPort: (pod: PodInfo, name: string, protocol: Protocol) => number | undefined,
  ) {
    this.nodes = cluster.nodes ?? [];
  }

  private inScope(scope: PodScope, pod: PodInfo): boolean {
    return inPodScope(scope, this.namespaceLabels(pod.namespace), pod);
  }

  /** The cluster policies that select `pod` and have rules for `direction`, per tier, in evaluation order. */
  selecting(pod: PodInfo, direction: Direction): Selecting {
    let s = this.selected.get(pod);
    if (!s) {
      const pick = (d: Direction): Selecting => {
        const chosen = this.policies.filter((p) => clusterRulesOf(p, d).length > 0 && this.inScope(p.subject, pod));
        return chosen.length === 0 ? NONE : { admin: chosen.filter((p) => p.tier === 'admin'), baseline: chosen.filter((p) => p.tier === 'baseline') };
      };
      s = { ingress: pick('ingress'), egress: pick('egress') };
      this.selected.set(pod, s);
    }
    return s[direction];
  }

  private endpointAddresses(e: Endpoint): readonly IP[] {
    if (e.kind === 'pod') return this.addresses(e.pod);
    if (e.kind === 'external') return [e.ip];
    return [];
  }

  peerMatches(peer: ClusterPeer, other: Endpoint): boolean {
    switch (peer.kind) {
      case 'namespaces':
      case 'pods':
        return other.kind === 'pod' && this.inScope(peer, other.pod);
      case 'networks':
        // "cluster-internal traffic will be checked against the rule as well": pod addresses match too.
        return this.endpointAddresses(other).some((ip) => peer.addresses.contains(ip));
      case 'nodes': {
        const ips = this.endpointAddresses(other);
        if (ips.length === 0) return false;
        return this.nodes.some((n) => matches(peer.nodes, n.labels) && n.addresses.some((a) => ips.some((ip) => sameIP(a, ip))));
      }
      case 'domainNames':
        return other.kind === 'domain' && peer.names.some((n) => domainMatches(n, other.name));
      case 'unknown':
        return false;
    }
  }

  private portAdmits(p: ClusterPort, protocol: Protocol, destination: Endpoint): PortSet {
    if (p.port.kind === 'named') {
      const n = destination.kind === 'pod' ? this.namedPort(destination.pod, p.port.name, protocol) : undefined;
      return n === undefined ? PortSet.EMPTY : PortSet.range(n, n);
    }
    return p.protocol === protocol ? PortSet.range(p.port.from, p.port.to) : PortSet.EMPTY;
  }

  /** Port sets of `protocol` towards `destination`. */
  portSets(protocol: Protocol, destination: Endpoint): PortsOf<PortSet> {
    return (ports) => ports.reduce((set, p) => set.union(this.portAdmits(p, protocol, destination)), PortSet.EMPTY);
  }

  /** A port name the destination does not define has no number: no port entry matches it. */
  static readonly NO_NUMBER: PortsOf<boolean> = () => false;

  /** The ports this rule matches for traffic with `other` as the far end. */
  ruleMatches<T>(alg: PortAlgebra<T>, rule: ClusterRule, other: Endpoint, portsOf: PortsOf<T>): T {
    if (failsClosed(rule)) return rule.action === 'accept' ? alg.empty : alg.all;
    if (!rule.peers.some((peer) => this.peerMatches(peer, other))) return alg.empty;
    return rule.ports === undefined ? alg.all : portsOf(rule.ports);
  }

  /**
   * Decides `asked` for one side. `networkPolicy` gives the ports NetworkPolicy admits when it isolates
   * the subject for this direction, undefined when it does not.
   */
  decide<T>(alg: PortAlgebra<T>, asked: T, direction: Direction, subject: PodInfo, other: Endpoint, portsOf: PortsOf<T>, networkPolicy: () => T | undefined): SideDecision<T> {
    const decisions: Decision<T>[] = [];
    const passes: { ports: T; by: TierDecider }[] = [];
    let allowed = alg.empty;
    let open = asked;
    const { admin, baseline } = this.selecting(subject, direction);
    const tier = (policies: readonly ClusterPolicy[]): void => {
      let passed = alg.empty;
      for (const p of policies) {
        for (const rule of clusterRulesOf(p, direction)) {
          if (alg.isEmpty(open)) break;
          const taken = alg.intersect(this.ruleMatches(alg, rule, other, portsOf), open);
          if (alg.isEmpty(taken)) continue;
          open = alg.minus(open, taken);
          const action = effectiveAction(rule);
          const by: TierDecider = {
            tier: p.tier,
            policy: p.ref,
            priority: p.priority,
            rule: rule.index,
            ...(rule.name ? { ruleName: rule.name } : {}),
            action: rule.action,
            ...(failsClosed(rule) ? { failClosed: true as const } : {}),
            ...(p.mode === 'audit' ? { mode: 'audit' as const } : {}),
          };
          if (action === 'pass') {
            passed = alg.union(passed, taken);
            passes.push({ ports: taken, by });
          } else {
            if (action === 'accept') allowed = alg.union(allowed, taken);
            decisions.push({ ports: taken, allowed: action === 'accept', by });
          }
        }
      }
      // "Pass: Skips all further ClusterNetworkPolicy rules in the current tier [...] and passes evaluation to the next tier."
      open = alg.union(open, passed);
    };
    tier(admin);
    if (!alg.isEmpty(open)) {
      const np = networkPolicy();
      if (np !== undefined) {
        const yes = alg.intersect(open, np);
        const no = alg.minus(open, np);
        if (!alg.isEmpty(yes)) decisions.push({ ports: yes, allowed: true, by: { tier: 'networkpolicy' } });
        if (!alg.isEmpty(no)) decisions.push({ ports: no, allowed: false, by: { tier: 'networkpolicy' } });
        allowed = alg.union(allowed, yes);
        open = alg.empty;
      }
    }
    if (!alg.isEmpty(open)) tier(baseline);
    if (!alg.isEmpty(open)) {
      decisions.push({ ports: open, allowed: true, by: { tier: 'default' } });
      allowed = alg.union(allowed, open);
    }
    return { allowed, decisions, passes };
  }

  /** The explanation of the policies selecting `subject` for `direction`: every rule, every peer. */
  explain(direction: Direction, subject: PodInfo, other: Endpoint, protocol: Protocol, destination: Endpoint): { admin: ClusterPolicyResult[]; baseline: ClusterPolicyResult[] } {
    const { admin, baseline } = this.selecting(subject, direction);
    const one = (p: ClusterPolicy): ClusterPolicyResult => ({
      policy: p.ref,
      tier: p.tier,
      priority: p.priority,
      ...(p.mode === 'audit' ? { mode: 'audit' as const } : {}),
      rules: clusterRulesOf(p, direction).map((r) => this.explainRule(r, other, protocol, destination)),
    });
    return { admin: admin.map(one), baseline: baseline.map(one) };
  }

  private explainRule(rule: ClusterRule, other: Endpoint, protocol: Protocol, destination: Endpoint): ClusterRuleResult {
    const peers = rule.peers.map((peer) => this.explainPeer(peer, other));
    const admits = this.ruleMatches(PORT_SETS, rule, other, this.portSets(protocol, destination));
    return {
      direction: rule.direction,
      index: rule.index,
      ...(rule.name ? { name: rule.name } : {}),
      action: rule.action,
      peers,
      peerMatched: peers.some((p) => p.matched),
      ports: rule.ports === undefined ? 'all' : rule.ports.map(clusterPortText),
      admits: admits.ranges,
      ...(failsClosed(rule) ? { failClosed: true as const } : {}),
    };
  }

  private explainPeer(peer: ClusterPeer, other: Endpoint): ClusterPeerResult {
    const matched = this.peerMatches(peer, other);
    const base = { index: peer.index, kind: peer.kind, matched };
    switch (peer.kind) {
      case 'namespaces':
      case 'pods': {
        const text = peer.pods ? `${peer.pods.text} in namespaces ${peer.namespaces.text}` : peer.namespaces.text;
        if (other.kind !== 'pod') return { ...base, text, unmet: ['not a pod'] };
        if (other.pod.hostNetwork) return { ...base, text, unmet: ['host-network pod'] };
        const unmet = [...unmet_(peer.namespaces, this.namespaceLabels(other.pod.namespace)), ...(peer.pods ? unmet_(peer.pods, other.pod.labels) : [])];
        return { ...base, text, ...(unmet.length > 0 ? { unmet } : {}) };
      }
      case 'networks':
        return { ...base, text: peer.cidrs.join(', ') };
      case 'nodes':
        return { ...base, text: peer.nodes.text };
      case 'domainNames':
        return { ...base, text: peer.names.join(', ') };
      case 'unknown':
        return { ...base, text: '(no known field: fails closed)' };
    }
  }
}

function unmet_(sel: Selector, labels: Labels): string[] {
  return unmetRequirements(sel, labels).map(requirementText);
}

function sameIP(text: string, ip: IP): boolean {
  const a = parseIP(text);
  return a !== undefined && a.family === ip.family && a.value === ip.value;
}
