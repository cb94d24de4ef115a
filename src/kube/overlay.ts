/**
 * `--overlay`: the cluster as it would be after `kubectl apply` of the files. Objects of the files
 * replace the cluster's objects of the same kind, namespace and name, or are added. Pure.
 *
 * A workload in the files (a Deployment, say) stands for pods the cluster already runs: applying it
 * rolls them to the new template, so each pod `workloadPods` attributes to it (same namespace, named
 * and labelled as that workload's replicas) takes the template's labels and ports and keeps its name,
 * node and addresses. A workload the cluster has no pods of is added as one pod standing for its
 * replicas, as when reading files alone. A namespace the files only refer to does not replace the
 * cluster's real one.
 */
import { about, type Diagnostic } from '../diag/index.js';
import { clusterPolicyKey, podKey, type Cluster, type ClusterPolicyInfo, type NamespaceInfo, type NodeInfo, type PodInfo, type PolicyInfo, type ServiceInfo } from '../model/index.js';
import { workloadPods } from '../kubectl/index.js';
import { assemble } from './read.js';

export function overlayCluster(cluster: Cluster, files: Cluster): { cluster: Cluster; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const namespaces = new Map<string, NamespaceInfo>(cluster.namespaces);
  for (const [name, n] of files.namespaces) if (!n.implicit || !namespaces.has(name)) namespaces.set(name, n);

  const policies = new Map<string, PolicyInfo>(cluster.policies.map((p) => [podKey(p), p]));
  for (const p of files.policies) policies.set(podKey(p), p);

  const pods = new Map<string, PodInfo>(cluster.pods.map((p) => [podKey(p), p]));
  for (const p of files.pods) {
    if (!p.workload) {
      pods.set(podKey(p), p);
      continue;
    }
    const replicas = workloadPods(cluster, `${p.namespace}/${p.workload.kind}/${p.workload.name}`) ?? [];
    if (replicas.length === 0) {
      pods.set(podKey(p), p);
      continue;
    }
    for (const r of replicas) pods.set(podKey(r), { ...r, labels: p.labels, ports: p.ports, ...(p.source ? { source: p.source } : {}) });
    const note: Diagnostic = {
      severity: 'info',
      code: 'OverlayWorkload',
      message: `${replicas.length} pod${replicas.length === 1 ? '' : 's'} of the cluster take this template's labels and ports`,
      ...(p.source ? { file: p.source.file, line: p.source.line, column: p.source.column } : {}),
    };
    diagnostics.push(about(note, { kind: p.workload.kind, namespace: p.namespace, name: p.name }));
  }
  // Cluster-scoped policies by kind and name, nodes by name, Services by namespace and name: the files' replace the cluster's.
  const clusterPolicies = new Map<string, ClusterPolicyInfo>((cluster.clusterPolicies ?? []).map((p) => [clusterPolicyKey(p), p]));
  for (const p of files.clusterPolicies ?? []) clusterPolicies.set(clusterPolicyKey(p), p);
  const nodes = new Map<string, NodeInfo>((cluster.nodes ?? []).map((n) => [n.name, n]));
  for (const n of files.nodes ?? []) nodes.set(n.name, n);
  const services = new Map<string, ServiceInfo>((cluster.services ?? []).map((s) => [podKey(s), s]));
  for (const s of files.services ?? []) services.set(podKey(s), s);
  return { cluster: assemble(namespaces.values(), [...pods.values()], [...policies.values()], [...clusterPolicies.values()], [...nodes.values()], [...services.values()]), diagnostics };
}
