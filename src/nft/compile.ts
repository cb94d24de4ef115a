/**
 * The compiler: the normalised policy model of a cluster -> the nftables ruleset of one node.
 *
 * Design choice: the node enforces the egress side of connections its own pods open and the ingress side
 * of connections to its own pods ("A successful connection between two Pods can only be established when
 * the network policies on both of them permit it"), so a cluster of nodes enforces both ends. Per packet
 * the cost is fixed: a conntrack check, then one verdict-map lookup per direction keyed by the pod's
 * address jumps to the chain of the pod's *set of policies* (pods that the same policies isolate share a
 * chain), whose rules are set lookups. Pod and label changes therefore only change set and map elements;
 * chains change only when policies do. Which pods a policy selects and which peers a rule matches come
 * from the normalised model, read the way the engine reads it, so the kernel and `netpol check` agree.
 *
 * Everything that depends on traffic rather than on the policy is resolved into sets:
 * - a rule's peers, per address family: the pod addresses in a plain set and, for a rule with ipBlocks,
 *   the blocks (`except` subtracted) in an interval set of their own (peersets.ts says why);
 * - named ports, per protocol, name and family, as `address . port` sets of every pod that defines the
 *   name, looked up with the packet's destination address: "a name resolves against the destination
 *   pod's container ports" (for egress the destination is the peer, for ingress the subject itself).
 *
 * The work is done by a `NodeCompiler`, which keeps what it derived (pods indexed by address, set
 * contents keyed by the peers they come from) so that compiling the node again after a change costs what
 * the change touches; `compileNode` is a fresh one used once.
 */
import type { Family } from '../ip/index.js';
import { automaticLabels, type Cluster, type Labels, type NamespaceInfo, type PodInfo, type PolicyInfo, type Protocol } from '../model/index.js';
import type { Engine } from '../engine/index.js';
import {
  normalizePolicy,
  rulesOf,
  type Direction,
  type Policy,
  type Rule as PolicyRule,
  PortSet,
  modeOf,
  underGlobalMode,
  type PolicyMode,
  isolatingPolicies,
  namespaceLabels,
} from '../policy/index.js';
import { auditRules, chainPolicies } from './audit.js';
import { baseChains, denyRules } from './base-chains.js';
import { commonHead, commonTail, sameLabels, sameAddresses, samePod } from './pod-compare.js';
import { PodTable, type Addr } from './addresses.js';
import type { Chain, CompileNotes, L4Protocol, Match, NamedSet, Rule, Ruleset, VerdictMap } from './ir.js';
import { peerSignature, PeerState, PortState, type NamedPortRef, type PeerSetRef } from './peersets.js';
import { TierCompiler } from './tiers.js';
import { blockSetName, dispatchMapName, MAX_COMMENT, namedPortSetName, peerSetName, quotable, ruleComment, subjectChainName, auditViewChainName } from './names.js';

export interface CompileOptions {
  /** The node whose ruleset to build: pods with this `spec.nodeName` are enforced here. */
  readonly node: string;
  /** What happens to denied packets: `drop` (default) or `reject` (TCP reset / ICMP admin-prohibited). */
  readonly denyAction?: 'drop' | 'reject';
  /** Log denied packets (`netpol deny <chain>: `), rate-limited. */
  readonly log?: boolean;
  /** Log rate limit per second (default 10, burst 5). */
  readonly logRate?: number;
  /** Table name in the `inet` family (default `netpol`). */
  readonly table?: string;
  /** The agent's `--mode`: `enforce` (default) leaves each policy its own mode, `audit` stages every policy. */
  readonly mode?: PolicyMode;
}

/** Options of a `NodeCompiler` kept across updates. */
export interface NodeCompilerOptions extends CompileOptions {
  /**
   * Let set element arrays change in place instead of being copied: a returned ruleset's element arrays
   * then stay valid only until the second `update` after it, which is enough to diff each ruleset against
   * the one returned before it (the agent's use). Saves copying large sets on every pod change.
   */
  readonly reuseArrays?: boolean;
}

