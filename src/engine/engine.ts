/**
 * The policy engine. Built once per cluster (policies normalised, the policies selecting each pod found
 * once), then asked about traffic. Two entry points share every matching primitive so they cannot drift:
 * `evaluate` returns the full explanation as data; `allows`/`admittedPorts` skip the explanation for
 * matrices. Both are held to the naive oracle (oracle.ts) by property tests.
 *
 * A connection is decided by both ends: "A successful connection between two Pods can only be
 * established when the network policies on both of them permit it." The source's egress side and the
 * destination's ingress side are each computed as the set of ports they admit for the protocol; the
 * connection is allowed on the intersection.
 */
import type { IP } from '../ip/index.js';
import { AddressSet, parseCIDR, parseIP } from '../ip/index.js';
import { podKey, type Cluster, type Labels, type PodInfo, type Protocol } from '../model/index.js';
import {
  normalizeClusterPolicies,
  type ClusterPolicy,
  affects,
  inView,
  normalizePolicy,
  rulesOf,
  type Direction,
  type Peer,
  type Policy,
  type PortSpec,
  type Rule,
  PortSet,
  isolatingPolicies,
  namespaceLabels,
  resolveNamedPort,
} from '../policy/index.js';
import { ClusterTiers, ONE_PORT, PORT_SETS, type SideDecision } from './tiers.js';
import { matches, requirementText, unmetRequirements } from '../selector/index.js';
import type { Endpoint, PeerResult, PolicyResult, PortResult, RuleResult, PortDecision, SideResult, TierResult, Traffic, Verdict, VerdictReason } from './types.js';

interface Selected {
  readonly ingress: readonly Policy[];
  readonly egress: readonly Policy[];
}

/** What was asked about ports: a set of numbers, or a port name the destination does not define. */
type PortQuestion = { readonly kind: 'set'; readonly ports: PortSet } | { readonly kind: 'unresolved'; readonly name: string };

export function endpointText(e: Endpoint): string {
  return e.kind === 'pod' ? podKey(e.pod) : e.kind === 'external' ? e.text : e.name;
}

export function podEndpoint(pod: PodInfo): Endpoint {
  return { kind: 'pod', pod };
}

/** An address outside the cluster. Returns undefined for text that is not an IP address. */
export function externalEndpoint(text: string): Endpoint | undefined {
  const ip = parseIP(text);
  return ip ? { kind: 'external', ip, text } : undefined;
}

/**
 * A DNS name outside the cluster, as cluster policies' `domainNames` peers name them (`example.com`,
 * `www.example.com.`). Undefined for text that is not a DNS name of at least two labels.
 */
export function domainEndpoint(text: string): Endpoint | undefined {
  const label = '[a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?';
  return new RegExp(`^(${label}\\.)+${label}\\.?$`).test(text) && text.length <= 253 ? { kind: 'domain', name: text.toLowerCase() } : undefined;
}

export { resolveNamedPort };

export interface EngineOptions {
  /**
   * Count audit-mode policies as enforcing: the verdicts once the staged policies enforce. By default
   * (false) the engine answers what is enforced today: "enforcement is exactly what it would be if
   * audit-mode policies did not exist" (src/policy/mode.ts).
   */
  readonly includeAudit?: boolean;
}

export class Engine {
  /** Every policy of the cluster, audit-mode ones included (what a compiler sharing them needs). */
  readonly policies: readonly Policy[];
  /** Some policy (NetworkPolicy or cluster-scoped) is in audit mode: `withAudit()` may answer differently. */
  readonly hasAudit: boolean;
  private audited: Engine | undefined;
  /** The cluster-scoped policies, normalised, in evaluation order (empty when the cluster has none), audit-mode ones included. */
  readonly clusterPolicies: readonly ClusterPolicy[];
  /**
   * The tiers, when the view has cluster-scoped policies; without them NetworkPolicy alone decides. The
   * enforced view leaves staged cluster policies out as it leaves staged NetworkPolicies out.
   */
  private readonly tiers: ClusterTiers | undefined;
  private readonly byNamespace = new Map<string, Policy[]>();
  private readonly selected = new Map<PodInfo, Selected>();
  private readonly podAddresses = new Map<PodInfo, readonly IP[]>();

