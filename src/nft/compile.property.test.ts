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
import { Engine, externalEndpoint } from '../engine/engine.js';
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
