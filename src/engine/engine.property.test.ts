/**
 * The engine held to the oracle: random namespaces, pods and policies on the namespaces x, y, z; every
 * ordered pair of endpoints (pods and a few outside addresses), for numeric and named ports over TCP and
 * UDP, must get the same verdict from the engine's fast path, its explained path and the naive oracle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cluster, namespace, pod, policy } from '../../test/builders.js';
import type { LabelSelector, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec } from '../model/k8s.js';
import type { Protocol } from '../model/cluster.js';
import { Engine, externalEndpoint, podEndpoint } from './engine.js';
import { oracleAllows } from './oracle.js';
import { PortSet } from '../policy/portset.js';
import type { Endpoint } from './types.js';

const NS = ['x', 'y', 'z'];
const labelValue = fc.constantFrom('a', 'b', 'c');
const labels = fc.dictionary(fc.constantFrom('app', 'tier', 'env'), labelValue, { maxKeys: 3 });

const selector: fc.Arbitrary<LabelSelector> = fc.record(
  {
    matchLabels: fc.dictionary(fc.constantFrom('app', 'tier', 'env', 'team', 'kubernetes.io/metadata.name'), fc.constantFrom('a', 'b', 'x', 'y'), { maxKeys: 2 }),
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

const ipBlock = fc.oneof(
  fc.record({ cidr: fc.constant('10.0.0.0/16'), except: fc.subarray(['10.0.1.0/24', '10.0.0.0/30', '10.0.0.4/31']) }),
  fc.record({ cidr: fc.constant('0.0.0.0/0'), except: fc.subarray(['10.0.0.0/8', '192.168.0.0/16']) }),
  fc.record({ cidr: fc.constant('fd00::/64'), except: fc.subarray(['fd00::/126']) }),
  fc.record({ cidr: fc.constantFrom('10.0.0.2/32', '8.8.8.0/24') }),
);

const peer: fc.Arbitrary<NetworkPolicyPeer> = fc.oneof(
  fc.record({ podSelector: selector }),
  fc.record({ namespaceSelector: selector }),
  fc.record({ podSelector: selector, namespaceSelector: selector }),
  fc.record({ ipBlock }),
);

const port: fc.Arbitrary<NetworkPolicyPort> = fc.oneof(
  fc.record({ protocol: fc.constantFrom('TCP', 'UDP') }, { requiredKeys: [] }),
  fc.record({ protocol: fc.constantFrom('TCP', 'UDP'), port: fc.constantFrom(53, 80, 8080) }, { requiredKeys: ['port'] }),
  fc.record({ protocol: fc.constantFrom('TCP', 'UDP'), port: fc.constantFrom(50, 79, 8000), endPort: fc.constantFrom(80, 8080, 9000) }, { requiredKeys: ['port', 'endPort'] }),
  fc.record({ protocol: fc.constantFrom('TCP', 'UDP'), port: fc.constantFrom('http', 'dns', 'metrics') }, { requiredKeys: ['port'] }),
);

const listOrAbsent = <T>(arb: fc.Arbitrary<T>) => fc.option(fc.array(arb, { maxLength: 2 }), { nil: undefined });
const rule = fc.record({ peers: listOrAbsent(peer), ports: listOrAbsent(port) });

const spec: fc.Arbitrary<NetworkPolicySpec> = fc
  .record({
    podSelector: selector,
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

const namedPorts = fc.subarray([
  { name: 'http', port: 80, protocol: 'TCP' as Protocol },
  { name: 'dns', port: 53, protocol: 'UDP' as Protocol },
  { name: 'metrics', port: 9000, protocol: 'TCP' as Protocol },
]);
const altHttp = fc.constantFrom(undefined, { name: 'http', port: 8080, protocol: 'TCP' as Protocol });

const clusterArb = fc
  .record({
    nsLabels: fc.tuple(...NS.map(() => fc.dictionary(fc.constantFrom('team', 'env'), fc.constantFrom('a', 'b'), { maxKeys: 2 }))),
    pods: fc.array(
      fc.record({
        ns: fc.constantFrom(...NS),
        labels,
        ips: fc.subarray(['10.0.0.1', '10.0.0.2', '10.0.0.5', '10.0.1.7', '192.168.3.3', 'fd00::1', 'fd00::5']),
        ports: namedPorts,
        alt: altHttp,
      }),
      { minLength: 1, maxLength: 6 },
    ),
    policies: fc.array(fc.record({ ns: fc.constantFrom(...NS), spec }), { maxLength: 5 }),
  })
  .map(({ nsLabels, pods, policies }) =>
    cluster({
      namespaces: NS.map((n, i) => namespace(n, nsLabels[i])),
      pods: pods.map((p, i) => {
        const ports = p.alt ? [...p.ports.filter((x) => x.name !== 'http'), p.alt] : p.ports;
        return pod(`${p.ns}/p${i}`, p.labels, { ips: p.ips.slice(0, 2), ports });
      }),
      policies: policies.map((p, i) => policy(`${p.ns}/np${i}`, p.spec)),
    }),
  );

const PROBE_PORTS: (number | string)[] = [53, 80, 8080, 9000, 443, 'http', 'dns', 'metrics'];
const PROTOCOLS: Protocol[] = ['TCP', 'UDP'];

test('engine agrees with the oracle on every pair, port and protocol', () => {
  fc.assert(
    fc.property(clusterArb, (c) => {
      const engine = new Engine(c);
      const outside = ['10.0.0.2', '8.8.8.8', 'fd00::9'].map((t) => externalEndpoint(t) as Endpoint);
      const endpoints: Endpoint[] = [...c.pods.map(podEndpoint), ...outside];
      for (const source of endpoints) {
        for (const destination of endpoints) {
          if (source.kind === 'external' && destination.kind === 'external') continue;
          for (const protocol of PROTOCOLS) {
            const anyPort = engine.evaluate({ source, destination, protocol });
            const allowedSet = PortSet.of(anyPort.allowedPorts);
            for (const p of PROBE_PORTS) {
              const t = { source, destination, protocol, port: p };
              const expected = oracleAllows(c, source, destination, protocol, p);
              assert.equal(engine.allows(t), expected, `allows() ${JSON.stringify({ from: anyPort.from, to: anyPort.to, protocol, p })}`);
              assert.equal(engine.evaluate(t).allowed, expected, 'evaluate()');
              if (typeof p === 'number') assert.equal(allowedSet.has(p), expected, 'allowedPorts of the any-port question');
            }
          }
        }
      }
    }),
    { numRuns: 300 },
  );
});
