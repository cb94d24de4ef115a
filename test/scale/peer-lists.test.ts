/**
 * The classes' peer lists are made when first read (src/scale/records.ts, `ClassRecord`): a query
 * makes its two classes' lists on their own, until that has cost about as much as making every
 * class's, which is done then; a change makes them all first. Whichever way a list was made, the
 * verdicts are the same as an engine's that made every list at once, and the oracle's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScaleEngine, type ScaleProbe } from '../../src/scale/index.js';
import { oracleAllows } from '../../src/engine/oracle.js';
import { podEndpoint } from '../../src/engine/engine.js';
import { ChangeStream, generateObjects, toCluster } from '../../tools/gen/index.js';
import type { Cluster, PodInfo } from '../../src/model/index.js';

const PROBES: ScaleProbe[] = [
  { protocol: 'TCP', port: 80 },
  { protocol: 'TCP', port: 'http' },
];

/** An engine whose every class's lists were made at once, right after the build. */
function bulk(c: Cluster): ScaleEngine {
  const e = new ScaleEngine(c);
  e['makePeerLists']();
  return e;
}

/** Spread pairs of pods (a deterministic sample). */
function pairs(pods: readonly PodInfo[], n: number): [PodInfo, PodInfo][] {
  return Array.from({ length: n }, (_, i) => [pods[(i * 7919) % pods.length]!, pods[(i * 104729 + 3) % pods.length]!]);
}

test("queries make single classes' lists, then every class's; verdicts equal an engine that made them all and the oracle", () => {
  // 2,500 pods, each its own class, peers matching many classes: a dozen single classes before every class's lists.
  const c = toCluster(generateObjects('adversarial', { seed: 5, scale: 0.05 }));
  const e = new ScaleEngine(c);
  const reference = bulk(c);
  const sample = pairs(c.pods, 60);
  const [s0, d0] = sample[0]!;
  assert.equal(e.allows(s0, d0, PROBES[0]!), reference.allows(s0, d0, PROBES[0]!));
  assert.equal(e['peerListsMade'], false, "one query made every class's lists");
  assert.ok(e['singleLists'] > 0, "the query made its classes' lists on their own");
  sample.forEach(([s, d], i) => {
    const probe = PROBES[i % 2]!;
    const got = e.allows(s, d, probe);
    assert.equal(got, reference.allows(s, d, probe), `${s.name} -> ${d.name} ${probe.port}`);
    if (i % 6 === 0) assert.equal(got, s === d || oracleAllows(c, podEndpoint(s), podEndpoint(d), probe.protocol, probe.port), `oracle: ${s.name} -> ${d.name} ${probe.port}`);
  });
  assert.equal(e['peerListsMade'], true, "60 queries ended in every class's lists made at once");
});

test('a change after single lists: every list is made first, and counts equal a fresh engine', () => {
  const c = toCluster(generateObjects('adversarial', { seed: 6, scale: 0.05 }));
  const e = new ScaleEngine(c);
  const [s, d] = pairs(c.pods, 1)[0]!;
  e.allows(s, d, PROBES[0]!);
  assert.equal(e['peerListsMade'], false);
  const stream = new ChangeStream(c, 23);
  for (let i = 0; i < 4; i++) e.apply(stream.next());
  assert.equal(e['peerListsMade'], true);
  const fresh = new ScaleEngine({ namespaces: c.namespaces, pods: stream.pods, policies: stream.policies });
  const counts = PROBES.map((p) => e.allowedPairs(p));
  assert.deepEqual(
    counts,
    PROBES.map((p) => fresh.allowedPairs(p)),
  );
  assert.ok(counts[0]! > 0, 'some pair is allowed');
});
