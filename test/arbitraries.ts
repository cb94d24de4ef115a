/**
 * fast-check arbitraries for clusters and changes, shared by the engine's and the scale engine's
 * property tests (the nftables tests build their policies with `specArbitrary` too): namespaces x, y, z with random labels, pods, policies, and what classes depend on:
 * pods that share labels and ports (several pods per class), addresses that ipBlocks split, named
 * ports that resolve differently, a namespace no manifest declares, and changes to apply.
 */
import fc from 'fast-check';
import { cluster, clusterPolicy, namespace, node, pod, policy } from './builders.js';
import type { Cluster, ClusterPolicyInfo, NamedPort, PodInfo, PolicyInfo, Protocol } from '../src/model/cluster.js';
import type { ClusterPolicyPeer, LabelSelector, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec } from '../src/model/k8s.js';

export const NS = ['x', 'y', 'z'];
const labelValue = fc.constantFrom('a', 'b', 'c');
export const labelsArb = fc.dictionary(fc.constantFrom('app', 'tier', 'env'), labelValue, { maxKeys: 2 });

export const selectorArb: fc.Arbitrary<LabelSelector> = fc.record(
  {
    matchLabels: fc.dictionary(fc.constantFrom('app', 'tier', 'env', 'team', 'kubernetes.io/metadata.name'), fc.constantFrom('a', 'b', 'x', 'y', 'w'), { maxKeys: 2 }),
    matchExpressions: fc.array(
      fc.oneof(
        fc.record({ key: fc.constantFrom('app', 'tier', 'team'), operator: fc.constantFrom('In', 'NotIn'), values: fc.uniqueArray(labelValue, { minLength: 1, maxLength: 2 }) }),
        fc.record({ key: fc.constantFrom('app', 'tier', 'team'), operator: fc.constantFrom('Exists', 'DoesNotExist') }),
      ),
      { maxLength: 2 },
    ),
  },
  { requiredKeys: [] },
);

/** What a family of random policies draws from: each test's address pool decides its ipBlocks. */
export interface SpecArbOptions {
  /** ipBlock choices: one of `cidrs`, with any subset of `except` (no `except` field when absent). */
  readonly ipBlocks: readonly { readonly cidrs: readonly string[]; readonly except?: readonly string[] }[];
  readonly protocols: readonly Protocol[];
  /** Port names rules may use. */
  readonly portNames: readonly string[];
}

/** NetworkPolicy specs: selectors, ipBlocks with except, numeric ports, ranges and named ports. */
export function specArbitrary(o: SpecArbOptions): fc.Arbitrary<NetworkPolicySpec> {
  const ipBlock = fc.oneof(
    ...o.ipBlocks.map((b) => (b.except === undefined ? fc.record({ cidr: fc.constantFrom(...b.cidrs) }) : fc.record({ cidr: fc.constantFrom(...b.cidrs), except: fc.subarray([...b.except]) }))),
  );
  const peer: fc.Arbitrary<NetworkPolicyPeer> = fc.oneof(
    fc.record({ podSelector: selectorArb }),
    fc.record({ namespaceSelector: selectorArb }),
    fc.record({ podSelector: selectorArb, namespaceSelector: selectorArb }),
    fc.record({ ipBlock }),
  );
  const protocol = fc.constantFrom(...o.protocols);
  const port: fc.Arbitrary<NetworkPolicyPort> = fc.oneof(
    fc.record({ protocol }, { requiredKeys: [] }),
    fc.record({ protocol, port: fc.constantFrom(53, 80, 8080) }, { requiredKeys: ['port'] }),
    fc.record({ protocol, port: fc.constantFrom(50, 79, 8000), endPort: fc.constantFrom(80, 8080, 9000) }, { requiredKeys: ['port', 'endPort'] }),
    fc.record({ protocol, port: fc.constantFrom(...o.portNames) }, { requiredKeys: ['port'] }),
  );
  const listOrAbsent = <T>(arb: fc.Arbitrary<T>) => fc.option(fc.array(arb, { maxLength: 2 }), { nil: undefined });
  const rule = fc.record({ peers: listOrAbsent(peer), ports: listOrAbsent(port) });
  return fc
    .record({
      podSelector: selectorArb,
      policyTypes: fc.constantFrom<string[] | undefined>(undefined, ['Ingress'], ['Egress'], ['Ingress', 'Egress']),
      ingress: fc.option(fc.array(rule, { maxLength: 3 }), { nil: undefined }),
      egress: fc.option(fc.array(rule, { maxLength: 3 }), { nil: undefined }),
    })
    .map((s) => ({
      podSelector: s.podSelector,
      ...(s.policyTypes ? { policyTypes: s.policyTypes } : {}),
      ...(s.ingress ? { ingress: s.ingress.map((r) => ({ ...(r.peers ? { from: r.peers } : {}), ...(r.ports ? { ports: r.ports } : {}) })) } : {}),
      ...(s.egress ? { egress: s.egress.map((r) => ({ ...(r.peers ? { to: r.peers } : {}), ...(r.ports ? { ports: r.ports } : {}) })) } : {}),
    }));
}

