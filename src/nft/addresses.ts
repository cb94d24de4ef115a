/**
 * The cluster's pods as the compiler indexes them: each pod in a numbered slot, and every pod address of
 * each family in one array sorted by value.
 *
 * Design choice: a node's sets hold up to every pod address of the cluster (100,000 and more), so the
 * compiler's cost is dominated by how it walks pods and addresses, and on a busy machine by memory
 * latency more than by arithmetic. The table reads every pod object once, in one pass, into compact
 * per-slot arrays (namespace id, whether the pod names any port) and sorted address arrays (IPv4 as plain
 * numbers in a Float64Array, sorted as packed doubles with the typed-array sort; IPv6 as bigints). Set
 * contents are then computed from these arrays, touching a pod object only to match its labels. Slots stay
 * stable while pods come and go, so the incremental compiler keeps per-slot data (set membership, resolved
 * named ports) and updates the sorted arrays with a binary search and one move per address. Pods sharing
 * an address sit next to each other in the sorted arrays, which is how they are found.
 */
import { familyBits, formatIP, parseIP, type Family } from '../ip/index.js';
import { podKey, type PodInfo } from '../model/index.js';

/** An address of one family: IPv4 as a number, IPv6 as a bigint, with its canonical text. */
export type Addr = { readonly family: 4; readonly value: number; readonly text: string } | { readonly family: 6; readonly value: bigint; readonly text: string };

export type Value<F extends Family> = F extends 4 ? number : bigint;

/** A canonical dotted quad (no leading zeros, no spaces) as a number; undefined for anything else. */
export function parseV4(t: string): number | undefined {
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return undefined;
      v = v * 256 + part;
      part = 0;
      digits = 0;
      dots++;
      continue;
    }
    if (c < 48 || c > 57 || (digits > 0 && part === 0)) return undefined;
    part = part * 10 + (c - 48);
    digits++;
    if (part > 255) return undefined;
  }
  if (dots !== 3 || digits === 0) return undefined;
  return v * 256 + part;
}

export function formatV4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** One address text as an Addr: a strictly parsed dotted quad is canonical as written; the rest is formatted. */
function parseAddr(t: string): Addr | undefined {
  const v4 = parseV4(t);
  if (v4 !== undefined) return { family: 4, value: v4, text: t };
  const ip = parseIP(t);
  if (!ip) return undefined;
  // An IPv4-mapped IPv6 address counts as IPv4 (as parseIP says).
  if (ip.family === 4) return { family: 4, value: Number(ip.value), text: t.includes(':') ? formatIP(ip) : t };
  return { family: 6, value: ip.value, text: formatIP(ip) };
}

/** The addresses of one pod, canonical and de-duplicated. */
export function podAddresses(pod: PodInfo): Addr[] {
  const out: Addr[] = [];
  for (const t of pod.ips) {
    const a = parseAddr(t);
    if (a && !out.some((x) => x.text === a.text)) out.push(a);
  }
  return out;
}

/** The value of a canonical address text in a family (for searching arrays sorted by value). */
export function valueOf<F extends Family>(family: F, text: string): Value<F> {
  if (family === 4) return (parseV4(text) ?? Number(parseIP(text)?.value ?? -1)) as Value<F>;
  return (parseIP(text)?.value ?? -1n) as Value<F>;
}

