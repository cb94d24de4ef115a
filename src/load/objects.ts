/**
 * Documents -> Kubernetes objects: reads `kind` / `apiVersion`, expands `kind: List` and every `*List`
 * kind (keeping each item's own position), and gives every object its `ObjectSource`.
 *
 * Design choice: this step only identifies objects; it does not decode them, so a List of mixed kinds,
 * or items of a typed list that omit `kind` (as the API returns them, e.g. a PodList), all come out as
 * the same `RawObject` shape for the kind decoders.
 */
import type { Diagnostic, ObjectSource } from '../diag/index.js';
import { locatorFor } from './locate.js';
import type { PMap, PNode } from './yaml.js';

export interface RawObject {
  readonly kind: string;
  readonly apiVersion: string;
  readonly node: PMap;
  readonly source: ObjectSource;
}

/** Lists inside lists are expanded up to this depth. */
const MAX_LIST_DEPTH = 8;

interface Inherited {
  readonly kind?: string;
  readonly apiVersion?: string;
}

/** The objects of one document, in order; problems become diagnostics (with file and position). */
export function collectObjects(file: string, root: PNode): { objects: RawObject[]; diagnostics: Diagnostic[] } {
  const objects: RawObject[] = [];
  const diagnostics: Diagnostic[] = [];
  visit(root, {}, 0);
  return { objects, diagnostics };

  function visit(node: PNode, inherited: Inherited, depth: number): void {
    const at = { file, line: node.line, column: node.column };
    if (node.kind !== 'map') {
      const got = node.kind === 'seq' ? 'a list' : `a ${typeof node.value}`;
      diagnostics.push({ severity: 'error', code: 'InvalidObject', message: `expected a Kubernetes object (a mapping), got ${got}`, ...at });
      return;
    }
    const kind = stringField(node, 'kind') ?? inherited.kind;
    const apiVersion = stringField(node, 'apiVersion') ?? inherited.apiVersion;
    const itemsEntry = node.byKey.get('items');
    if (kind !== undefined && (kind === 'List' || (kind.endsWith('List') && itemsEntry !== undefined))) {
      if (depth >= MAX_LIST_DEPTH) {
        diagnostics.push({ severity: 'error', code: 'InvalidObject', message: `lists nested deeper than ${MAX_LIST_DEPTH} levels`, ...at });
        return;
      }
      const items = itemsEntry?.value;
      if (items === undefined || (items.kind === 'scalar' && items.value === null)) return;
      if (items.kind !== 'seq') {
        diagnostics.push({
          severity: 'error',
          code: 'FieldValueTypeInvalid',
          message: `cannot unmarshal ${items.kind === 'map' ? 'object' : typeof items.value} into Go struct field ${kind}.items of type []runtime.RawExtension`,
          path: 'items',
          file,
          line: itemsEntry?.line ?? node.line,
          column: itemsEntry?.column ?? node.column,
        });
        return;
      }
      // Items of a typed list (PodList, NetworkPolicyList, ...) may omit kind and apiVersion.
      // Items of a plain `List` carry their own.
      const itemDefaults: Inherited = kind === 'List' ? {} : { kind: kind.slice(0, -'List'.length), ...(apiVersion !== undefined ? { apiVersion } : {}) };
      for (const item of items.items) visit(item, itemDefaults, depth + 1);
      return;
    }
    const source: ObjectSource = { file, line: node.line, column: node.column, locate: locatorFor(node) };
    let ok = true;
    // apimachinery's wording: "Object 'Kind' is missing in '<json>'" (we leave the JSON out).
    if (kind === undefined) {
      diagnostics.push({ severity: 'error', code: 'MissingKind', message: `Object 'Kind' is missing`, path: 'kind', ...at });
      ok = false;
    }
    if (apiVersion === undefined) {
      diagnostics.push({ severity: 'error', code: 'MissingAPIVersion', message: `Object 'apiVersion' is missing`, path: 'apiVersion', ...at });
      ok = false;
    }
    if (ok && kind !== undefined && apiVersion !== undefined) objects.push({ kind, apiVersion, node, source });
  }
}

function stringField(node: PMap, key: string): string | undefined {
  const v = node.byKey.get(key)?.value;
  return v?.kind === 'scalar' && typeof v.value === 'string' && v.value !== '' ? v.value : undefined;
}

/** A scalar string at `metadata.<key>`, if any (used to name objects before they are decoded). */
export function metadataString(node: PMap, key: string): string | undefined {
  const meta = node.byKey.get('metadata')?.value;
  if (meta?.kind !== 'map') return undefined;
  return stringField(meta, key);
}
