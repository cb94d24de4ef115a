/**
 * Audit mode for cluster-scoped policies on the command line: the same annotation on an
 * AdminNetworkPolicy, BaselineAdminNetworkPolicy or ClusterNetworkPolicy stages it. `check` answers for
 * the policies as written and names the staged cluster policy that makes the difference, either way
 * (a staged Deny: "DENIED by AdminNetworkPolicy/x (audit: allowed today)"; a staged Accept or Pass:
 * "ALLOWED by ... (audit: denied today)"); `matrix` shows today's reachability unless `--include-audit`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { netpol } from './netpol.js';

const PODS = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c}]}
status: {podIP: 10.1.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
spec: {containers: [{name: c}]}
status: {podIP: 10.1.0.3}
`;

/** An AdminNetworkPolicy denying web -> db on 5432, with `mode` as its annotation (none when undefined). */
function denyWebToDb(mode: string | undefined): string {
  return `---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata:
  name: no-web-to-db
${mode === undefined ? '' : `  annotations: {netpol.dev/mode: ${mode}}\n`}spec:
  priority: 10
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}}
  ingress:
  - {name: web, action: Deny, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}], ports: [{portNumber: {port: 5432}}]}
`;
}

/** A BaselineAdminNetworkPolicy denying everything into db (enforced). */
const BASELINE_DENY = `---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}}
  ingress: [{action: Deny, from: [{namespaces: {}}]}]
`;

/** A staged ClusterNetworkPolicy (Admin tier) with `action` on web -> db. */
function stagedCnp(action: 'Accept' | 'Pass'): string {
  return `---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: web-db
  annotations: {netpol.dev/mode: audit}
spec:
  tier: Admin
  priority: 5
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}}
  ingress: [{action: ${action}, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}]}]
`;
}

const check = (manifests: string, extra: string[] = []) => netpol(['check', '-f', '-', '--from', 'shop/web', '--to', 'shop/db', '--port', '5432', ...extra], manifests);

describe('validate', () => {
  test("a mode that is neither audit nor enforce is an error at the cluster policy's annotation", async () => {
    const text = `${PODS}${denyWebToDb('Audit')}`;
    const r = await netpol(['validate', '-f', '-', '-o', 'json'], text);
    assert.equal(r.code, 1);
    const line = text.split('\n').findIndex((l) => l.includes('netpol.dev/mode')) + 1;
    const { diagnostics } = JSON.parse(r.stdout) as { diagnostics: { code: string; path: string; message: string; line: number }[] };
    assert.deepEqual(
      diagnostics.map((d) => [d.code, d.path, d.message, d.line]),
      [['FieldValueNotSupported', 'metadata.annotations[netpol.dev/mode]', 'Unsupported value: "Audit": supported values: "audit", "enforce"', line]],
    );
  });
});

describe('check', () => {
  test('a staged AdminNetworkPolicy Deny: DENIED by it, allowed today; exit 1', async () => {
    const r = await check(`${PODS}${denyWebToDb('audit')}`);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^DENIED by AdminNetworkPolicy\/no-web-to-db \(audit: allowed today\): shop\/web -> shop\/db TCP port 5432: /);
    assert.match(r.stdout, /DENIED by AdminNetworkPolicy\/no-web-to-db \(admin tier, priority 10, audit mode\) rule ingress\[0\] "web": Deny$/m);
    const enforced = await check(`${PODS}${denyWebToDb('enforce')}`);
    assert.equal(enforced.code, 1);
    assert.match(enforced.stdout, /^DENIED: shop\/web -> shop\/db /);
  });

  test('-o json: audit.by names the cluster policy by kind and name; today is allowed, by the default', async () => {
    const r = await check(`${PODS}${denyWebToDb('audit')}`, ['-o', 'json']);
    const v = JSON.parse(r.stdout) as { allowed: boolean; audit: { by: unknown[]; today: { allowed: boolean; ingress: { tiers?: unknown } } } };
    assert.equal(v.allowed, false);
    assert.deepEqual(v.audit.by, [{ kind: 'AdminNetworkPolicy', name: 'no-web-to-db' }]);
    assert.equal(v.audit.today.allowed, true);
    assert.equal(v.audit.today.ingress.tiers, undefined, 'today the staged policy does not exist: no tiers at all');
  });

  test('another port: the staged Deny does not match, the verdicts agree, nothing is named', async () => {
    const r = await netpol(['check', '-f', '-', '--from', 'shop/web', '--to', 'shop/db', '--port', '80', '-o', 'json'], `${PODS}${denyWebToDb('audit')}`);
    assert.equal(r.code, 0);
    assert.deepEqual((JSON.parse(r.stdout) as { audit: { by: unknown[] } }).audit.by, []);
  });

  test('a staged Accept above an enforced baseline Deny: ALLOWED by it, denied today', async () => {
    const r = await check(`${PODS}${BASELINE_DENY}${stagedCnp('Accept')}`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ALLOWED by ClusterNetworkPolicy\/web-db \(audit: denied today\): shop\/web -> shop\/db TCP port 5432: /);
  });

  test('a staged Pass above an enforced admin Deny hands the connection to the baseline tier, which denies too: verdicts agree', async () => {
    const r = await check(`${PODS}${denyWebToDb(undefined)}${BASELINE_DENY}${stagedCnp('Pass')}`, ['-o', 'json']);
    assert.equal(r.code, 1);
    assert.deepEqual((JSON.parse(r.stdout) as { audit: { by: unknown[] } }).audit.by, []);
  });

  test('a staged Pass above an enforced admin Deny, no baseline: ALLOWED by the Pass, denied today', async () => {
    const r = await check(`${PODS}${denyWebToDb(undefined)}${stagedCnp('Pass')}`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ALLOWED by ClusterNetworkPolicy\/web-db \(audit: denied today\): /);
  });
});

describe('matrix', () => {
  const cell = (out: string, from: string, to: string): string => out.split('\n').find((l) => l.startsWith(`TCP,5432,shop/${from},shop/${to},`)) ?? '';

  test("today's reachability by default (the staged ANP does not exist), the staged ANP enforcing with --include-audit", async () => {
    const args = ['matrix', '-f', '-', '--port', '5432', '-o', 'csv'];
    const today = await netpol(args, `${PODS}${denyWebToDb('audit')}`);
    const staged = await netpol([...args, '--include-audit'], `${PODS}${denyWebToDb('audit')}`);
    assert.equal(today.code, 0, today.stderr);
    assert.deepEqual([cell(today.stdout, 'web', 'db'), cell(staged.stdout, 'web', 'db')], ['TCP,5432,shop/web,shop/db,true', 'TCP,5432,shop/web,shop/db,false']);
    assert.equal(staged.stdout, (await netpol(args, `${PODS}${denyWebToDb('enforce')}`)).stdout);
    assert.equal(today.stdout, (await netpol(args, PODS)).stdout);
  });
});
