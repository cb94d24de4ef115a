/**
 * Strict IPv4/IPv6 parsing and bigint interval sets: the one place netpol turns address text into
 * numbers. Parsing lives in parse.ts (strict, plus Kubernetes' "sloppy" CIDR parser), the interval
 * algebra every set of integers uses (addresses, ports) in intervals.ts, address sets in set.ts; this
 * module is the curated entry point.
 */

export type { Family, IP, CIDR, SloppyCIDR, StrictPrefix } from './parse.js';
export { parseIP, parseIPSloppy, formatIP, parseCIDR, parseCIDRSloppy, parsePrefixStrict, formatCIDR, cidrContains, cidrLast, familyBits, maxAddress, prefixMask, isIPv4MappedValue } from './parse.js';
export type { Interval } from './set.js';
export { AddressSet } from './set.js';
export { unionSpans, intersectSpans, subtractSpans, spansContain, sameSpans, type Bound, type Span } from './intervals.js';
