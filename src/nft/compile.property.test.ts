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
import { Engine, externalEndpoint, podEndpoint } from '../engine/index.js';
import type { Endpoint } from '../engine/index.js';
import { parseIP, type Family } from '../ip/index.js';
import type { PodInfo } from '../model/index.js';
import { podKey } from '../model/index.js';
import { compileNode, interpret, renderDiff, renderRuleset, type Packet, type Ruleset } from './index.js';
import { clusterArb, NODE_ADDRESS, NODES, OUTSIDE, PROBE_PORTS, PROBE_PROTOCOLS } from '../../test/fixtures/nft/clusters.js';

interface End {
  readonly endpoint: Endpoint;
  readonly node?: string;
  readonly addresses: ReadonlyMap<Family, string>;
  readonly label: string;
}

function podEnd(p: PodInfo): End {
  const addresses = new Map<Family, string>();
  for (const t of p.ips) {
    const ip = parseIP(t);
    if (ip) addresses.set(ip.family, t);
  }
  return { endpoint: podEndpoint(p), ...(p.nodeName ? { node: p.nodeName } : {}), addresses, label: podKey(p) };
}

function outsideEnd(text: string): End {
  const ip = parseIP(text)!;
  return { endpoint: externalEndpoint(text)!, addresses: new Map([[ip.family, text]]), label: text };
}

for (const denyAction of ['drop', 'reject'] as const) {
  test(`compiled rulesets (${denyAction}) agree with the engine on every pair, family, protocol and port`, () => {
    fc.assert(
      fc.property(clusterArb, (c) => {
        const engine = new Engine(c);
        const rulesets = new Map<string, Ruleset>(NODES.map((n) => [n, compileNode(c, { node: n, denyAction, log: true }, engine)]));
        const pods = c.pods.filter((p) => p.ips.length > 0).map(podEnd);
        const ends = [...pods, ...OUTSIDE.map(outsideEnd)];
        for (const s of ends) {
          for (const d of ends) {
            if (s === d || (s.node === undefined && d.node === undefined)) continue;
            for (const [family, saddr] of s.addresses) {
              const daddr = d.addresses.get(family);
              if (daddr === undefined) continue;
              const nodes = [...new Set([s.node, d.node].filter((n): n is string => n !== undefined))];
              for (const protocol of PROBE_PROTOCOLS) {
                for (const port of PROBE_PORTS) {
                  const expected: boolean = engine.allows({ source: s.endpoint, destination: d.endpoint, protocol, port });
                  const packet: Packet = { family, saddr, daddr, protocol: protocol.toLowerCase(), dport: port };
                  const verdicts: string[] = nodes.map((n): string => interpret(rulesets.get(n)!, 'forward', packet).verdict);
                  const actual: boolean = verdicts.every((v) => v === 'accept');
                  assert.equal(actual, expected, `${s.label} -> ${d.label} ${protocol}/${port} IPv${family} via ${nodes.join(',')}: kernel ${verdicts.join(',')}, engine ${expected}`);
                  if (!actual) assert.ok(verdicts.every((v) => v === 'accept' || v === (denyAction === 'drop' ? 'drop' : 'reject')));
                }
              }
            }
          }
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
