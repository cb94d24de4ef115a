/**
 * The network-policy-api conformance tests, as data, against the engine: every case of v1alpha2/
 * (ClusterNetworkPolicy) and v1alpha1/ (AdminNetworkPolicy, BaselineAdminNetworkPolicy) starts from
 * base.yaml plus its manifests, replays the upstream test's changes in order (apply an object, set a
 * namespace's labels, delete an object) and checks each probe. Every state must also pass `validate`:
 * the API server accepted it upstream. See README.md for the format and how the cases were translated.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { formatDiagnostic, hasErrors } from '../../src/diag/diagnostic.js';
import { validateCluster } from '../../src/validate/index.js';
import { Engine, podEndpoint } from '../../src/engine/engine.js';
import { loadCluster } from '../../src/load/index.js';
import { TieredScaleEngine } from '../../src/scale/tiers/index.js';
import type { Protocol } from '../../src/model/cluster.js';

const DIR = fileURLToPath(new URL('.', import.meta.url));

interface Case {
  name: string;
  description: string;
  upstream: string;
  manifests: string[];
  steps: Step[];
}

type Obj = { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } };
type Step =
  | { test: string }
  | { probe: string }
  | { apply: Obj }
  | { labels: { namespace: string; set: Record<string, string> } }
  | { delete: { kind: string; namespace: string; name: string } };

const PROBE = /^(\S+)\/(\S+) -> (\S+)\/(\S+) (TCP|UDP|SCTP)\/(\d+) (connect|blocked)$/;

const keyOf = (o: { kind: string; namespace?: string; name: string }) => `${o.kind}/${o.namespace ?? ''}/${o.name}`;

/** The objects of the current state, in order (base first), replaced in place when a step applies one. */
class State {
  private readonly objects = new Map<string, Obj>();

  constructor(texts: string[]) {
    for (const text of texts) for (const doc of parseAllDocuments(text)) this.put(doc.toJS() as Obj);
  }

  put(o: Obj): void {
    this.objects.set(keyOf({ kind: o.kind, namespace: o.metadata.namespace ?? '', name: o.metadata.name }), o);
  }

  remove(key: string): void {
    assert.ok(this.objects.delete(key), `no object ${key} to delete`);
  }

  setLabels(namespace: string, labels: Record<string, string>): void {
    const key = keyOf({ kind: 'Namespace', namespace: '', name: namespace });
    const ns = this.objects.get(key);
    assert.ok(ns, `no namespace ${namespace}`);
    this.objects.set(key, { ...ns, metadata: { ...ns.metadata, labels } });
  }

  /** The state through the loader and the API server's validation, then the engine. */
  engine(where: string): Engine {
    const text = [...this.objects.values()].map((o) => stringify(o)).join('---\n');
    const { cluster, diagnostics } = loadCluster([{ file: `${where}.yaml`, text }]);
    const all = [...diagnostics, ...validateCluster(cluster)];
    assert.ok(!hasErrors(all), `${where}: the state does not validate:\n${all.map((d) => formatDiagnostic(d)).join('\n')}`);
    return new Engine(cluster);
  }
}

/** Every subtest of a case with the probes that disagree with the engine (empty when all agree). */
function run(c: Case): { test: string; probes: number; mismatches: string[] }[] {
  const state = new State([readFileSync(join(DIR, 'base.yaml'), 'utf8'), ...c.manifests.map((m) => readFileSync(join(DIR, 'manifests', m), 'utf8'))]);
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
      if ('apply' in step) state.put(step.apply);
      else if ('labels' in step) state.setLabels(step.labels.namespace, step.labels.set);
      else state.remove(keyOf(step.delete));
      changes++;
      engine = state.engine(`${c.name} after change ${changes}`);
      scale = undefined;
    }
  }
  out.push(current);
  return out;
}

for (const version of ['v1alpha2', 'v1alpha1']) {
  const files = readdirSync(join(DIR, version)).filter((f) => f.endsWith('.yaml')).sort();
  describe(`network-policy-api conformance, ${version}`, () => {
    test('every upstream test is translated (24 per version: 20 files, two of them with two tests)', () => {
      assert.equal(files.length, 24, files.join(', '));
    });
    for (const f of files) {
      const c = parse(readFileSync(join(DIR, version, f), 'utf8')) as Case;
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
