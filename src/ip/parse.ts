/**
 * IP address and CIDR parsing, as bigints.
 *
 * Design choice: one hand-written IPv6/IPv4 scanner with a `sloppy` switch reproduces the two
 * parsers Kubernetes uses side by side: the pre-Go-1.17 "sloppy" parser the API server still uses
 * to decide whether a CIDR parses at all (`netutils.ParseCIDRSloppy`, which accepts IPv4 octets
 * with leading zeros, read as decimal), and Go's strict `net/netip` parser (no leading zeros,
 * at most four hex digits per IPv6 field) that the StrictIPCIDRValidation errors and the
 * non-standard-CIDR warnings compare against.
 * Addresses are plain bigints (32 or 128 bits) so sets and masks are simple arithmetic.
 *
 * Like Go's `net.IP.To4()`, an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is reported as family 4,
 * so it matches IPv4 CIDRs; and a CIDR written in IPv6 form whose network lies inside
 * `::ffff:0:0/96` behaves as the IPv4 network it maps (what Go's `IPNet.Contains` does).
 */

export type Family = 4 | 6;

export interface IP {
  readonly family: Family;
  readonly value: bigint;
}

/** base = network address, host bits cleared. */
export interface CIDR {
  readonly family: Family;
  readonly base: bigint;
  readonly prefix: number;
}

/** Number of address bits of a family. */
export function familyBits(family: Family): number {
  return family === 4 ? 32 : 128;
}

/** Largest address of a family (all bits set). */
export function maxAddress(family: Family): bigint {
  return (1n << BigInt(familyBits(family))) - 1n;
}

/** Mask with the top `prefix` bits set. */
export function prefixMask(family: Family, prefix: number): bigint {
  const bits = familyBits(family);
  return maxAddress(family) ^ ((1n << BigInt(bits - prefix)) - 1n);
}

/** True when a 128-bit value lies in ::ffff:0:0/96 (an IPv4-mapped IPv6 address). */
export function isIPv4MappedValue(v6: bigint): boolean {
  return v6 >> 32n === 0xffffn;
}

// Go's dtoi/xtoi give up once a value reaches this bound; any number of leading zeros is fine.
const BIG = 0xffffff;

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  if (c >= 65 && c <= 70) return c - 55; // A-F
  return -1;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Dotted-quad IPv4 → 32-bit value. Strict: no leading zeros (netip); sloppy: any (read as decimal). */
function parseV4(s: string, sloppy: boolean): bigint | undefined {
  let pos = 0;
  let value = 0;
  for (let field = 0; field < 4; field++) {
    if (pos >= s.length) return undefined;
    if (field > 0) {
      if (s.charCodeAt(pos) !== 46 /* . */) return undefined;
      pos++;
    }
    const start = pos;
    let n = 0;
    while (pos < s.length && isDigit(s.charCodeAt(pos))) {
      n = n * 10 + (s.charCodeAt(pos) - 48);
      pos++;
      if (n >= BIG) return undefined;
    }
    const digits = pos - start;
    if (digits === 0 || n > 255) return undefined;
    if (!sloppy && digits > 1 && s.charCodeAt(start) === 48 /* 0 */) return undefined;
    value = value * 256 + n;
  }
  if (pos !== s.length) return undefined;
  return BigInt(value);
}

/**
 * IPv6 text (RFC 4291 section 2.2, with `::` and an optional embedded IPv4 tail) → 128-bit value.
 * Strict: at most 4 hex digits per field and a strict IPv4 tail; sloppy: any number of leading zeros.
 * No zone (`%eth0`), no brackets.
 */
