/**
 * A loaded cluster's policies validated the way the API server would validate each one, plus what only
 * shows across policies (cluster-scoped policies of equal priority that overlap). Pure.
 */
import { attachSource, hasErrors, ObjectMap, type Diagnostic, type ObjectSource } from '../diag/index.js';
import type { Cluster } from '../model/index.js';
import { normalizeClusterPolicies, samePriorityOverlaps } from '../policy/index.js';
import { validateClusterPolicy } from './crd/index.js';
import { validateNetworkPolicy } from './networkpolicy.js';

/**
 * API-server validation of every NetworkPolicy and cluster-scoped policy, each diagnostic placed at
 * file:line:column.
 */
export function validateCluster(cluster: Cluster): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const p of cluster.policies) {
    const object = { kind: 'NetworkPolicy', namespace: p.namespace, name: p.name };
    for (const d of validateNetworkPolicy(p.policy)) out.push(attachSource(d, object, p.source));
  }
  const valid: NonNullable<Cluster['clusterPolicies']>[number][] = [];
  for (const p of cluster.clusterPolicies ?? []) {
    const object = { kind: p.kind, name: p.name };
    const ds = validateClusterPolicy(p.policy);
    for (const d of ds) out.push(attachSource(d, object, p.source));
    if (!hasErrors(ds)) valid.push(p);
  }
  // Where the order of equal priorities (ours to choose) decides something, say so.
  const sources = new ObjectMap<ObjectSource | undefined>();
  for (const p of cluster.clusterPolicies ?? []) sources.set({ kind: p.kind, name: p.name }, p.source);
  for (const d of samePriorityOverlaps(cluster, normalizeClusterPolicies(valid))) out.push(attachSource(d, undefined, d.ref && sources.get(d.ref)));
  return out;
}
