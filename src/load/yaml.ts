/**
 * YAML text -> positioned value trees, one per non-empty document.
 *
 * Design choice: we parse with the `yaml` package into its node tree and convert that once into our own
 * small tree (`PNode`) in which every map entry keeps the position of its key and every node the
 * position of its value. Everything downstream (strict decoding, `locate(path)`) walks this tree, so
 * positions never have to be recovered from plain JS objects.
 *
 * Scalars are resolved the way kubectl resolves them, not the way YAML 1.2 does: kubectl reads manifests
 * with sigs.k8s.io/yaml (a fork of go-yaml v2, YAML 1.1 rules), so `yes`, `on`, `y` are booleans, `0777` is
 * octal, but a base-60 `1:20` and a timestamp `2024-01-01` stay strings. Getting this right matters:
 * `release: on` in a label is a type error for the API server, `time: 12:30` is not.
 *
 * Aliases are expanded by sharing the converted subtree; the number of alias dereferences the fully
 * expanded document would contain is counted (linear time, memoised), and documents above
 * `maxAliasCount` are rejected before anything walks them ("billion laughs").
 */
import { Composer, LineCounter, Parser, isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { Alias, CST, Document, Node as YamlNode, Pair } from 'yaml';

type Token = CST.Token;
import type { Diagnostic, Position } from '../diag/index.js';

export type PValue = string | number | boolean | null;

export interface PScalar {
  readonly kind: 'scalar';
  readonly value: PValue;
  readonly line: number;
  readonly column: number;
}

export interface PEntry {
  readonly key: string;
  /** Position of the key. */
  readonly line: number;
  readonly column: number;
  readonly value: PNode;
}

export interface PMap {
  readonly kind: 'map';
  /** Entries in source order (merged `<<` entries after the explicit ones), keys unique. */
  readonly entries: readonly PEntry[];
  readonly byKey: ReadonlyMap<string, PEntry>;
  readonly line: number;
  readonly column: number;
}

export interface PSeq {
  readonly kind: 'seq';
  readonly items: readonly PNode[];
  readonly line: number;
  readonly column: number;
}

export type PNode = PScalar | PMap | PSeq;

export interface ParseOptions {
  /**
   * Maximum number of alias dereferences in one fully expanded document (nested expansions count each
   * time they are reached). -1 disables the check. Default {@link DEFAULT_MAX_ALIAS_COUNT}.
   */
  readonly maxAliasCount?: number;
}

export const DEFAULT_MAX_ALIAS_COUNT = 1000;

/**
 * Deeper documents are rejected. A Kubernetes object nests a few dozen levels at most (a CRD schema
 * perhaps a hundred); the bound keeps the recursive YAML composer far from the end of the stack.
 */
const MAX_DEPTH = 200;

export interface ParsedDocuments {
  /** Root nodes of the non-empty, error-free documents, in order. */
  readonly documents: readonly PNode[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Parses a multi-document YAML (or JSON) text. Never throws on bad input. */
export function parseDocuments(file: string, text: string, opts: ParseOptions = {}): ParsedDocuments {
  const maxAliasCount = opts.maxAliasCount ?? DEFAULT_MAX_ALIAS_COUNT;
  const lineCounter = new LineCounter();
  // A UTF-8 byte order mark is not content; dropping it keeps columns on the first line right.
  const source = text.startsWith('\ufeff') ? text.slice(1) : text;
  const diagnostics: Diagnostic[] = [];
  const documents: PNode[] = [];
  const posOf = (offset: number): Position => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  // Documents are composed and converted one at a time (the yaml package's parseAllDocuments, streamed),
  // so a large multi-document input never holds all the yaml node trees at once.
  const parser = new Parser(lineCounter.addNewLine);
  const composer = new Composer({
    // go-yaml v2 is a YAML 1.1 parser: `<<` merge keys are on.
    version: '1.1',
    // Duplicate keys are reported by us, worded as kubectl words them.
    uniqueKeys: false,
  });
  // Composing is recursive, and V8 can abort the whole process (not throw) when it has to compile a
  // regular expression with the stack nearly exhausted; so the nesting depth is measured on the parser's
  // token tree (no recursion) and too-deep documents never reach the composer.
  function* shallowOnly(tokens: Iterable<Token>): Generator<Token> {
    let skippedDocument = false;
    for (const token of tokens) {
      if (token.type === 'document') {
        skippedDocument = tokenDepth(token) > MAX_DEPTH;
        if (skippedDocument) {
          diagnostics.push({
            severity: 'error',
            code: 'YAMLSyntax',
            message: `the document nests deeper than ${MAX_DEPTH} levels`,
            file,
            ...posOf(token.value?.offset ?? token.offset),
          });
          continue;
        }
      } else if (token.type === 'doc-end' && skippedDocument) {
        skippedDocument = false;
        continue;
      }
      yield token;
    }
  }
  try {
    for (const doc of composer.compose(shallowOnly(parser.parse(source)))) {
      handle(doc);
    }
  } catch (e) {
    // The parser recurses on deeply nested block structure and can run out of stack (a RangeError; it
    // uses no regular expressions, so V8 throws rather than aborts). The rest of the text is lost.
    const message = friendly(e instanceof Error ? e.message : String(e));
    diagnostics.push({ severity: 'error', code: 'YAMLSyntax', message: `cannot parse: ${message}`, file, line: 1, column: 1 });
  }
  return { documents, diagnostics };

  function handle(doc: Document.Parsed): void {
    for (const w of doc.warnings) {
      diagnostics.push({ severity: 'warning', code: 'YAMLWarning', message: w.message, file, ...posOf(w.pos[0]) });
    }
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        diagnostics.push({ severity: 'error', code: 'YAMLSyntax', message: friendly(e.message), file, ...posOf(e.pos[0]) });
      }
      return;
    }
    if (doc.contents === null) return;
    const conv = new Converter(file, posOf);
    const root = conv.convert(doc.contents as YamlNode);
    const aliases = conv.lastWeight;
    const expandedDepth = conv.lastDepth;
    if (conv.errors.length > 0) {
      diagnostics.push(...conv.errors);
      return;
    }
    if (root === undefined) return;
    if (maxAliasCount >= 0 && aliases > maxAliasCount) {
      const at = posOf((doc.contents as YamlNode).range?.[0] ?? 0);
      diagnostics.push({
        severity: 'error',
        code: 'YAMLAliasLimit',
        message: `document expands ${aliases} aliases, more than the limit of ${maxAliasCount} (excessive aliasing indicates a resource exhaustion attack)`,
        file,
        ...at,
      });
      return;
    }
    // Aliases can stack subtrees into a deeper tree than the text shows; everything after walks it recursively.
    if (expandedDepth > MAX_DEPTH + 1) {
      diagnostics.push({
        severity: 'error',
        code: 'YAMLSyntax',
        message: `the document nests deeper than ${MAX_DEPTH} levels once its aliases are expanded`,
        file,
        ...posOf((doc.contents as YamlNode).range?.[0] ?? 0),
      });
      return;
    }
    // A document holding only `~` / `null` (or only comments) is empty, like an empty document.
    if (root.kind === 'scalar' && root.value === null) return;
    documents.push(root);
  }
}

/** Nesting depth of a parser token (iterative: the input may be hostile). */
function tokenDepth(root: Token): number {
  let max = 0;
  const stack: [Token, number][] = [[root, 0]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [token, depth] = next;
    if (depth > max) max = depth;
    if (max > MAX_DEPTH) break;
    if (token.type === 'document') {
      if (token.value) stack.push([token.value, depth]);
    } else if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      for (const item of token.items) {
        if (item.key) stack.push([item.key, depth + 1]);
        if (item.value) stack.push([item.value, depth + 1]);
      }
    }
  }
  return max;
}

