/**
 * Pod peers' member classes as bitsets (src/scale/bits.ts) against one selector test per class: random
 * labels (keys often missing), selectors with every operator, `{}`, `NotIn` and `DoesNotExist` on keys no
 * class has, peers scoped to their own namespace or to a namespace selector; and the engine, whose bulk
 * build uses them, against the oracle when a change flips a label a member set depends on. The seed is
 * printed; replay with NETPOL_SEED.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classPeerLists, podPeerMembers, type PodPeer } from '../../src/scale/bits.js';
import { LabelIndex, selectorKey } from '../../src/scale/select.js';
import { compileSelector, matches, type Selector } from '../../src/selector/index.js';
import type { LabelSelector, Labels } from '../../src/model/index.js';
import { ScaleEngine, type ScaleProbe } from '../../src/scale/index.js';
import { oracleAllows } from '../../src/engine/oracle.js';
import { podEndpoint } from '../../src/engine/engine.js';
import type { Cluster } from '../../src/model/cluster.js';
import { cluster, namespace, pod, policy } from '../builders.js';

const SEED = Number(process.env.NETPOL_SEED ?? Date.now() % 1_000_000);

const KEYS = ['app', 'tier', 'zone', 'rare', 'never'];
const VALUES = ['a', 'b', 'c'];
// `rare` is on about one class in 30: selectors on it leave the label index fewer candidates than a bitset has words.
const labelsArb: fc.Arbitrary<Labels> = fc
  .tuple(
    fc.dictionary(fc.constantFrom('app', 'tier', 'zone'), fc.constantFrom(...VALUES), { maxKeys: 3 }),
    fc.oneof({ weight: 29, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.record({ rare: fc.constantFrom(...VALUES) }) }),
  )
  .map(([common, rare]) => ({ ...common, ...rare }));
const requirementArb = fc.record({
  key: fc.constantFrom(...KEYS),
  operator: fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist'),
  values: fc.uniqueArray(fc.constantFrom(...VALUES, 'absent'), { minLength: 1, maxLength: 3 }),
});
const selectorArb: fc.Arbitrary<LabelSelector> = fc.record(
  {
    matchLabels: fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 2 }),
    matchExpressions: fc.array(requirementArb, { maxLength: 3 }).map((rs) => rs.map((r) => (r.operator === 'Exists' || r.operator === 'DoesNotExist' ? { key: r.key, operator: r.operator } : r))),
  },
  { requiredKeys: [] },
);

test(`pod peers' members from bitsets equal one selector test per class of the scope (seed ${SEED}, replay: NETPOL_SEED=${SEED})`, () => {
  console.log(`bits property test: seed ${SEED} (replay: NETPOL_SEED=${SEED} node scripts/run-tests.mjs bits)`);
  fc.assert(
    fc.property(
      // Up to 150 classes: bitsets of up to 5 words, a namespace of a few classes falls under a bitset's words and takes the per-class path.
      fc.array(fc.record({ ns: fc.integer({ min: 0, max: 5 }), labels: labelsArb }), { minLength: 0, maxLength: 150 }),
      fc.array(fc.dictionary(fc.constantFrom('team', 'env'), fc.constantFrom('x', 'y'), { maxKeys: 2 }), { minLength: 6, maxLength: 6 }),
      fc.array(fc.record({ pods: fc.option(selectorArb, { nil: undefined }), own: fc.integer({ min: 0, max: 5 }), nsSel: fc.option(selectorArb, { nil: undefined }) }), { maxLength: 30 }),
      (classes, nsLabels, peerDrafts) => {
        const index = new LabelIndex();
        classes.forEach((c, id) => index.add(id, c.labels));
        const byNs = nsLabels.map((_, n) => classes.flatMap((c, id) => (c.ns === n ? [id] : [])));
        const nsSels: Selector[] = [];
        const ids = new Map<string, number>();
        const peers: (PodPeer | undefined)[] = [undefined]; // an ipBlock peer: no members
        for (const d of peerDrafts) {
          const podSel = d.pods === undefined ? undefined : compileSelector(d.pods);
          if (d.nsSel === undefined) peers.push({ podSel, ownNs: d.own, nsSel: -1 });
          else peers.push({ podSel: podSel ?? compileSelector({}), ownNs: -1, nsSel: nsSels.push(compileSelector(d.nsSel)) - 1 });
        }
        const namespacesOf = (s: number): number[] => nsLabels.flatMap((labels, n) => (matches(nsSels[s]!, labels) ? [n] : []));
        const members = podPeerMembers(
          {
            count: classes.length,
            index,
            labelsOf: (c) => classes[c]!.labels,
            nsOf: (c) => classes[c]!.ns,
            classesOf: (n) => byNs[n]!,
            namespacesOf,
            selectorId: (sel) => ids.get(selectorKey(sel)) ?? ids.set(selectorKey(sel), ids.size).get(selectorKey(sel))!,
          },
          peers,
        );
        peers.forEach((p, q) => {
          if (p === undefined) return assert.equal(members[q], undefined);
          const scope = p.ownNs >= 0 ? [p.ownNs] : namespacesOf(p.nsSel);
          const want = classes.flatMap((c, id) => (scope.includes(c.ns) && (p.podSel === undefined || matches(p.podSel, c.labels)) ? [id] : []));
          assert.deepEqual([...members[q]!], want, `peer ${q}`);
        });
        const typed = members.map((m) => m ?? new Int32Array(0));
        const lists = classPeerLists(classes.length, typed);
        classes.forEach((_, c) =>
          assert.deepEqual(
            [...lists[c]!],
            members.flatMap((m, q) => (m?.includes(c) ? [q] : [])),
            `class ${c}`,
          ),
        );
        // The lists of a prefix of the classes (what the dense count's units read before all are made).
        const bound = classes.length >> 1;
        const below = classPeerLists(bound, typed);
        assert.equal(below.length, bound);
        below.forEach((list, c) => assert.deepEqual([...list], [...lists[c]!], `class ${c} below ${bound}`));
      },
    ),
    { seed: SEED, numRuns: 200 },
  );
});

test("a selector the label index narrows below a bitset's words: each candidate tested, in the peer's scope only", () => {
  // 2 namespaces x 40 classes (bitsets of 3 words); classes 5 (namespace 0) and 45 (namespace 1) carry rare=x.
  const labels = (c: number): Labels => (c === 5 || c === 45 ? { app: 'a', rare: 'x' } : { app: 'a' });
  const index = new LabelIndex();
  for (let c = 0; c < 80; c++) index.add(c, labels(c));
  const byNs = [Array.from({ length: 40 }, (_, c) => c), Array.from({ length: 40 }, (_, c) => 40 + c)];
  const rare = compileSelector({ matchLabels: { rare: 'x' } });
  const nsSels = [[1], [0, 1]];
  const members = podPeerMembers(
    {
      count: 80,
      index,
      labelsOf: labels,
      nsOf: (c) => (c < 40 ? 0 : 1),
      classesOf: (n) => byNs[n]!,
      namespacesOf: (s) => nsSels[s]!,
      selectorId: () => 0,
    },
    [
      { podSel: rare, ownNs: 0, nsSel: -1 },
      { podSel: rare, ownNs: 1, nsSel: -1 },
      { podSel: rare, ownNs: -1, nsSel: 0 },
      { podSel: rare, ownNs: -1, nsSel: 1 },
    ],
  );
  assert.deepEqual(
    members.map((m) => [...m!]),
    [[5], [45], [45], [5, 45]],
  );
});

function brute(c: Cluster, probe: ScaleProbe): number {
  let n = 0;
  for (const s of c.pods) for (const d of c.pods) if (s !== d && oracleAllows(c, podEndpoint(s), podEndpoint(d), probe.protocol, probe.port)) n++;
  return n;
}

test('the bulk build and a change agree with the oracle on NotIn and DoesNotExist over a missing key, {} and a flipped label', () => {
  // 40 pods in two namespaces: bitsets of two words, so namespace selectors take the bitset path.
  const pods = [];
  for (let i = 0; i < 40; i++) {
    const labels: Record<string, string> = { app: i % 3 === 0 ? 'web' : 'api' };
    if (i % 4 === 0) labels.canary = 'true';
    pods.push(pod(`${i % 2 ? 'blue' : 'green'}/p-${i}`, labels, { ips: [`10.1.0.${i + 1}`] }));
  }
  const policies = [
    // NotIn on a key no pod has: every pod of the selected namespaces.
    policy('blue/not-in-missing', {
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { env: 'prod' } }, podSelector: { matchExpressions: [{ key: 'absent', operator: 'NotIn', values: ['x'] }] } }] }],
    }),
    // DoesNotExist: the pods without the canary label, anywhere; `{}` podSelector beside a namespace selector.
    policy('green/no-canary', {
      podSelector: { matchLabels: { app: 'web' } },
      policyTypes: ['Egress'],
      egress: [
        {
          to: [
            { namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] } },
            { namespaceSelector: { matchLabels: { env: 'dev' } }, podSelector: {} },
          ],
        },
      ],
    }),
    policy('green/api-in', {
      podSelector: { matchLabels: { app: 'api' } },
      ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] } }] }],
    }),
  ];
  const c = cluster({ namespaces: [namespace('blue', { env: 'prod' }), namespace('green', { env: 'dev' })], pods, policies });
  const probe: ScaleProbe = { port: 80, protocol: 'TCP' };
  const engine = new ScaleEngine(c, { strategy: 'dense' });
  assert.equal(engine.allowedPairs(probe), brute(c, probe));
  // A canary pod loses its label (now matched by DoesNotExist), a web pod becomes api (now matched by NotIn [web]).
  const flips: [number, Labels][] = [
    [0, { app: 'web' }],
    [3, { app: 'api' }],
    [8, { app: 'web', canary: 'true', absent: 'x' }],
  ];
  let now = c.pods;
  for (const [i, labels] of flips) {
    const next = engine.setPodLabels(now[i]!, labels);
    now = now.map((p, k) => (k === i ? next : p));
    const after: Cluster = { ...c, pods: now };
    assert.equal(engine.allowedPairs(probe), brute(after, probe), `after relabelling pod ${i}`);
    assert.equal(new ScaleEngine(after).allowedPairs(probe), brute(after, probe), `rebuilt after relabelling pod ${i}`);
  }
});
