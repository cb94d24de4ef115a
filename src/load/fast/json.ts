/**
 * JSON input on the fast path: a JSON document, a `kind: List` (what `kubectl get -o json` prints), or
 * a stream of JSON values separated by whitespace (`kubectl get -o json` of several resources, `jq -c`).
 *
 * Design choice: `JSON.parse` does the parsing (native, an order of magnitude faster than any parser in
 * JavaScript); this module only finds where each top-level value starts and ends (a scan that skips
 * strings and counts brackets) and, when a diagnostic or an output needs an object's position, parses
 * that one value again with the reference parser (JSON is YAML) to find it. The reference loader
 * reads one JSON document per file; for a stream, `jsonStreamAsYaml` puts a `--- ` marker in front of
 * every value after the first, so it reads the same values (line numbers unchanged).
 */
import type { Locator, ObjectSource, Position } from '../../diag/index.js';
import { locatorFor } from '../locate.js';
import { parseDocuments, type PNode } from '../yaml.js';

/** Does the text hold JSON (its first non-blank character opens an object or an array)? */
export function looksLikeJson(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0xfeff) continue;
    return c === 0x7b || c === 0x5b; // { [
  }
  return false;
}

/** One top-level value of a JSON text: [start, end) and the line (1-based) it starts on. */
export interface JsonValueSpan {
  readonly start: number;
  readonly end: number;
  readonly line: number;
  readonly column: number;
}

/**
 * The top-level values of a JSON text (objects or arrays, separated by whitespace), or undefined when
 * it is not such a stream (a scalar at the top, unbalanced brackets, an unterminated string).
 */
export function jsonValues(text: string): JsonValueSpan[] | undefined {
  const out: JsonValueSpan[] = [];
  let line = 1;
  let lineStart = 0;
  let depth = 0;
  let start = -1;
  let startLine = 0;
  let startColumn = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) {
      line++;
      lineStart = i + 1;
    } else if (c === 0x22) {
      if (depth === 0) return undefined;
      // A string: to its closing quote, escapes skipped (no newline can occur inside).
      for (i++; i < n; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x5c) i++;
        else if (s === 0x22) break;
        else if (s === 0x0a) return undefined;
      }
      if (i >= n) return undefined;
    } else if (c === 0x7b || c === 0x5b) {
      if (depth === 0) {
        start = i;
        startLine = line;
        startColumn = i - lineStart + 1;
      }
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      if (depth === 0) return undefined;
      depth--;
      if (depth === 0) out.push({ start, end: i + 1, line: startLine, column: startColumn });
    } else if (depth === 0 && c !== 0x20 && c !== 0x0d && c !== 0x09 && c !== 0xfeff) {
      return undefined;
    }
  }
  return depth === 0 ? out : undefined;
}

/** The stream with `--- ` in front of each value after the first, for the reference loader (YAML). */
export function jsonStreamAsYaml(text: string): string {
  const spans = jsonValues(text);
  if (spans === undefined || spans.length < 2) return text;
  let out = '';
  let at = 0;
  for (const [k, s] of spans.entries()) {
    if (k === 0) continue;
    out += `${text.slice(at, s.start)}--- `;
    at = s.start;
  }
  return out + text.slice(at);
}

/**
 * The reference parser's tree of one JSON value (text [start, end) of the file), built when first
 * asked and then kept: every object of a List shares it.
 */
export function jsonDocument(file: string, text: string, span: JsonValueSpan): () => PNode | undefined {
  let root: PNode | undefined;
  let parsed = false;
  return () => {
    if (!parsed) {
      parsed = true;
      // Blank lines and spaces in front keep the reference parser's positions those of the file.
      const padded = '\n'.repeat(span.line - 1) + ' '.repeat(span.column - 1) + text.slice(span.start, span.end);
      root = parseDocuments(file, padded).documents[0];
    }
    return root;
  };
}

/**
 * Where an object of a JSON value is, found only when asked (a diagnostic, an output naming it): the
 * object is reached from the value's tree through the `items` indices of `path`.
 */
export function lazyJsonSource(file: string, span: JsonValueSpan, root: () => PNode | undefined, path: readonly number[]): ObjectSource {
  let node: PNode | undefined;
  let found = false;
  const nodeOf = (): PNode | undefined => {
    if (!found) {
      found = true;
      node = root();
      for (const k of path) {
        const items = node?.kind === 'map' ? node.byKey.get('items')?.value : undefined;
        node = items?.kind === 'seq' ? items.items[k] : undefined;
      }
    }
    return node;
  };
  let locator: Locator | undefined;
  const here = (): Position => {
    const n = nodeOf();
    return n ? { line: n.line, column: n.column } : { line: span.line, column: span.column };
  };
  return {
    file,
    get line() {
      return here().line;
    },
    get column() {
      return here().column;
    },
    locate: (fieldPath) => {
      if (!locator) {
        const n = nodeOf();
        locator = n ? locatorFor(n) : () => ({ line: span.line, column: span.column });
      }
      return locator(fieldPath);
    },
  };
}
