/**
 * The namespaces of a loaded cluster: those the manifests declare, and one for each namespace that
 * objects use but no manifest declares, which the cluster must hold (the API server would refuse an
 * object in a namespace that does not exist). Shared by both loaders, so they add the same namespaces
 * and say the same thing about them.
 *
 * Design choice: the guess is said once, not once per namespace: a dump of pods and policies without
 * its Namespace objects uses hundreds of them, and hundreds of identical warning lines hide every
 * other line. One warning gives the count, names the first few, and points at the first use of the
 * first one (that position is the one a reader can jump to).
 */
import { attachSource, type Diagnostic, type ObjectRef, type ObjectSource } from '../diag/index.js';
import { automaticLabels, NAMESPACE_NAME_LABEL, type NamespaceInfo } from '../model/index.js';

/** The first object (in source order) that uses a namespace, and where it is. */
export interface NamespaceUse {
  readonly object: ObjectRef;
  readonly source: ObjectSource | undefined;
}

/** How many undeclared namespaces the warning names before it says "and N more". */
const NAMED = 3;

/**
 * The declared namespaces and an implicit one for each used namespace not declared, sorted by name, and
 * the warning about the implicit ones (none when every namespace used is declared). `uses` is in source
 * order: the first entry is the first use in the input.
 */
export function withImplicitNamespaces(declared: ReadonlyMap<string, NamespaceInfo>, uses: ReadonlyMap<string, NamespaceUse>): { namespaces: Map<string, NamespaceInfo>; diagnostics: Diagnostic[] } {
  const all = new Map(declared);
  const undeclared: string[] = [];
  for (const ns of uses.keys()) {
    if (all.has(ns)) continue;
    // "The Kubernetes control plane sets an immutable label kubernetes.io/metadata.name on all
    // namespaces. The value of the label is the namespace name." (Namespaces concept page)
    all.set(ns, { name: ns, labels: automaticLabels(ns), implicit: true });
    undeclared.push(ns);
  }
  const namespaces = new Map([...all.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const first = undeclared[0];
  if (first === undefined) return { namespaces, diagnostics: [] };
  const use = uses.get(first) as NamespaceUse;
  return { namespaces, diagnostics: [attachSource(implicitNamespaceWarning(undeclared), use.object, use.source)] };
}

function implicitNamespaceWarning(undeclared: readonly string[]): Diagnostic {
  const path = 'metadata.namespace';
  if (undeclared.length === 1) {
    const ns = undeclared[0] as string;
    return {
      severity: 'warning',
      code: 'ImplicitNamespace',
      message:
        `namespace ${JSON.stringify(ns)} is not declared in the manifests; assuming it exists with only the label ` +
        `${NAMESPACE_NAME_LABEL}=${ns}: its real labels are unknown, so namespaceSelector results may differ from the cluster`,
      path,
    };
  }
  const named = undeclared.slice(0, NAMED).map((ns) => JSON.stringify(ns));
  const more = undeclared.length - named.length;
  const list = more > 0 ? `${named.join(', ')} and ${more} more` : `${named.slice(0, -1).join(', ')} and ${named[named.length - 1]}`;
  return {
    severity: 'warning',
    code: 'ImplicitNamespace',
    message:
      `${undeclared.length} namespaces are not declared in the manifests (${list}; the first is used here); assuming each exists ` +
      `with only the label ${NAMESPACE_NAME_LABEL}=<its name>: their real labels are unknown, so namespaceSelector results may differ from the cluster`,
    path,
  };
}
