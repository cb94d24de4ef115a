/**
 * The normalised model of cluster-scoped policies: ClusterNetworkPolicy (v1alpha2) and
 * AdminNetworkPolicy / BaselineAdminNetworkPolicy (v1alpha1) become one structure, so the engine, the
 * oracle's callers and the explanations read a single shape whatever the API version.
 *
 * What normalisation decides (docs/semantics.md, "Cluster-scoped policies"):
 * - Tier: CNP `tier: Admin` and every ANP are `admin`; CNP `tier: Baseline` and the BANP are `baseline`.
 * - Action: v1alpha1 `Allow` is `accept`.
 * - Order (`compareClusterPolicies`): tier, then ascending priority ("Policies with lower priority values
 *   have higher precedence"), then, for equal priorities, which the API leaves to the implementation:
 *   ClusterNetworkPolicy before AdminNetworkPolicy, then by name. The BANP has no priority: it comes after
 *   every Baseline ClusterNetworkPolicy.
 * - Peers: each peer has exactly one field after validation. A peer with none (an older CRD pruned a field
 *   it did not know) is `unknown`: "For Accept rules, "fail closed" means: "treat the rule as matching no
 *   traffic". For "Deny" and "Pass" rules, "fail closed" means: "treat the rule as a 'Deny all' rule"."
 * - Ports: v1alpha2 `protocols` and v1alpha1 `ports` both become port entries; a named port has no protocol
 *   of its own (it resolves against the destination pod's container ports, name and protocol).
 * - Mode: netpol's annotation `netpol.dev/mode: audit` stages a cluster policy as it stages a
 *   NetworkPolicy (src/policy/mode.ts); a value validation rejects reads as `enforce` (fail closed).
 *
 * Input policies must have passed validation (src/validate/crd).
 */
import { AddressSet, parseCIDR } from '../ip/index.js';
import type { ANPPort, ClusterPolicyPeer, ClusterPolicySubject, CNPProtocol, LabelSelector, NamespacedPod } from '../model/index.js';
import { annotatedMode, clusterPolicyKey, PROTOCOLS, type ClusterPolicyInfo, type Labels, type PodInfo, type PolicyMode, type Protocol } from '../model/index.js';
import { compileSelector, matches, type Selector } from '../selector/index.js';
import type { ObjectSource } from '../diag/index.js';
import type { Direction, PortMatch } from './model.js';

export type Tier = 'admin' | 'baseline';
export type Action = 'accept' | 'deny' | 'pass';

export interface ClusterPolicyRef {
  readonly kind: ClusterPolicyInfo['kind'];
  readonly name: string;
}

/** Pods of namespaces matching `namespaces`, and of those pods the ones matching `pods` (undefined: all). */
export interface PodScope {
  readonly namespaces: Selector;
  readonly pods: Selector | undefined;
}

export type ClusterPeer =
  | ({ readonly kind: 'namespaces' | 'pods'; readonly index: number } & PodScope)
  | { readonly kind: 'networks'; readonly index: number; readonly cidrs: readonly string[]; readonly addresses: AddressSet }
  | { readonly kind: 'nodes'; readonly index: number; readonly nodes: Selector }
  | { readonly kind: 'domainNames'; readonly index: number; readonly names: readonly string[] }
  /** No field the model knows: fails closed (see the module comment). */
  | { readonly kind: 'unknown'; readonly index: number };

export interface ClusterPort {
  readonly index: number;
  /** Undefined for a named port: the destination's container port of that name decides the protocol. */
  readonly protocol: Protocol | undefined;
  readonly port: Exclude<PortMatch, { kind: 'all' }>;
}

export interface ClusterRule {
  readonly direction: Direction;
  readonly index: number;
  readonly name?: string;
  readonly action: Action;
  readonly peers: readonly ClusterPeer[];
  /** Undefined: the rule "does not filter traffic via port". */
  readonly ports: readonly ClusterPort[] | undefined;
}

