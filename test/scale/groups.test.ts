/** Group questions and the matrix summary, against brute force. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ScaleEngine, groupReachability, matrixSummary, withPods } from '../../src/scale/index.js';
import { oracleAllows } from '../../src/engine/oracle.js';
import { Engine, podEndpoint } from '../../src/engine/engine.js';
import type { PodInfo } from '../../src/model/cluster.js';
import { PROBE_PORTS, PROBE_PROTOCOLS, clusterArb } from '../arbitraries.js';

describe('group questions', () => {
  test('groupReachability counts every pair of distinct pods as the oracle does', () => {
    fc.assert(
      fc.property(clusterArb, fc.nat(), fc.nat(), fc.constantFrom<number | string | undefined>(...PROBE_PORTS, undefined), fc.constantFrom(...PROBE_PROTOCOLS), (c, a, b, port, protocol) => {
        const engineRef = new Engine(c);
        const ref = (s: PodInfo, d: PodInfo): boolean =>
          port === undefined ? engineRef.allows({ source: podEndpoint(s), destination: podEndpoint(d), protocol }) : oracleAllows(c, podEndpoint(s), podEndpoint(d), protocol, port);
        const engine = new ScaleEngine(c);
        // Two overlapping groups: every k-th pod from different offsets.
        const src = c.pods.filter((_, i) => (i + a) % 2 === 0 || i % 3 === 0);
        const dst = c.pods.filter((_, i) => (i + b) % 2 === 0);
        let pairs = 0;
        let allowed = 0;
        for (const s of new Set(src)) {
          for (const d of new Set(dst)) {
            if (s === d) continue;
            pairs++;
            if (ref(s, d)) allowed++;
          }
        }
        const got = groupReachability(engine, src, dst, { protocol, ...(port !== undefined ? { port } : {}) })!;
        assert.equal(got.pairs, pairs);
        assert.equal(got.allowed, allowed);
        if (got.allowedExample) assert.equal(ref(...got.allowedExample), true);
        if (got.deniedExample) assert.equal(ref(...got.deniedExample), false);
        assert.equal(got.allowedExample === undefined, allowed === 0);
        assert.equal(got.deniedExample === undefined, allowed === pairs);
      }),
      { numRuns: 300 },
    );
  });

  test('matrixSummary gives the issue JSON shape; a namespace subset is summarised by filtering pods', () => {
    fc.assert(
      fc.property(clusterArb, (c) => {
        const probes = [
          { port: 80, protocol: 'TCP' as const },
          { port: 'dns', protocol: 'UDP' as const },
        ];
        const sub = withPods(c, (p) => p.namespace === 'x');
        const summary = matrixSummary(new ScaleEngine(sub), probes);
        assert.equal(summary.pods, sub.pods.length);
        for (const [k, p] of probes.entries()) {
          let n = 0;
          for (const s of sub.pods) for (const d of sub.pods) if (s !== d && oracleAllows(c, podEndpoint(s), podEndpoint(d), p.protocol, p.port)) n++;
          assert.deepEqual(summary.probes[k], { port: p.port, protocol: p.protocol, allowedPairs: n });
        }
      }),
      { numRuns: 100 },
    );
  });
});
