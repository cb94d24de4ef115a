/**
 * fast-check arbitraries for clusters and changes, shared by the engine's and the scale engine's
 * property tests (the nftables tests build their policies with `specArbitrary` too): namespaces x, y, z with random labels, pods, policies, and what classes depend on:
 * pods that share labels and ports (several pods per class), addresses that ipBlocks split, named
 * ports that resolve differently, a namespace no manifest declares, and changes to apply.
 */
import fc from 'fast-check';
import { cluster, namespace, pod, policy } from './builders.js';
import type { Cluster, NamedPort, PodInfo, PolicyInfo, Protocol } from '../src/model/cluster.js';
import type { LabelSelector, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec } from '../src/model/k8s.js';

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
    ...o.ipBlocks.map((b) =>
      b.except === undefined ? fc.record({ cidr: fc.constantFrom(...b.cidrs) }) : fc.record({ cidr: fc.constantFrom(...b.cidrs), except: fc.subarray([...b.except]) }),
    ),
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
