/**
 * A fast path for loading large manifest sets, used by the CLI and the agent (src/load stays the
 * reference loader: this path returns exactly what it would, or hands over to it).
 *
 * Design choice: the reference loader builds the `yaml` package's full node tree (about 0.3 ms per
 * object), which alone takes seconds at 20,000 objects and minutes at 150,000. Generated manifests and
 * `kubectl get -o yaml` dumps use a small, regular subset of YAML: block mappings and sequences,
 * plain and quoted scalars, `|` literals, comments, `---` between documents. This module reads that
 * subset line by line straight into plain values (scalars resolved by the reference loader's own
 * `resolvePlain`, so `on`, `0777`, `1e3` mean what kubectl makes of them), decodes Namespace, Pod and
 * NetworkPolicy (and Lists of them) the way src/load does, and hands *everything* to the reference
 * loader the moment it meets anything else: another syntax (anchors, flow collections, folded or
 * multi-line scalars, tabs, CRLF, duplicate keys), another kind (workloads, Services, ...), a field
 * it does not know or of the wrong type, or any condition the reference loader would report (invalid
 * pod IP or container port, duplicate object, undeclared namespace). So the fast path either returns
 * exactly what `loadCluster` would, with no diagnostics, or is not taken. Source positions are exact;
 * `locate` re-parses the one document with the reference parser, lazily, when a diagnostic needs a
 * field's position.
 *
 * What keeps it cheap (most of the cost at 20,000 objects is allocation and garbage collection): each
 * document is decoded as soon as it is read, so its plain values die young; the plain values this
 * module built are reused as the decoded objects where the reference decoder would copy them (no
 * nulls to drop); keys and scalars are looked up in a cache by their text before any string is made
 * (`SpanCache`: `apiVersion`, `app`, a namespace's name, a CIDR are read once per load, then handed
 * out as the same string, which also makes them fast property and map keys); lines are scanned with
 * `charCodeAt`, lists are built at their exact size.
 */
import type { ObjectSource, Locator } from '../diag/diagnostic.js';
import { formatIP, parseIPSloppy } from '../ip/index.js';
import { loadCluster, parseDocuments, sharedAddresses, type LoadOptions, type LoadResult, type SourceText } from '../load/index.js';
import { locatorFor } from '../load/locate.js';
import { resolvePlain, type PNode } from '../load/yaml.js';
import { NAMESPACE_NAME_LABEL, PROTOCOLS, type Cluster, type ClusterPolicyInfo, type NamedPort, type NamespaceInfo, type PodInfo, type PolicyInfo, type Protocol } from '../model/cluster.js';
import type { ClusterScopedPolicy, NetworkPolicy } from '../model/k8s.js';
import { validateNamespaceMeta, validateNamespacedMeta } from '../validate/index.js';
import { jsonDocument, jsonStreamAsYaml, jsonValues, lazyJsonSource, looksLikeJson } from './fastjson.js';

/** Thrown inside the fast path to give up; never escapes this module. */
class Unsupported extends Error {}

function give(why: string): never {
  throw new Unsupported(why);
}

export interface FastLoadResult extends LoadResult {
  /** True when the fast path produced the result; false when the reference loader did. */
  readonly fast: boolean;
  /** Why the fast path was not taken (for benchmarks and debugging). */
  readonly fallbackReason?: string;
}

export interface FastLoadOptions extends LoadOptions {
  /** Called after each source (files done, files in all), for progress on a terminal. */
  readonly progress?: (done: number, total: number) => void;
  /**
   * Keeps what each file decoded to, for the next load with the same cache: a file whose text has not
   * changed is not parsed again, and yields the very same objects. For a process that re-reads the same
   * manifests after each edit (the node agent). Use one cache with one `defaultNamespace`.
   */
  readonly cache?: FastLoadCache;
}

/** One decoded object of a file, as the decoder adds it to the cluster. */
type DecodedEntry =
  | { readonly kind: 'Namespace'; readonly namespace: ''; readonly name: string; readonly value: NamespaceInfo }
  | { readonly kind: 'Pod'; readonly namespace: string; readonly name: string; readonly value: PodInfo }
  | { readonly kind: 'NetworkPolicy'; readonly namespace: string; readonly name: string; readonly value: PolicyInfo }
  | { readonly kind: 'ClusterPolicy'; readonly namespace: ''; readonly name: string; readonly value: ClusterPolicyInfo };

/** See {@link FastLoadOptions.cache}. */
export class FastLoadCache {
  /** File name -> its text and what it decoded to. */
  readonly files = new Map<string, { readonly text: string; readonly entries: readonly DecodedEntry[] }>();
}

/** `loadCluster`, faster on the subset of YAML that generated and kubectl-dumped manifests use. */
export function loadClusterFast(sources: readonly SourceText[], opts: FastLoadOptions = {}): FastLoadResult {
  try {
    const cluster = decodeAll(sources, opts.defaultNamespace ?? 'default', opts.progress, opts.cache);
    return { cluster, diagnostics: [], fast: true };
  } catch (e) {
    // A stack overflow (input nested deeper than the recursive subset parser goes) hands over too: the
    // reference loader reports the depth limit at the right place.
    if (!(e instanceof Unsupported) && !(e instanceof RangeError)) throw e;
    const { progress: _progress, cache: _cache, ...rest } = opts;
    // The reference loader reads one JSON document per file: a stream gets document markers.
    const texts = sources.map((src) => (looksLikeJson(src.text) ? { ...src, text: jsonStreamAsYaml(src.text) } : src));
    return { ...loadCluster(texts, rest), fast: false, fallbackReason: e instanceof RangeError ? 'nested too deep' : e.message };
  }
}

// --- the YAML subset ----------------------------------------------------------------------------------

export interface FastDocument {
  readonly value: unknown;
  /** Position of the root mapping (its first key). */
  readonly line: number;
  readonly column: number;
  /** First and last line (1-based, inclusive) of the document's text. */
  readonly startLine: number;
  readonly endLine: number;
}

/** Positions of the mappings that are items of an `items` sequence (List items): line * 2^20 + column. */
type ItemPositions = Map<object, number>;

