/**
 * NetworkPolicy validation identical to the Kubernetes API server's on create:
 * `ValidateNetworkPolicy` in pkg/apis/networking/validation/validation.go (kubernetes/kubernetes,
 * commit 019c5dc51786ef4d3a3c670a852267d2b087016c) and what it calls. Rules and wording are the
 * source's; the code is ours.
 *
 * Design choices:
 * - Pure and exhaustive: every problem is returned, in the order the Go code appends them
 *   (metadata, podSelector, ingress rules (ports, then peers), egress rules, policyTypes).
 *   Identical path+message pairs are reported once, as the API server's aggregated error message does.
 * - Defaulting happens before validation on the server: an absent `protocol` becomes TCP and an
 *   absent or empty `policyTypes` becomes [Ingress] (+ Egress when egress rules exist). Defaults are
 *   always valid, so absent values are simply not checked.
 * - CIDRs are checked as a default API server checks them: the StrictIPCIDRValidation feature gate is
 *   alpha and off by default (pkg/features/kube_features.go), so leading zeros, IPv4-mapped IPv6 and
 *   bits set past the prefix length are accepted, and come back as the warnings the registry strategy
 *   adds for every ipBlock cidr and except (severity 'warning', code NonStandardCIDR, see cidr.ts).
 *   `strictIPCIDR: true` reproduces a cluster with the gate enabled: those values become errors.
 *   Nothing is ratcheted: this is a create, not an update of an old object.
 * - The API server returns warnings only when it accepts the whole object; we report them per value,
 *   for every value that has no error of its own, so a rejected policy still shows them.
 */

import type { Diagnostic } from '../diag/index.js';
import { cidrContains, parseCIDRSloppy } from '../ip/index.js';
import type { IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec } from '../model/index.js';
import { cidrWarnings, validateCIDRValue } from './cidr.js';
import { child, forbidden, goQuote, index, invalid, notSupported, required } from './field.js';
import { validateObjectMeta } from './meta.js';
import { validateModeAnnotation } from './mode.js';
import { isValidPortName, isValidPortNum, nameIsDNSSubdomain } from './names.js';
import { validateLabelSelector } from './selector.js';

export interface ValidateOptions {
  /**
   * The StrictIPCIDRValidation feature gate (alpha, off by default). Off: non-standard ipBlock CIDRs are
   * accepted with NonStandardCIDR warnings; on: they are errors. Default false.
   */
  readonly strictIPCIDR?: boolean;
}

const SUPPORTED_PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
const SUPPORTED_POLICY_TYPES = ['Ingress', 'Egress'] as const;

/** ValidateNetworkPolicyName: a DNS-1123 subdomain. */
export function validateNetworkPolicyName(name: string, prefix: boolean): string[] {
  return nameIsDNSSubdomain(name, prefix);
}

/** ValidateNetworkPolicyPort. */
export function validateNetworkPolicyPort(port: NetworkPolicyPort, path: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  // "protocol represents the protocol (TCP, UDP, or SCTP) which traffic must match. If not specified,
  // this field defaults to TCP." (Defaulted on the server, so only an explicit value is checked.)
  if (port.protocol !== undefined && !(SUPPORTED_PROTOCOLS as readonly string[]).includes(port.protocol)) {
    out.push(notSupported(child(path, 'protocol'), port.protocol, SUPPORTED_PROTOCOLS));
  }
  const portPath = child(path, 'port');
  const endPortPath = child(path, 'endPort');
  if (port.port !== undefined) {
    if (typeof port.port === 'number') {
      const p = port.port;
      out.push(...isValidPortNum(p).map((msg) => invalid(portPath, p, msg)));
      if (port.endPort !== undefined) {
        // "endPort indicates that the range of ports from port to endPort if set, inclusive, should be
        // allowed by the policy. This field cannot be defined if the port field is not defined or if the
        // port field is defined as a named (string) port. The endPort must be equal or greater than port."
        const end = port.endPort;
        if (end < p) out.push(invalid(endPortPath, end, 'must be greater than or equal to `port`'));
        out.push(...isValidPortNum(end).map((msg) => invalid(endPortPath, end, msg)));
      }
    } else {
      const name = port.port;
      if (port.endPort !== undefined) out.push(invalid(endPortPath, port.endPort, 'may not be specified when `port` is non-numeric'));
      out.push(...isValidPortName(name).map((msg) => invalid(portPath, name, msg)));
    }
  } else if (port.endPort !== undefined) {
    out.push(invalid(endPortPath, port.endPort, 'may not be specified when `port` is not specified'));
  }
  return out;
}

/** A value's errors, then (when it has none) its GetWarningsForCIDR warnings. */
function withWarnings(errors: Diagnostic[], value: string, path: string): Diagnostic[] {
  return errors.length > 0 ? errors : cidrWarnings(value, path);
}

/**
 * ValidateIPBlock, plus the registry strategy's warnings for the same values: each cidr/except is
 * followed by its warnings when it has no error (a rejected value needs no second message).
 */
