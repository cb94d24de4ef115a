/**
 * Tier chains: the cluster-scoped policies (ClusterNetworkPolicy tiers Admin and Baseline,
 * AdminNetworkPolicy, BaselineAdminNetworkPolicy) in a node's ruleset, around the NetworkPolicy subject
 * chains of compile.ts.
 *
 *   "If Admin tier has made a final decision (Accept or Deny) on a connection, then no further evaluation
 *   is done. [...] v1.NetworkPolicy always makes a final decision for selected pods. Further evaluation
 *   only happens for Pods not selected by a v1.NetworkPolicy. [...] If a given connection wasn't allowed
 *   or denied by any of the tiers, the default kubernetes policy is applied, which says that all pods can
 *   communicate with each other." (ClusterNetworkPolicySpec.tier)
 *
 * Design choice: a local pod's side (one direction) is dispatched, as before, by one verdict-map lookup
 * keyed by its address, into the first chain of its own sequence of tiers:
 *
 *   <dir>_admin_<admin policies>_then_<rest>   the Admin tier rules of the policies selecting the pod, by
 *                                              ascending priority, rules in order: Accept `return`s (this
 *                                              side is allowed; the other side is still checked), Deny
 *                                              drops or rejects, Pass `goto`s <rest>, which is also where
 *                                              a packet no admin rule matched goes;
 *   <rest> = <dir>_<network policies>          the NetworkPolicy subject chain, when NetworkPolicy isolates
 *                                              the pod: it always decides (its deny tail ends it);
 *          | <dir>_baseline_<policies>         otherwise the Baseline tier rules (Accept and Pass `return`,
 *                                              Deny drops), then the end of the chain: default allow;
 *          | nothing                           the side is allowed.
 *
 * `goto` rather than `jump` so that a `return` in <rest> goes straight back to the base chain. Chains are
 * shared by every pod with the same policies, and named after them; pods change only map and set
 * elements. Peers are sets as for NetworkPolicy (peersets.ts): `namespaces` and `pods` peers hold the
 * addresses of the pods they select, host-network pods left out; `networks` and `nodes` (the addresses of
 * the Node objects the selector matches) are interval sets, and any pod with an address in them joins the
 * pod set with all its addresses, as the engine matches "cluster-internal traffic" too. Named ports use
 * the NetworkPolicy `address . port` sets, one per protocol the name may have.
 *
 * Audit mode (docs/semantics.md): "Enforcement is exactly what it would be if audit-mode policies did not
 * exist. A connection is *audited* (a would-be drop) when the full set of policies, audit and enforce,
 * would deny it while the enforced ones allow it." A side that no staged cluster policy selects is
 * compiled as above from the enforced cluster policies (staged NetworkPolicies have their own audit chains,
 * see `chainFor`). A side that some staged cluster policy selects is dispatched into
 *
 *   <dir>_audited_<today>_then_<view>          `jump <today>`: the sequence of tiers above, built from the
 *                                              enforced policies only (the same chains a pod without the
 *                                              staged policies gets), which drops what it denies and
 *                                              returns what it allows; then `goto <view>`:
 *   <view> = <dir>_audit_admin_... / _baseline_...   the same sequence built from every policy, staged
 *                                              ones enforcing, whose deny ends are audit ends instead: a
 *                                              Deny rule counts, logs `netpol audit <dir>_rule_<Kind>/<name>[i]`
 *                                              and returns; NetworkPolicy's chain there is the one of every
 *                                              policy isolating the subject with the audit tail (compile.ts).
 *
 * So the view runs only for what today allows, and it reaches at most one deny end: exactly one audit log
 * line and counter per side allowed today and denied by the full set, naming the rule (or the chain of
 * NetworkPolicies) that would deny. When nothing enforced applies the side goes straight to <view>.
 *
 * Not enforced: `domainNames` peers (no DNS tracking here); they match no traffic. "DomainNames is only
 * supported for Accept rules. In order to control access, DomainNames Accept rules should be used with a
 * lower precedence egress deny -- this allows the admin to maintain an explicit "allowlist" of reachable
 * domains." Matching nothing is the direction the API calls failing closed for Accept ("treat the rule as
 * matching no traffic"): traffic meant for the allowlisted names meets the deny after it and fails, where
 * matching everything would turn the allowlist into allow-all. A peer of no known kind fails closed as
 * the API says: an Accept rule matches nothing, a Deny or Pass rule denies everything.
 */
