import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileNode, type Ruleset } from '../nft/index.js';
import { scenarios } from '../../test/fixtures/nft/scenarios.js';
import { DropLog, policiesFromChainName, REASON, type Enforced } from './drops.js';

const cluster = scenarios['two policies on the same pods share a chain']!();
const ruleset = compileNode(cluster, { node: 'a', log: true });
const enforced: Enforced = { ruleset, cluster };

/** The prefix the compiled ruleset logs with in `chain`. */
function prefixOf(rs: Ruleset, chain: string): string {
  const prefix = rs.chains.find((c) => c.name === chain)?.rules.find((r) => r.log)?.log?.prefix;
  assert.ok(prefix, `no log rule in ${chain}`);
  return prefix;
}

let seq = 100;
/** A kernel record as /dev/kmsg gives it: the compiled prefix, then a captured TCP SYN line's fields. */
function record(chain: string, source: string, destination: string, sport = 40000, dport = 80, proto = 'TCP') {
  const v6 = source.includes(':');
  const ipFields = v6 ? 'LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=856860' : 'LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=36177 DF';
  const l4 = proto === 'TCP' ? `PROTO=TCP SPT=${sport} DPT=${dport} WINDOW=64240 RES=0x00 SYN URGP=0 ` : `PROTO=UDP SPT=${sport} DPT=${dport} LEN=11 `;
  return { seq: seq++, usec: 1, message: `${prefixOf(ruleset, chain)}IN=veth0 OUT=veth1 MAC=7e:1a:d5:29:1c:30:96:e1:66:98:55:c0:08:00 SRC=${source} DST=${destination} ${ipFields} ${l4}` };
}

test('an ingress drop names the subject chain, the isolating policies, both pods and the reason', () => {
  const log = new DropLog({ node: 'a' });
  const e = log.ingest(record('ingress_x/one_x/two', '10.0.2.4', '10.0.0.1', 40000, 443), Date.UTC(2026, 0, 1), enforced);
  assert.deepEqual(e, {
    seq: 1,
    time: '2026-01-01T00:00:00.000Z',
    node: 'a',
    action: 'deny',
    direction: 'ingress',
    chain: 'ingress_x/one_x/two',
    policies: ['x/one', 'x/two'],
    reason: REASON,
    source: { ip: '10.0.2.4', pod: 'z/d' },
    destination: { ip: '10.0.0.1', pod: 'x/a' },
    protocol: 'TCP',
    port: 443,
    sourcePort: 40000,
    packets: 1,
    lastTime: '2026-01-01T00:00:00.000Z',
  });
  assert.deepEqual(log.counts.events.get('deny ingress x/one')?.count, 1);
  assert.deepEqual(log.counts.events.get('deny ingress x/two')?.count, 1);
});

test('egress: the subject is the source; an address outside the cluster has no pod', () => {
  const log = new DropLog({ node: 'a' });
  const e = log.ingest(record('egress_y/egress', '10.0.1.3', '192.0.2.9', 5000, 53, 'UDP'), 0, enforced);
  assert.equal(e?.direction, 'egress');
  assert.deepEqual(e?.policies, ['y/egress']);
  assert.deepEqual(e?.source, { ip: '10.0.1.3', pod: 'y/c' });
  assert.deepEqual(e?.destination, { ip: '192.0.2.9' });
  assert.deepEqual([e?.protocol, e?.port], ['UDP', 53]);
});

test('IPv6 lines as the kernel writes them attribute to the same pods', () => {
  const log = new DropLog({ node: 'a' });
  const r = record('ingress_x/one_x/two', 'fd00::4', 'fd00::1');
  r.message = r.message.replace('SRC=fd00::4 DST=fd00::1', 'SRC=fd00:0000:0000:0000:0000:0000:0000:0004 DST=fd00:0000:0000:0000:0000:0000:0000:0001');
  const e = log.ingest(r, 0, enforced);
  assert.deepEqual([e?.source.pod, e?.destination.pod, e?.destination.ip], ['z/d', 'x/a', 'fd00::1']);
});

test('retransmits of one attempt count on its event; a new source port is a new attempt; after the window, new again', () => {
  const log = new DropLog({ node: 'a', repeatWindowMs: 1000 });
  const first = log.ingest(record('ingress_x/one_x/two', '10.0.2.4', '10.0.0.1', 40000), 0, enforced);
  assert.equal(log.ingest(record('ingress_x/one_x/two', '10.0.2.4', '10.0.0.1', 40000), 500, enforced), undefined);
  assert.equal(first?.packets, 2);
  assert.ok(log.ingest(record('ingress_x/one_x/two', '10.0.2.4', '10.0.0.1', 40001), 600, enforced));
  assert.ok(log.ingest(record('ingress_x/one_x/two', '10.0.2.4', '10.0.0.1', 40000), 5000, enforced));
  assert.deepEqual(log.counts.lines, { event: 3, repeat: 1, 'other-node': 0 });
});