  /** `policies` must be valid (see validate/); pass the cluster's policies normalised, or let the engine do it. */
  constructor(
    readonly cluster: Cluster,
    policies: readonly Policy[] = cluster.policies.map(normalizePolicy),
    clusterPolicies: readonly ClusterPolicy[] = normalizeClusterPolicies(cluster.clusterPolicies),
    readonly options: EngineOptions = {},
  ) {
    this.policies = policies;
    this.hasAudit = policies.some((p) => p.mode === 'audit') || clusterPolicies.some((p) => p.mode === 'audit');
    this.clusterPolicies = clusterPolicies;
    const inTiers = clusterPolicies.filter((p) => inView(p, options.includeAudit === true));
    this.tiers =
      inTiers.length > 0
        ? new ClusterTiers(
            inTiers,
            cluster,
            (ns) => this.namespaceLabels(ns),
            (pod) => this.addresses(pod),
            (pod, name, protocol) => resolveNamedPort(pod, name, protocol),
          )
        : undefined;
    for (const p of policies) {
      if (!inView(p, options.includeAudit === true)) continue;
      const list = this.byNamespace.get(p.ref.namespace) ?? [];
      list.push(p);
      this.byNamespace.set(p.ref.namespace, list);
    }
  }

  /**
   * The engine of the policies as written, audit-mode ones enforcing: the verdicts once they enforce.
   * This engine itself when it already counts them or when no policy is in audit mode.
   */
  withAudit(): Engine {
    if (this.options.includeAudit === true || !this.hasAudit) return this;
    return (this.audited ??= new Engine(this.cluster, this.policies, this.clusterPolicies, { ...this.options, includeAudit: true }));
  }

  namespaceLabels(namespace: string): Labels {
    return namespaceLabels(this.cluster.namespaces, namespace);
  }

  /** The cluster-scoped policies (admin tier, then baseline) that select `pod` with rules for `direction`; none without tiers. */
  clusterSelecting(pod: PodInfo, direction: Direction): readonly ClusterPolicy[] {
    const s = this.tiers?.selecting(pod, direction);
    return s ? [...s.admin, ...s.baseline] : [];
  }

  /** The policies that isolate a pod, per direction (the isolation rule: src/policy/rules.ts), cached. */
  selecting(pod: PodInfo): Selected {
    let s = this.selected.get(pod);
    if (!s) {
      s = isolatingPolicies(this.byNamespace.get(pod.namespace) ?? [], pod);
      this.selected.set(pod, s);
    }
    return s;
  }

  private addresses(pod: PodInfo): readonly IP[] {
    let a = this.podAddresses.get(pod);
    if (!a) {
      a = pod.ips.map((t) => parseIP(t)).filter((x): x is IP => x !== undefined);
      this.podAddresses.set(pod, a);
    }
    return a;
  }

  private peerMatches(peer: Peer, policy: Policy, other: Endpoint): boolean {
    if (peer.kind === 'ipBlock') {
      // ipBlock matches pod addresses too (implementation-defined; the upstream conformance tests expect it).
      if (other.kind === 'external') return peer.addresses.contains(other.ip);
      // A domain name's addresses are unknown to analysis: no ipBlock matches it.
      if (other.kind === 'domain') return false;
      return this.addresses(other.pod).some((ip) => peer.addresses.contains(ip));
    }
    if (other.kind !== 'pod') return false;
    const pod = other.pod;
    if (peer.namespaces.kind === 'own') {
      if (pod.namespace !== policy.ref.namespace) return false;
    } else if (!matches(peer.namespaces.selector, this.namespaceLabels(pod.namespace))) {
      return false;
    }
    return peer.pods === undefined || matches(peer.pods, pod.labels);
  }

  private ruleMatchesPeer(rule: Rule, policy: Policy, other: Endpoint): boolean {
    return rule.peers === undefined || rule.peers.some((peer) => this.peerMatches(peer, policy, other));
  }

