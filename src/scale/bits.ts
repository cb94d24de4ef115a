/**
 * The member classes of every pod peer at once, for the bulk build, as bitsets over class ids (class c
 * is bit c & 31 of word c >>> 5) rather than one selector test per class and peer.
 *
 * Design choice. A selector is the AND of its requirements, and each requirement is a union of label
 * postings or the complement of one ("NotIn" and "DoesNotExist" match objects that do not have the key
 * at all): with the label index's postings, a selector's classes cost one pass over a bitset per
 * requirement plus the postings it reads. A peer with a namespace selector is its pod selector's bitset
 * AND the union of the selected namespaces' classes (one bitset per namespace selector, shared by its
 * peers). Peers whose scope holds fewer classes than a bitset has words (a `podSelector` alone, in its
 * own namespace) are cheaper with one selector test per class of the scope, and keep that.
 *
 * The results are the same ascending lists as before (`PeerRec.members`, `ClassRec.peers`), so every
 * reader is unchanged. The classes' lists are filled a block of classes at a time, every peer's list
 * advanced by a cursor, so that the writes of one pass stay in a few hundred classes' lists (filled
 * peer by peer, each write went to another class: 96 million scattered writes on the adversarial shape).
 */
import type { Labels } from '../model/index.js';
import { matches, type Requirement, type Selector } from '../selector/index.js';
import type { LabelIndex } from './select.js';
import type { IdList } from './records.js';

/** Classes whose lists one pass of the fill writes (a few hundred: their lists' ends stay in cache). */
const FILL_BLOCK = 512;

/**
 * Below this many class-peer entries, classes' lists are arrays; from it up, views into one typed
 * buffer. The readers (has, meets, the sweep's and line counts' loops) run a third faster on arrays
 * (changes on the realistic shape, 1,000 of them: p50 3.4 -> 2.7 ms), but tens of millions of entries
 * in arrays are what the collector walks at every major collection (96 million on the adversarial shape).
 */
const ARRAY_LISTS_BELOW = 1 << 20;

/** What the member computation reads of the class store. */
export interface MemberSource {
  /** Number of classes (ids 0 .. count - 1). */
  readonly count: number;
  readonly index: LabelIndex;
  labelsOf(c: number): Labels;
  /** The namespace of a class. */
  nsOf(c: number): number;
  /** The classes of a namespace, ascending. */
  classesOf(ns: number): readonly number[];
  /** The namespaces a namespace selector (by id) picks. */
  namespacesOf(nsSel: number): readonly number[];
  /** Identity of a selector (equal selectors, equal ids). */
  selectorId(sel: Selector): number;
}

/** A pod peer as the computation reads it: its pod selector and its scope. */
export interface PodPeer {
  readonly podSel: Selector | undefined;
  /** Namespace of a `podSelector`-only peer, else -1. */
  readonly ownNs: number;
  /** Namespace selector id, else -1. */
  readonly nsSel: number;
}

/** Bitsets over class ids, from the label index. */
export class ClassBits {
  readonly words: number;
  /** Classes carrying a key (for `Exists`, `DoesNotExist`), kept: few keys, read by many selectors. */
  private readonly byKey = new Map<string, Int32Array>();
  private readonly scratch: Int32Array;

  constructor(private readonly src: MemberSource) {
    this.words = (src.count + 31) >>> 5;
    this.scratch = new Int32Array(this.words);
  }

  /** Every class. */
  fill(out: Int32Array): void {
    const n = this.src.count;
    out.fill(-1, 0, n >>> 5);
    if ((n & 31) !== 0) out[n >>> 5] = (1 << (n & 31)) - 1;
  }

  /** The classes a selector matches (among all classes), into `out`. */
  select(sel: Selector, out: Int32Array): void {
    this.fill(out);
    for (const r of sel.requirements) this.andRequirement(r, out);
  }

