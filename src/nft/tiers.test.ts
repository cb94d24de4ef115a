import { test } from 'node:test';
import assert from 'node:assert/strict';
import { audit, clusterPolicy, namespace, node, pod, policy, tieredCluster } from '../../test/builders.js';
import { onNode } from '../../test/fixtures/nft/clusters.js';
import type { Cluster, ClusterPolicyInfo } from '../model/index.js';
import { compileNode, interpret, renderRule, type Ruleset } from './index.js';

const pods = () => [
  onNode('a', pod('x/a', { app: 'a' }, { ips: ['10.0.0.1'], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] })),
  onNode('a', pod('x/b', { app: 'b' }, { ips: ['10.0.0.2'] })),
  onNode('a', pod('y/c', { app: 'c' }, { ips: ['10.0.1.3'] })),
  onNode('b', { ...pod('y/host', {}, { ips: ['10.9.0.1'] }), hostNetwork: true }),
];

function withPolicies(clusterPolicies: ClusterPolicyInfo[], extra: Partial<Cluster> = {}): Cluster {
  return { ...tieredCluster({ namespaces: [namespace('x', { team: 'a' }), namespace('y')], pods: pods(), clusterPolicies, nodes: [node('n1', { role: 'cp' }, ['10.9.0.1'])] }), ...extra };
}

const chain = (rs: Ruleset, name: string) => rs.chains.find((c) => c.name === name);
const rules = (rs: Ruleset, name: string) => chain(rs, name)?.rules.map((r) => renderRule(r)) ?? [];
const dispatch = (rs: Ruleset, map: string) => Object.fromEntries(rs.maps.find((m) => m.name === map)!.elements);
const set = (rs: Ruleset, name: string) => rs.sets.find((s) => s.name === name)?.elements;
/** The set a rule's peers use, found by what its comment says it holds (names are a hash of the peers). */
const setOf = (rs: Ruleset, holds: string) => {
  const found = rs.sets.filter((s) => s.comment === `${holds} (IPv4)`);
  assert.equal(found.length, 1, `one set holds ${holds}: ${rs.sets.map((s) => s.comment).join(' | ')}`);
  return found[0]!;
};
/** Rules as text, the hashed set names replaced by what the sets hold. */
const readable = (rs: Ruleset, name: string) =>
  rules(rs, name).map((r) => r!.replace(/@(c(?:peers|blocks)_[0-9a-f]{16}_v[46])/g, (_, n: string) => `@[${rs.sets.find((s) => s.name === n)!.comment}]`));

const TENANTS = clusterPolicy('ClusterNetworkPolicy', 'tenants', {
  tier: 'Admin',
  priority: 10,
  subject: { namespaces: {} },
  ingress: [
    { action: 'Pass', from: [{ namespaces: { matchLabels: { team: 'a' } } }] },
    { action: 'Deny', from: [{ namespaces: {} }] },
  ],
});

test('pods with the same tiers share one chain; Pass and the end of the admin tier go to the next tier; the rest is not in the maps', () => {
  const np = policy('x/web', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ ports: [{ port: 80 }] }] });
  const rs = compileNode({ ...withPolicies([TENANTS]), policies: [np] }, { node: 'a' });
  assert.deepEqual(dispatch(rs, 'ingress_v4'), {
    '10.0.0.1': 'ingress_admin_ClusterNetworkPolicy/tenants_then_ingress_x/web',
    '10.0.0.2': 'ingress_admin_ClusterNetworkPolicy/tenants',
    '10.0.1.3': 'ingress_admin_ClusterNetworkPolicy/tenants',
  });
  assert.deepEqual(dispatch(rs, 'egress_v4'), {}, 'no rules for egress: not isolated');
  assert.deepEqual(readable(rs, 'ingress_admin_ClusterNetworkPolicy/tenants_then_ingress_x/web'), [
    'ip saddr @[pods of namespaces team=a (IPv4)] goto ingress_x/web comment "ClusterNetworkPolicy tenants ingress[0] Pass"',
    'ip6 saddr @[pods of namespaces team=a (IPv6)] goto ingress_x/web comment "ClusterNetworkPolicy tenants ingress[0] Pass"',
    'ip saddr @[pods of namespaces {} (IPv4)] counter drop comment "ClusterNetworkPolicy tenants ingress[1] Deny"',
    'ip6 saddr @[pods of namespaces {} (IPv6)] counter drop comment "ClusterNetworkPolicy tenants ingress[1] Deny"',
    'goto ingress_x/web comment "no admin tier rule decided: next tier"',
  ]);
  // Without a next tier, Pass allows: the end of the chain returns.
  assert.match(rules(rs, 'ingress_admin_ClusterNetworkPolicy/tenants')[0]!, / return comment "ClusterNetworkPolicy tenants ingress\[0\] Pass"$/);
  assert.equal(rules(rs, 'ingress_admin_ClusterNetworkPolicy/tenants').length, 4);
  // Host-network pods are no subjects and no pods peers.
  assert.deepEqual(setOf(rs, 'pods of namespaces {}').elements, ['10.0.0.1', '10.0.0.2', '10.0.1.3']);
  // x/b -> x/a on 80: passed to x/web, which admits it; on 81 x/web denies; y/c -> x/a: denied by the admin tier.
  const verdict = (saddr: string, daddr: string, dport: number) => interpret(rs, 'forward', { family: 4, saddr, daddr, protocol: 'tcp', dport }).verdict;
  assert.deepEqual([verdict('10.0.0.2', '10.0.0.1', 80), verdict('10.0.0.2', '10.0.0.1', 81), verdict('10.0.1.3', '10.0.0.1', 80)], ['accept', 'drop', 'drop']);
});