/** The parser runs out of stack on absurdly nested input; say what that means for the user. */
function friendly(message: string): string {
  return /Maximum call stack size exceeded/.test(message) ? 'the document nests too deeply to be parsed' : message;
}

class Converter {
  readonly errors: Diagnostic[] = [];
  /** Alias dereferences in the fully expanded form of the node last returned by `convert`. */
  lastWeight = 0;
  /** Depth (in nodes) of the fully expanded form of the node last returned by `convert`. */
  lastDepth = 0;
  private readonly depths = new Map<YamlNode, number>();
  private readonly done = new Map<YamlNode, PNode>();
  private readonly weights = new Map<YamlNode, number>();
  private readonly inProgress = new Set<YamlNode>();
  private readonly anchors = new Map<string, YamlNode>();
  private depth = 0;
  /** Set by convertFresh: the deepest expanded child of the node just converted. */
  private childDepth = 0;

  constructor(
    private readonly file: string,
    private readonly posOf: (offset: number) => Position,
  ) {}

  private error(message: string, offset: number): void {
    this.errors.push({ severity: 'error', code: 'YAMLSyntax', message, file: this.file, ...this.posOf(offset) });
  }

  /** Follows an alias to the node it names: the most recent preceding anchor (we convert in document order). */
  private target(alias: Alias): YamlNode | undefined {
    const t = this.anchors.get(alias.source);
    if (t === undefined) this.error(`Unresolved alias (the anchor must be set before the alias): ${alias.source}`, alias.range?.[0] ?? 0);
    return t;
  }

