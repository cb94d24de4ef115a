/**
 * Who reaches whom for one probe, in the compact form the page draws from: the class x class relation
 * of the scale engine (a few hundred kilobytes at 5,000 pods, where the `matrix -o json` matrix is
 * 160 MB) plus each pod's class position. And the difference between two such relations over the same
 * pods (an edit's effect), counted exactly and listed pair by pair up to a limit. Pure: no IO.
 */
import type { Probe } from '../engine/index.js';
import type { PodInfo } from '../model/index.js';
import type { ScaleEngine } from '../scale/index.js';

export interface PodRelation {
  readonly probe: Probe;
  readonly words: number;
  /** Bit position of each pod (the pods' order is the caller's). */
  readonly positions: Int32Array;
  /** Row d: the positions allowed to reach position d. */
  readonly incoming: Int32Array;
}

/** The relation for `pods` (all loaded in `scale`), or undefined when the engine has too many classes. */
export function podRelation(scale: ScaleEngine, pods: readonly PodInfo[], probe: Probe): PodRelation | undefined {
  const r = scale.relation(probe);
  if (!r) return undefined;
  const at = new Map<number, number>();
  r.classes.forEach((id, i) => at.set(id, i));
  const positions = new Int32Array(pods.length);
  pods.forEach((p, i) => (positions[i] = at.get(scale.classOf(p)!)!));
  return { probe, words: r.words, positions, incoming: r.incoming };
}

/** What `pairRelation` asks: a verdict per pair, and (when known) classes of pods with the same verdicts. */
export interface PairEngine {
  allows(source: PodInfo, destination: PodInfo, probe: Probe): boolean;
  classOf(pod: PodInfo): number | undefined;
}

/**
 * The relation asked of any engine that answers pair by pair (the tier-aware class engine, for clusters
 * with cluster-scoped policies): pods of one class share a position, a pod without a class has its
 * own. Costs one verdict per pair of positions.
 */
export function pairRelation(engine: PairEngine, pods: readonly PodInfo[], probe: Probe): PodRelation {
  const positions = new Int32Array(pods.length);
  const members: PodInfo[][] = [];
  const at = new Map<number, number>();
  pods.forEach((p, i) => {
    const c = engine.classOf(p);
    let k = c === undefined ? undefined : at.get(c);
    if (k === undefined) {
      k = members.length;
      members.push([]);
      if (c !== undefined) at.set(c, k);
    }
    members[k]!.push(p);
    positions[i] = k;
  });
  const k = members.length;
  const words = Math.max(1, Math.ceil(k / 32));
  const incoming = new Int32Array(k * words);
  for (let d = 0; d < k; d++) {
    const to = members[d]!;
    for (let s = 0; s < k; s++) {
      const from = members[s]!;
      // Within one class: two different pods of it (a pod always reaches itself).
      const ok = s === d ? from.length > 1 && engine.allows(from[0]!, from[1]!, probe) : engine.allows(from[0]!, to[0]!, probe);
      if (ok) incoming[d * words + (s >>> 5)]! |= 1 << (s & 31);
    }
  }
  return { probe, words, positions, incoming };
}

/** May pod i connect to pod j? */
export function allowed(r: PodRelation, i: number, j: number): boolean {
  if (i === j) return true;
  const s = r.positions[i]!;
  return ((r.incoming[r.positions[j]! * r.words + (s >>> 5)]! >>> (s & 31)) & 1) === 1;
}

/** The JSON form (`/api/v1/reach`): positions as numbers, the rows as base64 of little-endian words. */
export function relationJson(r: PodRelation): { port: number | string; protocol: string; words: number; positions: number[]; incoming: string } {
  const bytes = new Uint8Array(r.incoming.length * 4);
  const view = new DataView(bytes.buffer);
  r.incoming.forEach((w, i) => view.setInt32(i * 4, w, true));
  return { port: r.probe.port, protocol: r.probe.protocol, words: r.words, positions: [...r.positions], incoming: Buffer.from(bytes).toString('base64') };
}

export interface PairChange {
  /** Pod indexes. */
  readonly from: number;
  readonly to: number;
  readonly added: boolean;
}

export interface RelationDiff {
  readonly added: number;
  readonly removed: number;
  /** At most `limit` changed pairs, grouped: pairs of the same two joint classes are adjacent. */
  readonly changes: readonly PairChange[];
  readonly truncated: boolean;
}

/**
 * Every ordered pair of different pods whose verdict differs between `before` and `after`. Pods with
 * the same position in both relations get the same verdicts, so the comparison runs over those joint
 * classes (a few thousand at most), not over pod pairs.
 */
export function diffRelations(before: PodRelation, after: PodRelation, limit: number): RelationDiff {
  const n = before.positions.length;
  const jointOf = new Map<number, number>();
  const members: number[][] = [];
  const stride = after.incoming.length / Math.max(after.words, 1) + 1;
  for (let i = 0; i < n; i++) {
    const key = before.positions[i]! * stride + after.positions[i]!;
    let j = jointOf.get(key);
    if (j === undefined) {
      jointOf.set(key, (j = members.length));
      members.push([]);
    }
    members[j]!.push(i);
  }
  // Per joint class: a representative, a second pod (for pairs within the class), and its positions.
  const k = members.length;
  const rep = new Int32Array(k);
  const bPos = new Int32Array(k);
  const aPos = new Int32Array(k);
  for (let j = 0; j < k; j++) {
    rep[j] = members[j]![0]!;
    bPos[j] = before.positions[rep[j]!]!;
    aPos[j] = after.positions[rep[j]!]!;
  }
  const bit = (r: PodRelation, s: number, d: number): number => (r.incoming[d * r.words + (s >>> 5)]! >>> (s & 31)) & 1;
  let added = 0;
  let removed = 0;
  const changes: PairChange[] = [];
  let truncated = false;
  for (let x = 0; x < k; x++) {
    const a = members[x]!;
    const sb = bPos[x]!;
    const sa = aPos[x]!;
    for (let y = 0; y < k; y++) {
      const was = bit(before, sb, bPos[y]!);
      const is = bit(after, sa, aPos[y]!);
      if (was === is) continue;
      const b = members[y]!;
      // Within one joint class, only pairs of two different pods count.
      const pairs = a.length * b.length - (x === y ? a.length : 0);
      if (pairs === 0) continue;
      if (is) added += pairs;
      else removed += pairs;
      for (const from of a) {
        if (truncated) break;
        for (const to of b) {
          if (from === to) continue;
          if (changes.length >= limit) {
            truncated = true;
            break;
          }
          changes.push({ from, to, added: is === 1 });
        }
      }
    }
  }
  return { added, removed, changes, truncated };
}
