/**
 * An edit from the page: documents of the loaded policies replaced by new text, and new documents.
 * Pods and namespaces never change here (the editor edits policies; nothing is written anywhere): the
 * result is the loaded cluster with its policies replaced, validated as the API server would, or the
 * diagnostics that stop it from being analysed. Pure: no IO.
 */
import { attachSource, hasErrors, type Diagnostic } from '../diag/index.js';
import { loadCluster } from '../load/index.js';
import { podKey, type Cluster, type PolicyInfo } from '../model/index.js';
import { validateCluster } from '../validate/index.js';
import type { PolicyDocument } from './documents.js';

export interface Edit {
  /** The id of the document it replaces (`FILE#N`), or null for a new document. */
  readonly document: string | null;
  readonly text: string;
}

export interface EditedCluster {
  readonly cluster: Cluster;
  /** Per edit, in its own text's lines and columns; `file` is the document id or `new:N`. */
  readonly diagnostics: readonly Diagnostic[];
  readonly invalid: boolean;
  /** `ns/name` of the policies the edit adds, changes (in content) and removes. */
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
}

/** Bounds on what one request may ask for. */
export const MAX_EDITS = 1000;

export function applyEdits(base: Cluster, documents: ReadonlyMap<string, PolicyDocument>, edits: readonly Edit[], defaultNamespace: string): EditedCluster {
  const diagnostics: Diagnostic[] = [];
  const replaced = new Set<string>();
  const fromEdits: PolicyInfo[] = [];
  const seen = new Set<string>();
  edits.forEach((edit, i) => {
    const file = edit.document ?? `new:${i}`;
    if (edit.document !== null) {
      const doc = documents.get(edit.document);
      if (!doc) {
        diagnostics.push({ severity: 'error', code: 'UnknownDocument', message: `no loaded document ${edit.document}`, file });
        return;
      }
      if (seen.has(edit.document)) diagnostics.push({ severity: 'error', code: 'Duplicate', message: `document ${edit.document} is edited twice`, file });
      seen.add(edit.document);
      for (const k of doc.policies) replaced.add(k);
    }
    const loaded = loadCluster([{ file, text: edit.text }], { defaultNamespace });
    for (const d of [...loaded.diagnostics, ...validateCluster(loaded.cluster)]) {
      // The editor holds policies only: their namespaces are the loaded cluster's, declared there or not.
      if (d.code === 'ImplicitNamespace') continue;
      diagnostics.push(d);
    }
    for (const p of loaded.cluster.pods) {
      diagnostics.push(
        attachSource(
          { severity: 'warning', code: 'IgnoredObject', message: 'the editor changes NetworkPolicies only: this pod is ignored (the loaded pods stay as they are)' },
          { kind: 'Pod', namespace: p.namespace, name: p.name },
          p.source,
        ),
      );
    }
    fromEdits.push(...loaded.cluster.policies);
  });

  const before = new Map(base.policies.map((p) => [podKey(p), p]));
  const target = new Map<string, PolicyInfo>();
  for (const p of base.policies) if (!replaced.has(podKey(p))) target.set(podKey(p), p);
  for (const p of fromEdits) {
    const key = podKey(p);
    if (target.has(key)) {
      const first = target.get(key)!.source;
      diagnostics.push(
        attachSource(
          { severity: 'error', code: 'Duplicate', message: `NetworkPolicy ${key} is already defined${first ? ` at ${first.file}:${first.line}:${first.column}` : ''}` },
          { kind: 'NetworkPolicy', namespace: p.namespace, name: p.name },
          p.source,
        ),
      );
      continue;
    }
    target.set(key, p);
  }
  const added: string[] = [];
  const changed: string[] = [];
  for (const [key, p] of target) {
    const old = before.get(key);
    if (!old) added.push(key);
    else if (old !== p && JSON.stringify(old.policy) !== JSON.stringify(p.policy)) changed.push(key);
  }
  const removed = [...before.keys()].filter((k) => !target.has(k));
  return {
    cluster: { ...base, policies: [...target.values()] },
    diagnostics,
    invalid: hasErrors(diagnostics),
    added,
    changed,
    removed,
  };
}