  convert(node: YamlNode): PNode | undefined {
    this.lastWeight = 0;
    this.lastDepth = 0;
    // Already bounded by the token depth check; kept so this recursion is safe on its own.
    if (this.depth > MAX_DEPTH) {
      this.error(`the document nests deeper than ${MAX_DEPTH} levels`, node.range?.[0] ?? 0);
      return undefined;
    }
    if (isAlias(node)) {
      const t = this.target(node);
      if (t === undefined) return undefined;
      if (this.inProgress.has(t)) {
        this.error(`Recursive alias *${node.source} refers to a node that contains it`, node.range?.[0] ?? 0);
        return undefined;
      }
      // The converted subtree is shared, not copied; only its weight says how big the expansion would be.
      this.lastWeight = Math.min(Number.MAX_SAFE_INTEGER, 1 + (this.weights.get(t) ?? 0));
      this.lastDepth = this.depths.get(t) ?? 0;
      return this.done.get(t);
    }
    const anchor = (node as { anchor?: string }).anchor;
    if (anchor) this.anchors.set(anchor, node);
    this.inProgress.add(node);
    this.depth++;
    const [result, weight] = this.convertFresh(node);
    this.depth--;
    this.inProgress.delete(node);
    if (result) this.done.set(node, result);
    this.weights.set(node, weight);
    this.lastWeight = weight;
    this.depths.set(node, this.childDepth + 1);
    this.lastDepth = this.childDepth + 1;
    return result;
  }