export const DEFAULT_TABLE = 'netpol';
const FAMILIES: readonly Family[] = [4, 6];
const DIRECTIONS: readonly Direction[] = ['egress', 'ingress'];
const PROTOCOL_ORDER: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

function l4(p: Protocol): L4Protocol {
  return p === 'TCP' ? 'tcp' : p === 'UDP' ? 'udp' : 'sctp';
}

/** A subject chain to build: the direction and the policies (sorted by key) that isolate its pods. */
interface SubjectChain {
  readonly name: string;
  readonly direction: Direction;
  readonly policies: readonly Policy[];
  /** Staged policies only (see audit.ts): the chain ends with the audit tail instead of the deny tail. */
  readonly audit: boolean;
}

/** What one policy contributes to a subject chain in one direction: its rules and the sets they use. */
interface PolicyPart {
  readonly rules: readonly Rule[];
  /** Set name, what it holds, and the peers' signature (which `PeerState` computes it). */
  readonly peerRefs: readonly (readonly [name: string, ref: PeerSetRef, signature: string])[];
  readonly portRefs: readonly (readonly [name: string, ref: NamedPortRef])[];
}

function policyPart(policy: Policy, direction: Direction): PolicyPart {
  const peers = new Map<string, PeerSetRef>();
  const ports = new Map<string, NamedPortRef>();
  const rules = rulesOf(policy, direction).flatMap((r) => compileRule(policy, r, peers, ports));
  return { rules, peerRefs: [...peers].map(([name, ref]) => [name, ref, peerSignature(ref.policy, ref.rule)] as const), portRefs: [...ports] };
}

/** nft rules of one policy rule: (peer clause) x (port clause), families kept apart. */
function compileRule(policy: Policy, rule: PolicyRule, peerSets: Map<string, PeerSetRef>, portSets: Map<string, NamedPortRef>): Rule[] {
  const field = rule.direction === 'ingress' ? 'saddr' : 'daddr';
  type Clause = { readonly family?: Family; readonly matches: readonly Match[] };
  // "If this field is empty or missing, this rule matches all sources/destinations."
  let peerClauses: Clause[] = [{ matches: [] }];
  if (rule.peers !== undefined) {
    // Pod addresses in a plain set; the rule's ipBlocks, if any, in an interval set of their own.
    const blocks = rule.peers.some((p) => p.kind === 'ipBlock');
    peerClauses = FAMILIES.flatMap((family) => {
      const set = peerSetName(policy.key, rule.direction, rule.index, family);
      peerSets.set(set, { policy, rule, family, blocks: false });
      const clauses: Clause[] = [{ family, matches: [{ kind: 'address', family, field, set }] }];
      if (blocks) {
        const bset = blockSetName(policy.key, rule.direction, rule.index, family);
        peerSets.set(bset, { policy, rule, family, blocks: true });
        clauses.push({ family, matches: [{ kind: 'address', family, field, set: bset }] });
      }
      return clauses;
    });
  }
  // "If this field is empty or missing, this rule matches all ports."
  let portClauses: Clause[] = [{ matches: [] }];
  if (rule.ports !== undefined) {
    portClauses = [];
    for (const protocol of PROTOCOL_ORDER) {
      const specs = rule.ports.filter((s) => s.protocol === protocol);
      if (specs.length === 0) continue;
      const proto: Match = { kind: 'l4proto', protocol: l4(protocol) };
      // "If [port is] not specified, this matches all port names and numbers."
      if (specs.some((s) => s.port.kind === 'all')) {
        portClauses.push({ matches: [proto] });
        continue;
      }
      let numbers = PortSet.EMPTY;
      const names = new Set<string>();
      for (const s of specs) {
        if (s.port.kind === 'range') numbers = numbers.union(PortSet.range(s.port.from, s.port.to));
        else if (s.port.kind === 'named') names.add(s.port.name);
      }
      if (!numbers.isEmpty()) portClauses.push({ matches: [proto, { kind: 'dport', ranges: numbers.ranges }] });
      for (const name of [...names].sort()) {
        for (const family of FAMILIES) {
          const set = namedPortSetName(l4(protocol), name, family);
          portSets.set(set, { protocol, name, family });
          portClauses.push({ family, matches: [proto, { kind: 'daddr-dport', family, set }] });
        }
      }
    }
  }
  const comment = ruleComment(policy.key, rule.direction, rule.index);
  const out: Rule[] = [];
  for (const peer of peerClauses) {
    for (const port of portClauses) {
      if (peer.family !== undefined && port.family !== undefined && peer.family !== port.family) continue;
      // Counted, so /metrics can say what each rule admitted (the comment names the policy and rule).
      out.push({ matches: [...peer.matches, ...port.matches], counter: true, verdict: { kind: 'return' }, comment });
    }
  }
  return out;
}

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function byKey(a: Policy, b: Policy): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Above this many changed pods (beyond a fraction of the cluster) an update rebuilds instead. */
const REBUILD_CHANGES = 1024;