  /** The classes of some namespaces, into `out`. */
  namespaces(list: readonly number[], out: Int32Array): void {
    out.fill(0);
    for (const n of list) for (const c of this.src.classesOf(n)) out[c >>> 5]! |= 1 << (c & 31);
  }

  private andRequirement(r: Requirement, out: Int32Array): void {
    const words = this.words;
    if (r.operator === 'Exists' || r.operator === 'DoesNotExist') {
      const has = this.keyBits(r.key);
      if (r.operator === 'Exists') for (let i = 0; i < words; i++) out[i]! &= has[i]!;
      else for (let i = 0; i < words; i++) out[i]! &= ~has[i]!;
      return;
    }
    // In: the classes with one of the values; NotIn: all the others (with another value or without the key).
    const hit = this.scratch;
    hit.fill(0);
    for (const v of r.values) for (const c of this.src.index.posting(r.key, v)) hit[c >>> 5]! |= 1 << (c & 31);
    if (r.operator === 'In') for (let i = 0; i < words; i++) out[i]! &= hit[i]!;
    else for (let i = 0; i < words; i++) out[i]! &= ~hit[i]!;
  }

  private keyBits(key: string): Int32Array {
    let bits = this.byKey.get(key);
    if (bits === undefined) {
      bits = new Int32Array(this.words);
      for (const c of this.src.index.keyPosting(key)) bits[c >>> 5]! |= 1 << (c & 31);
      this.byKey.set(key, bits);
    }
    return bits;
  }
}

/** Number of set bits of a 32-bit word. */
function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** The set bits of a bitset, ascending. */
export function bitsToList(bits: Int32Array): Int32Array {
  let n = 0;
  for (let i = 0; i < bits.length; i++) if (bits[i] !== 0) n += popcount(bits[i]!);
  const out = new Int32Array(n);
  let k = 0;
  for (let i = 0; i < bits.length; i++) {
    let x = bits[i]!;
    while (x !== 0) {
      const low = x & -x;
      out[k++] = (i << 5) | (31 - Math.clz32(low));
      x ^= low;
    }
  }
  return out;
}

/**
 * The member classes of each pod peer (ascending typed lists; undefined for other peers): a peer whose scope
 * holds fewer classes than a bitset has words tests each class of the scope, one whose selector the label
 * index narrows to fewer candidates than that tests each candidate, any other is computed as bitsets. Peers are taken in the order of their pod selector, so each selector's bitset is made once.
 */
