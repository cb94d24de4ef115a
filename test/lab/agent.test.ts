/**
 * Enforcement by the real agent (`netpol agent`, one process per lab node), proven with real packets:
 * the kernel agrees with the engine before and after a live policy change, a change that revokes an
 * open connection cuts it within a second, restarting an agent with rules in place opens no window, and
 * an agent killed between its transaction and its conntrack check leaves no revoked connection open
 * once restarted. Needs root, ip, nft and conntrack; skipped otherwise with the reason.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.js';
import { reachability, sortPods } from '../../src/engine/matrix.js';
import type { Lab } from '../../src/lab/index.js';
import { agentLabSkip, clusterOf, TCP_UDP_80 as PROBES, twoNamespaces, withAgentLab } from './helpers.js';

const skip = agentLabSkip();

const BASE = twoNamespaces(['x/a', 'x/b', 'y/c'], '10.77');

/** a accepts only b (TCP and UDP 80). */
const ONLY_B = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-from-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]
`;
/** Nothing in x accepts anything. */
const DENY_X = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress]}
`;

const clusterWith = (policies: string) => clusterOf(BASE, policies);

/** What the engine predicts for the lab's own cluster (lab IPs, lab nodes) with these policies. */
function predicted(lab: Lab, policies: string) {
  const withPolicies = { ...lab.cluster, policies: clusterWith(policies).policies };
  return reachability(new Engine(withPolicies), sortPods(withPolicies.pods), PROBES);
}

describe('the agent enforces in the lab', { skip }, () => {
  test('the kernel agrees with the engine, before and after a live policy change, on 2 nodes', async () => {
    await withAgentLab('ag', clusterWith(ONLY_B), {}, async (lab, enforcer) => {
      const first = await lab.probe(PROBES);
      assert.deepEqual(first.reachability, predicted(lab, ONLY_B));
      assert.equal(first.reachability.probes[0]?.allowed[2]?.[0], false, 'y/c -> x/a denied');
      await enforcer.setPolicies(DENY_X);
      const second = await lab.probe(PROBES);
      assert.deepEqual(second.reachability, predicted(lab, DENY_X));
      assert.ok(
        enforcer.events.some((e) => e.kind === 'applied' && /incremental/.test(e.message)),
        'the change was applied incrementally',
      );
    });
  });

  for (const mode of ['cut', 'keep'] as const) {
    test(`a change that revokes an open connection: --existing-connections=${mode}`, async () => {
      await withAgentLab(mode === 'cut' ? 'rc' : 'rk', clusterWith(ONLY_B), { existingConnections: mode }, async (lab, enforcer) => {
        const held = await lab.hold('x/b', 'x/a', 80, 'TCP');
        assert.equal(held.result, 'connected');
        assert.equal(await held.check(), 'connected');
        await enforcer.setPolicies(DENY_X);
        // "connections will be terminated immediately": within a second of the change.
        const after = await held.check(1000);
        if (mode === 'cut') assert.notEqual(after, 'connected', 'the revoked connection must be cut');
        else assert.equal(after, 'connected', 'keep: the established connection lives on');
        if (mode === 'cut') assert.ok(enforcer.events.some((e) => e.kind === 'cut'));
        const fresh = await lab.probe([PROBES[0]!]);
        assert.deepEqual(fresh.reachability, firstProbe(predicted(lab, DENY_X)), 'new connections follow the new rules either way');
        await held.release();
      });
    });
  }

  test('restarting an agent with rules in place opens no window: isolated pods stay closed throughout', async () => {
    await withAgentLab('rs', clusterWith(DENY_X), {}, async (lab, enforcer) => {
      const node = lab.cluster.pods.find((p) => p.name === 'a')?.nodeName;
      assert.ok(node);
      let done = false;
      let rounds = 0;
      const leaks: string[] = [];
      const prober = (async () => {
        while (!done) {
          const r = await lab.probe(PROBES, { tcpTimeoutMs: 300, udpTimeoutMs: 300 });
          rounds++;
          const pods = r.reachability.pods;
          r.reachability.probes.forEach((p) =>
            p.allowed.forEach((row, i) =>
              row.forEach((ok, j) => {
                if (ok && i !== j && pods[j]?.startsWith('x/')) leaks.push(`${pods[i]} -> ${pods[j]} ${p.protocol}/${p.port}`);
              }),
            ),
          );
        }
      })();
      for (let k = 0; k < 3; k++) await enforcer.restart(node);
      done = true;
      await prober;
      assert.ok(rounds >= 1, 'probes ran during the restarts');
      assert.deepEqual(leaks, []);
      const restarted = enforcer.events.filter((e) => e.node === node && (e.kind === 'applied' || e.kind === 'unchanged'));
      assert.equal(restarted.at(-1)?.kind, 'unchanged', 'a restarted agent finds its rules in the kernel and applies nothing');
    });
  });
});

