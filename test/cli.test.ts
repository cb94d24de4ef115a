/**
 * The command line through its public entry `run(argv, io)`: exit codes, output shapes other tools
 * depend on, stdin, kubectl-style flags, and refusal of invalid input. The built binaries are exercised
 * at the end as a user would call them.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { netpol } from './netpol.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
process.chdir(ROOT);

const APP = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
status: {podIP: 10.1.0.1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: c, ports: [{name: http, containerPort: 9090}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: default, labels: {app: other}}
spec: {containers: [{name: c}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: http}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
`;

const INVALID = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: shop}
spec:
  podSelector: {}
  ingress:
  - ports:
    - {port: 80, endPort: 70}
    - {protocol: ICMP}
`;

describe('validate', () => {
  test('valid input: exit 0 and a summary; unknown kinds get a note on stderr', async () => {
    const r = await netpol(['validate', '-f', '-'], APP);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^valid: 1 NetworkPolicy, 3 pods, 2 namespaces/m);
    assert.match(r.stderr, /^Note: .*ConfigMap/m);
  });

  test('-o json prints every problem with code, path, object (label and reference) and position', async () => {
    const r = await netpol(['validate', '-f', '-', '-o', 'json'], INVALID);
    assert.equal(r.code, 1);
    const { diagnostics } = JSON.parse(r.stdout) as { diagnostics: Record<string, unknown>[] };
    const errors = diagnostics.filter((d) => d.severity === 'error');
    assert.deepEqual(
      errors.map((d) => [d.code, d.path]),
      [
        ['FieldValueInvalid', 'spec.ingress[0].ports[0].endPort'],
        ['FieldValueNotSupported', 'spec.ingress[0].ports[1].protocol'],
      ],
    );
    for (const d of errors) {
      assert.deepEqual(Object.keys(d).sort(), ['code', 'column', 'file', 'line', 'message', 'object', 'path', 'ref', 'severity']);
      assert.equal(d.object, 'NetworkPolicy shop/bad');
      assert.deepEqual(d.ref, { kind: 'NetworkPolicy', namespace: 'shop', name: 'bad' });
      assert.equal(d.file, '<stdin>');
    }
    assert.deepEqual([errors[0]?.line, errors[0]?.column], [9, 18]);
    assert.match(String(errors[1]?.message), /^Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"$/);
  });

  test('text output: file:line:col first, one line per problem', async () => {
    const r = await netpol(['validate', '-f', '-'], INVALID);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^<stdin>:9:18: error: NetworkPolicy shop\/bad: spec\.ingress\[0\]\.ports\[0\]\.endPort: Invalid value: 70: /m);
    assert.match(r.stdout, /^invalid: 2 errors, 1 warning in 1 source$/m, 'the undeclared namespace shop is a warning');
  });

  test('a missing file is exit 2, and the other sources are still read', async () => {
    const r = await netpol(['validate', '-f', 'does/not/exist.yaml', '-f', 'examples/deny-all']);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /does\/not\/exist\.yaml: error: /);
  });
});

describe('check', () => {
  test('allowed: exit 0; the named port resolves on the destination', async () => {
    const r = await netpol(['check', '-f', '-', '--from', 'shop/web', '--to', 'shop/api', '--port', 'http', '-o', 'json'], APP);
    assert.equal(r.code, 0, r.stderr);
    const v = JSON.parse(r.stdout);
    assert.equal(v.allowed, true);
    assert.equal(v.resolvedPort, 9090);
    assert.deepEqual(v.toWorkload, { kind: 'Deployment', name: 'api', replicas: 3 });
    assert.equal(v.ingress.policies[0].policy.name, 'api-from-web');
    assert.equal(v.ingress.policies[0].rules[0].ports[0].resolvedTo, 9090);
  });

  test('denied: exit 1, with the rule that was tried and why its peer did not match', async () => {
    const r = await netpol(['check', '-f', '-', '--from', 'default/other', '--to', 'shop/api', '--port', '9090'], APP);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^DENIED: default\/other -> shop\/api TCP port 9090: egress of default\/other is not isolated; ingress of shop\/api does not allow it$/m);
    assert.match(r.stdout, /^ {2}shop\/api stands for the pods of Deployment api \(3 replicas\)$/m);
    assert.match(r.stdout, /policy shop\/api-from-web \[Ingress, defaulted\]: does not allow/);
    assert.match(r.stdout, /from\[0\] namespace shop \(pod is in default\) \/ podSelector app=web \(pod has app=other: fails app=web\): no match/);
  });

  test('without --port: the ports on which the connection is allowed', async () => {
    const r = await netpol(['check', '-f', '-', '--from', 'shop/web', '--to', 'shop/api', '-o', 'json'], APP);
    assert.equal(r.code, 0);
    const v = JSON.parse(r.stdout);
    assert.equal(v.port, null);
    assert.deepEqual(v.allowedPorts, [[9090, 9090]]);
  });

  test('an IP address of a pod is that pod; any other address is outside the cluster', async () => {
    const r = await netpol(['check', '-f', '-', '--from', '10.1.0.1', '--to', 'shop/api', '--port', '9090', '-o', 'json'], APP);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /10\.1\.0\.1 is the address of pod shop\/web/);
    const ext = await netpol(['check', '-f', '-', '--from', '192.0.2.1', '--to', 'shop/api', '--port', '9090', '-o', 'json'], APP);
    assert.equal(ext.code, 1);
    assert.equal(JSON.parse(ext.stdout).egress.enforced, false);
  });

  test('-n gives the namespace of names without one', async () => {
    const r = await netpol(['check', '-f', '-', '-n', 'shop', '--from', 'web', '--to', 'api', '--port', '9090'], APP);
    assert.equal(r.code, 0, r.stderr);
  });

  test('invalid policies are refused (exit 2) with the diagnostics validate prints', async () => {
    const r = await netpol(['check', '-f', '-', '--from', 'shop/a', '--to', 'shop/b'], INVALID);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: <stdin>:9:18: NetworkPolicy shop\/bad: spec\.ingress\[0\]\.ports\[0\]\.endPort: Invalid value/m);
    assert.equal(r.stdout, '');
  });

  test('usage errors are exit 2 with a message, never a stack trace', async () => {
    for (const argv of [
      ['check', '-f', '-', '--to', 'shop/api'],
      ['check', '-f', '-', '--from', 'shop/nope', '--to', 'shop/api'],
      ['check', '-f', '-', '--from', 'shop/web', '--to', 'shop/api', '--protocol', 'ICMP'],
      ['check', '-f', '-', '--from', 'shop/web', '--to', 'shop/api', '--port', '70000'],
      ['check', '-f', '-', '--from', 'shop/web', '--to', 'shop/api', '--bogus'],
      ['check', '-f', '-', '--from', 'shop/web', '--to', 'shop/api', '-o', 'xml'],
      ['frobnicate'],
      ['check', '--from', 'a', '--to', 'b'],
    ]) {
      const r = await netpol(argv, APP);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.stderr, /^error: /m, argv.join(' '));
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });
});

describe('matrix', () => {
  test('-o json prints exactly {pods, probes: [{port, protocol, allowed}]}', async () => {
    const r = await netpol(['matrix', '-f', '-', '--port', '9090', '--port', 'http', '--protocol', 'TCP', '--protocol', 'UDP', '-o', 'json'], APP);
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(m), ['pods', 'probes']);
    assert.deepEqual(m.pods, ['default/other', 'shop/api', 'shop/web']);
    assert.deepEqual(
      m.probes.map((p: { port: unknown; protocol: unknown }) => [p.protocol, p.port]),
      [
        ['TCP', 9090],
        ['TCP', 'http'],
        ['UDP', 9090],
        ['UDP', 'http'],
      ],
    );
    for (const p of m.probes) assert.deepEqual(Object.keys(p), ['port', 'protocol', 'allowed']);
    // Only web may reach api (on its http port 9090); everything else is open; the diagonal is true.
    assert.deepEqual(m.probes[0].allowed, [
      [true, false, true],
      [true, true, true],
      [true, true, true],
    ]);
    assert.deepEqual(m.probes[1].allowed, m.probes[0].allowed, 'http resolves to 9090 on api');
    assert.deepEqual(m.probes[2].allowed[2], [true, false, true], 'UDP is not admitted by the TCP rule');
  });

  test('table: grouped by namespace, workloads marked, a legend; -n shows one namespace', async () => {
    const r = await netpol(['matrix', '-f', '-', '--port', '9090'], APP);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^TCP\/9090: 5 of 6 connections between different pods allowed .*\. allowed, X denied/m);
    assert.match(r.stdout, /^shop\s+2 api \(Deployment\)\s+\.\s+\.\s+\.$/m);
    assert.match(r.stdout, /^default\s+1 other\s+\.\s+X\s+\.$/m);
    const ns = await netpol(['matrix', '-f', '-', '-n', 'shop', '-o', 'json'], APP);
    assert.deepEqual(JSON.parse(ns.stdout).pods, ['shop/api', 'shop/web']);
  });

  test('-o wide names the side that denies each denied pair', async () => {
    const r = await netpol(['matrix', '-f', '-', '--port', '9090', '-o', 'wide'], APP);
    assert.match(r.stdout, /default\/other -> shop\/api: denied by ingress of shop\/api \(isolated by api-from-web\)/);
  });

  test('-o csv and -o md', async () => {
    const csv = await netpol(['matrix', '-f', '-', '--port', '9090', '-o', 'csv'], APP);
    assert.equal(csv.stdout.split('\n')[0], 'protocol,port,from,to,allowed');
    assert.ok(csv.stdout.includes('TCP,9090,default/other,shop/api,false\n'));
    const md = await netpol(['matrix', '-f', '-', '--port', '9090', '-o', 'md'], APP);
    assert.match(md.stdout, /^\| default\/other \| ✓ \| ✗ \| ✓ \|$/m);
  });

  test('refuses invalid input (exit 2)', async () => {
    const r = await netpol(['matrix', '-f', '-'], INVALID);
    assert.equal(r.code, 2);
  });
});

describe('the installed binaries', () => {
  test(
    'a reader that closes the pipe early gets no stack trace',
    { skip: existsSync(`${ROOT}dist/src/cli/main.js`) ? false : 'dist/ is not built (npm test builds it first; run npm run build)' },
    () => {
      // validate writes one line per diagnostic: the later writes meet a pipe whose reader has gone.
      // Whether head exits before the later writes is a race: five rounds make a regression show.
      const once = `"${process.execPath}" bin/netpol.js validate -f examples/broken | head -1`;
      const r = spawnSync('sh', ['-c', `for i in 1 2 3 4 5; do ${once}; done`], { encoding: 'utf8' });
      assert.equal(r.stdout.split('\n').filter((l) => /^examples\/broken\/backend-access-ingress\.yaml:10:1: error: /.test(l)).length, 5);
      assert.doesNotMatch(r.stderr, /EPIPE|\n\s+at /);
    },
  );

  const built = existsSync(`${ROOT}dist/src/cli/main.js`);
  const skip = built ? false : 'dist/ is not built (npm test builds it first; run npm run build)';
  for (const bin of ['netpol', 'kubectl-netpol']) {
    test(`bin/${bin}.js runs the CLI`, { skip }, () => {
      const r = spawnSync(process.execPath, [`bin/${bin}.js`, 'check', '-f', 'examples/three-tier', '--from', 'three-tier/web', '--to', 'three-tier/db', '--port', '3306'], { encoding: 'utf8' });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stdout, /^DENIED: three-tier\/web -> three-tier\/db/);
      const v = spawnSync(process.execPath, [`bin/${bin}.js`, 'version'], { encoding: 'utf8' });
      assert.equal(v.status, 0);
      assert.match(v.stdout, /^netpol \d+\.\d+\.\d+/);
    });
  }
});