  /** Ports of `protocol` one port entry admits when the destination is `destination`. */
  private portSpecAdmits(spec: PortSpec, protocol: Protocol, destination: Endpoint): PortSet {
    if (spec.protocol !== protocol) return PortSet.EMPTY;
    switch (spec.port.kind) {
      case 'all':
        return PortSet.ALL;
      case 'range':
        return PortSet.range(spec.port.from, spec.port.to);
      case 'named': {
        const n = destination.kind === 'pod' ? resolveNamedPort(destination.pod, spec.port.name, protocol) : undefined;
        return n === undefined ? PortSet.EMPTY : PortSet.range(n, n);
      }
    }
  }

  private ruleAdmits(rule: Rule, protocol: Protocol, destination: Endpoint): PortSet {
    if (rule.ports === undefined) return PortSet.ALL;
    let set = PortSet.EMPTY;
    for (const spec of rule.ports) set = set.union(this.portSpecAdmits(spec, protocol, destination));
    return set;
  }

  /**
   * Ports one side admits. `subject` is the pod whose policies apply (source for egress, destination for
   * ingress), `other` the far end. Undefined when the subject is not isolated for the direction.
   */
  private sideAdmits(direction: Direction, subject: PodInfo, other: Endpoint, protocol: Protocol, destination: Endpoint): PortSet | undefined {
    const policies = this.selecting(subject)[direction];
    if (policies.length === 0) return undefined;
    let set = PortSet.EMPTY;
    for (const p of policies) {
      for (const rule of rulesOf(p, direction)) {
        if (!this.ruleMatchesPeer(rule, p, other)) continue;
        set = set.union(this.ruleAdmits(rule, protocol, destination));
        if (set.isAll()) return set;
      }
    }
    return set;
  }

  /**
   * Ports one side admits, every tier considered: NetworkPolicy alone when the cluster has no cluster
   * policies (undefined: not isolated), else the tiers' decision over every port.
   */
  private sidePorts(direction: Direction, subject: PodInfo, other: Endpoint, protocol: Protocol, destination: Endpoint): PortSet | undefined {
    if (!this.tiers) return this.sideAdmits(direction, subject, other, protocol, destination);
    return this.sideDecision(direction, subject, other, protocol, destination).allowed;
  }

  private sideDecision(direction: Direction, subject: PodInfo, other: Endpoint, protocol: Protocol, destination: Endpoint): SideDecision<PortSet> {
    const tiers = this.tiers!;
    return tiers.decide(PORT_SETS, PortSet.ALL, direction, subject, other, tiers.portSets(protocol, destination), () => this.sideAdmits(direction, subject, other, protocol, destination));
  }

  /** Ports of `protocol` on which `source` may open a connection to `destination`. */
  admittedPorts(source: Endpoint, destination: Endpoint, protocol: Protocol): PortSet {
    if (source.kind === 'pod' && destination.kind === 'pod' && source.pod === destination.pod) return PortSet.ALL;
    let set = PortSet.ALL;
    if (source.kind === 'pod') set = set.intersect(this.sidePorts('egress', source.pod, destination, protocol, destination) ?? PortSet.ALL);
    if (destination.kind === 'pod' && !set.isEmpty()) {
      set = set.intersect(this.sidePorts('ingress', destination.pod, source, protocol, destination) ?? PortSet.ALL);
    }
    return set;
  }

  private question(t: Traffic): PortQuestion {
    if (t.port === undefined) return { kind: 'set', ports: PortSet.ALL };
    if (typeof t.port === 'number') return { kind: 'set', ports: PortSet.range(t.port, t.port) };
    const n = t.destination.kind === 'pod' ? resolveNamedPort(t.destination.pod, t.port, t.protocol) : undefined;
    return n === undefined ? { kind: 'unresolved', name: t.port } : { kind: 'set', ports: PortSet.range(n, n) };
  }

  /**
   * A port name the destination does not define has no number, so no numeric entry can match it; only
   * rules that do not restrict the port of the protocol (no `ports`, or an entry without `port`) admit it.
   */
  private ruleAdmitsUnnamed(rule: Rule, protocol: Protocol): boolean {
    return rule.ports === undefined || rule.ports.some((s) => s.protocol === protocol && s.port.kind === 'all');
  }