const PLAIN_KEY = /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/;
/** The plain words YAML 1.1 (as kubectl reads it) resolves to booleans or null. */
const SPECIAL_WORDS = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'n', 'N', 'no', 'No', 'NO', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE', 'on', 'On', 'ON', 'off', 'Off', 'OFF', 'null', 'Null', 'NULL']);

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * The reference loader's reading of a plain scalar (`resolvePlain`), with shortcuts for the common
 * cases it would reach the same way: a word (a letter first, not a boolean or null word) is a string;
 * a decimal integer without a leading zero is that number.
 */
function plainValue(text: string): unknown {
  const c = text.charCodeAt(0);
  if (isLetter(c)) return SPECIAL_WORDS.has(text) ? resolvePlain(text) : text;
  if (c >= 49 && c <= 57 && text.length <= 15) {
    let digits = true;
    for (let k = 1; k < text.length; k++) {
      const d = text.charCodeAt(k);
      if (d < 48 || d > 57) {
        digits = false;
        break;
      }
    }
    if (digits) return Number(text);
  }
  if (c >= 48 && c <= 57 && notNumeric(text)) return text;
  return resolvePlain(text);
}

/**
 * A text starting with a digit that no integer or float form can match (a `/`, or two dots: an
 * address or a CIDR), so `resolvePlain` would return it as it is.
 */
function notNumeric(text: string): boolean {
  if (text.includes('/')) return true;
  const dot = text.indexOf('.');
  return dot >= 0 && text.indexOf('.', dot + 1) >= 0;
}

const MISS: unique symbol = Symbol('miss');
const CACHE_BUCKETS = 1 << 13;
const CACHE_MAX_LENGTH = 64;
const CACHE_PER_BUCKET = 4;

/**
 * Texts read before, found again without building a string. Keys and scalars repeat across thousands
 * of objects (`apiVersion`, `matchLabels`, a namespace's name, a CIDR): each is read (and checked)
 * once, then the same string or value is handed out again, which also makes it a fast property key.
 * The value stored for a text must depend on nothing but that text.
 */
class SpanCache<V> {
  /** Slot k * CACHE_PER_BUCKET + i: hash, length, and where the text was first read (to compare). */
  private readonly hashes = new Int32Array(CACHE_BUCKETS * CACHE_PER_BUCKET);
  private readonly lengths = new Int32Array(CACHE_BUCKETS * CACHE_PER_BUCKET);
  private readonly offsets = new Int32Array(CACHE_BUCKETS * CACHE_PER_BUCKET);
  private readonly sources: string[] = new Array<string>(CACHE_BUCKETS * CACHE_PER_BUCKET).fill('');
  private readonly values: (V | undefined)[] = new Array<V | undefined>(CACHE_BUCKETS * CACHE_PER_BUCKET).fill(undefined);
  private readonly used = new Uint8Array(CACHE_BUCKETS);

  private static hash(t: string, a: number, b: number): number {
    const n = b - a;
    let h = n;
    h = (h * 31 + t.charCodeAt(a)) | 0;
    h = (h * 31 + t.charCodeAt(a + 1)) | 0;
    h = (h * 31 + t.charCodeAt(a + (n >> 1))) | 0;
    h = (h * 31 + t.charCodeAt(b - 2)) | 0;
    h = (h * 31 + t.charCodeAt(b - 1)) | 0;
    return h ^ (h >>> 13);
  }

  /** The value stored for the text t[a, b), or MISS. */
  get(t: string, a: number, b: number): V | typeof MISS {
    const n = b - a;
    if (n < 2 || n > CACHE_MAX_LENGTH) return MISS;
    const h = SpanCache.hash(t, a, b);
    const k = h & (CACHE_BUCKETS - 1);
    const end = k * CACHE_PER_BUCKET + this.used[k]!;
    next: for (let slot = k * CACHE_PER_BUCKET; slot < end; slot++) {
      if (this.hashes[slot] !== h || this.lengths[slot] !== n) continue;
      const src = this.sources[slot]!;
      const o = this.offsets[slot]!;
      for (let j = 0; j < n; j++) if (src.charCodeAt(o + j) !== t.charCodeAt(a + j)) continue next;
      return this.values[slot] as V;
    }
    return MISS;
  }

  /** Remembers `value` for the text t[a, b), unless its bucket is full. */
  set(t: string, a: number, b: number, value: V): void {
    const n = b - a;
    if (n < 2 || n > CACHE_MAX_LENGTH) return;
    const h = SpanCache.hash(t, a, b);
    const k = h & (CACHE_BUCKETS - 1);
    const i = this.used[k]!;
    if (i === CACHE_PER_BUCKET) return;
    const slot = k * CACHE_PER_BUCKET + i;
    this.hashes[slot] = h;
    this.lengths[slot] = n;
    this.offsets[slot] = a;
    this.sources[slot] = t;
    this.values[slot] = value;
    this.used[k] = i + 1;
  }
}

/** What one load shares between its files: keys checked, and scalars resolved. */
export class ScalarCache {
  readonly keys = new SpanCache<string>();
  readonly values = new SpanCache<unknown>();
}

/** The first `: ` in t[from, end), or -1 (as `indexOf`, without its per-call set-up). */
function colonSpace(t: string, from: number, end: number): number {
  for (let k = from; k < end - 1; k++) if (t.charCodeAt(k) === 58 && t.charCodeAt(k + 1) === 32) return k;
  return -1;
}

/** A key the fast path takes as written: a word that YAML reads as that same string. */
function plainKeyOk(key: string): boolean {
  return isLetter(key.charCodeAt(0)) && PLAIN_KEY.test(key) && !SPECIAL_WORDS.has(key);
}

/** Parses the subset; undefined (with the reason) when the text uses anything else. */
export function parseYamlSubset(text: string, cache: ScalarCache = new ScalarCache()): { documents: FastDocument[]; items: ItemPositions } | { unsupported: string } {
  try {
    const p = new SubsetParser(text, cache);
    return { documents: p.documents(), items: p.items };
  } catch (e) {
    if (e instanceof Unsupported) return { unsupported: e.message };
    throw e;
  }
}

class SubsetParser {
  private readonly t: string;
  /** Start of the current line, and its number (1-based). */
  private pos = 0;
  private line = 1;
  private eolPos = -1;
  private eolFor = -1;
  /** A `- key: value` line is read as a mapping line indented to its key: that line and indentation. */
  private vPos = -1;
  private vInd = 0;
  /** Indentation of the line at `indFor`. */
  private indVal = 0;
  private indFor = -1;
  private readonly stack: unknown[] = [];
  readonly items: ItemPositions = new Map();
  private readonly keys: SpanCache<string>;
  private readonly values: SpanCache<unknown>;

