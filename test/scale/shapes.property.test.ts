/**
 * The class engine on random small versions of the shapes built to hurt it (`mixed`, `adversarial`:
 * tools/gen/mixed.ts), with every counting strategy: allowed-pair counts equal the oracle's brute-force
 * counts before and after random changes, and so do the rows and columns of sampled pods. The
 * generator's seed, the strategy and the changes are drawn by fast-check from a seed that is printed;
 * replay a failure with NETPOL_SEED=<seed>.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChangeStream, generateObjects, toCluster } from '../../tools/gen/index.js';
import { ScaleEngine, type ScaleProbe, type Strategy } from '../../src/scale/index.js';
import { oracleAllows } from '../../src/engine/oracle.js';
import { podEndpoint } from '../../src/engine/engine.js';
import type { Cluster } from '../../src/model/cluster.js';

const SEED = Number(process.env.NETPOL_SEED ?? Date.now() % 1_000_000);
const STRATEGIES: readonly Strategy[] = ['auto', 'candidates', 'scan', 'complement', 'dense', 'admitted'];
const PROBES: ScaleProbe[] = [
  { port: 80, protocol: 'TCP' },
  { port: 'http', protocol: 'TCP' },
  { port: 53, protocol: 'UDP' },
];
/** About 60 pods: a brute-force count is 3,600 oracle verdicts. */
const SCALE = 0.0012;

function brute(c: Cluster, probe: ScaleProbe): number {
  let n = 0;
  for (const s of c.pods) for (const d of c.pods) if (s !== d && oracleAllows(c, podEndpoint(s), podEndpoint(d), probe.protocol, probe.port)) n++;
  return n;
}

function assertCounts(engine: ScaleEngine, c: Cluster, when: string): void {
  for (const p of PROBES) assert.equal(engine.allowedPairs(p), brute(c, p), `allowedPairs ${p.protocol}/${p.port} ${when}`);
  const probe = PROBES[1]!;
  for (const pod of c.pods.slice(0, 4)) {
    const out = c.pods.filter((d) => d !== pod && oracleAllows(c, podEndpoint(pod), podEndpoint(d), probe.protocol, probe.port)).length;
    const inn = c.pods.filter((s) => s !== pod && oracleAllows(c, podEndpoint(s), podEndpoint(pod), probe.protocol, probe.port)).length;
    assert.equal(engine.reachableCount(pod, probe), out, `reachableCount ${pod.namespace}/${pod.name} ${when}`);
    assert.equal(engine.reachingCount(pod, probe), inn, `reachingCount ${pod.namespace}/${pod.name} ${when}`);
  }
}

test(`mixed and adversarial shapes: counts equal brute force for every strategy, before and after changes (seed ${SEED}, replay: NETPOL_SEED=${SEED})`, () => {
  console.log(`shapes property test: seed ${SEED} (replay: NETPOL_SEED=${SEED} node scripts/run-tests.mjs shapes.property)`);
  fc.assert(
    fc.property(fc.constantFrom('mixed' as const, 'adversarial' as const), fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom(...STRATEGIES), (shape, seed, strategy) => {
      const c = toCluster(generateObjects(shape, { seed, scale: SCALE }));
      const engine = new ScaleEngine(c, { strategy });
      assertCounts(engine, c, `${shape} seed ${seed} ${strategy}, before changes`);
      // Counts cached before the changes are corrected incrementally.
      const stream = new ChangeStream(c, seed);
      for (let i = 0; i < 12; i++) engine.apply(stream.next());
      const now: Cluster = { namespaces: c.namespaces, pods: stream.pods, policies: stream.policies };
      assertCounts(engine, now, `${shape} seed ${seed} ${strategy}, after 12 changes`);
    }),
    { seed: SEED, numRuns: 20 },
  );
});
