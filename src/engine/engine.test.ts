import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cluster, namespace, pod, policy } from '../../test/builders.js';
import type { Cluster, PodInfo, Protocol } from '../model/index.js';
import { Engine, externalEndpoint, podEndpoint } from './engine.js';
import { oracleAllows } from './oracle.js';
import type { Endpoint, Verdict } from './types.js';

function ep(c: Cluster, ref: string): Endpoint {
  const p = c.pods.find((x) => `${x.namespace}/${x.name}` === ref);
  if (p) return podEndpoint(p);
  const e = externalEndpoint(ref);
  assert.ok(e, `no endpoint ${ref}`);
  return e;
}

/** Evaluates with both the engine and the oracle, asserts they agree, returns the explained verdict. */
function ask(c: Cluster, from: string, to: string, port?: number | string, protocol: Protocol = 'TCP'): Verdict {
  const engine = new Engine(c);
  const t = { source: ep(c, from), destination: ep(c, to), protocol, ...(port !== undefined ? { port } : {}) };
  const v = engine.evaluate(t);
  assert.equal(engine.allows(t), v.allowed, 'allows() and evaluate() disagree');
  if (port !== undefined) assert.equal(oracleAllows(c, t.source, t.destination, protocol, port), v.allowed, 'engine and oracle disagree');
  return v;
}

const a = pod('x/a', { app: 'a' }, { ips: ['10.0.0.1'] });
const b = pod('x/b', { app: 'b' }, { ips: ['10.0.0.2'] });
const yc = pod('y/c', { app: 'c' }, { ips: ['10.0.1.3'] });