describe('the agent killed in its kill window', { skip }, () => {
  test('killed after its rules went in and before its conntrack check: the restarted agent cuts the revoked connection', async () => {
    // The agents find a `conntrack` first on their PATH that, while `hang` exists, never answers (and
    // says its pid): the moment of the kill is the one in which the check runs.
    const tools = mkdtempSync(join(tmpdir(), 'netpol-tools-'));
    const real = execFileSync('sh', ['-c', 'command -v conntrack'], { encoding: 'utf8' }).trim();
    writeFileSync(join(tools, 'conntrack'), `#!/bin/sh\nif [ -e '${tools}/hang' ]; then echo $$ >> '${tools}/hung'; exec sleep 600; fi\nexec '${real}' "$@"\n`, { mode: 0o755 });
    const hung = () => (existsSync(join(tools, 'hung')) ? readFileSync(join(tools, 'hung'), 'utf8').split('\n').filter(Boolean).map(Number) : []);
    try {
      await withAgentLab('kw', clusterWith(ONLY_B), { env: { ...process.env, PATH: `${tools}:${process.env.PATH ?? ''}` } }, async (lab, enforcer) => {
        try {
          const node = lab.layout.nodes.find((n) => n.name === lab.cluster.pods.find((p) => p.name === 'a')?.nodeName);
          assert.ok(node);
          const held = await lab.hold('x/b', 'x/a', 80, 'TCP');
          assert.equal(held.result, 'connected');
          writeFileSync(join(tools, 'hang'), '');
          // The change, without waiting for the agents (their checks never finish).
          writeFileSync(join(enforcer.dir, '..', 'policies.staged'), DENY_X);
          renameSync(join(enforcer.dir, '..', 'policies.staged'), join(enforcer.dir, 'policies.yaml'));
          const table = () => execFileSync('ip', ['netns', 'exec', node.netns, 'nft', 'list', 'table', 'inet', 'netpol'], { encoding: 'utf8' });
          while (!/x\/deny/.test(table()) || hung().length === 0) await new Promise((r) => setTimeout(r, 20));
          assert.equal(await held.check(), 'connected', 'the rules deny it, and yet it flows: the check has not run');
          rmSync(join(tools, 'hang'));
          await enforcer.restart(node.name);
          assert.notEqual(await held.check(1000), 'connected', 'the restarted agent cut it');
          const restarted = enforcer.events.filter((e) => e.node === node.name && ['cut', 'applied', 'unchanged'].includes(e.kind)).slice(-2);
          assert.deepEqual(
            restarted.map((e) => e.kind),
            ['cut', 'unchanged'],
            'nothing to apply, and still the check ran first',
          );
          await held.release();
        } finally {
          // The other agent's check is still hanging: let it fail (and retry with the real conntrack)
          // before the lab goes.
          for (const pid of hung()) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        }
      });
    } finally {
      rmSync(tools, { recursive: true, force: true });
    }
  });
});

function firstProbe(r: ReturnType<typeof reachability>) {
  return { pods: r.pods, probes: r.probes.slice(0, 1) };
}