  constructor(text: string, cache: ScalarCache) {
    if (text.includes('\r')) give('carriage returns');
    if (text.includes('\t')) give('tabs');
    this.t = text.startsWith('\ufeff') ? text.slice(1) : text;
    this.keys = cache.keys;
    this.values = cache.values;
  }

  documents(): FastDocument[] {
    const out: FastDocument[] = [];
    for (let doc = this.nextDocument(); doc !== undefined; doc = this.nextDocument()) out.push(doc);
    return out;
  }

  /** The next document of the text (empty documents skipped), or undefined at the end. */
  nextDocument(): FastDocument | undefined {
    const t = this.t;
    while (this.pos < t.length) {
      if (this.isSeparator()) {
        this.next();
        continue;
      }
      const startLine = this.line;
      if (!this.skipBlank()) continue; // an empty document: at a separator or the end
      const line = this.line;
      const ind = this.indent();
      if (this.isDash(this.pos + ind)) give('a document that is a list');
      const value = this.parseMap(ind, true);
      if (this.skipBlank()) give(`unexpected indentation at line ${this.line}`);
      return { value, line, column: ind + 1, startLine, endLine: this.line - 1 };
    }
    return undefined;
  }

  private eol(): number {
    if (this.eolFor !== this.pos) {
      const k = this.t.indexOf('\n', this.pos);
      this.eolPos = k < 0 ? this.t.length : k;
      this.eolFor = this.pos;
    }
    return this.eolPos;
  }

  private next(): void {
    this.pos = this.eol() + 1;
    this.line++;
  }

  private isSeparator(): boolean {
    const t = this.t;
    const p = this.pos;
    const c = t.charCodeAt(p);
    if (c !== 45 && c !== 46) return false;
    if (t.startsWith('...', p)) give('document end markers');
    if (!t.startsWith('---', p)) return false;
    const rest = t.slice(p + 3, this.eol()).trim();
    if (rest !== '' && rest[0] !== '#') give('content after ---');
    return true;
  }

  /** Indentation of the current line (a list item's `- ` counting as spaces on a virtual line). */
  private indent(): number {
    if (this.pos === this.vPos) return this.vInd;
    if (this.indFor !== this.pos) {
      let k = this.pos;
      while (this.t.charCodeAt(k) === 32) k++;
      this.indVal = k - this.pos;
      this.indFor = this.pos;
    }
    return this.indVal;
  }

  /** `-` followed by a space or the end of the line, at `c`. */
  private isDash(c: number): boolean {
    if (this.t.charCodeAt(c) !== 45) return false;
    const n = this.t.charCodeAt(c + 1);
    return n === 32 || c + 1 === this.eol();
  }

  /** Moves past blank and comment-only lines; false at the end of the document (a separator or the end). */
  private skipBlank(): boolean {
    const t = this.t;
    for (;;) {
      if (this.pos >= t.length) return false;
      if (this.pos !== this.vPos && this.isSeparator()) return false;
      const k = this.pos + this.indent();
      if (k < this.eol() && t.charCodeAt(k) !== 35 /* # */) return true;
      this.next();
    }
  }

  private parseNode(ind: number, track: boolean): unknown {
    return this.isDash(this.pos + ind) ? this.parseSeq(ind, track) : this.parseMap(ind, false);
  }

  private parseMap(ind: number, root: boolean): Record<string, unknown> {
    const t = this.t;
    const obj: Record<string, unknown> = {};
    for (;;) {
      if (!this.skipBlank()) break;
      const li = this.indent();
      if (li < ind) break;
      if (li > ind) give(`unexpected indentation at line ${this.line}`);
      const c0 = this.pos + ind;
      const e = this.eol();
      if (this.isDash(c0)) give(`a list item where a key was expected at line ${this.line}`);
      let key: string;
      let colon: number;
      const ch = t.charCodeAt(c0);
      if (ch === 34 || ch === 39) {
        const q = this.quoted(t.slice(c0, e));
        key = q.value;
        colon = c0 + q.end;
        if (t.charCodeAt(colon) !== 58) give('a quoted key without a colon');
      } else {
        colon = colonSpace(t, c0, e);
        if (colon < 0 || colon >= e) {
          let k = e;
          while (k > c0 && t.charCodeAt(k - 1) === 32) k--;
          if (t.charCodeAt(k - 1) !== 58) give(`not a key at line ${this.line}`);
          colon = k - 1;
        }
        const known = this.keys.get(t, c0, colon);
        if (known !== MISS) {
          key = known;
        } else {
          key = t.slice(c0, colon);
          if (!plainKeyOk(key)) give(`key ${key}`);
          this.keys.set(t, c0, colon, key);
        }
      }
      if (colon + 1 < e && t.charCodeAt(colon + 1) !== 32) give('no space after a colon');
      let r0 = colon + 1;
      while (r0 < e && t.charCodeAt(r0) === 32) r0++;
      let r1 = e;
      while (r1 > r0 && t.charCodeAt(r1 - 1) === 32) r1--;
      if (Object.hasOwn(obj, key)) give(`duplicate key ${key}`);
      if (key === '__proto__') give('a __proto__ key');
      this.next();
      let value: unknown;
      if (r0 === r1 || t.charCodeAt(r0) === 35 /* # */) value = this.parseNested(ind, root && key === 'items');
      else if (t.charCodeAt(r0) === 124 /* | */) value = this.parseLiteral(t.slice(r0, r1), ind);
      else value = this.scalarAt(r0, r1);
      obj[key] = value;
    }
    return obj;
  }

  /** The value of `key:` with nothing after the colon: a deeper block, a list at the same indentation, or null. */
  private parseNested(ind: number, track: boolean): unknown {
    if (!this.skipBlank()) return null;
    const li = this.indent();
    if (li > ind) return this.parseNode(li, track);
    if (li === ind && this.isDash(this.pos + li)) return this.parseSeq(ind, track);
    return null;
  }