describe('isolation', () => {
  test('no policy: everything is allowed and nobody is isolated', () => {
    const v = ask(cluster({ pods: [a, b] }), 'x/a', 'x/b', 80);
    assert.equal(v.allowed, true);
    assert.equal(v.reason, 'not-isolated');
    assert.equal(v.egress.isolated, false);
    assert.equal(v.ingress.isolated, false);
  });

  test('a policy with policyTypes Ingress isolates ingress only', () => {
    const c = cluster({ pods: [a, b], policies: [policy('x/deny-in', { podSelector: { matchLabels: { app: 'b' } }, policyTypes: ['Ingress'] })] });
    const v = ask(c, 'x/a', 'x/b', 80);
    assert.equal(v.allowed, false);
    assert.equal(v.reason, 'denied-by-ingress');
    assert.deepEqual(
      v.ingress.policies.map((p) => p.policy.name),
      ['deny-in'],
    );
    assert.equal(ask(c, 'x/b', 'x/a', 80).allowed, true, 'egress of b is not isolated');
  });

  test('absent policyTypes: Ingress always, Egress only when egress rules exist', () => {
    const onlyIngress = cluster({ pods: [a, b], policies: [policy('x/p', { podSelector: {} })] });
    assert.equal(ask(onlyIngress, 'x/a', 'x/b', 80).reason, 'denied-by-ingress');
    const v = ask(onlyIngress, 'x/a', 'x/b', 80);
    assert.equal(v.egress.isolated, false);
    assert.equal(v.ingress.policies[0]?.policyTypesDefaulted, true);

    const withEgress = cluster({ pods: [a, b], policies: [policy('x/p', { podSelector: {}, egress: [{ to: [{ podSelector: { matchLabels: { app: 'z' } } }] }] })] });
    const w = ask(withEgress, 'x/a', 'x/b', 80);
    assert.equal(w.egress.isolated, true);
    assert.deepEqual(w.egress.policies[0]?.policyTypes, ['ingress', 'egress']);
  });

  test('egress: [] with Egress in policyTypes denies all egress; empty rule {} allows all', () => {
    const deny = cluster({ pods: [a, b], policies: [policy('x/p', { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Egress'], egress: [] })] });
    assert.equal(ask(deny, 'x/a', 'x/b', 80).reason, 'denied-by-egress');
    const allow = cluster({ pods: [a, b], policies: [policy('x/p', { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{}], egress: [{}] })] });
    const v = ask(allow, 'x/a', 'x/b', 80);
    assert.equal(v.allowed, true);
    assert.equal(v.reason, 'allowed-by-policy');
    assert.equal(v.egress.policies[0]?.rules[0]?.peers, 'all');
  });

  test('policies select only pods in their own namespace', () => {
    const c = cluster({ pods: [a, yc], policies: [policy('x/deny', { podSelector: {} })] });
    assert.equal(ask(c, 'x/a', 'y/c', 80).allowed, true);
    assert.equal(ask(c, 'y/c', 'x/a', 80).allowed, false);
  });

  test('policies are additive: any policy selecting the pod may allow', () => {
    const c = cluster({
      pods: [a, b],
      policies: [
        policy('x/deny', { podSelector: {}, policyTypes: ['Ingress'] }),
        policy('x/allow-a', { podSelector: { matchLabels: { app: 'b' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'a' } } }] }] }),
      ],
    });
    const v = ask(c, 'x/a', 'x/b', 80);
    assert.equal(v.allowed, true);
    assert.deepEqual(
      v.ingress.policies.map((p) => [p.policy.name, p.allows]),
      [
        ['deny', false],
        ['allow-a', true],
      ],
    );
  });

  test('both ends must allow', () => {
    const c = cluster({
      pods: [a, b],
      policies: [
        policy('x/a-egress-none', { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Egress'] }),
        policy('x/b-ingress-from-a', { podSelector: { matchLabels: { app: 'b' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'a' } } }] }] }),
      ],
    });
    const v = ask(c, 'x/a', 'x/b', 80);
    assert.equal(v.allowed, false);
    assert.equal(v.reason, 'denied-by-egress');
    assert.equal(v.ingress.allowed, true);
  });

  test('a pod may always talk to itself', () => {
    const c = cluster({ pods: [a], policies: [policy('x/deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })] });
    const v = ask(c, 'x/a', 'x/a', 80);
    assert.equal(v.allowed, true);
    assert.equal(v.reason, 'self');
  });
});

describe('peers', () => {
  const ns = [namespace('x', { team: 'x' }), namespace('y', { team: 'y' })];
  const pods = [a, b, yc, pod('y/a', { app: 'a' })];

  test('podSelector alone selects in the policy namespace only', () => {
    const c = cluster({ namespaces: ns, pods, policies: [policy('x/p', { podSelector: { matchLabels: { app: 'b' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'a' } } }] }] })] });
    assert.equal(ask(c, 'x/a', 'x/b', 80).allowed, true);
    const v = ask(c, 'y/a', 'x/b', 80);
    assert.equal(v.allowed, false);
    const peer = v.ingress.policies[0]?.rules[0]?.peers;
    assert.ok(Array.isArray(peer));
    assert.deepEqual(peer[0]?.namespace, { scope: 'own', expected: 'x', actual: 'y', matched: false, unmet: [] });
  });

  test('namespaceSelector AND podSelector in one peer; OR across peers', () => {
    const and = cluster({
      namespaces: ns,
      pods,
      policies: [
        policy('x/p', { podSelector: { matchLabels: { app: 'b' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'y' } }, podSelector: { matchLabels: { app: 'a' } } }] }] }),
      ],
    });
    assert.equal(ask(and, 'y/a', 'x/b', 80).allowed, true);
    assert.equal(ask(and, 'y/c', 'x/b', 80).allowed, false, 'namespace matches but pod does not');
    assert.equal(ask(and, 'x/a', 'x/b', 80).allowed, false, 'pod matches but namespace does not');
    const or = cluster({
      namespaces: ns,
      pods,
      policies: [
        policy('x/p', { podSelector: { matchLabels: { app: 'b' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'y' } } }, { podSelector: { matchLabels: { app: 'a' } } }] }] }),
      ],
    });
    assert.equal(ask(or, 'y/c', 'x/b', 80).allowed, true);
    assert.equal(ask(or, 'x/a', 'x/b', 80).allowed, true);
  });

  test('empty namespaceSelector selects all namespaces; the automatic name label works', () => {
    const c = cluster({
      namespaces: ns,
      pods,
      policies: [
        policy('x/p', { podSelector: { matchLabels: { app: 'b' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'y' } } }] }] }),
        policy('x/q', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ namespaceSelector: {} }] }] }),
      ],
    });
    assert.equal(ask(c, 'y/c', 'x/b', 80).allowed, true);
    assert.equal(ask(c, 'x/a', 'x/b', 80).allowed, false);
    assert.equal(ask(c, 'y/c', 'x/a', 80).allowed, true);
    assert.equal(ask(c, '8.8.8.8', 'x/a', 80).allowed, false, 'selectors never match addresses outside the cluster');
  });

  test('matchExpressions: In, NotIn, Exists, DoesNotExist; NotIn and DoesNotExist match pods without the key', () => {
    const sel = (op: string, values?: string[]) =>
      cluster({
        pods: [pod('x/t', { app: 't' }), pod('x/with', { tier: 'web' }), pod('x/other', { tier: 'db' }), pod('x/none')],
        policies: [
          policy('x/p', { podSelector: { matchLabels: { app: 't' } }, ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'tier', operator: op, ...(values ? { values } : {}) }] } }] }] }),
        ],
      });
    const result = (c: Cluster) => ['x/with', 'x/other', 'x/none'].map((s) => ask(c, s, 'x/t', 80).allowed);
    assert.deepEqual(result(sel('In', ['web'])), [true, false, false]);
    assert.deepEqual(result(sel('NotIn', ['web'])), [false, true, true]);
    assert.deepEqual(result(sel('Exists')), [true, true, false]);
    assert.deepEqual(result(sel('DoesNotExist')), [false, false, true]);
  });

  test('ipBlock: cidr minus except, matched against external addresses and pod IPs', () => {
    const c = cluster({
      pods: [a, b, yc],
      policies: [policy('x/p', { podSelector: { matchLabels: { app: 'b' } }, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.1.0/24'] } }] }] })],
    });
    assert.equal(ask(c, 'x/a', 'x/b', 80).allowed, true, 'pod IP inside cidr');
    const v = ask(c, 'y/c', 'x/b', 80);
    assert.equal(v.allowed, false);
    const peers = v.ingress.policies[0]?.rules[0]?.peers;
    assert.ok(Array.isArray(peers));
    assert.equal(peers[0]?.ipBlock?.excludedBy, '10.0.1.0/24');
    assert.equal(ask(c, '10.0.9.9', 'x/b', 80).allowed, true);
    assert.equal(ask(c, '10.1.0.1', 'x/b', 80).allowed, false);
  });

  test('ipBlock never matches a pod without a known IP', () => {
    const c = cluster({
      pods: [pod('x/noip', { app: 'n' }), b],
      policies: [policy('x/p', { podSelector: { matchLabels: { app: 'b' } }, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] })],
    });
    assert.equal(ask(c, 'x/noip', 'x/b', 80).allowed, false);
  });

  test('IPv6 addresses and blocks', () => {
    const v6 = pod('x/v6', { app: 'v6' }, { ips: ['fd00::10', '10.0.0.10'] });
    const c = cluster({
      pods: [v6, b],
      policies: [policy('x/p', { podSelector: { matchLabels: { app: 'v6' } }, ingress: [{ from: [{ ipBlock: { cidr: '2001:db8::/32', except: ['2001:db8:1::/48'] } }] }] })],
    });
    assert.equal(ask(c, '2001:db8::1', 'x/v6', 80).allowed, true);
    assert.equal(ask(c, '2001:db8:1::1', 'x/v6', 80).allowed, false);
    assert.equal(ask(c, '10.9.9.9', 'x/v6', 80).allowed, false);
  });

  test('egress to an address outside the cluster is decided by the source alone', () => {
    const c = cluster({
      pods: [a],
      policies: [policy('x/p', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }] }] })],
    });
    const v = ask(c, 'x/a', '8.8.8.8', 443);
    assert.equal(v.allowed, true);
    assert.equal(v.ingress.enforced, false);
    assert.equal(ask(c, 'x/a', '10.200.0.1', 443).allowed, false);
  });
});

