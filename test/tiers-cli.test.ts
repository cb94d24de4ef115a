/**
 * The commands across tiers, in-process on examples/admin-guardrails: `check` names the rule or tier that
 * decided each side (text and JSON) and answers group questions with the tier-aware class engine, `matrix`
 * answers every pair as the explaining engine does (at any size, `--summary` and `--by namespace` too)
 * and `-o wide` names the deciding rule, `diff` names the cluster policy behind each changed pair.
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
    assert.match(
      passed.stdout,
      /ingress to tenant-a\/db from tenant-a\/web: allowed by NetworkPolicy, after a Pass by ClusterNetworkPolicy\/tenant-a rule ingress\[0\] "own-tenant-is-up-to-the-owners"/,
    );
    assert.match(passed.stdout, /egress from tenant-a\/web to tenant-a\/db: allowed by the default \(no tier decided: allowed\), after a Pass by ClusterNetworkPolicy\/tenant-egress rule egress\[0\]/);
  });

  test('json: each side has its tiers, decisions and passes', async () => {
    const r = await netpol(['check', '-f', EX, '--from', 'monitoring/prometheus', '--to', 'tenant-a/db', '--port', 'metrics', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const v = JSON.parse(r.stdout) as { ingress: { tiers: { decisions: { allowed: boolean; by: Record<string, unknown> }[]; admin: unknown[]; baseline: unknown[] } } };
    assert.deepEqual(
      v.ingress.tiers.decisions.map((d) => [d.allowed, d.by.tier, (d.by.policy as { name: string }).name, d.by.rule, d.by.action]),
      [[true, 'admin', 'allow-monitoring', 0, 'accept']],
    );
    assert.equal(v.ingress.tiers.admin.length, 2);
    assert.equal(v.ingress.tiers.baseline.length, 1);
  });

  test('a domain name is an endpoint of its own; group questions count pairs across tiers', async () => {
    const r = await netpol(['check', '-f', EX, '--from', 'tenant-a/web', '--to', 'mirror.example.com', '--port', '443']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /mirror\.example\.com is taken as a domain name outside the cluster/);
    assert.match(r.stdout, /allowed by ClusterNetworkPolicy\/tenant-egress \(admin tier, priority 30\) rule egress\[1\] "package-mirror": Accept/);
    const g = await netpol(['check', '-f', EX, '--from', 'tenant-a/app=web', '--to', 'tenant-a/db', '--port', '5432']);
    assert.equal(g.code, 0, g.stderr);
    assert.match(g.stdout, /^ALLOWED: tenant-a\/app=web \(1 pod\) -> tenant-a\/db \(1 pod\) TCP port 5432: 1 of 1 pair allowed$/m);
    // Every pod of tenant-b towards tenant-a: the admin tier denies them all.
    const all = await netpol(['check', '-f', EX, '--from', 'tenant-b/app=web', '--to', 'tenant-a/app=db', '--port', '5432', '-o', 'json']);
    assert.equal(all.code, 1, all.stderr);
    const v = JSON.parse(all.stdout) as { allowed: boolean; pairs: number; allowedPairs: number; deniedExample: { ingress: { tiers: { decisions: { by: { policy?: { name: string } } }[] } } } };
    assert.deepEqual([v.allowed, v.pairs, v.allowedPairs], [false, 1, 0]);
    assert.equal(v.deniedExample.ingress.tiers.decisions[0]!.by.policy?.name, 'tenant-a');
  });
});

describe('diff across tiers', () => {
  test('an edited cluster policy: the pairs it changes, attributed to its rule', async () => {
    const { cpSync, mkdtempSync, readFileSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'netpol-diff-tiers-'));
    try {
      cpSync(EX, dir, { recursive: true });
      const file = join(dir, 'admin-policies.yaml');
      // tenant-a's "no-other-tenant" rule turns from Deny into Accept.
      const text = readFileSync(file, 'utf8');
      const edited = text.replace(/(name: no-other-tenant\n\s+action: )Deny/, '$1Accept');
      assert.notEqual(edited, text);
      writeFileSync(file, edited);
      const r = await netpol(['diff', EX, dir, '--port', '5432', '-o', 'json']);
      assert.equal(r.code, 1, r.stderr);
      const d = JSON.parse(r.stdout) as {
        changes: { clusterPolicies: { policy: string; change: string; parts: string[] }[] };
        probes: { added: { from: string; to: string; causes: { kind: string; policy: string; effect: string; rule: number }[] }[]; removed: unknown[] }[];
      };
      assert.deepEqual(d.changes.clusterPolicies, [{ policy: 'ClusterNetworkPolicy/tenant-a', change: 'edited', parts: ['spec.ingress[1]'] }]);
      const added = d.probes[0]!.added;
      assert.deepEqual(added.map((p) => `${p.from} -> ${p.to}`).sort(), ['tenant-b/db -> tenant-a/db', 'tenant-b/db -> tenant-a/web', 'tenant-b/web -> tenant-a/db', 'tenant-b/web -> tenant-a/web']);
      for (const p of added)
        assert.deepEqual(
          p.causes.map((c) => [c.kind, c.policy, c.effect, c.rule]),
          [['clusterPolicy', 'ClusterNetworkPolicy/tenant-a', 'accepts', 1]],
        );
      assert.deepEqual(d.probes[0]!.removed, []);
      const same = await netpol(['diff', EX, EX]);
      assert.equal(same.code, 0, same.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
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
    assert.match(
      m.stdout,
      /tenant-b\/web -> tenant-b\/db: denied by ingress of tenant-b\/db \(ClusterNetworkPolicy\/tenant-default-deny \(baseline tier, priority 0\) rule ingress\[0\] "default-deny": Deny\)/,
    );
  });

  test('--summary and --by namespace at any size: the tiers counted per class of pods', async () => {
    // 3,000 pods in two namespaces; the admin tier denies ingress from namespace b, and Accepts port 80 from a.
    const pods = (ns: string, n: number) =>
      Array.from({ length: n }, (_, i) => `---\napiVersion: v1\nkind: Pod\nmetadata: {name: p${i}, namespace: ${ns}}\nspec: {containers: [{name: c}]}\n`).join('');
    const text =
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n${pods('a', 2000)}${pods('b', 1000)}---\n` +
      `apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: x}\nspec: {tier: Admin, priority: 1, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: b}}}]}]}\n`;
    const r = await netpol(['matrix', '-f', '-', '--summary', '-o', 'json', '--port', '80'], text);
    assert.equal(r.code, 0, r.stderr);
    // Sources in a reach everyone else (3,000 - 1 each); sources in b reach no one.
    assert.deepEqual(JSON.parse(r.stdout), { pods: 3000, probes: [{ port: 80, protocol: 'TCP', allowedPairs: 2000 * 2999 }] });
    const t = await netpol(['matrix', '-f', '-', '--by', 'namespace', '--port', '80'], text);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /^a\s+3998000\/3998000\s+2000000\/2000000$/m);
    assert.match(t.stdout, /^b\s+0\/2000000\s+0\/999000$/m);
  });
});