test('v1alpha1 says Allow; the baseline tier comes after NetworkPolicy only for pods no NetworkPolicy isolates', () => {
  const anp = clusterPolicy('AdminNetworkPolicy', 'ops', {
    priority: 3,
    subject: { namespaces: {} },
    egress: [{ action: 'Allow', to: [{ pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: 'c' } } } }] }],
  });
  const banp = clusterPolicy('BaselineAdminNetworkPolicy', 'default', { subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ networks: ['0.0.0.0/0'] }] }] });
  const np = policy('x/out', { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Egress'], egress: [{}] });
  const rs = compileNode({ ...withPolicies([anp, banp]), policies: [np] }, { node: 'a', denyAction: 'reject' });
  assert.deepEqual(dispatch(rs, 'egress_v4'), {
    '10.0.0.1': 'egress_admin_AdminNetworkPolicy/ops_then_egress_x/out',
    '10.0.0.2': 'egress_admin_AdminNetworkPolicy/ops_then_egress_baseline_BaselineAdminNetworkPolicy/default',
    '10.0.1.3': 'egress_admin_AdminNetworkPolicy/ops_then_egress_baseline_BaselineAdminNetworkPolicy/default',
  });
  assert.match(rules(rs, 'egress_admin_AdminNetworkPolicy/ops_then_egress_x/out')[0]!, /return comment "AdminNetworkPolicy ops egress\[0\] Allow"$/);
  assert.deepEqual(readable(rs, 'egress_baseline_BaselineAdminNetworkPolicy/default').slice(0, 2), [
    'ip daddr @[pods of networks 0.0.0.0/0 (IPv4)] meta l4proto tcp counter reject with tcp reset comment "BaselineAdminNetworkPolicy default egress[0] Deny"',
    'ip daddr @[pods of networks 0.0.0.0/0 (IPv4)] counter reject with icmpx admin-prohibited comment "BaselineAdminNetworkPolicy default egress[0] Deny"',
  ]);
  // `networks` match pod addresses too: the block holds them all, so the pod set holds none of them.
  assert.deepEqual(setOf(rs, 'addresses of networks 0.0.0.0/0').elements, ['0.0.0.0/0']);
  assert.deepEqual(setOf(rs, 'pods of networks 0.0.0.0/0').elements, []);
});

test('rules with the same peers share their sets', () => {
  const a = clusterPolicy('ClusterNetworkPolicy', 'a', {
    tier: 'Admin',
    priority: 1,
    subject: { namespaces: {} },
    ingress: [{ action: 'Deny', from: [{ namespaces: { matchLabels: { team: 'a' } } }] }],
  });
  const b = clusterPolicy('AdminNetworkPolicy', 'b', { priority: 2, subject: { namespaces: {} }, egress: [{ action: 'Allow', to: [{ namespaces: { matchLabels: { team: 'a' } } }] }] });
  const rs = compileNode(withPolicies([a, b]), { node: 'a' });
  assert.deepEqual(setOf(rs, 'pods of namespaces team=a').elements, ['10.0.0.1', '10.0.0.2']);
  assert.equal(rs.sets.filter((x) => x.name.startsWith('cpeers_')).length, 2, 'one per family');
});

