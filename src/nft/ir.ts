/**
 * The nftables ruleset as a typed intermediate representation: what the compiler produces, the renderer
 * prints, the diff compares, the JSON reader rebuilds from the kernel and the interpreter runs.
 *
 * Design choice: the IR models only the small nftables vocabulary netpol emits (set lookups, a protocol
 * match, destination-port ranges, address-and-port lookups, conntrack state, verdict maps, counter, log,
 * drop/reject/return), each as a structured value rather than text, so the interpreter can evaluate it
 * without a kernel and the JSON reader can rebuild exactly what the compiler would have produced.
 * Anything else found in the kernel becomes an `unknown` match, which never equals a compiled rule (so a
 * diff replaces its chain) and never matches in the interpreter.
 */
import type { Family } from '../ip/index.js';
import type { PortRange } from '../policy/index.js';

export type { Family };

/** Transport protocols netpol matches; `icmpv6` only appears in the neighbour-discovery exemption. */
export type L4Protocol = 'tcp' | 'udp' | 'sctp';

export type CtState = 'invalid' | 'established' | 'related' | 'new' | 'untracked';
/** nftables prints conntrack states in bit order; the IR keeps them in this order. */
export const CT_STATE_ORDER: readonly CtState[] = ['invalid', 'established', 'related', 'new', 'untracked'];

/** `saddr` or `daddr` of the IPv4 (`ip`) or IPv6 (`ip6`) header. */
export type AddressField = 'saddr' | 'daddr';

export type Match =
  /** `ct state established,related` */
  | { readonly kind: 'ct-state'; readonly states: readonly CtState[] }
  /** `ip saddr @set` / `ip6 daddr @set` (implies the address family). */
  | { readonly kind: 'address'; readonly family: Family; readonly field: AddressField; readonly set: string }
  /** `meta l4proto tcp` */
  | { readonly kind: 'l4proto'; readonly protocol: L4Protocol }
  /** `th dport { 80, 8000-9000 }`; always right after an `l4proto` match. Ranges sorted and disjoint. */
  | { readonly kind: 'dport'; readonly ranges: readonly PortRange[] }
  /** `ip daddr . th dport @set`: named ports resolved per destination pod; right after an `l4proto` match. */
  | { readonly kind: 'daddr-dport'; readonly family: Family; readonly set: string }
  /** `icmpv6 type { nd-router-solicit, ... }` (implies IPv6 and ICMPv6). Type names in numeric order. */
  | { readonly kind: 'icmpv6-type'; readonly types: readonly string[] }
  /** Something the JSON reader did not recognise: never equal to a compiled match, never matches. */
  | { readonly kind: 'unknown'; readonly json: string };

export type Verdict =
  | { readonly kind: 'accept' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'return' }
  | { readonly kind: 'jump'; readonly chain: string }
  /** `goto chain`: like `jump`, but the end of (or `return` from) the target returns to the caller's caller. */
  | { readonly kind: 'goto'; readonly chain: string }
  | { readonly kind: 'reject'; readonly with: 'tcp-reset' | 'icmpx-admin-prohibited' }
  /** `ip saddr vmap @egress_v4`: jump to the chain the map holds for the address, or fall through. */
  | { readonly kind: 'vmap'; readonly family: Family; readonly field: AddressField; readonly map: string };

export interface Limit {
  readonly rate: number;
  readonly per: 'second' | 'minute';
  readonly burst: number;
}

/**
 * One rule: matches (all must hold), then statements in this fixed order: counter, limit, log, verdict.
 * A rule with a `limit` never carries a verdict (the limit would also gate the verdict).
 */
export interface Rule {
  readonly matches: readonly Match[];
  readonly counter?: boolean;
  readonly limit?: Limit;
  readonly log?: { readonly prefix: string };
  readonly verdict?: Verdict;
  readonly comment?: string;
}

export type Hook = 'forward' | 'input';

export interface BaseChainSpec {
  readonly type: 'filter';
  readonly hook: Hook;
  /** 0 is nftables' `filter` priority. */
  readonly priority: number;
  readonly policy: 'accept' | 'drop';
}

export interface Chain {
  readonly name: string;
  /** Present for base chains (attached to a hook). */
  readonly base?: BaseChainSpec;
  /** Shown by `nft list`; not part of the comparison (nft's JSON output omits chain comments). */
  readonly comment?: string;
  readonly rules: readonly Rule[];
}

export type SetKeyType = 'ipv4_addr' | 'ipv6_addr' | 'ipv4_addr . inet_service' | 'ipv6_addr . inet_service';

export interface NamedSet {
  readonly name: string;
  readonly type: SetKeyType;
  /** `flags interval`: elements may be prefixes (`10.0.0.0/8`). */
  readonly interval: boolean;
  readonly comment?: string;
  /**
   * Canonical element texts, sorted: an address (`10.0.0.1`, `fd00::1`), a prefix (`10.0.0.0/8`, only in
   * interval sets), a range (`10.0.0.1-10.0.0.9`, only read back from a kernel) or `address . port`.
   */
  readonly elements: readonly string[];
}

export interface VerdictMap {
  readonly name: string;
  readonly type: 'ipv4_addr' | 'ipv6_addr';
  /** Canonical address -> chain to jump to; sorted by address. */
  readonly elements: readonly (readonly [address: string, chain: string])[];
}

/** What the compiler could not enforce on this node, so the agent can say so. */
export interface CompileNotes {
  readonly node: string;
  /** Pods whose `spec.nodeName` is this node. */
  readonly localPods: number;
  /** Local pods with at least one address in a dispatch map (isolated in some direction). */
  readonly isolatedPods: number;
  /** Local pods without an IP (`ns/name`): nothing to key the dispatch maps on, so never enforced. */
  readonly withoutIP: readonly string[];
  /** Local host-network pods (`ns/name`): their traffic is the node's own and is not enforced. */
  readonly hostNetwork: readonly string[];
  /** Pods of the cluster with no `spec.nodeName`: no node enforces their side of a connection. */
  readonly unscheduled: number;
  /** Addresses claimed by several pods (`ip: ns/a, ns/b`): the first pod (by namespace/name) keys the maps. */
  readonly sharedIPs: readonly string[];
  /** Each subject chain's direction and isolating policies (keys, sorted): how a drop log line is attributed. */
  readonly subjectChains: Readonly<Record<string, { readonly direction: 'ingress' | 'egress'; readonly policies: readonly string[] }>>;
  /**
   * Cluster policy rules with `domainNames` peers that apply to local pods (`Kind/name egress[i]`): not
   * enforced (no DNS tracking); those peers match no traffic, so the rules after them decide.
   */
  readonly domainNames?: readonly string[];
}

export interface Ruleset {
  readonly family: 'inet';
  readonly table: string;
  /** Shown by `nft list` only. */
  readonly comment?: string;
  /** Sorted by name. */
  readonly sets: readonly NamedSet[];
  /** Sorted by name. */
  readonly maps: readonly VerdictMap[];
  /** Base chains first (forward, input), then subject chains sorted by name. */
  readonly chains: readonly Chain[];
  /** Present on compiled rulesets; absent on rulesets read back from a kernel. */
  readonly notes?: CompileNotes;
}
