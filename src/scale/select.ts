/**
 * Label indexes: which items (classes of pods, or namespaces) carry a label key, or a key with a value,
 * so a selector is evaluated on the few candidates an `In`/`Exists` requirement leaves instead of on
 * every item.
 *
 * Design choice: postings are plain arrays of item ids in creation order (so ascending), appended to
 * as items appear and never shrunk (items are never deleted, only emptied). The caller gives a
 * fallback universe for selectors without an `In` or `Exists` requirement (`{}`, `NotIn`,
 * `DoesNotExist`), which cannot use an index. Matching itself is the selector module's.
 */
import type { Labels } from '../model/index.js';
import { matches, type Selector } from '../selector/index.js';

const NO_ITEMS: readonly number[] = Object.freeze([]);

export class LabelIndex {
  private readonly byPair = new Map<string, number[]>();
  private readonly byKey = new Map<string, number[]>();

  add(id: number, labels: Labels): void {
    for (const k of Object.keys(labels)) {
      push(this.byKey, k, id);
      push(this.byPair, pairKey(k, labels[k] as string), id);
    }
  }

  /** Items with the label `key: value`, ascending. */
  posting(key: string, value: string): readonly number[] {
    return this.byPair.get(pairKey(key, value)) ?? NO_ITEMS;
  }

  /** Items with the key, ascending. */
  keyPosting(key: string): readonly number[] {
    return this.byKey.get(key) ?? NO_ITEMS;
  }

  /**
   * The smallest candidate list the selector's requirements give, if one is shorter than `limit`;
   * undefined when none narrows the scope that much (then every item of the scope is a candidate).
   * Lists from several values of one `In` are merged.
   */
  candidates(sel: Selector, limit = Infinity): readonly number[] | undefined {
    let bestReq: (typeof sel.requirements)[number] | undefined;
    let bestSize = limit;
    for (const r of sel.requirements) {
      let size: number;
      if (r.operator === 'Exists') size = this.byKey.get(r.key)?.length ?? 0;
      else if (r.operator === 'In') {
        size = 0;
        for (const v of r.values) size += this.byPair.get(pairKey(r.key, v))?.length ?? 0;
      } else continue;
      if (size < bestSize) {
        bestSize = size;
        bestReq = r;
      }
    }
    if (bestReq === undefined) return undefined;
    if (bestReq.operator === 'Exists') return this.byKey.get(bestReq.key) ?? [];
    if (bestReq.values.length === 1) return this.byPair.get(pairKey(bestReq.key, bestReq.values[0] as string)) ?? [];
    const merged: number[] = [];
    for (const v of bestReq.values) merged.push(...(this.byPair.get(pairKey(bestReq.key, v)) ?? []));
    merged.sort((a, b) => a - b);
    return merged.filter((id, i) => i === 0 || merged[i - 1] !== id);
  }
}

function pairKey(k: string, v: string): string {
  return `${k}\u0000${v}`;
}

function push(m: Map<string, number[]>, k: string, id: number): void {
  const list = m.get(k);
  if (list) list.push(id);
  else m.set(k, [id]);
}

const keys = new WeakMap<Selector, string>();

/**
 * Canonical text of a selector: equal texts select the same items (requirements sorted, values sorted).
 * Remembered per selector object (selectors are immutable; a normalizer shares equal ones).
 */
export function selectorKey(sel: Selector): string {
  let key = keys.get(sel);
  if (key === undefined) {
    const parts = sel.requirements.map((r) => `${r.key}\u0001${r.operator}\u0001${[...r.values].sort().join('\u0002')}`);
    key = [...new Set(parts)].sort().join('\u0003');
    keys.set(sel, key);
  }
  return key;
}

/**
 * Items of `scope` (ids) that the selector matches, using the index when its candidate list is smaller
 * than the scope; `inScope` must say whether an id from the index is in the scope.
 */
export function selectIn(sel: Selector, index: LabelIndex, scope: readonly number[], inScope: (id: number) => boolean, labelsOf: (id: number) => Labels): number[] {
  const out: number[] = [];
  if (sel.requirements.length === 0) return [...scope];
  const cand = index.candidates(sel, scope.length);
  if (cand !== undefined) {
    for (const id of cand) if (inScope(id) && matches(sel, labelsOf(id))) out.push(id);
  } else {
    for (const id of scope) if (matches(sel, labelsOf(id))) out.push(id);
  }
  return out;
}
