/**
 * The lab cluster as Kubernetes manifests (one `kind: List`), for enforcers that read manifests rather
 * than a Cluster, such as `netpol agent --node lab-node-0 -f DIR`: each pod becomes a Pod with its lab IPs
 * in `status.podIPs` and its lab node in `spec.nodeName`, so the agent sees exactly what the lab built.
 * JSON is valid YAML, so `JSON.stringify(labManifests(plan))` can be written to a `.yaml` or `.json` file.
 * Pure.
 */
import type { Namespace, NetworkPolicy, Pod } from '../model/index.js';
import type { LabPlan } from './plan.js';

export interface ManifestList {
  readonly apiVersion: 'v1';
  readonly kind: 'List';
  readonly items: readonly (Namespace | Pod | NetworkPolicy)[];
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
      containers: [
        {
          name: 'lab',
          ...(p.ports.length > 0
            ? { ports: p.ports.map((port) => ({ ...(port.name !== undefined ? { name: port.name } : {}), containerPort: port.port, protocol: port.protocol })) }
            : {}),
        },
      ],
    },
    ...(p.ips.length > 0 ? { status: { podIP: p.ips[0]!, podIPs: p.ips.map((ip) => ({ ip })) } } : {}),
  }));
  const policies: NetworkPolicy[] = cluster.policies.map((p) => p.policy);
  return { apiVersion: 'v1', kind: 'List', items: [...namespaces, ...pods, ...policies] };
}
