/**
 * The contents of the compiler's sets, kept up to date as pods come, go and change.
 *
 * Design choice: a set's elements are a function of its *peers* (a rule's `from`/`to`), the pods and the
 * namespaces, never of the policy that contains it, so one `PeerState` serves every rule with the same
 * peers (keyed by a structural signature) and survives edits to anything else in a policy. Each state keeps
 * which pod slots are members and its sorted element arrays per family. A pod change moves single
 * elements: a set gains or loses the pod's address (unless another member pod still holds it, or an
 * ipBlock of the rule covers it). Element arrays are copied before their first change in an update
 * (copy on write), so a ruleset handed out earlier never changes under the diff that compares against it.
 */
import { spansContain, unionSpans, type Family } from '../ip/index.js';
import type { Labels, PodInfo, Protocol } from '../model/index.js';
import { resolveNamedPort, type Direction, type Peer } from '../policy/index.js';
import { matches as selectorMatches } from '../selector/index.js';
import { cover, valueOf, type Addr, type PodTable, type SortedAddresses } from './addresses.js';
import { recordElementDelta } from './elements.js';

type SelectorPeer = Extract<Peer, { kind: 'pods' }>;
type BlockPeer = Extract<Peer, { kind: 'ipBlock' }>;

export type NamespaceLabels = (namespace: string) => Labels;

function grow(a: Uint8Array<ArrayBuffer>, size: number): Uint8Array<ArrayBuffer> {
  if (size <= a.length) return a;
  const b = new Uint8Array(Math.max(size, a.length * 2, 64));
  b.set(a);
  return b;
}

/** What a peer set's contents depend on besides its peers: the namespace a selector peer without a namespaceSelector means. */
export interface PeerOwner {
  readonly key: string;
  readonly ref: { readonly namespace: string };
}

/** The rule a peer set belongs to (a NetworkPolicy rule, or a cluster policy rule's peers in the same terms). */
export interface PeerRule {
  readonly direction: Direction;
  readonly index: number;
  readonly peers: readonly Peer[] | undefined;
}

/** One peer set of a ruleset: which rule's peers, which family, pods or blocks. */
export interface PeerSetRef {
  readonly policy: PeerOwner;
  readonly rule: PeerRule;
  readonly family: Family;
  /** The rule's ipBlocks rather than its pods. */
  readonly blocks: boolean;
  /**
   * Selector peers leave host-network pods out (cluster policies: "host-networked pods are not included
   * in [...] pods peers"); NetworkPolicy peers keep them, as the engine does.
   */
  readonly skipHostNetwork?: boolean;
  /** What the set's comment says it holds, when not one rule's peers (a set shared by every rule with these peers). */
  readonly comment?: string;
}

/** One named-port set: `address . port` of the pods defining the name for the protocol. */
export interface NamedPortRef {
  readonly protocol: Protocol;
  readonly name: string;
  readonly family: Family;
}

/** The structural identity of a rule's peers: rules with the same signature have the same set contents. */
export function peerSignature(policy: PeerOwner, rule: PeerRule): string {
  return JSON.stringify(
    (rule.peers ?? []).map((p) =>
      p.kind === 'ipBlock' ? ['b', p.cidr, p.except] : ['p', p.namespaces.kind === 'own' ? policy.ref.namespace : p.namespaces.selector.requirements, p.pods?.requirements ?? null],
    ),
  );
}

/** Where an element sorts: its address value, then (for `address . port`) the port. */
type Key = readonly [number | bigint, number];

function before(a: Key, b: Key): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

/**
 * Sorted element arrays, one per family. Changes during an update are kept as net edits (added or
 * removed, per element) and applied when the array is next asked for; the edits are recorded beside the
 * new array for `renderDiff` (elements.ts).
 *
 * By default an array is never changed once handed out: a few edits make a copy (about 0.7 ms for
 * 100,000 elements, and garbage). With `reuseArrays`, two arrays per family take turns: a few edits are
 * made in place to the array handed out the time before last, after replaying the edits it missed, so
 * the array handed out last stays as it was. A ruleset's arrays then stay valid until the second update
 * after it: enough to diff each ruleset against the one before, which is all the agent does.
 */
