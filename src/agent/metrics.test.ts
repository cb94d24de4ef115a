import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentMetrics, dropFamilies, escapeLabel, kernelFamilies, renderFamilies } from './metrics.js';
import { DropLog } from './drops.js';
import { parseListen, startAgentServer } from './http.js';
import { compileNode } from '../nft/index.js';
import { audit, clusterPolicy, pod, tieredCluster } from '../../test/builders.js';

test('label values are escaped as the exposition format says: backslash, double quote, line feed', () => {
  assert.equal(escapeLabel('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  const text = renderFamilies([{ name: 'm', help: 'h', type: 'gauge', samples: [{ labels: { policy: 'x"}\ny' }, value: 1 }] }]);
  assert.equal(text, '# HELP m h\n# TYPE m gauge\nm{policy="x\\"}\\ny"} 1\n');
});

test('the apply histogram is cumulative, with +Inf, sum and count', () => {
  const m = new AgentMetrics();
  for (const ms of [0.5, 3, 40, 40, 20_000]) m.observe({ kind: 'applied', message: '', ms, localPods: 4, isolatedPods: 2 });
  m.observe({ kind: 'error', message: 'x' });
  const text = renderFamilies(m.families());
  assert.match(text, /^netpol_agent_apply_duration_seconds_bucket\{le="0.001"\} 1$/m);
  assert.match(text, /^netpol_agent_apply_duration_seconds_bucket\{le="0.005"\} 2$/m);
  assert.match(text, /^netpol_agent_apply_duration_seconds_bucket\{le="0.05"\} 4$/m);
  assert.match(text, /^netpol_agent_apply_duration_seconds_bucket\{le="10"\} 4$/m);
  assert.match(text, /^netpol_agent_apply_duration_seconds_bucket\{le="\+Inf"\} 5$/m);
  assert.match(text, /^netpol_agent_apply_duration_seconds_count 5$/m);
  assert.match(text, /^netpol_agent_applies_total 5$/m);
  assert.match(text, /^netpol_agent_errors_total 1$/m);
  assert.match(text, /^netpol_agent_local_pods 4$/m);
  assert.match(text, /^netpol_agent_isolated_pods 2$/m);
  assert.match(text, /^netpol_agent_ready 1$/m);
});

test('deny counters of the kernel table are summed per policy; set and map elements counted', () => {
  const rule = (comment: string, packets: number, bytes: number) => ({ rule: { chain: 'c', comment, expr: [{ counter: { packets, bytes } }] } });
  const json = {
    nftables: [
      { set: { name: 'peers', elem: ['10.0.0.1', '10.0.0.2'] } },
      { map: { name: 'ingress_v4', elem: [['10.0.0.3', { jump: { target: 'c' } }]] } },
      rule('ingress denied: isolated by shop/a, shop/b', 3, 300),
      rule('ingress denied: isolated by shop/a', 1, 60),
      rule('egress denied: isolated by shop/a, shop/trunc...', 2, 100),
      rule('shop/a ingress[0]', 9, 9),
      rule('egress audit: would be denied by shop/staged, shop/b', 5, 500),
    ],
  };
  const text = renderFamilies(kernelFamilies(json));
  assert.match(text, /^netpol_set_elements 3$/m);
  assert.match(text, /^netpol_policy_denied_packets_total\{namespace="shop",policy="a",direction="ingress"\} 4$/m);
  assert.match(text, /^netpol_policy_denied_bytes_total\{namespace="shop",policy="a",direction="ingress"\} 360$/m);
  assert.match(text, /^netpol_policy_denied_packets_total\{namespace="shop",policy="b",direction="ingress"\} 3$/m);
  assert.match(text, /^netpol_policy_denied_packets_total\{namespace="shop",policy="a",direction="egress"\} 2$/m);
  assert.doesNotMatch(text, /trunc/);
  // Audit tails count apart: accepted packets that staged policies would drop.
  assert.match(text, /^netpol_policy_audited_packets_total\{namespace="shop",policy="staged",direction="egress"\} 5$/m);
  assert.match(text, /^netpol_policy_audited_bytes_total\{namespace="shop",policy="b",direction="egress"\} 500$/m);
  assert.doesNotMatch(text, /^netpol_policy_denied_packets_total\{namespace="shop",policy="staged"/m);
  assert.equal(renderFamilies(kernelFamilies(undefined)).includes('netpol_set_elements 0'), true);
});

test('--listen addresses', () => {
  assert.deepEqual(parseListen('127.0.0.1:9763'), { host: '127.0.0.1', port: 9763 });
  assert.deepEqual(parseListen(':9763'), { host: '::', port: 9763 });
  assert.deepEqual(parseListen('[::1]:80'), { host: '::1', port: 80 });
  assert.equal(parseListen('9763'), undefined);
  assert.equal(parseListen('host:99999'), undefined);
});

test('the HTTP endpoint: /readyz follows readiness, /metrics serves the text format, nothing else is served', async () => {
  let ready = false;
  const server = await startAgentServer({ host: '127.0.0.1', port: 0 }, { ready: () => ready, metrics: async () => [{ name: 'x', help: 'y', type: 'counter', samples: [{ value: 2 }] }] });
  const base = `http://127.0.0.1:${server.address.port}`;
  try {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 503);
    ready = true;
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    const m = await fetch(`${base}/metrics`);
    assert.equal(m.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(await m.text(), '# HELP x y\n# TYPE x counter\nx 2\n');
    assert.equal((await fetch(`${base}/other`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  } finally {
    await server.close();
  }
});

test("admitting rules' counters are summed per policy rule over families and chains; a key cut short is left out", () => {
  const rule = (chain: string, comment: string, packets: number, bytes: number) => ({ rule: { chain, comment, expr: [{ counter: { packets, bytes } }, { return: null }] } });
  const json = {
    nftables: [
      rule('ingress_shop/a', 'shop/a ingress[0]', 2, 120),
      rule('ingress_shop/a', 'shop/a ingress[0]', 1, 80),
      rule('ingress_shop/a_shop/b', 'shop/a ingress[0]', 4, 240),
      rule('ingress_shop/a_shop/b', 'shop/a ingress[10]', 1, 60),
      rule('egress_shop/a', 'shop/a egress[1]', 5, 300),
      rule('ingress_shop/x', 'shop/xxxx... ingress[0]', 7, 7),
      rule('forward', 'shop/a ingress[0]', 100, 100),
    ],
  };
  const text = renderFamilies(kernelFamilies(json));
  assert.match(text, /^netpol_rule_admitted_packets_total\{namespace="shop",policy="a",direction="ingress",rule="0"\} 7$/m);
  assert.match(text, /^netpol_rule_admitted_bytes_total\{namespace="shop",policy="a",direction="ingress",rule="0"\} 440$/m);
  assert.match(text, /^netpol_rule_admitted_packets_total\{namespace="shop",policy="a",direction="ingress",rule="10"\} 1$/m);
  assert.match(text, /^netpol_rule_admitted_packets_total\{namespace="shop",policy="a",direction="egress",rule="1"\} 5$/m);
  assert.doesNotMatch(text, /xxxx/);
  // Admitting rules are not deny counters.
  assert.doesNotMatch(text, /^netpol_policy_denied_packets_total\{/m);
});

test('drop log counters: events per policy with escaped label values, lines by result, losses by cause', () => {
  const log = new DropLog({ node: 'a' });
  log.counts.events.set('deny ingress x/a"b', { action: 'deny', direction: 'ingress', policy: 'x/a"b', count: 3 });
  log.counts.events.set('audit egress AdminNetworkPolicy/guard', { action: 'audit', direction: 'egress', policy: 'AdminNetworkPolicy/guard', count: 2 });
  log.counts.lines.event = 3;
  log.overrun(2);
  const text = renderFamilies(dropFamilies(log));
  assert.match(text, /^netpol_drop_events_total\{action="deny",direction="ingress",kind="NetworkPolicy",namespace="x",policy="a\\"b"\} 3$/m);
  assert.match(text, /^netpol_drop_events_total\{action="audit",direction="egress",kind="AdminNetworkPolicy",namespace="",policy="guard"\} 2$/m);
  assert.match(text, /^netpol_drop_log_lines_total\{result="event"\} 3$/m);
  assert.match(text, /^netpol_drop_events_lost_total\{reason="kernel-log-overrun"\} 2$/m);
  assert.match(text, /^netpol_drop_events_lost_total\{reason="ring-overflow"\} 0$/m);
});

test("cluster-scoped policies' Deny counters, enforcing and staged, per rule, read from the comments the compiler writes", () => {
  const pods = [
    { ...pod('x/a', { app: 'a' }, { ips: ['10.0.0.1'] }), nodeName: 'n' },
    { ...pod('x/b', { app: 'b' }, { ips: ['10.0.0.2'] }), nodeName: 'n' },
  ];
  const deny = (name: string, app: string) =>
    clusterPolicy('AdminNetworkPolicy', name, {
      priority: 1,
      subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { app } } } },
      ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }],
    });
  const ruleset = compileNode(tieredCluster({ pods, clusterPolicies: [deny('a-closed', 'a'), audit(deny('b-staged', 'b'))] }), { node: 'n' });
  // The kernel's JSON listing of the counted rules, each counter at 3 packets of 100 bytes.
  const counted = ruleset.chains.flatMap((c) =>
    c.rules.filter((r) => r.counter && r.comment !== undefined).map((r) => ({ rule: { chain: c.name, comment: r.comment, expr: [{ counter: { packets: 3, bytes: 300 } }] } })),
  );
  const text = renderFamilies(kernelFamilies({ nftables: counted }));
  const samples = (name: string) => text.split('\n').filter((l) => l.startsWith(`${name}{`));
  const denied = samples('netpol_cluster_rule_denied_packets_total');
  const audited = samples('netpol_cluster_rule_audited_packets_total');
  assert.equal(denied.length, 1, text);
  assert.match(denied[0]!, /^netpol_cluster_rule_denied_packets_total\{kind="AdminNetworkPolicy",policy="a-closed",direction="ingress",rule="0"\} \d+$/);
  assert.equal(audited.length, 1, text);
  assert.match(audited[0]!, /^netpol_cluster_rule_audited_packets_total\{kind="AdminNetworkPolicy",policy="b-staged",direction="ingress",rule="0"\} \d+$/);
  // Every counted rule of the staged policy is an audit counter, never a denial.
  assert.ok(!denied.some((l) => l.includes('b-staged')));
});
