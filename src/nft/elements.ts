/**
 * Canonical text of set elements, shared by the compiler, the JSON reader, the diff and the interpreter.
 *
 * Design choice: elements are compared as text, so every producer must spell an element the same way:
 * IPv4 dotted decimal, IPv6 per RFC 5952 (our `formatIP`, which may differ from nft's `inet_ntop` output for
 * a few IPv4-compatible addresses: the JSON reader re-canonicalises), a full-length prefix as the bare
 * address (nft lists `10.0.0.1/32` as `10.0.0.1`), `address . port` for concatenations. Addresses are
 * always read in the family of the set, so `::ffff:10.0.0.1` in an IPv6 set stays IPv6 (our `parseIP`
 * would report it as IPv4).
 */
import { familyBits, formatIP, parseIP, type CIDR, type Family, type IP } from '../ip/index.js';
import { parseV4 } from './addresses.js';
import type { SetKeyType } from './ir.js';

const MAPPED_PREFIX = 0xffffn << 32n;

/** Parses an address in a given family; an IPv4-mapped IPv6 address stays IPv6 when `family` is 6. */
export function parseAddressIn(text: string, family: Family): IP | undefined {
  const ip = parseIP(text);
  if (!ip) return undefined;
  if (ip.family === family) return ip;
  if (family === 6 && ip.family === 4 && text.includes(':')) return { family: 6, value: MAPPED_PREFIX | ip.value };
  return undefined;
}

export function canonicalAddress(text: string, family: Family): string | undefined {
  const ip = parseAddressIn(text, family);
  return ip ? formatIP(ip) : undefined;
}

/** A prefix element; a full-length prefix is the bare address, as nft prints it. */
export function cidrElement(c: CIDR): string {
  const addr = formatIP({ family: c.family, value: c.base });
  return c.prefix === familyBits(c.family) ? addr : `${addr}/${c.prefix}`;
}

export function familyOfType(type: SetKeyType | 'ipv4_addr' | 'ipv6_addr'): Family {
  return type.startsWith('ipv4') ? 4 : 6;
}

export function isConcatType(type: SetKeyType): boolean {
  return type.includes('.');
}

/** An address element as an inclusive interval, or undefined when the text is not one. */
export function elementInterval(text: string, family: Family): readonly [bigint, bigint] | undefined {
  const dash = text.indexOf('-');
  if (dash >= 0) {
    const lo = parseAddressIn(text.slice(0, dash), family);
    const hi = parseAddressIn(text.slice(dash + 1), family);
    return lo && hi && lo.value <= hi.value ? [lo.value, hi.value] : undefined;
  }
  const slash = text.indexOf('/');
  if (slash < 0) {
    const ip = parseAddressIn(text, family);
    return ip ? [ip.value, ip.value] : undefined;
  }
  const ip = parseAddressIn(text.slice(0, slash), family);
  const lenText = text.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(lenText)) return undefined;
  const bits = familyBits(family);
  const len = Number(lenText);
  if (len > bits) return undefined;
  const size = 1n << BigInt(bits - len);
  const lo = ip.value & ~(size - 1n);
  return [lo, lo + size - 1n];
}

/** `address . port` split into its canonical address and port. */
export function concatParts(text: string, family: Family): { address: string; value: bigint; port: number } | undefined {
  const m = /^(\S+) \. (\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const ip = parseAddressIn(m[1] as string, family);
  const port = Number(m[2]);
  if (!ip || port > 65535) return undefined;
  return { address: formatIP(ip), value: ip.value, port };
}

export function concatElement(address: string, port: number): string {
  return `${address} . ${port}`;
}

/** Sort key of an element: numeric, so `nft list` and our output read in address order. */
function elementKey(text: string, type: SetKeyType): [bigint, bigint] {
  const family = familyOfType(type);
  if (isConcatType(type)) {
    const p = concatParts(text, family);
    return p ? [p.value, BigInt(p.port)] : [-1n, 0n];
  }
  const iv = elementInterval(text, family);
  return iv ? [iv[0], iv[1]] : [-1n, 0n];
}

/**
 * The order of `sortElements` (by address, then end of range or port, then text) as a comparator; IPv4
 * addresses and `address . port` elements are compared as numbers without building bigints.
 */
export function compareElements(a: string, b: string, type: SetKeyType): number {
  if (type === 'ipv4_addr') {
    const x = parseV4(a);
    const y = parseV4(b);
    if (x !== undefined && y !== undefined) return x - y;
  } else if (type === 'ipv4_addr . inet_service') {
    const i = a.indexOf(' . ');
    const j = b.indexOf(' . ');
    const x = i < 0 ? undefined : parseV4(a.slice(0, i));
    const y = j < 0 ? undefined : parseV4(b.slice(0, j));
    if (x !== undefined && y !== undefined) return x - y || Number(a.slice(i + 3)) - Number(b.slice(j + 3)) || (a < b ? -1 : a > b ? 1 : 0);
  }
  const ka = elementKey(a, type);
  const kb = elementKey(b, type);
  if (ka[0] !== kb[0]) return ka[0] < kb[0] ? -1 : 1;
  if (ka[1] !== kb[1]) return ka[1] < kb[1] ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorted, de-duplicated copy of element texts. */
export function sortElements(elements: Iterable<string>, type: SetKeyType): string[] {
  const keyed = [...new Set(elements)].map((e) => ({ e, k: elementKey(e, type) }));
  keyed.sort((a, b) => {
    if (a.k[0] !== b.k[0]) return a.k[0] < b.k[0] ? -1 : 1;
    if (a.k[1] !== b.k[1]) return a.k[1] < b.k[1] ? -1 : 1;
    return a.e < b.e ? -1 : a.e > b.e ? 1 : 0;
  });
  return keyed.map((x) => x.e);
}

/**
 * What changed between two element arrays when the compiler derived one from the other by a few edits:
 * `renderDiff` uses it instead of comparing two arrays of 100,000 elements. Kept beside the arrays (which
 * are never modified once handed out) in a WeakMap, so the IR stays plain data and an array that is no
 * longer referenced takes its record with it. Removed and added elements are sorted as the arrays are.
 */
export interface ElementDelta {
  /** The array the edits were made to. */
  readonly base: readonly string[];
  readonly removed: readonly string[];
  readonly added: readonly string[];
}

/** The base is remembered by a number, not a reference: a chain of deltas must not keep every array alive. */
const ids = new WeakMap<readonly string[], number>();
let lastId = 0;
const deltas = new WeakMap<readonly string[], { readonly base: number; readonly removed: readonly string[]; readonly added: readonly string[] }>();

function idOf(a: readonly string[]): number {
  let id = ids.get(a);
  if (id === undefined) {
    id = ++lastId;
    ids.set(a, id);
  }
  return id;
}

export function recordElementDelta(next: readonly string[], delta: ElementDelta): void {
  deltas.set(next, { base: idOf(delta.base), removed: delta.removed, added: delta.added });
}

/** The recorded edits that made `next` out of `base`, if the compiler recorded them. */
export function elementDelta(base: readonly string[], next: readonly string[]): ElementDelta | undefined {
  const d = deltas.get(next);
  return d !== undefined && ids.get(base) === d.base ? { base, removed: d.removed, added: d.added } : undefined;
}
