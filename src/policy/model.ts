/**
 * The normalised policy model: one structure that every consumer (engine, explanations, nftables
 * compiler, UI) reads, so they cannot disagree. Normalisation resolves everything that does not depend
 * on the traffic: effective policyTypes, "absent or empty means all" for peers and ports, the protocol
 * default, selector compilation, ipBlock `cidr` minus `except` as an address set. What depends on the
 * traffic (named ports, which resolve against the destination pod) stays symbolic.
 *
 * Input policies must have passed validation; normalising an invalid policy is not meaningful.
 *
 * Many policies at once (`policyNormalizer`) share what is equal between them: each distinct selector
 * is compiled once, each distinct ipBlock's address set and each distinct `ports` list built once,
 * found through tries keyed by the strings that spell them. The results are immutable, so sharing
 * them changes nothing a consumer can see but the memory and time.
 */
import { AddressSet, parseCIDR } from '../ip/index.js';
import type { LabelSelector, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, PolicyInfo, Protocol } from '../model/index.js';
import { annotatedMode, type PolicyMode } from '../model/index.js';
import { compileSelector, type Selector } from '../selector/index.js';
import type { ObjectSource } from '../diag/index.js';

export type Direction = 'ingress' | 'egress';

export interface PolicyRef {
  readonly namespace: string;
  readonly name: string;
}

/** Which namespaces a pod peer draws from. */
export type NamespaceScope =
  /** "If namespaceSelector is not present, the podSelector selects pods in the policy's own namespace." */
  { readonly kind: 'own'; readonly namespace: string } | { readonly kind: 'selector'; readonly selector: Selector };

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
  /**
   * `audit` (annotation `netpol.dev/mode: audit`, or the agent's `--mode audit`): enforcement goes on as
   * if the policy did not exist, and what it would deny is reported. `enforce` otherwise. See mode.ts.
   */
  readonly mode: PolicyMode;
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

/**
 * A trie over the strings that spell a selector or an ipBlock, so that equal ones are found without
 * building a key: each step is a map lookup of a string the loader usually shares between objects
 * (its hash computed once). `sep` ends a list (the labels, one requirement's values).
 */
interface TrieNode<V> {
  next: Map<string | number, TrieNode<V>> | undefined;
  sep: TrieNode<V> | undefined;
  value: V | undefined;
}

function trieNode<V>(): TrieNode<V> {
  return { next: undefined, sep: undefined, value: undefined };
}

function child<V>(node: TrieNode<V>, token: string | number): TrieNode<V> {
  const next = (node.next ??= new Map());
  let n = next.get(token);
  if (n === undefined) next.set(token, (n = trieNode()));
  return n;
}

function sep<V>(node: TrieNode<V>): TrieNode<V> {
  return (node.sep ??= trieNode());
}

/**
 * Shared by the policies one normalizer reads (see `policyNormalizer`): compiled selectors, address
 * sets of ipBlocks (`cidr`, then each `except`), and normalised `ports` lists (protocol, port,
 * endPort of each). All are immutable, so sharing them is invisible.
 */
interface NormalizeCache {
  readonly selectors: TrieNode<Selector>;
  readonly blocks: TrieNode<AddressSet>;
  readonly ports: TrieNode<readonly PortSpec[]>;
}

function selectorOf(sel: LabelSelector | undefined, cache: NormalizeCache | undefined): Selector {
  if (!cache) return compileSelector(sel);
  // The path spells the selector exactly: label key and value pairs (own keys, in order), `sep`, then
  // per requirement its key, operator and values, `sep`.
  let node = cache.selectors;
  const labels = sel?.matchLabels;
  if (labels) {
    for (const k of Object.keys(labels)) node = child(child(node, k), labels[k] as string);
  }
  node = sep(node);
  for (const e of sel?.matchExpressions ?? []) {
    node = child(child(node, e.key), e.operator);
    for (const v of e.values ?? []) node = child(node, v);
    node = sep(node);
  }
  return (node.value ??= compileSelector(sel));
}

function blockAddresses(cidrText: string, except: readonly string[]): AddressSet {
  let addresses = AddressSet.empty();
  const cidr = parseCIDR(cidrText);
  if (cidr) addresses = AddressSet.fromCIDR(cidr);
  for (const e of except) {
    const ex = parseCIDR(e);
    if (ex) addresses = addresses.subtract(AddressSet.fromCIDR(ex));
  }
  return addresses;
}

