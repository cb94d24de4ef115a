/**
 * Equal priorities in one tier: "If two (or more) policies in the same tier with the same priority could
 * match a connection, then the implementation can apply any of the matching policies to the connection,
 * and there is no way for the user to reliably determine which one it will choose." netpol's order is
 * fixed (compareClusterPolicies); this finds where it matters, so the user can be warned: two policies of
 * one tier with one priority, rules in the same direction, and a pod of the input that both select.
 */
import { about, type Diagnostic } from '../diag/index.js';
import { podKey, type Cluster, type PodInfo } from '../model/index.js';
import { clusterRulesOf, inPodScope, type ClusterPolicy } from './cluster.js';
import type { Direction } from './model.js';
import { namespaceLabels } from './rules.js';

function selects(cluster: Cluster, p: ClusterPolicy, pod: PodInfo): boolean {
  return inPodScope(p.subject, namespaceLabels(cluster.namespaces, pod.namespace), pod);
}

/** One warning per policy that overlaps an earlier one of its tier and priority, at its `spec.priority`. */
export function samePriorityOverlaps(cluster: Cluster, ordered: readonly ClusterPolicy[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  // Each policy's subjects once (as pod indexes, and as a membership mask), only for policies that share
  // their tier and priority with another: the pairs are then a mask lookup per subject.
  const groups = new Map<string, ClusterPolicy[]>();
  for (const p of ordered) {
    const k = `${p.tier}/${p.priority}`;
    const g = groups.get(k);
    if (g) g.push(p);
    else groups.set(k, [p]);
  }
  const subjects = new Map<ClusterPolicy, { list: number[]; mask: Uint8Array }>();
  const subjectsOf = (p: ClusterPolicy) => {
    let s = subjects.get(p);
    if (!s) {
      const mask = new Uint8Array(cluster.pods.length);
      const list: number[] = [];
      cluster.pods.forEach((pod, i) => {
        if (selects(cluster, p, pod)) {
          mask[i] = 1;
          list.push(i);
        }
      });
      s = { list, mask };
      subjects.set(p, s);
    }
    return s;
  };
  for (const group of groups.values()) {
    for (let j = 1; j < group.length; j++) {
      const b = group[j]!;
      // The earlier policies of the group that b overlaps with: one warning for b, naming the first.
      const earlier: { a: ClusterPolicy; directions: Direction[]; shared: number[] }[] = [];
      for (let i = 0; i < j; i++) {
        const a = group[i]!;
        const directions = (['ingress', 'egress'] as Direction[]).filter((d) => clusterRulesOf(a, d).length > 0 && clusterRulesOf(b, d).length > 0);
        if (directions.length === 0) continue;
        const sb = subjectsOf(b).mask;
        const shared = subjectsOf(a).list.filter((k) => sb[k] === 1);
        if (shared.length > 0) earlier.push({ a, directions, shared });
      }
      const first = earlier[0];
      if (!first) continue;
      const { a, directions, shared } = first;
      const more = earlier.length > 1 ? ` (and ${earlier.length - 1} more ${earlier.length === 2 ? 'policy' : 'policies'} of that priority)` : '';
      const warning: Diagnostic = {
        severity: 'warning',
        code: 'SamePriorityOverlap',
        message:
          `${a.key}${more} and ${b.key} have the same priority (${a.priority}) in the ${a.tier} tier and both select ${shared.length} ${shared.length === 1 ? 'pod' : 'pods'} ` +
          `(e.g. ${podKey(cluster.pods[shared[0]!]!)}) for ${directions.join(' and ')}: the API leaves their order to the implementation; netpol evaluates ${a.key} first`,
        path: b.ref.kind === 'BaselineAdminNetworkPolicy' ? 'metadata.name' : 'spec.priority',
      };
      out.push(about(warning, b.ref));
    }
  }
  return out;
}
