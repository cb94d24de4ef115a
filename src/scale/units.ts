/**
 * Units of the dense count (see `DenseUnits` in dense.ts): classes that one side of every verdict
 * treats alike, gathered so that the count's bit matrices have one bit per unit, not per class.
 *
 * As a source, a class is seen through its egress group (which destinations it reaches) and through
 * the peers of ingress tables that match it (which cells admit it); as a destination, through its
 * ingress cell (group and port profile) and the peers of egress tables that match it. Classes differ
 * in labels no policy reads (a version, a zone) or in peers only the other direction names, so on real
 * clusters there are far fewer units than classes.
 *
 * Design choice: a unit's key is hashed from the class's peer list as it is walked (no string per
 * class: a class may be in hundreds of peers), and a class joins a unit only after its list is
 * compared with the unit's first class, so a hash collision costs a comparison, never a wrong count.
 *
 * Design choice: a side gives up on units when its first PROBE_CLASSES classes with pods are nearly all
 * units of their own (PROBE_GIVE_UP of them): the key pass walks every class's peer list, 96 million
 * entries per side on the adversarial shape at 50,000 classes, where every class is its own unit on
 * both sides, for no fewer bits. Measured prefixes (docs/benchmarks.md, "Fourth round"): mixed 50k
 * 1,595 source and 2,313 destination units in its first 4,096 classes (18,225 and 26,940 in all),
 * adversarial 4,096 and 4,096; clusters with fewer classes than the probe always keep their units (when
 * the count asks for units at all: `auto` counts up to UNITS_MIN_CLASSES classes without them).
 */
import type { DenseUnits } from './dense.js';
import { EGRESS, INGRESS, type ClassRec, type IdList, type PeerRec, type SigRec } from './records.js';

/** Classes with pods looked at before a side may give up on units, and the unit count that gives up. */
export const PROBE_CLASSES = 4096;
const PROBE_GIVE_UP = Math.ceil(PROBE_CLASSES * 0.97);

/**
 * The units of these classes (classes without pods get -1); a side is undefined when it gave up (see
 * above). `listsBelow(bound)` gives the peer lists of classes 0 .. bound - 1: the probe reads those,
 * so a side that gives up never has every class's lists made (see `ClassRecord`).
 */
export function denseUnits(classes: readonly ClassRec[], peers: readonly PeerRec[], sigs: readonly SigRec[], listsBelow: (bound: number) => readonly IdList[]): DenseUnits {
  // Which peers each side looks at: a source is matched by ingress tables' peers, a destination by egress tables'.
  const seenBy = [new Uint8Array(peers.length), new Uint8Array(peers.length)];
  for (const p of peers) {
    if ((p.inGroups[INGRESS]?.size ?? 0) > 0) seenBy[0]![p.id] = 1;
    if ((p.inGroups[EGRESS]?.size ?? 0) > 0) seenBy[1]![p.id] = 1;
  }
  // The probe's classes: up to the PROBE_CLASSES-th with pods.
  let bound = classes.length;
  let withPods = 0;
  for (const c of classes) {
    if (c.weight > 0 && ++withPods === PROBE_CLASSES) {
      bound = c.id + 1;
      break;
    }
  }
  const probed = listsBelow(bound);
  const peersOf = (c: ClassRec): IdList => (c.id < bound ? probed[c.id]! : c.peers);
  return {
    source: new Units(classes, sigs, seenBy[0]!, peersOf).of((c) => [c.group[EGRESS], -1]),
    destination: new Units(classes, sigs, seenBy[1]!, peersOf).of((c) => [c.group[INGRESS], c.profile.id]),
  };
}

/** A hash of the peers of a list that one side sees: two 32-bit hashes and their number. */
interface Hash {
  h1: number;
  h2: number;
  n: number;
}

function mix(h: Hash, list: IdList, seen: Uint8Array): void {
  for (const q of list) {
    if (seen[q] === 0) continue;
    h.h1 = Math.imul(h.h1 ^ q, 0x01000193);
    h.h2 = (Math.imul(h.h2, 31) + q) | 0;
    h.n++;
  }
}

class Units {
  /** Per signature, the hash of its ipBlock peers the side sees (computed once: hundreds of classes share one). */
  private readonly sigHash: (Hash | undefined)[] = [];

  constructor(
    private readonly classes: readonly ClassRec[],
    private readonly sigs: readonly SigRec[],
    private readonly seen: Uint8Array,
    /** A class's pod peers. */
    private readonly peersOf: (c: ClassRec) => IdList,
  ) {}

  of(cell: (c: ClassRec) => readonly [number, number]): Int32Array | undefined {
    const unitOf = new Int32Array(this.classes.length).fill(-1);
    /** Key -> the first class of each unit with that key (more than one only on a hash collision). */
    const firsts = new Map<string, ClassRec[]>();
    let units = 0;
    let seen = 0;
    for (const c of this.classes) {
      if (c.weight === 0) continue;
      if (++seen === PROBE_CLASSES + 1 && units >= PROBE_GIVE_UP) return undefined;
      const [a, b] = cell(c);
      const h: Hash = { h1: (Math.imul(a, 0x9e3779b1) ^ b) | 0, h2: (Math.imul(b, 0x85ebca6b) ^ a) | 0, n: 0 };
      mix(h, this.peersOf(c), this.seen);
      const s = this.hashOfSig(c.sig);
      const key = `${a},${b},${h.n},${h.h1},${h.h2},${s.n},${s.h1},${s.h2}`;
      let list = firsts.get(key);
      if (list === undefined) firsts.set(key, (list = []));
      const same = list.find((f) => this.alike(f, c));
      if (same !== undefined) {
        unitOf[c.id] = unitOf[same.id]!;
      } else {
        list.push(c);
        unitOf[c.id] = units++;
      }
    }
    return unitOf;
  }

  private hashOfSig(sig: number): Hash {
    let h = this.sigHash[sig];
    if (h === undefined) {
      h = { h1: 0x2545f491, h2: 17, n: 0 };
      mix(h, this.sigs[sig]!.peers, this.seen);
      this.sigHash[sig] = h;
    }
    return h;
  }

  /** Do the same peers (among those seen) match both classes? (Their cells are equal: same key.) */
  private alike(x: ClassRec, y: ClassRec): boolean {
    if (!sameSeen(this.peersOf(x), this.peersOf(y), this.seen)) return false;
    return x.sig === y.sig || sameSeen(this.sigs[x.sig]!.peers, this.sigs[y.sig]!.peers, this.seen);
  }
}

/** Do two ascending lists hold the same elements among those seen? */
function sameSeen(a: IdList, b: IdList, seen: Uint8Array): boolean {
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < a.length && seen[a[i]!] === 0) i++;
    while (j < b.length && seen[b[j]!] === 0) j++;
    if (i === a.length || j === b.length) return i === a.length && j === b.length;
    if (a[i] !== b[j]) return false;
    i++;
    j++;
  }
}
