/**
 * What the tracker reports when cluster-scoped policies are in play, on small named clusters: a policy
 * of each tier created and deleted names the pairs it changed and itself as the cause; a NetworkPolicy
 * change removes only what an Admin tier Allow does not accept; a Node's labels change what `nodes`
 * peers match. (The property test holds every answer to the tier oracle; these say what a reader expects.)
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { podKey, type ClusterPolicyInfo } from '../model/index.js';
import { clusterPolicy, node, pod, policy, tieredCluster } from '../../test/builders.js';
import { ReachabilityTracker, type ReachabilityChange } from './index.js';

const TCP_80 = { port: 80, protocol: 'TCP' as const };

/** Three pods in x; b's address is also node n1's (a host-network-like address that `nodes` peers see). */
const PODS = [pod('x/a', { app: 'a' }, { ips: ['10.0.0.1'] }), pod('x/b', { app: 'b' }, { ips: ['10.0.0.2'] }), pod('x/c', { app: 'c' }, { ips: ['10.0.0.3'] })];
const N1 = node('n1', { role: 'infra' }, ['10.0.0.2']);

/** The pairs of the change's one probe, as `from -> to`. */
function pairs(c: ReachabilityChange | undefined): { object: string; action: string; added: string[]; removed: string[]; allowedPairs: number } {
  assert.ok(c, 'a change was reported');
  const p = c.probes[0]!;
  assert.equal(p.exact, true);
  const names = (list: typeof p.added) => list.map(([f, t]) => `${podKey(f)} -> ${podKey(t)}`).sort();
  return { object: c.object, action: c.action, added: names(p.added), removed: names(p.removed), allowedPairs: p.allowedPairs };
}

const event = (p: ClusterPolicyInfo, how: 'created' | 'deleted') => (how === 'created' ? { kind: p.kind, key: p.name, current: p } : { kind: p.kind, key: p.name, old: p });

describe('the tracker with cluster-scoped policies', () => {
  test('an AdminNetworkPolicy created and deleted: the pairs it denies, and the policy named as the cause', () => {
    const tracker = new ReachabilityTracker(tieredCluster({ pods: PODS }), [TCP_80]);
    assert.equal(tracker.allowedPairs(TCP_80), 6);
    const deny = clusterPolicy('AdminNetworkPolicy', 'b-closed', {
      priority: 1,
      subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: 'b' } } } },
      ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }],
    });
    assert.deepEqual(pairs(tracker.apply(event(deny, 'created'))), { object: 'AdminNetworkPolicy b-closed', action: 'created', added: [], removed: ['x/a -> x/b', 'x/c -> x/b'], allowedPairs: 4 });
    assert.equal(tracker.clusterPolicyCount, 1);
    assert.deepEqual(pairs(tracker.apply(event(deny, 'deleted'))), { object: 'AdminNetworkPolicy b-closed', action: 'deleted', added: ['x/a -> x/b', 'x/c -> x/b'], removed: [], allowedPairs: 6 });
  });

  test('a BaselineAdminNetworkPolicy denies what no NetworkPolicy selects; a NetworkPolicy then takes the decision back', () => {
    const tracker = new ReachabilityTracker(tieredCluster({ pods: PODS }), [TCP_80]);
    const baseline = clusterPolicy('BaselineAdminNetworkPolicy', 'default', { subject: { namespaces: {} }, ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }] });
    assert.equal(pairs(tracker.apply(event(baseline, 'created'))).allowedPairs, 0);
    // a admits c: NetworkPolicy now isolates a's ingress, so the Baseline tier no longer decides it.
    const np = policy('x/a-from-c', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'c' } } }] }] });
    assert.deepEqual(pairs(tracker.apply({ kind: 'NetworkPolicy', key: 'x/a-from-c', current: np })), {
      object: 'NetworkPolicy x/a-from-c',
      action: 'created',
      added: ['x/c -> x/a'],
      removed: [],
      allowedPairs: 1,
    });
  });

  test('a NetworkPolicy that isolates a pod under an Admin tier Allow removes only the pairs the Allow does not accept', () => {
    const allow = clusterPolicy('AdminNetworkPolicy', 'c-to-b', {
      priority: 1,
      subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: 'b' } } } },
      ingress: [{ action: 'Allow', from: [{ pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: 'c' } } } }] }],
    });
    const tracker = new ReachabilityTracker(tieredCluster({ pods: PODS, clusterPolicies: [allow] }), [TCP_80]);
    const closed = policy('x/b-closed', { podSelector: { matchLabels: { app: 'b' } }, policyTypes: ['Ingress'] });
    // The NetworkPolicy isolates b: a loses b, c keeps it (the Admin tier accepted it before NetworkPolicy is asked).
    assert.deepEqual(pairs(tracker.apply({ kind: 'NetworkPolicy', key: 'x/b-closed', current: closed })), {
      object: 'NetworkPolicy x/b-closed',
      action: 'created',
      added: [],
      removed: ['x/a -> x/b'],
      allowedPairs: 5,
    });
  });

  test("a Node's labels decide what a nodes peer matches: the pairs to the node's address change with them", () => {
    const toInfra = clusterPolicy('ClusterNetworkPolicy', 'no-infra', {
      tier: 'Admin',
      priority: 1,
      subject: { namespaces: {} },
      egress: [{ action: 'Deny', to: [{ nodes: { matchLabels: { role: 'infra' } } }] }],
    });
    const tracker = new ReachabilityTracker(tieredCluster({ pods: PODS, clusterPolicies: [toInfra], nodes: [N1] }), [TCP_80]);
    assert.equal(tracker.allowedPairs(TCP_80), 4, 'nobody reaches 10.0.0.2 (x/b)');
    const relabelled = { ...N1, labels: { role: 'worker' } };
    assert.deepEqual(pairs(tracker.apply({ kind: 'Node', key: 'n1', old: N1, current: relabelled })), {
      object: 'Node n1',
      action: 'changed',
      added: ['x/a -> x/b', 'x/c -> x/b'],
      removed: [],
      allowedPairs: 6,
    });
    assert.deepEqual(tracker.apply({ kind: 'Node', key: 'n1', old: relabelled, current: relabelled }), undefined, 'an unchanged Node is no change');
  });

  test('without a policy that reads Nodes, a Node change is no change', () => {
    const tracker = new ReachabilityTracker(tieredCluster({ pods: PODS, nodes: [N1] }), [TCP_80]);
    assert.equal(tracker.apply({ kind: 'Node', key: 'n1', old: N1, current: { ...N1, labels: { role: 'worker' } } }), undefined);
  });
});

