/**
 * The diff held to brute force: on random clusters and random edits of them (policies removed, edited,
 * added; pods relabelled, readdressed, removed, added; namespace labels changed), the pairs each probe
 * reports as newly allowed or denied are exactly the pairs of common pods whose verdict differs (the
 * oracle for numbered and named ports, the explaining engine for "any port"), and every change carries
 * a cause that names a changed object at one of its ends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NS, clusterArb, labelsArb, makePod, makePolicy, podSpecArb, policySpecArb, specArb } from '../../test/arbitraries.js';
import { namespace } from '../../test/builders.js';
import { assertBruteDiff } from '../../test/diff-brute.js';
import { podKey, type Cluster, type NamespaceInfo, type PodInfo } from '../model/index.js';
import { ScaleEngine } from '../scale/index.js';
import { diffReachability, type DiffProbe } from './index.js';

const PROBES: DiffProbe[] = (['TCP', 'UDP'] as const).flatMap((protocol) => [80, 53, 'http', 'dns', null].map((port) => ({ port, protocol })));

const editArb = fc.record({
  base: clusterArb,
  removePolicies: fc.array(fc.nat(), { maxLength: 2 }),
  editPolicies: fc.array(fc.record({ index: fc.nat(), spec: specArb }), { maxLength: 2 }),
  addPolicies: fc.array(policySpecArb, { maxLength: 2 }),
  relabel: fc.array(fc.record({ index: fc.nat(), labels: labelsArb }), { maxLength: 2 }),
  readdress: fc.array(fc.nat(), { maxLength: 1 }),
  removePods: fc.array(fc.nat(), { maxLength: 2 }),
  addPods: fc.array(podSpecArb, { maxLength: 2 }),
  nsLabels: fc.option(fc.record({ ns: fc.constantFrom(...NS), labels: fc.dictionary(fc.constantFrom('team', 'env'), fc.constantFrom('a', 'b'), { maxKeys: 2 }) }), { nil: undefined }),
});

type Edit = typeof editArb extends fc.Arbitrary<infer T> ? T : never;

function edited(e: Edit): Cluster {
  const b = e.base;
  const policies = b.policies.filter((_, i) => !e.removePolicies.some((k) => k % b.policies.length === i));
  for (const ed of e.editPolicies) {
    if (policies.length === 0) break;
    const i = ed.index % policies.length;
    const p = policies[i]!;
    policies[i] = { ...p, policy: { ...p.policy, spec: ed.spec } };
  }
  e.addPolicies.forEach((p, i) => policies.push(makePolicy(p, `new${i}`)));
  const pods: PodInfo[] = b.pods.filter((_, i) => !e.removePods.some((k) => k % b.pods.length === i));
  for (const r of e.relabel) {
    if (pods.length === 0) break;
    const i = r.index % pods.length;
    pods[i] = { ...pods[i]!, labels: r.labels };
  }
  for (const k of e.readdress) if (pods.length > 0) pods[k % pods.length] = { ...pods[k % pods.length]!, ips: ['10.9.9.9'] };
  e.addPods.forEach((p, i) => pods.push(makePod(p, `added${i}`)));
  const namespaces = new Map<string, NamespaceInfo>(b.namespaces);
  if (e.nsLabels) namespaces.set(e.nsLabels.ns, namespace(e.nsLabels.ns, e.nsLabels.labels));
  return { namespaces, pods, policies };
}

test('diff reports exactly the pairs whose verdict changed, each with a cause at one of its ends', () => {
  fc.assert(
    fc.property(editArb, (e) => {
      const before = e.base;
      const after = edited(e);
      const d = diffReachability({ cluster: before, engine: new ScaleEngine(before) }, { cluster: after, engine: new ScaleEngine(after) }, PROBES);
      assertBruteDiff(before, after, PROBES, d.probes);
      const changedPolicies = new Map(d.changes.policies.map((c) => [c.policy, c.change]));
      d.probes.forEach((pd, k) => {
        const label = `${PROBES[k]!.protocol}/${PROBES[k]!.port}`;
        for (const p of [...pd.added, ...pd.removed]) {
          assert.ok(p.causes.length > 0, 'has a cause');
          for (const c of p.causes) {
            assert.notEqual(c.kind, 'unexplained', `${label} ${p.from} -> ${p.to}: ${JSON.stringify(d.changes.policies.map((x) => [x.policy, x.change, x.parts]))}`);
            if (c.kind === 'policy') assert.equal(changedPolicies.get(c.policy), c.change, `cause names a changed policy: ${c.policy}`);
            if (c.kind === 'pod') assert.ok(c.pod === p.from || c.pod === p.to, 'pod cause is an end');
            if (c.kind === 'namespace')
              assert.ok(
                [p.from, p.to].some((x) => x.startsWith(`${c.namespace}/`)),
                'namespace cause is an end',
              );
          }
        }
      });
      assert.deepEqual(
        [...d.changes.podsAdded].sort(),
        after.pods
          .map(podKey)
          .filter((k) => !before.pods.some((p) => podKey(p) === k))
          .sort(),
      );
    }),
    { numRuns: 300 },
  );
});
