/**
 * The incremental compiler is the compiler: after any sequence of changes (pods added, removed, relabelled,
 * moved to another address or node, re-created unchanged; namespaces relabelled; policies added, edited,
 * removed, switched between audit and enforce; cluster-scoped policies added, edited, removed; Node objects
 * readdressed; pods switched to the host network; the pod list reordered), one or several per update, `NodeCompiler.update` returns exactly what `compileNode` returns for
 * the same cluster, and the diff it enables (from recorded element edits) is the diff of two fresh compiles.
 * Addresses come from a small pool full of neighbours and ipBlock edges, so interval sets merge and split.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Cluster, ClusterPolicyInfo, NamedPort, NamespaceInfo, PodInfo } from '../model/index.js';
import { NAMESPACE_NAME_LABEL } from '../model/index.js';
import { compileNode, NodeCompiler, renderDiff, type Ruleset } from './index.js';
import { clusterArb, NODES, NS, specArb } from '../../test/fixtures/nft/clusters.js';
import { audit, clusterPolicy, isStaged, node as nodeObject, policy } from '../../test/builders.js';
import { clusterPolicyArb } from '../../test/arbitraries.js';

const V4 = ['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6', '10.0.0.7', '10.0.0.8', '10.0.1.0', '10.0.1.1', '10.0.0.255', '10.1.0.0', '8.8.8.8'];
const V6 = ['fd00::', 'fd00::1', 'fd00::2', 'fd00::3', 'fd00::4', 'fd00::1:0', 'fd00::1:1', 'fd01::1'];

const labels = fc.dictionary(fc.constantFrom('app', 'tier', 'env'), fc.constantFrom('a', 'b', 'c'), { maxKeys: 2 });
const ports = fc.subarray<NamedPort>([
  { name: 'http', port: 80, protocol: 'TCP' },
  { name: 'http', port: 8080, protocol: 'UDP' },
  { name: 'dns', port: 53, protocol: 'UDP' },
  { name: 'metrics', port: 9000, protocol: 'TCP' },
  { name: 'sig', port: 7000, protocol: 'SCTP' },
]);
const ips = fc.oneof(
  fc.constant<string[]>([]),
  fc.constantFrom(...V4).map((a) => [a]),
  fc.constantFrom(...V6).map((a) => [a]),
  fc.tuple(fc.constantFrom(...V4), fc.constantFrom(...V6)).map(([a, b]) => [a, b]),
);
const node = fc.constantFrom<string | undefined>('a', 'b', 'a', undefined);

type Change =
  | { kind: 'add'; ns: string; labels: Record<string, string>; ips: string[]; ports: NamedPort[]; node: string | undefined }
  | { kind: 'remove'; at: number }
  | { kind: 'relabel'; at: number; labels: Record<string, string> }
  | { kind: 'readdress'; at: number; ips: string[] }
  | { kind: 'reports'; at: number; ports: NamedPort[] }
  | { kind: 'move'; at: number; node: string | undefined }
  | { kind: 'recreate'; at: number }
  | { kind: 'reorder'; seed: number }
  | { kind: 'nsLabels'; ns: string; labels: Record<string, string> }
  | { kind: 'policy'; ns: string; spec: unknown }
  | { kind: 'dropPolicy'; at: number }
  | { kind: 'editPolicy'; at: number; spec: unknown }
  | { kind: 'mode'; at: number }
  | { kind: 'clusterPolicy'; policy: ClusterPolicyInfo }
  | { kind: 'dropClusterPolicy'; at: number }
  | { kind: 'hostNetwork'; at: number }
  | { kind: 'nodeAddresses'; ips: string[] };

const at = fc.nat(1000);
const change: fc.Arbitrary<Change> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('add' as const), ns: fc.constantFrom(...NS), labels, ips, ports, node }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('remove' as const), at }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('relabel' as const), at, labels }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('readdress' as const), at, ips }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('reports' as const), at, ports }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('move' as const), at, node }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('recreate' as const), at }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('reorder' as const), seed: fc.nat() }), weight: 1 },
  {
    arbitrary: fc.record({ kind: fc.constant('nsLabels' as const), ns: fc.constantFrom(...NS), labels: fc.dictionary(fc.constantFrom('team', 'env'), fc.constantFrom('a', 'b'), { maxKeys: 2 }) }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('policy' as const), ns: fc.constantFrom(...NS), spec: specArb }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('dropPolicy' as const), at }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('editPolicy' as const), at, spec: specArb }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('mode' as const), at }), weight: 2 },
  // A policy of an existing kind and name replaces it (an edit); others are added.
  { arbitrary: fc.record({ kind: fc.constant('clusterPolicy' as const), policy: clusterPolicyArb }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('dropClusterPolicy' as const), at }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('hostNetwork' as const), at }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('nodeAddresses' as const), ips }), weight: 1 },
);

let counter = 0;

/** Applies one change, re-using every object it does not change (as a live source would). */
function apply(c: Cluster, ch: Change): Cluster {
  const pods = c.pods;
  const pick = (i: number) => i % Math.max(1, pods.length);
  const replace = (i: number, p: PodInfo): Cluster => ({ ...c, pods: pods.map((x, k) => (k === i ? p : x)) });
  switch (ch.kind) {
    case 'add': {
      const p: PodInfo = { namespace: ch.ns, name: `n${++counter}`, labels: ch.labels, ips: ch.ips, ports: ch.ports, ...(ch.node ? { nodeName: ch.node } : {}) };
      return { ...c, pods: [...pods, p] };
    }
    case 'remove':
      return pods.length === 0 ? c : { ...c, pods: pods.filter((_, k) => k !== pick(ch.at)) };
    case 'relabel':
      return pods.length === 0 ? c : replace(pick(ch.at), { ...pods[pick(ch.at)]!, labels: ch.labels });
    case 'readdress':
      return pods.length === 0 ? c : replace(pick(ch.at), { ...pods[pick(ch.at)]!, ips: ch.ips });
    case 'reports':
      return pods.length === 0 ? c : replace(pick(ch.at), { ...pods[pick(ch.at)]!, ports: ch.ports });
    case 'move': {
      if (pods.length === 0) return c;
      const { nodeName: _, ...rest } = pods[pick(ch.at)]!;
      return replace(pick(ch.at), { ...rest, ...(ch.node ? { nodeName: ch.node } : {}) });
    }
    case 'recreate':
      return pods.length === 0 ? c : replace(pick(ch.at), { ...pods[pick(ch.at)]!, labels: { ...pods[pick(ch.at)]!.labels } });
    case 'reorder': {
      const next = [...pods];
      let s = ch.seed;
      for (let i = next.length - 1; i > 0; i--) {
        s = (s * 1103515245 + 12345) % 2147483648;
        const j = s % (i + 1);
        [next[i], next[j]] = [next[j]!, next[i]!];
      }
      return { ...c, pods: next };
    }
    case 'nsLabels': {
      const namespaces = new Map<string, NamespaceInfo>(c.namespaces);
      namespaces.set(ch.ns, { name: ch.ns, labels: { ...ch.labels, [NAMESPACE_NAME_LABEL]: ch.ns }, implicit: false });
      return { ...c, namespaces };
    }
    case 'policy':
      return { ...c, policies: [...c.policies, policy(`${ch.ns}/p${++counter}`, ch.spec as never)] };
    case 'dropPolicy':
      return c.policies.length === 0 ? c : { ...c, policies: c.policies.filter((_, k) => k !== ch.at % c.policies.length) };
    case 'clusterPolicy': {
      const key = (p: ClusterPolicyInfo) => `${p.kind}/${p.name}`;
      const list = c.clusterPolicies ?? [];
      const i = list.findIndex((p) => key(p) === key(ch.policy));
      return { ...c, clusterPolicies: i < 0 ? [...list, ch.policy] : list.map((p, k) => (k === i ? ch.policy : p)) };
    }
    case 'dropClusterPolicy': {
      const list = c.clusterPolicies ?? [];
      return list.length === 0 ? c : { ...c, clusterPolicies: list.filter((_, k) => k !== ch.at % list.length) };
    }
    case 'hostNetwork':
      return pods.length === 0 ? c : replace(pick(ch.at), { ...pods[pick(ch.at)]!, hostNetwork: !pods[pick(ch.at)]!.hostNetwork });
    case 'nodeAddresses':
      return { ...c, nodes: (c.nodes ?? []).map((n, k) => (k === 0 ? nodeObject(n.name, { ...n.labels }, ch.ips) : n)) };
    case 'editPolicy': {
      if (c.policies.length === 0) return c;
      const i = ch.at % c.policies.length;
      const old = c.policies[i]!;
      return { ...c, policies: c.policies.map((p, k) => (k === i ? policy(`${old.namespace}/${old.name}`, ch.spec as never) : p)) };
    }
    case 'mode': {
      // Staged <-> enforcing: the same spec, the annotation added or removed.
      if (c.policies.length === 0) return c;
      const i = ch.at % c.policies.length;
      const old = c.policies[i]!;
      const next = isStaged(old) ? { ...old, policy: { ...old.policy, metadata: { name: old.name, namespace: old.namespace } } } : audit(old);
      return { ...c, policies: c.policies.map((p, k) => (k === i ? next : p)) };
    }
  }
}