import { AddressSet, parseIP, type Family } from '../ip/index.js';
import type { Cluster, ClusterPolicyInfo, NodeInfo, PodInfo, Protocol } from '../model/index.js';
import { clusterRulesOf, normalizeClusterPolicy, compareClusterPolicies, modeOf, underGlobalMode, type ClusterPolicy, type ClusterRule, type PolicyMode } from '../policy/index.js';
import type { Direction, Peer } from '../policy/index.js';
import { PortSet } from '../policy/index.js';
import { matches as selectorMatches } from '../selector/index.js';
import type { Chain, L4Protocol, Match, Rule, Verdict } from './ir.js';
import { fnv1a64, identifier, logPrefix, MAX_COMMENT, namedPortSetName, quotable, tierRuleLogName } from './names.js';
import type { NamedPortRef, NamespaceLabels, PeerSetRef } from './peersets.js';

const FAMILIES: readonly Family[] = [4, 6];
const PROTOCOLS: readonly (readonly [Protocol, L4Protocol])[] = [
  ['TCP', 'tcp'],
  ['UDP', 'udp'],
  ['SCTP', 'sctp'],
];

interface Selecting {
  readonly admin: readonly ClusterPolicy[];
  readonly baseline: readonly ClusterPolicy[];
}
const NONE: Selecting = { admin: [], baseline: [] };

/** What the deny rules depend on (a `CompileOptions`), and the agent's `--mode`. */
export interface DenyOptions {
  readonly denyAction?: 'drop' | 'reject';
  readonly log?: boolean;
  readonly logRate?: number;
  /** `audit` stages every cluster policy, as it stages every NetworkPolicy. */
  readonly mode?: PolicyMode;
}

/** The two-step chains: what they do, and the comments of their `jump` and `goto` rules. */
const STEPS = {
  staged: ['baseline tier, then the audit of staged policies', 'staged NetworkPolicies only: the baseline tier decides', 'what the staged policies would deny: audited'],
  audited: ['enforced tiers, then the audit view with staged policies', 'enforced today: denies drop, allows return here', 'allowed today: what every policy would deny is audited'],
} as const;

/** Which view a chain evaluates: the enforced policies (denies drop), or every policy (denies are audited). */
type Flavour = 'enforce' | 'audit';

/** A chain to emit, with what it was made of (to hand out the same object while that stays). */
interface TierChain {
  readonly name: string;
  readonly direction: Direction;
  /**
   * `staged`: the baseline tier first, then a chain of staged NetworkPolicies (see `chainFor`);
   * `audited`: the enforced sequence first, then the audit view (see the module comment).
   */
  readonly tier: 'admin' | 'baseline' | 'staged' | 'audited';
  readonly flavour: Flavour;
  readonly policies: readonly ClusterPolicy[];
  /** Admin chains: where Pass and the end of the chain go; staged and audited chains: the chain gone to last. */
  readonly rest: string | undefined;
  /** Staged and audited chains: the chain jumped to first. */
  readonly first?: string;
}

/** What the ruleset needs from the tiers, besides the dispatch decisions. */
export interface TierOutput {
  readonly chains: readonly Chain[];
  readonly peerRefs: ReadonlyMap<string, { readonly ref: PeerSetRef; readonly sig: string }>;
  readonly portRefs: ReadonlyMap<string, NamedPortRef>;
  /** Rules with `domainNames` peers that select a local pod (`Kind/name egress[i]`): not enforced. */
  readonly domainNames: readonly string[];
}

/** What one cluster rule compiles to: its nft rules and the sets they use. */
interface RulePart {
  readonly rules: readonly Rule[];
  readonly peerRefs: readonly (readonly [name: string, ref: PeerSetRef, sig: string])[];
  readonly portRefs: readonly (readonly [name: string, ref: NamedPortRef])[];
  readonly domainNames: boolean;
}

/** The API's spelling of an action for the policy's kind (v1alpha1 says Allow). */
function actionWord(p: ClusterPolicy, rule: ClusterRule): string {
  if (rule.action === 'accept') return p.ref.kind === 'ClusterNetworkPolicy' ? 'Accept' : 'Allow';
  return rule.action === 'deny' ? 'Deny' : 'Pass';
}

