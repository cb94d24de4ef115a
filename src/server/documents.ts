/**
 * The editor edits documents, not files: each YAML document (or JSON file) that holds a NetworkPolicy,
 * with the comments above it. A file of 13,000 policies is 13,000 small documents, so an edit sends
 * and re-parses only what changed. Pure: no IO.
 */
import type { SourceText } from '../load/index.js';
import { podKey, type PolicyInfo } from '../model/index.js';

export interface PolicyDocument {
  /** `FILE#N`: the N-th document (from 0) of FILE. */
  readonly id: string;
  readonly file: string;
  /** Line of FILE (1-based) where the document's text starts. */
  readonly line: number;
  readonly text: string;
  /** `ns/name` of the policies the document holds (more than one for a List). */
  readonly policies: readonly string[];
}

interface Span {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** A YAML stream cut at its `---` markers (a marker line belongs to no document). JSON is one document. */
export function splitDocuments(text: string, file: string): Span[] {
  const lines = text.split('\n');
  if (file.endsWith('.json')) return [{ start: 1, end: lines.length, text }];
  const spans: Span[] = [];
  let start = 1;
  let buf: string[] = [];
  const flush = (end: number): void => {
    spans.push({ start, end, text: buf.join('\n') });
    buf = [];
  };
  lines.forEach((line, i) => {
    if (/^---(\s|$)/.test(line) || /^\.\.\.\s*$/.test(line)) {
      flush(i);
      start = i + 2;
    } else buf.push(line);
  });
  flush(lines.length);
  return spans;
}

/** The documents of `sources` that hold the given policies, in source order. */
export function policyDocuments(sources: readonly SourceText[], policies: readonly PolicyInfo[]): PolicyDocument[] {
  const byFile = new Map<string, PolicyInfo[]>();
  for (const p of policies) {
    if (!p.source) continue;
    const list = byFile.get(p.source.file) ?? [];
    list.push(p);
    byFile.set(p.source.file, list);
  }
  const out: PolicyDocument[] = [];
  for (const s of sources) {
    const list = byFile.get(s.file);
    if (!list) continue;
    const spans = splitDocuments(s.text, s.file);
    const held = new Map<number, string[]>();
    let k = 0;
    for (const p of [...list].sort((a, b) => a.source!.line - b.source!.line)) {
      while (k < spans.length - 1 && spans[k]!.end < p.source!.line) k++;
      const keys = held.get(k) ?? [];
      keys.push(podKey(p));
      held.set(k, keys);
    }
    for (const [i, keys] of [...held].sort((a, b) => a[0] - b[0])) {
      const span = spans[i]!;
      out.push({ id: `${s.file}#${i}`, file: s.file, line: span.start, text: span.text, policies: keys });
    }
  }
  return out;
}