export abstract class ElementSets {
  protected els: Record<Family, readonly string[]> = { 4: [], 6: [] };
  /** Element -> true (added) or false (removed) since the arrays were last handed out. */
  private readonly pending: Record<Family, Map<string, boolean>> = { 4: new Map(), 6: new Map() };
  /** Take turns between two arrays instead of copying (see above). */
  reuseArrays = false;
  /** The array before `els`, no longer handed out, and the edits that made `els` from it. */
  private spare: Record<Family, { readonly array: string[]; readonly removed: readonly string[]; readonly added: readonly string[] } | undefined> = { 4: undefined, 6: undefined };

  /** A freshly built array for a family (no edits known from the previous one). */
  protected setElements(family: Family, els: readonly string[]): void {
    this.els[family] = els;
    this.spare[family] = undefined;
  }

  /** Applies sorted edits to a sorted array in place. */
  private editInPlace(els: string[], family: Family, removed: readonly string[], added: readonly string[]): void {
    for (const t of removed) {
      const i = this.position(els, family, this.key(family, t));
      if (els[i] !== t) throw new Error(`internal: ${t} is not in the array it is removed from`);
      els.splice(i, 1);
    }
    for (const t of added) els.splice(this.position(els, family, this.key(family, t)), 0, t);
  }

  protected abstract key(family: Family, text: string): Key;

  /** First index of `els` whose element does not sort before `k`. */
  private position(els: readonly string[], family: Family, k: Key): number {
    let lo = 0;
    let hi = els.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(this.key(family, els[mid] as string), k)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private inBase(family: Family, text: string): boolean {
    const els = this.els[family];
    return els[this.position(els, family, this.key(family, text))] === text;
  }

  protected has(family: Family, text: string): boolean {
    return this.pending[family].get(text) ?? this.inBase(family, text);
  }

  protected add(family: Family, text: string): void {
    if (this.has(family, text)) return;
    const p = this.pending[family];
    if (p.get(text) === false) p.delete(text);
    else p.set(text, true);
  }

  protected remove(family: Family, text: string): void {
    if (!this.has(family, text)) return;
    const p = this.pending[family];
    if (p.get(text) === true) p.delete(text);
    else p.set(text, false);
  }

  elements(family: Family): readonly string[] {
    const p = this.pending[family];
    if (p.size === 0) return this.els[family];
    const base = this.els[family];
    const byKey = (a: string, b: string) => {
      const ka = this.key(family, a);
      const kb = this.key(family, b);
      return before(ka, kb) ? -1 : before(kb, ka) ? 1 : 0;
    };
    const added = [...p]
      .filter(([, isAdd]) => isAdd)
      .map(([t]) => t)
      .sort(byKey);
    const removed = [...p]
      .filter(([, isAdd]) => !isAdd)
      .map(([t]) => t)
      .sort(byKey);
    p.clear();
    // Cut points in `base`: indexes to drop, and where each added element goes (both ascending).
    const drop = removed.map((t) => this.position(base, family, this.key(family, t)));
    const at = added.map((t) => this.position(base, family, this.key(family, t)));
    let out: string[];
    const few = drop.length + added.length <= 4;
    const spare = this.spare[family];
    if (few && this.reuseArrays && spare !== undefined) {
      // The array before `base`: bring it up to `base`, then make this update's edits.
      out = spare.array;
      this.editInPlace(out, family, spare.removed, spare.added);
      this.editInPlace(out, family, removed, added);
    } else if (few) {
      // A few edits (one pod): one exact-size copy per edit, from the end so positions stay valid.
      // At one index: the removal first, then the insertions, last one first (each goes before the previous).
      const cuts = [...drop.map((i) => ({ i, remove: 1, k: 0, insert: [] as string[] })), ...added.map((t, k) => ({ i: at[k] as number, remove: 0, k, insert: [t] }))];
      cuts.sort((x, y) => y.i - x.i || y.remove - x.remove || y.k - x.k);
      let cur: readonly string[] = base;
      for (const c of cuts) cur = cur.toSpliced(c.i, c.remove, ...c.insert);
      out = cur as string[];
    } else {
      out = [];
      let d = 0;
      let a = 0;
      for (let i = 0; i <= base.length; i++) {
        while (a < added.length && at[a] === i) out.push(added[a++] as string);
        if (i === base.length) break;
        if (d < drop.length && drop[d] === i) {
          d++;
          continue;
        }
        out.push(base[i] as string);
      }
    }
    this.els[family] = out;
    // Only a few edits are worth replaying into `base` the next time.
    this.spare[family] = this.reuseArrays && few ? { array: base as string[], removed, added } : undefined;
    recordElementDelta(out, { base, removed, added });
    return out;
  }
}

/**
 * The addresses one rule's peers match, as two sets per family. Selector peers contribute pod addresses
 * only ("pod selectors never match an address outside the cluster"). An ipBlock contributes `cidr` minus
 * every `except`, plus every address of a pod that has *some* address in it: the engine matches ipBlocks
 * against pods (implementation-defined; the upstream conformance tests expect it), by any of a dual-stack
 * pod's addresses, so the pod's other-family address must match too.
 *
 * The blocks go into an interval set of their own, which only a policy edit changes; the pod addresses
 * into a plain set, leaving out those the blocks already cover. Pod changes thus never touch an interval
 * set: nft (1.0.6) reads every interval set's elements before any element update of the table, which
 * with 100,000 pod addresses in one costs a second per update, against milliseconds for plain sets.
 */
export class PeerState extends ElementSets {
  protected key(family: Family, text: string): Key {
    return [valueOf(family, text), 0];
  }
  /** The rule has ipBlocks: it has a blocks set per family too. */
  readonly hasBlocks: boolean;
  private member = new Uint8Array(0);
  private readonly selectors: readonly SelectorPeer[];
  private readonly blocks: readonly BlockPeer[];
  /** The blocks' union per family: sorted disjoint [lo, hi] (IPv4 as numbers). */
  private readonly blocks4: readonly (readonly [number, number])[];
  private readonly blocks6: readonly (readonly [bigint, bigint])[];
  private readonly blockEls: Record<Family, readonly string[]>;
  /** Per selector peer: namespace -> in scope. */
  private readonly scopes: Map<string, boolean>[];

