/**
 * Where an object read by the YAML subset reader is: its position, exact, and a locator for its fields
 * that parses its one document with the reference parser when a diagnostic first asks.
 */
import type { Locator, ObjectSource } from '../../diag/index.js';
import { locatorFor } from '../locate.js';
import { parseDocuments, type PNode } from '../yaml.js';
import type { FastDocument } from './subset.js';

/** What the decoder found in a document: an object, where it is, and its path through `items` lists. */
export interface Located {
  readonly kind: string;
  readonly apiVersion: string;
  readonly value: Record<string, unknown>;
  readonly line: number;
  readonly column: number;
  /** Indices from the document root through nested `items` lists. */
  readonly path: readonly number[];
}

/**
 * The lines of a text, split when first asked. (A function of its own: the locators keep this closure,
 * and through it nothing of the loader's state.)
 */
export function lazyLines(text: string): () => readonly string[] {
  let lines: string[] | undefined;
  return () => (lines ??= text.split('\n'));
}

/** The object's position, and a locator that parses its document with the reference parser when first asked. */
export function objectSource(file: string, linesOf: () => readonly string[], doc: FastDocument, o: Located): ObjectSource {
  // Only numbers are kept (not the document's values, which would then live as long as the cluster).
  const { startLine, endLine } = doc;
  const { line, column, path } = o;
  let locator: Locator | undefined;
  // A method, not a function in a variable: that one would be named at run time for each object (tsx
  // keeps names by setting each function's name, a property write per object made).
  return {
    file,
    line,
    column,
    locate(fieldPath) {
      if (!locator) {
        // The document alone, its positions moved down to where it starts in the file (blank lines in
        // front would make every first lookup cost the size of the file before it).
        const text = linesOf()
          .slice(startLine - 1, endLine)
          .join('\n');
        let node: PNode | undefined = parseDocuments(file, text).documents[0];
        for (const k of path) {
          const items = node?.kind === 'map' ? node.byKey.get('items')?.value : undefined;
          node = items?.kind === 'seq' ? items.items[k] : undefined;
        }
        if (node) {
          const inDocument = locatorFor(node);
          locator = (p) => {
            const at = inDocument(p);
            return at && { line: at.line + startLine - 1, column: at.column };
          };
        } else {
          locator = () => ({ line, column });
        }
      }
      return locator(fieldPath);
    },
  };
}
