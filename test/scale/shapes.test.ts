/**
 * The generated shapes: deterministic, of the sizes the issue names (checked at small scales), valid,
 * and analysed exactly: sampled pairs of every shape agree with the oracle, and on the smallest
 * versions the allowed-pair counts equal the oracle's brute-force counts, before and after a run of
 * random changes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SHAPES, ChangeStream, generateFiles, generateObjects, random, toCluster, type ShapeName } from '../../tools/gen/index.js';
import { ScaleEngine, type ScaleProbe } from '../../src/scale/index.js';
import { oracleAllows } from '../../src/engine/oracle.js';
import { podEndpoint } from '../../src/engine/engine.js';
import { validateCluster } from '../../src/validate/index.js';
import type { Cluster } from '../../src/model/cluster.js';

/** Small versions of each shape (a few hundred pods). */
const SMALL: Record<ShapeName, number> = {
  'small-ns': 0.002,
  'one-ns-overlap': 0.02,
  pairs: 0.02,
  'cross-ns': 0.003,
  realistic: 0.04,
  max: 0.002,
  mixed: 0.006,
  adversarial: 0.006,
};

const PROBES: ScaleProbe[] = [
  { port: 80, protocol: 'TCP' },
  { port: 8080, protocol: 'TCP' },
  { port: 'http', protocol: 'TCP' },
  { port: 'metrics', protocol: 'TCP' },
  { port: 53, protocol: 'UDP' },
  { port: 5432, protocol: 'TCP' },
];

function brute(c: Cluster, probe: ScaleProbe): number {
  let n = 0;
  for (const s of c.pods) for (const d of c.pods) if (s !== d && oracleAllows(c, podEndpoint(s), podEndpoint(d), probe.protocol, probe.port)) n++;
  return n;
}

describe('generated shapes', () => {
  test('are deterministic for a seed and differ between seeds', () => {
    for (const shape of SHAPES) {
      const a = generateFiles(shape, { seed: 3, scale: SMALL[shape] });
      const b = generateFiles(shape, { seed: 3, scale: SMALL[shape] });
      const c = generateFiles(shape, { seed: 4, scale: SMALL[shape] });
      assert.deepEqual(a, b, shape);
      assert.notDeepEqual(a, c, shape);
    }
  });

  test('have the sizes of the issue, scaled', () => {
    const sizes = (shape: ShapeName, scale: number) => {
      const o = generateObjects(shape, { scale });
      return [o.namespaces.length, o.pods.length, o.policies.length];
    };
    assert.deepEqual(sizes('small-ns', 0.01), [250, 1000, 750]);
    assert.deepEqual(sizes('one-ns-overlap', 0.1), [1, 1000, 1000]);
    assert.deepEqual(sizes('pairs', 0.1), [1, 1000, 1000]);
    assert.deepEqual(sizes('cross-ns', 0.01), [10, 1000, 100]);
    assert.deepEqual(sizes('max', 0.01), [100, 1500, 300]);
    const [ns, pods, policies] = sizes('realistic', 0.1);
    assert.equal(ns, 60);
    assert.ok(pods! > 400 && pods! < 700, `realistic pods ${pods}`);
    assert.equal(policies, 1371);
    assert.deepEqual(sizes('mixed', 0.01), [20, 500, 100]);
    assert.deepEqual(sizes('adversarial', 0.01), [5, 500, 100]);
  });

  for (const shape of SHAPES) {
    test(`${shape}: valid, and sampled pairs agree with the oracle`, () => {
      const c = toCluster(generateObjects(shape, { seed: 11, scale: SMALL[shape] }));
      assert.deepEqual(
        validateCluster(c).filter((d) => d.severity === 'error'),
        [],
      );
      const engine = new ScaleEngine(c);
      const rng = random(5);
      for (let i = 0; i < 3000; i++) {
        const s = c.pods[rng.int(c.pods.length)]!;
        const d = c.pods[rng.int(c.pods.length)]!;
        const probe = PROBES[i % PROBES.length]!;
        assert.equal(engine.allows(s, d, probe), oracleAllows(c, podEndpoint(s), podEndpoint(d), probe.protocol, probe.port), `${s.name} -> ${d.name} ${probe.protocol}/${probe.port}`);
      }
    });
  }

  for (const shape of SHAPES) {
    test(`${shape}: allowed-pair counts equal brute force, before and after 40 changes`, () => {
      const scale = SMALL[shape] / 2;
      const c = toCluster(generateObjects(shape, { seed: 13, scale }));
      const engine = new ScaleEngine(c);
      const probes = [PROBES[0]!, PROBES[2]!];
      for (const p of probes) assert.equal(engine.allowedPairs(p), brute(c, p), `${p.port} before`);
      const stream = new ChangeStream(c, 9);
      for (let i = 0; i < 40; i++) engine.apply(stream.next());
      const now: Cluster = { namespaces: c.namespaces, pods: stream.pods, policies: stream.policies };
      for (const p of probes) assert.equal(engine.allowedPairs(p), brute(now, p), `${p.port} after`);
    });
  }
});
