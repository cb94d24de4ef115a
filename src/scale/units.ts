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
 */
import type { DenseUnits } from './dense.js';
import { EGRESS, INGRESS, type ClassRec, type PeerRec } from './records.js';

/** The units of these classes (classes without pods get -1). */
export function denseUnits(classes: readonly ClassRec[], peers: readonly PeerRec[]): DenseUnits {
  // Which peers each side looks at: a source is matched by ingress tables' peers, a destination by egress tables'.
  const seenBy = [new Uint8Array(peers.length), new Uint8Array(peers.length)];
  for (const p of peers) {
    if ((p.inGroups[INGRESS]?.size ?? 0) > 0) seenBy[0]![p.id] = 1;
    if ((p.inGroups[EGRESS]?.size ?? 0) > 0) seenBy[1]![p.id] = 1;
  }
  return {
    source: unitsOf(classes, seenBy[0]!, (c) => [c.group[EGRESS], -1]),
    destination: unitsOf(classes, seenBy[1]!, (c) => [c.group[INGRESS], c.profile.id]),
  };
}

function unitsOf(classes: readonly ClassRec[], seen: Uint8Array, cell: (c: ClassRec) => readonly [number, number]): Int32Array {
  const unitOf = new Int32Array(classes.length).fill(-1);
  /** Key -> the first class of each unit with that key (more than one only on a hash collision). */
  const firsts = new Map<string, ClassRec[]>();
  let units = 0;
  for (const c of classes) {
    if (c.weight === 0) continue;
    const [a, b] = cell(c);
    let h1 = (Math.imul(a, 0x9e3779b1) ^ b) | 0;
    let h2 = (Math.imul(b, 0x85ebca6b) ^ a) | 0;
    let n = 0;
    for (const q of c.peers) {
      if (seen[q] === 0) continue;
      h1 = Math.imul(h1 ^ q, 0x01000193);
      h2 = (Math.imul(h2, 31) + q) | 0;
      n++;
    }
    const key = `${a},${b},${n},${h1},${h2}`;
    let list = firsts.get(key);
    if (list === undefined) firsts.set(key, (list = []));
    const same = list.find((f) => samePeers(f, c, seen));
    if (same !== undefined) {
      unitOf[c.id] = unitOf[same.id]!;
    } else {
      list.push(c);
      unitOf[c.id] = units++;
    }
  }
  return unitOf;
}

/** Do the same peers (among those `seen`) match both classes? (Their cells are equal: same key.) */
function samePeers(x: ClassRec, y: ClassRec, seen: Uint8Array): boolean {
  const a = x.peers;
  const b = y.peers;
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
