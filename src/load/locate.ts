/**
 * Kubernetes field paths -> positions in the YAML source.
 *
 * Design choice: paths are parsed into segments and walked over the positioned tree; a bracket segment
 * is an index when the node there is a sequence and a map key when it is a mapping, so
 * `metadata.labels[0]` and `ports[0]` need no separate syntax. The walk stops at the first segment
 * that does not exist and answers the position of the deepest node reached (the nearest existing
 * ancestor), which is what a diagnostic about a missing field should point at.
 */
import type { Locator, Position } from '../diag/index.js';
import type { PNode } from './yaml.js';

export type PathSegment = { readonly field: string } | { readonly bracket: string };

/**
 * Splits `spec.ingress[0].from[1].podSelector.matchLabels[app.kubernetes.io/name]` into segments.
 * Inside brackets everything up to the next `]` is taken literally (label keys contain dots and slashes).
 */
export function parseFieldPath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  let i = 0;
  let field = '';
  const flush = (): void => {
    if (field !== '') out.push({ field });
    field = '';
  };
  while (i < path.length) {
    const c = path[i] as string;
    if (c === '.') {
      flush();
      i++;
    } else if (c === '[') {
      flush();
      const close = path.indexOf(']', i + 1);
      const end = close < 0 ? path.length : close;
      out.push({ bracket: path.slice(i + 1, end) });
      i = end + 1;
    } else {
      field += c;
      i++;
    }
  }
  flush();
  return out;
}

/**
 * Position of `path` under `root`: the key of a map entry, the item of a list index; the nearest existing
 * ancestor when the path leaves the tree; the root itself for the empty path.
 */
export function locatePath(root: PNode, path: string): Position {
  let node: PNode = root;
  let best: Position = { line: root.line, column: root.column };
  for (const seg of parseFieldPath(path)) {
    const name = 'field' in seg ? seg.field : seg.bracket;
    if (node.kind === 'map') {
      const entry = node.byKey.get(name);
      if (!entry) break;
      best = { line: entry.line, column: entry.column };
      node = entry.value;
    } else if (node.kind === 'seq' && 'bracket' in seg && /^[0-9]+$/.test(seg.bracket)) {
      const item = node.items[Number(seg.bracket)];
      if (!item) break;
      best = { line: item.line, column: item.column };
      node = item;
    } else {
      break;
    }
  }
  return best;
}

export function locatorFor(root: PNode): Locator {
  return (path: string) => locatePath(root, path);
}
