/**
 * YAML text for generated manifests, written with string templates rather than a YAML library: the
 * generator must produce 100 MB of manifests in a couple of seconds. The output is block-style YAML as
 * `kubectl get -o yaml` writes it (sequences at their key's indentation, `---` between documents).
 *
 * Design choice: strings are written plain only when every YAML reader (YAML 1.1 as kubectl reads
 * manifests, YAML 1.2 as most libraries do) reads them back as the same string; everything else is
 * double-quoted with JSON escapes, which YAML's double-quoted style accepts. Numbers and booleans are
 * written plain.
 */

type Json = string | number | boolean | null | readonly Json[] | { readonly [k: string]: Json | undefined };

// Words YAML 1.1 reads as booleans or null (y/n included: go-yaml v2 is YAML 1.1).
const SPECIAL = new Set(['y', 'yes', 'n', 'no', 'true', 'false', 'on', 'off', 'null', '~']);
const PLAIN_WORD = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
const DOTTED_NUMBERS = /^\d+(\.\d+){2,}(\/\d+)?$/; // IPv4 addresses and CIDRs: never numbers (two dots or more)

/** A scalar as YAML text. */
export function scalar(v: string | number | boolean | null): string {
  if (v === null) return 'null';
  if (typeof v !== 'string') return String(v);
  if ((PLAIN_WORD.test(v) && !SPECIAL.has(v.toLowerCase())) || DOTTED_NUMBERS.test(v)) return v;
  return JSON.stringify(v);
}

function key(k: string): string {
  return scalar(k);
}

function isEmptyCollection(v: Json): boolean {
  return v !== null && typeof v === 'object' && (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0);
}

function inline(v: Json): string | undefined {
  if (v === null || typeof v !== 'object') return scalar(v);
  if (Array.isArray(v)) return v.length === 0 ? '[]' : undefined;
  return Object.keys(v).length === 0 ? '{}' : undefined;
}

function mapLines(o: { readonly [k: string]: Json | undefined }, indent: string, out: string[], firstPrefix?: string): void {
  let first = true;
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v === undefined) continue;
    const pad = first && firstPrefix !== undefined ? firstPrefix : indent;
    first = false;
    const one = inline(v);
    if (one !== undefined) {
      out.push(`${pad}${key(k)}: ${one}`);
    } else if (Array.isArray(v)) {
      out.push(`${pad}${key(k)}:`);
      seqLines(v, indent, out);
    } else {
      out.push(`${pad}${key(k)}:`);
      mapLines(v as { readonly [k: string]: Json }, `${indent}  `, out);
    }
  }
}

function seqLines(items: readonly Json[], indent: string, out: string[]): void {
  for (const item of items) {
    const one = inline(item);
    if (one !== undefined) out.push(`${indent}- ${one}`);
    else if (Array.isArray(item)) {
      out.push(`${indent}-`);
      seqLines(item, `${indent}  `, out);
    } else mapLines(item as { readonly [k: string]: Json }, `${indent}  `, out, `${indent}- `);
  }
}

/** One object as a YAML document (without the `---` separator), ending in a newline. */
export function toYaml(object: object): string {
  const out: string[] = [];
  const o = object as { readonly [k: string]: Json };
  if (isEmptyCollection(o)) return '{}\n';
  mapLines(o, '', out);
  return `${out.join('\n')}\n`;
}

/** Several objects as one multi-document YAML text. */
export function toYamlDocuments(objects: readonly object[]): string {
  const parts: string[] = [];
  for (const o of objects) parts.push(`---\n${toYaml(o)}`);
  return parts.join('');
}
