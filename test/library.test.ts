/** The library entry as the README shows it: load, validate, ask the engine. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Engine, hasErrors, loadCluster, podEndpoint, readSources, reachability, sortPods, validateCluster } from '../src/index.js';

process.chdir(fileURLToPath(new URL('..', import.meta.url)));

test('readSources -> loadCluster -> validateCluster -> Engine, as in the README', async () => {
  const { sources, diagnostics: readProblems } = await readSources(['examples/three-tier'], { recursive: false });
  assert.deepEqual(readProblems, []);
  const { cluster, diagnostics } = loadCluster(sources);
  assert.equal(hasErrors(diagnostics), false);
  assert.deepEqual(validateCluster(cluster), []);
  const engine = new Engine(cluster);
  const pod = (name: string) => {
    const p = cluster.pods.find((x) => x.name === name);
    assert.ok(p, name);
    return podEndpoint(p);
  };
  const webToApi = engine.evaluate({ source: pod('web'), destination: pod('api'), protocol: 'TCP', port: 5000 });
  assert.equal(webToApi.allowed, true);
  assert.equal(engine.allows({ source: pod('web'), destination: pod('db'), protocol: 'TCP', port: 3306 }), false);
  const m = reachability(engine, sortPods(cluster.pods), [{ port: 3306, protocol: 'TCP' }]);
  assert.deepEqual(m.pods, ['three-tier/api', 'three-tier/db', 'three-tier/web']);
  assert.equal(m.probes[0]?.allowed[0]?.[1], true, 'api -> db on 3306');
});
