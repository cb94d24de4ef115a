/**
 * The pipeline as a library call: validate a loaded cluster's policies the way the API server would, and
 * build an engine only from a cluster that passed. Analysis of invalid policies would be guessing at what
 * the API server would never have stored.
 */
import { attachSource, hasErrors, type Diagnostic } from './diag/diagnostic.js';
import { Engine } from './engine/engine.js';
import type { Cluster } from './model/cluster.js';
import { normalizeClusterPolicies } from './policy/cluster.js';
import { samePriorityOverlaps } from './policy/overlaps.js';
import { validateClusterPolicy, validateNetworkPolicy } from './validate/index.js';

/**
 * API-server validation of every NetworkPolicy and cluster-scoped policy, each diagnostic placed at
 * file:line:column.
 */
export function validateCluster(cluster: Cluster): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const p of cluster.policies) {
    const object = `NetworkPolicy ${p.namespace}/${p.name}`;
    for (const d of validateNetworkPolicy(p.policy)) out.push(attachSource(d, object, p.source));
  }
  const valid: NonNullable<Cluster['clusterPolicies']>[number][] = [];
  for (const p of cluster.clusterPolicies ?? []) {
    const object = `${p.kind} ${p.name}`;
    const ds = validateClusterPolicy(p.policy);
    for (const d of ds) out.push(attachSource(d, object, p.source));
    if (!hasErrors(ds)) valid.push(p);
  }
  // Where the order of equal priorities (ours to choose) decides something, say so.
  const sources = new Map((cluster.clusterPolicies ?? []).map((p) => [`${p.kind} ${p.name}`, p.source]));
  for (const d of samePriorityOverlaps(cluster, normalizeClusterPolicies(valid))) out.push(attachSource(d, d.object, sources.get(d.object ?? '')));
  return out;
}

/** An engine for the cluster, or the diagnostics that stop one from being built. */
export function analyze(cluster: Cluster): { engine: Engine; diagnostics: Diagnostic[] } | { engine?: undefined; diagnostics: Diagnostic[] } {
  const diagnostics = validateCluster(cluster);
  if (hasErrors(diagnostics)) return { diagnostics };
  return { engine: new Engine(cluster), diagnostics };
}
