/**
 * Which way the class engine counts, and whether a change is cheaper to recount than to correct: the
 * engine's estimates, apart from the counts themselves (dense.ts, sweep.ts, lines.ts) and the engine
 * that asks (engine.ts). Every choice is exact; they only cost speed.
 */
import type { DenseUnits } from './dense.js';
import { EGRESS, INGRESS, type ClassRec, type IdList, type PeerRec, type SigRec } from './records.js';
import { DENSE_MAX_CLASSES, UNITS_MIN_CLASSES, type Strategy } from './types.js';
import { denseUnits } from './units.js';

/**
 * A policy change corrects cached counts by the rows and columns of the classes it selects, unless
 * those are so many that counting again is cheaper: more than this many (row x column) class pairs per
 * class of the cluster, or more than MAX_TOUCHED_CLASSES classes.
 */
const CROSS_PAIRS_PER_CLASS = 4;
const MAX_TOUCHED_CLASSES = 20_000;

/** What the choices read of the engine. */
export interface ChoiceSource {
  readonly strategy: Strategy;
  readonly classes: readonly ClassRec[];
  readonly peers: readonly PeerRec[];
  readonly sigs: readonly SigRec[];
  /** Changes applied so far. */
  changes(): number;
  /** The peer lists of classes 0 .. bound - 1 (see ClassStore.peerListsBelow). */
  peerListsBelow(bound: number): readonly IdList[];
}

export class CountChoice {
  constructor(private readonly src: ChoiceSource) {}

  /**
   * The dense count's units: none (each class on its own) when `auto` counts few classes, where a count
   * of every class's bits costs less than the units' pass over the classes' peer lists (realistic, 2,725
   * classes: first count 136-154 -> 72-101 ms CPU, change p99 23-27 -> 18 ms). `dense` always makes them,
   * so that the tests that force it hold them exact. A new object each time: dense plans are kept by it.
   */
  units(): DenseUnits {
    if (this.src.strategy === 'auto' && this.src.classes.length <= UNITS_MIN_CLASSES) return { source: undefined, destination: undefined };
    return denseUnits(this.src.classes, this.src.peers, this.src.sigs, this.src.peerListsBelow);
  }

  recountCheaper(rows: readonly number[], cols: readonly number[]): boolean {
    return rows.length * cols.length > CROSS_PAIRS_PER_CLASS * this.src.classes.length || rows.length + cols.length > MAX_TOUCHED_CLASSES || this.denseCheaper(rows, cols);
  }

  /**
   * Whole counts use the dense bits (see `ScaleOptions.strategy`): with few classes, or when the
   * peers' member lists (what the sweep walks) outweigh K x K / 1024 blocks of 32 x 32 bits.
   */
  usesDense(): boolean {
    if (this.src.strategy === 'dense') return true;
    if (this.src.strategy !== 'auto') return false;
    const k = this.src.classes.length;
    if (k <= DENSE_MAX_CLASSES) return true;
    // The choice is asked at every change (denseCheaper) and its sum walks every peer and class: it is
    // kept for K / 1024 changes (either way the counts are exact; at 100,000 classes the walk was
    // three quarters of a change's time).
    const known = this.denseChoice;
    if (known !== undefined && this.src.changes() - known.changes < Math.max(1, k >>> 10)) return known.dense;
    // Counted from the peers' side, so that the classes' peer lists need not be made (a pod peer's
    // members may include classes left without pods after changes: an estimate either way).
    let memberships = 0;
    for (const p of this.src.peers) if (p.kind === 'pods') memberships += p.members.length;
    for (const c of this.src.classes) if (c.weight > 0) memberships += this.src.sigs[c.sig]!.peers.length;
    const dense = (k * k) / 1024 < memberships;
    this.denseChoice = { changes: this.src.changes(), dense };
    return dense;
  }

  /** The last choice of `usesDense` above DENSE_MAX_CLASSES classes, and the number of changes it was made after. */
  private denseChoice: { readonly changes: number; readonly dense: boolean } | undefined;

  /**
   * With dense counts, is counting again cheaper than correcting the counts by these rows and
   * columns? A row walks the ingress groups naming the class's peers, a column the egress groups
   * (and the cells and classes behind them); a dense count costs about K x K / 32 words. Measured on
   * the realistic shape, a correction costs about as much as a dense count at a sixteenth of that.
   */
  denseCheaper(rows: readonly number[], cols: readonly number[]): boolean {
    if (!this.usesDense()) return false;
    const k = this.src.classes.length;
    const budget = (k * ((k + 31) >>> 5)) / 16;
    let cost = 0;
    for (const s of rows) {
      for (const list of this.src.classes[s]!.lists) for (const q of list) cost += this.src.peers[q]!.inGroups[INGRESS]?.size ?? 0;
      if (cost > budget) return true;
    }
    for (const d of cols) {
      for (const list of this.src.classes[d]!.lists) for (const q of list) cost += this.src.peers[q]!.inGroups[EGRESS]?.size ?? 0;
      if (cost > budget) return true;
    }
    return false;
  }
}