  private convertFresh(node: YamlNode): [PNode | undefined, number] {
    const pos = this.posOf(node.range?.[0] ?? 0);
    let weight = 0;
    let depth = 0;
    const sub = (n: YamlNode): PNode | undefined => {
      const c = this.convert(n);
      weight = Math.min(Number.MAX_SAFE_INTEGER, weight + this.lastWeight);
      depth = Math.max(depth, this.lastDepth);
      return c;
    };
    const done = <T>(r: T): T => {
      this.childDepth = depth;
      return r;
    };
    if (isScalar(node)) return done([{ kind: 'scalar', value: scalarValue(node), ...pos }, 0]);
    if (isSeq(node)) {
      const items: PNode[] = [];
      for (const item of node.items) {
        const c = item === null ? nullAt(pos) : sub(item as YamlNode);
        if (c) items.push(c);
      }
      return done([{ kind: 'seq', items, ...pos }, weight]);
    }
    if (!isMap(node)) return done([undefined, 0]);
    const entries: PEntry[] = [];
    const byKey = new Map<string, PEntry>();
    const firstLine = new Map<string, number>();
    const merged: PMap[] = [];
    for (const pair of node.items) {
      const keyNode = pair.key as YamlNode | null;
      const valueNode = pair.value as YamlNode | null;
      const keyPos = keyNode?.range ? this.posOf(keyNode.range[0]) : pos;
      if (isMergeKey(pair)) {
        // `<<: *base` or `<<: [*a, *b]` (YAML 1.1 merge keys, which go-yaml v2 supports).
        const sources = valueNode !== null && isSeq(valueNode) ? (valueNode.items as YamlNode[]) : [valueNode];
        for (const src of sources) {
          const c = src === null ? undefined : sub(src);
          if (c?.kind === 'map') merged.push(c);
          else if (c !== undefined || src === null) {
            this.error('map merge requires map or sequence of maps as the value', src?.range?.[0] ?? keyNode?.range?.[0] ?? 0);
          }
        }
        continue;
      }
      const keyScalar = keyNode !== null && isAlias(keyNode) ? this.target(keyNode) : keyNode;
      if (keyNode !== null && isAlias(keyNode)) weight += 1;
      if (keyScalar === undefined) continue;
      if (keyScalar !== null && !isScalar(keyScalar)) {
        this.error('mapping keys must be scalars (a Kubernetes object is JSON)', keyNode?.range?.[0] ?? 0);
        continue;
      }
      // Map keys become JSON object keys, as sigs.k8s.io/yaml makes them: `true:` -> "true", `80:` -> "80".
      const key = keyText(keyScalar === null ? null : scalarValue(keyScalar));
      const value = valueNode === null ? nullAt(keyPos) : sub(valueNode);
      if (value === undefined) continue;
      const entry: PEntry = { key, ...keyPos, value };
      const prior = byKey.get(key);
      if (prior) {
        // kubectl (go-yaml) words it: `mapping key "app" already defined at line 8`, naming the first.
        this.errors.push({
          severity: 'error',
          code: 'DuplicateKey',
          message: `mapping key ${JSON.stringify(key)} already defined at line ${firstLine.get(key) ?? prior.line}`,
          file: this.file,
          ...keyPos,
        });
        entries[entries.indexOf(prior)] = entry;
      } else {
        entries.push(entry);
        firstLine.set(key, keyPos.line);
      }
      byKey.set(key, entry);
    }
    // Explicit keys win over merged ones; among merged maps, the earlier one wins.
    for (const m of merged) {
      for (const e of m.entries) {
        if (!byKey.has(e.key)) {
          entries.push(e);
          byKey.set(e.key, e);
        }
      }
    }
    return done([{ kind: 'map', entries, byKey, ...pos }, weight]);
  }
}

/**
 * sigs.k8s.io/yaml turns non-string keys into strings: booleans as `true` / `false` (so a plain `y:` or
 * `on:` key becomes "true", a known kubectl surprise), numbers as Go formats them, infinities as `.inf`.
 */
function keyText(v: PValue): string {
  if (v === null) return 'null';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return '.nan';
    if (v === Infinity) return '.inf';
    if (v === -Infinity) return '-.inf';
  }
  return String(v);
}

function nullAt(pos: Position): PScalar {
  return { kind: 'scalar', value: null, line: pos.line, column: pos.column };
}

function isMergeKey(pair: Pair): boolean {
  const k = pair.key as YamlNode | null;
  return k !== null && isScalar(k) && typeof k.value === 'symbol';
}

interface ScalarLike {
  value: unknown;
  type?: string;
  tag?: string;
  source?: string;
}

