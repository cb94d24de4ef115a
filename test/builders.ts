/** Small builders for clusters in tests: intent-named fixtures instead of long literals. */
import { NAMESPACE_NAME_LABEL, type Cluster, type ClusterPolicyInfo, type NamedPort, type NamespaceInfo, type NodeInfo, type PodInfo, type PolicyInfo } from '../src/model/cluster.js';
import type { NetworkPolicy, NetworkPolicySpec } from '../src/model/k8s.js';

export function namespace(name: string, labels: Record<string, string> = {}): NamespaceInfo {
  return { name, labels: { ...labels, [NAMESPACE_NAME_LABEL]: name }, implicit: false };
}

export function pod(ref: string, labels: Record<string, string> = {}, opts: { ips?: string[]; ports?: NamedPort[] } = {}): PodInfo {
  const [ns, name] = ref.split('/') as [string, string];
  return { namespace: ns, name, labels, ips: opts.ips ?? [], ports: opts.ports ?? [] };
}

export function policy(ref: string, spec: Partial<NetworkPolicySpec>): PolicyInfo {
  const [ns, name] = ref.split('/') as [string, string];
  const np: NetworkPolicy = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: ns },
    spec: { podSelector: {}, ...spec },
  };
  return { namespace: ns, name, policy: np };
}

export function cluster(parts: { namespaces?: NamespaceInfo[]; pods?: PodInfo[]; policies?: PolicyInfo[] }): Cluster {
  const namespaces = new Map<string, NamespaceInfo>();
  for (const n of parts.namespaces ?? []) namespaces.set(n.name, n);
  for (const p of [...(parts.pods ?? []), ...(parts.policies ?? [])]) {
    if (!namespaces.has(p.namespace)) namespaces.set(p.namespace, namespace(p.namespace));
  }
  return { namespaces, pods: parts.pods ?? [], policies: parts.policies ?? [] };
}

/** A cluster-scoped policy (ClusterNetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy) from its spec. */
export function clusterPolicy(kind: ClusterPolicyInfo['kind'], name: string, spec: object): ClusterPolicyInfo {
  const apiVersion = kind === 'ClusterNetworkPolicy' ? 'policy.networking.k8s.io/v1alpha2' : 'policy.networking.k8s.io/v1alpha1';
  return { kind, name, policy: { apiVersion, kind, metadata: { name }, spec } as unknown as ClusterPolicyInfo['policy'] };
}

export function node(name: string, labels: Record<string, string>, addresses: string[]): NodeInfo {
  return { name, labels, addresses };
}

/** `cluster(...)` with cluster-scoped policies and nodes. */
export function tieredCluster(parts: Parameters<typeof cluster>[0] & { clusterPolicies?: ClusterPolicyInfo[]; nodes?: NodeInfo[] }): Cluster {
  return { ...cluster(parts), clusterPolicies: parts.clusterPolicies ?? [], nodes: parts.nodes ?? [] };
}

/** The policy (a NetworkPolicy or a cluster-scoped one) staged: annotated `netpol.dev/mode: audit` (the annotation spelled out, not imported). */
export function audit<P extends PolicyInfo | ClusterPolicyInfo>(p: P): P {
  const metadata = { ...p.policy.metadata, annotations: { ...p.policy.metadata.annotations, 'netpol.dev/mode': 'audit' } };
  return { ...p, policy: { ...p.policy, metadata } };
}

/**
 * The cluster with policy `i` staged (`audit`) where `staged[i]` is true, and cluster-scoped policy `i`
 * where `stagedCluster[i]` is true.
 */
export function staged(c: Cluster, which: readonly boolean[], stagedCluster: readonly boolean[] = []): Cluster {
  return {
    ...c,
    policies: c.policies.map((p, i) => (which[i] === true ? audit(p) : p)),
    ...(c.clusterPolicies ? { clusterPolicies: c.clusterPolicies.map((p, i) => (stagedCluster[i] === true ? audit(p) : p)) } : {}),
  };
}

/** The cluster as enforced today: every staged policy, namespaced or cluster-scoped, left out (read the plain way). */
export function withoutStaged(c: Cluster): Cluster {
  return { ...c, policies: c.policies.filter((p) => !isStaged(p)), ...(c.clusterPolicies ? { clusterPolicies: c.clusterPolicies.filter((p) => !isStaged(p)) } : {}) };
}

/** Whether a policy is staged, read the plain way (for oracles: no shared code with src/policy). */
export function isStaged(p: PolicyInfo | ClusterPolicyInfo): boolean {
  return p.policy.metadata.annotations?.['netpol.dev/mode'] === 'audit';
}
