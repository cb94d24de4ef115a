/**
 * The YAML subset the fast loader reads: block mappings and sequences, plain and quoted scalars, `|`
 * literals, comments, `---` between documents, read line by line straight into plain values. Anything
 * else gives up (unsupported.ts), and the reference loader reads the text instead.
 *
 * Scalars are resolved by the reference loader's own `resolvePlain`, so `on`, `0777`, `1e3` mean what
 * kubectl makes of them; lines are scanned with `charCodeAt`, lists are built at their exact size, and
 * keys and scalars come from a `ScalarCache` (span-cache.ts) once read.
 */
import { resolvePlain } from '../yaml.js';
import { MISS, ScalarCache, type SpanCache } from './span-cache.js';
import { give, Unsupported } from './unsupported.js';
import { isRec } from './fields.js';

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
export type ItemPositions = Map<object, number>;

const PLAIN_KEY = /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/;
/** The plain words YAML 1.1 (as kubectl reads it) resolves to booleans or null. */
const SPECIAL_WORDS = new Set([
  'y',
  'Y',
  'yes',
  'Yes',
  'YES',
  'n',
  'N',
  'no',
  'No',
  'NO',
  'true',
  'True',
  'TRUE',
  'false',
  'False',
  'FALSE',
  'on',
  'On',
  'ON',
  'off',
  'Off',
  'OFF',
  'null',
  'Null',
  'NULL',
]);

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
  // (The longest special word has five letters.)
  if (isLetter(c)) return text.length <= 5 && SPECIAL_WORDS.has(text) ? resolvePlain(text) : text;
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

export class SubsetParser {
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

  /**
   * Where the block at indentation `ind` goes on: the offset of the next entry's first character, or -1
   * when the block has ended (the document ended, or a line indented less). A line indented more is an
   * error: every nested block starts from its parent's entry.
   */
  private entryAt(ind: number): number {
    if (!this.skipBlank()) return -1;
    const li = this.indent();
    if (li < ind) return -1;
    if (li > ind) give(`unexpected indentation at line ${this.line}`);
    return this.pos + ind;
  }

  private parseNode(ind: number, track: boolean): unknown {
    return this.isDash(this.pos + ind) ? this.parseSeq(ind, track) : this.parseMap(ind, false);
  }

  private parseMap(ind: number, root: boolean): Record<string, unknown> {
    const t = this.t;
    const obj: Record<string, unknown> = {};
    for (;;) {
      const c0 = this.entryAt(ind);
      if (c0 < 0) break;
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
      const c0 = this.entryAt(ind);
      if (c0 < 0 || !this.isDash(c0)) break;
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
