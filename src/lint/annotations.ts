/**
 * Annotations of pods and namespaces, for inline suppression. The cluster model keeps only what
 * analysis needs (a pod's labels, ports, addresses), so the annotations of an object with a finding are
 * read back from its source text: the file is parsed once, on the first finding in it, and the object
 * found by its position. Pure: the texts are given.
 */
import { collectObjects, parseDocuments, type SourceText } from '../load/index.js';
import type { LintTarget } from './types.js';

export function annotationReader(sources: readonly SourceText[]): (t: LintTarget) => Readonly<Record<string, string>> | undefined {
  const texts = new Map(sources.map((s) => [s.file, s.text]));
  const byFile = new Map<string, Map<string, Record<string, string>>>();
  return (t) => {
    const src = t.object.source;
    if (!src) return undefined;
    let index = byFile.get(src.file);
    if (!index) {
      index = new Map();
      byFile.set(src.file, index);
      const text = texts.get(src.file);
      for (const root of text === undefined ? [] : parseDocuments(src.file, text).documents) {
        for (const o of collectObjects(src.file, root).objects) {
          const meta = o.node.byKey.get('metadata')?.value;
          const ann = meta?.kind === 'map' ? meta.byKey.get('annotations')?.value : undefined;
          if (ann?.kind !== 'map') continue;
          const out: Record<string, string> = {};
          for (const e of ann.entries) if (e.value.kind === 'scalar') out[e.key] = String(e.value.value);
          index.set(`${o.source.line}:${o.source.column}`, out);
        }
      }
    }
    return index.get(`${src.line}:${src.column}`);
  };
}
