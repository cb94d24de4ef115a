/**
 * The compiled rulesets mean what the engine means, without a kernel: random clusters on two nodes, every
 * ordered pair of endpoints (pods of either node, outside addresses, the node itself), every address family
 * both ends have, TCP, UDP and SCTP, a spread of ports. A connection passes when every node it crosses
 * accepts its first packet (the source's node checks egress, the destination's node ingress; one node
 * checks both when both pods are local), as the IR interpreter evaluates the rulesets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Engine, externalEndpoint, type SideResult } from '../engine/index.js';
import { subjectChainName } from './names.js';
import { staged } from '../../test/builders.js';
import { parseIP } from '../ip/index.js';
import { compileNode, interpret, renderDiff, renderRuleset, type Ruleset } from './index.js';
import { clusterArb, NODE_ADDRESS, NODES, OUTSIDE, outsideEnd, podEnd, probes, PROBE_PROTOCOLS } from '../../test/fixtures/nft/clusters.js';

for (const denyAction of ['drop', 'reject'] as const) {
  test(`compiled rulesets (${denyAction}) agree with the engine on every pair, family, protocol and port`, () => {
    fc.assert(
      fc.property(clusterArb, (c) => {
        const engine = new Engine(c);
        const rulesets = new Map<string, Ruleset>(NODES.map((n) => [n, compileNode(c, { node: n, denyAction, log: true }, engine)]));
        const pods = c.pods.filter((p) => p.ips.length > 0).map(podEnd);
        const ends = [...pods, ...OUTSIDE.map(outsideEnd)];
        for (const { s, d, packet, protocol, port, nodes } of probes(ends)) {
          const expected: boolean = engine.allows({ source: s.endpoint, destination: d.endpoint, protocol, port });
          const verdicts: string[] = nodes.map((n): string => interpret(rulesets.get(n)!, 'forward', packet).verdict);
          const actual: boolean = verdicts.every((v) => v === 'accept');
          assert.equal(actual, expected, `${s.label} -> ${d.label} ${protocol}/${port} IPv${packet.family} via ${nodes.join(',')}: kernel ${verdicts.join(',')}, engine ${expected}`);
          if (!actual) assert.ok(verdicts.every((v) => v === 'accept' || v === (denyAction === 'drop' ? 'drop' : 'reject')));
        }
        // A pod talking to its own node goes through the input hook: egress rules only.
        for (const s of pods) {
          for (const [family, saddr] of s.addresses) {
            const node = externalEndpoint(NODE_ADDRESS[family])!;
            for (const protocol of PROBE_PROTOCOLS) {
              for (const port of [80, 9000]) {
                const expected = engine.allows({ source: s.endpoint, destination: node, protocol, port });
                const packet = { family, saddr, daddr: NODE_ADDRESS[family], protocol: protocol.toLowerCase(), dport: port };
                const actual = interpret(rulesets.get(s.node!)!, 'input', packet).verdict === 'accept';
                assert.equal(actual, expected, `${s.label} -> node ${protocol}/${port} IPv${family}`);
              }
            }
          }
        }
      }),
      { numRuns: 150 },
    );
  });
}

test('established and related packets pass whatever the policies say', () => {
  fc.assert(
    fc.property(clusterArb, (c) => {
      for (const node of NODES) {
        const rs = compileNode(c, { node });
        for (const p of c.pods.filter((x) => x.nodeName === node && x.ips.length > 0)) {
          const ip = parseIP(p.ips[0]!)!;
          for (const ct of ['established', 'related'] as const) {
            const packet = { family: ip.family, saddr: p.ips[0]!, daddr: OUTSIDE[ip.family === 4 ? 0 : 4]!, protocol: 'tcp', dport: 1, ct };
            assert.equal(interpret(rs, 'forward', packet).verdict, 'accept');
          }
        }
      }
    }),
    { numRuns: 50 },
  );
});

test('compiling is deterministic and a ruleset diffs to nothing against itself', () => {
  fc.assert(
    fc.property(clusterArb, (c) => {
      for (const node of NODES) {
        const a = compileNode(c, { node, denyAction: 'reject' });
        const b = compileNode({ ...c, pods: [...c.pods].reverse(), policies: [...c.policies].reverse() }, { node, denyAction: 'reject' });
        assert.equal(renderRuleset(a), renderRuleset(b));
        assert.equal(renderDiff(a, b), '');
      }
    }),
    { numRuns: 100 },
  );
});

/**
 * Audit mode: random policies staged. Each packet goes through the source's node, then (if it was
 * accepted there) the destination's node. It passes exactly when the engine's enforced view allows it,
 * and the audit tail of a side runs exactly when that side allows it today but would deny it with the
 * staged policies enforcing, in the chain named after the staged policies that isolate the subject.
 */