  constructor(
    readonly signature: string,
    private readonly policy: PeerOwner,
    rule: Pick<PeerRule, 'peers'>,
    private readonly nsLabels: NamespaceLabels,
    /** Selector peers do not match host-network pods (see `PeerSetRef.skipHostNetwork`). */
    private readonly skipHostNetwork = false,
  ) {
    super();
    const peers = rule.peers ?? [];
    this.selectors = peers.filter((p): p is SelectorPeer => p.kind === 'pods');
    this.blocks = peers.filter((p): p is BlockPeer => p.kind === 'ipBlock');
    this.hasBlocks = this.blocks.length > 0;
    this.scopes = this.selectors.map(() => new Map());
    this.blocks4 = unionSpans(this.blocks.flatMap((b) => b.addresses.intervals(4).map(([lo, hi]) => [Number(lo), Number(hi)] as const)));
    this.blocks6 = unionSpans(this.blocks.flatMap((b) => b.addresses.intervals(6)));
    const els4: string[] = [];
    for (const [lo, hi] of this.blocks4) cover(4, lo, hi, els4);
    const els6: string[] = [];
    for (const [lo, hi] of this.blocks6) cover(6, lo, hi, els6);
    this.blockEls = { 4: els4, 6: els6 };
  }

  /** The interval set of the rule's ipBlocks (`cidr` minus `except`, as a minimal list of prefixes). */
  blockElements(family: Family): readonly string[] {
    return this.blockEls[family];
  }

  private inBlocks(family: Family, v: number | bigint): boolean {
    return family === 4 ? spansContain(this.blocks4, v as number) : spansContain(this.blocks6, v as bigint);
  }

  /**
   * Whether pods of a namespace are in a selector peer's scope. From the API reference: "If
   * namespaceSelector is also set, then the NetworkPolicyPeer as a whole selects the Pods matching
   * PodSelector in the Namespaces selected by NamespaceSelector. Otherwise it selects the Pods matching
   * PodSelector in the policy's own Namespace"; a namespaceSelector alone "selects all Pods in the
   * Namespaces selected" (the pod selector, when present, is checked by the caller).
   */
  private inScope(i: number, namespace: string): boolean {
    const cache = this.scopes[i] as Map<string, boolean>;
    let v = cache.get(namespace);
    if (v === undefined) {
      v = scopeMatches(this.selectors[i] as SelectorPeer, this.policy, namespace, this.nsLabels);
      cache.set(namespace, v);
    }
    return v;
  }

