/**
 * The page's relation with cluster-scoped policies (look-alike pods asked once, src/server/tiered.ts)
 * held to the exact engine asked about every ordered pair of pods, on random mixes of cluster policies
 * (both tiers), NetworkPolicies, nodes and host-network pods. Replay a failure with NETPOL_SEED=<seed>.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PROBE_PORTS, PROBE_PROTOCOLS, tieredClusterArb } from '../../test/arbitraries.js';
import { Engine, podEndpoint, sortPods } from '../engine/index.js';
import { allowed, pairRelation } from './relation.js';
import { TieredPairs } from './tiered.js';

const SEED = Number(process.env.NETPOL_SEED ?? Date.now() % 1_000_000);

test(`look-alike pods get the verdicts the exact engine gives each pair (seed ${SEED})`, () => {
  console.log(`tiered relation property test: seed ${SEED} (replay: NETPOL_SEED=${SEED} node scripts/run-tests.mjs tiered.property)`);
  let grouped = 0;
  fc.assert(
    fc.property(tieredClusterArb, (c) => {
      const engine = new Engine(c);
      const pods = sortPods(c.pods);
      const pairs = new TieredPairs(engine, pods);
      grouped += pods.length - new Set(pods.map((p) => pairs.classOf(p))).size;
      for (const protocol of PROBE_PROTOCOLS) {
        for (const port of PROBE_PORTS) {
          const r = pairRelation(pairs, pods, { protocol, port });
          pods.forEach((s, i) =>
            pods.forEach((d, j) => {
              const expected = i === j || engine.allows({ source: podEndpoint(s), destination: podEndpoint(d), protocol, port });
              assert.equal(allowed(r, i, j), expected, `${s.namespace}/${s.name} -> ${d.namespace}/${d.name} ${protocol}/${port}`);
            }),
          );
        }
      }
    }),
    { seed: SEED, numRuns: 150 },
  );
  // The property means something only if some pods were grouped.
  assert.ok(grouped > 0, 'no two pods were look-alikes in any run');
});