export function podPeerMembers(src: MemberSource, peers: readonly (PodPeer | undefined)[]): (Int32Array | undefined)[] {
  const bits = new ClassBits(src);
  const words = bits.words;
  const out: (Int32Array | undefined)[] = new Array<Int32Array | undefined>(peers.length).fill(undefined);
  const scopeOf = (p: PodPeer): number => {
    if (p.ownNs >= 0) return src.classesOf(p.ownNs).length;
    let n = 0;
    for (const ns of src.namespacesOf(p.nsSel)) n += src.classesOf(ns).length;
    return n;
  };
  // Few classes in scope: one test each (the list of a namespace is ascending, so is the result).
  // A selector whose label index gives fewer candidates than a bitset has words: one test each.
  const nsSets = new Map<number, ReadonlySet<number>>();
  const inScope = (p: PodPeer, c: number): boolean => {
    if (p.ownNs >= 0) return src.nsOf(c) === p.ownNs;
    let set = nsSets.get(p.nsSel);
    if (set === undefined) nsSets.set(p.nsSel, (set = new Set(src.namespacesOf(p.nsSel))));
    return set.has(src.nsOf(c));
  };
  const wide: number[] = [];
  for (let q = 0; q < peers.length; q++) {
    const p = peers[q];
    if (p === undefined) continue;
    if (scopeOf(p) >= words) {
      const cand = p.podSel === undefined ? undefined : src.index.candidates(p.podSel, words);
      if (cand === undefined) wide.push(q);
      else {
        const list: number[] = [];
        for (const c of cand) if (inScope(p, c) && matches(p.podSel!, src.labelsOf(c))) list.push(c);
        out[q] = Int32Array.from(list);
      }
      continue;
    }
    const list: number[] = [];
    const scope = p.ownNs >= 0 ? src.classesOf(p.ownNs) : [...src.namespacesOf(p.nsSel)].flatMap((ns) => src.classesOf(ns)).sort((a, b) => a - b);
    for (const c of scope) if (p.podSel === undefined || matches(p.podSel, src.labelsOf(c))) list.push(c);
    out[q] = Int32Array.from(list);
  }
  const selOf = (q: number): number => (peers[q]!.podSel === undefined ? -1 : src.selectorId(peers[q]!.podSel!));
  const sel = wide.map(selOf);
  const order = wide.map((_, i) => i).sort((a, b) => sel[a]! - sel[b]!);
  /** Scope bitsets by namespace selector id, or -1 - namespace for a namespace's own peers. */
  const scopes = new Map<number, Int32Array>();
  const selected = new Int32Array(words);
  const member = new Int32Array(words);
  let current: number | undefined;
  for (const i of order) {
    const q = wide[i]!;
    const p = peers[q]!;
    if (sel[i] !== current) {
      current = sel[i];
      if (p.podSel === undefined) bits.fill(selected);
      else bits.select(p.podSel, selected);
    }
    // Scopes are kept: many peers share one (a namespace selector; a namespace with more classes than a
    // bitset has words, where every pod peer of that namespace takes this path).
    const key = p.ownNs >= 0 ? -1 - p.ownNs : p.nsSel;
    let scope = scopes.get(key);
    if (scope === undefined) {
      scope = new Int32Array(words);
      bits.namespaces(p.ownNs >= 0 ? [p.ownNs] : src.namespacesOf(p.nsSel), scope);
      scopes.set(key, scope);
    }
    for (let w = 0; w < words; w++) member[w] = selected[w]! & scope[w]!;
    out[q] = bitsToList(member);
  }
  return out;
}

/**
 * Each class's peers (ascending) from each peer's members (ascending), for classes 0 .. classCount - 1
 * (members from classCount up are left out), filled a block of classes at a time into one typed buffer
 * (see ARRAY_LISTS_BELOW for what the lists are).
 */
export function classPeerLists(classCount: number, members: readonly Int32Array[]): IdList[] {
  const start = new Int32Array(classCount + 1);
  for (const list of members) {
    for (let k = 0; k < list.length; k++) {
      const c = list[k]!;
      if (c >= classCount) break;
      start[c + 1]!++;
    }
  }
  for (let c = 0; c < classCount; c++) start[c + 1]! += start[c]!;
  const buffer = new Int32Array(start[classCount]!);
  const next = Int32Array.from(start);
  const cursor = new Int32Array(members.length);
  // Each block's pass visits every peer: with few memberships per peer (small namespaces, narrow
  // selectors), one pass over all classes costs less than the blocks' visits.
  const block = Math.ceil(classCount / FILL_BLOCK) * members.length > start[classCount]! ? classCount : FILL_BLOCK;
  for (let from = 0; from < classCount; from += block) {
    const end = Math.min(from + block, classCount);
    for (let q = 0; q < members.length; q++) {
      const list = members[q]!;
      let k = cursor[q]!;
      for (; k < list.length; k++) {
        const c = list[k]!;
        if (c >= end) break;
        buffer[next[c]!++] = q;
      }
      cursor[q] = k;
    }
  }
  const lists = new Array<IdList>(classCount);
  if (buffer.length < ARRAY_LISTS_BELOW) for (let c = 0; c < classCount; c++) lists[c] = Array.from(buffer.subarray(start[c]!, start[c + 1]!));
  else for (let c = 0; c < classCount; c++) lists[c] = buffer.subarray(start[c]!, start[c + 1]!);
  return lists;
}