/** Policies that isolate every pod of x and y with sets that change as pods do (ipBlocks with pods, selectors, named ports). */
const BASE = [
  policy('x/blocks', {
    podSelector: {},
    ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/24', except: ['10.0.0.4/31'] } }, { podSelector: { matchLabels: { app: 'a' } } }], ports: [{ port: 'http' }, { port: 'dns', protocol: 'UDP' }] }],
    egress: [{ to: [{ ipBlock: { cidr: 'fd00::/120' } }, { namespaceSelector: { matchLabels: { team: 'a' } } }] }],
    policyTypes: ['Ingress', 'Egress'],
  }),
  policy('y/selectors', {
    podSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['c'] }] },
    ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { tier: 'b' } } }, { podSelector: {} }] }],
    egress: [{ to: [{ namespaceSelector: { matchLabels: { env: 'b' } } }], ports: [{ port: 'metrics' }, { port: 'sig', protocol: 'SCTP' }] }],
  }),
];

/** Cluster policies with sets that change as pods, namespaces and nodes do, in both tiers, with Pass. */
const BASE_TIERS = [
  clusterPolicy('ClusterNetworkPolicy', 'admin', {
    tier: 'Admin',
    priority: 5,
    subject: { namespaces: { matchLabels: { team: 'a' } } },
    ingress: [
      { action: 'Pass', from: [{ pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: 'a' } } } }] },
      { action: 'Deny', from: [{ namespaces: { matchLabels: { env: 'b' } } }], protocols: [{ destinationNamedPort: 'http' }] },
    ],
    egress: [{ action: 'Accept', to: [{ networks: ['10.0.0.0/30', 'fd00::/126'] }, { nodes: { matchLabels: { role: 'a' } } }] }],
  }),
  clusterPolicy('BaselineAdminNetworkPolicy', 'default', {
    subject: { namespaces: {} },
    egress: [{ action: 'Deny', to: [{ nodes: {} }], ports: [{ portRange: { protocol: 'TCP', start: 50, end: 90 } }] }],
  }),
];
const BASE_NODES = [nodeObject('n1', { role: 'a' }, ['10.0.0.2', 'fd00::2']), nodeObject('n2', { role: 'b' }, ['8.8.8.8'])];

