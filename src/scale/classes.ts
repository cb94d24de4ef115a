/**
 * The first layer of the class engine: namespaces, port profiles, ipBlock signatures, classes,
 * selectors and peers, and which peers match which classes.
 *
 * Design choice: a class is created bare during the bulk build (peers, subjects and groups are filled
 * in bulk afterwards, through label indexes); after the build a new class finds its peers and
 * subjects at once and is put in its groups (`regroup`, by the policy layer above).
 */
import { type AddressSet, type IP } from '../ip/index.js';
import { automaticLabels, podKey, type Labels, type PodInfo } from '../model/index.js';
import { type Peer } from '../policy/index.js';
import { EVERYTHING, matches, type Selector } from '../selector/index.js';
import { AddressAtoms } from './atoms.js';
import { classPeerLists, podPeerMembers } from './bits.js';
import { IpIndex } from './ipindex.js';
import { PortProfile } from './ports.js';
import { LabelIndex, selectIn, selectorKey } from './select.js';
import { ClassRecord, addMember, has, labelsKeyOf, parseIPs, type ClassRec, type IdList, type PeerListMaker, type NsRec, type NsSelRec, type PeerRec, type SigRec, type SubjRec } from './records.js';
import { ticker, type Progress, type ScaleOptions, type Strategy } from './types.js';

/** The members of a peer that has none in the bulk build (an ipBlock peer's are its signatures'). */
const NO_MEMBERS = new Int32Array(0);

/** The union of two ascending lists, ascending. */
function union(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j === b.length || (i < a.length && a[i]! < b[j]!)) out.push(a[i++]!);
    else if (i === a.length || b[j]! < a[i]!) out.push(b[j++]!);
    else {
      out.push(a[i++]!);
      j++;
    }
  }
  return out;
}

export abstract class ClassStore implements PeerListMaker {
  /** See {@link ScaleOptions.strategy}. */
  readonly strategy: Strategy;
  protected readonly progress: Progress | undefined;

  constructor(opts: ScaleOptions) {
    this.strategy = opts.strategy ?? 'auto';
    this.progress = opts.progress;
  }

  protected readonly nss: NsRec[] = [];
  protected readonly nsByName = new Map<string, number>();
  protected readonly nsIndex = new LabelIndex();
  protected readonly classes: ClassRec[] = [];
  protected readonly classByKey = new Map<string, number>();
  protected readonly classIndex = new LabelIndex();
  protected readonly peers: PeerRec[] = [];
  /** ipBlock peers by their canonical intervals. */
  protected readonly peerByKey = new Map<string, number>();
  protected readonly ipPeers: number[] = [];
  /** ipBlock peers by their text (`cidr` and `except`), before the set comparison. */
  protected readonly ipPeerByText = new Map<string, number>();
  /** ipBlock peers by address set object (a normalizer shares the set of equal ipBlocks). */
  protected readonly ipPeerBySet = new WeakMap<AddressSet, number>();
  /** Selector ids: equal selectors (same `selectorKey`) get the same id; remembered per object. */
  protected readonly selIds = new WeakMap<Selector, number>();
  protected readonly selIdByKey = new Map<string, number>();
  protected readonly nsSels: NsSelRec[] = [];
  protected readonly nsSelBySel = new Map<number, number>();
  protected readonly subjs: SubjRec[] = [];
  protected readonly profiles: PortProfile[] = [];
  protected readonly profileByKey = new Map<string, PortProfile>();
  /** Profiles by the named ports as listed (order and duplicates kept): skips building the key. */
  protected readonly profileByRaw = new Map<string, PortProfile>();
  protected readonly sigs: SigRec[] = [{ id: 0, peers: [], classes: [] }];
  protected readonly sigByKey = new Map<string, number>([['', 0]]);
  protected readonly podClass = new Map<PodInfo, number>();
  protected readonly podIPs = new Map<PodInfo, IP[]>();
  /** Built on the first lookup by name, then kept up to date. */
  protected podByKey: Map<string, PodInfo> | undefined;
  /** Keys (`ns/name`) shared by more than one loaded pod. */
  protected readonly sharedKeys = new Set<string>();

