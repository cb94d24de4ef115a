/** Small builders for clusters in tests: intent-named fixtures instead of long literals. */
import { NAMESPACE_NAME_LABEL, type Cluster, type NamedPort, type NamespaceInfo, type PodInfo, type PolicyInfo } from '../src/model/cluster.js';
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
