/**
 * The tier-aware class engine held to the tier oracle: random mixes of ClusterNetworkPolicy (both
 * tiers), AdminNetworkPolicy, BaselineAdminNetworkPolicy and NetworkPolicy, with nodes and host-network
 * pods (the generator of src/engine/tiers.property.test.ts). Every ordered pair of pods, numeric and named
 * ports over TCP and UDP, gets the oracle's verdict; the ports of the any-port question are the oracle's;
 * counts (all pairs, per namespace pair) and each pod's destinations and sources equal brute-force ones.
 * The seed is printed; replay a failure with NETPOL_SEED=<seed>.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TieredScaleEngine } from '../../src/scale/tiers/index.js';
import type { ScaleProbe } from '../../src/scale/index.js';
import { podEndpoint } from '../../src/engine/engine.js';
import { oracleAllows } from '../../src/engine/oracle.js';
import type { Cluster } from '../../src/model/cluster.js';
import { PROBE_PORTS, PROBE_PROTOCOLS, tieredClusterArb } from '../arbitraries.js';
import { staged, withoutStaged } from '../builders.js';

const SEED = Number(process.env.NETPOL_SEED ?? Date.now() % 1_000_000);
const PROBES: ScaleProbe[] = PROBE_PROTOCOLS.flatMap((protocol) => PROBE_PORTS.map((port) => ({ port, protocol })));

function oracle(c: Cluster, probe: ScaleProbe): (s: number, d: number) => boolean {
  const memo = new Map<number, boolean>();
  return (s, d) => {
    const k = s * c.pods.length + d;
    let v = memo.get(k);
    if (v === undefined) {
      v = oracleAllows(c, podEndpoint(c.pods[s]!), podEndpoint(c.pods[d]!), probe.protocol, probe.port);
      memo.set(k, v);
    }
    return v;
  };
}

test(`tier-aware scale engine agrees with the tier oracle (seed ${SEED}, replay: NETPOL_SEED=${SEED})`, () => {
  console.log(`scale tiers property test: seed ${SEED} (replay: NETPOL_SEED=${SEED} node scripts/run-tests.mjs tiers.property)`);
  fc.assert(
    fc.property(tieredClusterArb, (c) => {
      const engine = new TieredScaleEngine(c);
      const pods = c.pods;
      for (const probe of PROBES) {
        const expected = oracle(c, probe);
        let pairs = 0;
        const byNs = new Map<string, number>();
        for (let s = 0; s < pods.length; s++) {
          for (let d = 0; d < pods.length; d++) {
            const want = expected(s, d);
            const where = `${pods[s]!.namespace}/${pods[s]!.name} -> ${pods[d]!.namespace}/${pods[d]!.name} ${probe.protocol}/${probe.port}`;
            assert.equal(engine.allows(pods[s]!, pods[d]!, probe), want, `allows ${where}`);
            if (typeof probe.port === 'number') assert.equal(engine.admittedPorts(pods[s]!, pods[d]!, probe.protocol).has(probe.port), want, `admittedPorts ${where}`);
            if (s !== d && want) {
              pairs++;
              const k = `${pods[s]!.namespace} ${pods[d]!.namespace}`;
              byNs.set(k, (byNs.get(k) ?? 0) + 1);
            }
          }
        }
        assert.equal(engine.allowedPairs(probe), pairs, `allowedPairs ${probe.protocol}/${probe.port}`);
        // Each pod's destinations and sources (itself excluded), as pod indexes.
        const indexes = (list: readonly (typeof pods)[number][]) => list.map((p) => pods.indexOf(p)).sort((a, b) => a - b);
        for (let i = 0; i < pods.length; i++) {
          const others = pods.map((_, j) => j).filter((j) => j !== i);
          const where = `${pods[i]!.namespace}/${pods[i]!.name} ${probe.protocol}/${probe.port}`;
          assert.deepEqual(
            indexes(engine.destinations(pods[i]!, probe)),
            others.filter((j) => expected(i, j)),
            `destinations of ${where}`,
          );
          assert.deepEqual(
            indexes(engine.sources(pods[i]!, probe)),
            others.filter((j) => expected(j, i)),
            `sources of ${where}`,
          );
        }
        const counts = engine.namespaceCounts(probe);
        const got = new Map(counts.cells.map(([a, b, v]) => [`${counts.namespaces[a]} ${counts.namespaces[b]}`, v]));
        assert.deepEqual(got, byNs, `namespaceCounts ${probe.protocol}/${probe.port}`);
      }
      // Pods of one tier class get the same verdicts from and to everyone.
      const probe = PROBES[1]!;
      const expected = oracle(c, probe);
      for (let a = 0; a < pods.length; a++) {
        for (let b = a + 1; b < pods.length; b++) {
          if (engine.classOf(pods[a]!) !== engine.classOf(pods[b]!)) continue;
          for (let o = 0; o < pods.length; o++) {
            if (o === a || o === b) continue;
            assert.equal(expected(a, o), expected(b, o), 'same class, same row');
            assert.equal(expected(o, a), expected(o, b), 'same class, same column');
          }
        }
      }
    }),
    { numRuns: 150, seed: SEED },
  );
});

test(`audit mode in the tier-aware scale engine: staged cluster policies and NetworkPolicies left out by default, counted with includeAudit (seed ${SEED})`, () => {
  fc.assert(
    fc.property(tieredClusterArb, fc.array(fc.boolean(), { maxLength: 8 }), fc.array(fc.boolean(), { maxLength: 8 }), (written, which, whichCluster) => {
      const c = staged(written, which, whichCluster);
      const views = [
        [new TieredScaleEngine(c), withoutStaged(c), 'enforced'],
        [new TieredScaleEngine(c, { includeAudit: true }), written, 'with audit'],
      ] as const;
      for (const [engine, reference, view] of views) {
        for (const probe of PROBES) {
          const expected = oracle(reference, probe);
          let pairs = 0;
          for (let s = 0; s < c.pods.length; s++) {
            for (let d = 0; d < c.pods.length; d++) {
              const want = expected(s, d);
              assert.equal(engine.allows(c.pods[s]!, c.pods[d]!, probe), want, `${view}: ${c.pods[s]!.name} -> ${c.pods[d]!.name} ${probe.protocol}/${probe.port}`);
              if (s !== d && want) pairs++;
            }
          }
          assert.equal(engine.allowedPairs(probe), pairs, `${view}: allowedPairs ${probe.protocol}/${probe.port}`);
        }
      }
    }),
    { numRuns: 60, seed: SEED },
  );
});
