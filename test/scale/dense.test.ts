/**
 * The dense count (class x class bit matrices, dense.ts) against the sweep: the bit-matrix transpose
 * against a bit-by-bit one, and whole counts of generated shapes large enough for many words per row
 * and many 32 x 32 blocks (the property tests' clusters fit in one word), for numeric and named
 * probes, before and after random changes. The sweep itself is held to the oracle elsewhere.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeStream, generateObjects, random, toCluster, type ShapeName } from '../../tools/gen/index.js';
import { ScaleEngine, type ScaleProbe } from '../../src/scale/index.js';
import { transposeBits } from '../../src/scale/dense.js';
import { PROBE_CLASSES } from '../../src/scale/units.js';
import type { Cluster, PodInfo } from '../../src/model/cluster.js';

describe('bit matrix transpose', () => {
  test('equals the bit-by-bit transpose', () => {
    const rng = random(7);
    for (const words of [1, 2, 3, 5]) {
      const n = words * 32;
      const m = new Int32Array(n * words);
      for (let i = 0; i < m.length; i++) m[i] = rng.int(4) === 0 ? 0 : (rng.int(2 ** 16) << 16) | rng.int(2 ** 16);
      const out = new Int32Array(n * words);
      transposeBits(m, words, out);
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < n; c++) {
          const a = (m[r * words + (c >>> 5)]! >>> (c & 31)) & 1;
          const b = (out[c * words + (r >>> 5)]! >>> (r & 31)) & 1;
          if (a !== b) assert.fail(`words ${words}: (${r}, ${c})`);
        }
      }
    }
  });
});

const PROBES: ScaleProbe[] = [
  { port: 80, protocol: 'TCP' },
  { port: 8080, protocol: 'TCP' },
  { port: 'http', protocol: 'TCP' },
  { port: 'metrics', protocol: 'TCP' },
  { port: 'dns', protocol: 'UDP' },
  { port: 53, protocol: 'UDP' },
];

function counts(c: Cluster, strategy: 'dense' | 'candidates' | 'scan'): number[] {
  const e = new ScaleEngine(c, { strategy });
  return PROBES.map((p) => e.allowedPairs(p));
}

/** Shapes at sizes with a few hundred classes (several words per bitset row). */
const SIZES: [ShapeName, number][] = [
  ['realistic', 0.1],
  ['one-ns-overlap', 0.05],
  ['pairs', 0.02],
  ['cross-ns', 0.004],
  ['small-ns', 0.003],
  ['max', 0.003],
  // Pods with labels no policy reads: the dense count's units gather many classes.
  ['mixed', 0.01],
  ['adversarial', 0.008],
];

describe('dense count', () => {
  for (const [shape, scale] of SIZES) {
    test(`${shape}: equals the sweep, before and after 60 changes`, () => {
      const c = toCluster(generateObjects(shape, { seed: 3, scale }));
      const classes = new ScaleEngine(c).stats.classes;
      assert.ok(classes > 64 || shape === 'one-ns-overlap', `${shape}: ${classes} classes`);
      const dense = counts(c, 'dense');
      assert.deepEqual(dense, counts(c, 'candidates'));
      assert.deepEqual(dense, counts(c, 'scan'));
      // Changes applied incrementally to an engine whose counts are then recounted densely.
      const stream = new ChangeStream(c, 11);
      const e = new ScaleEngine(c, { strategy: 'dense' });
      for (let i = 0; i < 60; i++) e.apply(stream.next());
      const after = { namespaces: c.namespaces, pods: stream.pods, policies: stream.policies };
      const expected = counts(after, 'candidates');
      assert.deepEqual(
        PROBES.map((p) => e.allowedPairs(p)),
        expected,
      );
      assert.deepEqual(counts(after, 'dense'), expected);
    });
  }
});

describe('dense relation', () => {
  for (const [shape, scale] of SIZES.slice(0, 3)) {
    test(`${shape}: every class pair equals allows(), for numeric and named probes, after changes too`, () => {
      const c = toCluster(generateObjects(shape, { seed: 5, scale }));
      const e = new ScaleEngine(c);
      const stream = new ChangeStream(c, 13);
      for (const round of [0, 1]) {
        if (round === 1) for (let i = 0; i < 40; i++) e.apply(stream.next());
        const reps = new Map<number, PodInfo>();
        for (const p of e.pods()) if (!reps.has(e.classOf(p)!)) reps.set(e.classOf(p)!, p);
        let allowed = 0;
        for (const probe of [PROBES[0]!, PROBES[2]!, PROBES[4]!]) {
          const r = e.relation(probe)!;
          assert.equal(r.classes.length, reps.size);
          const at = new Map(r.classes.map((id, i) => [id, i]));
          for (const [sid, s] of reps) {
            for (const [did, d] of reps) {
              // Two different pods of the classes: for a class with one pod, ask its pod against itself through the class.
              const bit = (r.incoming[at.get(did)! * r.words + (at.get(sid)! >>> 5)]! >>> (at.get(sid)! & 31)) & 1;
              const expected = e.classAllows(e['classRec'](s), e['classRec'](d), probe.protocol, probe.port);
              if ((bit === 1) !== expected) assert.fail(`${shape} ${probe.protocol}/${probe.port}: ${s.namespace}/${s.name} -> ${d.namespace}/${d.name}`);
              allowed += bit;
            }
          }
        }
        assert.ok(allowed > 0, `${shape}: some pair is allowed`);
      }
    });
  }
});

describe('dense count without units', () => {
  test("adversarial past the units probe: both sides give up on units without making the classes' peer lists, counts equal the admitted-set count, after changes too", () => {
    // Every class of this shape is its own unit on both sides; past PROBE_CLASSES classes the dense
    // count stops looking for units (units.ts). The admitted-set count is held to the oracle elsewhere.
    const c = toCluster(generateObjects('adversarial', { seed: 3, scale: 0.1 }));
    const e = new ScaleEngine(c, { strategy: 'dense' });
    assert.ok(e.stats.classes > PROBE_CLASSES, `${e.stats.classes} classes`);
    const probes = [PROBES[0]!, PROBES[2]!];
    const admitted = (x: Cluster): number[] => {
      const a = new ScaleEngine(x, { strategy: 'admitted' });
      return probes.map((p) => a.allowedPairs(p));
    };
    assert.deepEqual(
      probes.map((p) => e.allowedPairs(p)),
      admitted(c),
    );
    const units = e['units']?.units;
    assert.ok(units !== undefined, 'the dense count made its units');
    assert.equal(units.source, undefined);
    assert.equal(units.destination, undefined);
    // Neither the count nor its units' probe needed every class's peer lists (records.ts, ClassRecord).
    assert.equal(e['peerListsMade'], false, "the count made the classes' peer lists");
    const [s, d] = [c.pods[0]!, c.pods[c.pods.length - 1]!];
    assert.equal(e.allows(s, d, PROBES[0]!), new ScaleEngine(c, { strategy: 'admitted' }).allows(s, d, PROBES[0]!));
    assert.equal(e['peerListsMade'], false, "a query makes its two classes' lists only");
    const stream = new ChangeStream(c, 17);
    for (let i = 0; i < 5; i++) e.apply(stream.next());
    assert.equal(e['peerListsMade'], true, 'a change makes them all');
    assert.deepEqual(
      probes.map((p) => e.allowedPairs(p)),
      admitted({ namespaces: c.namespaces, pods: stream.pods, policies: stream.policies }),
    );
  });
});
