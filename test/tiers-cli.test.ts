/**
 * The commands across tiers, in-process on examples/admin-guardrails: `check` names the rule or tier that
 * decided each side (text and JSON), `matrix` answers every pair as the explaining engine does and `-o
 * wide` names the deciding rule, group questions and oversized matrices are refused with a reason.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { netpol } from './netpol.js';

process.chdir(fileURLToPath(new URL('..', import.meta.url)));
const EX = 'examples/admin-guardrails';

describe('check across tiers', () => {
  test('text: the admin rule that denied, and NetworkPolicy after a Pass', async () => {
    const denied = await netpol(['check', '-f', EX, '--from', 'tenant-b/web', '--to', 'tenant-a/web', '--port', '80']);
    assert.equal(denied.code, 1);
    assert.match(denied.stdout, /^ingress to tenant-a\/web from tenant-b\/web: DENIED by ClusterNetworkPolicy\/tenant-a \(admin tier, priority 20\) rule ingress\[1\] "no-other-tenant": Deny$/m);
    const passed = await netpol(['check', '-f', EX, '--from', 'tenant-a/web', '--to', 'tenant-a/db', '--port', '5432']);
    assert.equal(passed.code, 0);
    assert.match(passed.stdout, /ingress to tenant-a\/db from tenant-a\/web: allowed by NetworkPolicy, after a Pass by ClusterNetworkPolicy\/tenant-a rule ingress\[0\] "own-tenant-is-up-to-the-owners"/);
    assert.match(passed.stdout, /egress from tenant-a\/web to tenant-a\/db: allowed by the default \(no tier decided: allowed\), after a Pass by ClusterNetworkPolicy\/tenant-egress rule egress\[0\]/);
  });

  test('json: each side has its tiers, decisions and passes', async () => {
    const r = await netpol(['check', '-f', EX, '--from', 'monitoring/prometheus', '--to', 'tenant-a/db', '--port', 'metrics', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const v = JSON.parse(r.stdout) as { ingress: { tiers: { decisions: { allowed: boolean; by: Record<string, unknown> }[]; admin: unknown[]; baseline: unknown[] } } };
    assert.deepEqual(v.ingress.tiers.decisions.map((d) => [d.allowed, d.by.tier, (d.by.policy as { name: string }).name, d.by.rule, d.by.action]), [[true, 'admin', 'allow-monitoring', 0, 'accept']]);
    assert.equal(v.ingress.tiers.admin.length, 2);
    assert.equal(v.ingress.tiers.baseline.length, 1);
  });

  test('a domain name is an endpoint of its own; group questions refuse cluster-scoped policies', async () => {
    const r = await netpol(['check', '-f', EX, '--from', 'tenant-a/web', '--to', 'mirror.example.com', '--port', '443']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /mirror\.example\.com is taken as a domain name outside the cluster/);
    assert.match(r.stdout, /allowed by ClusterNetworkPolicy\/tenant-egress \(admin tier, priority 30\) rule egress\[1\] "package-mirror": Accept/);
    const g = await netpol(['check', '-f', EX, '--from', 'tenant-a/app=web', '--to', 'tenant-a/db', '--port', '5432']);
    assert.equal(g.code, 2);
    assert.match(g.stderr, /group questions .* are not answered for inputs with cluster-scoped policies yet/);
  });
});

test('diff refuses input with cluster-scoped policies (its engine does not know them yet)', async () => {
  const r = await netpol(['diff', EX, EX]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /diff does not analyse cluster-scoped policies/);
});

describe('matrix across tiers', () => {
  test('-o json: every pair as check answers it', async () => {
    const m = await netpol(['matrix', '-f', EX, '--port', '5432', '--port', 'metrics', '-o', 'json']);
    assert.equal(m.code, 0, m.stderr);
    const out = JSON.parse(m.stdout) as { pods: string[]; probes: { port: number | string; allowed: boolean[][] }[] };
    for (const probe of out.probes) {
      for (const [i, from] of out.pods.entries()) {
        for (const [j, to] of out.pods.entries()) {
          if (i === j) continue;
          const c = await netpol(['check', '-f', EX, '--from', from, '--to', to, '--port', String(probe.port)]);
          assert.equal(probe.allowed[i]![j], c.code === 0, `${from} -> ${to} ${probe.port}`);
        }
      }
    }
  });

  test('-o wide names the rule or tier that denied', async () => {
    const m = await netpol(['matrix', '-f', EX, '--port', '5432', '-o', 'wide']);
    assert.equal(m.code, 0, m.stderr);
    assert.match(m.stdout, /tenant-b\/web -> tenant-b\/db: denied by ingress of tenant-b\/db \(ClusterNetworkPolicy\/tenant-default-deny \(baseline tier, priority 0\) rule ingress\[0\] "default-deny": Deny\)/);
  });

  test('more pods than the exact engine takes: refused with the way out', async () => {
    const pods = Array.from({ length: 2001 }, (_, i) => `---\napiVersion: v1\nkind: Pod\nmetadata: {name: p${i}, namespace: big}\nspec: {containers: [{name: c}]}\n`).join('');
    const text = `apiVersion: v1\nkind: Namespace\nmetadata: {name: big}\n${pods}---\napiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: x}\nspec: {tier: Admin, priority: 1, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{namespaces: {}}]}]}\n`;
    const r = await netpol(['matrix', '-f', '-', '--summary'], text);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /2001 pods with cluster-scoped policies: .* up to 2000 pods; narrow the matrix with -n NS/);
  });
});