  /** Whether the peers' result for pods of `namespace` differs between two label sets of it. */
  scopeChanges(namespace: string, before: NamespaceLabels, after: NamespaceLabels): boolean {
    return this.selectors.some((s) => scopeMatches(s, this.policy, namespace, before) !== scopeMatches(s, this.policy, namespace, after));
  }

  private matchesPod(pod: PodInfo, addrs: readonly Addr[]): boolean {
    for (let i = 0; i < this.selectors.length; i++) {
      const s = this.selectors[i] as SelectorPeer;
      if (this.skipHostNetwork && pod.hostNetwork) break;
      if (this.inScope(i, pod.namespace) && (s.pods === undefined || selectorMatches(s.pods, pod.labels))) return true;
    }
    return this.hasBlocks && addrs.some((a) => this.inBlocks(a.family, a.value));
  }

  /** Computes membership and elements from scratch. */
  build(table: PodTable): this {
    const member = new Uint8Array(Math.max(table.size, 64));
    const { start, order } = table.namespaceGroups();
    this.selectors.forEach((s, i) => {
      for (let id = 0; id < table.nsNames.length; id++) {
        const from = start[id] as number;
        const to = start[id + 1] as number;
        if (from === to || !this.inScope(i, table.nsNames[id] as string)) continue;
        const sel = s.pods;
        for (let k = from; k < to; k++) {
          const slot = order[k] as number;
          if (member[slot] === 1 || (this.skipHostNetwork && (table.pods[slot] as PodInfo).hostNetwork)) continue;
          if (sel === undefined || selectorMatches(sel, (table.pods[slot] as PodInfo).labels)) member[slot] = 1;
        }
      }
    });
    // A pod with an address in a block is a member with all its addresses.
    if (this.hasBlocks) {
      markBlocks(table.sorted(4), this.blocks4, member);
      markBlocks(table.sorted(6), this.blocks6, member);
    }
    this.member = member;
    this.setElements(4, this.podElements(table.sorted(4), this.blocks4));
    this.setElements(6, this.podElements(table.sorted(6), this.blocks6));
    return this;
  }

  /** Member addresses in order, de-duplicated, without those inside a block. */
  private podElements<V extends number | bigint>(list: SortedAddresses<V>, blocks: readonly (readonly [V, V])[]): string[] {
    const out: string[] = [];
    const member = this.member;
    const { vals, slots, texts, length } = list;
    let b = 0;
    let last: string | undefined;
    for (let i = 0; i < length; i++) {
      if (member[slots[i] as number] !== 1 || texts[i] === last) continue;
      const v = vals[i] as V;
      while (b < blocks.length && (blocks[b] as readonly [V, V])[1] < v) b++;
      if (b < blocks.length && (blocks[b] as readonly [V, V])[0] <= v) continue;
      last = texts[i] as string;
      out.push(last);
    }
    return out;
  }

  /** A pod leaves (or changes): its addresses go, unless another member pod holds them. Call before `table.remove`. */
  removePod(table: PodTable, slot: number): void {
    if (this.member[slot] !== 1) return;
    this.member[slot] = 0;
    for (const a of table.addrs(slot)) {
      if (this.inBlocks(a.family, a.value)) continue;
      if (table.claimants(a.family, a.value).some((s) => s !== slot && this.member[s] === 1)) continue;
      this.remove(a.family, a.text);
    }
  }

  /** A pod changed but kept its addresses: call after `table.replace`. */
  changePod(table: PodTable, slot: number): void {
    const pod = table.pods[slot];
    const addrs = table.addrs(slot);
    const now = pod !== undefined && addrs.length > 0 && this.matchesPod(pod, addrs);
    if (now === (this.member[slot] === 1)) return;
    if (now) this.addPod(table, slot);
    else this.removePod(table, slot);
  }