describe('the tracker and audit mode', () => {
  const staged = <T extends { policy: { metadata: object } }>(p: T, mode: 'audit' | 'enforce'): T => ({
    ...p,
    policy: { ...p.policy, metadata: { ...p.policy.metadata, annotations: { 'netpol.dev/mode': mode } } },
  });

  test('a NetworkPolicy switched from audit to enforce (spec unchanged) is a change: the pairs it now denies', () => {
    const tracker = new ReachabilityTracker(tieredCluster({ pods: PODS }), [TCP_80]);
    const deny = policy('x/b-closed', { podSelector: { matchLabels: { app: 'b' } }, policyTypes: ['Ingress'] });
    const created = pairs(tracker.apply({ kind: 'NetworkPolicy', key: 'x/b-closed', current: staged(deny, 'audit') }));
    assert.deepEqual(created, { object: 'NetworkPolicy x/b-closed', action: 'created', added: [], removed: [], allowedPairs: 6 }, 'a staged policy enforces nothing');
    const enforced = tracker.apply({ kind: 'NetworkPolicy', key: 'x/b-closed', current: staged(deny, 'enforce') });
    assert.deepEqual(enforced?.fields, ['mode']);
    assert.deepEqual(pairs(enforced), { object: 'NetworkPolicy x/b-closed', action: 'changed', added: [], removed: ['x/a -> x/b', 'x/c -> x/b'], allowedPairs: 4 });
    // Other metadata changes nothing.
    const labelled = { ...deny, policy: { ...deny.policy, metadata: { ...deny.policy.metadata, labels: { team: 'x' } } } };
    assert.equal(tracker.apply({ kind: 'NetworkPolicy', key: 'x/b-closed', current: labelled }), undefined);
  });

  test('a cluster-scoped policy switched from audit to enforce is a change too', () => {
    const tracker = new ReachabilityTracker(tieredCluster({ pods: PODS }), [TCP_80]);
    const deny = clusterPolicy('AdminNetworkPolicy', 'b-closed', {
      priority: 1,
      subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: 'b' } } } },
      ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }],
    });
    assert.equal(pairs(tracker.apply(event(staged(deny, 'audit'), 'created'))).allowedPairs, 6);
    const enforced = tracker.apply(event(staged(deny, 'enforce'), 'created'));
    assert.deepEqual(enforced?.fields, ['mode']);
    assert.deepEqual(pairs(enforced).removed, ['x/a -> x/b', 'x/c -> x/b']);
  });
});
