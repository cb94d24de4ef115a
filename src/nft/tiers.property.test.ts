/**
 * Tier chains mean what the tier engine means, without a kernel: random mixes of ClusterNetworkPolicy
 * (both tiers), AdminNetworkPolicy, BaselineAdminNetworkPolicy and NetworkPolicy on two nodes, with Node
 * objects and host-network pods (the generator of the engine's tier property test, on pods with nodes).
 * For every ordered pair of endpoints, both families, TCP, UDP and SCTP and a spread of ports, the
 * interpreter's verdict over the rulesets of the nodes the packet crosses equals the engine's; a side
 * whose subject is a host-network pod is not enforced (its traffic is the node's), so only the other side
 * counts there. The seed is printed; replay a failure with NETPOL_SEED=<seed>.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Engine, externalEndpoint } from '../engine/index.js';
import { compileNode, interpret, NodeCompiler, renderDiff, renderRuleset, type Ruleset } from './index.js';
import { staged } from '../../test/builders.js';
import { NODE_ADDRESS, NODES, OUTSIDE, outsideEnd, podEnd, probes, PROBE_PROTOCOLS, tieredClusterArb, type End } from '../../test/fixtures/nft/clusters.js';

const SEED = Number(process.env.NETPOL_SEED ?? Date.now() % 1_000_000);

/** The engine's verdict on what the nodes enforce: a host-network pod's own side is not. */
function expected(engine: Engine, s: End, d: End, protocol: (typeof PROBE_PROTOCOLS)[number], port: number): boolean {
  const v = engine.evaluate({ source: s.endpoint, destination: d.endpoint, protocol, port });
  return (s.hostNetwork || v.egress.allowed) && (d.hostNetwork || v.ingress.allowed);
}

for (const denyAction of ['drop', 'reject'] as const) {
  test(`tier chains (${denyAction}) agree with the tier engine on every pair, family, protocol and port (seed ${SEED})`, () => {
    console.log(`nft tiers property test: seed ${SEED} (replay: NETPOL_SEED=${SEED} node scripts/run-tests.mjs nft/tiers.property)`);
    fc.assert(
      fc.property(tieredClusterArb, (c) => {
        const engine = new Engine(c);
        const rulesets = new Map<string, Ruleset>(NODES.map((n) => [n, compileNode(c, { node: n, denyAction, log: true }, engine)]));
        const pods = c.pods.filter((p) => p.ips.length > 0).map(podEnd);
        const ends = [...pods, ...OUTSIDE.map(outsideEnd)];
        for (const { s, d, packet, protocol, port, nodes } of probes(ends)) {
          const want = expected(engine, s, d, protocol, port);
          const outcomes = nodes.map((n) => interpret(rulesets.get(n)!, 'forward', packet));
          const actual = outcomes.every((o) => o.verdict === 'accept');
          const trace = outcomes.map((o) => o.trace.map((t) => `${t.chain}#${t.rule}${t.comment ? ` (${t.comment})` : ''}`).join(' > ')).join(' | ');
          assert.equal(actual, want, `${s.label} -> ${d.label} ${protocol}/${port} IPv${packet.family} via ${nodes.join(',')}: kernel ${actual}, engine ${want}; trace ${trace}`);
          if (!actual) assert.ok(outcomes.every((o) => o.verdict === 'accept' || o.verdict === (denyAction === 'drop' ? 'drop' : 'reject')));
        }
        // A pod talking to its own node goes through the input hook: egress only (`nodes` peers match it).
        for (const s of pods) {
          if (s.hostNetwork) continue;
          for (const [family, saddr] of s.addresses) {
            const node = outsideEnd(NODE_ADDRESS[family]);
            for (const protocol of PROBE_PROTOCOLS) {
              for (const port of [80, 9000]) {
                const v = engine.evaluate({ source: s.endpoint, destination: externalEndpoint(NODE_ADDRESS[family])!, protocol, port });
                const packet = { family, saddr, daddr: NODE_ADDRESS[family], protocol: protocol.toLowerCase(), dport: port };
                const actual = interpret(rulesets.get(s.node!)!, 'input', packet).verdict === 'accept';
                assert.equal(actual, v.egress.allowed, `${s.label} -> node ${node.label} ${protocol}/${port} IPv${family}`);
              }
            }
          }
        }
      }),
      { numRuns: 120, seed: SEED },
    );
  });
}

