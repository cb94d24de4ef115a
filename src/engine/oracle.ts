/**
 * The oracle: a deliberately naive, spec-literal evaluator. It reads the raw NetworkPolicy objects (not
 * the normalised model), walks every policy for every question and shares no matching code with the
 * engine, so a bug in normalisation or in the engine's shortcuts shows up as a disagreement in the
 * property tests. It is slow on purpose and must stay obviously correct: each step is a sentence of the
 * API reference.
 */
import type { Cluster, PodInfo, Protocol, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from '../model/index.js';
import type { Endpoint } from './types.js';
import { askedPort, destinationPort, inCIDRs, podInNamespaces, selectorMatches } from './oracle-match.js';
import { tieredSideAllows } from './oracle-tiers.js';

function policyTypes(np: NetworkPolicy): string[] {
  if (np.spec.policyTypes && np.spec.policyTypes.length > 0) return np.spec.policyTypes;
  // "all policies ... are assumed to affect ingress"; "policies that contain an egress section are assumed to affect egress"
  return np.spec.egress && np.spec.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

function peerMatches(cluster: Cluster, policyNs: string, peer: NetworkPolicyPeer, other: Endpoint): boolean {
  // "cidr ... except": a domain name's addresses are unknown, so no block contains it.
  if (peer.ipBlock) return inCIDRs(other, [peer.ipBlock.cidr], peer.ipBlock.except ?? []);
  if (other.kind !== 'pod') return false;
  const pod = other.pod;
  if (peer.namespaceSelector) {
    // "If NamespaceSelector is also set, then the NetworkPolicyPeer as a whole selects the Pods matching
    // PodSelector in the Namespaces selected by NamespaceSelector. Otherwise it selects all Pods in the
    // Namespaces selected by NamespaceSelector."
    return podInNamespaces(cluster, pod, peer.namespaceSelector, peer.podSelector);
  }
  // "Otherwise it selects the Pods matching PodSelector in the policy's own namespace."
  return pod.namespace === policyNs && selectorMatches(peer.podSelector ?? {}, pod.labels);
}

function portMatches(ports: NetworkPolicyPort[] | undefined, destination: Endpoint, protocol: Protocol, port: number | string): boolean {
  // "If this field is empty or missing, this rule matches all ports"
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    const asked = askedPort(destination, protocol, port);
    if (asked === undefined) return false;
    if (typeof p.port === 'string') return destinationPort(destination, p.port, protocol) === asked;
    const end = p.endPort ?? p.port;
    return asked >= p.port && asked <= end;
  });
}

/**
 * NetworkPolicy on this side: is the subject isolated, and does some rule allow the traffic? `subject` is
 * the pod whose policies apply.
 */
export function networkPolicySide(
  cluster: Cluster,
  direction: 'Ingress' | 'Egress',
  subject: PodInfo,
  other: Endpoint,
  destination: Endpoint,
  protocol: Protocol,
  port: number | string,
): { isolated: boolean; allowed: boolean } {
  let isolated = false;
  let allowed = false;
  for (const info of cluster.policies) {
    const np = info.policy;
    if (info.namespace !== subject.namespace) continue;
    if (!selectorMatches(np.spec.podSelector, subject.labels)) continue;
    if (!policyTypes(np).includes(direction)) continue;
    isolated = true;
    const rules = direction === 'Ingress' ? (np.spec.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports })) : (np.spec.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }));
    for (const rule of rules) {
      const peerOk = !rule.peers || rule.peers.length === 0 || rule.peers.some((p) => peerMatches(cluster, info.namespace, p, other));
      if (peerOk && portMatches(rule.ports, destination, protocol, port)) allowed = true;
    }
  }
  return { isolated, allowed };
}

function sideAllows(cluster: Cluster, direction: 'Ingress' | 'Egress', subject: PodInfo, other: Endpoint, destination: Endpoint, protocol: Protocol, port: number | string): boolean {
  const side = networkPolicySide(cluster, direction, subject, other, destination, protocol, port);
  if (cluster.clusterPolicies && cluster.clusterPolicies.length > 0) return tieredSideAllows(cluster, direction, subject, other, destination, protocol, port, side);
  return !side.isolated || side.allowed;
}

/**
 * Is a connection from `source` to `destination` on (protocol, port) allowed? `port` is a number or a
 * named port of the destination pod.
 */
export function oracleAllows(cluster: Cluster, source: Endpoint, destination: Endpoint, protocol: Protocol, port: number | string): boolean {
  if (source.kind === 'pod' && destination.kind === 'pod' && source.pod === destination.pod) return true;
  const egressOk = source.kind !== 'pod' || sideAllows(cluster, 'Egress', source.pod, destination, destination, protocol, port);
  const ingressOk = destination.kind !== 'pod' || sideAllows(cluster, 'Ingress', destination.pod, source, destination, protocol, port);
  return egressOk && ingressOk;
}