  protected ipIndex: IpIndex<PodInfo> = new IpIndex();
  protected readonly scratch: number[] = [];
  protected building = true;

  /**
   * Addresses (indexed, for changes later), then each pod's ipBlock signature (the ipBlock peers it
   * lies in, by id), computed once per distinct set of address atoms.
   */
  protected ipSignatures(pods: readonly PodInfo[]): Map<PodInfo, number> {
    const entries: { item: PodInfo; ips: IP[] }[] = [];
    for (const pod of pods) {
      if (this.podClass.has(pod) || this.podIPs.has(pod)) continue;
      const ips = parseIPs(pod);
      this.podIPs.set(pod, ips);
      if (ips.length > 0) entries.push({ item: pod, ips });
    }
    this.ipIndex = IpIndex.of(entries);
    const podSig = new Map<PodInfo, number>();
    if (this.ipPeers.length === 0) return podSig;
    const ipPeers = this.ipPeers;
    const atoms = new AddressAtoms(ipPeers.map((q) => this.peers[q]!.addresses!));
    const containing = atoms.containing(entries.flatMap((e) => e.ips));
    const sigOfAtoms = new Map<string, number>();
    for (const { item, ips } of entries) {
      const key = atoms.keyOf(ips);
      let sig = sigOfAtoms.get(key);
      if (sig === undefined) {
        // The peers containing one of the addresses: the union of ascending lists of indices into ipPeers (ascending too).
        let list = containing(ips[0]!).map((k) => ipPeers[k]!);
        for (let i = 1; i < ips.length; i++)
          list = union(
            list,
            containing(ips[i]!).map((k) => ipPeers[k]!),
          );
        sigOfAtoms.set(key, (sig = this.internSig(list)));
      }
      if (sig !== 0) podSig.set(item, sig);
    }
    return podSig;
  }

  /** Classes, bare (peers, selectors and groups come in bulk after). */
  protected bareClasses(pods: readonly PodInfo[], podSig: ReadonlyMap<PodInfo, number>): void {
    const tickPods = ticker(this.progress, 'pods', pods.length);
    let done = 0;
    for (const pod of pods) {
      tickPods(++done);
      if (this.podClass.has(pod)) continue;
      const ns = this.nss[this.nsByName.get(pod.namespace)!]!;
      const c = this.classFor(ns, pod.labels, this.profileOf(pod), podSig.get(pod) ?? 0);
      this.podClass.set(pod, c.id);
      c.pods.add(pod);
      c.weight++;
    }
  }

  /**
   * The member classes of every pod peer; the classes of every signature, and so the member count of
   * every ipBlock peer. The classes' peer lists are made when first read (`makePeerLists`).
   */
  protected fillPeers(): void {
    for (const c of this.classes) this.sigs[c.sig]!.classes.push(c.id);
    for (const s of this.sigs) for (const q of s.peers) this.peers[q]!.size += s.classes.length;
    const tickPeers = ticker(this.progress, 'peers', 1);
    const members = podPeerMembers(
      {
        count: this.classes.length,
        index: this.classIndex,
        labelsOf: (c) => this.classes[c]!.labels,
        nsOf: (c) => this.classes[c]!.ns,
        classesOf: (ns) => this.nss[ns]!.classes,
        namespacesOf: (s) => this.nsSels[s]!.namespaces,
        selectorId: (sel) => this.selId(sel),
      },
      this.peers.map((p) => (p.kind === 'pods' ? p : undefined)),
    );
    for (const p of this.peers) p.members = members[p.id] ?? NO_MEMBERS;
    this.peerListsMade = false;
    tickPeers(1);
  }

  /** False from the bulk build until every class's peer lists are made (see `ClassRecord`). */
  protected peerListsMade = true;
  /** Classes whose lists were made on their own since the bulk build. */
  private singleLists = 0;
  /** For single lists: the pod peers (ids) with members, theirs, and the memberships of all. */
  private singleSource: { readonly peers: Int32Array; readonly members: Int32Array[]; readonly memberships: number } | undefined;

