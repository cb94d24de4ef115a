/**
 * The source text behind a finding: where a field of an object is (file:line:column) and the object's
 * annotations (for inline suppression; the cluster model keeps a pod's labels, ports and addresses, not
 * its annotations). Both are read back from the texts with the reference parser, one YAML document at a
 * time: the document holding the object is cut out of its file (documents start at `---` lines), parsed
 * alone, and its positions shifted back. Parsing only that document keeps the cost of a finding the
 * size of its object, however far into a large file it sits. Pure: the texts are given.
 */
import type { Locator, Position } from '../diag/index.js';
import { collectObjects, parseDocuments, type SourceText } from '../load/index.js';
import type { LintTarget } from './types.js';

export interface ObjectText {
  readonly locate: Locator;
  readonly annotations: Readonly<Record<string, string>> | undefined;
}

interface FileIndex {
  readonly lines: readonly string[];
  /** 0-based indices of the lines that start a document (`---`), with 0 first. */
  readonly starts: readonly number[];
  readonly docs: Map<number, Map<string, ObjectText>>;
}

export function sourceReader(sources: readonly SourceText[]): (t: LintTarget) => ObjectText | undefined {
  const texts = new Map(sources.map((s) => [s.file, s.text]));
  const files = new Map<string, FileIndex>();
  const fileIndex = (file: string): FileIndex | undefined => {
    let f = files.get(file);
    if (!f) {
      const text = texts.get(file);
      if (text === undefined) return undefined;
      const lines = text.split('\n');
      const starts = [0];
      lines.forEach((l, i) => {
        if (i > 0 && /^---(\s|$)/.test(l)) starts.push(i);
      });
      files.set(file, (f = { lines, starts, docs: new Map() }));
    }
    return f;
  };
  return (t) => {
    const src = t.object.source;
    if (!src) return undefined;
    const f = fileIndex(src.file);
    if (!f) return undefined;
    // The last document starting at or before the object's line.
    let lo = 0;
    let hi = f.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (f.starts[mid]! <= src.line - 1) lo = mid;
      else hi = mid - 1;
    }
    let objects = f.docs.get(lo);
    if (!objects) {
      objects = new Map();
      f.docs.set(lo, objects);
      const first = f.starts[lo]!;
      // The `---` line itself is left out (and kept as an empty line so line numbers shift by `first`).
      const end = f.starts[lo + 1] ?? f.lines.length;
      const text = [lo === 0 && !/^---(\s|$)/.test(f.lines[0] ?? '') ? f.lines[0]! : '', ...f.lines.slice(first + 1, end)].join('\n');
      const shift = (p: Position | undefined): Position | undefined => (p ? { line: p.line + first, column: p.column } : undefined);
      for (const root of parseDocuments(src.file, text).documents) {
        for (const o of collectObjects(src.file, root).objects) {
          const meta = o.node.byKey.get('metadata')?.value;
          const ann = meta?.kind === 'map' ? meta.byKey.get('annotations')?.value : undefined;
          let annotations: Record<string, string> | undefined;
          if (ann?.kind === 'map') {
            annotations = {};
            for (const e of ann.entries) if (e.value.kind === 'scalar') annotations[e.key] = String(e.value.value);
          }
          objects.set(`${o.source.line + first}:${o.source.column}`, { locate: (path) => shift(o.source.locate(path)), annotations });
        }
      }
    }
    return objects.get(`${src.line}:${src.column}`);
  };
}