export interface ClusterPolicy {
  readonly ref: ClusterPolicyRef;
  /** `Kind/name`. */
  readonly key: string;
  readonly tier: Tier;
  /** 0..1000; the BaselineAdminNetworkPolicy, which has none, gets 1001 (after every Baseline CNP). */
  readonly priority: number;
  readonly subject: PodScope;
  readonly ingressRules: readonly ClusterRule[];
  readonly egressRules: readonly ClusterRule[];
  /** `audit` (annotation `netpol.dev/mode: audit`, or the agent's `--mode audit`): left out of the enforced view. */
  readonly mode: PolicyMode;
  readonly source?: ObjectSource;
}

export const BANP_PRIORITY = 1001;

const KIND_ORDER: Readonly<Record<ClusterPolicyRef['kind'], number>> = { ClusterNetworkPolicy: 0, AdminNetworkPolicy: 1, BaselineAdminNetworkPolicy: 2 };

/** Evaluation order within the cluster tiers (see the module comment). */
export function compareClusterPolicies(a: ClusterPolicy, b: ClusterPolicy): number {
  if (a.tier !== b.tier) return a.tier === 'admin' ? -1 : 1;
  if (a.priority !== b.priority) return a.priority - b.priority;
  if (a.ref.kind !== b.ref.kind) return KIND_ORDER[a.ref.kind] - KIND_ORDER[b.ref.kind];
  return a.ref.name < b.ref.name ? -1 : a.ref.name > b.ref.name ? 1 : 0;
}

/**
 * Whether `pod` (of a namespace labelled `namespaceLabels`) is in `scope`: a subject, or a `namespaces` /
 * `pods` peer. "Note that host-networked pods are not included in subject selection" nor in those peers.
 */
export function inPodScope(scope: PodScope, namespaceLabels: Labels, pod: PodInfo): boolean {
  if (pod.hostNetwork) return false;
  return matches(scope.namespaces, namespaceLabels) && (scope.pods === undefined || matches(scope.pods, pod.labels));
}

export function clusterRulesOf(p: ClusterPolicy, d: Direction): readonly ClusterRule[] {
  return d === 'ingress' ? p.ingressRules : p.egressRules;
}

function selector(sel: LabelSelector | undefined): Selector {
  return compileSelector(sel);
}

/** `pods` peers and subjects: "NamespaceSelector follows standard label selector semantics; if empty, it selects all Namespaces." */
function podScope(p: NamespacedPod): PodScope {
  return { namespaces: selector(p.namespaceSelector), pods: selector(p.podSelector) };
}

function subjectScope(s: ClusterPolicySubject | undefined): PodScope {
  if (s?.pods) return podScope(s.pods);
  return { namespaces: selector(s?.namespaces), pods: undefined };
}

function normalizePeer(p: ClusterPolicyPeer, index: number): ClusterPeer {
  if (p.namespaces) return { kind: 'namespaces', index, namespaces: selector(p.namespaces), pods: undefined };
  if (p.pods) return { kind: 'pods', index, ...podScope(p.pods) };
  if (p.networks) {
    let addresses = AddressSet.empty();
    for (const text of p.networks) {
      const c = parseCIDR(text);
      if (c) addresses = addresses.union(AddressSet.fromCIDR(c));
    }
    return { kind: 'networks', index, cidrs: [...p.networks], addresses };
  }
  if (p.nodes) return { kind: 'nodes', index, nodes: selector(p.nodes) };
  if (p.domainNames) return { kind: 'domainNames', index, names: [...p.domainNames] };
  return { kind: 'unknown', index };
}

function protocolOf(text: string | undefined): Protocol | undefined {
  // "If not specified, this field defaults to TCP." Any other value than the three matches no traffic.
  const t = text ?? 'TCP';
  return (PROTOCOLS as readonly string[]).includes(t) ? (t as Protocol) : undefined;
}