  /** NetworkPolicy on a port name the destination does not define: undefined when not isolated. */
  private networkPolicyAdmitsUnnamed(direction: Direction, subject: PodInfo, other: Endpoint, protocol: Protocol): boolean | undefined {
    const policies = this.selecting(subject)[direction];
    if (policies.length === 0) return undefined;
    return policies.some((p) => rulesOf(p, direction).some((r) => this.ruleAdmitsUnnamed(r, protocol) && this.ruleMatchesPeer(r, p, other)));
  }

  private unnamedDecision(direction: Direction, subject: PodInfo, other: Endpoint, protocol: Protocol): SideDecision<boolean> | undefined {
    return this.tiers?.decide(ONE_PORT, true, direction, subject, other, ClusterTiers.NO_NUMBER, () => this.networkPolicyAdmitsUnnamed(direction, subject, other, protocol));
  }

  private sideAdmitsUnnamed(direction: Direction, subject: PodInfo, other: Endpoint, protocol: Protocol): boolean {
    if (this.tiers) return this.unnamedDecision(direction, subject, other, protocol)!.allowed;
    return this.networkPolicyAdmitsUnnamed(direction, subject, other, protocol) ?? true;
  }

  /**
   * Each side's verdict alone (a side that is not isolated admits): what `evaluate` says in
   * `egress.allowed` and `ingress.allowed`, without building the explanation.
   */
  sidesAllow(t: Traffic): { readonly egress: boolean; readonly ingress: boolean } {
    const q = this.question(t);
    if (q.kind === 'unresolved') {
      return {
        egress: t.source.kind !== 'pod' || this.sideAdmitsUnnamed('egress', t.source.pod, t.destination, t.protocol),
        ingress: t.destination.kind !== 'pod' || this.sideAdmitsUnnamed('ingress', t.destination.pod, t.source, t.protocol),
      };
    }
    const admits = (set: PortSet | undefined) => set === undefined || !set.intersect(q.ports).isEmpty();
    return {
      egress: t.source.kind !== 'pod' || admits(this.sidePorts('egress', t.source.pod, t.destination, t.protocol, t.destination)),
      ingress: t.destination.kind !== 'pod' || admits(this.sidePorts('ingress', t.destination.pod, t.source, t.protocol, t.destination)),
    };
  }

  /** The verdict alone, without building an explanation. */
  allows(t: Traffic): boolean {
    const q = this.question(t);
    if (q.kind === 'unresolved') {
      if (t.source.kind === 'pod' && t.destination.kind === 'pod' && t.source.pod === t.destination.pod) return true;
      return (
        (t.source.kind !== 'pod' || this.sideAdmitsUnnamed('egress', t.source.pod, t.destination, t.protocol)) &&
        (t.destination.kind !== 'pod' || this.sideAdmitsUnnamed('ingress', t.destination.pod, t.source, t.protocol))
      );
    }
    return !this.admittedPorts(t.source, t.destination, t.protocol).intersect(q.ports).isEmpty();
  }

  /** The verdict with its full explanation. */
  evaluate(t: Traffic): Verdict {
    const q = this.question(t);
    const egress = this.explainSide('egress', t.source, t.destination, t, q);
    const ingress = this.explainSide('ingress', t.destination, t.source, t, q);
    const self = t.source.kind === 'pod' && t.destination.kind === 'pod' && t.source.pod === t.destination.pod;
    const asked = q.kind === 'set' ? q.ports : PortSet.ALL;
    const allowedSet = self ? asked : asked.intersect(PortSet.of(egress.admits)).intersect(PortSet.of(ingress.admits));
    let allowed: boolean;
    if (self) allowed = true;
    else if (q.kind === 'unresolved') allowed = egress.allowed && ingress.allowed;
    else allowed = !allowedSet.isEmpty();

    let reason: VerdictReason;
    if (self) reason = 'self';
    else if (!egress.enforced && !ingress.enforced) reason = 'outside-cluster';
    else if (!egress.allowed && !ingress.allowed) reason = 'denied-by-both';
    else if (!egress.allowed) reason = 'denied-by-egress';
    else if (!ingress.allowed) reason = 'denied-by-ingress';
    else if (!allowed)
      reason = 'denied-by-both'; // each side admits some port, but no port in common
    else reason = egress.isolated || ingress.isolated || decidedByClusterPolicy(egress) || decidedByClusterPolicy(ingress) ? 'allowed-by-policy' : 'not-isolated';

    return {
      allowed,
      reason,
      from: endpointText(t.source),
      to: endpointText(t.destination),
      ...(t.source.kind === 'pod' && t.source.pod.workload ? { fromWorkload: t.source.pod.workload } : {}),
      ...(t.destination.kind === 'pod' && t.destination.pod.workload ? { toWorkload: t.destination.pod.workload } : {}),
      protocol: t.protocol,
      port: t.port ?? null,
      ...(typeof t.port === 'string' && q.kind === 'set' ? { resolvedPort: q.ports.ranges[0]![0] } : {}),
      ...(q.kind === 'unresolved' ? { unresolvedPortName: q.name } : {}),
      allowedPorts: q.kind === 'unresolved' ? [] : allowedSet.ranges,
      egress,
      ingress,
    };
  }

