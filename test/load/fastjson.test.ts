/**
 * JSON on the fast path (src/load/fast/json.ts): documents and Lists equal the reference loader, object
 * for object and position for position; streams (one value after another) equal the same objects read
 * as YAML, with exact positions; a stream the fast path declines still reaches the reference loader.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadClusterFast } from '../../src/load/index.js';
import { jsonStreamAsYaml, jsonValues } from '../../src/load/fast/json.js';
import { loadCluster } from '../../src/load/index.js';
import { SHAPES, generateFiles } from '../../tools/gen/index.js';
import type { Cluster } from '../../src/model/cluster.js';

/** The cluster without sources (compared separately). */
function bare(c: Cluster): unknown {
  const strip = (o: object): unknown => JSON.parse(JSON.stringify({ ...o, source: undefined }));
  return { namespaces: [...c.namespaces.values()].map(strip), pods: c.pods.map(strip), policies: c.policies.map(strip) };
}

/** Small versions (realistic needs more than four namespaces to place its policies). */
const scaleOf = (shape: string): number => (shape === 'realistic' ? 0.02 : 0.002);

const sources = (files: { name: string; text: string }[]) => files.map((f) => ({ file: f.name, text: f.text }));

describe('JSON on the fast path', () => {
  for (const shape of SHAPES) {
    test(`${shape}: a JSON List per file takes the fast path and equals the reference loader`, () => {
      const files = sources(generateFiles(shape, { seed: 5, scale: scaleOf(shape), chunk: 40, format: 'json-list' }));
      const fast = loadClusterFast(files);
      assert.equal(fast.fast, true, fast.fallbackReason);
      const ref = loadCluster(files);
      assert.deepEqual(ref.diagnostics, []);
      assert.deepEqual(bare(fast.cluster), bare(ref.cluster));
      const objs = (c: Cluster) => [...c.namespaces.values(), ...c.pods, ...c.policies].map((o) => o.source!);
      const a = objs(fast.cluster);
      const b = objs(ref.cluster);
      for (let i = 0; i < a.length; i += 7) {
        assert.deepEqual([a[i]!.file, a[i]!.line, a[i]!.column], [b[i]!.file, b[i]!.line, b[i]!.column]);
        for (const p of ['metadata.name', 'spec', 'status.podIP']) assert.deepEqual(a[i]!.locate(p), b[i]!.locate(p), p);
      }
    });

    test(`${shape}: a JSON stream takes the fast path and equals the same objects in YAML`, () => {
      const yaml = loadClusterFast(sources(generateFiles(shape, { seed: 5, scale: scaleOf(shape), chunk: 40 })));
      const fast = loadClusterFast(sources(generateFiles(shape, { seed: 5, scale: scaleOf(shape), chunk: 40, format: 'json-stream' })));
      assert.equal(fast.fast, true, fast.fallbackReason);
      assert.deepEqual(bare(fast.cluster), bare(yaml.cluster));
    });
  }

  test('positions in a stream are found when asked, and exact', () => {
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } };
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'a' }, spec: { containers: [] } };
    const text = `${JSON.stringify(ns)}\n  ${JSON.stringify(pod)}\n`;
    const r = loadClusterFast([{ file: 's.json', text }]);
    assert.equal(r.fast, true, r.fallbackReason);
    const src = r.cluster.pods[0]!.source!;
    assert.deepEqual([src.line, src.column], [2, 3]);
    assert.deepEqual(src.locate('metadata.name'), { line: 2, column: text.split('\n')[1]!.indexOf('"name"') + 1 });
  });

  test('a stream the fast path declines is read by the reference loader, value by value', () => {
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } };
    const other = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'a' }, data: { k: 'v' } };
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'a' }, spec: { containers: [] } };
    const text = [ns, other, pod].map((o) => JSON.stringify(o, null, 2)).join('\n');
    const r = loadClusterFast([{ file: 's.json', text }]);
    assert.equal(r.fast, false);
    assert.deepEqual(
      r.cluster.pods.map((p) => p.name),
      ['p'],
    );
    assert.equal(r.diagnostics.filter((d) => d.severity === 'error').length, 0, JSON.stringify(r.diagnostics));
    assert.equal(r.cluster.pods[0]!.source!.line, text.split('\n').indexOf('{', 10) + 1);
  });

  test('the value scanner finds values across strings with brackets and escapes, and declines non-streams', () => {
    const t = '{"a":"}{\\"]"}\n[1,{"b":[]}] {}';
    assert.deepEqual(
      jsonValues(t)!.map((s) => [t.slice(s.start, s.end), s.line, s.column]),
      [
        ['{"a":"}{\\"]"}', 1, 1],
        ['[1,{"b":[]}]', 2, 1],
        ['{}', 2, 14],
      ],
    );
    for (const bad of ['{"a":1', '{}}', '{} x', '"s"', '{"a":"b\n"}']) assert.equal(jsonValues(bad), undefined, bad);
    assert.equal(jsonStreamAsYaml('{}\n{}'), '{}\n--- {}');
  });

  test('input nested deeper than the parsers go gets the depth error, in YAML and in JSON, never a stack overflow', () => {
    let yaml = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n';
    let indent = '    ';
    for (let i = 0; i < 2500; i++) {
      yaml += `${indent}k${i}:\n`;
      indent += '  ';
    }
    yaml += `${indent}x: y\n`;
    const json = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":${'{"a":'.repeat(2500)}1${'}'.repeat(2500)}}}`;
    for (const [file, text] of [
      ['deep.yaml', yaml],
      ['deep.json', json],
    ] as const) {
      const r = loadClusterFast([{ file, text }]);
      assert.equal(r.fast, false, file);
      assert.ok(
        r.diagnostics.some((d) => d.severity === 'error' && /nests deeper than/.test(d.message)),
        `${file}: ${JSON.stringify(r.diagnostics.slice(0, 2))}`,
      );
    }
  });
});