test("a line whose subject is not a pod of this node is another node's (lab nodes share one kernel log)", () => {
  const log = new DropLog({ node: 'b' });
  assert.equal(log.ingest(record('ingress_x/one_x/two', '10.0.2.4', '10.0.0.1'), 0, enforced), undefined);
  assert.equal(log.counts.lines['other-node'], 1);
  assert.deepEqual(log.since(), []);
});

test('other messages are ignored; our prefix with fields the kernel does not write is counted as unparsed; suppressed reports are lost', () => {
  const log = new DropLog({ node: 'a' });
  assert.equal(log.ingest({ seq: 1, usec: 1, message: 'eth0: link becomes ready' }, 0, enforced), undefined);
  assert.equal(log.ingest({ seq: 2, usec: 1, message: 'netpol deny ingress_x/one_x/two: IN=a OUT= SRC=forged' }, 0, enforced), undefined);
  assert.equal(log.ingest({ seq: 3, usec: 1, message: 'net_ratelimit: 12 callbacks suppressed' }, 0, enforced), undefined);
  // A chain that is no subject chain of ours says no direction: refused, not guessed.
  const odd = record('ingress_x/one_x/two', '10.0.2.4', '10.0.0.1');
  odd.message = odd.message.replace('ingress_x/one_x/two: ', 'forward: ');
  assert.equal(log.ingest(odd, 0, enforced), undefined);
  log.overrun(4);
  assert.deepEqual(log.counts.lost, { 'ring-overflow': 0, 'kernel-log-overrun': 4, 'kernel-suppressed': 12, unparsed: 2 });
});

test('the ring keeps the newest events; ones pushed out before a reader fetched them are lost; since= pages', () => {
  const log = new DropLog({ node: 'a', capacity: 3 });
  const add = (sport: number) => log.ingest(record('ingress_x/one_x/two', '10.0.2.4', '10.0.0.1', sport), 0, enforced);
  add(1);
  add(2);
  assert.deepEqual(
    log.since().map((e) => e.seq),
    [1, 2],
  );
  add(3);
  add(4);
  assert.equal(log.counts.lost['ring-overflow'], 0, 'event 1 was fetched before it was pushed out');
  add(5);
  assert.equal(log.counts.lost['ring-overflow'], 0, 'event 2 was fetched too');
  add(6);
  assert.equal(log.counts.lost['ring-overflow'], 1, 'event 3 never was');
  assert.deepEqual(log.bounds, { oldest: 4, next: 7 });
  assert.deepEqual(
    log.since(2).map((e) => e.seq),
    [4, 5, 6],
  );
  assert.deepEqual(
    log.since(5).map((e) => e.seq),
    [6],
  );
  // A repeat of an attempt whose event was pushed out is a new event.
  add(1);
  assert.deepEqual(
    log.since(6).map((e) => e.sourcePort),
    [1],
  );
});

test('without a ruleset yet, or with a prefix cut short, the chain name still says the policies when it can', () => {
  assert.deepEqual(policiesFromChainName('ingress_x/one_x/two'), { direction: 'ingress', policies: ['x/one', 'x/two'] });
  assert.equal(policiesFromChainName('ingress_x/pppp_h0123456789abcdef'), undefined);
  const log = new DropLog({ node: 'a' });
  const e = log.ingest(record('ingress_x/one_x/two', '10.0.2.4', '10.0.0.1'), 0, undefined);
  assert.deepEqual([e?.chain, e?.policies, e?.source.pod], ['ingress_x/one_x/two', ['x/one', 'x/two'], undefined]);
  const cut = record('ingress_x/one_x/two', '10.0.2.4', '10.0.0.2');
  cut.message = cut.message.replace('ingress_x/one_x/two: ', 'ingress_x/one_x...: ');
  const t = log.ingest(cut, 0, enforced);
  assert.deepEqual([t?.chain, t?.policies], ['ingress_x/one_x/two', ['x/one', 'x/two']], "the subject's dispatch entry completes the name");
});

