/** The library entry as the README shows it: load, validate, ask the engine. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Engine, hasErrors, loadCluster, podEndpoint, reachability, sortPods, validateCluster } from '../src/index.js';
import { readSources, run } from '../src/node.js';

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

/** The modules `from` reaches through value imports (type-only imports vanish at run time). */
function valueImports(from: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const visit = (file: string): void => {
    if (found.has(file)) return;
    const specs: string[] = [];
    found.set(file, specs);
    for (const m of readFileSync(file, 'utf8').matchAll(/^(import|export)\s+(type\s)?[^;]*?from\s+'([^']+)'/gms)) {
      if (m[2] !== undefined) continue;
      const spec = m[3] as string;
      specs.push(spec);
      if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')));
    }
  };
  visit(from);
  return found;
}

test('the main entry is pure: nothing it reaches imports node:*', () => {
  const graph = valueImports('src/index.ts');
  assert.ok(graph.size > 20, `walked ${graph.size} modules`);
  const io = [...graph].flatMap(([file, specs]) => specs.filter((s) => s.startsWith('node:')).map((s) => `${file}: ${s}`));
  assert.deepEqual(io, []);
  // The check itself sees IO where there is some.
  assert.ok([...valueImports('src/node.ts').values()].flat().some((s) => s.startsWith('node:')));
});

test('netpol/node runs the CLI in-process', async () => {
  let out = '';
  const code = await run(['version'], { stdout: (s) => (out += s), stderr: () => undefined, stderrIsTTY: false });
  assert.equal(code, 0);
  assert.match(out, /^netpol \d/);
});