function parseV6(s: string, sloppy: boolean): bigint | undefined {
  const groups: number[] = [0, 0, 0, 0, 0, 0, 0, 0];
  let ellipsis = -1; // group index where `::` stands
  let pos = 0;
  if (s.length >= 2 && s.charCodeAt(0) === 58 && s.charCodeAt(1) === 58) {
    ellipsis = 0;
    pos = 2;
    if (pos === s.length) return 0n;
  }
  let i = 0;
  while (i < 8) {
    const start = pos;
    let n = 0;
    while (pos < s.length) {
      const h = hexValue(s.charCodeAt(pos));
      if (h < 0) break;
      n = n * 16 + h;
      pos++;
      if (n >= BIG) return undefined;
    }
    const digits = pos - start;
    if (digits === 0 || n > 0xffff) return undefined;

    // A field followed by a dot starts the embedded IPv4 tail, which must fill the last two groups.
    if (pos < s.length && s.charCodeAt(pos) === 46) {
      if (ellipsis < 0 && i !== 6) return undefined;
      if (i + 2 > 8) return undefined;
      const v4 = parseV4(s.slice(start), sloppy);
      if (v4 === undefined) return undefined;
      groups[i] = Number(v4 >> 16n);
      groups[i + 1] = Number(v4 & 0xffffn);
      i += 2;
      pos = s.length;
      break;
    }
    if (!sloppy && digits > 4) return undefined;
    groups[i] = n;
    i++;
    if (pos === s.length) break;
    // Otherwise a colon and more must follow.
    if (s.charCodeAt(pos) !== 58 || pos + 1 === s.length) return undefined;
    pos++;
    if (s.charCodeAt(pos) === 58) {
      if (ellipsis >= 0) return undefined; // only one `::`
      ellipsis = i;
      pos++;
      if (pos === s.length) break;
    }
  }
  if (pos !== s.length) return undefined;
  if (i < 8) {
    if (ellipsis < 0) return undefined;
    const fill = 8 - i;
    for (let j = i - 1; j >= ellipsis; j--) groups[j + fill] = groups[j] ?? 0;
    for (let j = ellipsis; j < ellipsis + fill; j++) groups[j] = 0;
  } else if (ellipsis >= 0) {
    // `::` must stand for at least one group of zeros.
    return undefined;
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  return v;
}

/** Family of an address as written, value unnormalised (what Go's netip.Addr holds). */
interface RawAddr {
  readonly family: Family;
  readonly value: bigint;
}

function parseRaw(text: string, sloppy: boolean): RawAddr | undefined {
  // Like Go: the first '.' or ':' decides which syntax the text is in.
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c === 46) {
      const v = parseV4(text, sloppy);
      return v === undefined ? undefined : { family: 4, value: v };
    }
    if (c === 58) {
      const v = parseV6(text, sloppy);
      return v === undefined ? undefined : { family: 6, value: v };
    }
  }
  return undefined;
}

function unmap(raw: RawAddr): IP {
  if (raw.family === 6 && isIPv4MappedValue(raw.value)) return { family: 4, value: raw.value & 0xffffffffn };
  return raw;
}

/**
 * Strict: dotted-quad IPv4 (no leading zeros, 0-255), IPv6 incl. '::' and embedded IPv4 tail;
 * no zone, no brackets. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is returned as family 4.
 */
export function parseIP(text: string): IP | undefined {
  const raw = parseRaw(text, false);
  return raw === undefined ? undefined : unmap(raw);
}

/** What Kubernetes' `netutils.ParseIPSloppy` accepts (IPv4 octets may have leading zeros, read as decimal). */
export function parseIPSloppy(text: string): IP | undefined {
  const raw = parseRaw(text, true);
  return raw === undefined ? undefined : unmap(raw);
}

