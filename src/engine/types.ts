/**
 * What the engine answers, as data. Text, JSON, the page of `netpol serve` and nftables comments are renderings of these
 * structures; nothing here is prose except short selector texts for display.
 */
import type { IP } from '../ip/index.js';
import type { Labels, PodInfo, Protocol, WorkloadRef } from '../model/index.js';
import type { Action, ClusterPolicyRef, Tier, Direction, PolicyRef, PortRange } from '../policy/index.js';

/**
 * An end of a connection: a pod of the cluster, an address outside it, or a name outside it (a DNS name
 * as cluster policies' `domainNames` peers name it; its addresses are unknown to analysis).
 */
export type Endpoint = { readonly kind: 'pod'; readonly pod: PodInfo } | { readonly kind: 'external'; readonly ip: IP; readonly text: string } | { readonly kind: 'domain'; readonly name: string };

export interface Traffic {
  readonly source: Endpoint;
  readonly destination: Endpoint;
  readonly protocol: Protocol;
  /** A number, a named port (resolved against the destination pod), or undefined for "any port". */
  readonly port?: number | string;
}

export interface NamespaceCheck {
  /** `own`: podSelector alone selects in the policy's namespace; `selector`: namespaceSelector. */
  readonly scope: 'own' | 'selector';
  /** The policy's namespace, or the namespaceSelector text. */
  readonly expected: string;
  /** The peer pod's namespace. */
  readonly actual: string;
  readonly matched: boolean;
  /** Requirements of the namespaceSelector that the namespace's labels fail. */
  readonly unmet: readonly string[];
  /** The namespace's labels (with a `selector` scope). */
  readonly labels?: Labels;
}

export interface PodCheck {
  /** podSelector text; `undefined` podSelector (namespaceSelector alone) never produces a PodCheck. */
  readonly selector: string;
  readonly matched: boolean;
  readonly unmet: readonly string[];
  /** The peer pod's labels. */
  readonly labels: Labels;
}

export interface IPBlockCheck {
  readonly cidr: string;
  readonly except: readonly string[];
  /** The endpoint's addresses that were tested. */
  readonly addresses: readonly string[];
  readonly inCidr: boolean;
  /** The except entry that excludes the address, if that is why it did not match. */
  readonly excludedBy?: string;
  readonly matched: boolean;
}

export interface PeerResult {
  readonly index: number;
  readonly kind: 'pods' | 'ipBlock';
  readonly matched: boolean;
  readonly namespace?: NamespaceCheck;
  readonly pod?: PodCheck;
  readonly ipBlock?: IPBlockCheck;
  /**
   * Set when the peer cannot match this kind of endpoint: a pod selector against an external address, or
   * an ipBlock against a domain name (whose addresses analysis does not know).
   */
  readonly mismatch?: 'external-endpoint' | 'unknown-address';
}

export interface PortResult {
  readonly index: number;
  readonly protocol: Protocol;
  /** `80`, `8000-8080`, a port name, or `*` for "every port of the protocol". */
  readonly port: string;
  /** What a named port resolved to on the destination pod (absent when it did not resolve). */
  readonly resolvedTo?: number;
  /** Ports of the question's protocol this entry admits on this destination. */
  readonly admits: readonly PortRange[];
}

export interface RuleResult {
  readonly direction: Direction;
  readonly index: number;
  /** `all`: the rule has no from/to and matches every peer. */
  readonly peers: 'all' | readonly PeerResult[];
  readonly peerMatched: boolean;
  /** `all`: the rule has no ports and matches every port and protocol. */
  readonly ports: 'all' | readonly PortResult[];
  /** Ports (of the question's protocol) the rule admits for this destination, before the question's port is applied. */
  readonly admits: readonly PortRange[];
  /** The rule admits the traffic: its peer matched and it admits the asked port(s). */
  readonly matched: boolean;
}

export interface PolicyResult {
  readonly policy: PolicyRef;
  readonly policyTypes: readonly Direction[];
  /** policyTypes was absent and derived from the rules. */
  readonly policyTypesDefaulted: boolean;
  /** Present for a policy in audit mode (only an engine that counts them lists it: `includeAudit`). */
  readonly mode?: 'audit';
  readonly rules: readonly RuleResult[];
  /** Some rule of this policy admits the traffic. */
  readonly allows: boolean;
}

// --- cluster-scoped policies (tiers) ------------------------------------------------------------------