/** The JSON value kubectl would send for this scalar. */
function scalarValue(s: ScalarLike): PValue {
  if (s.type === 'PLAIN' && s.tag === undefined && typeof s.source === 'string') return resolvePlain(s.source);
  const v = s.value;
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  // Timestamps, binary, ...: sigs.k8s.io/yaml hands them on as their text.
  return typeof s.source === 'string' ? s.source : String(v);
}

const BOOL_TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const BOOL_FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);
const NULLS = new Set(['', '~', 'null', 'Null', 'NULL']);
const SPECIAL_FLOATS: Record<string, number> = {
  '.nan': NaN,
  '.NaN': NaN,
  '.NAN': NaN,
  '.inf': Infinity,
  '.Inf': Infinity,
  '.INF': Infinity,
  '+.inf': Infinity,
  '+.Inf': Infinity,
  '+.INF': Infinity,
  '-.inf': -Infinity,
  '-.Inf': -Infinity,
  '-.INF': -Infinity,
};
const YAML_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const TIMESTAMP_START = /^[0-9]{4}-/;

/**
 * Plain-scalar resolution of go-yaml v2 (the rules kubectl applies), for values decoded into
 * `interface{}`: booleans of YAML 1.1, nulls, ints with Go's base prefixes (and a leading 0 for octal),
 * floats; timestamps stay strings; no base-60 numbers.
 */
export function resolvePlain(text: string): PValue {
  if (BOOL_TRUE.has(text)) return true;
  if (BOOL_FALSE.has(text)) return false;
  if (NULLS.has(text)) return null;
  if (Object.hasOwn(SPECIAL_FLOATS, text)) return SPECIAL_FLOATS[text] as number;
  const c = text[0];
  if (c === '.') {
    return /^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(text) ? Number(text) : text;
  }
  if (c !== '+' && c !== '-' && !(c !== undefined && c >= '0' && c <= '9')) return text;
  if (TIMESTAMP_START.test(text)) return text;
  const plain = text.replaceAll('_', '');
  const int = parseGoInt(plain);
  if (int !== undefined) return int;
  if (YAML_FLOAT.test(plain)) return Number(plain);
  return text;
}

/** strconv.ParseInt(s, 0, 64) / ParseUint: optional sign, then 0x / 0o / 0b / leading-0 octal / decimal. */
function parseGoInt(s: string): number | undefined {
  let sign = 1;
  let body = s;
  if (body.startsWith('+') || body.startsWith('-')) {
    if (body[0] === '-') sign = -1;
    body = body.slice(1);
  }
  let digits: string;
  let base: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(body)) {
    digits = body.slice(2);
    base = 16;
  } else if (/^0[oO][0-7]+$/.test(body)) {
    digits = body.slice(2);
    base = 8;
  } else if (/^0[bB][01]+$/.test(body)) {
    digits = body.slice(2);
    base = 2;
  } else if (/^0[0-7]+$/.test(body)) {
    digits = body.slice(1);
    base = 8;
  } else if (/^[0-9]+$/.test(body)) {
    digits = body;
    base = 10;
  } else {
    return undefined;
  }
  let n = 0n;
  for (const ch of digits.toLowerCase()) n = n * BigInt(base) + BigInt(parseInt(ch, base));
  return sign * Number(n);
}

/**
 * A plain JSON value (an API server's object, or what the fast path parsed) as the loader's tree, without
 * positions (line and column 0), so the reference decoder's rules apply to it unchanged.
 */
export function plainNode(v: unknown): PNode {
  if (Array.isArray(v)) return { kind: 'seq', items: v.map(plainNode), line: 0, column: 0 };
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .map(([key, x]) => ({ key, value: plainNode(x), line: 0, column: 0 }));
    return { kind: 'map', entries, byKey: new Map(entries.map((e) => [e.key, e])), line: 0, column: 0 };
  }
  return { kind: 'scalar', value: typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : null, line: 0, column: 0 };
}