  private parseSeq(ind: number, track: boolean): unknown[] {
    const t = this.t;
    // Items gather on a stack shared by nested lists, then leave it as an array of their exact size.
    const arr = this.stack;
    const start = arr.length;
    for (;;) {
      if (!this.skipBlank()) break;
      const li = this.indent();
      if (li < ind) break;
      if (li > ind) give(`unexpected indentation at line ${this.line}`);
      const c0 = this.pos + ind;
      if (!this.isDash(c0)) break;
      const e = this.eol();
      let c = c0 + 1;
      while (c < e && t.charCodeAt(c) === 32) c++;
      if (c >= e || t.charCodeAt(c) === 35) {
        // `-` alone: the item is on the lines below.
        this.next();
        if (this.skipBlank() && this.indent() > ind) {
          const deeper = this.indent();
          const line = this.line;
          const v = this.parseNode(deeper, false);
          if (track && isRec(v)) this.items.set(v, line * 2 ** 20 + deeper + 1);
          arr.push(v);
        } else {
          arr.push(null);
        }
        continue;
      }
      if (this.isDash(c)) give('nested inline lists');
      if (this.looksLikeKey(c, e)) {
        // `- key: value`: a mapping whose indentation is that of its first key.
        const col = c - this.pos;
        this.vPos = this.pos;
        this.vInd = col;
        const line = this.line;
        const v = this.parseMap(col, track);
        if (track) this.items.set(v, line * 2 ** 20 + col + 1);
        arr.push(v);
      } else {
        this.next();
        arr.push(t.charCodeAt(c) === 124 ? this.parseLiteral(t.slice(c, e), ind) : this.scalarAt(c, e));
      }
    }
    const items = arr.slice(start);
    arr.length = start;
    return items;
  }

  private looksLikeKey(c: number, e: number): boolean {
    const t = this.t;
    const ch = t.charCodeAt(c);
    if (ch === 34 || ch === 39) return t.charCodeAt(c + this.quoted(t.slice(c, e)).end) === 58;
    const colon = colonSpace(t, c, e);
    if (colon > c && colon < e) return true;
    let k = e;
    while (k > c && t.charCodeAt(k - 1) === 32) k--;
    return t.charCodeAt(k - 1) === 58 && !t.slice(c, k).includes(' ');
  }

  /** The scalar written at t[a, b) (not a block scalar), through the cache. */
  private scalarAt(a: number, b: number): unknown {
    const t = this.t;
    const known = this.values.get(t, a, b);
    if (known !== MISS) return known;
    const text = t.slice(a, b);
    const value = this.inlineScalar(text);
    // `{}` and `[]` are new objects each time.
    if (value === null || typeof value !== 'object') this.values.set(t, a, b, value);
    return value;
  }

  private inlineScalar(rest: string): unknown {
    const c = rest[0];
    if (c === '"' || c === "'") {
      const q = this.quoted(rest);
      const after = rest.slice(q.end);
      // Only a comment may follow, and a comment needs a space before its `#`.
      if (after !== '' && (after[0] !== ' ' || (after.trim() !== '' && after.trim()[0] !== '#'))) give('text after a quoted scalar');
      return q.value;
    }
    if (c === '{' || c === '[') {
      const t = stripComment(rest);
      if (t === '{}') return {};
      if (t === '[]') return [];
      give('flow collections');
    }
    if ('&*!|>%@`?,]}'.includes(c as string)) give(`a value starting with ${c}`);
    if (c === '-' && (rest[1] === ' ' || rest.length === 1)) give('a list item as a value');
    const text = stripComment(rest);
    if (text.includes(': ') || text.endsWith(':') || text.includes(' #')) give('a colon or comment in a plain scalar');
    // A continuation line (a multi-line plain scalar) is caught by the caller as unexpected indentation.
    return plainValue(text);
  }

  /** A quoted scalar at the start of `s` (single line); `end` is the index after the closing quote. */
  private quoted(s: string): { value: string; end: number } {
    const q = s[0];
    if (q === "'") {
      let k = 1;
      let out = '';
      for (;;) {
        const j = s.indexOf("'", k);
        if (j < 0) give('a multi-line quoted scalar');
        out += s.slice(k, j);
        if (s[j + 1] === "'") {
          out += "'";
          k = j + 2;
          continue;
        }
        return { value: out, end: j + 1 };
      }
    }
    let k = 1;
    for (;;) {
      const j = s.indexOf('"', k);
      if (j < 0) give('a multi-line quoted scalar');
      let backslashes = 0;
      for (let b = j - 1; b > 0 && s[b] === '\\'; b--) backslashes++;
      if (backslashes % 2 === 1) {
        k = j + 1;
        continue;
      }
      const inner = s.slice(1, j);
      if (/\\[^"\\bfnrt]/.test(inner)) give("an escape other than JSON's common ones");
      let value: string;
      try {
        value = JSON.parse(`"${inner}"`) as string;
      } catch {
        give('a double-quoted scalar JSON does not read');
      }
      return { value, end: j + 1 };
    }
  }

  /** A `|` literal block scalar (clip, strip `-` or keep `+`); the header is on the key's line. */
  private parseLiteral(header: string, ind: number): string {
    const h = stripComment(header);
    if (h !== '|' && h !== '|-' && h !== '|+') give(`block scalar header ${h}`);
    const t = this.t;
    const body: string[] = [];
    let blockInd = -1;
    let after = { pos: this.pos, line: this.line };
    let trailing = 0;
    while (this.pos < t.length && !this.isSeparator()) {
      const e = this.eol();
      let k = this.pos;
      while (t.charCodeAt(k) === 32) k++;
      if (k >= e) {
        trailing++;
        this.next();
        continue;
      }
      const li = k - this.pos;
      if (blockInd < 0) {
        if (li <= ind) break;
        blockInd = li;
      }
      if (li < blockInd) break;
      for (; trailing > 0; trailing--) body.push('');
      body.push(t.slice(this.pos + blockInd, e));
      this.next();
      after = { pos: this.pos, line: this.line };
    }
    if (blockInd < 0) give('an empty block scalar');
    // Trailing blank lines belong to the chomping, not to the content; whatever follows is read again.
    this.pos = after.pos;
    this.line = after.line;
    const content = body.join('\n');
    if (h === '|-') return content;
    if (h === '|') return `${content}\n`;
    return `${content}\n${'\n'.repeat(trailing)}`;
  }
}

function stripComment(s: string): string {
  const k = s.indexOf(' #');
  return (k < 0 ? s : s.slice(0, k)).trim();
}

// --- decoding, as src/load does it ---------------------------------------------------------------------

type Rec = Record<string, unknown>;

function isRec(v: unknown): v is Rec {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A string field (null = absent); anything else gives up. */
function str(o: Rec, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') give(`${key} is not a string`);
  return v;
}

function int32(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -(2 ** 31) || v > 2 ** 31 - 1) give(`${what} is not an int32`);
  return v;
}

function strMap(v: unknown, what: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRec(v)) give(`${what} is not a map`);
  // `for in` also visits inherited keys: that could only make the fast path give up, never err.
  for (const k in v) {
    if (v[k] === null) give(`${what}.${k} is null`); // decodes to "" in Go; left to the reference loader
    if (typeof v[k] !== 'string') give(`${what}.${k} is not a string`);
  }
  return v as Record<string, string>;
}

function list(v: unknown, what: string): unknown[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) give(`${what} is not a list`);
  for (const x of v) if (x === null) give(`a null item in ${what}`);
  return v;
}