test('nodes peers hold the Node objects addresses; named ports look up every protocol the name may have', () => {
  const cnp = clusterPolicy('ClusterNetworkPolicy', 'infra', {
    tier: 'Admin',
    priority: 1,
    subject: { namespaces: {} },
    egress: [{ action: 'Deny', to: [{ nodes: { matchLabels: { role: 'cp' } } }] }],
    ingress: [{ action: 'Accept', from: [{ namespaces: {} }], protocols: [{ destinationNamedPort: 'http' }] }],
  });
  const rs = compileNode(withPolicies([cnp]), { node: 'a' });
  assert.deepEqual(setOf(rs, 'addresses of nodes role=cp').elements, ['10.9.0.1']);
  // The host-network pod holding the Node's address is matched by it (the block), not as a pod of a namespace.
  assert.deepEqual(setOf(rs, 'pods of nodes role=cp').elements, []);
  assert.deepEqual(
    readable(rs, 'ingress_admin_ClusterNetworkPolicy/infra').filter((r) => /v4/.test(r)),
    ['tcp', 'udp', 'sctp'].map(
      (p) => `ip saddr @[pods of namespaces {} (IPv4)] meta l4proto ${p} ip daddr . th dport @port_${p}_http_v4 return comment "ClusterNetworkPolicy infra ingress[0] Accept"`,
    ),
  );
  assert.deepEqual(set(rs, 'port_tcp_http_v4'), ['10.0.0.1 . 8080']);
  // A Node readdressed: the set follows.
  const moved = compileNode(withPolicies([cnp], { nodes: [node('n1', { role: 'cp' }, ['10.9.0.7'])] }), { node: 'a' });
  assert.deepEqual(setOf(moved, 'addresses of nodes role=cp').elements, ['10.9.0.7']);
});

test('peers of no known field fail closed; domainNames match no traffic and are listed as not enforced', () => {
  const cnp = clusterPolicy('ClusterNetworkPolicy', 'odd', {
    tier: 'Admin',
    priority: 1,
    subject: { namespaces: {} },
    egress: [
      { action: 'Accept', to: [{ domainNames: ['*.example.com'] }] },
      { action: 'Accept', to: [{}] },
      { action: 'Pass', to: [{}] },
      { action: 'Accept', to: [{ namespaces: {} }] },
    ],
  });
  const rs = compileNode(withPolicies([cnp]), { node: 'a' });
  assert.deepEqual(readable(rs, 'egress_admin_ClusterNetworkPolicy/odd'), [
    'counter drop comment "ClusterNetworkPolicy odd egress[2] Pass (fails closed)"',
    'ip daddr @[pods of namespaces {} (IPv4)] return comment "ClusterNetworkPolicy odd egress[3] Accept"',
    'ip6 daddr @[pods of namespaces {} (IPv6)] return comment "ClusterNetworkPolicy odd egress[3] Accept"',
  ]);
  assert.deepEqual(rs.notes?.domainNames, ['ClusterNetworkPolicy/odd egress[0]']);
  assert.equal(compileNode(withPolicies([]), { node: 'a' }).notes?.domainNames, undefined);
});

