/**
 * The network-policy-api conformance tests, as data, against the engine: every case of v1alpha2/
 * (ClusterNetworkPolicy) and v1alpha1/ (AdminNetworkPolicy, BaselineAdminNetworkPolicy) starts from
 * base.yaml plus its manifests, replays the upstream test's changes in order (apply an object, set a
 * namespace's labels, delete an object) and checks each probe. Every state must also pass `validate`:
 * the API server accepted it upstream. See README.md for the format and how the cases were translated.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { podEndpoint } from '../../src/engine/index.js';
import { TieredScaleEngine } from '../../src/scale/index.js';
import type { Protocol } from '../../src/model/cluster.js';
import { applyStep, initialState, loadCases, PROBE, type Case } from './cases.js';

/** Every subtest of a case with the probes that disagree with the engine (empty when all agree). */
function run(c: Case): { test: string; probes: number; mismatches: string[] }[] {
  const state = initialState(c);
  let engine = state.engine(`${c.name} (initial state)`);
  // The tier-aware class engine (matrix, diff, group questions) answers every probe too.
  let scale: TieredScaleEngine | undefined;
  const out: { test: string; probes: number; mismatches: string[] }[] = [];
  let current = { test: '(before any subtest)', probes: 0, mismatches: [] as string[] };
  let changes = 0;
  for (const step of c.steps) {
    if ('test' in step) {
      if (current.probes > 0 || current.mismatches.length > 0) out.push(current);
      current = { test: step.test, probes: 0, mismatches: [] };
    } else if ('probe' in step) {
      const m = PROBE.exec(step.probe);
      assert.ok(m, `${c.name}: cannot parse probe ${JSON.stringify(step.probe)}`);
      const pod = (ns: string, name: string) => {
        const p = engine.cluster.pods.find((x) => x.namespace === ns && x.name === name);
        assert.ok(p, `${c.name}: no pod ${ns}/${name}`);
        return p;
      };
      const [source, destination] = [pod(m[1]!, m[2]!), pod(m[3]!, m[4]!)];
      const protocol = m[5] as Protocol;
      const allowed = engine.allows({ source: podEndpoint(source), destination: podEndpoint(destination), protocol, port: Number(m[6]) });
      current.probes++;
      if (allowed !== (m[7] === 'connect')) current.mismatches.push(`${step.probe}: engine says ${allowed ? 'connect' : 'blocked'} (after ${changes} changes)`);
      scale ??= new TieredScaleEngine(engine.cluster);
      const scaled = scale.allows(source, destination, { protocol, port: Number(m[6]) });
      if (scaled !== (m[7] === 'connect')) current.mismatches.push(`${step.probe}: scale engine says ${scaled ? 'connect' : 'blocked'} (after ${changes} changes)`);
    } else {
      applyStep(state, step);
      changes++;
      engine = state.engine(`${c.name} after change ${changes}`);
      scale = undefined;
    }
  }
  out.push(current);
  return out;
}

for (const version of ['v1alpha2', 'v1alpha1']) {
  const cases = loadCases(version);
  const files = cases.map((x) => x.file);
  describe(`network-policy-api conformance, ${version}`, () => {
    test('every upstream test is translated (24 per version: 20 files, two of them with two tests)', () => {
      assert.equal(files.length, 24, files.join(', '));
    });
    for (const { case: c } of cases) {
      describe(`${c.name}: ${c.description}`, () => {
        for (const r of run(c)) {
          test(`${r.test} (${r.probes} probes)`, () => {
            assert.ok(r.probes > 0, 'a subtest without probes');
            assert.deepEqual(r.mismatches, []);
          });
        }
      });
    }
  });
}