export const specArb = specArbitrary({
  ipBlocks: [
    { cidrs: ['10.0.0.0/16'], except: ['10.0.1.0/24', '10.0.0.0/30', '10.0.0.4/31'] },
    { cidrs: ['0.0.0.0/0'], except: ['10.0.0.0/8', '192.168.0.0/16'] },
    { cidrs: ['fd00::/64'], except: ['fd00::/126'] },
    { cidrs: ['10.0.0.2/32', '8.8.8.0/24', '10.0.0.0/29'] },
  ],
  protocols: ['TCP', 'UDP'],
  portNames: ['http', 'dns', 'metrics'],
});

const namedPortsArb = fc.subarray([
  { name: 'http', port: 80, protocol: 'TCP' as Protocol },
  { name: 'dns', port: 53, protocol: 'UDP' as Protocol },
  { name: 'metrics', port: 9000, protocol: 'TCP' as Protocol },
]);
const altHttpArb = fc.constantFrom(undefined, { name: 'http', port: 8080, protocol: 'TCP' as Protocol });
const IPS = ['10.0.0.1', '10.0.0.2', '10.0.0.5', '10.0.1.7', '10.0.1.8', '192.168.3.3', 'fd00::1', 'fd00::5'];

/** A pod spec, before it is given a name. */
export interface PodSpecLite {
  readonly ns: string;
  readonly labels: Record<string, string>;
  readonly ips: string[];
  readonly ports: NamedPort[];
}

export const podSpecArb: fc.Arbitrary<PodSpecLite> = fc
  .record({
    // `w` is declared by no Namespace: it gets only the automatic name label.
    ns: fc.constantFrom(...NS, 'w'),
    labels: labelsArb,
    ips: fc.subarray(IPS, { maxLength: 2 }),
    ports: namedPortsArb,
    alt: altHttpArb,
  })
  .map((p) => ({ ns: p.ns, labels: p.labels, ips: p.ips, ports: p.alt ? [...p.ports.filter((x) => x.name !== 'http'), p.alt] : p.ports }));

export function makePod(spec: PodSpecLite, name: string): PodInfo {
  return pod(`${spec.ns}/${name}`, spec.labels, { ips: spec.ips, ports: spec.ports });
}

export const policySpecArb = fc.record({ ns: fc.constantFrom(...NS), spec: specArb });

export function makePolicy(p: { ns: string; spec: NetworkPolicySpec }, name: string): PolicyInfo {
  return policy(`${p.ns}/${name}`, p.spec);
}

/** Random clusters: namespaces x, y, z (labelled), pods (often sharing a class), policies. */
export const clusterArb: fc.Arbitrary<Cluster> = fc
  .record({
    nsLabels: fc.tuple(...NS.map(() => fc.dictionary(fc.constantFrom('team', 'env'), fc.constantFrom('a', 'b'), { maxKeys: 2 }))),
    pods: fc.array(podSpecArb, { minLength: 1, maxLength: 8 }),
    // Copies of earlier pods (same labels, ports and addresses) make classes of several pods; twins
    // (same labels and ports, other addresses) are split apart by ipBlocks or not.
    copies: fc.array(fc.nat(), { maxLength: 4 }),
    twins: fc.array(fc.record({ of: fc.nat(), ips: fc.subarray(IPS, { maxLength: 2 }) }), { maxLength: 4 }),
    policies: fc.array(policySpecArb, { maxLength: 5 }),
  })
  .map(({ nsLabels, pods, copies, twins, policies }) => {
    const specs = [...pods, ...copies.map((k) => pods[k % pods.length]!), ...twins.map((t) => ({ ...pods[t.of % pods.length]!, ips: t.ips }))];
    return cluster({
      namespaces: NS.map((n, i) => namespace(n, nsLabels[i])),
      pods: specs.map((p, i) => makePod(p, `p${i}`)),
      policies: policies.map((p, i) => makePolicy(p, `np${i}`)),
    });
  });

