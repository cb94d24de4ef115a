/**
 * The CIDR rules for legacy fields such as `ipBlock.cidr` and `ipBlock.except`, from apimachinery's
 * pkg/util/validation/ip.go: `IsValidCIDRForLegacyField` (errors) and `GetWarningsForCIDR` (the
 * warnings the NetworkPolicy registry strategy returns for every ipBlock cidr and except).
 *
 * Design choice: both read the same two parses from src/ip — Kubernetes' sloppy parser (does the
 * value parse at all, and what network does it mean) and Go's strict `netip.ParsePrefix` (is it in
 * standard form) — so an error and a warning can never disagree about a value. Which of the two a
 * non-standard value gets depends on the StrictIPCIDRValidation feature gate (alpha since 1.33, off
 * by default): off, the value is accepted with a warning; on, it is rejected with an error.
 * Warning messages are the Go text after "<path>: ", with code {@link NON_STANDARD_CIDR}.
 */

import type { Diagnostic } from '../diag/index.js';
import { familyBits, formatCIDR, formatIP, parseCIDRSloppy, parsePrefixStrict } from '../ip/index.js';
import { goQuote, invalid } from './field.js';

/** Diagnostic code of the CIDR warnings (severity 'warning'). */
export const NON_STANDARD_CIDR = 'NonStandardCIDR' as const;

/**
 * IsValidCIDRForLegacyField: the value must parse with the sloppy parser. With strict validation it
 * must also parse strictly (no leading zeros), not be IPv4-mapped IPv6, and have no bits set beyond
 * the prefix length. Returns errors only.
 */
export function validateCIDRValue(value: string, path: string, strict: boolean): Diagnostic[] {
  if (parseCIDRSloppy(value) === undefined) {
    return [invalid(path, value, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')];
  }
  if (!strict) return [];
  const p = parsePrefixStrict(value);
  if (p === undefined) return [invalid(path, value, 'must not have leading 0s in IP or prefix length')];
  if (p.ipv4Mapped) return [invalid(path, value, 'must not have an IPv4-mapped IPv6 address')];
  if (p.hostBitsSet) return [invalid(path, value, 'must not have bits set beyond the prefix length')];
  return [];
}

function warning(path: string, message: string): Diagnostic {
  return { severity: 'warning', code: NON_STANDARD_CIDR, message, path };
}

/**
 * GetWarningsForCIDR: warnings for a CIDR value that parses but is not in standard form, in Go's
 * order. Nothing for a value that does not parse (that one is an error).
 */
export function cidrWarnings(value: string, path: string): Diagnostic[] {
  const sloppy = parseCIDRSloppy(value);
  if (sloppy === undefined) return [];
  const out: Diagnostic[] = [];
  // Go's `ipnet.String()`: the masked network; one inside ::ffff:0:0/96 prints as the IPv4 network.
  const network = formatCIDR(sloppy.network);

  // Bits set after the prefix length: the value reads both as a subnet and as one address. The
  // single-address reading keeps the mask size of the written syntax (Go's `Mask.Size()`), so
  // `::ffff:1.2.3.4/120` suggests "1.2.3.4/128".
  if (sloppy.hostBitsSet) {
    const single = `${formatIP(sloppy.address)}/${familyBits(sloppy.writtenFamily)}`;
    out.push(warning(path, `CIDR value ${goQuote(value)} is ambiguous in this context (should be ${goQuote(network)} or ${goQuote(single)}?)`));
  }

  // Leading zeros (the sloppy parser reads them, netip.ParsePrefix does not) or IPv4-mapped IPv6.
  const strict = parsePrefixStrict(value);
  if (strict === undefined || strict.ipv4Mapped) {
    out.push(warning(path, `non-standard CIDR value ${goQuote(value)} will be considered invalid in a future Kubernetes release: use ${goQuote(network)}`));
  }

  // Otherwise valid but possibly not canonical; only checked when nothing else was said, since either
  // warning above also implies a different canonical text.
  if (out.length === 0 && strict !== undefined && strict.family === 6) {
    const canonical = `${formatIP({ family: 6, value: strict.value })}/${strict.prefix}`;
    if (canonical !== value) {
      out.push(warning(path, `IPv6 CIDR value ${goQuote(value)} should be in RFC 5952 canonical format (${goQuote(canonical)})`));
    }
  }
  return out;
}
