/**
 * namespace-selector-unknown-labels: a namespaceSelector asks for labels no Namespace of the input
 * carries, so it selects no namespace. The classic case is `name: prod`, written when only the
 * automatic `kubernetes.io/metadata.name: prod` exists. Only judged when the input declares at least
 * one Namespace (otherwise their labels are unknown).
 */
import { NAMESPACE_NAME_LABEL } from '../../model/index.js';
import type { LabelSelector } from '../../model/index.js';
import { compileSelector, matches } from '../../selector/index.js';
import type { LintRule, RawFinding } from '../types.js';
import { peersOf } from './peers.js';

/** Keys a selector requires to be present (matchLabels, In, Exists). */
function requiredKeys(sel: LabelSelector): string[] {
  const keys = Object.keys(sel.matchLabels ?? {});
  for (const e of sel.matchExpressions ?? []) if (e.operator === 'In' || e.operator === 'Exists') keys.push(e.key);
  return keys;
}

export const namespaceSelectorUnknownLabels: LintRule = {
  id: 'namespace-selector-unknown-labels',
  severity: 'error',
  summary: 'namespaceSelector requires labels that no Namespace carries',
  description:
    'A namespaceSelector that requires a label no Namespace has selects no namespace, so the peer admits nothing. Namespaces carry the automatic label kubernetes.io/metadata.name: <name>; a selector on `name: prod` matches only if someone added that label.',
  check(ctx) {
    const out: RawFinding[] = [];
    const namespaces = [...ctx.cluster.namespaces.values()];
    if (!namespaces.some((n) => !n.implicit)) return out;
    const carried = new Set(namespaces.flatMap((n) => Object.keys(n.labels)));
    for (const info of ctx.cluster.policies) {
      for (const { peer, path } of peersOf(info)) {
        const sel = peer.namespaceSelector;
        if (!sel) continue;
        const missing = requiredKeys(sel).filter((k) => !carried.has(k));
        if (missing.length === 0) continue;
        const compiled = compileSelector(sel);
        if (namespaces.some((n) => matches(compiled, n.labels))) continue;
        const hint = missing.some((k) => ['name', 'namespace', 'ns'].includes(k)) ? `; did you mean ${NAMESPACE_NAME_LABEL}?` : '';
        out.push({
          target: { kind: 'NetworkPolicy', object: info },
          path: `${path}.namespaceSelector`,
          message: `namespaceSelector requires label ${missing.map((k) => `"${k}"`).join(', ')}, which no Namespace carries: it selects no namespace${hint}`,
        });
      }
    }
    return out;
  },
};