function formatV4(v: bigint): string {
  const n = Number(v);
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** RFC 5952: lowercase, no leading zeros, the longest run (>= 2) of zero groups as `::`, first on ties. */
function formatV6(v: bigint): string {
  if (isIPv4MappedValue(v)) return `::ffff:${formatV4(v & 0xffffffffn)}`;
  const groups: number[] = [];
  for (let k = 7; k >= 0; k--) groups.push(Number((v >> BigInt(k * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let k = 0; k < 8;) {
    if (groups[k] !== 0) {
      k++;
      continue;
    }
    let end = k;
    while (end < 8 && groups[end] === 0) end++;
    if (end - k > bestLen) {
      bestStart = k;
      bestLen = end - k;
    }
    k = end;
  }
  const hex = (g: number[]): string => g.map((x) => x.toString(16)).join(':');
  if (bestLen < 2) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/** Canonical text: IPv4 dotted decimal, IPv6 per RFC 5952 (values in ::ffff:0:0/96 as `::ffff:a.b.c.d`). */
export function formatIP(ip: IP): string {
  return ip.family === 4 ? formatV4(ip.value) : formatV6(ip.value);
}

/** Everything Go's `netutils.ParseCIDRSloppy` tells about a CIDR text. */
export interface SloppyCIDR {
  /** The masked network, normalised like {@link parseCIDR}. */
  readonly network: CIDR;
  /** The address as written, before masking (normalised like {@link parseIP}). */
  readonly address: IP;
  /** The prefix length as written, counted in the written family's bits (Go's `Mask.Size()`). */
  readonly maskBits: number;
  /** The syntax the address is written in (`::ffff:1.2.3.4/120` is 6): Go's mask length is 32 or 128 by it. */
  readonly writtenFamily: Family;
  /** The address as written has bits set past the prefix length (Go's `!ip.Equal(ipnet.IP)`). */
  readonly hostBitsSet: boolean;
}

/**
 * Mirrors `netutils.ParseCIDRSloppy` (Go's pre-1.17 `net.ParseCIDR`): address, '/', decimal prefix
 * length (leading zeros allowed) no larger than the address size.
 */
export function parseCIDRSloppy(text: string): SloppyCIDR | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const addrText = text.slice(0, slash);
  const maskText = text.slice(slash + 1);
  let family: Family = 4;
  let value = parseV4(addrText, true);
  if (value === undefined) {
    family = 6;
    value = parseV6(addrText, true);
  }
  if (value === undefined) return undefined;
  let bits = 0;
  if (maskText.length === 0) return undefined;
  for (let k = 0; k < maskText.length; k++) {
    const c = maskText.charCodeAt(k);
    if (!isDigit(c)) return undefined;
    bits = bits * 10 + (c - 48);
    if (bits >= BIG) return undefined;
  }
  if (bits > familyBits(family)) return undefined;
  const masked = value & prefixMask(family, bits);
  let network: CIDR = { family, base: masked, prefix: bits };
  if (family === 6 && bits >= 96 && isIPv4MappedValue(masked)) {
    network = { family: 4, base: masked & 0xffffffffn, prefix: bits - 96 };
  }
  return { network, address: unmap({ family, value }), maskBits: bits, writtenFamily: family, hostBitsSet: masked !== value };
}

/**
 * Accepts what Kubernetes' netutils.ParseCIDRSloppy accepts (IPv4 octets with leading zeros allowed,
 * parsed as decimal); returns the masked network. undefined when it does not parse.
 */
export function parseCIDR(text: string): CIDR | undefined {
  return parseCIDRSloppy(text)?.network;
}

/** What Go's strict `netip.ParsePrefix` reads, plus the two facts strict CIDR validation checks. */
export interface StrictPrefix {
  /** Family as written (`::ffff:1.2.3.0/120` is family 6). */
  readonly family: Family;
  /** Address as written, not masked. */
  readonly value: bigint;
  readonly prefix: number;
  /** The address is IPv4-mapped IPv6 (`::ffff:0:0/96`). */
  readonly ipv4Mapped: boolean;
  /** The address has bits set beyond the prefix length. */
  readonly hostBitsSet: boolean;
}

/** Mirrors Go's `netip.ParsePrefix`: strict address, prefix length without sign or leading zeros. */
export function parsePrefixStrict(text: string): StrictPrefix | undefined {
  const slash = text.lastIndexOf('/');
  if (slash < 0) return undefined;
  const raw = parseRaw(text.slice(0, slash), false);
  if (raw === undefined) return undefined;
  const bitsText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,3})$/.test(bitsText)) return undefined;
  const prefix = Number(bitsText);
  if (prefix > familyBits(raw.family)) return undefined;
  return {
    family: raw.family,
    value: raw.value,
    prefix,
    ipv4Mapped: raw.family === 6 && isIPv4MappedValue(raw.value),
    hostBitsSet: (raw.value & ~prefixMask(raw.family, prefix) & maxAddress(raw.family)) !== 0n,
  };
}

/** Canonical `address/prefix`. */
export function formatCIDR(c: CIDR): string {
  return `${formatIP({ family: c.family, value: c.base })}/${c.prefix}`;
}

/** Whether the address lies in the network (families must agree, as in Go's `IPNet.Contains`). */
export function cidrContains(c: CIDR, ip: IP): boolean {
  if (c.family !== ip.family) return false;
  return (ip.value & prefixMask(c.family, c.prefix)) === c.base;
}

/** Last address of the network. */
export function cidrLast(c: CIDR): bigint {
  return c.base | (maxAddress(c.family) ^ prefixMask(c.family, c.prefix));
}