test(`tier chains: an updated compiler equals a fresh compile, and its diff is deterministic (seed ${SEED})`, () => {
  fc.assert(
    fc.property(tieredClusterArb, tieredClusterArb, (a, b) => {
      for (const node of NODES) {
        const compiler = new NodeCompiler({ node });
        const first = compiler.update(a);
        const next = compiler.update(b);
        assert.equal(renderRuleset(next), renderRuleset(compileNode(b, { node })));
        assert.equal(renderDiff(first, next) === '', renderRuleset(first) === renderRuleset(next));
        const reversed = compileNode({ ...b, clusterPolicies: [...(b.clusterPolicies ?? [])].reverse() }, { node });
        assert.equal(renderRuleset(reversed), renderRuleset(next));
      }
    }),
    { numRuns: 100, seed: SEED },
  );
});

/**
 * Staged policies among the tiers, NetworkPolicies and cluster-scoped ones: enforced, they do not exist (a
 * side only staged NetworkPolicies isolate goes on to the baseline tier; a staged cluster policy's rules
 * decide nothing); exactly one audit log runs on a side that is allowed today and would be denied with
 * them enforcing (the engine's `withAudit` view), and none elsewhere. Under the agent's `--mode audit`
 * every policy is staged: everything passes, and the audits are the full view's denials.
 */
for (const mode of ['enforce', 'audit'] as const) {
  test(`tier chains with staged NetworkPolicies and cluster policies (--mode ${mode}): enforced verdicts and audit logs agree with the engine (seed ${SEED})`, () => {
    fc.assert(
      fc.property(tieredClusterArb, fc.array(fc.boolean(), { maxLength: 6 }), fc.array(fc.boolean(), { maxLength: 6 }), (written, which, whichCluster) => {
        const c =
          mode === 'audit'
            ? staged(
                written,
                written.policies.map(() => true),
                (written.clusterPolicies ?? []).map(() => true),
              )
            : staged(written, which, whichCluster);
        const engine = new Engine(c);
        const withAudit = engine.withAudit();
        const rulesets = new Map<string, Ruleset>(NODES.map((n) => [n, compileNode(mode === 'audit' ? written : c, { node: n, mode }, mode === 'audit' ? undefined : engine)]));
        const pods = c.pods.filter((p) => p.ips.length > 0).map(podEnd);
        const ends = [...pods, ...OUTSIDE.map(outsideEnd)];
        for (const { s, d, packet, protocol, port, nodes } of probes(ends)) {
          const t = { source: s.endpoint, destination: d.endpoint, protocol, port };
          const today = engine.evaluate(t);
          const once = withAudit.evaluate(t);
          let verdict = 'accept';
          const audited: string[] = [];
          const trace: string[] = [];
          for (const n of nodes) {
            const out = interpret(rulesets.get(n)!, 'forward', packet);
            audited.push(...out.audited);
            trace.push(out.trace.map((x) => `${x.chain}#${x.rule}`).join(' > '));
            verdict = out.verdict;
            if (verdict !== 'accept') break;
          }
          const label = `${s.label} -> ${d.label} ${protocol}/${port} IPv${packet.family}`;
          assert.equal(verdict === 'accept', expected(engine, s, d, protocol, port), `${label}: kernel ${verdict}; trace ${trace.join(' | ')}`);
          // The source's node checks egress; the destination's node sees the packet when that let it through.
          const egressAudited = s.node !== undefined && !s.hostNetwork && today.egress.allowed && !once.egress.allowed;
          const reaches = s.node === undefined || s.hostNetwork || today.egress.allowed;
          const ingressAudited = d.node !== undefined && !d.hostNetwork && reaches && today.ingress.allowed && !once.ingress.allowed;
          assert.equal(audited.length, Number(egressAudited) + Number(ingressAudited), `${label}: audit logs ${JSON.stringify(audited)}; trace ${trace.join(' | ')}`);
        }
      }),
      { numRuns: 60, seed: SEED },
    );
  });
}

test(`tier chains: switching staged policies to enforce (and back) updates to what a fresh compile gives (seed ${SEED})`, () => {
  fc.assert(
    fc.property(tieredClusterArb, fc.array(fc.boolean(), { maxLength: 6 }), fc.array(fc.boolean(), { maxLength: 6 }), (written, which, whichCluster) => {
      const c = staged(written, which, whichCluster);
      for (const node of NODES) {
        const compiler = new NodeCompiler({ node });
        const first = compiler.update(c);
        assert.equal(renderRuleset(compiler.update(written)), renderRuleset(compileNode(written, { node })));
        assert.equal(renderRuleset(compiler.update(c)), renderRuleset(first));
      }
    }),
    { numRuns: 60, seed: SEED },
  );
});
