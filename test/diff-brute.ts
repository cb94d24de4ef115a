/** The diff by brute force, for the diff property tests: every ordered pair of common pods, both verdicts. */
import assert from 'node:assert/strict';
import { Engine, podEndpoint } from '../src/engine/engine.js';
import { oracleAllows } from '../src/engine/oracle.js';
import { podKey, type Cluster } from '../src/model/cluster.js';
import type { DiffProbe, ProbeDiff } from '../src/diff/index.js';

/** Asserts that `got` lists exactly the pairs of common pods whose verdict (the oracle; the explaining engine for any port) differs. */
export function assertBruteDiff(before: Cluster, after: Cluster, probes: readonly DiffProbe[], got: readonly ProbeDiff[]): void {
  const engines = [new Engine(before), new Engine(after)] as const;
  const verdict = (side: 0 | 1, s: string, d: string, probe: DiffProbe): boolean => {
    const c = side === 0 ? before : after;
    const pods = new Map(c.pods.map((p) => [podKey(p), p]));
    const [a, b] = [podEndpoint(pods.get(s)!), podEndpoint(pods.get(d)!)];
    if (probe.port === null) return engines[side].allows({ source: a, destination: b, protocol: probe.protocol });
    return oracleAllows(c, a, b, probe.protocol, probe.port);
  };
  const newKeys = new Set(after.pods.map(podKey));
  const common = before.pods.map(podKey).filter((k) => newKeys.has(k));
  probes.forEach((probe, k) => {
    const added: string[] = [];
    const removed: string[] = [];
    for (const s of common) {
      for (const t of common) {
        if (s === t) continue;
        const was = verdict(0, s, t, probe);
        const is = verdict(1, s, t, probe);
        if (was !== is) (is ? added : removed).push(`${s}>${t}`);
      }
    }
    const label = `${probe.protocol}/${probe.port}`;
    assert.deepEqual(got[k]!.added.map((p) => `${p.from}>${p.to}`).sort(), added.sort(), `added ${label}`);
    assert.deepEqual(got[k]!.removed.map((p) => `${p.from}>${p.to}`).sort(), removed.sort(), `removed ${label}`);
  });
}