  /** Gives every class its peer lists, from the peers' member lists (once; see `ClassRecord`). */
  makePeerLists(): void {
    if (this.peerListsMade) return;
    this.peerListsMade = true;
    this.singleSource = undefined;
    const lists = classPeerLists(this.classes.length, this.buildMembers());
    for (const c of this.classes) {
      c.peers = lists[c.id]!;
      c.lists = [c.peers, this.sigs[c.sig]!.peers];
    }
  }

  /**
   * Gives class c its peer lists: on their own (a binary search in each pod peer's members) until the
   * single classes made have cost about what making every class's lists at once costs (a few passes
   * over all memberships); then every class's.
   */
  makePeerListsOf(c: ClassRec): void {
    if (this.peerListsMade) return;
    const src = (this.singleSource ??= this.singleListSource());
    // A single class: one binary search (~16 steps) per peer with members.
    if (++this.singleLists * src.peers.length * 16 > src.memberships) return this.makePeerLists();
    const peers: number[] = [];
    for (let i = 0; i < src.peers.length; i++) if (has(src.members[i]!, c.id)) peers.push(src.peers[i]!);
    c.peers = peers;
    c.lists = [peers, this.sigs[c.sig]!.peers];
  }

  private singleListSource(): NonNullable<typeof this.singleSource> {
    const all = this.buildMembers();
    const peers: number[] = [];
    let memberships = 0;
    for (let q = 0; q < all.length; q++) {
      if (all[q]!.length === 0) continue;
      peers.push(q);
      memberships += all[q]!.length;
    }
    return { peers: Int32Array.from(peers), members: peers.map((q) => all[q]!), memberships };
  }

  /**
   * The peer lists of classes 0 .. bound - 1 without making every class's: lists of their own when the
   * classes' are not made yet (the peers' member lists are still the build's, ascending), else the
   * classes' own. A bound that takes in every class makes the classes' lists.
   */
  protected peerListsBelow(bound: number): readonly IdList[] {
    if (bound >= this.classes.length) this.makePeerLists();
    if (this.peerListsMade) return this.classes.slice(0, bound).map((c) => c.peers);
    return classPeerLists(bound, this.buildMembers());
  }

  /** The peers' member lists as the bulk build left them (typed, ascending: no change since). */
  private buildMembers(): Int32Array[] {
    return this.peers.map((p) => {
      if (!(p.members instanceof Int32Array)) throw new Error(`peer ${p.id}: members changed before the classes' peer lists were made`);
      return p.members;
    });
  }

  protected fillSubjects(): void {
    for (const s of this.subjs) {
      for (const c of this.selectSubjMembers(s)) {
        s.members.push(c);
        this.classes[c]!.subj.push(s.id);
      }
    }
  }

  // --- public: questions ----------------------------------------------------------------------------

  protected internNs(name: string, labels?: Labels): number {
    const known = this.nsByName.get(name);
    if (known !== undefined) return known;
    const id = this.nss.length;
    const rec: NsRec = {
      id,
      name,
      labels: labels ?? automaticLabels(name),
      classes: [],
      ownPeers: [],
      nsSels: [],
      subjSels: [],
      subjBySel: new Map(),
      ownPeerBySel: new Map(),
    };
    this.nss.push(rec);
    this.nsByName.set(name, id);
    this.nsIndex.add(id, rec.labels);
    for (const s of this.nsSels) {
      if (matches(s.sel, rec.labels)) {
        s.namespaces.push(id);
        rec.nsSels.push(s.id);
      }
    }
    return id;
  }

  protected profileOf(pod: PodInfo): PortProfile {
    let raw = '';
    for (const p of pod.ports) if (p.name) raw += `${p.protocol}/${p.name}=${p.port},`;
    const seen = this.profileByRaw.get(raw);
    if (seen) return seen;
    const p = this.internProfile(pod);
    this.profileByRaw.set(raw, p);
    return p;
  }

