/**
 * The lab end to end, on real namespaces and real packets. Needs root, `ip` and `nft`; skipped (with the
 * reason printed) otherwise. Each test uses its own lab id and checks that nothing is left behind.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Engine } from '../../src/engine/engine.js';
import { reachability, sortPods } from '../../src/engine/matrix.js';
import type { Cluster } from '../../src/model/cluster.js';
import { Lab, LabError, compiledEnforcer, labDown, labProbe, labUp, listLabs, nftEnforcer, planLab, runLabReport, staticEnforcer, type LabProbe } from '../../src/lab/index.js';
import { cluster, namespace, pod, policy } from '../builders.js';
import { NOTHING, labSkipReason, leftovers, testLabId } from './helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const skip = labSkipReason();
if (skip) console.log(`# skipping the lab tests: ${skip}`);

const TCP_UDP: LabProbe[] = [
  { port: 80, protocol: 'TCP' },
  { port: 80, protocol: 'UDP' },
];

/** Denied pairs of a probe, as `from -> to`. */
function denied(r: { pods: string[]; probes: { allowed: boolean[][] }[] }, k: number): string[] {
  const out: string[] = [];
  r.probes[k]!.allowed.forEach((row, i) => row.forEach((ok, j) => ok || out.push(`${r.pods[i]} -> ${r.pods[j]}`)));
  return out;
}

const four = (): Cluster =>
  cluster({
    pods: [pod('x/a', {}, { ips: ['10.1.0.1'] }), pod('x/b', {}, { ips: ['10.1.0.2'] }), pod('y/a', {}, { ips: ['10.1.0.3'] }), pod('y/b', {}, { ips: ['10.1.0.4'] })],
  });

/** A forward chain in the node: established connections pass first (so replies to allowed ones do), then `rules`. */
function forward(rules: string): string {
  return `table inet labtest {\n  chain forward {\n    type filter hook forward priority 0; policy accept;\n    ct state established,related accept\n${rules}\n  }\n}\n`;
}