test('compiled rulesets with staged policies: enforced verdicts and audit tails agree with the engine', () => {
  fc.assert(
    fc.property(clusterArb, fc.array(fc.boolean(), { maxLength: 5 }), (written, which) => {
      const c = staged(written, which);
      const engine = new Engine(c);
      const audit = engine.withAudit();
      const rulesets = new Map<string, Ruleset>(NODES.map((n) => [n, compileNode(c, { node: n }, engine)]));
      const pods = c.pods.filter((p) => p.ips.length > 0).map(podEnd);
      const ends = [...pods, ...OUTSIDE.map(outsideEnd)];
      /** The chain a side's audit tail runs in: named after the policies isolating the subject, all staged. */
      const auditChain = (side: SideResult, today: SideResult): string[] =>
        today.allowed && !side.allowed
          ? [
              subjectChainName(
                side.direction,
                side.policies.map((p) => `${p.policy.namespace}/${p.policy.name}`),
              ),
            ]
          : [];
      for (const { s, d, packet, protocol, port, nodes } of probes(ends)) {
        const traffic = { source: s.endpoint, destination: d.endpoint, protocol, port };
        const label = `${s.label} -> ${d.label} ${protocol}/${port} IPv${packet.family}`;
        const today = engine.evaluate(traffic);
        const once = audit.evaluate(traffic);
        let verdict = 'accept';
        const audited: string[] = [];
        for (const n of nodes) {
          const out = interpret(rulesets.get(n)!, 'forward', packet);
          audited.push(...out.audited);
          verdict = out.verdict;
          if (verdict !== 'accept') break;
        }
        assert.equal(verdict === 'accept', today.allowed, `${label}: kernel ${verdict}, engine ${today.allowed}`);
        const expected = [
          ...(s.node !== undefined ? auditChain(once.egress, today.egress) : []),
          // The destination's node sees the packet only when the source's side let it through.
          ...(d.node !== undefined && today.egress.allowed ? auditChain(once.ingress, today.ingress) : []),
        ];
        assert.deepEqual(audited, expected, `${label}: audit tails`);
        if (today.allowed) assert.equal(audited.length > 0, !once.allowed, `${label}: audited exactly when a staged policy would deny it`);
      }
      // Pod -> its own node (input hook, egress only).
      for (const s of pods) {
        for (const [family, saddr] of s.addresses) {
          const t = { source: s.endpoint, destination: externalEndpoint(NODE_ADDRESS[family])!, protocol: 'TCP' as const, port: 80 };
          const out = interpret(rulesets.get(s.node!)!, 'input', { family, saddr, daddr: NODE_ADDRESS[family], protocol: 'tcp', dport: 80 });
          assert.equal(out.verdict === 'accept', engine.allows(t), `${s.label} -> node`);
          assert.deepEqual(out.audited, auditChain(audit.evaluate(t).egress, engine.evaluate(t).egress), `${s.label} -> node: audit tails`);
        }
      }
    }),
    { numRuns: 100 },
  );
});