for (const [denyAction, reuseArrays, mode] of [
  ['drop', false, 'enforce'],
  ['reject', false, 'enforce'],
  ['drop', true, 'enforce'],
  ['reject', true, 'enforce'],
  ['drop', true, 'audit'],
] as const) {
  test(`NodeCompiler.update equals compileNode after every change (${denyAction}${reuseArrays ? ', arrays reused' : ''}${mode === 'audit' ? ', global mode audit' : ''})`, () => {
    fc.assert(
      // Changes come one per update, or several at once (a source that coalesces events).
      fc.property(clusterArb, fc.array(fc.array(change, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 25 }), (generated, batches) => {
        const first = { ...generated, policies: [...BASE, ...generated.policies], clusterPolicies: BASE_TIERS, nodes: BASE_NODES };
        for (const nodeName of NODES) {
          const opts = { node: nodeName, denyAction, log: denyAction === 'reject', mode };
          const nc = new NodeCompiler({ ...opts, reuseArrays });
          let c: Cluster = first;
          let inc: Ruleset = nc.update(c);
          let fresh = compileNode(c, opts);
          assert.deepEqual(inc, fresh);
          for (const batch of batches) {
            for (const ch of batch) c = apply(c, ch);
            const nextInc = nc.update(c);
            const nextFresh = compileNode(c, opts);
            assert.deepEqual(nextInc, nextFresh, `after ${JSON.stringify(batch)}`);
            // The previous ruleset is still intact (with reused arrays: for one more update).
            assert.deepEqual(inc, fresh, `previous ruleset after ${JSON.stringify(batch)}`);
            // The recorded element edits give the same transaction as comparing the arrays.
            assert.equal(renderDiff(inc, nextInc), renderDiff(fresh, nextFresh), `diff after ${JSON.stringify(batch)}`);
            inc = nextInc;
            fresh = nextFresh;
          }
        }
      }),
      { numRuns: 200 },
    );
  });
}

test('an update with nothing changed returns the same ruleset, and a pod list with new but equal pods diffs to nothing', () => {
  fc.assert(
    fc.property(clusterArb, (c) => {
      const nc = new NodeCompiler({ node: 'a' });
      const first = nc.update(c);
      assert.equal(nc.update(c), first);
      const copy = { ...c, pods: c.pods.map((p) => ({ ...p })) };
      assert.equal(renderDiff(first, nc.update(copy)), '');
    }),
    { numRuns: 50 },
  );
});

test('a change that leaves a subject chain as it was hands out the same chain object (the diff skips it at once)', () => {
  fc.assert(
    fc.property(clusterArb, (c) => {
      const nc = new NodeCompiler({ node: 'a' });
      const first = nc.update(c);
      // Every pod of node b dropped: node a's chains depend on the policies and on which of a's pods
      // they isolate, neither of which changes (set contents may).
      const next = nc.update({ ...c, pods: c.pods.filter((p) => p.nodeName !== 'b') });
      const before = new Map(first.chains.map((ch) => [ch.name, ch]));
      for (const ch of next.chains) {
        const old = before.get(ch.name);
        if (old && !old.base) assert.equal(ch, old, ch.name);
      }
    }),
    { numRuns: 50 },
  );
});