/** A change, by positions into the current lists (resolved when applied). */
export type ChangeSpec =
  /** With `copyOf`, the new pod takes the labels and ports of an existing pod (and its addresses unless `ownIPs`). */
  | { readonly kind: 'addPod'; readonly pod: PodSpecLite; readonly copyOf: number | undefined; readonly ownIPs: boolean }
  | { readonly kind: 'removePod'; readonly index: number }
  | { readonly kind: 'setPodLabels'; readonly index: number; readonly labels: Record<string, string> }
  | { readonly kind: 'upsertPolicy'; readonly policy: { ns: string; spec: NetworkPolicySpec }; readonly replace: number | undefined }
  | { readonly kind: 'removePolicy'; readonly index: number };

export const changeArb: fc.Arbitrary<ChangeSpec> = fc.oneof(
  fc.record({ kind: fc.constant('addPod' as const), pod: podSpecArb, copyOf: fc.option(fc.nat(), { nil: undefined }), ownIPs: fc.boolean() }),
  fc.record({ kind: fc.constant('removePod' as const), index: fc.nat() }),
  fc.record({ kind: fc.constant('setPodLabels' as const), index: fc.nat(), labels: labelsArb }),
  fc.record({ kind: fc.constant('upsertPolicy' as const), policy: policySpecArb, replace: fc.option(fc.nat(), { nil: undefined }) }),
  fc.record({ kind: fc.constant('removePolicy' as const), index: fc.nat() }),
);

export const PROBE_PORTS: (number | string)[] = [53, 80, 8080, 9000, 443, 'http', 'dns', 'metrics'];
export const PROBE_PROTOCOLS: Protocol[] = ['TCP', 'UDP'];

// --- cluster-scoped policies ---------------------------------------------------------------------------

/** Node addresses: 10.0.0.2 is also a pod address of IPS (a host-network pod's), 8.8.8.8 an outside one. */
export const NODES = [node('n1', { role: 'a' }, ['10.0.0.2']), node('n2', { role: 'b' }, ['8.8.8.8', 'fd00::9'])];
export const DOMAINS = ['example.com', 'www.example.com', 'api.example.org'];

const nodeSelectorArb: fc.Arbitrary<LabelSelector> = fc.oneof(fc.constant({}), fc.record({ matchLabels: fc.record({ role: fc.constantFrom('a', 'b') }) }));
const namespacedPodArb = fc.record({ namespaceSelector: fc.oneof(fc.constant({}), selectorArb), podSelector: selectorArb });

/** Peers of one rule; `{}` (no known field: an older CRD pruned it) is rare and fails closed. */
function clusterPeerArb(direction: 'ingress' | 'egress', banp: boolean): fc.Arbitrary<ClusterPolicyPeer> {
  const pods: fc.Arbitrary<ClusterPolicyPeer>[] = [fc.record({ namespaces: selectorArb }), fc.record({ pods: namespacedPodArb })];
  if (direction === 'ingress') return fc.oneof({ arbitrary: fc.oneof(...pods), weight: 60 }, { arbitrary: fc.constant({}), weight: 1 });
  const outside: fc.Arbitrary<ClusterPolicyPeer>[] = [
    fc.record({ networks: fc.uniqueArray(fc.constantFrom('10.0.0.0/30', '10.0.1.0/24', '0.0.0.0/0', '8.8.8.0/24', 'fd00::/64', '192.168.3.3/32'), { minLength: 1, maxLength: 2 }) }),
    fc.record({ nodes: nodeSelectorArb }),
  ];
  if (!banp) outside.push(fc.record({ domainNames: fc.uniqueArray(fc.constantFrom('example.com', '*.example.com', '*.org'), { minLength: 1, maxLength: 2 }) }));
  return fc.oneof({ arbitrary: fc.oneof(...pods, ...outside), weight: 60 }, { arbitrary: fc.constant({}), weight: 1 });
}

