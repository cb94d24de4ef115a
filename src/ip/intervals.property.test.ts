/**
 * The interval algebra against brute force: random spans over 0..63 as numbers and as bigints, each
 * operation compared with the same operation on the set of values it stands for. The seed is printed;
 * replay a failure with NETPOL_SEED=<seed>.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { intersectSpans, sameSpans, spansContain, subtractSpans, unionSpans, type Span } from './intervals.js';

const SEED = Number(process.env.NETPOL_SEED ?? Date.now() % 1_000_000);
const MAX = 63;

const spans = fc.array(fc.tuple(fc.integer({ min: 0, max: MAX }), fc.integer({ min: 0, max: MAX })), { maxLength: 6 });

function values(list: readonly Span<number>[]): Set<number> {
  const out = new Set<number>();
  for (const [lo, hi] of list) for (let v = lo; v <= hi; v++) out.add(v);
  return out;
}

/** The normalised spans of a set of values: sorted, disjoint, not adjacent. */
function fromValues(s: Set<number>): [number, number][] {
  const out: [number, number][] = [];
  for (let v = 0; v <= MAX; v++) {
    if (!s.has(v)) continue;
    const last = out[out.length - 1];
    if (last && last[1] === v - 1) last[1] = v;
    else out.push([v, v]);
  }
  return out;
}

const big = (list: readonly Span<number>[]): [bigint, bigint][] => list.map(([a, b]) => [BigInt(a), BigInt(b)]);

test(`interval algebra equals brute force, for numbers and bigints (seed ${SEED}, replay: NETPOL_SEED=${SEED})`, () => {
  console.log(`intervals property test: seed ${SEED} (replay: NETPOL_SEED=${SEED} node scripts/run-tests.mjs intervals.property)`);
  fc.assert(
    fc.property(spans, spans, fc.integer({ min: 0, max: MAX }), (x, y, v) => {
      const a = unionSpans(x);
      const b = unionSpans(y);
      const va = values(x);
      const vb = values(y);
      assert.deepEqual(a, fromValues(va), 'normalised');
      assert.deepEqual(unionSpans([...a, ...b]), fromValues(new Set([...va, ...vb])), 'union');
      assert.deepEqual(intersectSpans(a, b), fromValues(new Set([...va].filter((n) => vb.has(n)))), 'intersection');
      assert.deepEqual(subtractSpans(a, b), fromValues(new Set([...va].filter((n) => !vb.has(n)))), 'difference');
      assert.equal(spansContain(a, v), va.has(v), 'membership');
      assert.equal(sameSpans(a, b), fromValues(va).join() === fromValues(vb).join(), 'equality');
      // The same on bigints.
      assert.deepEqual(unionSpans(big(x)), big(a));
      assert.deepEqual(intersectSpans(big(a), big(b)), big(intersectSpans(a, b)));
      assert.deepEqual(subtractSpans(big(a), big(b)), big(subtractSpans(a, b)));
      assert.equal(spansContain(big(a), BigInt(v)), va.has(v));
    }),
    { numRuns: 500, seed: SEED },
  );
});
