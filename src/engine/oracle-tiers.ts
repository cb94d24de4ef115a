/**
 * The oracle for cluster-scoped policies: one side of one connection on one port, decided by walking the
 * raw ClusterNetworkPolicy / AdminNetworkPolicy / BaselineAdminNetworkPolicy objects rule by rule, the
 * way the API documentation tells it. Shares no code with src/policy/cluster.ts or src/engine/tiers.ts
 * (the engine decides sets of ports at once; this decides one port and stops at the first match), so the
 * property tests can hold one to the other. Slow and literal on purpose.
 */
import { parseIP } from '../ip/index.js';
import type { Cluster, ClusterPolicyInfo, PodInfo, Protocol, ClusterPolicyPeer, LabelSelector } from '../model/index.js';
import { askedPort, destinationPort, endpointAddresses, inCIDRs, podInNamespaces, selectorMatches } from './oracle-match.js';
import type { Endpoint } from './types.js';

interface RawRule {
  action: string;
  from?: ClusterPolicyPeer[];
  to?: ClusterPolicyPeer[];
  protocols?: Record<string, unknown>[];
  ports?: Record<string, unknown>[];
}

interface RawSpec {
  tier?: string;
  priority?: number;
  subject: { namespaces?: LabelSelector; pods?: { namespaceSelector?: LabelSelector; podSelector: LabelSelector } };
  ingress?: RawRule[];
  egress?: RawRule[];
}

const spec = (p: ClusterPolicyInfo): RawSpec => p.policy.spec as unknown as RawSpec;

/** "ClusterNetworkPolicy can use 2 of these tiers: Admin and Baseline"; ANP is the admin tier, BANP the baseline. */
function isAdmin(p: ClusterPolicyInfo): boolean {
  return p.kind === 'AdminNetworkPolicy' || (p.kind === 'ClusterNetworkPolicy' && spec(p).tier === 'Admin');
}

/**
 * "Policies with lower priority values have higher precedence". Equal priorities are ours to order
 * (docs/semantics.md): ClusterNetworkPolicy first, then AdminNetworkPolicy, then by name; the BANP last.
 */
