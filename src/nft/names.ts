/**
 * Names of chains and sets, comments and log prefixes, within what nft accepts.
 *
 * Design choice: names are readable and derived from what does not change when pods come and go (the
 * direction and the policies), so a pod or label change only touches set and map elements, and a log line
 * or counter leads straight to the policies. nft identifiers are `[a-zA-Z_.][a-zA-Z0-9_./-]*` and at most
 * 255 bytes; Kubernetes names use `[a-z0-9.-]`, so `_` separates the parts unambiguously. Names that would
 * be too long, or that needed a character replaced, get a 64-bit FNV-1a hash of the full text instead of
 * their tail, which keeps them distinct.
 */
import type { Direction } from '../policy/index.js';
import type { Family } from '../ip/index.js';
import type { L4Protocol } from './ir.js';

/** Longest name we produce (nft allows 255). */
export const MAX_NAME = 200;
/** nft: "comment too long, 128 characters maximum allowed". */
export const MAX_COMMENT = 128;
/** The kernel's log prefix holds 127 characters. */
export const MAX_LOG_PREFIX = 127;

export function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i) & 0xffff);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

/** `text` as an nft identifier: invalid characters replaced, too long shortened; both get a hash suffix. */
export function identifier(text: string): string {
  let clean = text.replace(/[^a-zA-Z0-9_./-]/g, '-');
  if (!/^[a-zA-Z_.]/.test(clean)) clean = `_${clean}`;
  if (clean === text && clean.length <= MAX_NAME) return clean;
  const suffix = `_h${fnv1a64(text)}`;
  return clean.slice(0, MAX_NAME - suffix.length) + suffix;
}

/** Printable ASCII without quotes or backslashes, at most `max` characters. */
export function quotable(text: string, max: number): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, "'");
  return clean.length <= max ? clean : `${clean.slice(0, max - 3)}...`;
}

/** The subject chain shared by every local pod that exactly these policies (sorted keys) isolate. */
export function subjectChainName(direction: Direction, policyKeys: readonly string[]): string {
  return identifier(`${direction}_${policyKeys.join('_')}`);
}

/**
 * The chain of NetworkPolicies in a cluster policy's audit view (tiers.ts): every policy isolating the
 * subject, staged or not, then the audit tail. With a staged policy among them no enforced chain holds
 * exactly these policies, so the subject chain name is free; enforced policies only take an `audit` part.
 */
export function auditViewChainName(direction: Direction, policies: readonly { readonly key: string; readonly mode: string }[]): string {
  const keys = policies.map((p) => p.key);
  return policies.some((p) => p.mode === 'audit') ? subjectChainName(direction, keys) : identifier(`${direction}_audit_${keys.join('_')}`);
}

/** The peers of one rule (one address family): `peers_ns/name_ingress0_v4`. */
export function peerSetName(policyKey: string, direction: Direction, ruleIndex: number, family: Family): string {
  return identifier(`peers_${policyKey}_${direction}${ruleIndex}_v${family}`);
}

/** The ipBlocks of one rule (one address family), `cidr` minus `except`: `blocks_ns/name_ingress0_v4`. */
export function blockSetName(policyKey: string, direction: Direction, ruleIndex: number, family: Family): string {
  return identifier(`blocks_${policyKey}_${direction}${ruleIndex}_v${family}`);
}

/** Destination address and number of a port name: `port_tcp_http_v4`. */
export function namedPortSetName(protocol: L4Protocol, name: string, family: Family): string {
  return identifier(`port_${protocol}_${name}_v${family}`);
}

export function dispatchMapName(direction: Direction, family: Family): string {
  return `${direction}_v${family}`;
}

/** `ns/name ingress[0]`, as the policy and rule appear in `check` output. */
export function ruleComment(policyKey: string, direction: Direction, ruleIndex: number): string {
  const tail = ` ${direction}[${ruleIndex}]`;
  return quotable(policyKey, MAX_COMMENT - tail.length) + tail;
}

/** What a log line reports: a packet dropped (`deny`), or one accepted that audit-mode policies would drop (`audit`). */
export type LogAction = 'deny' | 'audit';

/**
 * The log prefix of a subject chain's deny or audit tail: `netpol deny <chain>: ` or `netpol audit <chain>: `.
 * The drop log reader parses these; the chain name leads to the policies (see `subjectChainName`).
 */
export function logPrefix(action: LogAction, chain: string): string {
  return `${quotable(`netpol ${action} ${chain}`, MAX_LOG_PREFIX - 2)}: `;
}

/**
 * What a cluster-scoped policy's Deny rule logs in place of a chain (its rules sit in chains shared by
 * many subjects): `<direction>_rule_<Kind>/<name>[<index>]`, one word, so `logPrefix` carries it and the
 * drop log reader (`parseTierRuleLogName`) attributes the drop to that policy and rule.
 */
export function tierRuleLogName(kind: string, name: string, direction: Direction, index: number): string {
  return `${direction}_rule_${kind}/${name}[${index}]`;
}

const TIER_RULE_LOG_NAME = /^(ingress|egress)_rule_([A-Za-z]+)\/([a-z0-9.-]+)\[(\d+)\]$/;

/** The policy and rule a `tierRuleLogName` names; undefined for anything else (a subject chain). */
export function parseTierRuleLogName(text: string): { direction: Direction; policy: string; index: number } | undefined {
  const m = TIER_RULE_LOG_NAME.exec(text);
  return m ? { direction: m[1] as Direction, policy: `${m[2]}/${m[3]}`, index: Number(m[4]) } : undefined;
}
