/**
 * The compiler's output structure, through the public API: shared chains, set contents, per-pod named
 * ports, ipBlocks with except, deny-all and allow-all, deny actions and logging, notes, names.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { audit, cluster, namespace, pod, policy } from '../../test/builders.js';
import type { Cluster } from '../model/index.js';
import { onNode } from '../../test/fixtures/nft/clusters.js';
import { basePods, scenarios } from '../../test/fixtures/nft/scenarios.js';
import { compileNode, interpret, NodeCompiler, renderDiff, renderRule, renderRuleset, type Chain, type Ruleset } from './index.js';

function chain(rs: Ruleset, name: string): Chain {
  const c = rs.chains.find((x) => x.name === name);
  assert.ok(c, `chain ${name} in ${rs.chains.map((x) => x.name).join(', ')}`);
  return c;
}

function elements(rs: Ruleset, name: string): readonly string[] {
  const s = rs.sets.find((x) => x.name === name);
  assert.ok(s, `set ${name} in ${rs.sets.map((x) => x.name).join(', ')}`);
  return s.elements;
}

function map(rs: Ruleset, name: string): Record<string, string> {
  return Object.fromEntries(rs.maps.find((m) => m.name === name)?.elements ?? []);
}

const subjectChains = (rs: Ruleset) => rs.chains.filter((c) => !c.base);

describe('layout', () => {
  test('base chains on forward and input, four dispatch maps, nothing else without policies', () => {
    const rs = compileNode(scenarios['no policies']!(), { node: 'a' });
    assert.equal(rs.table, 'netpol');
    assert.deepEqual(
      rs.chains.map((c) => [c.name, c.base?.hook]),
      [
        ['forward', 'forward'],
        ['input', 'input'],
      ],
    );
    assert.deepEqual(
      rs.maps.map((m) => [m.name, m.elements.length]),
      [
        ['egress_v4', 0],
        ['egress_v6', 0],
        ['ingress_v4', 0],
        ['ingress_v6', 0],
      ],
    );
    assert.deepEqual(rs.sets, []);
    const forward = chain(rs, 'forward').rules.map(renderRule);
    assert.deepEqual(forward.slice(0, 2), [
      'ct state established,related accept comment "replies and related packets of allowed connections"',
      'ct state invalid drop comment "invalid conntrack state"',
    ]);
    // Egress is checked before ingress, so a connection between two local pods must pass both.
    assert.deepEqual(
      chain(rs, 'forward')
        .rules.slice(2)
        .map((r) => (r.verdict?.kind === 'vmap' ? r.verdict.map : '')),
      ['egress_v4', 'egress_v6', 'ingress_v4', 'ingress_v6'],
    );
  });

  test('pods isolated by the same policies share one chain; each node holds only its own pods', () => {
    const c = scenarios['two policies on the same pods share a chain']!();
    const a = compileNode(c, { node: 'a' });
    assert.deepEqual(
      subjectChains(a).map((x) => x.name),
      ['egress_y/egress', 'ingress_x/one_x/two'],
    );
    assert.deepEqual(map(a, 'ingress_v4'), { '10.0.0.1': 'ingress_x/one_x/two', '10.0.0.2': 'ingress_x/one_x/two' });
    assert.deepEqual(map(a, 'ingress_v6'), { 'fd00::1': 'ingress_x/one_x/two' });
    assert.deepEqual(map(a, 'egress_v4'), { '10.0.1.3': 'egress_y/egress' });
    const b = compileNode(c, { node: 'b' });
    assert.deepEqual(subjectChains(b), []);
    assert.deepEqual(b.notes?.localPods, 1);
  });

  test('every policy rule carries its policy and index and is counted; the deny is counted once per chain', () => {
    const rs = compileNode(scenarios['two policies on the same pods share a chain']!(), { node: 'a' });
    const ing = chain(rs, 'ingress_x/one_x/two');
    const comments = ing.rules.map((r) => r.comment);
    assert.deepEqual([...new Set(comments)], ['x/one ingress[0]', 'x/two ingress[0]', 'ingress denied: isolated by x/one, x/two', undefined]);
    assert.equal(ing.rules.filter((r) => r.counter && r.verdict?.kind !== 'return').length, 1);
    assert.ok(ing.rules.filter((r) => r.verdict?.kind === 'return').every((r) => r.counter && r.comment !== undefined));
    assert.deepEqual(ing.rules.at(-1), { matches: [], verdict: { kind: 'drop' } });
    assert.deepEqual(ing.rules.map(renderRule).slice(0, 3), [
      'ip saddr @peers_x/one_ingress0_v4 counter return comment "x/one ingress[0]"',
      'ip6 saddr @peers_x/one_ingress0_v6 counter return comment "x/one ingress[0]"',
      'ip saddr @peers_x/two_ingress0_v4 meta l4proto tcp th dport 80 counter return comment "x/two ingress[0]"',
    ]);
  });
});

describe('peer sets', () => {
  test("selector peers hold the matching pods' addresses, per family, as plain sets", () => {
    const rs = compileNode(scenarios['two policies on the same pods share a chain']!(), { node: 'a' });
    assert.deepEqual(elements(rs, 'peers_x/one_ingress0_v4'), ['10.0.0.1']);
    assert.deepEqual(elements(rs, 'peers_x/one_ingress0_v6'), ['fd00::1']);
    assert.deepEqual(elements(rs, 'peers_x/two_ingress0_v4'), ['10.0.1.3']);
    assert.deepEqual(elements(rs, 'peers_y/egress_egress0_v4'), ['10.0.0.1', '10.0.0.2', '10.0.1.3', '10.0.2.4']);
    assert.equal(rs.sets.find((s) => s.name === 'peers_x/one_ingress0_v4')?.interval, false);
  });

  test('ipBlocks are interval sets of their own with except subtracted; pods go in the plain set unless a block covers them', () => {
    const rs = compileNode(scenarios['ipBlocks with except, IPv4 and IPv6']!(), { node: 'a' });
    assert.equal(rs.sets.find((s) => s.name === 'blocks_x/blocks_ingress0_v4')?.interval, true);
    assert.equal(rs.sets.find((s) => s.name === 'peers_x/blocks_ingress0_v4')?.interval, false);
    // 10.0.0.0/16 minus 10.0.0.0/30 and 10.0.1.0/24.
    assert.deepEqual(elements(rs, 'blocks_x/blocks_ingress0_v4'), [
      '10.0.0.4/30',
      '10.0.0.8/29',
      '10.0.0.16/28',
      '10.0.0.32/27',
      '10.0.0.64/26',
      '10.0.0.128/25',
      '10.0.2.0/23',
      '10.0.4.0/22',
      '10.0.8.0/21',
      '10.0.16.0/20',
      '10.0.32.0/19',
      '10.0.64.0/18',
      '10.0.128.0/17',
    ]);
    assert.deepEqual(elements(rs, 'blocks_x/blocks_ingress0_v6').slice(0, 2), ['fd00::4/126', 'fd00::8/125']);
    assert.deepEqual(elements(rs, 'blocks_x/blocks_egress0_v6'), ['::/0']);
    // z/d matches through 10.0.2.4 and fd00::4, which the blocks cover already.
    assert.deepEqual(elements(rs, 'peers_x/blocks_ingress0_v4'), []);
    assert.deepEqual(elements(rs, 'peers_x/blocks_ingress0_v6'), []);
    // ::/0 matches every pod with an IPv6 address, so their IPv4 addresses (all in the 10.0.0.0/8 except) match too.
    assert.deepEqual(elements(rs, 'peers_x/blocks_egress0_v4'), ['10.0.0.1', '10.0.1.3', '10.0.2.4']);
    assert.deepEqual(chain(rs, 'ingress_x/blocks').rules.map(renderRule).slice(0, 4), [
      'ip saddr @peers_x/blocks_ingress0_v4 counter return comment "x/blocks ingress[0]"',
      'ip saddr @blocks_x/blocks_ingress0_v4 counter return comment "x/blocks ingress[0]"',
      'ip6 saddr @peers_x/blocks_ingress0_v6 counter return comment "x/blocks ingress[0]"',
      'ip6 saddr @blocks_x/blocks_ingress0_v6 counter return comment "x/blocks ingress[0]"',
    ]);
  });

  test('an ipBlock that matches one address of a dual-stack pod matches its other address too', () => {
    const c = cluster({
      pods: basePods(),
      policies: [policy('x/v4block', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ ipBlock: { cidr: '10.0.2.0/24' } }] }] })],
    });
    const rs = compileNode(c, { node: 'a' });
    assert.deepEqual(elements(rs, 'blocks_x/v4block_ingress0_v4'), ['10.0.2.0/24']);
    assert.deepEqual(elements(rs, 'blocks_x/v4block_ingress0_v6'), []);
    assert.deepEqual(elements(rs, 'peers_x/v4block_ingress0_v4'), []);
    assert.deepEqual(elements(rs, 'peers_x/v4block_ingress0_v6'), ['fd00::4']);
  });

  test('selectors that match nothing give empty sets, which nft accepts', () => {
    const rs = compileNode(scenarios['selector peers that match nothing (empty sets)']!(), { node: 'a' });
    assert.deepEqual(elements(rs, 'peers_x/nobody_ingress0_v4'), []);
    assert.deepEqual(elements(rs, 'port_tcp_nosuchname_v4'), []);
    assert.doesNotMatch(renderRuleset(rs), /elements = \{ *\}/);
  });
});

describe('ports', () => {
  test('named ports resolve per destination pod into address . port sets', () => {
    const rs = compileNode(scenarios['named ports resolved per pod, over TCP, UDP and SCTP']!(), { node: 'a' });
    assert.deepEqual(elements(rs, 'port_tcp_http_v4'), ['10.0.0.1 . 80', '10.0.0.2 . 8080', '10.0.1.3 . 80']);
    assert.deepEqual(elements(rs, 'port_udp_dns_v4'), ['10.0.0.1 . 53', '10.0.2.4 . 53']);
    assert.deepEqual(elements(rs, 'port_sctp_sig_v6'), ['fd00::1 . 7000']);
    const ing = chain(rs, 'ingress_x/named').rules.map(renderRule);
    assert.ok(ing.includes('meta l4proto sctp ip daddr . th dport @port_sctp_sig_v4 counter return comment "x/named ingress[0]"'));
    // Egress: peers first, then the destination's port.
    assert.ok(
      chain(rs, 'egress_x/named')
        .rules.map(renderRule)
        .includes('ip daddr @peers_x/named_egress0_v4 meta l4proto tcp ip daddr . th dport @port_tcp_http_v4 counter return comment "x/named egress[0]"'),
    );
  });

  test('numbers and endPort ranges of one protocol share a rule; protocol-only entries match the protocol', () => {
    const rs = compileNode(scenarios['numeric ports, endPort ranges and protocol-only entries']!(), { node: 'a' });
    const rules = chain(rs, 'ingress_y/ports').rules.map(renderRule);
    assert.deepEqual(rules.slice(0, 4), [
      'ip saddr @peers_y/ports_ingress0_v4 meta l4proto tcp th dport { 443, 8000-9000 } counter return comment "y/ports ingress[0]"',
      'ip6 saddr @peers_y/ports_ingress0_v6 meta l4proto tcp th dport { 443, 8000-9000 } counter return comment "y/ports ingress[0]"',
      'meta l4proto udp counter return comment "y/ports ingress[1]"',
      'meta l4proto sctp th dport 3868-3870 counter return comment "y/ports ingress[1]"',
    ]);
  });
});

describe('deny-all, allow-all, deny actions', () => {
  test('deny-all: the chain is the counted deny alone', () => {
    const rs = compileNode(scenarios['deny all ingress and egress in x']!(), { node: 'a' });
    assert.deepEqual(chain(rs, 'egress_x/deny').rules.map(renderRule), ['counter comment "egress denied: isolated by x/deny"', 'drop']);
  });

  test('allow-all: an unconditional return before the deny', () => {
    const rs = compileNode(scenarios['allow all ingress and egress in x']!(), { node: 'a' });
    assert.deepEqual(chain(rs, 'ingress_x/all').rules.map(renderRule)[0], 'counter return comment "x/all ingress[0]"');
  });

  test('reject: TCP reset for TCP, ICMP admin-prohibited otherwise; log rate-limited, naming the chain', () => {
    const rs = compileNode(scenarios['deny all ingress and egress in x']!(), { node: 'a', denyAction: 'reject', log: true, logRate: 3 });
    assert.deepEqual(chain(rs, 'ingress_x/deny').rules.map(renderRule), [
      'counter comment "ingress denied: isolated by x/deny"',
      'limit rate 3/second burst 5 packets log prefix "netpol deny ingress_x/deny: "',
      'meta l4proto tcp reject with tcp reset',
      'reject with icmpx admin-prohibited',
    ]);
  });

  test('a dropped packet traces back to the subject chain and the policies isolating it', () => {
    const rs = compileNode(scenarios['two policies on the same pods share a chain']!(), { node: 'a', log: true });
    const out = interpret(rs, 'forward', { family: 4, saddr: '10.0.2.4', daddr: '10.0.0.2', protocol: 'tcp', dport: 22 });
    assert.equal(out.verdict, 'drop');
    assert.deepEqual(out.logged, ['netpol deny ingress_x/one_x/two: ']);
    assert.deepEqual(
      out.trace
        .map((s) => s.comment)
        .filter(Boolean)
        .slice(-2),
      ['ingress to isolated local pods', 'ingress denied: isolated by x/one, x/two'],
    );
    const ok = interpret(rs, 'forward', { family: 4, saddr: '10.0.0.1', daddr: '10.0.0.2', protocol: 'tcp', dport: 22 });
    assert.equal(ok.verdict, 'accept');
    assert.ok(ok.trace.some((s) => s.comment === 'x/one ingress[0]'));
    // y/c may only send DNS: its own egress chain stops it before x/b's ingress is consulted.
    const egress = interpret(rs, 'forward', { family: 4, saddr: '10.0.1.3', daddr: '10.0.0.2', protocol: 'tcp', dport: 80 });
    assert.equal(egress.verdict, 'drop');
    assert.equal(egress.trace.at(-2)?.chain, 'egress_y/egress');
  });
});

describe('notes and names', () => {
  test('pods without addresses, host-network pods, unscheduled pods and shared addresses are reported', () => {
    const c = cluster({
      pods: [
        ...basePods(),
        { ...onNode('a', pod('x/host', { app: 'a' }, { ips: ['192.168.0.10'] })), hostNetwork: true },
        pod('x/web', { app: 'a' }),
        onNode('b', pod('x/twin', { app: 'a' }, { ips: ['10.0.0.1'] })),
      ],
      policies: [policy('x/deny', { podSelector: {} })],
    });
    const rs = compileNode(c, { node: 'a' });
    assert.deepEqual(rs.notes, {
      node: 'a',
      localPods: 5,
      isolatedPods: 2,
      withoutIP: ['y/noip'],
      hostNetwork: ['x/host'],
      unscheduled: 1,
      sharedIPs: ['10.0.0.1: x/a, x/twin'],
      subjectChains: { 'ingress_x/deny': { direction: 'ingress', policies: ['x/deny'] } },
    });
    assert.deepEqual(Object.keys(map(rs, 'ingress_v4')), ['10.0.0.1', '10.0.0.2']);
  });

  test('long policy names become bounded, distinct, valid names', () => {
    const long = 'p'.repeat(240);
    const c = cluster({
      namespaces: [namespace('x')],
      pods: [onNode('a', pod('x/a', {}, { ips: ['10.0.0.1'] })), onNode('a', pod('x/b', { b: '1' }, { ips: ['10.0.0.2'] }))],
      policies: [policy(`x/${long}1`, { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] }), policy(`x/${long}2`, { podSelector: { matchLabels: { b: '1' } }, ingress: [] })],
    });
    const rs = compileNode(c, { node: 'a', log: true });
    const names = [...rs.chains.map((x) => x.name), ...rs.sets.map((s) => s.name)];
    assert.equal(new Set(names).size, names.length);
    for (const n of names) assert.match(n, /^[a-zA-Z_.][a-zA-Z0-9_./-]{0,199}$/);
    for (const ch of rs.chains) {
      for (const r of ch.rules) {
        assert.ok((r.comment ?? '').length <= 128);
        assert.ok((r.log?.prefix ?? '').length <= 127);
      }
    }
  });

  test('rendering is deterministic and does not depend on input order', () => {
    const c = scenarios['two policies on the same pods share a chain']!();
    const text = renderRuleset(compileNode(c, { node: 'a' }));
    assert.equal(renderRuleset(compileNode({ ...c, pods: [...c.pods].reverse(), policies: [...c.policies].reverse() }, { node: 'a' })), text);
    assert.match(text, /^table inet netpol \{\}\ndelete table inet netpol\ntable inet netpol \{\n/);
  });
});

describe('audit mode', () => {
  const written = () => scenarios['two policies on the same pods share a chain']!();
  const stage = (c: Cluster, ...keys: string[]): Cluster => ({ ...c, policies: c.policies.map((p) => (keys.includes(`${p.namespace}/${p.name}`) ? audit(p) : p)) });

  test('a staged policy next to an enforcing one: the ruleset is the one without the staged policy', () => {
    const c = stage(written(), 'x/two');
    const without = { ...c, policies: c.policies.filter((p) => p.name !== 'two') };
    assert.equal(renderRuleset(compileNode(c, { node: 'a', log: true })), renderRuleset(compileNode(without, { node: 'a', log: true })));
  });

  test('staged policies alone: their rules, then a counted, logged audit tail and no verdict (back to the base chain)', () => {
    const rs = compileNode(stage(written(), 'x/one', 'x/two'), { node: 'a' });
    assert.deepEqual(chain(rs, 'ingress_x/one_x/two').rules.map(renderRule).slice(-2), [
      'counter comment "ingress audit: would be denied by x/one, x/two"',
      'limit rate 10/second burst 5 packets log prefix "netpol audit ingress_x/one_x/two: "',
    ]);
    const out = interpret(rs, 'forward', { family: 4, saddr: '10.0.2.4', daddr: '10.0.0.2', protocol: 'tcp', dport: 22 });
    assert.equal(out.verdict, 'accept');
    assert.deepEqual(out.audited, ['ingress_x/one_x/two']);
    assert.deepEqual(out.logged, ['netpol audit ingress_x/one_x/two: ']);
    const allowed = interpret(rs, 'forward', { family: 4, saddr: '10.0.0.1', daddr: '10.0.0.2', protocol: 'tcp', dport: 22 });
    assert.deepEqual([allowed.verdict, allowed.audited], ['accept', []]);
  });

  test('an audited egress side still leaves the ingress side to enforce', () => {
    // y/egress staged: y/c's TCP to x/b is audited on egress, then x/one and x/two (enforcing) drop it.
    const rs = compileNode(stage(written(), 'y/egress'), { node: 'a' });
    const out = interpret(rs, 'forward', { family: 4, saddr: '10.0.1.3', daddr: '10.0.0.2', protocol: 'tcp', dport: 22 });
    assert.equal(out.verdict, 'drop');
    assert.deepEqual(out.audited, ['egress_y/egress']);
    assert.equal(out.trace.at(-1)?.chain, 'ingress_x/one_x/two');
  });

  test('switching staged policies to enforce is one incremental change of their chain alone', () => {
    const nc = new NodeCompiler({ node: 'a' });
    const before = nc.update(stage(written(), 'x/one', 'x/two'));
    const script = renderDiff(before, nc.update(written())).trim().split('\n');
    assert.deepEqual(
      script.filter((l) => !l.includes(' ingress_x/one_x/two')),
      [],
    );
    assert.deepEqual(
      [script[0], script.at(-2), script.at(-1)],
      [
        'flush chain inet netpol ingress_x/one_x/two',
        'add rule inet netpol ingress_x/one_x/two counter comment "ingress denied: isolated by x/one, x/two"',
        'add rule inet netpol ingress_x/one_x/two drop',
      ],
    );
  });

  test('the global mode audit stages every policy', () => {
    const c = written();
    const all = stage(c, 'x/one', 'x/two', 'y/egress');
    assert.equal(renderRuleset(compileNode(c, { node: 'a', mode: 'audit' })), renderRuleset(compileNode(all, { node: 'a' })));
    assert.notEqual(renderRuleset(compileNode(c, { node: 'a', mode: 'audit' })), renderRuleset(compileNode(c, { node: 'a' })));
  });
});
