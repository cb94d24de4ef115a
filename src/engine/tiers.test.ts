/** The tier rules of docs/semantics.md (T1-T9 and the choices), one test each, through the engine's public API. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterPolicy, namespace, node, pod, policy, tieredCluster } from '../../test/builders.js';
import { validateCluster } from '../validate/index.js';
import type { Cluster, ClusterPolicyInfo, PodInfo } from '../model/index.js';
import { domainEndpoint, Engine, externalEndpoint, podEndpoint } from './engine.js';
import type { Endpoint, SideResult } from './types.js';

const web = pod('a/web', { app: 'web' }, { ips: ['10.0.0.1'], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] });
const db = pod('a/db', { app: 'db' }, { ips: ['10.0.0.2'], ports: [{ name: 'http', port: 9090, protocol: 'TCP' }] });
const other = pod('b/client', { app: 'client' }, { ips: ['10.0.1.1'] });
const hostPod: PodInfo = { ...pod('b/agent', { app: 'agent' }, { ips: ['192.168.0.10'] }), hostNetwork: true };
const namespaces = [namespace('a', { team: 'a' }), namespace('b', { team: 'b' })];

const ALL_NS = { namespaces: {} };
const NS_A = { namespaces: { matchLabels: { team: 'a' } } };
const NS_B = { namespaces: { matchLabels: { team: 'b' } } };
const cnp = (name: string, tier: 'Admin' | 'Baseline', priority: number, spec: object) => clusterPolicy('ClusterNetworkPolicy', name, { tier, priority, ...spec });

function engineOf(cps: ClusterPolicyInfo[], extra: Partial<Parameters<typeof tieredCluster>[0]> = {}): Engine {
  const c: Cluster = tieredCluster({ namespaces, pods: [web, db, other, hostPod], clusterPolicies: cps, ...extra });
  assert.deepEqual(
    validateCluster(c).filter((d) => d.severity === 'error'),
    [],
  );
  return new Engine(c);
}

const ep = (p: PodInfo): Endpoint => podEndpoint(p);
function verdict(e: Engine, from: Endpoint, to: Endpoint, port: number | string = 80, protocol: 'TCP' | 'UDP' = 'TCP') {
  const v = e.evaluate({ source: from, destination: to, protocol, port });
  assert.equal(e.allows({ source: from, destination: to, protocol, port }), v.allowed, 'allows() and evaluate() agree');
  return v;
}
const decider = (s: SideResult) => s.tiers?.decisions.map((d) => [d.by.tier, 'policy' in d.by ? `${d.by.policy.name}[${d.by.rule}]` : '', d.allowed]);

describe('tiers', () => {
  test('T1/T4: an Admin Deny beats a NetworkPolicy that allows; a Baseline Deny loses to it', () => {
    const allowAll = policy('a/allow-all', { podSelector: {}, ingress: [{}] });
    const e = engineOf([cnp('deny-b', 'Admin', 10, { subject: NS_A, ingress: [{ action: 'Deny', from: [NS_B] }] })], { policies: [allowAll] });
    const v = verdict(e, ep(other), ep(web));
    assert.equal(v.allowed, false);
    assert.deepEqual(decider(v.ingress), [['admin', 'deny-b[0]', false]]);
    const base = engineOf([cnp('deny-b', 'Baseline', 10, { subject: NS_A, ingress: [{ action: 'Deny', from: [NS_B] }] })], { policies: [allowAll] });
    const w = verdict(base, ep(other), ep(web));
    assert.equal(w.allowed, true);
    assert.deepEqual(decider(w.ingress), [['networkpolicy', '', true]]);
  });

  test('T1: the Baseline tier decides pods no NetworkPolicy selects; then the default allows', () => {
    const e = engineOf([cnp('base', 'Baseline', 0, { subject: NS_A, ingress: [{ action: 'Deny', from: [NS_B] }] })]);
    assert.deepEqual(decider(verdict(e, ep(other), ep(web)).ingress), [['baseline', 'base[0]', false]]);
    assert.deepEqual(decider(verdict(e, ep(db), ep(web)).ingress), [['default', '', true]]);
  });

  test('T2: lower priority first, rules in order; equal priorities: ClusterNetworkPolicy, then AdminNetworkPolicy, then by name', () => {
    const e = engineOf([
      cnp('z-allow', 'Admin', 5, { subject: NS_A, ingress: [{ action: 'Accept', from: [NS_B] }] }),
      cnp('a-deny', 'Admin', 6, { subject: NS_A, ingress: [{ action: 'Deny', from: [NS_B] }] }),
    ]);
    assert.equal(verdict(e, ep(other), ep(web)).allowed, true);
    const tie = engineOf([
      clusterPolicy('AdminNetworkPolicy', 'a-deny', { priority: 5, subject: NS_A, ingress: [{ action: 'Deny', from: [NS_B] }] }),
      cnp('z-allow', 'Admin', 5, { subject: NS_A, ingress: [{ action: 'Accept', from: [NS_B] }] }),
    ]);
    assert.deepEqual(decider(verdict(tie, ep(other), ep(web)).ingress), [['admin', 'z-allow[0]', true]]);
    const rules = engineOf([
      cnp('r', 'Admin', 1, {
        subject: NS_A,
        ingress: [
          { action: 'Deny', from: [NS_B], protocols: [{ tcp: { destinationPort: { number: 80 } } }] },
          { action: 'Accept', from: [NS_B] },
        ],
      }),
    ]);
    assert.equal(verdict(rules, ep(other), ep(web), 80).allowed, false);
    assert.equal(verdict(rules, ep(other), ep(web), 81).allowed, true);
  });

  test('equal priorities that select a common pod are warned about, with the order netpol uses', () => {
    const c = tieredCluster({
      namespaces,
      pods: [web],
      clusterPolicies: [
        clusterPolicy('AdminNetworkPolicy', 'x', { priority: 5, subject: NS_A, ingress: [{ action: 'Deny', from: [NS_B] }] }),
        cnp('y', 'Admin', 5, { subject: ALL_NS, ingress: [{ action: 'Accept', from: [NS_B] }] }),
        cnp('z', 'Admin', 5, { subject: NS_B, ingress: [{ action: 'Accept', from: [NS_B] }] }),
      ],
    });
    const warnings = validateCluster(c).filter((d) => d.code === 'SamePriorityOverlap');
    assert.deepEqual(
      warnings.map((d) => [d.object, d.path]),
      [['AdminNetworkPolicy x', 'spec.priority']],
    );
    assert.match(warnings[0]!.message, /ClusterNetworkPolicy\/y and AdminNetworkPolicy\/x .* netpol evaluates ClusterNetworkPolicy\/y first/);
  });

  test('T3: Pass hands the traffic to NetworkPolicy, or to the Baseline tier for pods no NetworkPolicy selects', () => {
    const denyAll = policy('a/deny-web', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] });
    const cps = [
      cnp('pass', 'Admin', 1, {
        subject: NS_A,
        ingress: [
          { action: 'Pass', from: [NS_B] },
          { action: 'Accept', from: [ALL_NS] },
        ],
      }),
      cnp('base', 'Baseline', 1, { subject: NS_A, ingress: [{ action: 'Deny', from: [NS_B] }] }),
    ];
    const e = engineOf(cps, { policies: [denyAll] });
    const toWeb = verdict(e, ep(other), ep(web));
    assert.equal(toWeb.allowed, false, 'NetworkPolicy isolates web and allows nothing');
    assert.deepEqual(decider(toWeb.ingress), [['networkpolicy', '', false]]);
    assert.deepEqual(
      toWeb.ingress.tiers?.passes.map((p) => 'policy' in p.by && p.by.policy.name),
      ['pass'],
    );
    assert.deepEqual(decider(verdict(e, ep(other), ep(db)).ingress), [['baseline', 'base[0]', false]], 'no NetworkPolicy selects db');
    assert.equal(verdict(e, ep(web), ep(db)).allowed, true, 'from a: the Accept after the Pass');
  });

  test('T5: an egress Accept does not bypass the destination ingress side', () => {
    const e = engineOf([cnp('out', 'Admin', 1, { subject: NS_B, egress: [{ action: 'Accept', to: [NS_A] }] })], { policies: [policy('a/deny', { podSelector: {}, policyTypes: ['Ingress'] })] });
    const v = verdict(e, ep(other), ep(web));
    assert.equal(v.allowed, false);
    assert.equal(v.egress.allowed, true);
    assert.equal(v.reason, 'denied-by-ingress');
  });

  test('T6/T7: host-network pods are no subjects and match no pods/namespaces peer, but networks and nodes match their address', () => {
    const e = engineOf(
      [
        cnp('deny-in', 'Admin', 1, { subject: ALL_NS, ingress: [{ action: 'Deny', from: [ALL_NS] }] }),
        cnp('nodes', 'Admin', 2, {
          subject: NS_A,
          egress: [
            { action: 'Deny', to: [{ nodes: { matchLabels: { role: 'worker' } } }] },
            { action: 'Deny', to: [{ networks: ['10.0.1.0/24'] }] },
          ],
        }),
      ],
      { nodes: [node('n1', { role: 'worker' }, ['192.168.0.10'])] },
    );
    assert.equal(verdict(e, ep(web), ep(hostPod)).allowed, false, 'web -> the host-network pod: its address is a node address');
    assert.equal(verdict(e, ep(hostPod), ep(web)).allowed, true, 'not a namespaces peer: the Deny does not match it');
    assert.equal(verdict(e, ep(db), ep(other)).allowed, false, 'networks matches pod addresses');
    assert.equal(verdict(e, ep(web), externalEndpoint('192.168.0.10')!).allowed, false, 'a node address outside');
    assert.equal(verdict(e, ep(web), externalEndpoint('192.168.0.11')!).allowed, true);
  });

  test('T8: numbers, ranges, named ports (resolved on the destination, name and protocol), v1alpha1 protocol default', () => {
    const e = engineOf([
      cnp('ports', 'Admin', 1, {
        subject: NS_A,
        ingress: [{ action: 'Deny', from: [NS_B], protocols: [{ destinationNamedPort: 'http' }, { udp: { destinationPort: { range: { start: 50, end: 60 } } } }] }],
      }),
      clusterPolicy('AdminNetworkPolicy', 'v1', { priority: 2, subject: NS_A, ingress: [{ action: 'Deny', from: [NS_B], ports: [{ portNumber: { port: 443 } }] }] }),
    ]);
    assert.equal(verdict(e, ep(other), ep(web), 8080).allowed, false, 'http is 8080 on web');
    assert.equal(verdict(e, ep(other), ep(db), 8080).allowed, true, 'http is 9090 on db');
    assert.equal(verdict(e, ep(other), ep(db), 'http').allowed, false);
    assert.equal(verdict(e, ep(other), ep(web), 8080, 'UDP').allowed, true, 'the named port is TCP');
    assert.equal(verdict(e, ep(other), ep(web), 55, 'UDP').allowed, false);
    assert.equal(verdict(e, ep(other), ep(web), 443).allowed, false, 'v1alpha1 protocol defaults to TCP');
    const any = e.evaluate({ source: ep(other), destination: ep(web), protocol: 'TCP' });
    assert.deepEqual(any.allowedPorts, [
      [1, 442],
      [444, 8079],
      [8081, 65535],
    ]);
  });

  test('domainNames: a named endpoint, exact or wildcard; no ipBlock or networks peer matches it', () => {
    const e = engineOf([
      cnp('dns', 'Admin', 1, {
        subject: NS_A,
        egress: [
          { action: 'Accept', to: [{ domainNames: ['*.example.com', 'example.org'] }] },
          { action: 'Deny', to: [{ networks: ['0.0.0.0/0'] }] },
        ],
      }),
      cnp('base', 'Baseline', 1, { subject: NS_A, egress: [{ action: 'Deny', to: [{ domainNames: ['example.com'] }] }] }),
    ]);
    const to = (name: string) => verdict(e, ep(web), domainEndpoint(name)!);
    assert.equal(to('www.example.com').allowed, true);
    assert.equal(to('a.b.example.com').allowed, true);
    assert.equal(to('Example.ORG.').allowed, true);
    assert.equal(to('example.com').allowed, false, 'the wildcard needs a label in front; the baseline denies it');
    assert.equal(to('example.net').allowed, true, 'networks 0.0.0.0/0 does not match a name');
    assert.equal(domainEndpoint('not a name'), undefined);
  });

  test('fail closed: a peer of no known kind makes Accept match nothing and Deny or Pass deny everything', () => {
    // Validation rejects such a peer (minProperties: 1); an older CRD that pruned an unknown field would not.
    const denyNp = policy('a/deny', { podSelector: {}, policyTypes: ['Ingress'] });
    const accept = tieredCluster({ namespaces, pods: [web, other], policies: [denyNp], clusterPolicies: [cnp('x', 'Admin', 1, { subject: NS_A, ingress: [{ action: 'Accept', from: [{}, NS_B] }] })] });
    assert.deepEqual(
      validateCluster(accept).map((d) => d.path),
      ['spec.ingress[0].from[0]', ''],
    );
    assert.equal(new Engine(accept).allows({ source: ep(other), destination: ep(web), protocol: 'TCP', port: 80 }), false, 'the whole Accept rule matches nothing');
    const pass = tieredCluster({ namespaces, pods: [web, other], clusterPolicies: [cnp('x', 'Admin', 1, { subject: NS_A, ingress: [{ action: 'Pass', from: [{}] }] })] });
    const v = new Engine(pass).evaluate({ source: ep(other), destination: ep(web), protocol: 'UDP', port: 5 });
    assert.equal(v.allowed, false, 'a Pass rule that fails closed denies all');
    const by = v.ingress.tiers?.decisions[0]?.by;
    assert.ok(by?.tier === 'admin' && by.failClosed === true);
  });

  test('T9: a pod may always talk to itself', () => {
    const e = engineOf([cnp('x', 'Admin', 1, { subject: NS_A, ingress: [{ action: 'Deny', from: [ALL_NS] }], egress: [{ action: 'Deny', to: [ALL_NS] }] })]);
    assert.equal(verdict(e, ep(web), ep(web)).allowed, true);
    assert.equal(verdict(e, ep(db), ep(web)).allowed, false);
  });
});