/**
 * The compiler of one node, keeping what it derived from the previous cluster so that the next one costs
 * only what changed. `update(cluster)` returns exactly what `compileNode(cluster, opts)` returns.
 *
 * The cluster's objects are taken as immutable: a pod, a policy or a namespace map that is the same object
 * as in the previous call is unchanged (a live source hands out new objects for what changed and keeps the
 * others). Pods are compared by identity; changed pods are found by trimming the common head and tail of
 * the pod list, so a pod added, removed or replaced costs a few binary searches and splices per set it is
 * in, not a pass over the cluster. Policies are compared by identity, then by content; a set's contents
 * depend only on its rule's peers, so editing a policy's ports or subjects reuses every set, and a new
 * peer list is computed once. Namespace label changes recompute the sets whose namespace scope they change.
 * Many changes at once (a source that re-creates every object) rebuild from scratch.
 */
export class NodeCompiler {
  private table: PodTable | undefined;
  /** The pods of the last cluster, and the slot of each. */
  private pods: readonly PodInfo[] = [];
  private order: number[] = [];
  private namespaces: ReadonlyMap<string, NamespaceInfo> | undefined;
  private policyInfos: readonly PolicyInfo[] | undefined;
  private givenPolicies: readonly Policy[] | undefined;
  private policies: readonly Policy[] = [];
  private readonly normalized = new Map<string, Policy>();
  private byNamespace = new Map<string, Policy[]>();
  private readonly peerStates = new Map<string, PeerState>();
  private readonly portStates = new Map<string, PortState>();
  /** Slots of the pods on this node. */
  private readonly local = new Set<number>();
  private unscheduled = 0;
  /** Addresses held by more than one pod (text -> address). */
  private readonly shared = new Map<string, Addr>();
  private last: Ruleset | undefined;
  /**
   * What each normalised policy compiles to, per direction. A policy keeps its object while its content
   * stays (updatePolicies), so a change elsewhere reuses these.
   */
  private readonly parts = new WeakMap<Policy, Partial<Record<Direction, PolicyPart>>>();
  /** The last ruleset's subject chains by name, with the policies each was made of. */
  private chainCache = new Map<string, { readonly policies: readonly Policy[]; readonly chain: Chain }>();
  /** The cluster-scoped policies: tier chains around the subject chains (tiers.ts). */
  private readonly tiers: TierCompiler;

  constructor(private readonly opts: NodeCompilerOptions) {
    this.tiers = new TierCompiler(opts, this.nsLabels);
  }

  /** The normalised policies of the last update (shareable with an `Engine` for the same cluster). */
  get normalizedPolicies(): readonly Policy[] {
    return this.policies;
  }

  private part(policy: Policy, direction: Direction): PolicyPart {
    let entry = this.parts.get(policy);
    if (!entry) this.parts.set(policy, (entry = {}));
    return (entry[direction] ??= policyPart(policy, direction));
  }

  private readonly nsLabels = (namespace: string): Labels => (this.namespaces ? namespaceLabels(this.namespaces, namespace) : automaticLabels(namespace));

