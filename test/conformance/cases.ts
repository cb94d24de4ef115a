/**
 * The translated network-policy-api conformance cases (README.md): their format, and the state a case's
 * steps walk through, shared by the engine test (conformance.test.ts) and the lab test (lab.test.ts).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { formatDiagnostic, hasErrors } from '../../src/diag/diagnostic.js';
import { validateCluster } from '../../src/validate/index.js';
import { Engine } from '../../src/engine/engine.js';
import { loadCluster } from '../../src/load/index.js';
import type { Cluster } from '../../src/model/cluster.js';

export const DIR = fileURLToPath(new URL('.', import.meta.url));

export interface Case {
  name: string;
  description: string;
  upstream: string;
  manifests: string[];
  steps: Step[];
}

export type Obj = { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } };
export type Step =
  | { test: string }
  | { probe: string }
  | { apply: Obj }
  | { labels: { namespace: string; set: Record<string, string> } }
  | { delete: { kind: string; namespace: string; name: string } };

export const PROBE = /^(\S+)\/(\S+) -> (\S+)\/(\S+) (TCP|UDP|SCTP)\/(\d+) (connect|blocked)$/;

export const keyOf = (o: { kind: string; namespace?: string; name: string }) => `${o.kind}/${o.namespace ?? ''}/${o.name}`;

/** The objects of the current state, in order (base first), replaced in place when a step applies one. */
export class State {
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

  /** The state through the loader and the API server's validation. */
  cluster(where: string): Cluster {
    const text = [...this.objects.values()].map((o) => stringify(o)).join('---\n');
    const { cluster, diagnostics } = loadCluster([{ file: `${where}.yaml`, text }]);
    const all = [...diagnostics, ...validateCluster(cluster)];
    assert.ok(!hasErrors(all), `${where}: the state does not validate:\n${all.map((d) => formatDiagnostic(d)).join('\n')}`);
    return cluster;
  }

  /** The state's engine (see `cluster`). */
  engine(where: string): Engine {
    return new Engine(this.cluster(where));
  }
}

/** The initial state of a case: base.yaml and its manifests. */
export function initialState(c: Case): State {
  return new State([readFileSync(join(DIR, 'base.yaml'), 'utf8'), ...c.manifests.map((m) => readFileSync(join(DIR, 'manifests', m), 'utf8'))]);
}

/** Applies a change step to the state. */
export function applyStep(state: State, step: Exclude<Step, { test: string } | { probe: string }>): void {
  if ('apply' in step) state.put(step.apply);
  else if ('labels' in step) state.setLabels(step.labels.namespace, step.labels.set);
  else state.remove(keyOf(step.delete));
}

/** The cases of one version, by file name order. */
export function loadCases(version: string): { file: string; case: Case }[] {
  return readdirSync(join(DIR, version))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ file: f, case: parse(readFileSync(join(DIR, version, f), 'utf8')) as Case }));
}
