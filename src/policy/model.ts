/**
 * The normalised policy model: one structure that every consumer (engine, explanations, nftables
 * compiler, UI) reads, so they cannot disagree. Normalisation resolves everything that does not depend
 * on the traffic: effective policyTypes, "absent or empty means all" for peers and ports, the protocol
 * default, selector compilation, ipBlock `cidr` minus `except` as an address set. What depends on the
 * traffic (named ports, which resolve against the destination pod) stays symbolic.
 *
 * Input policies must have passed validation; normalising an invalid policy is not meaningful.
 */
import { AddressSet, parseCIDR } from '../ip/index.js';
import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from '../model/k8s.js';
import type { PolicyInfo, Protocol } from '../model/cluster.js';
import { compileSelector, type Selector } from '../selector/index.js';
import type { ObjectSource } from '../diag/diagnostic.js';

export type Direction = 'ingress' | 'egress';

export interface PolicyRef {
  readonly namespace: string;
  readonly name: string;
}

/** Which namespaces a pod peer draws from. */
export type NamespaceScope =
  /** "If namespaceSelector is not present, the podSelector selects pods in the policy's own namespace." */
  | { readonly kind: 'own'; readonly namespace: string }
  | { readonly kind: 'selector'; readonly selector: Selector };

export type Peer =
  | {
      readonly kind: 'pods';
      /** Position in the rule's `from`/`to` list. */
      readonly index: number;
      readonly namespaces: NamespaceScope;
      /** Undefined when only namespaceSelector is given: every pod of the selected namespaces. */
      readonly pods: Selector | undefined;
    }
  | {
      readonly kind: 'ipBlock';
      readonly index: number;
      readonly cidr: string;
      readonly except: readonly string[];
      /** `cidr` minus every `except`. */
      readonly addresses: AddressSet;
    };

export type PortMatch =
  | { readonly kind: 'all' }
  | { readonly kind: 'range'; readonly from: number; readonly to: number }
  /** Resolved against the destination pod's container ports (name and protocol). */
  | { readonly kind: 'named'; readonly name: string };

export interface PortSpec {
  /** Position in the rule's `ports` list. */
  readonly index: number;
  /** "The protocol (TCP, UDP, or SCTP) which traffic must match. If not specified, this field defaults to TCP." */
  readonly protocol: Protocol;
  readonly port: PortMatch;
}

export interface Rule {
  readonly direction: Direction;
  /** Position in `spec.ingress` / `spec.egress`. */
  readonly index: number;
  /** Undefined = the rule's from/to is empty or absent: "this rule matches all sources/destinations". */
  readonly peers: readonly Peer[] | undefined;
  /** Undefined = ports empty or absent: "this rule matches all ports". */
  readonly ports: readonly PortSpec[] | undefined;
}

export interface Policy {
  readonly ref: PolicyRef;
  /** `ns/name`. */
  readonly key: string;
  /** Selects subjects in `ref.namespace` only. */
  readonly subject: Selector;
  /** Effective policy types. */
  readonly ingress: boolean;
  readonly egress: boolean;
  /** True when policyTypes was absent and derived from the rules. */
  readonly policyTypesDefaulted: boolean;
  readonly ingressRules: readonly Rule[];
  readonly egressRules: readonly Rule[];
  readonly source?: ObjectSource;
}

export function rulesOf(p: Policy, d: Direction): readonly Rule[] {
  return d === 'ingress' ? p.ingressRules : p.egressRules;
}

export function affects(p: Policy, d: Direction): boolean {
  return d === 'ingress' ? p.ingress : p.egress;
}

/**
 * Effective policyTypes. From the API reference: "If this field is not specified, it will default
 * based on the existence of ingress or egress rules; policies that contain an egress section are assumed
 * to affect egress, and all policies (whether or not they contain an ingress section) are assumed to
 * affect ingress."
 */
export function effectivePolicyTypes(np: NetworkPolicy): { ingress: boolean; egress: boolean; defaulted: boolean } {
  const types = np.spec.policyTypes;
  if (types !== undefined && types.length > 0) {
    return { ingress: types.includes('Ingress'), egress: types.includes('Egress'), defaulted: false };
  }
  return { ingress: true, egress: (np.spec.egress?.length ?? 0) > 0, defaulted: true };
}

function normalizePeer(p: NetworkPolicyPeer, index: number, ownNamespace: string): Peer {
  if (p.ipBlock) {
    let addresses = AddressSet.empty();
    const cidr = parseCIDR(p.ipBlock.cidr);
    if (cidr) addresses = AddressSet.fromCIDR(cidr);
    for (const e of p.ipBlock.except ?? []) {
      const ex = parseCIDR(e);
      if (ex) addresses = addresses.subtract(AddressSet.fromCIDR(ex));
    }
    return { kind: 'ipBlock', index, cidr: p.ipBlock.cidr, except: [...(p.ipBlock.except ?? [])], addresses };
  }
  const namespaces: NamespaceScope = p.namespaceSelector
    ? { kind: 'selector', selector: compileSelector(p.namespaceSelector) }
    : { kind: 'own', namespace: ownNamespace };
  return { kind: 'pods', index, namespaces, pods: p.podSelector ? compileSelector(p.podSelector) : undefined };
}

function normalizePort(p: NetworkPolicyPort, index: number): PortSpec {
  const protocol = (p.protocol ?? 'TCP') as Protocol;
  let port: PortMatch;
  if (p.port === undefined) port = { kind: 'all' };
  else if (typeof p.port === 'string') port = { kind: 'named', name: p.port };
  else port = { kind: 'range', from: p.port, to: p.endPort ?? p.port };
  return { index, protocol, port };
}

function normalizeRule(
  direction: Direction,
  index: number,
  peers: readonly NetworkPolicyPeer[] | undefined,
  ports: readonly NetworkPolicyPort[] | undefined,
  ownNamespace: string,
): Rule {
  return {
    direction,
    index,
    peers: peers && peers.length > 0 ? peers.map((p, i) => normalizePeer(p, i, ownNamespace)) : undefined,
    ports: ports && ports.length > 0 ? ports.map((p, i) => normalizePort(p, i)) : undefined,
  };
}

export function normalizePolicy(info: PolicyInfo): Policy {
  const np = info.policy;
  const types = effectivePolicyTypes(np);
  const ns = info.namespace;
  return {
    ref: { namespace: ns, name: info.name },
    key: `${ns}/${info.name}`,
    subject: compileSelector(np.spec.podSelector),
    ingress: types.ingress,
    egress: types.egress,
    policyTypesDefaulted: types.defaulted,
    ingressRules: (np.spec.ingress ?? []).map((r, i) => normalizeRule('ingress', i, r.from, r.ports, ns)),
    egressRules: (np.spec.egress ?? []).map((r, i) => normalizeRule('egress', i, r.to, r.ports, ns)),
    ...(info.source ? { source: info.source } : {}),
  };
}
