/**
 * The proof that the kernel does what the engine predicts: for every scenario of the corpus (and seeded
 * random ones), on 1 node and on 2 nodes, the lab (real agents, real nftables, real TCP and UDP
 * connections between network namespaces) and the engine agree on every ordered pair of pods, for
 * TCP/80, TCP/81, UDP/80 and UDP/81. One lab per node count is built once; scenarios are applied to it
 * live through the agents, so every scenario after the first also exercises incremental updates.
 * Needs root, ip, nft and conntrack; skipped otherwise with the reason.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import { reachability, sortPods, type Reachability } from '../../src/engine/matrix.js';
import { agentEnforcer, checkPrerequisites, Lab, type AgentEnforcer } from '../../src/lab/index.js';
import { leftovers, NOTHING, testLabId } from '../lab/helpers.js';
import { clusterWith, listScenarios, PROBES, randomScenario } from './corpus.js';

const missing = checkPrerequisites(['ip', 'nft', 'conntrack']).missing;
const skip = missing.length > 0 ? `the lab needs ${missing.join('; ')}` : false;
/** Random scenarios per node count, on top of the hand-written ones (NETPOL_RANDOM_SCENARIOS to change). */
const RANDOM = Number(process.env.NETPOL_RANDOM_SCENARIOS ?? 10);
/** Seeds differ per run unless NETPOL_SEED is given; a failure prints the seed to replay. */
const SEED = Number(process.env.NETPOL_SEED ?? Date.now() % 100_000);

/** The pairs on which lab and engine disagree, readable. */
function disagreements(lab: Reachability, engine: Reachability): string[] {
  const out: string[] = [];
  engine.probes.forEach((p, k) =>
    p.allowed.forEach((row, i) =>
      row.forEach((want, j) => {
        const got = lab.probes[k]?.allowed[i]?.[j];
        if (got !== want) out.push(`${engine.pods[i]} -> ${engine.pods[j]} ${p.protocol}/${p.port}: engine ${want ? 'allows' : 'denies'}, kernel ${got ? 'allowed' : 'denied'}`);
      }),
    ),
  );
  return out;
}

for (const nodes of [1, 2]) {
  describe(`lab on ${nodes} node${nodes > 1 ? 's' : ''} agrees with the engine`, { skip }, () => {
    const id = testLabId(`d${nodes}`);
    let lab: Lab;
    let enforcer: AgentEnforcer;
    before(async () => {
      // Probes open new connections only; cutting revoked ones is proven in test/lab/agent.test.ts, and
      // here it would spend its time deleting the previous scenario's probe flows (flushed below).
      enforcer = agentEnforcer({ existingConnections: 'keep' });
      lab = await Lab.create(clusterWith(''), { id, nodes, enforcer });
    });
    after(async () => {
      await lab?.destroy();
      assert.deepEqual(leftovers(id), NOTHING);
    });

    const check = async (t: TestContext, name: string, policies: string) => {
      await enforcer.setPolicies(policies);
      // Each scenario is about new connections: start it with no connection tracked. (With flows left
      // over, a UDP probe whose random source port repeats an earlier allowed flow rides that flow.)
      const flush = async () => {
        for (const node of lab.layout.nodes) await lab.exec(node.netns, ['conntrack', '-F']);
      };
      await flush();
      const withPolicies = { ...lab.cluster, policies: clusterWith(policies, name).policies };
      const predicted = reachability(new Engine(withPolicies), sortPods(withPolicies.pods), PROBES);
      let measured = await lab.probe(PROBES, { tcpTimeoutMs: 500, udpTimeoutMs: 500 });
      assert.deepEqual(measured.reachability.pods, predicted.pods);
      let wrong = disagreements(measured.reachability, predicted);
      // A probe is "denied" when no answer came within 500 ms; on a loaded machine an allowed connection
      // can take longer. When every disagreement is of that kind, all probes run again with generous
      // timeouts (said in the output); a probe the kernel let through that the engine denies is never
      // retried, and a drop stays a drop however long one waits.
      if (wrong.length > 0 && wrong.every((w) => w.endsWith('kernel denied'))) {
        t.diagnostic(`probed again with 5 s timeouts after ${wrong.length} slow answer(s): ${wrong.slice(0, 3).join('; ')}`);
        await flush();
        measured = await lab.probe(PROBES, { tcpTimeoutMs: 5000, udpTimeoutMs: 5000 });
        wrong = disagreements(measured.reachability, predicted);
      }
      assert.deepEqual(wrong, [], `${name} on ${nodes} node(s)`);
    };

    for (const s of listScenarios()) test(s.name, (t) => check(t, s.name, s.policiesText));
    for (let k = 0; k < RANDOM; k++) {
      const seed = SEED + k;
      test(`random scenario, seed ${seed} (replay: NETPOL_SEED=${seed} NETPOL_RANDOM_SCENARIOS=1)`, (t) => check(t, `random-${seed}`, randomScenario(seed)));
    }
  });
}