/** First index in `list` (sorted by `key`) whose key is >= `v` (or > `v` with `after`). */
export function lowerBound<T, V extends number | bigint>(list: readonly T[], v: V, key: (x: T) => V, after = false): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = key(list[mid] as T);
    if (k < v || (after && k === v)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Every pod address of one family, sorted by value (ties: in slot insertion order), as parallel arrays:
 * `vals[i]`, `slots[i]` (the pod) and `texts[i]` (canonical text), for `i < length`.
 */
export interface SortedAddresses<V extends number | bigint> {
  readonly family: Family;
  readonly length: number;
  readonly vals: ArrayLike<V>;
  readonly slots: ArrayLike<number>;
  readonly texts: readonly string[];
  /** First index whose value is >= v (or > v with `after`). */
  lowerBound(v: V, after?: boolean): number;
  insert(v: V, slot: number, text: string): void;
  removeAt(i: number): void;
}

function search<V extends number | bigint>(vals: ArrayLike<V>, length: number, v: V, after: boolean): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = vals[mid] as V;
    if (k < v || (after && k === v)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** IPv4: typed arrays with spare capacity, so an insertion is a binary search and one block move. */
class SortedV4 implements SortedAddresses<number> {
  readonly family = 4;
  constructor(
    public vals: Float64Array,
    public slots: Int32Array,
    public texts: string[],
    public length: number,
  ) {}

  lowerBound(v: number, after = false): number {
    return search(this.vals, this.length, v, after);
  }

  insert(v: number, slot: number, text: string): void {
    const i = this.lowerBound(v, true);
    if (this.length === this.vals.length) {
      const cap = Math.max(64, this.length * 2);
      const vals = new Float64Array(cap);
      vals.set(this.vals.subarray(0, this.length));
      const slots = new Int32Array(cap);
      slots.set(this.slots.subarray(0, this.length));
      this.vals = vals;
      this.slots = slots;
    }
    this.vals.copyWithin(i + 1, i, this.length);
    this.slots.copyWithin(i + 1, i, this.length);
    this.vals[i] = v;
    this.slots[i] = slot;
    this.texts.splice(i, 0, text);
    this.length++;
  }

  removeAt(i: number): void {
    this.vals.copyWithin(i, i + 1, this.length);
    this.slots.copyWithin(i, i + 1, this.length);
    this.texts.splice(i, 1);
    this.length--;
  }
}

class SortedV6 implements SortedAddresses<bigint> {
  readonly family = 6;
  constructor(
    public vals: bigint[],
    public slots: number[],
    public texts: string[],
  ) {}

  get length(): number {
    return this.vals.length;
  }

  lowerBound(v: bigint, after = false): number {
    return search(this.vals, this.vals.length, v, after);
  }

  insert(v: bigint, slot: number, text: string): void {
    const i = this.lowerBound(v, true);
    this.vals.splice(i, 0, v);
    this.slots.splice(i, 0, slot);
    this.texts.splice(i, 0, text);
  }

  removeAt(i: number): void {
    this.vals.splice(i, 1);
    this.slots.splice(i, 1);
    this.texts.splice(i, 1);
  }
}

const PACK = 2 ** 21;

function growInt32(a: Int32Array<ArrayBuffer>, size: number, fill = 0): Int32Array<ArrayBuffer> {
  if (size <= a.length) return a;
  const b = new Int32Array(Math.max(size, a.length * 2, 64));
  if (fill !== 0) b.fill(fill);
  b.set(a);
  return b;
}

/** Pods by slot, their namespaces as small integers, and every pod address sorted by value per family. */
export class PodTable {
  readonly pods: (PodInfo | undefined)[] = [];
  private readonly keys: (string | undefined)[] = [];
  private readonly free: number[] = [];
  /** Namespace id of each slot (-1: free slot). */
  nsOf: Int32Array<ArrayBuffer> = new Int32Array(0);
  readonly nsNames: string[] = [];
  private readonly nsIds = new Map<string, number>();
  /** Slots grouped by namespace (rebuilt when stale). */
  private groups: { start: Int32Array; order: Int32Array } | undefined;
  /** 1 when the pod gives any container port a name. */
  namedPorts = new Uint8Array(0);
  v4: SortedV4 = new SortedV4(new Float64Array(0), new Int32Array(0), [], 0);
  v6: SortedV6 = new SortedV6([], [], []);

  /** Slots 0..n-1 in the order given, in one pass over the pods. */
  static build(pods: readonly PodInfo[]): PodTable {
    const t = new PodTable();
    const n = pods.length;
    t.nsOf = new Int32Array(Math.max(n, 64)).fill(-1);
    t.namedPorts = new Uint8Array(Math.max(n, 64));
    let vals4 = new Float64Array(Math.max(n, 64));
    let slots4 = new Int32Array(Math.max(n, 64));
    const texts4: string[] = [];
    let n4 = 0;
    /** Appends an IPv4 address of pod `slot`, doubling the typed arrays when full. */
    const push4 = (v: number, slot: number, text: string): void => {
      if (n4 === vals4.length) {
        const grownVals = new Float64Array(n4 * 2);
        grownVals.set(vals4);
        vals4 = grownVals;
        const grownSlots = new Int32Array(n4 * 2);
        grownSlots.set(slots4);
        slots4 = grownSlots;
      }
      vals4[n4] = v;
      slots4[n4++] = slot;
      texts4.push(text);
    };
    const v6: { v: bigint; s: number; t: string }[] = [];
    for (let slot = 0; slot < n; slot++) {
      const pod = pods[slot] as PodInfo;
      t.pods.push(pod);
      t.keys.push(undefined);
      t.nsOf[slot] = t.nsId(pod.namespace);
      const ports = pod.ports;
      for (let k = 0; k < ports.length; k++) {
        if ((ports[k] as PodInfo['ports'][number]).name) {
          t.namedPorts[slot] = 1;
          break;
        }
      }
      const ips = pod.ips;
      if (ips.length === 1) {
        // The common case: one IPv4 address, canonical as written.
        const text = ips[0] as string;
        const v = parseV4(text);
        if (v !== undefined) {
          push4(v, slot, text);
          continue;
        }
      }
      for (const a of podAddresses(pod)) {
        if (a.family === 6) {
          v6.push({ v: a.value, s: slot, t: a.text });
          continue;
        }
        push4(a.value, slot, a.text);
      }
    }
    // Sort IPv4 by value, ties in slot order: packed as value * 2^21 + position, sorted as doubles.
    const order = new Int32Array(n4);
    if (n4 < PACK) {
      const packed = new Float64Array(n4);
      for (let i = 0; i < n4; i++) packed[i] = (vals4[i] as number) * PACK + i;
      packed.sort();
      for (let i = 0; i < n4; i++) order[i] = (packed[i] as number) % PACK;
    } else {
      const idx = Array.from({ length: n4 }, (_, i) => i);
      idx.sort((a, b) => (vals4[a] as number) - (vals4[b] as number) || a - b);
      idx.forEach((x, i) => (order[i] = x));
    }
    const sv = new Float64Array(Math.max(n4 + 64, Math.ceil(n4 * 1.1)));
    const ss = new Int32Array(sv.length);
    const st = new Array<string>(n4);
    for (let i = 0; i < n4; i++) {
      const j = order[i] as number;
      sv[i] = vals4[j] as number;
      ss[i] = slots4[j] as number;
      st[i] = texts4[j] as string;
    }
    t.v4 = new SortedV4(sv, ss, st, n4);
    v6.sort((a, b) => (a.v < b.v ? -1 : a.v > b.v ? 1 : a.s - b.s));
    t.v6 = new SortedV6(
      v6.map((x) => x.v),
      v6.map((x) => x.s),
      v6.map((x) => x.t),
    );
    return t;
  }

  get size(): number {
    return this.pods.length;
  }

  private nsId(namespace: string): number {
    let id = this.nsIds.get(namespace);
    if (id === undefined) {
      id = this.nsNames.length;
      this.nsNames.push(namespace);
      this.nsIds.set(namespace, id);
    }
    return id;
  }

  /** The live slots of each namespace id: `order[start[id] .. start[id + 1])`. */
  namespaceGroups(): { start: Int32Array; order: Int32Array } {
    if (this.groups) return this.groups;
    const count = new Int32Array(this.nsNames.length + 1);
    for (let s = 0; s < this.pods.length; s++) {
      const id = this.nsOf[s] as number;
      if (id >= 0) count[id + 1] = (count[id + 1] as number) + 1;
    }
    for (let i = 1; i < count.length; i++) count[i] = (count[i] as number) + (count[i - 1] as number);
    const start = count.slice();
    const order = new Int32Array(count[count.length - 1] as number);
    for (let s = 0; s < this.pods.length; s++) {
      const id = this.nsOf[s] as number;
      if (id < 0) continue;
      order[count[id] as number] = s;
      count[id] = (count[id] as number) + 1;
    }
    this.groups = { start, order };
    return this.groups;
  }

  key(slot: number): string {
    let k = this.keys[slot];
    if (k === undefined) {
      k = podKey(this.pods[slot] as PodInfo);
      this.keys[slot] = k;
    }
    return k;
  }

  /** Orders slots by pod key, then by slot (for a fresh table: input order). */
  compare = (a: number, b: number): number => {
    const ka = this.key(a);
    const kb = this.key(b);
    return ka < kb ? -1 : ka > kb ? 1 : a - b;
  };

  /** A slot's addresses, canonical and de-duplicated (parsed again: only a few pods are asked). */
  addrs(slot: number): Addr[] {
    const pod = this.pods[slot];
    return pod ? podAddresses(pod) : [];
  }

  sorted<F extends Family>(family: F): SortedAddresses<Value<F>> {
    return (family === 4 ? this.v4 : this.v6) as unknown as SortedAddresses<Value<F>>;
  }

  /** Slots of the pods holding this address (sorted arrays keep them adjacent). */
  claimants<F extends Family>(family: F, value: Value<F>): number[] {
    const list = this.sorted(family);
    const out: number[] = [];
    for (let i = list.lowerBound(value); i < list.length && list.vals[i] === value; i++) out.push(list.slots[i] as number);
    return out;
  }

  add(pod: PodInfo): number {
    const slot = this.free.pop() ?? this.pods.length;
    this.pods[slot] = pod;
    this.keys[slot] = undefined;
    this.nsOf = growInt32(this.nsOf, slot + 1, -1);
    this.nsOf[slot] = this.nsId(pod.namespace);
    if (this.namedPorts.length <= slot) {
      const b = new Uint8Array(Math.max(slot + 1, this.namedPorts.length * 2, 64));
      b.set(this.namedPorts);
      this.namedPorts = b;
    }
    this.namedPorts[slot] = pod.ports.some((p) => p.name) ? 1 : 0;
    this.groups = undefined;
    for (const a of podAddresses(pod)) {
      if (a.family === 4) this.v4.insert(a.value, slot, a.text);
      else this.v6.insert(a.value, slot, a.text);
    }
    return slot;
  }

  /** Replaces a slot's pod by one with the same namespace, name and addresses. */
  replace(slot: number, pod: PodInfo): void {
    this.pods[slot] = pod;
    this.namedPorts[slot] = pod.ports.some((p) => p.name) ? 1 : 0;
  }

  remove(slot: number): void {
    for (const a of this.addrs(slot)) {
      const list: SortedAddresses<number | bigint> = a.family === 4 ? this.v4 : this.v6;
      for (let i = list.lowerBound(a.value); i < list.length && list.vals[i] === a.value; i++) {
        if (list.slots[i] === slot) {
          list.removeAt(i);
          break;
        }
      }
    }
    this.pods[slot] = undefined;
    this.keys[slot] = undefined;
    this.nsOf[slot] = -1;
    this.namedPorts[slot] = 0;
    this.groups = undefined;
    this.free.push(slot);
  }
}

// ---- CIDR covers ---------------------------------------------------------------------------------

/** Minimal CIDR cover of the IPv4 interval [lo, hi], as set elements (a /32 is the bare address). */
export function coverV4(lo0: number, hi: number, out: string[]): void {
  let lo = lo0;
  while (lo <= hi) {
    const align = lo === 0 ? 32 : 31 - Math.clz32((lo & -lo) >>> 0);
    const len = hi - lo + 1;
    const fit = len >= 2 ** 32 ? 32 : 31 - Math.clz32(len);
    const bits = Math.min(align, fit);
    out.push(bits === 0 ? formatV4(lo) : `${formatV4(lo)}/${32 - bits}`);
    lo += 2 ** bits;
  }
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Minimal CIDR cover of the IPv6 interval [lo, hi], as set elements (a /128 is the bare address). */
export function coverV6(lo0: bigint, hi: bigint, out: string[]): void {
  const total = familyBits(6);
  let lo = lo0;
  while (lo <= hi) {
    const align = lo === 0n ? total : bitLength(lo & -lo) - 1;
    const fit = bitLength(hi - lo + 1n) - 1;
    const bits = Math.min(align, fit);
    const text = formatIP({ family: 6, value: lo });
    out.push(bits === 0 ? text : `${text}/${total - bits}`);
    lo += 1n << BigInt(bits);
  }
}

export function cover<F extends Family>(family: F, lo: Value<F>, hi: Value<F>, out: string[]): void {
  if (family === 4) coverV4(lo as number, hi as number, out);
  else coverV6(lo as bigint, hi as bigint, out);
}