function normalizePeer(p: NetworkPolicyPeer, index: number, ownNamespace: string, cache: NormalizeCache | undefined): Peer {
  if (p.ipBlock) {
    const except = p.ipBlock.except ?? [];
    let addresses: AddressSet | undefined;
    if (cache) {
      let node = child(cache.blocks, p.ipBlock.cidr);
      for (const e of except) node = child(node, e);
      addresses = node.value ??= blockAddresses(p.ipBlock.cidr, except);
    } else {
      addresses = blockAddresses(p.ipBlock.cidr, except);
    }
    return { kind: 'ipBlock', index, cidr: p.ipBlock.cidr, except: [...except], addresses };
  }
  const namespaces: NamespaceScope = p.namespaceSelector ? { kind: 'selector', selector: selectorOf(p.namespaceSelector, cache) } : { kind: 'own', namespace: ownNamespace };
  return { kind: 'pods', index, namespaces, pods: p.podSelector ? selectorOf(p.podSelector, cache) : undefined };
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
  cache: NormalizeCache | undefined,
): Rule {
  let normPeers: Peer[] | undefined;
  if (peers && peers.length > 0) {
    normPeers = [];
    for (let i = 0; i < peers.length; i++) normPeers.push(normalizePeer(peers[i]!, i, ownNamespace, cache));
  }
  let normPorts: readonly PortSpec[] | undefined;
  if (ports && ports.length > 0) {
    let node: TrieNode<readonly PortSpec[]> | undefined;
    if (cache) {
      // Each entry spelled as its normalised protocol, then port and endPort (`sep` when absent).
      node = cache.ports;
      for (const p of ports) {
        node = child(node, p.protocol ?? 'TCP');
        node = p.port === undefined ? sep(node) : child(node, p.port);
        node = p.endPort === undefined ? sep(node) : child(node, p.endPort);
      }
      normPorts = node.value;
    }
    if (!normPorts) {
      const list: PortSpec[] = [];
      for (let i = 0; i < ports.length; i++) list.push(normalizePort(ports[i]!, i));
      normPorts = list;
      if (node) node.value = list;
    }
  }
  return { direction, index, peers: normPeers, ports: normPorts };
}

function normalizeWith(info: PolicyInfo, cache: NormalizeCache | undefined): Policy {
  const np = info.policy;
  const types = effectivePolicyTypes(np);
  const ns = info.namespace;
  const ingressRules: Rule[] = [];
  const egressRules: Rule[] = [];
  const ingress = np.spec.ingress ?? [];
  const egress = np.spec.egress ?? [];
  for (let i = 0; i < ingress.length; i++) ingressRules.push(normalizeRule('ingress', i, ingress[i]!.from, ingress[i]!.ports, ns, cache));
  for (let i = 0; i < egress.length; i++) egressRules.push(normalizeRule('egress', i, egress[i]!.to, egress[i]!.ports, ns, cache));
  const ref = { namespace: ns, name: info.name };
  const key = `${ns}/${info.name}`;
  const subject = selectorOf(np.spec.podSelector, cache);
  const { ingress: inOn, egress: outOn, defaulted } = types;
  // A mode annotation that validation rejects reads as `enforce`: an unreadable stage fails closed.
  const mode = annotatedMode(np.metadata.annotations) ?? 'enforce';
  if (info.source) {
    return { ref, key, subject, ingress: inOn, egress: outOn, policyTypesDefaulted: defaulted, ingressRules, egressRules, mode, source: info.source };
  }
  return { ref, key, subject, ingress: inOn, egress: outOn, policyTypesDefaulted: defaulted, ingressRules, egressRules, mode };
}

export function normalizePolicy(info: PolicyInfo): Policy {
  return normalizeWith(info, undefined);
}

/**
 * `normalizePolicy` for many policies: the returned function normalises each as `normalizePolicy`
 * does, but compiles each distinct selector and computes each distinct ipBlock's address set once
 * (real clusters repeat them across thousands of policies), sharing the immutable results.
 */
export function policyNormalizer(): (info: PolicyInfo) => Policy {
  const cache: NormalizeCache = { selectors: trieNode(), blocks: trieNode(), ports: trieNode() };
  return (info) => normalizeWith(info, cache);
}
