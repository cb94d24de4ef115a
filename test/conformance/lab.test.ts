/**
 * The network-policy-api conformance cases on real packets: one lab holds the conformance cluster
 * (base.yaml: ten pods, replica 0 on lab-node-0, replica 1 on lab-node-1, the host-network centaurs with
 * their node's address), and every case walks through its states as in the engine test. At each state the
 * compiled rulesets (src/nft, tier chains) are loaded into both lab nodes in one transaction each, conntrack
 * is flushed, and every ordered pair of pods is probed on the TCP and UDP ports the state's probes use:
 * each upstream probe must get the upstream expectation, and every pair the engine's verdict.
 *
 * SCTP probes are not run: this kernel has no SCTP sockets (docs/semantics.md); the engine test covers
 * them, and `nft -c` accepts the SCTP rules (src/nft/nft.kernel.test.ts). Needs root, ip, nft and
 * conntrack; skipped with the reason printed otherwise.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, reachability, sortPods, type Probe } from '../../src/engine/index.js';
import { podKey, type Cluster, type Protocol } from '../../src/model/index.js';
import { checkPrerequisites, Lab, type Enforcer, type LabHandle } from '../../src/lab/index.js';
import { compileNode, renderRuleset } from '../../src/nft/index.js';
import { applyStep, initialState, loadCases, PROBE, type Case } from './cases.js';
import { NOTHING, leftovers, testLabId } from '../lab/helpers.js';

const TOOLS = ['ip', 'nft', 'conntrack'];
const prerequisites = checkPrerequisites(TOOLS);
const skip = prerequisites.missing.length > 0 ? `the conformance lab needs ${prerequisites.missing.join('; ')}` : undefined;
if (skip) console.log(`# skipping the conformance cases in the lab: ${skip}`);

/** Loads the rulesets itself (state by state), so the "enforcer" only hands over the lab. */
function manual(): Enforcer & { readonly lab: () => LabHandle } {
  let handle: LabHandle | undefined;
  return {
    name: 'conformance',
    requires: TOOLS,
    async start(lab) {
      handle = lab;
    },
    async stop() {},
    lab: () => handle!,
  };
}

/** Puts one state in force: each node's compiled ruleset (full form: one transaction), then an empty conntrack table. */
async function enforce(lab: LabHandle, state: Cluster): Promise<void> {
  const tools = prerequisites.tools;
  const labPods = new Map(lab.cluster.pods.map((p) => [podKey(p), p]));
  assert.deepEqual([...state.pods.map(podKey)].sort(), [...labPods.keys()].sort(), 'a change of pods: the lab holds base.yaml only');
  const cluster: Cluster = { ...state, pods: state.pods.map((p) => labPods.get(podKey(p))!) };
  for (const node of lab.layout.nodes) {
    await lab.exec(node.netns, [tools.nft!, '-f', '-'], { input: renderRuleset(compileNode(cluster, { node: node.name, denyAction: 'reject' })) });
    // Each probe opens a new connection, but a UDP 4-tuple may come back: nothing allowed earlier carries over.
    await lab.exec(node.netns, [tools.conntrack!, '-F']);
  }
}

interface Outcome {
  probes: number;
  sctp: number;
  readonly mismatches: string[];
}

/** Runs one case in the lab: probes of each state, against upstream and against the engine. */
async function runCase(lab: Lab, handle: LabHandle, c: Case): Promise<Outcome> {
  const state = initialState(c);
  let cluster = state.cluster(`${c.name} (initial state)`);
  let enforced = false;
  let pending: { step: string; protocol: Protocol; port: number; expect: boolean; from: string; to: string }[] = [];
  const out: Outcome = { probes: 0, sctp: 0, mismatches: [] };
  let changes = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    if (!enforced) await enforce(handle, cluster);
    enforced = true;
    const probes: Probe[] = [...new Map(pending.map((p) => [`${p.protocol}/${p.port}`, { port: p.port, protocol: p.protocol }])).values()];
    const report = await lab.probe(probes, { tcpTimeoutMs: 1000, udpTimeoutMs: 1000 });
    const r = report.reachability;
    const labCluster = { ...cluster, pods: handle.cluster.pods };
    const engine = reachability(new Engine(labCluster), sortPods(labCluster.pods), probes);
    probes.forEach((probe, k) => {
      r.pods.forEach((from, i) =>
        r.pods.forEach((to, j) => {
          const kernel = r.probes[k]!.allowed[i]![j]!;
          const want = engine.probes[k]!.allowed[i]![j]!;
          if (kernel !== want) out.mismatches.push(`${from} -> ${to} ${probe.protocol}/${probe.port}: kernel ${kernel ? 'connect' : 'blocked'}, engine ${want ? 'connect' : 'blocked'} (after ${changes} changes)`);
        }),
      );
    });
    for (const p of pending) {
      const k = probes.findIndex((x) => x.protocol === p.protocol && x.port === p.port);
      const got = r.probes[k]!.allowed[r.pods.indexOf(p.from)]![r.pods.indexOf(p.to)]!;
      out.probes++;
      if (got !== p.expect) out.mismatches.push(`${p.step}: the lab says ${got ? 'connect' : 'blocked'} (after ${changes} changes)`);
    }
    pending = [];
  };
  for (const step of c.steps) {
    if ('test' in step) continue;
    if ('probe' in step) {
      const m = PROBE.exec(step.probe);
      assert.ok(m, `${c.name}: cannot parse probe ${JSON.stringify(step.probe)}`);
      if (m[5] === 'SCTP') {
        out.sctp++;
        continue;
      }
      pending.push({ step: step.probe, protocol: m[5] as Protocol, port: Number(m[6]), expect: m[7] === 'connect', from: `${m[1]}/${m[2]}`, to: `${m[3]}/${m[4]}` });
      continue;
    }
    await flush();
    applyStep(state, step);
    changes++;
    cluster = state.cluster(`${c.name} after change ${changes}`);
    enforced = false;
  }
  await flush();
  return out;
}

describe('network-policy-api conformance in the lab (real packets, TCP and UDP)', { skip }, () => {
  test('every translated case: each upstream probe as expected, every pair as the engine says', async (t) => {
    const cases = [...loadCases('v1alpha2'), ...loadCases('v1alpha1')];
    const enforcer = manual();
    const id = testLabId('cf');
    const lab = await Lab.create(initialState(cases[0]!.case).cluster('base'), { id, nodes: 2, enforcer });
    let probes = 0;
    let sctp = 0;
    const failures: string[] = [];
    try {
      for (const { case: c } of cases) {
        const r = await runCase(lab, enforcer.lab(), c);
        probes += r.probes;
        sctp += r.sctp;
        failures.push(...r.mismatches.map((m) => `${c.name}: ${m}`));
      }
    } finally {
      await lab.destroy();
    }
    t.diagnostic(`${cases.length} cases, ${probes} upstream probes on real packets (${sctp} SCTP probes not run: no SCTP sockets here)`);
    console.log(`# conformance lab: ${cases.length} cases, ${probes} upstream TCP/UDP probes run, ${sctp} SCTP probes left to the engine test`);
    assert.deepEqual(failures.slice(0, 40), [], `${failures.length} disagreements`);
    assert.equal(probes + sctp, 590, 'every upstream probe is accounted for');
    assert.deepEqual(leftovers(id), NOTHING);
  });
});