describe('lab', { skip }, () => {
  test('no policy, 2 nodes, 4 pods: every pair is allowed, TCP and UDP, in the shape of netpol matrix -o json', async () => {
    const id = testLabId('a');
    const c = cluster({ pods: [pod('y/b'), pod('x/a'), pod('y/a'), pod('x/b')] });
    const r = await runLabReport(c, { id, nodes: 2, probes: TCP_UDP });
    assert.deepEqual(r.reachability.pods, ['x/a', 'x/b', 'y/a', 'y/b']);
    assert.deepEqual(denied(r.reachability, 0), []);
    assert.deepEqual(denied(r.reachability, 1), []);
    // Same shape, same answer as the engine on the lab cluster.
    const plan = planLab(c, { id, nodes: 2 });
    assert.deepEqual(r.reachability, reachability(new Engine(plan.cluster), sortPods(plan.cluster.pods), TCP_UDP));
    assert.deepEqual(new Set(r.layout.pods.map((p) => p.node)), new Set([0, 1]));
    assert.ok(r.outcomes.every((o) => o.result === 'connected'));
    assert.deepEqual(leftovers(id), NOTHING);
  });

  test('a hand-written drop rule in one node denies exactly those pairs (same node and across nodes), replies still pass', async () => {
    const id = testLabId('b');
    // x/a and y/a live on lab-node-0, x/b and y/b on lab-node-1.
    const rules = forward(
      [
        '    ip saddr 10.1.0.1 ip daddr 10.1.0.2 drop', // x/a -> x/b, across nodes
        '    ip saddr 10.1.0.3 ip daddr 10.1.0.1 drop', // y/a -> x/a, within node 0
      ].join('\n'),
    );
    const r = await runLabReport(four(), { id, nodes: 2, probes: TCP_UDP, enforcer: staticEnforcer({ 'lab-node-0': rules }) });
    for (const k of [0, 1]) assert.deepEqual(denied(r.reachability, k), ['x/a -> x/b', 'y/a -> x/a']);
    assert.deepEqual(
      r.outcomes.filter((o) => o.result !== 'connected').map((o) => [o.protocol, o.from, o.to, o.result]),
      [
        ['TCP', 'y/a', 'x/a', 'timeout'],
        ['TCP', 'x/a', 'x/b', 'timeout'],
        ['UDP', 'y/a', 'x/a', 'timeout'],
        ['UDP', 'x/a', 'x/b', 'timeout'],
      ],
    );
    assert.deepEqual(leftovers(id), NOTHING);
  });

  test('reject is seen at once: refused, not a timeout', async () => {
    const id = testLabId('c');
    const rules = forward('    ip saddr 10.1.0.1 ip daddr 10.1.0.2 meta l4proto tcp reject with tcp reset\n    ip saddr 10.1.0.1 ip daddr 10.1.0.2 reject');
    const r = await runLabReport(four(), { id, nodes: 1, probes: TCP_UDP, enforcer: staticEnforcer({ 'lab-node-0': rules }) });
    const refused = r.outcomes.filter((o) => o.result !== 'connected');
    assert.deepEqual(
      refused.map((o) => [o.protocol, o.from, o.to, o.result, o.code]),
      [
        ['TCP', 'x/a', 'x/b', 'refused', 'ECONNREFUSED'],
        ['UDP', 'x/a', 'x/b', 'refused', 'ECONNREFUSED'],
      ],
    );
    assert.ok(
      refused.every((o) => o.ms! < 500),
      JSON.stringify(refused),
    );
    assert.deepEqual(leftovers(id), NOTHING);
  });

  test('named ports resolve per destination; where undefined, the stand-in port is probed', async () => {
    const id = testLabId('d');
    const c = cluster({
      pods: [pod('x/a', {}, { ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }), pod('x/b', {}, { ports: [{ name: 'http', port: 9090, protocol: 'TCP' }] }), pod('y/a')],
    });
    // Drop the stand-in port: only destinations without a port named http are denied.
    const enforcer = nftEnforcer((lab) => forward(`    tcp dport ${lab.layout.unnamedPort} drop`));
    const r = await runLabReport(c, { id, nodes: 2, probes: [{ port: 'http', protocol: 'TCP' }], enforcer });
    assert.equal(r.reachability.probes[0]!.port, 'http');
    assert.deepEqual(denied(r.reachability, 0), ['x/a -> y/a', 'x/b -> y/a']);
    const portTo = (to: string) => [...new Set(r.outcomes.filter((o) => o.to === to).map((o) => [o.port, o.standIn ?? false].join()))];
    assert.deepEqual(portTo('x/a'), ['8080,false']);
    assert.deepEqual(portTo('x/b'), ['9090,false']);
    assert.deepEqual(portTo('y/a'), [`${r.layout.unnamedPort},true`]);
    assert.deepEqual(leftovers(id), NOTHING);
  });

  test('dual-stack pods: a pair is allowed only when both families connect', async () => {
    const id = testLabId('e');
    const c = cluster({ pods: [pod('x/a', {}, { ips: ['10.1.0.1', 'fd00::1'] }), pod('x/b', {}, { ips: ['10.1.0.2', 'fd00::2'] }), pod('x/c')] });
    const rules = forward('    ip6 saddr fd00::1 ip6 daddr fd00::2 drop');
    const r = await runLabReport(c, { id, nodes: 2, probes: TCP_UDP, enforcer: staticEnforcer({ 'lab-node-0': rules, 'lab-node-1': rules }) });
    assert.deepEqual(r.layout.pods[2]!.ips.length, 2, 'a pod without IPs gets both families');
    for (const k of [0, 1]) assert.deepEqual(denied(r.reachability, k), ['x/a -> x/b']);
    assert.deepEqual(
      r.outcomes.filter((o) => o.from === 'x/a' && o.to === 'x/b').map((o) => [o.protocol, o.family, o.result]),
      [
        ['TCP', 4, 'connected'],
        ['TCP', 6, 'timeout'],
        ['UDP', 4, 'connected'],
        ['UDP', 6, 'timeout'],
      ],
    );
    assert.deepEqual(leftovers(id), NOTHING);
  });

  test('a failure while enforcing tears everything down and says what failed', async () => {
    const id = testLabId('f');
    await assert.rejects(
      runLabReport(four(), { id, nodes: 2, probes: TCP_UDP, enforcer: staticEnforcer({ 'lab-node-1': 'table inet broken {' }) }),
      (e: unknown) => e instanceof LabError && e.code === 'command-failed' && /lab-node-1/.test(e.message) && /syntax error/.test(e.message),
    );
    assert.deepEqual(leftovers(id), NOTHING);
  });

  test('a held connection carries data until a rule in front of conntrack cuts it', async () => {
    const id = testLabId('g');
    const lab = await Lab.create(four(), { id, nodes: 2, enforcer: staticEnforcer({ 'lab-node-0': forward('') }) });
    try {
      const held = await lab.hold('x/a', 'x/b', 80, 'TCP');
      assert.equal(held.result, 'connected');
      assert.equal(await held.check(), 'connected');
      await lab.exec(lab.layout.nodes[0]!.netns, ['nft', 'insert rule inet labtest forward ip saddr 10.1.0.1 ip daddr 10.1.0.2 drop']);
      assert.equal(await held.check(500), 'timeout');
      await held.release();
    } finally {
      await lab.destroy();
    }
    assert.deepEqual(leftovers(id), NOTHING);
  });

  test('labUp keeps a lab running for labProbe from its state; labDown removes it, twice is fine', async () => {
    const id = testLabId('h');
    const state = await labUp(four(), { id, nodes: 2, enforcer: staticEnforcer({ 'lab-node-1': forward('    ip daddr 10.1.0.4 drop') }) });
    try {
      assert.equal(state.persistent, true);
      assert.equal((await listLabs()).find((l) => l.id === id)?.status, 'persistent');
      const r = await labProbe(id, [{ port: 80, protocol: 'TCP' }]);
      assert.deepEqual(denied(r.reachability, 0), ['x/a -> y/b', 'x/b -> y/b', 'y/a -> y/b']);
    } finally {
      const report = await labDown(id);
      assert.equal(report.namespaces.length, 4 + 2 + 1);
      assert.equal(report.processes.length, 4);
    }
    assert.deepEqual(leftovers(id), NOTHING);
    assert.deepEqual((await labDown(id)).namespaces, []);
  });

  for (const [signal, phase] of [
    ['SIGINT', 'probe'],
    ['SIGTERM', 'servers'],
  ] as const) {
    test(`${signal} during the ${phase} phase tears down and ends the process by the signal`, async () => {
      const id = testLabId(signal === 'SIGINT' ? 'i' : 'j');
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/lab/signal-child.ts', id], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, sig) => resolve({ code, signal: sig })));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d;
          if (out.split('\n').includes(phase)) resolve();
        });
        void exited.then(() => reject(new Error(`child exited early: ${out} ${err}`)));
      });
      child.kill(signal);
      const result = await exited;
      assert.deepEqual(result, { code: null, signal }, err);
      assert.ok(!out.includes('finished'));
      assert.deepEqual(leftovers(id), NOTHING);
    });
  }

  test('timing: 9 pods on 2 nodes, every pair probed on TCP and UDP', async (t) => {
    const pods = ['x', 'y', 'z'].flatMap((ns) => ['a', 'b', 'c'].map((name) => pod(`${ns}/${name}`, { pod: name })));
    const c = cluster({ namespaces: ['x', 'y', 'z'].map((n) => namespace(n)), pods });
    const t0 = performance.now();
    const open = await runLabReport(c, { id: testLabId('k'), nodes: 2, probes: TCP_UDP });
    const openMs = Math.round(performance.now() - t0);
    assert.equal(open.outcomes.length, 2 * 81);
    assert.deepEqual(denied(open.reachability, 0), []);
    const t1 = performance.now();
    const dropAll = forward('    ip saddr 10.244.0.0/16 ip daddr 10.244.0.0/16 drop');
    const closed = await runLabReport(c, { id: testLabId('l'), nodes: 2, probes: TCP_UDP, enforcer: staticEnforcer({ 'lab-node-0': dropAll, 'lab-node-1': dropAll }) });
    const closedMs = Math.round(performance.now() - t1);
    assert.equal(denied(closed.reachability, 0).length, 81 - 9);
    t.diagnostic(`9 pods / 2 nodes / 162 connections, all allowed: ${openMs} ms total (${JSON.stringify(open.timings)})`);
    t.diagnostic(`9 pods / 2 nodes / 162 connections, all but self dropped: ${closedMs} ms total (${JSON.stringify(closed.timings)})`);
    console.log(`# lab timing, all allowed: ${openMs} ms ${JSON.stringify(open.timings)}; all dropped: ${closedMs} ms ${JSON.stringify(closed.timings)}`);
  });

  test('with the compiled enforcer (src/nft), the kernel agrees with the engine on a small scenario, 1 and 2 nodes', async () => {
    const c = cluster({
      namespaces: [namespace('x'), namespace('y', { team: 'y' })],
      pods: [pod('x/a', { app: 'a' }, { ports: [{ name: 'web', port: 81, protocol: 'TCP' }] }), pod('x/b', { app: 'b' }), pod('y/a', { app: 'a' }), pod('y/b', { app: 'b' })],
      policies: [
        policy('x/only-from-y', {
          podSelector: { matchLabels: { app: 'a' } },
          ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'y' } } }], ports: [{ port: 'web' }, { port: 80, protocol: 'UDP' }] }],
        }),
        policy('y/no-egress', { podSelector: { matchLabels: { app: 'b' } }, policyTypes: ['Egress'] }),
      ],
    });
    const probes: LabProbe[] = [...TCP_UDP, { port: 'web', protocol: 'TCP' }];
    for (const nodes of [1, 2]) {
      const id = testLabId(`m${nodes}`);
      const r = await runLabReport(c, { id, nodes, probes, enforcer: compiledEnforcer() });
      const plan = planLab(c, { id, nodes });
      assert.deepEqual(r.reachability, reachability(new Engine(plan.cluster), sortPods(plan.cluster.pods), probes), `nodes=${nodes}`);
      assert.deepEqual(leftovers(id), NOTHING);
    }
  });
});
