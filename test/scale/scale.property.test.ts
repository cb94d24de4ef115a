/**
 * The class-based engine held to the oracle: on random clusters, every ordered pair of pods for
 * numeric and named ports over TCP and UDP gets the oracle's verdict; counts (all pairs, per pod, per
 * namespace pair) equal the brute-force counts; and all of it still holds after random sequences of
 * changes applied incrementally (with counts cached before the changes, so the corrections are tested).
 * The seed is printed; replay a failure with NETPOL_SEED=<seed>.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ScaleEngine, type ScaleProbe } from '../../src/scale/index.js';
import { Engine, externalEndpoint, podEndpoint } from '../../src/engine/engine.js';
import { oracleAllows } from '../../src/engine/oracle.js';
import type { Endpoint } from '../../src/engine/types.js';
import type { Cluster, PodInfo, PolicyInfo } from '../../src/model/cluster.js';
import { audit, cluster as buildCluster, isStaged, staged } from '../builders.js';
import { PROBE_PORTS, PROBE_PROTOCOLS, changeArb, clusterArb, makePod, makePolicy, type ChangeSpec } from '../arbitraries.js';

const SEED = Number(process.env.NETPOL_SEED ?? Date.now() % 1_000_000);
console.log(`scale property tests: seed ${SEED} (replay: NETPOL_SEED=${SEED} node scripts/run-tests.mjs scale.property)`);

const PROBES: ScaleProbe[] = PROBE_PROTOCOLS.flatMap((protocol) => PROBE_PORTS.map((port) => ({ port, protocol })));

/** Every pair, every probe: the scale engine's verdict is the oracle's. Returns nothing; asserts. */
function assertPairs(c: Cluster, engine: ScaleEngine): void {
  for (const s of c.pods) {
    for (const d of c.pods) {
      for (const probe of PROBES) {
        const expected = oracleAllows(c, podEndpoint(s), podEndpoint(d), probe.protocol, probe.port);
        const got = engine.allows(s, d, probe);
        if (got !== expected) {
          assert.fail(`allows(${s.namespace}/${s.name} -> ${d.namespace}/${d.name}, ${probe.protocol}/${probe.port}) = ${got}, oracle says ${expected}`);
        }
      }
    }
  }
}

function bruteCount(c: Cluster, probe: ScaleProbe): number {
  let n = 0;
  for (const s of c.pods) for (const d of c.pods) if (s !== d && oracleAllows(c, podEndpoint(s), podEndpoint(d), probe.protocol, probe.port)) n++;
  return n;
}

test('scale engine agrees with the oracle on every pair, port and protocol', () => {
  fc.assert(
    fc.property(clusterArb, (c) => {
      assertPairs(c, new ScaleEngine(c));
    }),
    { seed: SEED, numRuns: 500 },
  );
});

const STRATEGIES = ['auto', 'candidates', 'scan', 'complement', 'dense', 'admitted'] as const;

test('allowedPairs, per-pod and per-namespace counts equal brute-force counts', () => {
  fc.assert(
    fc.property(clusterArb, fc.constantFrom(...PROBES), fc.constantFrom(...STRATEGIES), (c, probe, strategy) => {
      const engine = new ScaleEngine(c, { strategy });
      for (const p of PROBES) assert.equal(engine.allowedPairs(p), bruteCount(c, p), `allowedPairs ${p.protocol}/${p.port}`);
      for (const p of c.pods) {
        const out = c.pods.filter((d) => d !== p && oracleAllows(c, podEndpoint(p), podEndpoint(d), probe.protocol, probe.port));
        const inn = c.pods.filter((s) => s !== p && oracleAllows(c, podEndpoint(s), podEndpoint(p), probe.protocol, probe.port));
        assert.equal(engine.reachableCount(p, probe), out.length, 'reachableCount');
        assert.equal(engine.reachingCount(p, probe), inn.length, 'reachingCount');
        assert.deepEqual(new Set(engine.destinations(p, probe)), new Set(out), 'destinations');
        assert.deepEqual(new Set(engine.sources(p, probe)), new Set(inn), 'sources');
      }
      const byNs = engine.namespaceCounts(probe);
      const expected = new Map<string, number>();
      for (const s of c.pods) {
        for (const d of c.pods) {
          if (s === d || !oracleAllows(c, podEndpoint(s), podEndpoint(d), probe.protocol, probe.port)) continue;
          const k = `${s.namespace}>${d.namespace}`;
          expected.set(k, (expected.get(k) ?? 0) + 1);
        }
      }
      const got = new Map(byNs.cells.map(([a, b, v]) => [`${byNs.namespaces[a]}>${byNs.namespaces[b]}`, v]));
      assert.deepEqual(got, expected, 'namespaceCounts');
    }),
    { seed: SEED, numRuns: 500 },
  );
});

