/**
 * The tracker's answer to each change is held to the oracle: the pairs it says were added and
 * removed are exactly the difference of the oracle's allowed pairs before and after the change, and
 * its counts are the oracle's counts; with a limit of 0 touched pods, the net count is still exact.
 * The same with cluster-scoped policies (the tier oracle): clusters with ClusterNetworkPolicies,
 * AdminNetworkPolicies, a BaselineAdminNetworkPolicy and Nodes, and changes of those too (policies
 * created, replaced and deleted, Node and Namespace labels).
 * The seed is printed; replay a failure with NETPOL_SEED=<seed>.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { podEndpoint, oracleAllows } from '../engine/index.js';
import { clusterPolicyKey, podKey, type Cluster, type ClusterPolicyInfo, type NamespaceInfo, type PodInfo, type PolicyInfo, type Protocol } from '../model/index.js';
import { ReachabilityTracker, type ObjectChange } from './index.js';
import { changeArb, clusterArb, clusterPolicyArb, makePod, makePolicy, PROBE_PORTS, PROBE_PROTOCOLS, tieredClusterArb, type ChangeSpec } from '../../test/arbitraries.js';
import { namespace } from '../../test/builders.js';

const SEED = Number(process.env.NETPOL_SEED ?? Date.now() % 1_000_000);

function allowedPairs(c: Cluster, port: number | string, protocol: Protocol): Set<string> {
  const out = new Set<string>();
  for (const s of c.pods)
    for (const d of c.pods) {
      if (s === d) continue;
      if (oracleAllows(c, podEndpoint(s), podEndpoint(d), protocol, port)) out.add(`${podKey(s)} -> ${podKey(d)}`);
    }
  return out;
}

/** The ChangeSpec as an informer would deliver it, and the cluster after it. */
function resolve(c: Cluster, spec: ChangeSpec, step: number): { change: ObjectChange; next: Cluster } | undefined {
  const pods = [...c.pods];
  const policies = [...c.policies];
  const namespaces = new Map<string, NamespaceInfo>(c.namespaces);
  let change: ObjectChange;
  switch (spec.kind) {
    case 'addPod': {
      const p = makePod(spec.pod, `n${step}`);
      pods.push(p);
      if (!namespaces.has(p.namespace)) namespaces.set(p.namespace, namespace(p.namespace));
      change = { kind: 'Pod', key: podKey(p), current: p };
      break;
    }
    case 'removePod': {
      if (pods.length === 0) return undefined;
      const [p] = pods.splice(spec.index % pods.length, 1) as [PodInfo];
      change = { kind: 'Pod', key: podKey(p), old: p };
      break;
    }
    case 'setPodLabels': {
      if (pods.length === 0) return undefined;
      const i = spec.index % pods.length;
      const old = pods[i]!;
      const p = { ...old, labels: spec.labels };
      pods[i] = p;
      change = { kind: 'Pod', key: podKey(p), old, current: p };
      break;
    }
    case 'upsertPolicy': {
      const target = spec.replace !== undefined && policies.length > 0 ? policies[spec.replace % policies.length]! : undefined;
      const p: PolicyInfo = target ? makePolicy({ ns: target.namespace, spec: spec.policy.spec }, target.name) : makePolicy(spec.policy, `np-n${step}`);
      const i = policies.findIndex((x) => x.namespace === p.namespace && x.name === p.name);
      if (i >= 0) policies[i] = p;
      else policies.push(p);
      change = { kind: 'NetworkPolicy', key: podKey(p), ...(target ? { old: target } : {}), current: p };
      break;
    }
    case 'removePolicy': {
      if (policies.length === 0) return undefined;
      const [p] = policies.splice(spec.index % policies.length, 1) as [PolicyInfo];
      change = { kind: 'NetworkPolicy', key: podKey(p), old: p };
      break;
    }
  }
  return { change, next: { ...c, namespaces, pods, policies } };
}

/** Changes of the cluster-scoped objects, and of a namespace's labels. */
type TierChangeSpec =
  | { readonly kind: 'upsertClusterPolicy'; readonly policy: ClusterPolicyInfo }
  | { readonly kind: 'removeClusterPolicy'; readonly index: number }
  | { readonly kind: 'setNodeLabels'; readonly index: number; readonly role: string }
  | { readonly kind: 'setNamespaceLabels'; readonly namespace: string; readonly team: string };

const tierChangeArb: fc.Arbitrary<TierChangeSpec> = fc.oneof(
  fc.record({ kind: fc.constant('upsertClusterPolicy' as const), policy: clusterPolicyArb }),
  fc.record({ kind: fc.constant('removeClusterPolicy' as const), index: fc.nat() }),
  fc.record({ kind: fc.constant('setNodeLabels' as const), index: fc.nat(), role: fc.constantFrom('a', 'b', 'c') }),
  fc.record({ kind: fc.constant('setNamespaceLabels' as const), namespace: fc.constantFrom('x', 'y', 'z'), team: fc.constantFrom('a', 'b') }),
);