const PORT_NUMBERS = [53, 80, 8080, 9000];
const cnpPortArb: fc.Arbitrary<object> = fc.oneof(
  fc.record({ proto: fc.constantFrom('tcp', 'udp'), n: fc.constantFrom(...PORT_NUMBERS) }).map(({ proto, n }) => ({ [proto]: { destinationPort: { number: n } } })),
  fc
    .record({ proto: fc.constantFrom('tcp', 'udp'), r: fc.constantFrom([50, 80], [79, 8080], [8000, 9000]) })
    .map(({ proto, r }) => ({ [proto]: { destinationPort: { range: { start: r[0], end: r[1] } } } })),
  fc.record({ destinationNamedPort: fc.constantFrom('http', 'dns', 'metrics') }),
);
const anpPortArb: fc.Arbitrary<object> = fc.oneof(
  fc.record({ portNumber: fc.record({ protocol: fc.constantFrom('TCP', 'UDP'), port: fc.constantFrom(...PORT_NUMBERS) }) }),
  fc.record({ portRange: fc.record({ protocol: fc.constantFrom('TCP', 'UDP'), start: fc.constantFrom(50, 79), end: fc.constantFrom(80, 9000) }) }),
  fc.record({ namedPort: fc.constantFrom('http', 'dns', 'metrics') }),
);

function rulesArb(kind: ClusterPolicyInfo['kind'], direction: 'ingress' | 'egress'): fc.Arbitrary<object[]> {
  const actions = kind === 'ClusterNetworkPolicy' ? ['Accept', 'Deny', 'Pass'] : kind === 'AdminNetworkPolicy' ? ['Allow', 'Deny', 'Pass'] : ['Allow', 'Deny'];
  const portsKey = kind === 'ClusterNetworkPolicy' ? 'protocols' : 'ports';
  const rule = fc.record({
    action: fc.constantFrom(...actions),
    peers: fc.array(clusterPeerArb(direction, kind === 'BaselineAdminNetworkPolicy'), { minLength: 1, maxLength: 2 }),
    ports: fc.option(fc.array(kind === 'ClusterNetworkPolicy' ? cnpPortArb : anpPortArb, { minLength: 1, maxLength: 2 }), { nil: undefined }),
  });
  return fc.array(rule, { maxLength: 3 }).map((rules) => rules.map((r) => ({ action: r.action, [direction === 'ingress' ? 'from' : 'to']: r.peers, ...(r.ports ? { [portsKey]: r.ports } : {}) })));
}

/** One cluster-scoped policy; priorities are few so that equal priorities (implementation-defined order) occur. */
export const clusterPolicyArb: fc.Arbitrary<ClusterPolicyInfo> = fc
  .constantFrom<ClusterPolicyInfo['kind']>('ClusterNetworkPolicy', 'ClusterNetworkPolicy', 'AdminNetworkPolicy', 'BaselineAdminNetworkPolicy')
  .chain((kind) =>
    fc.record({
      kind: fc.constant(kind),
      name: kind === 'BaselineAdminNetworkPolicy' ? fc.constant('default') : fc.constantFrom('a', 'b', 'c', 'd'),
      tier: fc.constantFrom('Admin', 'Baseline'),
      priority: fc.constantFrom(0, 5, 5, 10),
      subject: fc.oneof(fc.constant({ namespaces: {} }), fc.record({ namespaces: selectorArb }), fc.record({ pods: namespacedPodArb })),
      ingress: rulesArb(kind, 'ingress'),
      egress: rulesArb(kind, 'egress'),
    }),
  )
  .map(({ kind, name, tier, priority, subject, ingress, egress }) =>
    clusterPolicy(kind, name, {
      ...(kind === 'ClusterNetworkPolicy' ? { tier } : {}),
      ...(kind !== 'BaselineAdminNetworkPolicy' ? { priority } : {}),
      subject,
      ...(ingress.length > 0 ? { ingress } : {}),
      ...(egress.length > 0 ? { egress } : {}),
    }),
  );

/** Random clusters with cluster-scoped policies on top (unique kind/name, as the API server keeps them), nodes, host-network pods. */
export const tieredClusterArb: fc.Arbitrary<Cluster> = fc
  .record({ base: clusterArb, cps: fc.array(clusterPolicyArb, { maxLength: 5 }), hostNetwork: fc.array(fc.nat(), { maxLength: 2 }) })
  .map(({ base, cps, hostNetwork }) => {
    const unique = new Map(cps.map((p) => [`${p.kind}/${p.name}`, p]));
    const pods = base.pods.map((p, i) => (hostNetwork.some((k) => k % base.pods.length === i) ? { ...p, hostNetwork: true } : p));
    return { ...base, pods, clusterPolicies: [...unique.values()], nodes: NODES };
  });
