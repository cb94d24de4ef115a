/**
 * A fast path for loading large manifest sets (a prototype; src/load stays the reference loader).
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
 */
import type { ObjectSource, Locator } from '../diag/diagnostic.js';
import { formatIP, parseIPSloppy } from '../ip/index.js';
import { loadCluster, parseDocuments, type LoadOptions, type LoadResult, type SourceText } from '../load/index.js';
import { locatorFor } from '../load/locate.js';
import { resolvePlain, type PNode } from '../load/yaml.js';
import { NAMESPACE_NAME_LABEL, PROTOCOLS, type Cluster, type NamedPort, type NamespaceInfo, type PodInfo, type PolicyInfo, type Protocol } from '../model/cluster.js';
import type { NetworkPolicy } from '../model/k8s.js';

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
}

/** `loadCluster`, faster on the subset of YAML that generated and kubectl-dumped manifests use. */
export function loadClusterFast(sources: readonly SourceText[], opts: FastLoadOptions = {}): FastLoadResult {
  try {
    const cluster = decodeAll(sources, opts.defaultNamespace ?? 'default', opts.progress);
    return { cluster, diagnostics: [], fast: true };
  } catch (e) {
    if (!(e instanceof Unsupported)) throw e;
    const { progress: _progress, ...rest } = opts;
    return { ...loadCluster(sources, rest), fast: false, fallbackReason: e.message };
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
  return resolvePlain(text);
}

/** A key the fast path takes as written: a word that YAML reads as that same string. */
function plainKeyOk(key: string): boolean {
  return isLetter(key.charCodeAt(0)) && PLAIN_KEY.test(key) && !SPECIAL_WORDS.has(key);
}

/** Parses the subset; undefined (with the reason) when the text uses anything else. */
export function parseYamlSubset(text: string): { documents: FastDocument[]; items: ItemPositions } | { unsupported: string } {
  try {
    const p = new SubsetParser(text);
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
  readonly items: ItemPositions = new Map();

  constructor(text: string) {
    if (text.includes('\r')) give('carriage returns');
    if (text.includes('\t')) give('tabs');
    this.t = text.startsWith('\ufeff') ? text.slice(1) : text;
  }

  documents(): FastDocument[] {
    const out: FastDocument[] = [];
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
      out.push({ value, line, column: ind + 1, startLine, endLine: this.line - 1 });
    }
    return out;
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
    let k = this.pos;
    while (this.t.charCodeAt(k) === 32) k++;
    return k - this.pos;
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
        colon = t.indexOf(': ', c0);
        if (colon < 0 || colon >= e) {
          let k = e;
          while (k > c0 && t.charCodeAt(k - 1) === 32) k--;
          if (t.charCodeAt(k - 1) !== 58) give(`not a key at line ${this.line}`);
          colon = k - 1;
        }
        key = t.slice(c0, colon);
        if (!plainKeyOk(key)) give(`key ${key}`);
      }
      if (colon + 1 < e && t.charCodeAt(colon + 1) !== 32) give('no space after a colon');
      let r0 = colon + 1;
      while (r0 < e && t.charCodeAt(r0) === 32) r0++;
      let r1 = e;
      while (r1 > r0 && t.charCodeAt(r1 - 1) === 32) r1--;
      const rest = r0 === r1 || t.charCodeAt(r0) === 35 ? '' : t.slice(r0, r1);
      if (Object.hasOwn(obj, key)) give(`duplicate key ${key}`);
      if (key === '__proto__') give('a __proto__ key');
      this.next();
      let value: unknown;
      if (rest === '') value = this.parseNested(ind, root && key === 'items');
      else if (rest.charCodeAt(0) === 124 /* | */) value = this.parseLiteral(rest, ind);
      else value = this.inlineScalar(rest);
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
    const arr: unknown[] = [];
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
        const item = t.slice(c, e);
        this.next();
        arr.push(item.charCodeAt(0) === 124 ? this.parseLiteral(item, ind) : this.inlineScalar(item));
      }
    }
    return arr;
  }

  private looksLikeKey(c: number, e: number): boolean {
    const t = this.t;
    const ch = t.charCodeAt(c);
    if (ch === 34 || ch === 39) return t.charCodeAt(c + this.quoted(t.slice(c, e)).end) === 58;
    const colon = t.indexOf(': ', c);
    if (colon > c && colon < e) return true;
    let k = e;
    while (k > c && t.charCodeAt(k - 1) === 32) k--;
    return t.charCodeAt(k - 1) === 58 && !t.slice(c, k).includes(' ');
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
  for (const k of Object.keys(v)) {
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
  for (const k of Object.keys(o)) if (!allowed.has(k)) give(`unknown field ${what}.${k}`);
}

const META_STRINGS = ['name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp'];
const META_KEYS = new Set([...META_STRINGS, 'generation', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'finalizers', 'ownerReferences']);
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
  if (strict) onlyKeys(v, META_KEYS, 'metadata');
  if (Object.hasOwn(v, 'managedFields')) give('managedFields');
  for (const k of META_STRINGS) str(v, k);
  int32(v.generation, 'generation'); // int64 in the API: larger values are left to the reference loader
  int32(v.deletionGracePeriodSeconds, 'deletionGracePeriodSeconds');
  for (const f of list(v.finalizers, 'finalizers') ?? []) if (typeof f !== 'string') give('finalizers');
  for (const o of list(v.ownerReferences, 'ownerReferences') ?? []) {
    if (!isRec(o)) give('ownerReferences');
    if (strict) onlyKeys(o, OWNER_KEYS, 'ownerReferences');
    for (const k of ['apiVersion', 'kind', 'name', 'uid']) str(o, k);
    for (const k of ['controller', 'blockOwnerDeletion']) if (o[k] !== undefined && o[k] !== null && typeof o[k] !== 'boolean') give(k);
  }
  const out: { -readonly [K in keyof Meta]: Meta[K] } = {};
  const name = str(v, 'name');
  const generateName = str(v, 'generateName');
  const namespace = str(v, 'namespace');
  const labels = strMap(v.labels, 'labels');
  const annotations = strMap(v.annotations, 'annotations');
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
  for (const text of candidates) {
    const ip = parseIPSloppy(text);
    if (!ip) give('an invalid pod IP');
    const canonical = formatIP(ip);
    if (!out.includes(canonical)) out.push(canonical);
  }
  return out;
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

/** Copies the fields that are present (null = absent), as the reference decoder does. */
function present(o: Rec, keys: readonly string[], f: (k: string, v: unknown) => unknown): Rec {
  const out: Rec = {};
  for (const k of keys) {
    const v = o[k];
    if (v === undefined || v === null) continue;
    out[k] = f(k, v);
  }
  return out;
}

function selector(v: unknown): Rec {
  if (!isRec(v)) give('a selector is not a map');
  onlyKeys(v, SELECTOR_KEYS, 'selector');
  return present(v, ['matchLabels', 'matchExpressions'], (k, x) => {
    if (k === 'matchLabels') return strMap(x, 'matchLabels');
    return (list(x, 'matchExpressions') ?? []).map((r) => {
      if (!isRec(r)) give('a requirement is not a map');
      onlyKeys(r, REQ_KEYS, 'requirement');
      return present(r, ['key', 'operator', 'values'], (rk, rv) => (rk === 'values' ? strList(rv, 'values') : str(r, rk)));
    });
  });
}

function peer(v: unknown): Rec {
  if (!isRec(v)) give('a peer is not a map');
  onlyKeys(v, PEER_KEYS, 'peer');
  return present(v, ['podSelector', 'namespaceSelector', 'ipBlock'], (k, x) => {
    if (k !== 'ipBlock') return selector(x);
    if (!isRec(x)) give('ipBlock is not a map');
    onlyKeys(x, IPBLOCK_KEYS, 'ipBlock');
    return present(x, ['cidr', 'except'], (bk, bv) => (bk === 'cidr' ? str(x, 'cidr') : strList(bv, 'except')));
  });
}

function npPort(v: unknown): Rec {
  if (!isRec(v)) give('a port is not a map');
  onlyKeys(v, PORT_KEYS, 'port');
  return present(v, ['protocol', 'port', 'endPort'], (k, x) => {
    if (k === 'protocol') return str(v, k);
    if (k === 'endPort') return int32(x, k);
    if (typeof x === 'string') return x;
    return int32(x, 'port');
  });
}

function rules(v: unknown, keys: ReadonlySet<string>, peersKey: 'from' | 'to'): Rec[] {
  return (list(v, 'rules') ?? []).map((r) => {
    if (!isRec(r)) give('a rule is not a map');
    onlyKeys(r, keys, 'rule');
    return present(r, ['ports', peersKey], (k, x) => (k === 'ports' ? (list(x, 'ports') ?? []).map(npPort) : (list(x, peersKey) ?? []).map(peer)));
  });
}

function npSpec(v: unknown): Rec {
  if (v === undefined || v === null) return {};
  if (!isRec(v)) give('spec is not a map');
  onlyKeys(v, SPEC_KEYS, 'spec');
  return present(v, ['podSelector', 'ingress', 'egress', 'policyTypes'], (k, x) => {
    if (k === 'podSelector') return selector(x);
    if (k === 'ingress') return rules(x, INGRESS_KEYS, 'from');
    if (k === 'egress') return rules(x, EGRESS_KEYS, 'to');
    return strList(x, 'policyTypes');
  });
}

const API_VERSIONS: Readonly<Record<string, string>> = { Namespace: 'v1', Pod: 'v1', NetworkPolicy: 'networking.k8s.io/v1' };
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

function decodeAll(sources: readonly SourceText[], defaultNamespace: string, progress?: (done: number, total: number) => void): Cluster {
  const declared = new Map<string, NamespaceInfo>();
  const pods: PodInfo[] = [];
  const policies: PolicyInfo[] = [];
  const seen = new Set<string>();
  const used = new Set<string>();

  for (const [k, src] of sources.entries()) {
    if (k > 0) progress?.(k, sources.length);
    const parsed = parseYamlSubset(src.text);
    if ('unsupported' in parsed) give(`${src.file}: ${parsed.unsupported}`);
    let lines: string[] | undefined;
    const linesOf = (): string[] => (lines ??= src.text.split('\n'));
    for (const doc of parsed.documents) {
      const objects: Located[] = [];
      collect(doc.value, {}, 0, doc.line, doc.column, [], objects, parsed.items);
      for (const o of objects) {
        const source = objectSource(src.file, linesOf, doc, o);
        const strict = o.kind === 'NetworkPolicy';
        if (strict) onlyKeys(o.value, NP_KEYS, 'NetworkPolicy');
        str(o.value, 'apiVersion');
        str(o.value, 'kind');
        const m = meta(o.value.metadata, strict);
        const name = m.name || m.generateName;
        if (!name) give('an object without a name');
        const namespaced = o.kind !== 'Namespace';
        const namespace = namespaced ? m.namespace || defaultNamespace : '';
        const key = `${o.kind}\u0000${namespace}\u0000${name}`;
        if (seen.has(key)) give('a duplicate object');
        seen.add(key);
        if (namespaced) used.add(namespace);
        if (o.kind === 'Namespace') {
          declared.set(name, { name, labels: { ...m.labels, [NAMESPACE_NAME_LABEL]: name }, implicit: false, source });
        } else if (o.kind === 'Pod') {
          const spec = podSpec(o.value.spec);
          pods.push({ namespace, name, labels: { ...m.labels }, ips: podIPs(o.value.status), ...spec, source });
        } else {
          const spec = npSpec(o.value.spec);
          const metadata = { ...m, namespace };
          const policy = { apiVersion: o.apiVersion, kind: 'NetworkPolicy', metadata, spec: { ...spec, podSelector: spec.podSelector ?? {} } } as NetworkPolicy;
          policies.push({ namespace, name, policy, source });
        }
      }
    }
  }
  progress?.(sources.length, sources.length);
  for (const ns of used) if (!declared.has(ns)) give(`namespace ${ns} is used but not declared`);
  const namespaces = new Map([...declared.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { namespaces, pods, policies };
}

/** Objects of a document, Lists expanded, as src/load/objects.ts finds them. */
function collect(value: unknown, inherited: { kind?: string; apiVersion?: string }, depth: number, line: number, column: number, path: number[], out: Located[], items: ItemPositions): void {
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
      const pos = isRec(item) ? items.get(item) : undefined;
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

/** The object's position, and a locator that parses its document with the reference parser when first asked. */
function objectSource(file: string, linesOf: () => readonly string[], doc: FastDocument, o: Located): ObjectSource {
  let locator: Locator | undefined;
  const locate: Locator = (path) => {
    if (!locator) {
      // Blank lines in front keep the reference parser's line numbers those of the file.
      const text = '\n'.repeat(doc.startLine - 1) + linesOf().slice(doc.startLine - 1, doc.endLine).join('\n');
      let node: PNode | undefined = parseDocuments(file, text).documents[0];
      for (const k of o.path) {
        const items = node?.kind === 'map' ? node.byKey.get('items')?.value : undefined;
        node = items?.kind === 'seq' ? items.items[k] : undefined;
      }
      locator = node ? locatorFor(node) : () => ({ line: o.line, column: o.column });
    }
    return locator(path);
  };
  return { file, line: o.line, column: o.column, locate };
}