function resolveTier(c: Cluster, spec: TierChangeSpec): { change: ObjectChange; next: Cluster } | undefined {
  const cps = [...(c.clusterPolicies ?? [])];
  switch (spec.kind) {
    case 'upsertClusterPolicy': {
      const p = spec.policy;
      const i = cps.findIndex((x) => clusterPolicyKey(x) === clusterPolicyKey(p));
      const old = i >= 0 ? cps[i] : undefined;
      if (i >= 0) cps[i] = p;
      else cps.push(p);
      return { change: { kind: p.kind, key: p.name, ...(old ? { old } : {}), current: p }, next: { ...c, clusterPolicies: cps } };
    }
    case 'removeClusterPolicy': {
      if (cps.length === 0) return undefined;
      const [p] = cps.splice(spec.index % cps.length, 1) as [ClusterPolicyInfo];
      return { change: { kind: p.kind, key: p.name, old: p }, next: { ...c, clusterPolicies: cps } };
    }
    case 'setNodeLabels': {
      const nodes = [...(c.nodes ?? [])];
      if (nodes.length === 0) return undefined;
      const i = spec.index % nodes.length;
      const old = nodes[i]!;
      nodes[i] = { ...old, labels: { role: spec.role } };
      return { change: { kind: 'Node', key: old.name, old, current: nodes[i] }, next: { ...c, nodes } };
    }
    case 'setNamespaceLabels': {
      const namespaces = new Map(c.namespaces);
      const old = namespaces.get(spec.namespace) ?? namespace(spec.namespace);
      const current = namespace(spec.namespace, { team: spec.team });
      namespaces.set(spec.namespace, current);
      return { change: { kind: 'Namespace', key: spec.namespace, old, current }, next: { ...c, namespaces } };
    }
  }
}

/** Applies `changes` one by one, holding each answer to the oracle's pairs before and after. */
function holdsToOracle(
  start: Cluster,
  changes: readonly ((c: Cluster, step: number) => { change: ObjectChange; next: Cluster } | undefined)[],
  port: number | string,
  protocol: Protocol,
  listPairs: boolean,
): void {
  const probe = { port, protocol };
  const tracker = new ReachabilityTracker(start, [probe], { touchedLimit: listPairs ? 1000 : 0 });
  let c = start;
  let before = allowedPairs(c, port, protocol);
  assert.equal(tracker.allowedPairs(probe), before.size, 'the first count');
  changes.forEach((make, step) => {
    const r = make(c, step);
    if (!r) return;
    const answer = tracker.apply(r.change);
    c = r.next;
    const after = allowedPairs(c, port, protocol);
    const added = [...after].filter((x) => !before.has(x)).sort();
    const removed = [...before].filter((x) => !after.has(x)).sort();
    const what = `${r.change.kind} ${r.change.key}`;
    if (!answer) {
      assert.deepEqual([added, removed], [[], []], `${what}: a change reported as no change`);
    } else {
      const p = answer.probes[0]!;
      assert.equal(p.allowedPairs, after.size, `${what}: allowed pairs`);
      assert.equal(p.net, after.size - before.size, `${what}: net`);
      // A pod or a policy that selects nothing touches no pod: exact even with a limit of 0.
      if (listPairs && r.change.kind !== 'Namespace') assert.equal(p.exact, true);
      if (p.exact) {
        assert.deepEqual(p.added.map(([f, t]) => `${podKey(f)} -> ${podKey(t)}`).sort(), added, `${what}: added`);
        assert.deepEqual(p.removed.map(([f, t]) => `${podKey(f)} -> ${podKey(t)}`).sort(), removed, `${what}: removed`);
      }
    }
    before = after;
  });
}

test(`each change: the pairs added and removed are the difference of the oracle before and after (seed ${SEED})`, () => {
  console.log(`tracker property test: seed ${SEED} (replay: NETPOL_SEED=${SEED} node scripts/run-tests.mjs tracker.property)`);
  fc.assert(
    fc.property(
      clusterArb,
      fc.array(changeArb, { minLength: 1, maxLength: 6 }),
      fc.constantFrom(...PROBE_PORTS),
      fc.constantFrom(...PROBE_PROTOCOLS),
      fc.boolean(),
      (start, changes, port, protocol, listPairs) => {
        holdsToOracle(
          start,
          changes.map((spec) => (c: Cluster, step: number) => resolve(c, spec, step)),
          port,
          protocol,
          listPairs,
        );
      },
    ),
    { numRuns: 150, seed: SEED },
  );
});

test(`with cluster-scoped policies: each change, theirs too, is the difference of the tier oracle before and after (seed ${SEED})`, () => {
  fc.assert(
    fc.property(
      tieredClusterArb,
      fc.array(
        fc.oneof(
          changeArb.map((spec) => ({ spec, tier: false as const })),
          tierChangeArb.map((spec) => ({ spec, tier: true as const })),
        ),
        { minLength: 1, maxLength: 6 },
      ),
      fc.constantFrom(...PROBE_PORTS),
      fc.constantFrom(...PROBE_PROTOCOLS),
      fc.boolean(),
      (start, changes, port, protocol, listPairs) => {
        holdsToOracle(
          start,
          changes.map((x) => (c: Cluster, step: number) => (x.tier ? resolveTier(c, x.spec) : resolve(c, x.spec, step))),
          port,
          protocol,
          listPairs,
        );
      },
    ),
    { numRuns: 150, seed: SEED },
  );
});
