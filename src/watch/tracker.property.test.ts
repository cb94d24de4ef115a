/**
 * The tracker's answer to each change is held to the oracle: the pairs it says were added and
 * removed are exactly the difference of the oracle's allowed pairs before and after the change, and
 * its counts are the oracle's counts; with a limit of 0 touched pods, the net count is still exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { podEndpoint, oracleAllows } from '../engine/index.js';
import { podKey, type Cluster, type NamespaceInfo, type PodInfo, type PolicyInfo, type Protocol } from '../model/index.js';
import { ReachabilityTracker, type ObjectChange } from './index.js';
import { changeArb, clusterArb, makePod, makePolicy, PROBE_PORTS, PROBE_PROTOCOLS, type ChangeSpec } from '../../test/arbitraries.js';
import { namespace } from '../../test/builders.js';

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
  return { change, next: { namespaces, pods, policies } };
}

test('each change: the pairs added and removed are the difference of the oracle before and after', () => {
  fc.assert(
    fc.property(
      clusterArb,
      fc.array(changeArb, { minLength: 1, maxLength: 6 }),
      fc.constantFrom(...PROBE_PORTS),
      fc.constantFrom(...PROBE_PROTOCOLS),
      fc.boolean(),
      (start, changes, port, protocol, listPairs) => {
        const probe = { port, protocol };
        const tracker = new ReachabilityTracker(start, [probe], { touchedLimit: listPairs ? 1000 : 0 });
        let c = start;
        let before = allowedPairs(c, port, protocol);
        changes.forEach((spec, step) => {
          const r = resolve(c, spec, step);
          if (!r) return;
          const answer = tracker.apply(r.change);
          c = r.next;
          const after = allowedPairs(c, port, protocol);
          const added = [...after].filter((x) => !before.has(x)).sort();
          const removed = [...before].filter((x) => !after.has(x)).sort();
          if (!answer) {
            assert.deepEqual([added, removed], [[], []], 'a change reported as no change');
          } else {
            const p = answer.probes[0]!;
            assert.equal(p.allowedPairs, after.size);
            assert.equal(p.net, after.size - before.size);
            // A pod or a policy that selects nothing touches no pod: exact even with a limit of 0.
            if (listPairs) assert.equal(p.exact, true);
            if (p.exact) {
              assert.deepEqual(p.added.map(([f, t]) => `${podKey(f)} -> ${podKey(t)}`).sort(), added);
              assert.deepEqual(p.removed.map(([f, t]) => `${podKey(f)} -> ${podKey(t)}`).sort(), removed);
            }
          }
          before = after;
        });
      },
    ),
    { numRuns: 150 },
  );
});