function order(a: ClusterPolicyInfo, b: ClusterPolicyInfo): number {
  const prio = (p: ClusterPolicyInfo) => (p.kind === 'BaselineAdminNetworkPolicy' ? 2000 : (spec(p).priority ?? 0));
  const kind = (p: ClusterPolicyInfo) => ['ClusterNetworkPolicy', 'AdminNetworkPolicy', 'BaselineAdminNetworkPolicy'].indexOf(p.kind);
  return prio(a) - prio(b) || kind(a) - kind(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function podIn(cluster: Cluster, pod: PodInfo, namespaces: LabelSelector | undefined, pods: LabelSelector | undefined): boolean {
  // "Note that host-networked pods are not included in this type of peer" (nor in subject selection).
  return !pod.hostNetwork && podInNamespaces(cluster, pod, namespaces ?? {}, pods);
}

function sameAddress(a: string, b: string): boolean {
  const x = parseIP(a);
  const y = parseIP(b);
  return x !== undefined && y !== undefined && x.family === y.family && x.value === y.value;
}

/** `*.kubernetes.io` matches "www.kubernetes.io" and "latest.blog.kubernetes.io", not "kubernetes.io". */
function domainMatch(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase().replace(/\.$/, '').split('.');
  const n = name.toLowerCase().replace(/\.$/, '').split('.');
  if (p[0] === '*') {
    const rest = p.slice(1);
    return n.length > rest.length && rest.every((label, i) => n[n.length - rest.length + i] === label);
  }
  return p.length === n.length && p.every((label, i) => n[i] === label);
}

function peerMatches(cluster: Cluster, peer: ClusterPolicyPeer, other: Endpoint): boolean {
  if (peer.namespaces) return other.kind === 'pod' && podIn(cluster, other.pod, peer.namespaces, undefined);
  if (peer.pods) return other.kind === 'pod' && podIn(cluster, other.pod, peer.pods.namespaceSelector, peer.pods.podSelector);
  if (peer.networks) return inCIDRs(other, peer.networks);
  if (peer.nodes) {
    const nodes = (cluster.nodes ?? []).filter((n) => selectorMatches(peer.nodes!, n.labels));
    return endpointAddresses(other).some((a) => nodes.some((n) => n.addresses.some((b) => sameAddress(a, b))));
  }
  if (peer.domainNames) return other.kind === 'domain' && peer.domainNames.some((d) => domainMatch(d, other.name));
  return false;
}

function hasKnownField(peer: ClusterPolicyPeer): boolean {
  return ['namespaces', 'pods', 'networks', 'nodes', 'domainNames'].some((k) => Object.hasOwn(peer, k));
}

function namedPortIs(destination: Endpoint, name: string, protocol: Protocol, asked: number): boolean {
  return destinationPort(destination, name, protocol) === asked;
}

function portsMatch(rule: RawRule, destination: Endpoint, protocol: Protocol, port: number | string): boolean {
  const entries = rule.protocols ?? rule.ports;
  // "If unspecified, protocol-specific attributes will not be used to match traffic."
  if (entries === undefined) return true;
  const asked = askedPort(destination, protocol, port);
  if (asked === undefined) return false;
  return entries.some((e) => {
    if (rule.protocols) {
      if (typeof e.destinationNamedPort === 'string') return namedPortIs(destination, e.destinationNamedPort, protocol, asked);
      const key = protocol.toLowerCase();
      const dp = (e[key] as { destinationPort?: { number?: number; range?: { start: number; end: number } } } | undefined)?.destinationPort;
      if (!dp) return false;
      return dp.number !== undefined ? dp.number === asked : dp.range !== undefined && dp.range.start <= asked && asked <= dp.range.end;
    }
    if (typeof e.namedPort === 'string') return namedPortIs(destination, e.namedPort, protocol, asked);
    const n = e.portNumber as { protocol?: string; port: number } | undefined;
    if (n) return (n.protocol ?? 'TCP') === protocol && n.port === asked;
    const r = e.portRange as { protocol?: string; start: number; end: number } | undefined;
    return r !== undefined && (r.protocol ?? 'TCP') === protocol && r.start <= asked && asked <= r.end;
  });
}

/** The first matching rule of the tier's policies: its action, or undefined when none matched. */
function tierVerdict(
  cluster: Cluster,
  policies: ClusterPolicyInfo[],
  direction: 'Ingress' | 'Egress',
  subject: PodInfo,
  other: Endpoint,
  destination: Endpoint,
  protocol: Protocol,
  port: number | string,
): 'allow' | 'deny' | 'pass' | undefined {
  for (const p of policies) {
    const s = spec(p);
    if (!podIn(cluster, subject, s.subject.pods ? s.subject.pods.namespaceSelector : s.subject.namespaces, s.subject.pods?.podSelector)) continue;
    for (const rule of (direction === 'Ingress' ? s.ingress : s.egress) ?? []) {
      const peers = (direction === 'Ingress' ? rule.from : rule.to) ?? [];
      const accept = rule.action === 'Accept' || rule.action === 'Allow';
      // Fail closed: "For Accept rules [...] treat the rule as matching no traffic. For Deny and Pass rules [...] as a 'Deny all' rule."
      if (peers.some((peer) => !hasKnownField(peer))) {
        if (accept) continue;
        return 'deny';
      }
      if (!peers.some((peer) => peerMatches(cluster, peer, other))) continue;
      if (!portsMatch(rule, destination, protocol, port)) continue;
      return accept ? 'allow' : rule.action === 'Deny' ? 'deny' : 'pass';
    }
  }
  return undefined;
}

/**
 * One side with the tiers: Admin tier, then NetworkPolicy (`networkPolicy`: what the NetworkPolicy oracle
 * found for this side), then Baseline tier, then allow.
 */
export function tieredSideAllows(
  cluster: Cluster,
  direction: 'Ingress' | 'Egress',
  subject: PodInfo,
  other: Endpoint,
  destination: Endpoint,
  protocol: Protocol,
  port: number | string,
  networkPolicy: { isolated: boolean; allowed: boolean },
): boolean {
  const all = [...(cluster.clusterPolicies ?? [])].sort(order);
  const admin = tierVerdict(cluster, all.filter(isAdmin), direction, subject, other, destination, protocol, port);
  if (admin === 'allow') return true;
  if (admin === 'deny') return false;
  // Admin passed or did not match: "v1.NetworkPolicy always makes a final decision for selected pods."
  if (networkPolicy.isolated) return networkPolicy.allowed;
  const baseline = tierVerdict(
    cluster,
    all.filter((p) => !isAdmin(p)),
    direction,
    subject,
    other,
    destination,
    protocol,
    port,
  );
  return baseline !== 'deny';
}