function cnpPort(p: CNPProtocol, index: number): ClusterPort | undefined {
  if (p.destinationNamedPort !== undefined) return { index, protocol: undefined, port: { kind: 'named', name: p.destinationNamedPort } };
  for (const [field, protocol] of [
    ['tcp', 'TCP'],
    ['udp', 'UDP'],
    ['sctp', 'SCTP'],
  ] as const) {
    const dp = p[field]?.destinationPort;
    if (!dp) continue;
    if (dp.range) return { index, protocol, port: { kind: 'range', from: dp.range.start, to: dp.range.end } };
    if (dp.number !== undefined) return { index, protocol, port: { kind: 'range', from: dp.number, to: dp.number } };
  }
  return undefined;
}

/** A v1alpha1 port entry; an unsupported protocol gives an entry that matches nothing (`protocol` kept undefined with an empty range). */
function anpPort(p: ANPPort, index: number): ClusterPort | undefined {
  if (p.namedPort !== undefined) return { index, protocol: undefined, port: { kind: 'named', name: p.namedPort } };
  if (p.portNumber) {
    const protocol = protocolOf(p.portNumber.protocol);
    return protocol ? { index, protocol, port: { kind: 'range', from: p.portNumber.port, to: p.portNumber.port } } : undefined;
  }
  if (p.portRange) {
    const protocol = protocolOf(p.portRange.protocol);
    return protocol ? { index, protocol, port: { kind: 'range', from: p.portRange.start, to: p.portRange.end } } : undefined;
  }
  return undefined;
}

interface AnyRule {
  name?: string;
  action: string;
  from?: ClusterPolicyPeer[];
  to?: ClusterPolicyPeer[];
  protocols?: CNPProtocol[];
  ports?: ANPPort[];
}

function normalizeRule(r: AnyRule, direction: Direction, index: number): ClusterRule {
  const action: Action = r.action === 'Deny' ? 'deny' : r.action === 'Pass' ? 'pass' : 'accept';
  const peers = ((direction === 'ingress' ? r.from : r.to) ?? []).map(normalizePeer);
  let ports: ClusterPort[] | undefined;
  const raw = r.protocols ?? r.ports;
  if (raw !== undefined) {
    // An entry that matches nothing (unsupported protocol) is dropped; the list stays a restriction.
    ports = [];
    raw.forEach((p, i) => {
      const port = r.protocols ? cnpPort(p as CNPProtocol, i) : anpPort(p as ANPPort, i);
      if (port) ports!.push(port);
    });
  }
  return { direction, index, ...(r.name ? { name: r.name } : {}), action, peers, ports };
}

export function normalizeClusterPolicy(info: ClusterPolicyInfo): ClusterPolicy {
  const p = info.policy;
  const spec = p.spec as { subject?: ClusterPolicySubject; ingress?: AnyRule[]; egress?: AnyRule[]; priority?: number; tier?: string };
  const tier: Tier = p.kind === 'AdminNetworkPolicy' || (p.kind === 'ClusterNetworkPolicy' && spec.tier === 'Admin') ? 'admin' : 'baseline';
  const priority = p.kind === 'BaselineAdminNetworkPolicy' ? BANP_PRIORITY : (spec.priority ?? 0);
  const ref: ClusterPolicyRef = { kind: info.kind, name: info.name };
  return {
    ref,
    key: clusterPolicyKey(ref),
    tier,
    priority,
    subject: subjectScope(spec.subject),
    ingressRules: (spec.ingress ?? []).map((r, i) => normalizeRule(r, 'ingress', i)),
    egressRules: (spec.egress ?? []).map((r, i) => normalizeRule(r, 'egress', i)),
    mode: annotatedMode(p.metadata.annotations) ?? 'enforce',
    ...(info.source ? { source: info.source } : {}),
  };
}

/** Every cluster-scoped policy of the cluster, normalised, in evaluation order. */
export function normalizeClusterPolicies(infos: readonly ClusterPolicyInfo[] | undefined): ClusterPolicy[] {
  return (infos ?? []).map(normalizeClusterPolicy).sort(compareClusterPolicies);
}