function onlyKeys(o: Rec, allowed: ReadonlySet<string>, what: string): void {
  // `for in` also visits inherited keys: that could only make the fast path give up, never err.
  for (const k in o) if (!allowed.has(k)) give(`unknown field ${what}.${k}`);
}

const OWNER_KEYS = new Set(['apiVersion', 'kind', 'name', 'uid', 'controller', 'blockOwnerDeletion']);

interface Meta {
  readonly name?: string;
  readonly generateName?: string;
  readonly namespace?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

/** metav1.ObjectMeta: the fields read, and type checks of the others declared (managedFields gives up). */
function meta(v: unknown, strict: boolean): Meta {
  if (v === undefined || v === null) return {};
  if (!isRec(v)) give('metadata is not a map');
  // The fields present, each checked by its kind (absent ones need no check; an inherited key could
  // only make the fast path give up).
  let labels: Record<string, string> | undefined;
  let annotations: Record<string, string> | undefined;
  for (const k in v) {
    switch (k) {
      case 'name':
      case 'generateName':
      case 'namespace':
      case 'selfLink':
      case 'uid':
      case 'resourceVersion':
      case 'creationTimestamp':
      case 'deletionTimestamp':
        str(v, k);
        break;
      case 'generation':
      case 'deletionGracePeriodSeconds':
        int32(v[k], k); // int64 in the API: larger values are left to the reference loader
        break;
      case 'labels':
        labels = strMap(v.labels, 'labels');
        break;
      case 'annotations':
        annotations = strMap(v.annotations, 'annotations');
        break;
      case 'finalizers':
        for (const f of list(v.finalizers, 'finalizers') ?? []) if (typeof f !== 'string') give('finalizers');
        break;
      case 'ownerReferences':
        for (const o of list(v.ownerReferences, 'ownerReferences') ?? []) {
          if (!isRec(o)) give('ownerReferences');
          if (strict) onlyKeys(o, OWNER_KEYS, 'ownerReferences');
          for (const r of ['apiVersion', 'kind', 'name', 'uid']) str(o, r);
          for (const r of ['controller', 'blockOwnerDeletion']) if (o[r] !== undefined && o[r] !== null && typeof o[r] !== 'boolean') give(r);
        }
        break;
      case 'managedFields':
        give('managedFields');
        break;
      default:
        if (strict) give(`unknown field metadata.${k}`);
    }
  }
  const out: { -readonly [K in keyof Meta]: Meta[K] } = {};
  const name = str(v, 'name');
  const generateName = str(v, 'generateName');
  const namespace = str(v, 'namespace');
  if (name !== undefined) out.name = name;
  if (generateName !== undefined) out.generateName = generateName;
  if (namespace !== undefined) out.namespace = namespace;
  if (labels !== undefined) out.labels = labels;
  if (annotations !== undefined) out.annotations = annotations;
  return out;
}

function podIPs(status: unknown): string[] {
  if (status === undefined || status === null) return [];
  if (!isRec(status)) give('status is not a map');
  const candidates: string[] = [];
  const podIP = str(status, 'podIP');
  if (podIP) candidates.push(podIP);
  for (const p of list(status.podIPs, 'podIPs') ?? []) {
    if (!isRec(p)) give('podIPs');
    const ip = str(p, 'ip');
    if (ip) candidates.push(ip);
  }
  const out: string[] = [];
  for (let k = 0; k < candidates.length; k++) {
    const text = candidates[k]!;
    if (candidates.indexOf(text) < k) continue; // the same text again (`podIP` is `podIPs[0]`)
    let canonical = text;
    if (!canonicalV4(text)) {
      const ip = parseIPSloppy(text);
      if (!ip) give('an invalid pod IP');
      canonical = formatIP(ip);
    }
    if (!out.includes(canonical)) out.push(canonical);
  }
  return out;
}

/**
 * An IPv4 address written as `formatIP` writes one (four decimal octets, no leading zeros): parsing
 * and formatting would give the text back.
 */
export function canonicalV4(text: string): boolean {
  const n = text.length;
  let parts = 0;
  let k = 0;
  for (;;) {
    const start = k;
    let v = 0;
    while (k < n) {
      const c = text.charCodeAt(k);
      if (c < 48 || c > 57) break;
      v = v * 10 + c - 48;
      k++;
    }
    const len = k - start;
    if (len === 0 || len > 3 || v > 255 || (len > 1 && text.charCodeAt(start) === 48)) return false;
    parts++;
    if (k === n) return parts === 4;
    if (parts === 4 || text.charCodeAt(k) !== 46) return false;
    k++;
  }
}

function podSpec(spec: unknown): { ports: NamedPort[]; nodeName?: string; hostNetwork?: boolean } {
  if (spec === undefined || spec === null) return { ports: [] };
  if (!isRec(spec)) give('spec is not a map');
  const ports: NamedPort[] = [];
  for (const field of ['containers', 'initContainers']) {
    for (const c of list(spec[field], field) ?? []) {
      if (!isRec(c)) give('a container is not a map');
      str(c, 'name');
      for (const p of list(c.ports, 'ports') ?? []) {
        if (!isRec(p)) give('a container port is not a map');
        onlyKeys(p, CONTAINER_PORT_KEYS, 'ports');
        int32(p.hostPort, 'hostPort');
        str(p, 'hostIP');
        const name = str(p, 'name');
        const port = int32(p.containerPort, 'containerPort');
        const protocol = str(p, 'protocol') ?? 'TCP';
        if (port === undefined || port < 1 || port > 65535) give('an invalid container port');
        if (!(PROTOCOLS as readonly string[]).includes(protocol)) give('an invalid container port protocol');
        ports.push(name ? { name, port, protocol: protocol as Protocol } : { port, protocol: protocol as Protocol });
      }
    }
  }
  const nodeName = str(spec, 'nodeName');
  const hostNetwork = spec.hostNetwork;
  if (hostNetwork !== undefined && hostNetwork !== null && typeof hostNetwork !== 'boolean') give('hostNetwork');
  return {
    ports,
    ...(nodeName ? { nodeName } : {}),
    ...(typeof hostNetwork === 'boolean' ? { hostNetwork } : {}),
  };
}

/** Pod and Namespace: the top-level fields their shapes declare. */
const OBJECT_KEYS = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
const CONTAINER_PORT_KEYS = new Set(['name', 'hostPort', 'containerPort', 'protocol', 'hostIP']);

/** v1.NamespaceSpec (only finalizers) and v1.NamespaceStatus's phase, as `kubectl get -o yaml` dumps them. */
function namespaceSpecAndStatus(o: Rec): void {
  if (o.spec !== undefined && o.spec !== null) {
    if (!isRec(o.spec)) give('spec is not a map');
    onlyKeys(o.spec, new Set(['finalizers']), 'spec');
    strList(o.spec.finalizers, 'finalizers');
  }
  if (o.status !== undefined && o.status !== null) {
    if (!isRec(o.status)) give('status is not a map');
    str(o.status, 'phase');
  }
}

// NetworkPolicy is decoded strictly: every field must be one the API declares, with its type.
const NP_KEYS = new Set(['apiVersion', 'kind', 'metadata', 'spec']);
const SPEC_KEYS = new Set(['podSelector', 'ingress', 'egress', 'policyTypes']);
const SELECTOR_KEYS = new Set(['matchLabels', 'matchExpressions']);
const REQ_KEYS = new Set(['key', 'operator', 'values']);
const PEER_KEYS = new Set(['podSelector', 'namespaceSelector', 'ipBlock']);
const IPBLOCK_KEYS = new Set(['cidr', 'except']);
const PORT_KEYS = new Set(['protocol', 'port', 'endPort']);
const INGRESS_KEYS = new Set(['ports', 'from']);
const EGRESS_KEYS = new Set(['ports', 'to']);

function strList(v: unknown, what: string): string[] | undefined {
  const l = list(v, what);
  if (l) for (const x of l) if (typeof x !== 'string') give(`${what} is not a list of strings`);
  return l as string[] | undefined;
}

/**
 * The fields that are present (null = absent), in source order, as the reference decoder gives them:
 * `o` itself, its values replaced in place by `f`'s, when none is null (the plain values are this
 * module's own, met once). Unknown keys must have been refused before.
 */
function present(o: Rec, f: (k: string, v: unknown) => unknown): Rec {
  const keys = Object.keys(o);
  let nulls = false;
  for (const k of keys) {
    if (o[k] === null || o[k] === undefined) {
      nulls = true;
      break;
    }
  }
  if (!nulls) {
    for (const k of keys) o[k] = f(k, o[k]);
    return o;
  }
  const out: Rec = {};
  for (const k of keys) {
    const v = o[k];
    if (v === undefined || v === null) continue;
    out[k] = f(k, v);
  }
  return out;
}

/** `list.map(f)`, in place (the list is this module's own). */
function mapped<T>(list: unknown[], f: (x: unknown) => T): T[] {
  for (let i = 0; i < list.length; i++) list[i] = f(list[i]);
  return list as T[];
}

function selector(v: unknown): Rec {
  if (!isRec(v)) give('a selector is not a map');
  onlyKeys(v, SELECTOR_KEYS, 'selector');
  return present(v, (k, x) => {
    if (k === 'matchLabels') return strMap(x, 'matchLabels');
    return mapped(list(x, 'matchExpressions') ?? [], (r) => {
      if (!isRec(r)) give('a requirement is not a map');
      onlyKeys(r, REQ_KEYS, 'requirement');
      return present(r, (rk, rv) => (rk === 'values' ? strList(rv, 'values') : str(r, rk)));
    });
  });
}

function peer(v: unknown): Rec {
  if (!isRec(v)) give('a peer is not a map');
  onlyKeys(v, PEER_KEYS, 'peer');
  return present(v, (k, x) => {
    if (k !== 'ipBlock') return selector(x);
    if (!isRec(x)) give('ipBlock is not a map');
    onlyKeys(x, IPBLOCK_KEYS, 'ipBlock');
    return present(x, (bk, bv) => (bk === 'cidr' ? str(x, 'cidr') : strList(bv, 'except')));
  });
}

function npPort(v: unknown): Rec {
  if (!isRec(v)) give('a port is not a map');
  onlyKeys(v, PORT_KEYS, 'port');
  return present(v, (k, x) => {
    if (k === 'protocol') return str(v, k);
    if (k === 'endPort') return int32(x, k);
    if (typeof x === 'string') return x;
    return int32(x, 'port');
  });
}

function rules(v: unknown, keys: ReadonlySet<string>, peersKey: 'from' | 'to'): Rec[] {
  return mapped(list(v, 'rules') ?? [], (r) => {
    if (!isRec(r)) give('a rule is not a map');
    onlyKeys(r, keys, 'rule');
    return present(r, (k, x) => (k === 'ports' ? mapped(list(x, 'ports') ?? [], npPort) : mapped(list(x, peersKey) ?? [], peer)));
  });
}

function npSpec(v: unknown): Rec {
  if (v === undefined || v === null) return {};
  if (!isRec(v)) give('spec is not a map');
  onlyKeys(v, SPEC_KEYS, 'spec');
  return present(v, (k, x) => {
    if (k === 'podSelector') return selector(x);
    if (k === 'ingress') return rules(x, INGRESS_KEYS, 'from');
    if (k === 'egress') return rules(x, EGRESS_KEYS, 'to');
    return strList(x, 'policyTypes');
  });
}

const API_VERSIONS: Readonly<Record<string, string>> = {
  Namespace: 'v1',
  Pod: 'v1',
  NetworkPolicy: 'networking.k8s.io/v1',
  ClusterNetworkPolicy: 'policy.networking.k8s.io/v1alpha2',
  AdminNetworkPolicy: 'policy.networking.k8s.io/v1alpha1',
  BaselineAdminNetworkPolicy: 'policy.networking.k8s.io/v1alpha1',
};

/**
 * The cluster-scoped policy kinds: custom resources, whose envelope is decoded strictly and whose spec is
 * kept as the plain value it is (src/validate/crd checks it), as src/load does.
 */
const CLUSTER_POLICY_KEYS = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
const isClusterPolicyKind = (kind: string): kind is ClusterScopedPolicy['kind'] =>
  kind === 'ClusterNetworkPolicy' || kind === 'AdminNetworkPolicy' || kind === 'BaselineAdminNetworkPolicy';
const MAX_LIST_DEPTH = 8;

interface Located {
  readonly kind: string;
  readonly apiVersion: string;
  readonly value: Rec;
  readonly line: number;
  readonly column: number;
  /** Indices from the document root through nested `items` lists. */
  readonly path: readonly number[];
}

function decodeAll(sources: readonly SourceText[], defaultNamespace: string, progress?: (done: number, total: number) => void, cache?: FastLoadCache): Cluster {
  const decoder = new Decoder(defaultNamespace);
  const decoded = new Map<string, { readonly text: string; readonly entries: readonly DecodedEntry[] }>();
  for (const [k, src] of sources.entries()) {
    if (k > 0) progress?.(k, sources.length);
    const known = cache?.files.get(src.file);
    // A file decodes the same whatever the others hold: replay what it gave last time.
    let entries: readonly DecodedEntry[];
    if (known !== undefined && known.text === src.text) decoder.replay((entries = known.entries));
    else entries = decoder.file(src);
    decoded.set(src.file, { text: src.text, entries });
  }
  progress?.(sources.length, sources.length);
  const cluster = decoder.cluster();
  if (cache) {
    cache.files.clear();
    for (const [file, entry] of decoded) cache.files.set(file, entry);
  }
  return cluster;
}

/**
 * What the sources decode to, file by file. (Methods rather than one function: the optimiser compiles
 * the function of a hot loop whole, so small ones are compiled faster, and once.)
 */
class Decoder {
  private readonly declared = new Map<string, NamespaceInfo>();
  private readonly pods: PodInfo[] = [];
  private readonly policies: PolicyInfo[] = [];
  private readonly clusterPolicies: ClusterPolicyInfo[] = [];
  /** Names seen, by kind and namespace. */
  private readonly seen = new Map<string, Map<string, Set<string>>>();
  private readonly used = new Set<string>();
  private readonly cache = new ScalarCache();
  /** What the file being decoded has added so far. */
  private added: DecodedEntry[] = [];

