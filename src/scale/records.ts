/**
 * The records the class engine keeps (namespaces, classes, peers, selectors, policies, groups, cached
 * counts) and the small list helpers they share. Ids index the engine's arrays; lists of ids are kept
 * ascending where noted, so membership is a binary search.
 */
import { parseIP, type AddressSet, type IP } from '../ip/index.js';
import { type Labels, type PodInfo, type PolicyInfo } from '../model/index.js';
import { type PortSpec } from '../policy/index.js';
import { type Selector } from '../selector/index.js';
import type { PortAgg, PortProfile } from './ports.js';
import { type ScaleProbe } from './types.js';

export const NO_GROUPS: ReadonlySet<number> = new Set();
export const NO_RULES: readonly RuleRec[] = Object.freeze([]);

export const EGRESS = 0;
export const INGRESS = 1;
export type Dir = typeof EGRESS | typeof INGRESS;

export interface NsRec {
  readonly id: number;
  readonly name: string;
  readonly labels: Labels;
  readonly classes: number[];
  /** Pod peers scoped to this namespace (`podSelector` without `namespaceSelector`). */
  readonly ownPeers: number[];
  /** Namespace selectors (ids) that match this namespace. */
  readonly nsSels: number[];
  /** Subject selectors of this namespace's policies. */
  readonly subjSels: number[];
  /** Those selectors, and the own peers, by selector id (see `selId`; -1: no podSelector). */
  readonly subjBySel: Map<number, number>;
  readonly ownPeerBySel: Map<number, number>;
}

/** Ids, ascending where noted: an array, or a view into a typed buffer the bulk build fills. */
export type IdList = readonly number[] | Int32Array;

export interface ClassRec {
  readonly id: number;
  readonly ns: number;
  readonly labels: Labels;
  readonly labelsKey: string;
  readonly profile: PortProfile;
  /** Its ipBlock signature (the ipBlock peers that match it: `SigRec`). */
  sig: number;
  key: string;
  weight: number;
  readonly pods: Set<PodInfo>;
  /**
   * Ids of the pod peers (selectors) that match this class, ascending; its ipBlock peers are its
   * signature's. Made when first read (see `ClassRecord`); made for every class at once, they are
   * arrays, or on large clusters views into one buffer shared by every class (outside the collected
   * heap: 96 million entries on the adversarial shape at 50,000 classes; see bits.ts); a change that
   * adds a peer to the class makes it an array.
   */
  peers: IdList;
  /** Every peer that matches it, as two ascending lists: `peers`, its signature's (kept in step with both). */
  lists: readonly IdList[];
  /** Subject selectors (of policies in the class's namespace) that match it, ascending. */
  readonly subj: number[];
  /** Egress and ingress group ids. */
  readonly group: [number, number];
}

/** What makes the classes' peer lists when a class's are first read. */
export interface PeerListMaker {
  /** Gives class c its `peers` and `lists` (and every class its own, once single classes would cost more). */
  makePeerListsOf(c: ClassRec): void;
}

/**
 * A class. Design choice: the bulk build leaves the classes' peer lists unmade. A whole-cluster count
 * reads only the peers' side, so `matrix --summary` never pays for them (2.4 s and 385 MB on the
 * adversarial shape at 50,000 classes, one entry per class and matching peer). A query reads two
 * classes' lists: each is made on its own (one binary search per pod peer, about a millisecond there),
 * until the single lists made have cost about as much as making every class's at once, which is done
 * then. The engine makes them all before any change, so a change never sees them half made.
 */
export class ClassRecord implements ClassRec {
  weight = 0;
  readonly pods = new Set<PodInfo>();
  readonly subj: number[] = [];
  readonly group: [number, number] = [-1, -1];
  private ownPeers: IdList | undefined;
  private ownLists: readonly IdList[] | undefined;

  constructor(
    readonly id: number,
    readonly ns: number,
    readonly labels: Labels,
    readonly labelsKey: string,
    readonly profile: PortProfile,
    public sig: number,
    public key: string,
    private readonly maker: PeerListMaker,
  ) {}

  get peers(): IdList {
    if (this.ownPeers === undefined) this.make();
    return this.ownPeers!;
  }