test('a Deny rule of a cluster-scoped policy logs its own name, and the event names that policy and rule', () => {
  const tiered = scenarios['cluster policies: admin tiers with Pass, NetworkPolicy after them, baseline, named ports, networks, nodes']!();
  const rs = compileNode(tiered, { node: 'a', log: true });
  const prefixes = rs.chains.flatMap((c) => c.rules.flatMap((r) => (r.log ? [r.log.prefix] : []))).filter((p) => p.startsWith('netpol deny ingress_rule_'));
  assert.ok(prefixes.includes('netpol deny ingress_rule_ClusterNetworkPolicy/tenants[1]: '), prefixes.join(' | '));
  assert.ok(prefixes.includes('netpol deny ingress_rule_BaselineAdminNetworkPolicy/default[0]: '), prefixes.join(' | '));
  const local = tiered.pods.find((p) => p.nodeName === 'a' && !p.hostNetwork && p.ips.some((ip) => !ip.includes(':')))!;
  const remote = tiered.pods.find((p) => p !== local && p.ips.some((ip) => !ip.includes(':')))!;
  const [dst, src] = [local.ips.find((ip) => !ip.includes(':'))!, remote.ips.find((ip) => !ip.includes(':'))!];
  const message = `netpol deny ingress_rule_ClusterNetworkPolicy/tenants[1]: IN=veth0 OUT=veth1 MAC=7e:1a:d5:29:1c:30:96:e1:66:98:55:c0:08:00 SRC=${src} DST=${dst} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=80 WINDOW=64240 RES=0x00 SYN URGP=0 `;
  const e = new DropLog({ node: 'a' }).ingest({ seq: 1, usec: 1, message }, 0, { ruleset: rs, cluster: tiered });
  assert.deepEqual(
    [e?.direction, e?.policies, e?.reason, e?.destination.pod],
    ['ingress', ['ClusterNetworkPolicy/tenants'], 'denied by ClusterNetworkPolicy/tenants ingress[1] (a Deny rule of a cluster-scoped policy)', `${local.namespace}/${local.name}`],
  );
});

test("an audit line of a staged cluster policy's Deny rule names that policy and rule, as an audit event", () => {
  const tiered = scenarios['cluster policies staged (audit mode): an admin Deny and Pass and a baseline Deny beside enforced ones and staged NetworkPolicies']!();
  const rs = compileNode(tiered, { node: 'a' });
  const prefixes = rs.chains.flatMap((c) => c.rules.flatMap((r) => (r.log ? [r.log.prefix] : []))).filter((p) => p.startsWith('netpol audit ingress_rule_'));
  assert.ok(prefixes.includes('netpol audit ingress_rule_AdminNetworkPolicy/no-c[0]: '), prefixes.join(' | '));
  const local = tiered.pods.find((p) => p.nodeName === 'a' && !p.hostNetwork && p.ips.some((ip) => !ip.includes(':')))!;
  const remote = tiered.pods.find((p) => p !== local && p.ips.some((ip) => !ip.includes(':')))!;
  const [dst, src] = [local.ips.find((ip) => !ip.includes(':'))!, remote.ips.find((ip) => !ip.includes(':'))!];
  const message = `netpol audit ingress_rule_AdminNetworkPolicy/no-c[0]: IN=veth0 OUT=veth1 MAC=7e:1a:d5:29:1c:30:96:e1:66:98:55:c0:08:00 SRC=${src} DST=${dst} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=80 WINDOW=64240 RES=0x00 SYN URGP=0 `;
  const e = new DropLog({ node: 'a' }).ingest({ seq: 1, usec: 1, message }, 0, { ruleset: rs, cluster: tiered });
  assert.deepEqual(
    [e?.action, e?.direction, e?.policies, e?.reason],
    ['audit', 'ingress', ['AdminNetworkPolicy/no-c'], 'would be denied by AdminNetworkPolicy/no-c ingress[0] (a Deny rule of a cluster-scoped policy)'],
  );
});

test('pods claiming one address: the event names the first by namespace/name, in whatever order the snapshot lists them', () => {
  const source = cluster.pods.find((p) => p.ips.includes('10.0.2.4'))!;
  const claimants = [
    { ...source, namespace: 'zz', name: 'last' },
    { ...source, namespace: 'a', name: 'b' },
    { ...source, namespace: 'a', name: 'a-first' },
  ];
  for (const order of [claimants, [...claimants].reverse()]) {
    const pods = [...cluster.pods.filter((p) => p !== source), ...order];
    const log = new DropLog({ node: 'a' });
    const e = log.ingest(record('ingress_x/one_x/two', '10.0.2.4', '10.0.0.1'), 0, { ruleset, cluster: { ...cluster, pods } });
    assert.equal(e?.source.pod, 'a/a-first');
  }
});

test('lookups built ahead (attributeTo, as a snapshot takes effect) are the ones a record is attributed with', () => {
  const log = new DropLog({ node: 'a' });
  log.attributeTo(enforced);
  const e = log.ingest(record('ingress_x/one_x/two', '10.0.2.4', '10.0.0.1'), 0, enforced);
  assert.deepEqual([e?.source.pod, e?.destination.pod, e?.policies], ['z/d', 'x/a', ['x/one', 'x/two']]);
  // A new snapshot (another identity) is read afresh: the source pod renamed.
  const renamed = { ruleset, cluster: { ...cluster, pods: cluster.pods.map((p) => (p.ips.includes('10.0.2.4') ? { ...p, name: 'renamed' } : p)) } };
  log.attributeTo(renamed);
  assert.equal(log.ingest(record('ingress_x/one_x/two', '10.0.2.4', '10.0.0.1', 40001), 0, renamed)?.source.pod, `${cluster.pods.find((p) => p.ips.includes('10.0.2.4'))!.namespace}/renamed`);
});