  constructor(private readonly defaultNamespace: string) {}

  /** Decodes a file into the cluster; returns what it added. */
  file(src: SourceText): DecodedEntry[] {
    const added: DecodedEntry[] = [];
    this.added = added;
    if (looksLikeJson(src.text)) {
      this.jsonFile(src);
      return added;
    }
    const linesOf = lazyLines(src.text);
    let parser: SubsetParser;
    try {
      parser = new SubsetParser(src.text, this.cache);
    } catch (e) {
      if (e instanceof Unsupported) give(`${src.file}: ${e.message}`);
      throw e;
    }
    // Each document is decoded as soon as it is read, so its plain values die young.
    for (let doc = nextDocument(parser, src.file); doc !== undefined; doc = nextDocument(parser, src.file)) {
      const objects: Located[] = [];
      collect(doc.value, NO_DEFAULTS, 0, doc.line, doc.column, ROOT, objects, parser.items);
      for (const o of objects) this.object(o, objectSource(src.file, linesOf, doc, o));
    }
    return added;
  }

  /** A JSON file: each top-level value parsed by `JSON.parse`, positions found only when asked. */
  private jsonFile(src: SourceText): void {
    const spans = jsonValues(src.text) ?? give(`${src.file}: not a stream of JSON objects`);
    for (const span of spans) {
      let value: unknown;
      try {
        value = JSON.parse(src.text.slice(span.start, span.end));
      } catch {
        give(`${src.file}: invalid JSON`);
      }
      const objects: Located[] = [];
      collect(value, NO_DEFAULTS, 0, span.line, span.column, ROOT, objects, undefined);
      const root = jsonDocument(src.file, src.text, span);
      for (const o of objects) this.object(o, lazyJsonSource(src.file, span, root, o.path));
    }
  }

