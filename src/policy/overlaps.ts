/**
 * Equal priorities in one tier: "If two (or more) policies in the same tier with the same priority could
 * match a connection, then the implementation can apply any of the matching policies to the connection,
 * and there is no way for the user to reliably determine which one it will choose." netpol's order is
 * fixed (compareClusterPolicies); this finds where it matters, so the user can be warned: two policies of
 * one tier with one priority, rules in the same direction, and a pod of the input that both select.
 */
import type { Diagnostic } from '../diag/diagnostic.js';
import { NAMESPACE_NAME_LABEL, podKey, type Cluster, type PodInfo } from '../model/cluster.js';
import { matches } from '../selector/index.js';
import { clusterRulesOf, type ClusterPolicy } from './cluster.js';
import type { Direction } from './model.js';

function selects(cluster: Cluster, p: ClusterPolicy, pod: PodInfo): boolean {
  if (pod.hostNetwork) return false;
  const labels = cluster.namespaces.get(pod.namespace)?.labels ?? { [NAMESPACE_NAME_LABEL]: pod.namespace };
  return matches(p.subject.namespaces, labels) && (p.subject.pods === undefined || matches(p.subject.pods, pod.labels));
}

/** One warning per overlapping pair, on the policy evaluated second, at its `spec.priority`. */
export function samePriorityOverlaps(cluster: Cluster, ordered: readonly ClusterPolicy[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (let i = 0; i < ordered.length; i++) {
    for (let j = i + 1; j < ordered.length; j++) {
      const a = ordered[i]!;
      const b = ordered[j]!;
      if (a.tier !== b.tier || a.priority !== b.priority) continue;
      const directions = (['ingress', 'egress'] as Direction[]).filter((d) => clusterRulesOf(a, d).length > 0 && clusterRulesOf(b, d).length > 0);
      if (directions.length === 0) continue;
      const shared = cluster.pods.filter((pod) => selects(cluster, a, pod) && selects(cluster, b, pod));
      if (shared.length === 0) continue;
      out.push({
        severity: 'warning',
        code: 'SamePriorityOverlap',
        message:
          `${a.key} and ${b.key} have the same priority (${a.priority}) in the ${a.tier} tier and both select ${shared.length} ${shared.length === 1 ? 'pod' : 'pods'} ` +
          `(e.g. ${podKey(shared[0]!)}) for ${directions.join(' and ')}: the API leaves their order to the implementation; netpol evaluates ${a.key} first`,
        path: b.ref.kind === 'BaselineAdminNetworkPolicy' ? 'metadata.name' : 'spec.priority',
        object: `${b.ref.kind} ${b.ref.name}`,
      });
    }
  }
  return out;
}