test('outside addresses, any-port questions and admitted ports agree with the engine', () => {
  fc.assert(
    fc.property(clusterArb, (c) => {
      const scale = new ScaleEngine(c);
      const engine = new Engine(c);
      const outside = ['10.0.0.2', '8.8.8.8', 'fd00::9', '10.0.1.9'].map((t) => externalEndpoint(t) as Endpoint);
      const endpoints: Endpoint[] = [...c.pods.map(podEndpoint), ...outside];
      for (const source of endpoints) {
        for (const destination of endpoints) {
          if (source.kind === 'external' && destination.kind === 'external') continue;
          for (const protocol of PROBE_PROTOCOLS) {
            for (const port of [...PROBE_PORTS, undefined]) {
              const t = { source, destination, protocol, ...(port !== undefined ? { port } : {}) };
              assert.equal(scale.allowsTraffic(t), engine.allows(t), JSON.stringify({ s: source.kind, d: destination.kind, protocol, port }));
            }
            if (source.kind === 'pod' && destination.kind === 'pod') {
              assert.deepEqual(scale.admittedPorts(source.pod, destination.pod, protocol).ranges, engine.admittedPorts(source, destination, protocol).ranges);
            }
          }
        }
      }
    }),
    { seed: SEED, numRuns: 150 },
  );
});

/** Applies a change to both the engine and a plain mirror of the cluster. */
function applyChange(engine: ScaleEngine, mirror: { pods: PodInfo[]; policies: PolicyInfo[] }, ch: ChangeSpec, step: number): void {
  switch (ch.kind) {
    case 'addPod': {
      const base = ch.copyOf !== undefined && mirror.pods.length > 0 ? mirror.pods[ch.copyOf % mirror.pods.length]! : undefined;
      const spec = base ? { ns: base.namespace, labels: { ...base.labels }, ips: ch.ownIPs ? ch.pod.ips : [...base.ips], ports: [...base.ports] } : ch.pod;
      const p = makePod(spec, `added${step}`);
      mirror.pods.push(p);
      engine.addPod(p);
      break;
    }
    case 'removePod': {
      if (mirror.pods.length === 0) return;
      const [p] = mirror.pods.splice(ch.index % mirror.pods.length, 1);
      assert.equal(engine.removePod(p!), true);
      break;
    }
    case 'setPodLabels': {
      if (mirror.pods.length === 0) return;
      const i = ch.index % mirror.pods.length;
      mirror.pods[i] = engine.setPodLabels(mirror.pods[i]!, ch.labels);
      break;
    }
    case 'upsertPolicy': {
      if (ch.replace !== undefined && mirror.policies.length > 0) {
        const i = ch.replace % mirror.policies.length;
        const old = mirror.policies[i]!;
        const next = makePolicy({ ns: old.namespace, spec: ch.policy.spec }, old.name);
        mirror.policies[i] = next;
        engine.upsertPolicy(next);
      } else {
        const next = makePolicy(ch.policy, `new${step}`);
        mirror.policies.push(next);
        engine.upsertPolicy(next);
      }
      break;
    }
    case 'removePolicy': {
      if (mirror.policies.length === 0) return;
      const [p] = mirror.policies.splice(ch.index % mirror.policies.length, 1);
      assert.equal(engine.removePolicy(p!.namespace, p!.name), true);
      break;
    }
  }
}

test('after random sequences of changes, verdicts and cached counts match a fresh oracle', () => {
  fc.assert(
    fc.property(
      clusterArb,
      fc.array(changeArb, { minLength: 1, maxLength: 8 }),
      fc.subarray(PROBES, { minLength: 1, maxLength: 3 }),
      fc.constantFrom(...STRATEGIES),
      (c, changes, cached, strategy) => {
        const engine = new ScaleEngine(c, { strategy });
        for (const p of cached) engine.allowedPairs(p); // cached now: changes must correct them
        const mirror = { pods: [...c.pods], policies: [...c.policies] };
        changes.forEach((ch, step) => {
          applyChange(engine, mirror, ch, step);
          const now = buildCluster({ namespaces: [...c.namespaces.values()], pods: mirror.pods, policies: mirror.policies });
          for (const p of cached) assert.equal(engine.allowedPairs(p), bruteCount(now, p), `allowedPairs ${p.protocol}/${p.port} after step ${step} (${ch.kind})`);
        });
        const final = buildCluster({ namespaces: [...c.namespaces.values()], pods: mirror.pods, policies: mirror.policies });
        assertPairs(final, engine);
        assert.equal(engine.stats.pods, mirror.pods.length);
      },
    ),
    { seed: SEED, numRuns: 500 },
  );
});

test('audit mode: staged policies are left out unless included, also when a policy changes mode in place', () => {
  fc.assert(
    fc.property(clusterArb, fc.array(fc.boolean(), { maxLength: 8 }), fc.nat(), (written, which, at) => {
      const c = staged(written, which);
      const enforcing = (x: Cluster): Cluster => ({ ...x, policies: x.policies.filter((p) => !isStaged(p)) });
      const today = new ScaleEngine(c);
      assertPairs(enforcing(c), today);
      assertPairs(written, new ScaleEngine(c, { includeAudit: true }));
      if (c.policies.length === 0) return;
      // One policy switched between audit and enforce, through the incremental path.
      const i = at % c.policies.length;
      const old = c.policies[i]!;
      const next = isStaged(old) ? written.policies[i]! : audit(old);
      today.upsertPolicy(next);
      assertPairs(enforcing({ ...c, policies: c.policies.map((p, k) => (k === i ? next : p)) }), today);
    }),
    { numRuns: 200 },
  );
});