export function validateIPBlock(block: IPBlock, path: string, opts: ValidateOptions = {}): Diagnostic[] {
  const strict = opts.strictIPCIDR ?? false;
  const cidrPath = child(path, 'cidr');
  const cidr = block.cidr ?? '';
  // "cidr is a string representing the IPBlock. Valid examples are "192.168.1.0/24" or "2001:db8::/64""
  if (cidr === '') return [required(cidrPath)];
  const out = withWarnings(validateCIDRValue(cidr, cidrPath, strict), cidr, cidrPath);
  const outer = parseCIDRSloppy(cidr);
  // Nothing more to say when cidr does not parse: it has been reported already.
  if (outer === undefined) return out;
  (block.except ?? []).forEach((text, i) => {
    const exceptPath = index(child(path, 'except'), i);
    const errors = validateCIDRValue(text, exceptPath, strict);
    const inner = parseCIDRSloppy(text);
    // "except is a slice of CIDRs that should not be included within an IPBlock ... Except values will
    // be rejected if they are outside the cidr range". The check is Go's: the except network address
    // (host bits cleared, so `172.17.0.1/24` counts as 172.17.0.0/24) lies in cidr and its mask is
    // strictly longer (mask lengths as written, like Go's Mask.Size()).
    if (inner !== undefined) {
      const exceptNetwork = { family: inner.network.family, value: inner.network.base };
      if (!cidrContains(outer.network, exceptNetwork) || outer.maskBits >= inner.maskBits) {
        errors.push(invalid(exceptPath, text, 'must be a strict subset of `cidr`'));
      }
    }
    out.push(...withWarnings(errors, text, exceptPath));
  });
  return out;
}

/** ValidateNetworkPolicyPeer. */
export function validateNetworkPolicyPeer(peer: NetworkPolicyPeer, path: string, opts: ValidateOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  let peers = 0;
  if (peer.podSelector !== undefined && peer.podSelector !== null) {
    peers++;
    out.push(...validateLabelSelector(peer.podSelector, child(path, 'podSelector')));
  }
  if (peer.namespaceSelector !== undefined && peer.namespaceSelector !== null) {
    peers++;
    out.push(...validateLabelSelector(peer.namespaceSelector, child(path, 'namespaceSelector')));
  }
  const hasIPBlock = peer.ipBlock !== undefined && peer.ipBlock !== null;
  if (hasIPBlock) {
    peers++;
    out.push(...validateIPBlock(peer.ipBlock as IPBlock, child(path, 'ipBlock'), opts));
  }
  // "If this field is set then neither of the other fields can be." (ipBlock); podSelector and
  // namespaceSelector together are allowed (they AND).
  if (peers === 0) out.push(required(path, 'must specify a peer'));
  else if (peers > 1 && hasIPBlock) out.push(forbidden(path, 'may not specify both ipBlock and another peer'));
  return out;
}

function validateRule(
  rule: NetworkPolicyIngressRule | NetworkPolicyEgressRule,
  peers: readonly NetworkPolicyPeer[] | undefined,
  peerField: 'from' | 'to',
  path: string,
  opts: ValidateOptions,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  (rule.ports ?? []).forEach((port, i) => out.push(...validateNetworkPolicyPort(port, index(child(path, 'ports'), i))));
  (peers ?? []).forEach((peer, i) => out.push(...validateNetworkPolicyPeer(peer, index(child(path, peerField), i), opts)));
  return out;
}

/** ValidateNetworkPolicySpec. */
export function validateNetworkPolicySpec(spec: NetworkPolicySpec | undefined, path = 'spec', opts: ValidateOptions = {}): Diagnostic[] {
  const s: Partial<NetworkPolicySpec> = spec ?? {};
  const out = validateLabelSelector(s.podSelector, child(path, 'podSelector'));
  (s.ingress ?? []).forEach((rule, i) => {
    out.push(...validateRule(rule, rule.from, 'from', index(child(path, 'ingress'), i), opts));
  });
  (s.egress ?? []).forEach((rule, i) => {
    out.push(...validateRule(rule, rule.to, 'to', index(child(path, 'egress'), i), opts));
  });

  // "Valid options are ["Ingress"], ["Egress"], or ["Ingress", "Egress"]." Duplicates are not checked.
  const types = s.policyTypes ?? [];
  const typesPath = child(path, 'policyTypes');
  if (types.length > SUPPORTED_POLICY_TYPES.length) {
    // Go prints the whole slice with %#v.
    const goSyntax = `[]networking.PolicyType{${types.map((t) => goQuote(String(t))).join(', ')}}`;
    out.push(invalid(typesPath, { goSyntax }, 'may not specify more than two policyTypes'));
    return out;
  }
  types.forEach((t, i) => {
    if (!(SUPPORTED_POLICY_TYPES as readonly string[]).includes(t)) {
      out.push(notSupported(index(typesPath, i), String(t), SUPPORTED_POLICY_TYPES));
    }
  });
  return out;
}

/** Drops repeated path+message pairs, keeping the first (the API server's aggregate does the same). */
function dedupe(list: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return list.filter((d) => {
    const key = `${d.path ?? ''}\u0000${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Pure. Returns every problem the API server would report when this NetworkPolicy is created: errors
 * with severity 'error', code = the field ErrorType name, path in Kubernetes notation and the message
 * `field.Error.Error()` prints after "path: "; and the ipBlock CIDR warnings (severity 'warning', code
 * NonStandardCIDR, message = the Go warning after "path: "), next to the value they concern.
 */
export function validateNetworkPolicy(policy: NetworkPolicy, opts: ValidateOptions = {}): Diagnostic[] {
  return dedupe([
    ...validateObjectMeta(policy.metadata, validateNetworkPolicyName, 'metadata'),
    ...validateModeAnnotation(policy.metadata.annotations),
    ...validateNetworkPolicySpec(policy.spec, 'spec', opts),
  ]);
}