/** `<kind> <name> <ingress|egress>[i] <action>`: how a drop or an accept is traced back to its rule. */
export function tierRuleComment(p: ClusterPolicy, rule: ClusterRule, suffix = ''): string {
  const tail = ` ${rule.direction}[${rule.index}] ${actionWord(p, rule)}${suffix}`;
  return quotable(`${p.ref.kind} ${p.ref.name}`, MAX_COMMENT - tail.length) + tail;
}

const TIER_RULE_COMMENT = /^(ClusterNetworkPolicy|AdminNetworkPolicy|BaselineAdminNetworkPolicy) (\S+) (ingress|egress)\[(\d+)\] (?:Deny|Pass)(?: \(fails closed\))?( \(audit: would deny\))?$/;

/**
 * The policy and rule a counted rule's `tierRuleComment` names (a Deny, or a Pass that fails closed),
 * and whether its counter is an audit view's (staged: would deny); undefined for any other comment and
 * for a name cut short (`...`), which would count under a name no policy has.
 */
export function parseTierRuleComment(comment: string): { kind: ClusterPolicy['ref']['kind']; name: string; direction: Direction; index: number; audit: boolean } | undefined {
  const m = TIER_RULE_COMMENT.exec(comment);
  if (!m || m[2]!.endsWith('...')) return undefined;
  return { kind: m[1] as ClusterPolicy['ref']['kind'], name: m[2]!, direction: m[3] as Direction, index: Number(m[4]), audit: m[5] !== undefined };
}

function nodesText(nodes: readonly NodeInfo[] | undefined): string {
  return JSON.stringify((nodes ?? []).map((n) => [n.name, n.labels, n.addresses]));
}

