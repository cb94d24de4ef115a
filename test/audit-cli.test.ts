/**
 * Audit mode on the command line: the annotation validated where it is written, `check` with both
 * verdicts (text headline, JSON, exit code), `matrix` showing today's reachability unless
 * `--include-audit`, and the agent's `--mode` flag refused when it is neither mode.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { netpol } from './netpol.js';

const SHOP = `
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c}]}
status: {podIP: 10.1.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
spec: {containers: [{name: c}]}
status: {podIP: 10.1.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
spec: {containers: [{name: c}]}
status: {podIP: 10.1.0.3}
`;

/** db only from api (staged), and web may not reach api except on 8080 (enforced), with `mode` on db's policy. */
function shop(mode: string): string {
  return `${SHOP}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-from-api
  namespace: shop
  annotations: {netpol.dev/mode: ${mode}}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-8080, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress: [{ports: [{port: 8080}]}]
`;
}

describe('validate', () => {
  test('a mode that is neither audit nor enforce is an error at the annotation', async () => {
    const r = await netpol(['validate', '-f', '-', '-o', 'json'], shop('dry-run'));
    const annotationLine =
      shop('dry-run')
        .split('\n')
        .findIndex((l) => l.includes('netpol.dev/mode')) + 1;
    assert.equal(r.code, 1);
    const { diagnostics } = JSON.parse(r.stdout) as { diagnostics: { code: string; path: string; message: string; line: number }[] };
    assert.deepEqual(
      diagnostics.map((d) => [d.code, d.path, d.message, d.line]),
      [['FieldValueNotSupported', 'metadata.annotations[netpol.dev/mode]', 'Unsupported value: "dry-run": supported values: "audit", "enforce"', annotationLine]],
    );
  });

  test('audit and enforce are valid', async () => {
    for (const mode of ['audit', 'enforce']) assert.equal((await netpol(['validate', '-f', '-'], shop(mode))).code, 0, mode);
  });
});

describe('check', () => {
  test('a connection a staged policy would deny: DENIED by it, allowed today; exit 1', async () => {
    const r = await netpol(['check', '-f', '-', '--from', 'shop/web', '--to', 'shop/db', '--port', '5432'], shop('audit'));
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^DENIED by shop\/db-from-api \(audit: allowed today\): shop\/web -> shop\/db TCP port 5432: /);
    assert.match(r.stdout, /^ {2}policy shop\/db-from-api \(audit mode\) \[Ingress, defaulted\]: does not allow$/m);
  });

  test("-o json: the verdict with audit policies enforcing, the staged policies that decide it, and today's verdict", async () => {
    const r = await netpol(['check', '-f', '-', '--from', 'shop/web', '--to', 'shop/db', '--port', '5432', '-o', 'json'], shop('audit'));
    const v = JSON.parse(r.stdout) as { allowed: boolean; ingress: { policies: { mode?: string }[] }; audit: { by: unknown[]; today: { allowed: boolean; reason: string } } };
    assert.equal(v.allowed, false);
    assert.deepEqual(
      v.ingress.policies.map((p) => p.mode),
      ['audit'],
    );
    assert.deepEqual(v.audit.by, [{ namespace: 'shop', name: 'db-from-api' }]);
    assert.deepEqual([v.audit.today.allowed, v.audit.today.reason], [true, 'not-isolated']);
  });

  test('verdicts that agree carry no "by", and enforced policies decide as before', async () => {
    const allowed = await netpol(['check', '-f', '-', '--from', 'shop/api', '--to', 'shop/db', '--port', '5432'], shop('audit'));
    assert.equal(allowed.code, 0);
    assert.match(allowed.stdout, /^ALLOWED: shop\/api -> shop\/db /);
    const denied = await netpol(['check', '-f', '-', '--from', 'shop/web', '--to', 'shop/api', '--port', '80', '-o', 'json'], shop('audit'));
    assert.equal(denied.code, 1);
    assert.deepEqual((JSON.parse(denied.stdout) as { audit: { by: unknown[] } }).audit.by, []);
  });

  test('a staged policy that would admit what an enforced one denies: ALLOWED by it, denied today', async () => {
    // api-8080 (enforced) admits only 8080; a staged policy beside it would admit 9090 too.
    const stagedAllow = `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: api-9090
  namespace: shop
  annotations: {netpol.dev/mode: audit}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress: [{ports: [{port: 9090}]}]
`;
    const r = await netpol(['check', '-f', '-', '--from', 'shop/web', '--to', 'shop/api', '--port', '9090'], `${shop('audit')}${stagedAllow}`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ALLOWED by shop\/api-9090 \(audit: denied today\): shop\/web -> shop\/api TCP port 9090: /);
  });

  test('group questions count staged policies as enforcing, and say so', async () => {
    const r = await netpol(['check', '-f', '-', '--from', 'shop/app in (web,api)', '--to', 'shop/app=db', '--port', '5432'], shop('audit'));
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^PARTLY ALLOWED: .*: 1 of 2 pairs allowed$/m);
    assert.match(r.stderr, /^Note: audit-mode policies count as enforcing in this answer/m);
  });

  test('without staged policies the JSON has no audit part', async () => {
    const r = await netpol(['check', '-f', '-', '--from', 'shop/web', '--to', 'shop/db', '--port', '5432', '-o', 'json'], shop('enforce'));
    assert.equal(r.code, 1);
    assert.equal((JSON.parse(r.stdout) as { audit?: unknown }).audit, undefined);
  });
});

describe('matrix', () => {
  const cell = (out: string, from: string, to: string): string => out.split('\n').find((l) => l.startsWith(`TCP,5432,shop/${from},shop/${to},`)) ?? '';

  test("today's reachability by default, the staged policies enforcing with --include-audit", async () => {
    const args = ['matrix', '-f', '-', '--port', '5432', '-o', 'csv'];
    const today = await netpol(args, shop('audit'));
    const staged = await netpol([...args, '--include-audit'], shop('audit'));
    const enforced = await netpol(args, shop('enforce'));
    assert.equal(today.code, 0, today.stderr);
    assert.deepEqual([cell(today.stdout, 'web', 'db'), cell(staged.stdout, 'web', 'db')], ['TCP,5432,shop/web,shop/db,true', 'TCP,5432,shop/web,shop/db,false']);
    assert.equal(staged.stdout, enforced.stdout);
    assert.equal(
      today.stdout,
      (await netpol(args, shop('enforce').replace(/---\napiVersion: networking.k8s.io\/v1\nkind: NetworkPolicy\nmetadata:\n {2}name: db-from-api[\s\S]*?(?=---)/, ''))).stdout,
    );
  });
});

describe('agent', () => {
  test('--mode is enforce or audit', async () => {
    const r = await netpol(['agent', '--node', 'n1', '-f', 'examples/three-tier', '--mode', 'staged', '--once']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--mode staged: use one of enforce, audit/);
  });
});