  protected internProfile(pod: PodInfo): PortProfile {
    const { key, byName } = PortProfile.keyOf(pod.ports);
    let p = this.profileByKey.get(key);
    if (!p) {
      p = new PortProfile(this.profiles.length, key, byName);
      this.profiles.push(p);
      this.profileByKey.set(key, p);
    }
    return p;
  }

  /** The signature of these ipBlock peers (ascending). */
  protected internSig(list: readonly number[]): number {
    const key = list.join(',');
    let id = this.sigByKey.get(key);
    if (id === undefined) {
      id = this.sigs.length;
      this.sigs.push({ id, peers: [...list], classes: [] });
      this.sigByKey.set(key, id);
      for (const q of list) this.peers[q]!.sigs.push(id);
    }
    return id;
  }

  /** Class c takes signature `sig` (after the build: the member counts of its ipBlock peers follow). */
  protected joinSig(c: ClassRec, sig: number): void {
    const s = this.sigs[sig]!;
    s.classes.push(c.id);
    for (const q of s.peers) this.peers[q]!.size++;
  }

  protected leaveSig(c: ClassRec): void {
    const s = this.sigs[c.sig]!;
    const at = s.classes.indexOf(c.id);
    if (at >= 0) s.classes.splice(at, 1);
    for (const q of s.peers) this.peers[q]!.size--;
  }

  protected classKey(ns: number, labelsKey: string, profile: PortProfile, sig: number): string {
    return `${ns}\u0002${labelsKey}\u0002${profile.id}\u0002${sig}`;
  }

  /** The class for these attributes, created (with its peers, selectors and groups) if new. */
  protected classFor(ns: NsRec, labels: Labels, profile: PortProfile, sig: number): ClassRec {
    const labelsKey = labelsKeyOf(labels);
    const key = this.classKey(ns.id, labelsKey, profile, sig);
    const known = this.classByKey.get(key);
    if (known !== undefined) return this.classes[known]!;
    const c = new ClassRecord(this.classes.length, ns.id, labels, labelsKey, profile, sig, key, this);
    this.classes.push(c);
    this.classByKey.set(key, c.id);
    ns.classes.push(c.id);
    this.classIndex.add(c.id, labels);
    if (this.building) return c;

    this.joinSig(c, sig);
    const peers: number[] = [];
    const test = (q: number): void => {
      const p = this.peers[q]!;
      if (p.podSel === undefined || matches(p.podSel, labels)) peers.push(q);
    };
    for (const q of ns.ownPeers) test(q);
    for (const s of ns.nsSels) for (const q of this.nsSels[s]!.peers) test(q);
    peers.sort((a, b) => a - b);
    c.peers = peers;
    c.lists = [peers, this.sigs[sig]!.peers];
    for (const q of peers) addMember(this.peers[q]!, c.id);
    for (const s of ns.subjSels) {
      const rec = this.subjs[s]!;
      if (matches(rec.sel, labels)) {
        c.subj.push(s);
        rec.members.push(c.id);
      }
    }
    this.regroup(c);
    return c;
  }

  // --- structure: selectors and peers --------------------------------------------------------------

  /** The id of a selector: equal ones (same canonical text) share it. */
  protected selId(sel: Selector): number {
    let id = this.selIds.get(sel);
    if (id === undefined) {
      const key = selectorKey(sel);
      id = this.selIdByKey.get(key);
      if (id === undefined) this.selIdByKey.set(key, (id = this.selIdByKey.size));
      this.selIds.set(sel, id);
    }
    return id;
  }

  protected internNsSel(sel: Selector): number {
    const sid = this.selId(sel);
    const known = this.nsSelBySel.get(sid);
    if (known !== undefined) return known;
    const id = this.nsSels.length;
    let namespaces: number[];
    if (sel.requirements.length === 0) {
      namespaces = [];
      for (let n = 0; n < this.nss.length; n++) namespaces.push(n);
    } else {
      namespaces = selectIn(
        sel,
        this.nsIndex,
        this.nss.map((n) => n.id),
        () => true,
        (n) => this.nss[n]!.labels,
      );
    }
    this.nsSels.push({ id, sel, namespaces, peers: [], peerBySel: new Map() });
    this.nsSelBySel.set(sid, id);
    for (const n of namespaces) this.nss[n]!.nsSels.push(id);
    return id;
  }

