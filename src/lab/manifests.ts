/**
 * The lab cluster as Kubernetes manifests (one `kind: List`), for enforcers that read manifests rather
 * than a Cluster, such as `netpol agent --node lab-node-0 -f DIR`: each pod becomes a Pod with its lab IPs
 * in `status.podIPs` and its lab node in `spec.nodeName`, so the agent sees exactly what the lab built.
 * JSON is valid YAML, so `JSON.stringify(labManifests(plan))` can be written to a `.yaml` or `.json` file.
 * Pure.
 */
import type { ClusterScopedPolicy, Namespace, NetworkPolicy, Node, Pod } from '../model/index.js';
import type { LabPlan } from './plan.js';

export interface ManifestList {
  readonly apiVersion: 'v1';
  readonly kind: 'List';
  readonly items: readonly (Namespace | Pod | Node | NetworkPolicy | ClusterScopedPolicy)[];
}

export function labManifests(plan: Pick<LabPlan, 'cluster'>): ManifestList {
  const { cluster } = plan;
  const namespaces: Namespace[] = [...cluster.namespaces.values()]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((ns) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns.name, labels: { ...ns.labels } } }));
  const pods: Pod[] = cluster.pods.map((p) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace: p.namespace, labels: { ...p.labels } },
    spec: {
      ...(p.nodeName !== undefined ? { nodeName: p.nodeName } : {}),
      ...(p.hostNetwork ? { hostNetwork: true } : {}),
      containers: [
        {
          name: 'lab',
          ...(p.ports.length > 0 ? { ports: p.ports.map((port) => ({ ...(port.name !== undefined ? { name: port.name } : {}), containerPort: port.port, protocol: port.protocol })) } : {}),
        },
      ],
    },
    ...(p.ips.length > 0 ? { status: { podIP: p.ips[0]!, podIPs: p.ips.map((ip) => ({ ip })) } } : {}),
  }));
  // Node objects as given (their addresses are what `nodes` peers match), and the cluster-scoped policies.
  const nodes: Node[] = (cluster.nodes ?? []).map((n) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, labels: { ...n.labels } },
    status: { addresses: n.addresses.map((address) => ({ type: 'InternalIP', address })) },
  }));
  const policies: NetworkPolicy[] = cluster.policies.map((p) => p.policy);
  const clusterPolicies: ClusterScopedPolicy[] = (cluster.clusterPolicies ?? []).map((p) => p.policy);
  return { apiVersion: 'v1', kind: 'List', items: [...namespaces, ...nodes, ...pods, ...policies, ...clusterPolicies] };
}