/** A rule with a peer of no known kind: "For "Deny" and "Pass" rules, "fail closed" means: "treat the rule as a 'Deny all' rule"." */
function failsClosed(rule: ClusterRule): boolean {
  return rule.peers.some((x) => x.kind === 'unknown');
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The cluster-scoped policies of a node's ruleset, kept across updates by a `NodeCompiler`: normalised
 * policies are reused while their content stays, what each selects is cached per pod object, and a chain
 * whose policies did not change is the same object as in the last ruleset (so diffs skip it).
 */
export class TierCompiler {
  private infos: readonly ClusterPolicyInfo[] | undefined;
  private nodes: readonly NodeInfo[] | undefined;
  private policies: readonly ClusterPolicy[] = [];
  private normalized = new Map<string, ClusterPolicy>();
  private selected = new WeakMap<PodInfo, Record<Direction, Selecting>>();
  private parts: Record<Flavour, WeakMap<ClusterRule, RulePart>> = { enforce: new WeakMap(), audit: new WeakMap() };
  private chainCache = new Map<string, { readonly spec: TierChain; readonly chain: Chain }>();
  /** The chains the ruleset being built uses, by name. */
  private wanted = new Map<string, TierChain>();

  constructor(
    private readonly opts: DenyOptions,
    private readonly nsLabels: NamespaceLabels,
  ) {}

  /** Takes the cluster's policies and nodes; true when either changed. */
  update(cluster: Cluster): boolean {
    const infos = cluster.clusterPolicies;
    // Nodes by content: a source may hand out equal Node objects anew, and they change every rule.
    const nodesChanged = cluster.nodes !== this.nodes && nodesText(cluster.nodes) !== nodesText(this.nodes);
    this.nodes = cluster.nodes;
    if (infos === this.infos && !nodesChanged) return false;
    this.infos = infos;
    if (nodesChanged) {
      // `nodes` peers resolve to the Node objects' addresses: every rule compiles again.
      this.parts = { enforce: new WeakMap(), audit: new WeakMap() };
      this.chainCache.clear();
    }
    const seen = new Map<string, ClusterPolicy>();
    const next = (infos ?? []).map((info) => {
      // The mode is part of the content: switching a policy between audit and enforce compiles it anew.
      const json = JSON.stringify([info.kind, info.name, modeOf(info), info.policy.spec]);
      const p = seen.get(json) ?? this.normalized.get(json) ?? underGlobalMode(normalizeClusterPolicy(info), this.opts.mode ?? 'enforce');
      seen.set(json, p);
      return p;
    });
    next.sort(compareClusterPolicies);
    this.normalized = seen;
    if (!sameList(next, this.policies)) {
      this.policies = next;
      this.selected = new WeakMap();
      return true;
    }
    return nodesChanged;
  }

  /** Namespace labels changed: which pods a subject selects may have too. */
  namespacesChanged(): void {
    this.selected = new WeakMap();
  }

  /**
   * The cluster policies selecting a pod as a subject, per direction and tier, in evaluation order:
   * "Note that host-networked pods are not included in subject selection."
   */
  private selecting(pod: PodInfo, direction: Direction): Selecting {
    let s = this.selected.get(pod);
    if (!s) {
      const pick = (d: Direction): Selecting => {
        if (pod.hostNetwork) return NONE;
        const ns = this.nsLabels(pod.namespace);
        const chosen = this.policies.filter(
          (p) => clusterRulesOf(p, d).length > 0 && selectorMatches(p.subject.namespaces, ns) && (p.subject.pods === undefined || selectorMatches(p.subject.pods, pod.labels)),
        );
        return chosen.length === 0 ? NONE : { admin: chosen.filter((p) => p.tier === 'admin'), baseline: chosen.filter((p) => p.tier === 'baseline') };
      };
      s = { ingress: pick('ingress'), egress: pick('egress') };
      this.selected.set(pod, s);
    }
    return s[direction];
  }

  /**
   * The chain a local pod's side is dispatched to, given its NetworkPolicy subject chain (undefined when
   * NetworkPolicy does not isolate it for the direction; `networkPolicyStaged` when only staged
   * NetworkPolicies do, and the chain ends with their audit tail); undefined when nothing applies
   * (allowed). `auditView` gives the chain of every NetworkPolicy isolating the pod, staged or not, with
   * the audit tail (undefined when none does): NetworkPolicy's tier in the audit view.
   */
  chainFor(pod: PodInfo, direction: Direction, networkPolicyChain: string | undefined, networkPolicyStaged = false, auditView?: () => string | undefined): string | undefined {
    if (this.policies.length === 0) return networkPolicyChain;
    const all = this.selecting(pod, direction);
    const enforced = { admin: all.admin.filter((p) => p.mode === 'enforce'), baseline: all.baseline.filter((p) => p.mode === 'enforce') };
    if (enforced.admin.length === all.admin.length && enforced.baseline.length === all.baseline.length) {
      return this.sequence(direction, all, networkPolicyChain, networkPolicyStaged, 'enforce');
    }
    // "Enforcement is exactly what it would be if audit-mode policies did not exist. A connection is
    // *audited* (a would-be drop) when the full set of policies, audit and enforce, would deny it while
    // the enforced ones allow it." Today's sequence decides (staged NetworkPolicies left out: the view
    // audits them); what it lets through goes on to the view of every policy, whose denials are audited.
    const today = this.sequence(direction, enforced, networkPolicyStaged ? undefined : networkPolicyChain, false, 'enforce');
    const view = this.sequence(direction, all, auditView?.(), false, 'audit');
    if (today === undefined || view === undefined) return today ?? view;
    const name = identifier(`${direction}_audited_${today}_then_${view}`);
    if (!this.wanted.has(name)) this.wanted.set(name, { name, direction, tier: 'audited', flavour: 'audit', policies: [], rest: view, first: today });
    return name;
  }

  /** The first chain of a side's sequence of tiers over `selected` (see the module comment), registered. */
  private sequence(direction: Direction, selected: Selecting, networkPolicyChain: string | undefined, networkPolicyStaged: boolean, flavour: Flavour): string | undefined {
    const { admin, baseline } = selected;
    const view = flavour === 'audit' ? 'audit_' : '';
    let rest = networkPolicyChain;
    // A side that only staged (audit-mode) NetworkPolicies isolate is, enforced, not isolated by
    // NetworkPolicy: the baseline tier decides it ("Enforcement is exactly what it would be if audit-mode
    // policies did not exist", docs/semantics.md). The staged chain still runs after it, for its audit
    // tail: `jump` to the baseline chain (a Deny there drops; its end and its Accepts return here), then
    // `goto` the staged chain, whose admitting rules and audit tail both end in allowing. So the audit
    // tail runs exactly when the baseline allowed this side and the staged policies would deny it.
    if ((rest === undefined || networkPolicyStaged) && baseline.length > 0) {
      const base = identifier(`${direction}_${view}baseline_${baseline.map((p) => p.key).join('_')}`);
      if (!this.wanted.has(base)) this.wanted.set(base, { name: base, direction, tier: 'baseline', flavour, policies: baseline, rest: undefined });
      if (rest === undefined) rest = base;
      else {
        const staged = identifier(`${base}_then_${rest}`);
        if (!this.wanted.has(staged)) this.wanted.set(staged, { name: staged, direction, tier: 'staged', flavour, policies: [], rest, first: base });
        rest = staged;
      }
    }
    if (admin.length === 0) return rest;
    const name = identifier(`${direction}_${view}admin_${admin.map((p) => p.key).join('_')}${rest !== undefined ? `_then_${rest}` : ''}`);
    if (!this.wanted.has(name)) this.wanted.set(name, { name, direction, tier: 'admin', flavour, policies: admin, rest });
    return name;
  }

  /** The chains and sets of the dispatch decisions made since the last call. */
  finish(): TierOutput {
    const peerRefs = new Map<string, { ref: PeerSetRef; sig: string }>();
    const portRefs = new Map<string, NamedPortRef>();
    const domainNames = new Set<string>();
    const cache = new Map<string, { readonly spec: TierChain; readonly chain: Chain }>();
    const chains: Chain[] = [];
    for (const spec of this.wanted.values()) {
      const parts = spec.policies.flatMap((p) => clusterRulesOf(p, spec.direction).map((r) => [p, r, this.part(p, r, spec.flavour)] as const));
      for (const [p, r, part] of parts) {
        for (const [name, ref, sig] of part.peerRefs) if (!peerRefs.has(name)) peerRefs.set(name, { ref, sig });
        for (const [name, ref] of part.portRefs) if (!portRefs.has(name)) portRefs.set(name, ref);
        if (part.domainNames) domainNames.add(`${p.key} ${r.direction}[${r.index}]`);
      }
      if (spec.tier === 'staged' || spec.tier === 'audited') {
        // Jump to the deciding sequence (its denials drop, what it allows returns here), then go to the audit.
        const [what, first, rest] = STEPS[spec.tier];
        const chain: Chain = {
          name: spec.name,
          comment: quotable(`${spec.direction}: ${what} (${spec.rest ?? ''})`, MAX_COMMENT),
          rules: [
            { matches: [], verdict: { kind: 'jump', chain: spec.first ?? '' }, comment: first },
            { matches: [], verdict: { kind: 'goto', chain: spec.rest ?? '' }, comment: rest },
          ],
        };
        cache.set(spec.name, { spec, chain });
        chains.push(chain);
        continue;
      }
      const cached = this.chainCache.get(spec.name);
      if (cached && cached.spec.rest === spec.rest && cached.spec.flavour === spec.flavour && sameList(cached.spec.policies, spec.policies)) {
        cache.set(spec.name, cached);
        chains.push(cached.chain);
        continue;
      }
      const leave: Verdict = spec.rest !== undefined ? { kind: 'goto', chain: spec.rest } : { kind: 'return' };
      // A Pass rule's `return` goes on to the next tier; one that fails closed denies (or audits) instead.
      const rules = parts.flatMap(([, r, part]) => (r.action === 'pass' && !failsClosed(r) ? part.rules.map((x) => (x.verdict?.kind === 'return' ? { ...x, verdict: leave } : x)) : part.rules));
      const keys = spec.policies.map((p) => p.key).join(', ');
      if (spec.rest !== undefined) rules.push({ matches: [], verdict: leave, comment: 'no admin tier rule decided: next tier' });
      const of = spec.flavour === 'audit' ? 'audit view, ' : '';
      const comment = spec.tier === 'admin' ? `${spec.direction}: ${of}admin tier ${keys}; then ${spec.rest ?? 'allowed'}` : `${spec.direction}: ${of}baseline tier ${keys}; then allowed`;
      const chain: Chain = { name: spec.name, comment: quotable(comment, MAX_COMMENT), rules };
      cache.set(spec.name, { spec, chain });
      chains.push(chain);
    }
    this.chainCache = cache;
    this.wanted = new Map();
    return { chains, peerRefs, portRefs, domainNames: [...domainNames].sort() };
  }

  private part(p: ClusterPolicy, rule: ClusterRule, flavour: Flavour): RulePart {
    let part = this.parts[flavour].get(rule);
    if (!part) {
      part = this.compileRule(p, rule, flavour);
      this.parts[flavour].set(rule, part);
    }
    return part;
  }

  /** The addresses of the Node objects a `nodes` selector matches, as an address set. */
  private nodeAddresses(peer: Extract<ClusterRule['peers'][number], { kind: 'nodes' }>): AddressSet {
    const sets: AddressSet[] = [];
    for (const n of this.nodes ?? []) {
      if (!selectorMatches(peer.nodes, n.labels)) continue;
      for (const text of n.addresses) {
        const ip = parseIP(text);
        if (ip) sets.push(AddressSet.fromIP(ip));
      }
    }
    return AddressSet.unionAll(sets);
  }

  /**
   * One cluster rule: (peer clause) x (port clause), families apart. A Pass rule's verdict is `return`
   * here; `finish` points it at the next tier of the chain it lands in. In the audit view a Deny rule
   * audits instead of denying.
   */
  private compileRule(p: ClusterPolicy, rule: ClusterRule, flavour: Flavour): RulePart {
    const deny = (matches: readonly Match[], suffix = ''): Rule[] => (flavour === 'audit' ? this.auditRules(p, rule, matches, suffix) : this.denyRules(p, rule, matches, suffix));
    const domainNames = rule.peers.some((x) => x.kind === 'domainNames');
    const empty: RulePart = { rules: [], peerRefs: [], portRefs: [], domainNames };
    // "For Accept rules, "fail closed" means: "treat the rule as matching no traffic". For "Deny" and
    // "Pass" rules, "fail closed" means: "treat the rule as a 'Deny all' rule"."
    if (failsClosed(rule)) {
      return rule.action === 'accept' ? empty : { ...empty, rules: deny([], ' (fails closed)') };
    }
    const field = rule.direction === 'ingress' ? 'saddr' : 'daddr';
    const scopes: Peer[] = [];
    const blocks: Peer[] = [];
    const texts: string[] = [];
    for (const peer of rule.peers) {
      if (peer.kind === 'namespaces' || peer.kind === 'pods') {
        scopes.push({ kind: 'pods', index: peer.index, namespaces: { kind: 'selector', selector: peer.namespaces }, pods: peer.pods });
        texts.push(peer.pods ? `pods ${peer.pods.text} in namespaces ${peer.namespaces.text}` : `namespaces ${peer.namespaces.text}`);
      } else if (peer.kind === 'networks' || peer.kind === 'nodes') {
        const addresses = peer.kind === 'networks' ? peer.addresses : this.nodeAddresses(peer);
        blocks.push({ kind: 'ipBlock', index: peer.index, cidr: '', except: [], addresses });
        texts.push(peer.kind === 'networks' ? `networks ${peer.cidrs.join(', ')}` : `nodes ${peer.nodes.text}`);
      }
    }
    // Only domainNames: no IP traffic matches the rule.
    if (scopes.length === 0 && blocks.length === 0) return empty;
    const peers = [...scopes, ...blocks];
    // Rules with the same peers share their sets (and their contents' upkeep): 1,000 cluster policies
    // repeat a few peer lists (every team's namespaces, everything outside) many times over.
    const sig = JSON.stringify([
      'cluster',
      texts,
      scopes.map((x) => (x.kind === 'pods' && x.namespaces.kind === 'selector' ? [x.namespaces.selector.requirements, x.pods?.requirements ?? null] : null)),
      blocks.map((b) => (b.kind === 'ipBlock' ? FAMILIES.map((f) => b.addresses.intervals(f).map(([lo, hi]) => `${lo}-${hi}`)) : null)),
    ]);
    const hash = fnv1a64(sig);
    const owner = { key: p.key, ref: { namespace: '' } };
    const peerRule = { direction: rule.direction, index: rule.index, peers };
    const peerRefs: [string, PeerSetRef, string][] = [];
    type Clause = { readonly family?: Family; readonly matches: readonly Match[] };
    const peerClauses: Clause[] = FAMILIES.flatMap((family) => {
      const set = `cpeers_${hash}_v${family}`;
      const common = { policy: owner, rule: peerRule, family, skipHostNetwork: true } as const;
      peerRefs.push([set, { ...common, blocks: false, comment: `pods of ${texts.join('; ')}` }, sig]);
      const clauses: Clause[] = [{ family, matches: [{ kind: 'address', family, field, set }] }];
      if (blocks.length > 0) {
        const bset = `cblocks_${hash}_v${family}`;
        peerRefs.push([bset, { ...common, blocks: true, comment: `addresses of ${texts.join('; ')}` }, sig]);
        clauses.push({ family, matches: [{ kind: 'address', family, field, set: bset }] });
      }
      return clauses;
    });
    // "If [protocols] is not specified, the rule does not filter traffic via port."
    const portRefs: [string, NamedPortRef][] = [];
    let portClauses: Clause[] = [{ matches: [] }];
    if (rule.ports !== undefined) {
      portClauses = [];
      for (const [protocol, proto] of PROTOCOLS) {
        let numbers = PortSet.EMPTY;
        for (const port of rule.ports) if (port.protocol === protocol && port.port.kind === 'range') numbers = numbers.union(PortSet.range(port.port.from, port.port.to));
        if (!numbers.isEmpty())
          portClauses.push({
            matches: [
              { kind: 'l4proto', protocol: proto },
              { kind: 'dport', ranges: numbers.ranges },
            ],
          });
      }
      // destinationNamedPort: the destination pod's container port of that name, whatever its protocol.
      const names = [...new Set(rule.ports.flatMap((port) => (port.port.kind === 'named' ? [port.port.name] : [])))].sort();
      for (const name of names) {
        for (const [protocol, proto] of PROTOCOLS) {
          for (const family of FAMILIES) {
            const set = namedPortSetName(proto, name, family);
            portRefs.push([set, { protocol, name, family }]);
            portClauses.push({
              family,
              matches: [
                { kind: 'l4proto', protocol: proto },
                { kind: 'daddr-dport', family, set },
              ],
            });
          }
        }
      }
    }
    const combined: (readonly Match[])[] = [];
    for (const peer of peerClauses) {
      for (const port of portClauses) {
        if (peer.family !== undefined && port.family !== undefined && peer.family !== port.family) continue;
        combined.push([...peer.matches, ...port.matches]);
      }
    }
    const rules = rule.action === 'deny' ? combined.flatMap((m) => deny(m)) : combined.map((m): Rule => ({ matches: m, verdict: { kind: 'return' }, comment: tierRuleComment(p, rule) }));
    return { rules, peerRefs, portRefs, domainNames };
  }

  /**
   * A Deny rule in the audit view: counted and logged (always, rate-limited, as a NetworkPolicy chain's
   * audit tail), then `return`: the side is allowed today, and the packet goes on to the other side.
   */
  private auditRules(p: ClusterPolicy, rule: ClusterRule, matches: readonly Match[], suffix: string): Rule[] {
    const prefix = logPrefix('audit', tierRuleLogName(p.ref.kind, p.ref.name, rule.direction, rule.index));
    return [
      { matches, limit: { rate: Math.max(1, Math.floor(this.opts.logRate ?? 10)), per: 'second', burst: 5 }, log: { prefix } },
      { matches, counter: true, verdict: { kind: 'return' }, comment: tierRuleComment(p, rule, `${suffix} (audit: would deny)`) },
    ];
  }

  /** A Deny rule: counted, logged when asked, then dropped or rejected as the deny action says. */
  private denyRules(p: ClusterPolicy, rule: ClusterRule, matches: readonly Match[], suffix = ''): Rule[] {
    const comment = tierRuleComment(p, rule, suffix);
    const out: Rule[] = [];
    if (this.opts.log) {
      const prefix = logPrefix('deny', tierRuleLogName(p.ref.kind, p.ref.name, rule.direction, rule.index));
      out.push({ matches, limit: { rate: Math.max(1, Math.floor(this.opts.logRate ?? 10)), per: 'second', burst: 5 }, log: { prefix } });
    }
    if (this.opts.denyAction !== 'reject') {
      out.push({ matches, counter: true, verdict: { kind: 'drop' }, comment });
      return out;
    }
    const proto = matches.find((m): m is Extract<Match, { kind: 'l4proto' }> => m.kind === 'l4proto');
    // A TCP reset fails connect() at once; everything else gets ICMP administratively prohibited.
    if (proto === undefined || proto.protocol === 'tcp') {
      out.push({ matches: proto ? matches : [...matches, { kind: 'l4proto', protocol: 'tcp' }], counter: true, verdict: { kind: 'reject', with: 'tcp-reset' }, comment });
    }
    if (proto === undefined || proto.protocol !== 'tcp') out.push({ matches, counter: true, verdict: { kind: 'reject', with: 'icmpx-admin-prohibited' }, comment });
    return out;
  }
}