  protected internSubj(ns: number, sel: Selector): number {
    const sid = this.selId(sel);
    const nsRec = this.nss[ns]!;
    const known = nsRec.subjBySel.get(sid);
    if (known !== undefined) return known;
    const rec: SubjRec = { id: this.subjs.length, ns, sel, members: [], policies: [], count: [0, 0], groups: new Set() };
    this.subjs.push(rec);
    nsRec.subjBySel.set(sid, rec.id);
    nsRec.subjSels.push(rec.id);
    if (!this.building) {
      for (const c of this.selectSubjMembers(rec)) {
        rec.members.push(c);
        this.classes[c]!.subj.push(rec.id); // the newest selector: the list stays ascending
      }
    }
    return rec.id;
  }

  protected selectSubjMembers(s: SubjRec): number[] {
    const ns = this.nss[s.ns]!;
    return selectIn(
      s.sel,
      this.classIndex,
      ns.classes,
      (c) => this.classes[c]!.ns === ns.id,
      (c) => this.classes[c]!.labels,
    );
  }

  protected selectPeerMembers(p: PeerRec): number[] {
    const labelsOf = (c: number): Labels => this.classes[c]!.labels;
    const sel = p.podSel ?? EVERYTHING;
    if (p.ownNs >= 0) {
      const ns = this.nss[p.ownNs]!;
      return selectIn(sel, this.classIndex, ns.classes, (c) => this.classes[c]!.ns === ns.id, labelsOf);
    }
    const namespaces = this.nsSels[p.nsSel]!.namespaces;
    const out: number[] = [];
    if (sel.requirements.length === 0) {
      for (const n of namespaces) out.push(...this.nss[n]!.classes);
      return out;
    }
    let total = 0;
    for (const n of namespaces) total += this.nss[n]!.classes.length;
    const cand = this.classIndex.candidates(sel, total);
    if (cand !== undefined) {
      const inNs = new Set(namespaces);
      for (const c of cand) if (inNs.has(this.classes[c]!.ns) && matches(sel, labelsOf(c))) out.push(c);
    } else {
      for (const n of namespaces) for (const c of this.nss[n]!.classes) if (matches(sel, labelsOf(c))) out.push(c);
    }
    return out;
  }

