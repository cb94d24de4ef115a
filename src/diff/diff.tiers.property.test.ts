/**
 * The diff across tiers held to brute force: on random clusters with cluster-scoped policies (the tier
 * generator) and random edits (cluster policies removed, replaced, added; pods relabelled; namespace
 * labels changed), the pairs each probe reports as newly allowed or denied are exactly the pairs of common
 * pods whose verdict (the tier oracle) differs, and every change has a cause naming a changed object.
 * The seed is printed; replay a failure with NETPOL_SEED=<seed>.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NS, clusterPolicyArb, labelsArb, tieredClusterArb } from '../../test/arbitraries.js';
import { namespace } from '../../test/builders.js';
import { assertBruteDiff } from '../../test/diff-brute.js';
import { clusterPolicyKey, type Cluster, type ClusterPolicyInfo, type NamespaceInfo, type PodInfo } from '../model/index.js';
import { TieredScaleEngine } from '../scale/index.js';
import { diffReachability, type DiffProbe } from './index.js';

const SEED = Number(process.env.NETPOL_SEED ?? Date.now() % 1_000_000);
const PROBES: DiffProbe[] = (['TCP', 'UDP'] as const).flatMap((protocol) => [80, 53, 'http', null].map((port) => ({ port, protocol })));

const editArb = fc.record({
  base: tieredClusterArb,
  remove: fc.array(fc.nat(), { maxLength: 2 }),
  add: fc.array(clusterPolicyArb, { maxLength: 2 }),
  relabel: fc.array(fc.record({ index: fc.nat(), labels: labelsArb }), { maxLength: 1 }),
  nsLabels: fc.option(fc.record({ ns: fc.constantFrom(...NS), labels: fc.dictionary(fc.constantFrom('team', 'env'), fc.constantFrom('a', 'b'), { maxKeys: 2 }) }), { nil: undefined }),
});

type Edit = typeof editArb extends fc.Arbitrary<infer T> ? T : never;

function edited(e: Edit): Cluster {
  const b = e.base;
  const cps = new Map<string, ClusterPolicyInfo>((b.clusterPolicies ?? []).filter((_, i) => !e.remove.some((k) => k % (b.clusterPolicies?.length ?? 1) === i)).map((p) => [clusterPolicyKey(p), p]));
  // An added policy with the name of an existing one replaces it (an edit).
  for (const p of e.add) cps.set(clusterPolicyKey(p), p);
  const pods: PodInfo[] = [...b.pods];
  for (const r of e.relabel) if (pods.length > 0) pods[r.index % pods.length] = { ...pods[r.index % pods.length]!, labels: r.labels };
  const namespaces = new Map<string, NamespaceInfo>(b.namespaces);
  if (e.nsLabels) namespaces.set(e.nsLabels.ns, namespace(e.nsLabels.ns, e.nsLabels.labels));
  return { ...b, namespaces, pods, clusterPolicies: [...cps.values()] };
}

test(`diff across tiers reports exactly the changed pairs, each with a cause (seed ${SEED}, replay: NETPOL_SEED=${SEED})`, () => {
  console.log(`diff tiers property test: seed ${SEED} (replay: NETPOL_SEED=${SEED} node scripts/run-tests.mjs diff.tiers)`);
  fc.assert(
    fc.property(editArb, (e) => {
      const before = e.base;
      const after = edited(e);
      const d = diffReachability({ cluster: before, engine: new TieredScaleEngine(before) }, { cluster: after, engine: new TieredScaleEngine(after) }, PROBES);
      assertBruteDiff(before, after, PROBES, d.probes);
      const changed = new Map(d.changes.clusterPolicies.map((c) => [c.policy, c.change]));
      d.probes.forEach((pd, k) => {
        const label = `${PROBES[k]!.protocol}/${PROBES[k]!.port}`;
        for (const p of [...pd.added, ...pd.removed]) {
          const where = `${label} ${p.from} -> ${p.to}: ${JSON.stringify(p.causes)}`;
          assert.ok(
            p.causes.every((c) => c.kind !== 'unexplained'),
            `explained ${where}`,
          );
          assert.ok(
            p.causes.some((c) => (c.kind === 'clusterPolicy' && c.change !== 'unchanged') || c.kind === 'pod' || c.kind === 'namespace'),
            `a cause names a changed object ${where}`,
          );
          for (const c of p.causes) if (c.kind === 'clusterPolicy' && c.change !== 'unchanged') assert.equal(changed.get(c.policy), c.change, `cause names a changed policy ${where}`);
        }
      });
    }),
    { numRuns: 150, seed: SEED },
  );
});