  /** Adds what a file decoded to before, with the same checks as when it was decoded. */
  replay(entries: readonly DecodedEntry[]): void {
    for (const e of entries) {
      if (e.kind === 'ClusterPolicy') {
        this.unique(e.value.kind, '', e.name);
        this.clusterPolicies.push(e.value);
        continue;
      }
      this.unique(e.kind, e.namespace, e.name);
      if (e.kind === 'Namespace') this.declared.set(e.name, e.value);
      else {
        this.used.add(e.namespace);
        if (e.kind === 'Pod') this.pods.push(e.value);
        else this.policies.push(e.value);
      }
    }
  }

  private object(o: Located, source: ObjectSource): void {
    if (isClusterPolicyKind(o.kind)) {
      this.clusterPolicy(o.kind, o, source);
      return;
    }
    // Every kind is decoded strictly, as src/load/kinds.ts declares them.
    onlyKeys(o.value, o.kind === 'NetworkPolicy' ? NP_KEYS : OBJECT_KEYS, o.kind);
    str(o.value, 'apiVersion');
    str(o.value, 'kind');
    const m = meta(o.value.metadata, true);
    const name = m.name || m.generateName;
    if (!name) give('an object without a name');
    const namespaced = o.kind !== 'Namespace';
    // Metadata the API server would refuse is the reference loader's to report.
    if (o.kind === 'Namespace') {
      namespaceSpecAndStatus(o.value);
      if (validateNamespaceMeta(m).length > 0) give('invalid metadata');
    } else if (o.kind === 'Pod' && validateNamespacedMeta(m).length > 0) give('invalid metadata');
    const namespace = namespaced ? m.namespace || this.defaultNamespace : '';
    this.unique(o.kind, namespace, name);
    if (namespaced) this.used.add(namespace);
    if (o.kind === 'Namespace') {
      const info: NamespaceInfo = { name, labels: { ...m.labels, [NAMESPACE_NAME_LABEL]: name }, implicit: false, source };
      this.declared.set(name, info);
      this.added.push({ kind: 'Namespace', namespace: '', name, value: info });
    } else if (o.kind === 'Pod') {
      const spec = podSpec(o.value.spec);
      // The labels map is this module's own, met once: no copy needed.
      const pod: { -readonly [K in keyof PodInfo]: PodInfo[K] } = { namespace, name, labels: m.labels ?? {}, ips: podIPs(o.value.status), ports: spec.ports, source };
      if (spec.nodeName !== undefined) pod.nodeName = spec.nodeName;
      if (spec.hostNetwork !== undefined) pod.hostNetwork = spec.hostNetwork;
      this.pods.push(pod);
      this.added.push({ kind: 'Pod', namespace, name, value: pod });
    } else {
      // As `{ ...spec, podSelector: spec.podSelector ?? {} }` and `{ ...m, namespace }`, in place.
      const spec = npSpec(o.value.spec);
      spec.podSelector ??= {};
      const metadata: { -readonly [K in keyof Meta]: Meta[K] } = m;
      metadata.namespace = namespace;
      const policy = { apiVersion: o.apiVersion, kind: 'NetworkPolicy', metadata, spec } as unknown as NetworkPolicy;
      const info: PolicyInfo = { namespace, name, policy, source };
      this.policies.push(info);
      this.added.push({ kind: 'NetworkPolicy', namespace, name, value: info });
    }
  }