test('a staged AdminNetworkPolicy Deny: the enforced tiers decide, then the audit view counts and logs what it would deny, and returns', () => {
  const np = policy('x/web', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ ports: [{ port: 80 }] }] });
  const noC = clusterPolicy('AdminNetworkPolicy', 'no-c', {
    priority: 5,
    subject: { namespaces: {} },
    ingress: [{ name: 'c', action: 'Deny', from: [{ pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: 'c' } } } }] }],
  });
  const enforced = compileNode({ ...withPolicies([TENANTS]), policies: [np] }, { node: 'a' });
  const rs = compileNode({ ...withPolicies([audit(noC), TENANTS]), policies: [np] }, { node: 'a' });
  const today = 'ingress_admin_ClusterNetworkPolicy/tenants_then_ingress_x/web';
  const view = 'ingress_audit_admin_AdminNetworkPolicy/no-c_ClusterNetworkPolicy/tenants_then_ingress_audit_x/web';
  assert.equal(dispatch(rs, 'ingress_v4')['10.0.0.1'], `ingress_audited_${today}_then_${view}`);
  assert.deepEqual(rules(rs, `ingress_audited_${today}_then_${view}`), [
    `jump ${today} comment "enforced today: denies drop, allows return here"`,
    `goto ${view} comment "allowed today: what every policy would deny is audited"`,
  ]);
  // Enforcement: today's chain is the very chain the ruleset without the staged policy has.
  assert.deepEqual(chain(rs, today), chain(enforced, today));
  assert.deepEqual(readable(rs, view).slice(0, 2), [
    'ip saddr @[pods of pods app=c in namespaces {} (IPv4)] limit rate 10/second burst 5 packets log prefix "netpol audit ingress_rule_AdminNetworkPolicy/no-c[0]: "',
    'ip saddr @[pods of pods app=c in namespaces {} (IPv4)] counter return comment "AdminNetworkPolicy no-c ingress[0] Deny (audit: would deny)"',
  ]);
  // NetworkPolicy's tier in the view ends with the audit tail, not the deny tail.
  assert.deepEqual(rules(rs, 'ingress_audit_x/web').slice(-2), [
    'counter comment "ingress audit: would be denied by x/web"',
    'limit rate 10/second burst 5 packets log prefix "netpol audit ingress_audit_x/web: "',
  ]);
  const probe = (saddr: string, dport: number) => interpret(rs, 'forward', { family: 4, saddr, daddr: '10.0.0.1', protocol: 'tcp', dport });
  const today_ = (saddr: string, dport: number) => interpret(enforced, 'forward', { family: 4, saddr, daddr: '10.0.0.1', protocol: 'tcp', dport }).verdict;
  // y/c -> x/a: denied today by tenants' Deny (no audit: today already drops); x/b -> x/a on 80: allowed, no audit.
  assert.deepEqual([probe('10.0.1.3', 80).verdict, probe('10.0.1.3', 80).audited], [today_('10.0.1.3', 80), []]);
  assert.deepEqual([probe('10.0.0.2', 80).verdict, probe('10.0.0.2', 80).audited], ['accept', []]);
  assert.deepEqual([probe('10.0.0.2', 81).verdict, probe('10.0.0.2', 81).audited], ['drop', []]);
});

test('a staged Deny above an Accept: allowed today, audited once, naming the staged rule; enforcing it drops exactly that', () => {
  const open = clusterPolicy('AdminNetworkPolicy', 'open', { priority: 20, subject: { namespaces: {} }, ingress: [{ action: 'Allow', from: [{ namespaces: {} }] }] });
  const noC = (staged: boolean) => {
    const p = clusterPolicy('AdminNetworkPolicy', 'no-c', {
      priority: 5,
      subject: { namespaces: {} },
      ingress: [{ action: 'Deny', from: [{ pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: 'c' } } } }], ports: [{ portNumber: { port: 80 } }] }],
    });
    return staged ? audit(p) : p;
  };
  const probe = (rs: Ruleset, saddr: string, dport: number) => {
    const o = interpret(rs, 'forward', { family: 4, saddr, daddr: '10.0.0.1', protocol: 'tcp', dport });
    return [o.verdict, o.audited];
  };
  const stagedRs = compileNode(withPolicies([noC(true), open]), { node: 'a' });
  const enforcedRs = compileNode(withPolicies([noC(false), open]), { node: 'a' });
  assert.deepEqual(probe(stagedRs, '10.0.1.3', 80), ['accept', ['ingress_rule_AdminNetworkPolicy/no-c[0]']]);
  assert.deepEqual(probe(stagedRs, '10.0.1.3', 81), ['accept', []]);
  assert.deepEqual(probe(stagedRs, '10.0.0.2', 80), ['accept', []]);
  assert.deepEqual(probe(enforcedRs, '10.0.1.3', 80), ['drop', []]);
  assert.deepEqual(probe(enforcedRs, '10.0.1.3', 81), ['accept', []]);
  // --mode audit stages every cluster policy: nothing is enforced, and the same would-be drop is audited.
  const all = compileNode(withPolicies([noC(false), open]), { node: 'a', mode: 'audit' });
  assert.deepEqual(probe(all, '10.0.1.3', 80), ['accept', ['ingress_rule_AdminNetworkPolicy/no-c[0]']]);
});