  private explainSide(direction: Direction, subject: Endpoint, other: Endpoint, t: Traffic, q: PortQuestion): SideResult {
    const base = { direction, subject: endpointText(subject) };
    if (subject.kind !== 'pod') {
      return { ...base, enforced: false, isolated: false, policies: [], admits: PortSet.ALL.ranges, allowed: true };
    }
    const policies = this.selecting(subject.pod)[direction];
    if (policies.length === 0 && !this.tiers) {
      return { ...base, enforced: true, isolated: false, policies: [], admits: PortSet.ALL.ranges, allowed: true };
    }
    let admits = PortSet.EMPTY;
    const results: PolicyResult[] = policies.map((p) => {
      const rules = rulesOf(p, direction).map((r) => this.explainRule(r, p, other, t, q));
      for (const r of rules) if (r.peerMatched) admits = admits.union(PortSet.of(r.admits));
      return {
        policy: p.ref,
        policyTypes: (['ingress', 'egress'] as const).filter((d) => affects(p, d)),
        policyTypesDefaulted: p.policyTypesDefaulted,
        ...(p.mode === 'audit' ? { mode: 'audit' as const } : {}),
        rules,
        allows: rules.some((r) => r.matched),
      };
    });
    // Policies are additive: the side allows the traffic when any rule of any of them does.
    const isolated = policies.length > 0;
    const allowed = !isolated || results.some((r) => r.allows);
    if (!this.tiers) return { ...base, enforced: true, isolated, policies: results, admits: admits.ranges, allowed };
    return this.explainTiers(direction, subject.pod, other, t, q, { ...base, enforced: true, isolated, policies: results, admits: admits.ranges, allowed });
  }

  /** The side with its tiers: who decided what was asked, and the cluster policies' rules tried. */
  private explainTiers(direction: Direction, subject: PodInfo, other: Endpoint, t: Traffic, q: PortQuestion, np: SideResult): SideResult {
    const tiers = this.tiers!;
    const ports = this.sideDecision(direction, subject, other, t.protocol, t.destination);
    const { admin, baseline } = tiers.explain(direction, subject, other, t.protocol, t.destination);
    const asked = q.kind === 'set' ? q.ports : PortSet.ALL;
    const within = (list: readonly { ports: PortSet; allowed?: boolean; by: PortDecision['by'] }[]): PortDecision[] =>
      list.map((d) => ({ ports: d.ports.intersect(asked).ranges, allowed: d.allowed ?? false, by: d.by })).filter((d) => d.ports.length > 0);
    let decisions: PortDecision[];
    let passes: PortDecision[];
    let allowed: boolean;
    if (q.kind === 'unresolved') {
      const one = this.unnamedDecision(direction, subject, other, t.protocol)!;
      decisions = one.decisions.filter((d) => d.ports).map((d) => ({ ports: [], allowed: d.allowed, by: d.by }));
      passes = one.passes.filter((d) => d.ports).map((d) => ({ ports: [], allowed: false, by: d.by }));
      allowed = one.allowed;
    } else {
      decisions = within(ports.decisions);
      passes = within(ports.passes);
      allowed = !ports.allowed.intersect(asked).isEmpty();
    }
    const result: TierResult = { admin, baseline, decisions, passes };
    return { ...np, admits: ports.allowed.ranges, allowed, tiers: result };
  }

