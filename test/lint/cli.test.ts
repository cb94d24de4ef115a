/**
 * `netpol lint` through `run(argv, io)`: exit codes, SARIF 2.1.0 as code scanning reads it (rules with
 * descriptions, results with ruleId, level, file URI and the line of the offending field), suppression
 * by annotation on pods and policies read from YAML, the seeds' pitfalls in examples/, and a doc page
 * for every rule.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RULES } from '../../src/lint/index.js';
import { netpol } from '../netpol.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
process.chdir(ROOT);

const MANIFESTS = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  labels: {app: web}
  annotations: {netpol.dev/lint-disable: pod-not-isolated}
spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
spec: {containers: [{name: c}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-in, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {name: shop}}
`;

describe('netpol lint', () => {
  test('an error-level finding: exit 1, text with file:line:col, rule id, and a suppressed pod note', async () => {
    const r = await netpol(['lint', '-f', '-'], MANIFESTS);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stdout,
      /^<stdin>:26:7: error: NetworkPolicy shop\/api-in: spec.ingress\[0\].from\[0\].namespaceSelector: namespaceSelector requires label "name".*\[namespace-selector-unknown-labels\]$/m,
    );
    // web's annotation turns pod-not-isolated off for web only.
    assert.match(r.stdout, /Pod shop\/api: no policy isolates this pod for egress/);
    assert.doesNotMatch(r.stdout, /Pod shop\/web/);
    assert.match(r.stdout, /1 suppressed/);
    const off = await netpol(['lint', '-f', '-', '--disable', 'namespace-selector-unknown-labels'], MANIFESTS);
    assert.equal(off.code, 0);
  });

  test('SARIF 2.1.0 for code scanning', async () => {
    const r = await netpol(['lint', '-f', 'examples/and-vs-or', '-o', 'sarif']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.version, '2.1.0');
    const run = s.runs[0];
    assert.equal(run.tool.driver.name, 'netpol');
    assert.deepEqual(
      run.tool.driver.rules.map((x: { id: string }) => x.id),
      RULES.map((x) => x.id),
    );
    for (const rule of run.tool.driver.rules) {
      assert.ok(rule.shortDescription.text && rule.fullDescription.text, rule.id);
      assert.match(rule.defaultConfiguration.level, /^(error|warning|note)$/);
    }
    const trap = run.results.find((x: { ruleId: string }) => x.ruleId === 'and-or-trap');
    assert.equal(trap.level, 'warning');
    assert.equal(run.tool.driver.rules[trap.ruleIndex].id, 'and-or-trap');
    const loc = trap.locations[0].physicalLocation;
    assert.equal(loc.artifactLocation.uri, 'examples/and-vs-or/policies.yaml');
    const lines = readFileSync('examples/and-vs-or/policies.yaml', 'utf8').split('\n');
    assert.match(lines[loc.region.startLine - 1]!, /namespaceSelector/, 'the line of the offending peer');
  });

  test("the seeds' pitfalls in examples/ are found", async () => {
    const expect: [string, string][] = [
      ['examples/internal-egress', 'egress-no-dns'],
      ['examples/and-vs-or', 'and-or-trap'],
      ['examples/ipblock-except', 'ipblock-covers-pods'],
      ['examples/three-tier', 'internet-ingress'],
    ];
    for (const [dir, rule] of expect) {
      const r = await netpol(['lint', '-f', dir, '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(
        JSON.parse(r.stdout).findings.some((f: { rule: string }) => f.rule === rule),
        `${dir}: ${rule}`,
      );
    }
    // The corrected scenario is quiet about DNS.
    const fixed = JSON.parse((await netpol(['lint', '-f', 'examples/internal-egress-dns', '-o', 'json'])).stdout);
    assert.ok(!fixed.findings.some((f: { rule: string }) => f.rule === 'egress-no-dns'));
  });

  test('errors: unreadable or invalid input and unknown rules exit 2', async () => {
    assert.equal((await netpol(['lint', '-f', 'does/not/exist.yaml'])).code, 2);
    assert.equal((await netpol(['lint', '-f', 'examples/broken'])).code, 2);
    const r = await netpol(['lint', '-f', 'examples/three-tier', '--disable', 'no-such-rule']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--disable no-such-rule: no such rule/);
  });

  test('every rule has a doc page: what, why, example, fix', () => {
    for (const r of RULES) {
      const page = `docs/lint/${r.id}.md`;
      assert.ok(existsSync(page), page);
      const text = readFileSync(page, 'utf8');
      assert.match(text, new RegExp(`^# ${r.id} \\(${r.severity}\\)`), `${page} title and severity`);
      for (const part of ['What', 'Why', 'Example', 'Fix']) assert.match(text, new RegExp(`\\*\\*${part}\\.\\*\\*`), `${page}: ${part}`);
    }
  });
});