  /**
   * The ruleset for `cluster`. Policies must be valid (see validate/); `policies`, when given, are the
   * cluster's policies already normalised (an engine's), and are compared by identity.
   */
  update(cluster: Cluster, policies?: readonly Policy[]): Ruleset {
    const nsChanged = this.updateNamespaces(cluster.namespaces);
    const podsChanged = this.updatePods(cluster.pods);
    const policiesChanged = this.updatePolicies(cluster.policies, policies);
    const tiersChanged = this.tiers.update(cluster);
    if (this.last && !nsChanged && !podsChanged && !policiesChanged && !tiersChanged) return this.last;
    this.last = this.ruleset();
    return this.last;
  }

  private updateNamespaces(next: ReadonlyMap<string, NamespaceInfo>): boolean {
    const before = this.namespaces;
    if (before === next) return false;
    this.namespaces = next;
    if (!before) return true;
    const changed: string[] = [];
    for (const name of new Set([...before.keys(), ...next.keys()])) {
      const a = namespaceLabels(before, name);
      const b = namespaceLabels(next, name);
      if (!sameLabels(a, b)) changed.push(name);
    }
    if (changed.length === 0) return false;
    this.tiers.namespacesChanged();
    const old = (namespace: string) => namespaceLabels(before, namespace);
    for (const [sig, state] of this.peerStates) {
      if (changed.some((ns) => state.scopeChanges(ns, old, this.nsLabels))) this.peerStates.delete(sig);
    }
    return true;
  }

  private rebuild(pods: readonly PodInfo[]): void {
    const table = PodTable.build(pods);
    this.table = table;
    this.order = pods.map((_, i) => i);
    this.peerStates.clear();
    this.portStates.clear();
    this.local.clear();
    this.shared.clear();
    this.unscheduled = 0;
    pods.forEach((p, slot) => {
      if (p.nodeName === this.opts.node) this.local.add(slot);
      if (!p.nodeName) this.unscheduled++;
    });
    for (const family of [4, 6] as const) {
      const { vals, texts, length } = table.sorted(family);
      for (let i = 1; i < length; i++) {
        if (vals[i] === vals[i - 1]) this.shared.set(texts[i] as string, { family, value: vals[i], text: texts[i] } as Addr);
      }
    }
  }

  private updatePods(next: readonly PodInfo[]): boolean {
    const prev = this.pods;
    if (this.table && prev === next) return false;
    this.pods = next;
    const table = this.table;
    if (!table) {
      this.rebuild(next);
      return true;
    }
    // Changed pods: whatever lies between the common head and the common tail (by identity).
    const start = commonHead(prev, next);
    const tail = commonTail(prev, next, start);
    const endPrev = prev.length - tail;
    const endNext = next.length - tail;
    if (endPrev - start + (endNext - start) > REBUILD_CHANGES + next.length / 16) {
      this.rebuild(next);
      return true;
    }
    const pool = new Map<PodInfo, number[]>();
    for (let i = start; i < endPrev; i++) {
      const list = pool.get(prev[i] as PodInfo);
      if (list) list.push(this.order[i] as number);
      else pool.set(prev[i] as PodInfo, [this.order[i] as number]);
    }
    const middle: number[] = [];
    const added: number[] = [];
    for (let i = start; i < endNext; i++) {
      const slot = pool.get(next[i] as PodInfo)?.pop();
      middle.push(slot ?? -1);
      if (slot === undefined) added.push(i - start);
    }
    let removed = [...pool.values()].flat();
    if (removed.length === 0 && added.length === 0 && endPrev - start === endNext - start) {
      // Only reordered: nothing the ruleset depends on.
      this.order.splice(start, endPrev - start, ...middle);
      return false;
    }
    let changed = false;
    // A new object for a pod of the same name keeps its slot: unchanged, or changed in place when its
    // addresses stay (labels, ports, node), which moves nothing in the sorted address arrays.
    if (removed.length > 0 && added.length > 0) {
      const byKey = new Map<string, number[]>();
      for (const slot of removed) byKey.set(table.key(slot), [...(byKey.get(table.key(slot)) ?? []), slot]);
      const reused = new Set<number>();
      for (const k of added) {
        const pod = next[start + k] as PodInfo;
        const candidates = byKey.get(`${pod.namespace}/${pod.name}`)?.filter((s) => !reused.has(s)) ?? [];
        const same = candidates.find((s) => samePod(table.pods[s] as PodInfo, pod));
        if (same !== undefined) {
          reused.add(same);
          table.replace(same, pod);
          middle[k] = same;
          continue;
        }
        const moved = candidates.find((s) => sameAddresses(table.pods[s] as PodInfo, pod));
        if (moved === undefined) continue;
        reused.add(moved);
        this.changePod(table, moved, pod);
        middle[k] = moved;
        changed = true;
      }
      removed = removed.filter((s) => !reused.has(s));
    }
    for (const slot of removed) {
      changed = true;
      this.removePod(table, slot);
    }
    for (const k of added) {
      if (middle[k] !== -1) continue;
      changed = true;
      middle[k] = this.addPod(table, next[start + k] as PodInfo);
    }
    this.order.splice(start, endPrev - start, ...middle);
    return changed;
  }

