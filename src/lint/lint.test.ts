/**
 * Every lint rule on a positive example (it fires, on the expected object and field) and a negative
 * one (the corrected version stays quiet), plus --disable and suppression by annotation.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cluster, clusterPolicy, namespace, pod, policy, tieredCluster } from '../../test/builders.js';
import type { Cluster, PodInfo, NetworkPolicySpec } from '../model/index.js';
import { lint, RULES, SUPPRESS_ANNOTATION } from './index.js';

const web = pod('shop/web', { app: 'web' }, { ips: ['10.1.0.1'], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] });
const api = pod('shop/api', { app: 'api' }, { ips: ['10.1.0.2'] });
const dns = pod('kube-system/coredns', { k8s: 'dns' }, { ips: ['10.1.9.9'], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] });
const NAMESPACES = [namespace('shop', { team: 'shop' }), namespace('kube-system')];

function withPolicy(spec: Partial<NetworkPolicySpec>, pods: PodInfo[] = [web, api, dns]): Cluster {
  return cluster({ namespaces: NAMESPACES, pods, policies: [policy('shop/p', spec)] });
}

/** The findings of one rule: `object path` strings. */
function findings(rule: string, c: Cluster): string[] {
  const others = RULES.map((r) => r.id).filter((id) => id !== rule);
  return lint(c, { disable: others }).findings.map((f) => `${f.object} ${f.path ?? ''}`.trim());
}

const WEB = { matchLabels: { app: 'web' } };
const API = { matchLabels: { app: 'api' } };