  protected internPeer(peer: Peer, ownNs: number): number {
    let ownNsId = -1;
    let nsSel = -1;
    let key: string | undefined;
    let bySel: Map<number, number> | undefined;
    let sid = -1;
    if (peer.kind === 'ipBlock') {
      // The same set object (a normalizer shares them) or the same text: the same peer (the common
      // cases, cheap); else the set's canonical intervals decide.
      const bySet = this.ipPeerBySet.get(peer.addresses);
      if (bySet !== undefined) return bySet;
      const text = `${peer.cidr}\u0002${peer.except.join('\u0002')}`;
      const byText = this.ipPeerByText.get(text);
      if (byText !== undefined) {
        this.ipPeerBySet.set(peer.addresses, byText);
        return byText;
      }
      key = `B${[4, 6]
        .map((f) =>
          peer.addresses
            .intervals(f as 4 | 6)
            .map(([lo, hi]) => `${lo.toString(16)}-${hi.toString(16)}`)
            .join(','),
        )
        .join('/')}`;
      const known = this.peerByKey.get(key);
      this.ipPeerByText.set(text, known ?? this.peers.length);
      this.ipPeerBySet.set(peer.addresses, known ?? this.peers.length);
      if (known !== undefined) return known;
    } else {
      sid = peer.pods ? this.selId(peer.pods) : -1;
      if (peer.namespaces.kind === 'own') {
        ownNsId = ownNs;
        bySel = this.nss[ownNs]!.ownPeerBySel;
      } else {
        nsSel = this.internNsSel(peer.namespaces.selector);
        bySel = this.nsSels[nsSel]!.peerBySel;
      }
      const known = bySel.get(sid);
      if (known !== undefined) return known;
    }
    const rec: PeerRec = {
      id: this.peers.length,
      kind: peer.kind,
      ownNs: ownNsId,
      nsSel,
      podSel: peer.kind === 'pods' ? peer.pods : undefined,
      addresses: peer.kind === 'ipBlock' ? peer.addresses : undefined,
      members: [],
      sigs: [],
      size: 0,
      inGroups: [undefined, undefined],
    };
    this.peers.push(rec);
    if (key !== undefined) this.peerByKey.set(key, rec.id);
    else bySel!.set(sid, rec.id);
    if (rec.kind === 'ipBlock') this.ipPeers.push(rec.id);
    else if (ownNsId >= 0) this.nss[ownNsId]!.ownPeers.push(rec.id);
    else this.nsSels[nsSel]!.peers.push(rec.id);
    if (this.building) return rec.id;

    if (rec.kind === 'pods') {
      for (const c of this.selectPeerMembers(rec)) {
        addMember(rec, c);
        const cls = this.classes[c]!;
        cls.peers = [...cls.peers, rec.id]; // the newest peer: the list stays ascending
        cls.lists = [cls.peers, this.sigs[cls.sig]!.peers];
      }
    } else {
      this.splitByBlock(rec);
    }
    return rec.id;
  }

  /**
   * A new ipBlock peer: the classes whose pods all lie in it take it into their signature; classes
   * with pods on both sides split, the pods inside moving to a class whose signature has it.
   */
  protected splitByBlock(rec: PeerRec): void {
    const inside = new Map<number, Set<PodInfo>>();
    const add = (pod: PodInfo): void => {
      const c = this.podClass.get(pod);
      if (c === undefined) return;
      let set = inside.get(c);
      if (!set) inside.set(c, (set = new Set()));
      set.add(pod);
    };
    this.ipIndex.within(4, rec.addresses!.intervals(4), add);
    this.ipIndex.within(6, rec.addresses!.intervals(6), add);
    for (const [id, pods] of [...inside.entries()].sort((a, b) => a[0] - b[0])) {
      const c = this.classes[id]!;
      const sig = this.internSig([...this.sigs[c.sig]!.peers, rec.id]);
      if (pods.size === c.weight) {
        this.classByKey.delete(c.key);
        this.leaveSig(c);
        c.sig = sig;
        c.lists = [c.peers, this.sigs[sig]!.peers];
        this.joinSig(c, sig);
        c.key = this.classKey(c.ns, c.labelsKey, c.profile, sig);
        this.classByKey.set(c.key, c.id);
      } else {
        const target = this.classFor(this.nss[c.ns]!, c.labels, c.profile, sig);
        for (const pod of pods) {
          c.pods.delete(pod);
          this.attachWeight(c, -1);
          target.pods.add(pod);
          this.attachWeight(target, 1);
          this.podClass.set(pod, target.id);
        }
      }
    }
  }

  // --- structure: policies and groups --------------------------------------------------------------

  protected classRec(pod: PodInfo): ClassRec {
    const id = this.podClass.get(pod);
    if (id === undefined) throw new Error(`pod ${podKey(pod)} is not loaded in this engine`);
    return this.classes[id]!;
  }

  protected indexKey(pod: PodInfo): void {
    if (!this.podByKey) return;
    const key = podKey(pod);
    if (!this.podByKey.has(key)) this.podByKey.set(key, pod);
    else if (this.podByKey.get(key) !== pod) this.sharedKeys.add(key);
  }

  /** Puts a class in the groups its selectors call for (the policy layer). */
  protected abstract regroup(c: ClassRec): void;
  /** Adds `delta` pods to a class and to its groups' weights (the policy layer). */
  protected abstract attachWeight(c: ClassRec, delta: number): void;
}