  private removePod(table: PodTable, slot: number): void {
    const pod = table.pods[slot] as PodInfo;
    for (const s of this.peerStates.values()) s.removePod(table, slot);
    for (const s of this.portStates.values()) s.removePod(table, slot);
    const addrs = table.addrs(slot);
    table.remove(slot);
    this.local.delete(slot);
    if (!pod.nodeName) this.unscheduled--;
    for (const a of addrs) this.checkShared(table, a);
  }

  private changePod(table: PodTable, slot: number, pod: PodInfo): void {
    const old = table.pods[slot] as PodInfo;
    table.replace(slot, pod);
    for (const s of this.peerStates.values()) s.changePod(table, slot);
    for (const s of this.portStates.values()) s.changePod(table, slot);
    if (old.nodeName === this.opts.node) this.local.delete(slot);
    if (!old.nodeName) this.unscheduled--;
    if (pod.nodeName === this.opts.node) this.local.add(slot);
    if (!pod.nodeName) this.unscheduled++;
  }

  private addPod(table: PodTable, pod: PodInfo): number {
    const slot = table.add(pod);
    for (const s of this.peerStates.values()) s.addPod(table, slot);
    for (const s of this.portStates.values()) s.addPod(table, slot);
    if (pod.nodeName === this.opts.node) this.local.add(slot);
    if (!pod.nodeName) this.unscheduled++;
    for (const a of table.addrs(slot)) this.checkShared(table, a);
    return slot;
  }

  private checkShared(table: PodTable, a: Addr): void {
    if (table.claimants(a.family, a.value).length > 1) this.shared.set(a.text, a);
    else this.shared.delete(a.text);
  }

  private updatePolicies(infos: readonly PolicyInfo[], given: readonly Policy[] | undefined): boolean {
    let next: readonly Policy[];
    if (given) {
      if (given === this.givenPolicies) return false;
      this.givenPolicies = given;
      this.policyInfos = undefined;
      next = given.map((p) => underGlobalMode(p, this.opts.mode ?? 'enforce'));
    } else {
      if (infos === this.policyInfos) return false;
      this.policyInfos = infos;
      this.givenPolicies = undefined;
      // Normalised once per distinct content: a re-read policy that did not change is the same Policy.
      const seen = new Map<string, Policy>();
      next = infos.map((info) => {
        const json = JSON.stringify([info.namespace, info.name, modeOf(info), info.policy.spec]);
        let p = seen.get(json) ?? this.normalized.get(json);
        if (!p) p = underGlobalMode(normalizePolicy(info), this.opts.mode ?? 'enforce');
        seen.set(json, p);
        return p;
      });
      this.normalized.clear();
      for (const [k, v] of seen) this.normalized.set(k, v);
    }
    const same = next.length === this.policies.length && next.every((p, i) => p === this.policies[i]);
    this.policies = next;
    if (same) return false;
    this.byNamespace = new Map();
    for (const p of next) {
      const list = this.byNamespace.get(p.ref.namespace);
      if (list) list.push(p);
      else this.byNamespace.set(p.ref.namespace, [p]);
    }
    return true;
  }

  /** The policies isolating a pod per direction (the isolation rule: src/policy/rules.ts). */
  private selecting(pod: PodInfo): Record<Direction, Policy[]> {
    return isolatingPolicies(this.byNamespace.get(pod.namespace) ?? [], pod);
  }

