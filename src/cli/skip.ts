/**
 * `--skip-invalid`: analyse what is valid and leave out the objects with errors, saying which. One
 * invalid object otherwise blocks every answer (the API server would have refused it, so analysis would
 * be guessing); with the flag the errors are still printed, then one warning lists what was left out.
 * Never silent: the warning names every skipped object (up to a count) and its total.
 */
import { ObjectMap, objectLabel, type Diagnostic } from '../diag/index.js';
import { automaticLabels, type NamespaceInfo } from '../model/index.js';
import type { Input } from './input.js';

export const SKIP_INVALID_OPTION = { 'skip-invalid': { type: 'boolean' } } as const;

/**
 * The input without its invalid objects, and the warning that says so. Unreadable sources and errors
 * that belong to no object (YAML syntax) are not skippable: the input stays unanalysable.
 */
export function skipInvalid(input: Input): Input {
  if (!input.invalid || input.unreadable) return input;
  const errors = input.diagnostics.filter((d) => d.severity === 'error');
  if (errors.some((d) => d.ref === undefined)) return input;
  const bad = ObjectMap.of(errors);
  const c = input.cluster;
  const pods = c.pods.filter((p) => !bad.has({ kind: p.workload?.kind ?? 'Pod', namespace: p.namespace, name: p.name }));
  const policies = c.policies.filter((p) => !bad.has({ kind: 'NetworkPolicy', namespace: p.namespace, name: p.name }));
  // An invalid Namespace is left out as a declaration: its namespace is known by its name label only.
  const namespaces = new Map<string, NamespaceInfo>();
  for (const [name, ns] of c.namespaces) {
    namespaces.set(name, bad.has({ kind: 'Namespace', name }) ? { name, labels: automaticLabels(name), implicit: true } : ns);
  }
  const listed =
    bad
      .values()
      .slice(0, 10)
      .map((r) => objectLabel(r.kind, r.namespace, r.name))
      .join(', ') + (bad.size > 10 ? `, ... (${bad.size} in all)` : '');
  const warning: Diagnostic = {
    severity: 'warning',
    code: 'SkippedInvalid',
    message: `--skip-invalid: ${bad.size} invalid object${bad.size === 1 ? '' : 's'} left out of the analysis (${listed}); the answers below are about the rest`,
  };
  // The other kinds are kept as they are, less their invalid objects (a Node's problems are warnings).
  const clusterPolicies = c.clusterPolicies?.filter((p) => !bad.has({ kind: p.kind, name: p.name }));
  const services = c.services?.filter((s) => !bad.has({ kind: 'Service', namespace: s.namespace, name: s.name }));
  const cluster = { namespaces, pods, policies, ...(clusterPolicies ? { clusterPolicies } : {}), ...(c.nodes ? { nodes: c.nodes } : {}), ...(services ? { services } : {}) };
  return { ...input, cluster, diagnostics: [...input.diagnostics, warning], invalid: false };
}