/** Who decided some ports of one side: a cluster policy's rule, NetworkPolicy, or the default (allow). */
export type TierDecider =
  | {
      readonly tier: Tier;
      readonly policy: ClusterPolicyRef;
      readonly priority: number;
      readonly rule: number;
      readonly ruleName?: string;
      readonly action: Action;
      /** The rule has a peer of no known kind and fails closed ("treat the rule as a 'Deny all' rule"). */
      readonly failClosed?: true;
      /** Present for a staged policy (only a view with audit-mode policies includes it). */
      readonly mode?: 'audit';
    }
  | { readonly tier: 'networkpolicy' }
  | { readonly tier: 'default' };

export interface PortDecision {
  /** The ports (of the question's protocol, within what was asked) this decider decided; empty for an unnamed port question. */
  readonly ports: readonly PortRange[];
  readonly allowed: boolean;
  readonly by: TierDecider;
}

export interface ClusterPeerResult {
  readonly index: number;
  readonly kind: 'namespaces' | 'pods' | 'networks' | 'nodes' | 'domainNames' | 'unknown';
  readonly matched: boolean;
  /** What the peer selects, as text (`{}`, `app=db in ns: team=a`, `10.0.0.0/8`, `*.example.com`). */
  readonly text: string;
  /** Requirements the endpoint (or its namespace) fails; `host-network` when a pod peer meets a host-network pod. */
  readonly unmet?: readonly string[];
}

export interface ClusterRuleResult {
  readonly direction: Direction;
  readonly index: number;
  readonly name?: string;
  readonly action: Action;
  readonly peers: readonly ClusterPeerResult[];
  readonly peerMatched: boolean;
  /** `all`: the rule does not filter by port; else each entry as text (`TCP/80`, `UDP/1-100`, `web`). */
  readonly ports: 'all' | readonly string[];
  /** Ports of the question's protocol the rule matches for this destination (when its peer matched). */
  readonly admits: readonly PortRange[];
  readonly failClosed?: true;
}

export interface ClusterPolicyResult {
  readonly policy: ClusterPolicyRef;
  readonly tier: Tier;
  readonly priority: number;
  /** Present for a staged policy (only a view with audit-mode policies includes it). */
  readonly mode?: 'audit';
  readonly rules: readonly ClusterRuleResult[];
}

/** The tiers of one side: the cluster policies selecting the subject, and who decided which ports. */
export interface TierResult {
  /** Admin tier policies selecting the subject for this direction, in evaluation order. */
  readonly admin: readonly ClusterPolicyResult[];
  /** Baseline tier policies selecting the subject for this direction, in evaluation order. */
  readonly baseline: readonly ClusterPolicyResult[];
  /** Final decisions in evaluation order; together they cover what was asked. */
  readonly decisions: readonly PortDecision[];
  /** Pass rules that handed ports (`allowed` is false: undecided) on to the next tier. */
  readonly passes: readonly PortDecision[];
}

export interface SideResult {
  readonly direction: Direction;
  /** `ns/pod` or the address: the subject of this side (source for egress, destination for ingress). */
  readonly subject: string;
  /** False when the subject is not a pod of the cluster: NetworkPolicy has nothing to say on this side. */
  readonly enforced: boolean;
  /** Some policy selects the subject with this direction in its effective policyTypes. */
  readonly isolated: boolean;
  /** The policies that isolate the subject for this direction, each with its rules tried. */
  readonly policies: readonly PolicyResult[];
  /** Ports of the question's protocol this side admits towards the other end. */
  readonly admits: readonly PortRange[];
  readonly allowed: boolean;
  /**
   * Present when the cluster has cluster-scoped policies: the tiers' evaluation. Then `admits` and
   * `allowed` are the tiers' answer (NetworkPolicy decides only what reached its tier), and `policies`
   * still lists the NetworkPolicies selecting the subject.
   */
  readonly tiers?: TierResult;
}

export type VerdictReason = 'self' | 'not-isolated' | 'allowed-by-policy' | 'denied-by-egress' | 'denied-by-ingress' | 'denied-by-both' | 'outside-cluster';

export interface Verdict {
  readonly allowed: boolean;
  readonly reason: VerdictReason;
  readonly from: string;
  readonly to: string;
  /** Set when an end is a workload's pod template, standing for all its replicas. */
  readonly fromWorkload?: WorkloadRef;
  readonly toWorkload?: WorkloadRef;
  readonly protocol: Protocol;
  /** The asked port (number or name) or null for any port. */
  readonly port: number | string | null;
  /** The number a named port resolved to on the destination pod. */
  readonly resolvedPort?: number;
  /** A named port that the destination does not define (only rules admitting every port can match). */
  readonly unresolvedPortName?: string;
  /** Ports (of the protocol) on which the connection is allowed, within what was asked. */
  readonly allowedPorts: readonly PortRange[];
  readonly egress: SideResult;
  readonly ingress: SideResult;
}