  private ruleset(): Ruleset {
    const table = this.table as PodTable;
    const opts = this.opts;
    const localSlots = [...this.local].sort(table.compare);
    const withoutIP: string[] = [];
    const hostNetwork: string[] = [];
    const chains = new Map<string, SubjectChain>();
    const mapElements = new Map<string, { value: number | bigint; text: string; chain: string }[]>();
    let isolated = 0;
    for (const slot of localSlots) {
      const pod = table.pods[slot] as PodInfo;
      if (pod.hostNetwork) {
        hostNetwork.push(table.key(slot));
        continue;
      }
      const addrs = table.addrs(slot);
      if (addrs.length === 0) {
        withoutIP.push(table.key(slot));
        continue;
      }
      // An address claimed by several pods keys the maps for the first of them by namespace/name.
      const owned = addrs.filter((a) => !this.shared.has(a.text) || [...table.claimants(a.family, a.value)].sort(table.compare)[0] === slot);
      const selecting = this.selecting(pod);
      let inMap = false;
      for (const direction of DIRECTIONS) {
        // A pod that is not isolated is not in the map.
        const isolating = selecting[direction].sort(byKey);
        let subject: string | undefined;
        let staged = false;
        if (isolating.length > 0) {
          const { policies, audit } = chainPolicies(isolating);
          subject = subjectChainName(
            direction,
            policies.map((p) => p.key),
          );
          staged = audit;
          if (!chains.has(subject)) chains.set(subject, { name: subject, direction, policies, audit });
        }
        // NetworkPolicy's tier in a staged cluster policy's audit view: every isolating policy, audit tail.
        const auditView = (): string | undefined => {
          if (isolating.length === 0) return undefined;
          const view = auditViewChainName(direction, isolating);
          if (!chains.has(view)) chains.set(view, { name: view, direction, policies: isolating, audit: true });
          return view;
        };
        const name = this.tiers.chainFor(pod, direction, subject, staged, auditView);
        if (name === undefined) continue;
        for (const a of owned) {
          const map = dispatchMapName(direction, a.family);
          const list = mapElements.get(map);
          const e = { value: a.value, text: a.text, chain: name };
          if (list) list.push(e);
          else mapElements.set(map, [e]);
          inMap = true;
        }
      }
      if (inMap) isolated++;
    }

    const peerRefs = new Map<string, { readonly ref: PeerSetRef; readonly sig: string }>();
    const portRefs = new Map<string, NamedPortRef>();
    const chainCache = new Map<string, { readonly policies: readonly Policy[]; readonly chain: Chain }>();
    const subjectChains: Chain[] = [...chains.values()].sort(byName).map((c) => {
      const parts = c.policies.map((p) => this.part(p, c.direction));
      for (const part of parts) {
        for (const [name, ref, sig] of part.peerRefs) if (!peerRefs.has(name)) peerRefs.set(name, { ref, sig });
        for (const [name, ref] of part.portRefs) if (!portRefs.has(name)) portRefs.set(name, ref);
      }
      // The same policies make the same chain: the last ruleset's object is handed out again.
      const cached = this.chainCache.get(c.name);
      if (cached && cached.policies.length === c.policies.length && cached.policies.every((p, i) => p === c.policies[i])) {
        chainCache.set(c.name, cached);
        return cached.chain;
      }
      const chain: Chain = {
        name: c.name,
        comment: quotable(`${c.direction} of pods isolated by ${c.policies.map((p) => p.key).join(', ')}${c.audit ? ' (audit mode)' : ''}`, MAX_COMMENT),
        rules: [...parts.flatMap((part) => part.rules), ...(c.audit ? auditRules(c, opts.logRate) : denyRules(c, opts))],
      };
      chainCache.set(c.name, { policies: c.policies, chain });
      return chain;
    });
    this.chainCache = chainCache;
    const tiers = this.tiers.finish();
    for (const [name, entry] of tiers.peerRefs) if (!peerRefs.has(name)) peerRefs.set(name, entry);
    for (const [name, ref] of tiers.portRefs) if (!portRefs.has(name)) portRefs.set(name, ref);

    const usedPeers = new Set<string>();
    const usedPorts = new Set<string>();
    const sets: NamedSet[] = [];
    for (const [name, { ref, sig }] of peerRefs) {
      usedPeers.add(sig);
      let state = this.peerStates.get(sig);
      if (!state) {
        state = new PeerState(sig, ref.policy, ref.rule, this.nsLabels, ref.skipHostNetwork);
        state.reuseArrays = this.opts.reuseArrays === true;
        state.build(table);
        this.peerStates.set(sig, state);
      }
      sets.push({
        name,
        type: ref.family === 4 ? 'ipv4_addr' : 'ipv6_addr',
        interval: ref.blocks,
        comment: quotable(`${ref.comment ?? `${ref.blocks ? 'ipBlocks' : 'peers'} of ${ref.policy.key} ${ref.rule.direction}[${ref.rule.index}]`} (IPv${ref.family})`, MAX_COMMENT),
        elements: ref.blocks ? state.blockElements(ref.family) : state.elements(ref.family),
      });
    }
    for (const [name, ref] of portRefs) {
      const key = `${ref.protocol}/${ref.name}/${ref.family}`;
      usedPorts.add(key);
      let state = this.portStates.get(key);
      if (!state) {
        state = new PortState(ref.protocol, ref.name, ref.family);
        state.reuseArrays = this.opts.reuseArrays === true;
        state.build(table);
        this.portStates.set(key, state);
      }
      sets.push({
        name,
        type: ref.family === 4 ? 'ipv4_addr . inet_service' : 'ipv6_addr . inet_service',
        interval: false,
        comment: quotable(`pods' ${ref.protocol} port named ${ref.name} (IPv${ref.family})`, MAX_COMMENT),
        elements: state.elementsOf(),
      });
    }
    // States no rule uses any more would only cost time on every pod change.
    for (const sig of this.peerStates.keys()) if (!usedPeers.has(sig)) this.peerStates.delete(sig);
    for (const key of this.portStates.keys()) if (!usedPorts.has(key)) this.portStates.delete(key);
    sets.sort(byName);

    const maps: VerdictMap[] = [];
    for (const direction of DIRECTIONS) {
      for (const family of FAMILIES) {
        const name = dispatchMapName(direction, family);
        const elements = (mapElements.get(name) ?? []).sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
        maps.push({ name, type: family === 4 ? 'ipv4_addr' : 'ipv6_addr', elements: elements.map((e) => [e.text, e.chain] as const) });
      }
    }
    maps.sort(byName);

    const notes: CompileNotes = {
      node: opts.node,
      localPods: this.local.size,
      isolatedPods: isolated,
      withoutIP,
      hostNetwork,
      unscheduled: this.unscheduled,
      subjectChains: Object.fromEntries([...chains.values()].sort(byName).map((c) => [c.name, { direction: c.direction, policies: c.policies.map((p) => p.key) }])),
      sharedIPs: [...this.shared.values()]
        .map(
          (a) =>
            `${a.text}: ${[...table.claimants(a.family, a.value)]
              .sort(table.compare)
              .map((s) => table.key(s))
              .join(', ')}`,
        )
        .sort(),
      ...(tiers.domainNames.length > 0 ? { domainNames: tiers.domainNames } : {}),
    };
    return {
      family: 'inet',
      table: opts.table ?? DEFAULT_TABLE,
      comment: quotable(`netpol: NetworkPolicy enforcement on node ${opts.node}`, MAX_COMMENT),
      sets,
      maps,
      chains: [...baseChains(), ...[...subjectChains, ...tiers.chains].sort(byName)],
      notes,
    };
  }
}

/**
 * The ruleset of one node. Pure: the same cluster and options always give the same ruleset. Policies must
 * be valid (see validate/); pass an already built engine to share its normalised policies. To compile the
 * same node again after a change, keep a `NodeCompiler`: it costs only what changed.
 */
export function compileNode(cluster: Cluster, opts: CompileOptions, engine?: Engine): Ruleset {
  return new NodeCompiler(opts).update(cluster, engine?.policies);
}