  set peers(list: IdList) {
    this.ownPeers = list;
  }

  get lists(): readonly IdList[] {
    if (this.ownLists === undefined) this.make();
    return this.ownLists!;
  }

  set lists(lists: readonly IdList[]) {
    this.ownLists = lists;
  }

  /** Have its lists been made? */
  get hasLists(): boolean {
    return this.ownLists !== undefined;
  }

  private make(): void {
    this.maker.makePeerListsOf(this);
    if (this.ownPeers === undefined || this.ownLists === undefined) throw new Error(`class ${this.id}: peer lists not made`);
  }
}

export interface PeerRec {
  readonly id: number;
  readonly kind: 'pods' | 'ipBlock';
  /** Namespace of a `podSelector`-only peer, else -1. */
  readonly ownNs: number;
  /** Namespace selector id, else -1. */
  readonly nsSel: number;
  readonly podSel: Selector | undefined;
  readonly addresses: AddressSet | undefined;
  /**
   * A pod peer's member classes, ascending until the build ends (then a new class is appended); empty for
   * an ipBlock peer, whose members are its signatures' (see `eachMember`). The bulk build gives typed
   * arrays (tens of millions of entries on some clusters: outside the collected heap); a class added
   * later turns its peers' lists into plain arrays (`addMember`).
   */
  members: number[] | Int32Array;
  /** An ipBlock peer: the signatures that contain it, and how many classes they hold. */
  readonly sigs: number[];
  size: number;
  /** Groups (egress, ingress) whose table names this peer (created when first needed). */
  readonly inGroups: [Set<number> | undefined, Set<number> | undefined];
}

/**
 * An ipBlock signature: a set of ipBlock peers, and the classes whose pods lie in exactly those. An
 * ipBlock such as `10.0.0.0/8` minus a /24 matches nearly every class: kept per signature, not per
 * class, its memberships cost the number of signatures, not classes x peers.
 */
export interface SigRec {
  readonly id: number;
  /** Ascending. */
  readonly peers: readonly number[];
  /** Classes with this signature (with pods or not). */
  readonly classes: number[];
}

export interface NsSelRec {
  readonly id: number;
  readonly sel: Selector;
  readonly namespaces: number[];
  readonly peers: number[];
  /** Its peers by pod selector id (-1: no podSelector). */
  readonly peerBySel: Map<number, number>;
}

export interface SubjRec {
  readonly id: number;
  readonly ns: number;
  readonly sel: Selector;
  readonly members: number[];
  /** Its policies (a policy is in one subject's list once). */
  readonly policies: PolicyRec[];
  /** Number of policies on this selector affecting egress, ingress. */
  readonly count: [number, number];
  /** Groups whose key contains this selector. */
  readonly groups: Set<number>;
}

export interface RuleRec {
  readonly peers: readonly number[] | undefined;
  readonly ports: readonly PortSpec[] | undefined;
}

export interface PolicyRec {
  readonly info: PolicyInfo;
  readonly subj: number;
  readonly affects: readonly [boolean, boolean];
  readonly rules: readonly [readonly RuleRec[], readonly RuleRec[]];
}

export interface Cell {
  w: number;
  readonly classes: Set<number>;
}

export interface GroupRec {
  readonly id: number;
  readonly dir: Dir;
  readonly key: string;
  readonly sels: readonly number[];
  /** Some policy selects the members for this direction. */
  readonly isolated: boolean;
  table: Map<number, PortAgg>;
  /** The table's entries as two lists (peer, ports), for the dense count; built when it first needs them. */
  tablePeers: number[] | undefined;
  tableAggs: PortAgg[] | undefined;
  /** Ports of the rules without peers ("matches all sources/destinations"). */
  any: PortAgg | undefined;
  /** Some entry names a port (so what the table admits depends on the destination's profile). */
  named: boolean;
  readonly members: Set<number>;
  weight: number;
  /** Members by port profile (id): the cells. */
  readonly byProfile: Map<number, Cell>;
}

export interface ProbeCache {
  readonly probe: ScaleProbe;
  count: number;
  dirty: boolean;
  /** Open ends for this probe, kept across changes (see OpenCache). */
  open: OpenCache;
}