  /** A pod arrives (or changes): call after `table.add`. */
  addPod(table: PodTable, slot: number): void {
    this.member = grow(this.member, slot + 1);
    const pod = table.pods[slot];
    const addrs = table.addrs(slot);
    if (pod === undefined || addrs.length === 0 || !this.matchesPod(pod, addrs)) return;
    this.member[slot] = 1;
    for (const a of addrs) if (!this.inBlocks(a.family, a.value)) this.add(a.family, a.text);
  }
}

/** Marks the pods of every address (sorted) that lies in one of the intervals (sorted, disjoint). */
export function markBlocks<V extends number | bigint>(list: SortedAddresses<V>, blocks: readonly (readonly [V, V])[], member: Uint8Array): void {
  const { vals, slots, length } = list;
  let b = 0;
  for (let i = 0; i < length && b < blocks.length; i++) {
    const v = vals[i] as V;
    while (b < blocks.length && (blocks[b] as readonly [V, V])[1] < v) b++;
    if (b < blocks.length && (blocks[b] as readonly [V, V])[0] <= v) member[slots[i] as number] = 1;
  }
}

function scopeMatches(peer: SelectorPeer, policy: PeerOwner, namespace: string, nsLabels: NamespaceLabels): boolean {
  if (peer.namespaces.kind === 'own') return namespace === policy.ref.namespace;
  return selectorMatches(peer.namespaces.selector, nsLabels(namespace));
}

/**
 * `address . port` of every pod address (one family) whose pod defines the port name for the protocol:
 * "a name resolves against the destination pod's container ports". Sorted by address, then port.
 */
export class PortState extends ElementSets {
  protected key(family: Family, text: string): Key {
    const dot = text.indexOf(' . ');
    return [valueOf(family, text.slice(0, dot)), Number(text.slice(dot + 3))];
  }
  private port = new Int32Array(0);

  constructor(
    readonly protocol: Protocol,
    readonly name: string,
    readonly family: Family,
  ) {
    super();
  }

  private resolve(pod: PodInfo | undefined): number {
    return pod === undefined ? -1 : (resolveNamedPort(pod, this.name, this.protocol) ?? -1);
  }

  build(table: PodTable): this {
    const port = new Int32Array(Math.max(table.size, 64)).fill(-1);
    // Only pods that name some port can define this one.
    for (let slot = 0; slot < table.size; slot++) if (table.namedPorts[slot] === 1) port[slot] = this.resolve(table.pods[slot]);
    this.port = port;
    const out: string[] = [];
    const { vals, slots, texts, length } = table.sorted(this.family);
    for (let i = 0; i < length;) {
      const p = port[slots[i] as number] as number;
      if (i + 1 >= length || vals[i + 1] !== vals[i]) {
        if (p >= 0) out.push(`${texts[i] as string} . ${p}`);
        i++;
        continue;
      }
      // A run of pods sharing one address: each distinct port once, in order.
      let j = i;
      const ports: number[] = [];
      for (; j < length && vals[j] === vals[i]; j++) {
        const q = port[slots[j] as number] as number;
        if (q >= 0) ports.push(q);
      }
      ports.sort((a, b) => a - b);
      ports.forEach((q, k) => {
        if (k === 0 || q !== ports[k - 1]) out.push(`${texts[i] as string} . ${q}`);
      });
      i = j;
    }
    this.setElements(this.family, out);
    return this;
  }

  elementsOf(): readonly string[] {
    return this.elements(this.family);
  }

  removePod(table: PodTable, slot: number): void {
    const port = this.port[slot] ?? -1;
    if (port < 0) return;
    this.port[slot] = -1;
    for (const a of table.addrs(slot)) {
      if (a.family !== this.family) continue;
      if (table.claimants(a.family, a.value).some((s) => s !== slot && this.port[s] === port)) continue;
      this.remove(this.family, `${a.text} . ${port}`);
    }
  }

  /** A pod changed but kept its addresses: call after `table.replace`. */
  changePod(table: PodTable, slot: number): void {
    const addrs = table.addrs(slot);
    if ((addrs.length > 0 ? this.resolve(table.pods[slot]) : -1) === (this.port[slot] ?? -1)) return;
    this.removePod(table, slot);
    this.addPod(table, slot);
  }

  addPod(table: PodTable, slot: number): void {
    if (this.port.length <= slot) {
      const b = new Int32Array(Math.max(slot + 1, this.port.length * 2, 64)).fill(-1);
      b.set(this.port);
      this.port = b;
    }
    const addrs = table.addrs(slot);
    const port = addrs.length > 0 ? this.resolve(table.pods[slot]) : -1;
    this.port[slot] = port;
    if (port < 0) return;
    for (const a of addrs) if (a.family === this.family) this.add(this.family, `${a.text} . ${port}`);
  }
}