  /** As src/load: `{ apiVersion, kind, metadata, spec: spec ?? {} }`, cluster-scoped (no namespace defaulted). */
  private clusterPolicy(kind: ClusterScopedPolicy['kind'], o: Located, source: ObjectSource): void {
    onlyKeys(o.value, CLUSTER_POLICY_KEYS, kind);
    str(o.value, 'apiVersion');
    str(o.value, 'kind');
    const metadata = meta(o.value.metadata, true);
    const name = metadata.name || metadata.generateName;
    if (!name) give('an object without a name');
    this.unique(kind, '', name);
    const spec = o.value.spec ?? {};
    const policy = { apiVersion: o.apiVersion, kind, metadata, spec } as unknown as ClusterScopedPolicy;
    const info: ClusterPolicyInfo = { kind, name, policy, source };
    this.clusterPolicies.push(info);
    this.added.push({ kind: 'ClusterPolicy', namespace: '', name, value: info });
  }

  /** Gives up on a second object of the same kind, namespace and name. */
  private unique(kind: string, namespace: string, name: string): void {
    let byNs = this.seen.get(kind);
    if (!byNs) this.seen.set(kind, (byNs = new Map()));
    let names = byNs.get(namespace);
    if (!names) byNs.set(namespace, (names = new Set()));
    const known = names.size;
    names.add(name);
    if (names.size === known) give('a duplicate object');
  }

  cluster(): Cluster {
    for (const ns of this.used) if (!this.declared.has(ns)) give(`namespace ${ns} is used but not declared`);
    if (sharedAddresses(this.pods).length > 0) give('pods that share an address');
    const namespaces = new Map([...this.declared.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return { namespaces, pods: this.pods, policies: this.policies, ...(this.clusterPolicies.length > 0 ? { clusterPolicies: this.clusterPolicies } : {}) };
  }
}

function nextDocument(parser: SubsetParser, file: string): FastDocument | undefined {
  try {
    return parser.nextDocument();
  } catch (e) {
    if (e instanceof Unsupported) give(`${file}: ${e.message}`);
    throw e;
  }
}

/** The path of a document's root object, and the defaults it inherits (none); shared by all. */
const ROOT: readonly number[] = Object.freeze([]);
const NO_DEFAULTS: { readonly kind?: string; readonly apiVersion?: string } = Object.freeze({});

/** Objects of a document, Lists expanded, as src/load/objects.ts finds them. */
function collect(
  value: unknown,
  inherited: { readonly kind?: string; readonly apiVersion?: string },
  depth: number,
  line: number,
  column: number,
  path: readonly number[],
  out: Located[],
  /** Positions of list items (YAML); undefined for JSON, whose positions are found when asked. */
  items: ItemPositions | undefined,
): void {
  if (!isRec(value)) give('an object that is not a map');
  const kindV = value.kind;
  const apiV = value.apiVersion;
  const kind = typeof kindV === 'string' && kindV !== '' ? kindV : inherited.kind;
  const apiVersion = typeof apiV === 'string' && apiV !== '' ? apiV : inherited.apiVersion;
  if (kind !== undefined && (kind === 'List' || (kind.endsWith('List') && Object.hasOwn(value, 'items')))) {
    if (depth >= MAX_LIST_DEPTH) give('lists nested too deep');
    const list = value.items;
    if (list === undefined || list === null) return;
    if (!Array.isArray(list)) give('items is not a list');
    const defaults = kind === 'List' ? {} : { kind: kind.slice(0, -'List'.length), ...(apiVersion !== undefined ? { apiVersion } : {}) };
    list.forEach((item, k) => {
      const pos = !isRec(item) ? undefined : items === undefined ? line * 2 ** 20 + column : items.get(item);
      if (pos === undefined) give('a list item that is not a map');
      collect(item, defaults, depth + 1, Math.floor(pos / 2 ** 20), pos % 2 ** 20, [...path, k], out, items);
    });
    return;
  }
  if (kind === undefined || apiVersion === undefined) give('an object without kind or apiVersion');
  if (API_VERSIONS[kind] === undefined) give(`kind ${kind}`);
  if (API_VERSIONS[kind] !== apiVersion) give(`${kind} in ${apiVersion}`);
  out.push({ kind, apiVersion, value, line, column, path });
}

/**
 * The lines of a text, split when first asked. (A function of its own: the locators keep this closure,
 * and through it nothing of the loader's state.)
 */
function lazyLines(text: string): () => readonly string[] {
  let lines: string[] | undefined;
  return () => (lines ??= text.split('\n'));
}

/** The object's position, and a locator that parses its document with the reference parser when first asked. */
function objectSource(file: string, linesOf: () => readonly string[], doc: FastDocument, o: Located): ObjectSource {
  // Only numbers are kept (not the document's values, which would then live as long as the cluster).
  const { startLine, endLine } = doc;
  const { line, column, path } = o;
  let locator: Locator | undefined;
  const locate: Locator = (fieldPath) => {
    if (!locator) {
      // The document alone, its positions moved down to where it starts in the file (blank lines in
      // front would make every first lookup cost the size of the file before it).
      const text = linesOf().slice(startLine - 1, endLine).join('\n');
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
  };
  return { file, line, column, locate };
}