describe('lint rules', () => {
  test('every rule has an id, a doc-able summary and a severity', () => {
    assert.equal(new Set(RULES.map((r) => r.id)).size, RULES.length);
    for (const r of RULES) {
      assert.match(r.id, /^[a-z]+(-[a-z0-9]+)*$/);
      assert.ok(r.summary.length > 10 && r.description.length > r.summary.length, r.id);
    }
  });

  test('egress-no-dns', () => {
    const toApi = { podSelector: WEB, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: API }], ports: [{ port: 80 }] }] };
    assert.deepEqual(findings('egress-no-dns', withPolicy(toApi)), ['NetworkPolicy shop/p spec.egress']);
    const withDns = {
      ...toApi,
      egress: [
        ...toApi.egress,
        {
          ports: [
            { port: 53, protocol: 'UDP' },
            { port: 53, protocol: 'TCP' },
          ],
        },
      ],
    };
    assert.deepEqual(findings('egress-no-dns', withPolicy(withDns)), []);
    // DNS allowed by another policy selecting the same pods counts too.
    const c = cluster({
      namespaces: NAMESPACES,
      pods: [web, api, dns],
      policies: [policy('shop/p', toApi), policy('shop/dns', { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ port: 53, protocol: 'UDP' }] }] })],
    });
    assert.deepEqual(findings('egress-no-dns', c), []);
  });

  test('namespace-selector-unknown-labels', () => {
    const byName = { podSelector: API, ingress: [{ from: [{ namespaceSelector: { matchLabels: { name: 'shop' } } }] }] };
    assert.deepEqual(findings('namespace-selector-unknown-labels', withPolicy(byName)), ['NetworkPolicy shop/p spec.ingress[0].from[0].namespaceSelector']);
    const byAutoLabel = { podSelector: API, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } } }] }] };
    assert.deepEqual(findings('namespace-selector-unknown-labels', withPolicy(byAutoLabel)), []);
    const team = { podSelector: API, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'shop' } } }] }] };
    assert.deepEqual(findings('namespace-selector-unknown-labels', withPolicy(team)), []);
  });

  test('pod-selector-no-pods', () => {
    assert.deepEqual(findings('pod-selector-no-pods', withPolicy({ podSelector: { matchLabels: { app: 'wbe' } } })), ['NetworkPolicy shop/p spec.podSelector']);
    assert.deepEqual(findings('pod-selector-no-pods', withPolicy({ podSelector: WEB })), []);
    // Policies alone (no pods in the input) say nothing about which pods exist.
    assert.deepEqual(findings('pod-selector-no-pods', withPolicy({ podSelector: { matchLabels: { app: 'wbe' } } }, [])), []);
  });

  test('named-port-undefined', () => {
    assert.deepEqual(findings('named-port-undefined', withPolicy({ podSelector: WEB, ingress: [{ ports: [{ port: 'htp' }] }] })), ['NetworkPolicy shop/p spec.ingress[0].ports[0]']);
    assert.deepEqual(findings('named-port-undefined', withPolicy({ podSelector: WEB, ingress: [{ ports: [{ port: 'http' }] }] })), []);
    // The protocol is part of the match; egress names resolve on the peers.
    assert.deepEqual(findings('named-port-undefined', withPolicy({ podSelector: WEB, ingress: [{ ports: [{ port: 'http', protocol: 'UDP' }] }] })).length, 1);
    const egress = (port: string) => ({
      podSelector: WEB,
      policyTypes: ['Egress'],
      egress: [{ to: [{ namespaceSelector: {}, podSelector: { matchLabels: { k8s: 'dns' } } }], ports: [{ port, protocol: 'UDP' }] }],
    });
    assert.deepEqual(findings('named-port-undefined', withPolicy(egress('dns'))), []);
    assert.deepEqual(findings('named-port-undefined', withPolicy(egress('domain'))), ['NetworkPolicy shop/p spec.egress[0].ports[0]']);
  });

  test('and-or-trap', () => {
    const or = { podSelector: API, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'shop' } } }, { podSelector: WEB }] }] };
    assert.deepEqual(findings('and-or-trap', withPolicy(or)), ['NetworkPolicy shop/p spec.ingress[0].from[0]']);
    const and = { podSelector: API, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'shop' } }, podSelector: WEB }] }] };
    assert.deepEqual(findings('and-or-trap', withPolicy(and)), []);
  });

  test('hidden-allow-all', () => {
    const hidden = { podSelector: API, ingress: [{ from: [{ podSelector: WEB }], ports: [{ port: 80 }] }, {}] };
    assert.deepEqual(findings('hidden-allow-all', withPolicy(hidden)), ['NetworkPolicy shop/p spec.ingress[1]']);
    const emptyFrom = { podSelector: API, ingress: [{ from: [], ports: [{ port: 80 }] }] };
    assert.deepEqual(findings('hidden-allow-all', withPolicy(emptyFrom)), ['NetworkPolicy shop/p spec.ingress[0].from']);
    // The explicit allow-all, alone, says what it does.
    assert.deepEqual(findings('hidden-allow-all', withPolicy({ podSelector: API, ingress: [{}] })), []);
  });

  test('redundant-rule', () => {
    const covered = {
      podSelector: API,
      ingress: [
        { from: [{ podSelector: WEB }], ports: [{ port: 80 }, { port: 443 }] },
        { from: [{ podSelector: WEB }], ports: [{ port: 443 }] },
      ],
    };
    assert.deepEqual(findings('redundant-rule', withPolicy(covered)), ['NetworkPolicy shop/p spec.ingress[1]']);
    const twins = { podSelector: API, ingress: [{ from: [{ podSelector: WEB }] }, { from: [{ podSelector: WEB }] }] };
    assert.deepEqual(findings('redundant-rule', withPolicy(twins)), ['NetworkPolicy shop/p spec.ingress[1]']);
    const distinct = {
      podSelector: API,
      ingress: [
        { from: [{ podSelector: WEB }], ports: [{ port: 80 }] },
        { from: [{ podSelector: WEB }], ports: [{ port: 443 }] },
      ],
    };
    assert.deepEqual(findings('redundant-rule', withPolicy(distinct)), []);
  });

  test('ipblock-covers-pods', () => {
    const wide = { podSelector: API, ingress: [{ from: [{ ipBlock: { cidr: '10.1.0.0/16' } }] }] };
    assert.deepEqual(findings('ipblock-covers-pods', withPolicy(wide)), ['NetworkPolicy shop/p spec.ingress[0].from[0].ipBlock']);
    const excepted = { podSelector: API, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }] }] };
    assert.deepEqual(findings('ipblock-covers-pods', withPolicy(excepted)), []);
  });

  test('host-network-selected', () => {
    const host: PodInfo = { ...pod('shop/agent', { app: 'agent' }), hostNetwork: true };
    assert.deepEqual(findings('host-network-selected', withPolicy({ podSelector: {} }, [web, host])), ['NetworkPolicy shop/p spec.podSelector']);
    assert.deepEqual(findings('host-network-selected', withPolicy({ podSelector: WEB }, [web, host])), []);
  });

  test('pod-not-isolated', () => {
    const ingressOnly = withPolicy({ podSelector: WEB }, [web, api]);
    assert.deepEqual(findings('pod-not-isolated', ingressOnly), ['Pod shop/api', 'Pod shop/web']);
    assert.match(lint(ingressOnly).findings.find((f) => f.object === 'Pod shop/web')!.message, /for egress/);
    const both = withPolicy({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] }, [web, api]);
    assert.deepEqual(findings('pod-not-isolated', both), []);
  });

  test('internet-ingress', () => {
    assert.deepEqual(findings('internet-ingress', withPolicy({ podSelector: WEB, ingress: [{ ports: [{ port: 80 }] }] })), ['NetworkPolicy shop/p spec.ingress[0]']);
    assert.deepEqual(findings('internet-ingress', withPolicy({ podSelector: WEB, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] })), [
      'NetworkPolicy shop/p spec.ingress[0].from[0].ipBlock',
    ]);
    assert.deepEqual(findings('internet-ingress', withPolicy({ podSelector: WEB, ingress: [{ from: [{ ipBlock: { cidr: '192.168.0.0/16' } }] }] })), []);
    assert.deepEqual(findings('internet-ingress', withPolicy({ podSelector: WEB, ingress: [{ from: [{ podSelector: API }] }] })), []);
  });

  test('endport-support', () => {
    assert.deepEqual(findings('endport-support', withPolicy({ podSelector: WEB, ingress: [{ ports: [{ port: 8000, endPort: 8080 }] }] })), ['NetworkPolicy shop/p spec.ingress[0].ports[0].endPort']);
    assert.deepEqual(findings('endport-support', withPolicy({ podSelector: WEB, ingress: [{ ports: [{ port: 8000 }] }] })), []);
  });

  test('cluster-rule-shadowed', () => {
    const tenants = { namespaces: { matchLabels: { team: 'shop' } } };
    const cnp = (ingress: object[]) =>
      tieredCluster({
        namespaces: NAMESPACES,
        pods: [web, api, dns],
        clusterPolicies: [clusterPolicy('ClusterNetworkPolicy', 'guard', { tier: 'Admin', priority: 1, subject: { namespaces: {} }, ingress })],
      });
    // A Deny on every port from the tenants comes first: the Accept on 80 from them never applies.
    const shadowed = cnp([
      { action: 'Deny', from: [tenants] },
      { action: 'Accept', from: [tenants], protocols: [{ tcp: { destinationPort: { number: 80 } } }] },
    ]);
    assert.deepEqual(findings('cluster-rule-shadowed', shadowed), ['ClusterNetworkPolicy guard spec.ingress[1]']);
    assert.match(lint(shadowed).findings.find((f) => f.rule === 'cluster-rule-shadowed')!.message, /spec\.ingress\[0\] \(Deny\).*this rule's Accept never applies/);
    // In the other order, or on ports the first does not cover, both rules decide something.
    assert.deepEqual(
      findings('cluster-rule-shadowed', cnp([...[{ action: 'Accept', from: [tenants], protocols: [{ tcp: { destinationPort: { number: 80 } } }] }], { action: 'Deny', from: [tenants] }])),
      [],
    );
    const narrow = cnp([
      { action: 'Deny', from: [tenants], protocols: [{ tcp: { destinationPort: { number: 443 } } }] },
      { action: 'Accept', from: [tenants], protocols: [{ tcp: { destinationPort: { range: { start: 80, end: 443 } } } }] },
    ]);
    assert.deepEqual(findings('cluster-rule-shadowed', narrow), []);
    // A peer the earlier rule does not list: not shadowed.
    assert.deepEqual(
      findings(
        'cluster-rule-shadowed',
        cnp([
          { action: 'Deny', from: [tenants] },
          { action: 'Accept', from: [tenants, { namespaces: {} }] },
        ]),
      ),
      [],
    );
  });

  test('pass-without-networkpolicy', () => {
    const pass = clusterPolicy('ClusterNetworkPolicy', 'delegate', {
      tier: 'Admin',
      priority: 1,
      subject: { namespaces: { matchLabels: { team: 'shop' } } },
      ingress: [{ action: 'Pass', from: [{ namespaces: {} }] }],
    });
    const bare = tieredCluster({ namespaces: NAMESPACES, pods: [web, api, dns], clusterPolicies: [pass] });
    assert.deepEqual(findings('pass-without-networkpolicy', bare), ['ClusterNetworkPolicy delegate spec.ingress[0]']);
    assert.match(lint(bare).findings.find((f) => f.rule === 'pass-without-networkpolicy')!.message, /for 2 of the 2 selected pods .* allowed by default/);
    // A NetworkPolicy isolating every selected pod for ingress: the Pass has someone to hand to.
    const isolated = tieredCluster({ namespaces: NAMESPACES, pods: [web, api, dns], policies: [policy('shop/all', { podSelector: {}, ingress: [{}] })], clusterPolicies: [pass] });
    assert.deepEqual(findings('pass-without-networkpolicy', isolated), []);
    // Or a Baseline tier policy selecting them for ingress.
    const baseline = clusterPolicy('ClusterNetworkPolicy', 'floor', { tier: 'Baseline', priority: 1, subject: { namespaces: {} }, ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }] });
    assert.deepEqual(findings('pass-without-networkpolicy', tieredCluster({ namespaces: NAMESPACES, pods: [web, api, dns], clusterPolicies: [pass, baseline] })), []);
    // An egress-only NetworkPolicy does not decide ingress.
    const egressOnly = tieredCluster({ namespaces: NAMESPACES, pods: [web, api, dns], policies: [policy('shop/out', { podSelector: {}, policyTypes: ['Egress'] })], clusterPolicies: [pass] });
    assert.deepEqual(findings('pass-without-networkpolicy', egressOnly), ['ClusterNetworkPolicy delegate spec.ingress[0]']);
    // Egress: a Pass to pods leaves the destination's ingress to decide; a Pass to the outside does not.
    const out = (to: object[]) => clusterPolicy('ClusterNetworkPolicy', 'out', { tier: 'Admin', priority: 2, subject: { namespaces: {} }, egress: [{ action: 'Pass', to }] });
    assert.deepEqual(findings('pass-without-networkpolicy', tieredCluster({ namespaces: NAMESPACES, pods: [web, api], clusterPolicies: [out([{ namespaces: {} }])] })), []);
    assert.deepEqual(findings('pass-without-networkpolicy', tieredCluster({ namespaces: NAMESPACES, pods: [web, api], clusterPolicies: [out([{ networks: ['0.0.0.0/0'] }])] })), [
      'ClusterNetworkPolicy out spec.egress[0]',
    ]);
  });

  test('--disable and the suppression annotation', () => {
    const c = withPolicy({ podSelector: { matchLabels: { app: 'wbe' } } });
    assert.ok(lint(c).findings.some((f) => f.rule === 'pod-selector-no-pods'));
    assert.ok(!lint(c, { disable: ['pod-selector-no-pods'] }).findings.some((f) => f.rule === 'pod-selector-no-pods'));
    const p = policy('shop/p', { podSelector: { matchLabels: { app: 'wbe' } } });
    const annotated = { ...p, policy: { ...p.policy, metadata: { ...p.policy.metadata, annotations: { [SUPPRESS_ANNOTATION]: 'endport-support, pod-selector-no-pods' } } } };
    const r = lint(cluster({ namespaces: NAMESPACES, pods: [web], policies: [annotated] }));
    assert.ok(!r.findings.some((f) => f.rule === 'pod-selector-no-pods'));
    assert.equal(r.suppressed, 1);
    // Pods and namespaces: their annotations come through the reader the caller gives.
    const open = lint(cluster({ namespaces: NAMESPACES, pods: [web] }), {
      textOf: (t) => (t.kind === 'Pod' && t.object === web ? { locate: () => undefined, annotations: { [SUPPRESS_ANNOTATION]: 'all' } } : undefined),
    });
    assert.deepEqual(open.findings, []);
  });
});