/**
 * For one probe and each destination profile: the ingress groups that admit every source ("open
 * destinations") and the egress groups that reach every destination ("open sources"), with their
 * total weight. Kept by the engine across changes: pods joining or leaving a group adjust the weights; a
 * group whose rules change, or a new group, is put in or out.
 */
export interface OpenCache {
  readonly dest: Map<number, { w: number; cells: Set<number> }>;
  readonly src: Map<number, { w: number; groups: Set<number> }>;
  /** What each group's table admits, by group id then profile id; dropped for a group whose table changes. */
  readonly admit: ((AdmitSet | undefined)[] | undefined)[];
  /** Profile-independent answers (numeric probe, no named ports in the table), by group id. */
  readonly shared: (AdmitSet | undefined)[];
}

export interface AdmitSet {
  /** A rule without peers admits the probe: everyone is admitted. */
  readonly any: boolean;
  readonly peers: Set<number>;
}

export function newOpenCache(): OpenCache {
  return { dest: new Map(), src: new Map(), admit: [], shared: [] };
}

export function labelsKeyOf(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  let s = '';
  for (const k of keys) s += `${k}\u0000${labels[k] as string}\u0001`;
  return s;
}

export function parseIPs(pod: PodInfo): IP[] {
  const out: IP[] = [];
  for (const t of pod.ips) {
    const ip = parseIP(t);
    if (ip) out.push(ip);
  }
  return out;
}

/** Adds class c to a pod peer's members. */
export function addMember(p: PeerRec, c: number): void {
  if (!Array.isArray(p.members)) p.members = Array.from(p.members);
  (p.members as number[]).push(c);
}

/** Number of classes peer q matches. */
export function memberCount(peers: readonly PeerRec[], q: number): number {
  const p = peers[q]!;
  return p.kind === 'ipBlock' ? p.size : p.members.length;
}

/** Calls f with each class peer q matches. */
export function eachMember(peers: readonly PeerRec[], sigs: readonly SigRec[], q: number, f: (c: number) => void): void {
  const p = peers[q]!;
  if (p.kind !== 'ipBlock') {
    for (const c of p.members) f(c);
    return;
  }
  for (const s of p.sigs) for (const c of sigs[s]!.classes) f(c);
}

/** Calls f with each class (of `classes`) that peer q does not match. */
export function eachNonMember(classes: readonly ClassRec[], peers: readonly PeerRec[], sigs: readonly SigRec[], q: number, f: (c: number) => void): void {
  const p = peers[q]!;
  if (p.kind !== 'ipBlock') {
    const member = new Uint8Array(classes.length);
    for (const c of p.members) member[c] = 1;
    for (let c = 0; c < classes.length; c++) if (member[c] === 0) f(c);
    return;
  }
  // The signatures without q: those not in its (ascending) list.
  let k = 0;
  for (const s of sigs) {
    if (k < p.sigs.length && p.sigs[k] === s.id) {
      k++;
      continue;
    }
    for (const c of s.classes) f(c);
  }
}

/** Does peer q match class c? */
export function matchedBy(sigs: readonly SigRec[], c: ClassRec, q: number): boolean {
  return has(c.peers, q) || has(sigs[c.sig]!.peers, q);
}

/** Does some peer in `set` match class c? */
export function meetsClass(sigs: readonly SigRec[], c: ClassRec, set: ReadonlySet<number>): boolean {
  return meets(c.peers, set) || meets(sigs[c.sig]!.peers, set);
}

/** Is some element of the ascending list `list` in `set`? */
export function meets(list: IdList, set: ReadonlySet<number>): boolean {
  if (set.size === 0) return false;
  if (list.length <= set.size * 4) {
    for (const x of list) if (set.has(x)) return true;
    return false;
  }
  for (const x of set) if (has(list, x)) return true;
  return false;
}

/** Binary search in an ascending list. */
export function has(list: IdList, x: number): boolean {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = list[mid] as number;
    if (v < x) lo = mid + 1;
    else if (v > x) hi = mid - 1;
    else return true;
  }
  return false;
}

export function probeKey(p: ScaleProbe): string {
  return `${p.protocol}/${typeof p.port === 'number' ? p.port : `name:${p.port}`}`;
}