describe('ports', () => {
  const web: PodInfo = pod(
    'x/web',
    { app: 'web' },
    {
      ports: [
        { name: 'http', port: 8080, protocol: 'TCP' },
        { name: 'dns', port: 53, protocol: 'UDP' },
      ],
    },
  );
  const other: PodInfo = pod('x/other', { app: 'other' }, { ports: [{ name: 'http', port: 9090, protocol: 'TCP' }] });
  const client = pod('x/client', { app: 'client' });
  const only = (ports: object[]) => cluster({ pods: [web, other, client], policies: [policy('x/p', { podSelector: {}, ingress: [{ ports: ports as never }] })] });

  test('protocol defaults to TCP; a numeric port matches that port only', () => {
    const c = only([{ port: 80 }]);
    assert.equal(ask(c, 'x/client', 'x/web', 80).allowed, true);
    assert.equal(ask(c, 'x/client', 'x/web', 81).allowed, false);
    assert.equal(ask(c, 'x/client', 'x/web', 80, 'UDP').allowed, false);
  });

  test('endPort makes an inclusive range', () => {
    const c = only([{ protocol: 'TCP', port: 32000, endPort: 32768 }]);
    assert.deepEqual(
      [31999, 32000, 32768, 32769].map((p) => ask(c, 'x/client', 'x/web', p).allowed),
      [false, true, true, false],
    );
  });

  test('a protocol without a port means every port of that protocol', () => {
    const c = only([{ protocol: 'UDP' }]);
    assert.equal(ask(c, 'x/client', 'x/web', 5353, 'UDP').allowed, true);
    assert.equal(ask(c, 'x/client', 'x/web', 5353, 'TCP').allowed, false);
    assert.equal(ask(c, 'x/client', 'x/web', 5353, 'SCTP').allowed, false);
  });

  test('named ports resolve against each destination pod by name and protocol', () => {
    const c = only([{ port: 'http' }]);
    assert.equal(ask(c, 'x/client', 'x/web', 8080).allowed, true);
    assert.equal(ask(c, 'x/client', 'x/web', 9090).allowed, false);
    assert.equal(ask(c, 'x/client', 'x/other', 9090).allowed, true);
    assert.equal(ask(c, 'x/client', 'x/other', 'http').resolvedPort, 9090);
    const udp = only([{ protocol: 'UDP', port: 'http' }]);
    assert.equal(ask(udp, 'x/client', 'x/web', 8080, 'UDP').allowed, false, 'name with another protocol does not resolve');
  });

  test('a named port the destination does not define is admitted only by rules that allow every port', () => {
    assert.equal(ask(only([{ port: 1, endPort: 65535 }]), 'x/client', 'x/client', 'http').allowed, true, 'self');
    const v = ask(only([{ port: 1, endPort: 65535 }]), 'x/other', 'x/client', 'http');
    assert.equal(v.unresolvedPortName, 'http');
    assert.equal(v.allowed, false);
    assert.equal(ask(only([{ protocol: 'TCP' }]), 'x/other', 'x/client', 'http').allowed, true);
  });

  test('without a port the verdict lists the ports allowed on both ends', () => {
    const c = cluster({
      pods: [web, client],
      policies: [
        policy('x/in', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 80 }, { port: 8000, endPort: 8100 }] }] }),
        policy('x/out', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 8050, endPort: 9000 }] }] }),
      ],
    });
    const v = ask(c, 'x/client', 'x/web');
    assert.equal(v.allowed, true);
    assert.deepEqual(v.allowedPorts, [[8050, 8100]]);
    const none = cluster({
      pods: [web, client],
      policies: [
        policy('x/in', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 80 }] }] }),
        policy('x/out', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 443 }] }] }),
      ],
    });
    const w = ask(none, 'x/client', 'x/web');
    assert.equal(w.allowed, false);
    assert.equal(w.reason, 'denied-by-both');
    assert.equal(w.egress.allowed && w.ingress.allowed, true, 'each side alone admits some port');
  });
});