  private explainRule(rule: Rule, policy: Policy, other: Endpoint, t: Traffic, q: PortQuestion): RuleResult {
    const peers = rule.peers === undefined ? ('all' as const) : rule.peers.map((peer) => this.explainPeer(peer, policy, other));
    const peerMatched = peers === 'all' || peers.some((p) => p.matched);
    const ports =
      rule.ports === undefined
        ? ('all' as const)
        : rule.ports.map((spec): PortResult => {
            const admits = this.portSpecAdmits(spec, t.protocol, t.destination);
            const resolvedTo = spec.port.kind === 'named' && t.destination.kind === 'pod' ? resolveNamedPort(t.destination.pod, spec.port.name, spec.protocol) : undefined;
            return {
              index: spec.index,
              protocol: spec.protocol,
              port: portSpecText(spec),
              ...(resolvedTo !== undefined ? { resolvedTo } : {}),
              admits: admits.ranges,
            };
          });
    const admits = this.ruleAdmits(rule, t.protocol, t.destination);
    const portOk = q.kind === 'unresolved' ? this.ruleAdmitsUnnamed(rule, t.protocol) : !admits.intersect(q.ports).isEmpty();
    return { direction: rule.direction, index: rule.index, peers, peerMatched, ports, admits: admits.ranges, matched: peerMatched && portOk };
  }

  private explainPeer(peer: Peer, policy: Policy, other: Endpoint): PeerResult {
    const matched = this.peerMatches(peer, policy, other);
    if (peer.kind === 'ipBlock') {
      if (other.kind === 'domain') return { index: peer.index, kind: 'ipBlock', matched, mismatch: 'unknown-address' };
      const addrs = other.kind === 'external' ? [other.text] : [...other.pod.ips];
      const inCidr = addrs.some((a) => {
        const ip = parseIP(a);
        return ip !== undefined && cidrSetOf(peer.cidr).contains(ip);
      });
      const excludedBy = matched
        ? undefined
        : peer.except.find((e) =>
            addrs.some((a) => {
              const ip = parseIP(a);
              return ip !== undefined && cidrSetOf(e).contains(ip);
            }),
          );
      return {
        index: peer.index,
        kind: 'ipBlock',
        matched,
        ipBlock: { cidr: peer.cidr, except: peer.except, addresses: addrs, inCidr, ...(excludedBy ? { excludedBy } : {}), matched },
      };
    }
    if (other.kind !== 'pod') return { index: peer.index, kind: 'pods', matched: false, mismatch: 'external-endpoint' };
    const pod = other.pod;
    const nsLabels = this.namespaceLabels(pod.namespace);
    const namespace =
      peer.namespaces.kind === 'own'
        ? { scope: 'own' as const, expected: policy.ref.namespace, actual: pod.namespace, matched: pod.namespace === policy.ref.namespace, unmet: [] }
        : {
            scope: 'selector' as const,
            expected: peer.namespaces.selector.text,
            actual: pod.namespace,
            matched: matches(peer.namespaces.selector, nsLabels),
            unmet: unmetRequirements(peer.namespaces.selector, nsLabels).map(requirementText),
            labels: nsLabels,
          };
    const podCheck = peer.pods && {
      selector: peer.pods.text,
      matched: matches(peer.pods, pod.labels),
      unmet: unmetRequirements(peer.pods, pod.labels).map(requirementText),
      labels: pod.labels,
    };
    return { index: peer.index, kind: 'pods', matched, namespace, ...(podCheck ? { pod: podCheck } : {}) };
  }
}

function decidedByClusterPolicy(side: SideResult): boolean {
  return side.tiers?.decisions.some((d) => d.by.tier === 'admin' || d.by.tier === 'baseline') ?? false;
}

function portSpecText(spec: PortSpec): string {
  switch (spec.port.kind) {
    case 'all':
      return '*';
    case 'range':
      return spec.port.from === spec.port.to ? `${spec.port.from}` : `${spec.port.from}-${spec.port.to}`;
    case 'named':
      return spec.port.name;
  }
}

function cidrSetOf(text: string): AddressSet {
  const c = parseCIDR(text);
  return c ? AddressSet.fromCIDR(c) : AddressSet.empty();
}
