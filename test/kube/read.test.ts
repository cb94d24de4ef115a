/**
 * Reading a live cluster, against a real kube-apiserver and etcd (src/controlplane): every example
 * written into the API server gives the same matrix through --kubeconfig as from its files; lists are
 * paginated; a too-narrow ServiceAccount is refused by the real RBAC authorizer and told so; --overlay;
 * unreachable servers and bad kubeconfigs are one clear line and exit 2.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyCluster, clearCluster, KubeClient, loadKubeConfig, PODS, readCluster, resourcePath, setPodStatus } from '../../src/kube/index.js';
import { loadCluster } from '../../src/load/index.js';
import { readSources } from '../../src/load/sources.js';
import type { Cluster, PodInfo } from '../../src/model/cluster.js';
import { netpol, startNetpol } from '../netpol.js';
import { execFileSync } from 'node:child_process';
import { kubectlPath } from '../../src/controlplane/index.js';
import { clusterRoleToken, controlPlaneSkip, grantAndToken, useControlPlane } from './helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
process.chdir(ROOT);
const skip = controlPlaneSkip();

async function loadDir(dir: string): Promise<Cluster> {
  const { sources } = await readSources([dir], { recursive: false });
  return loadCluster(sources).cluster;
}

/** `--port` flags for every numbered and named container port of the example, plus 80. */
function probeFlags(c: Cluster): string[] {
  const ports = new Set<string>(['80']);
  for (const p of c.pods) for (const x of p.ports) ports.add(String(x.port)).add(x.name ?? String(x.port));
  return [...ports]
    .sort()
    .slice(0, 8)
    .flatMap((p) => ['--port', p])
    .concat(['--protocol', 'TCP', '--protocol', 'UDP']);
}

describe('reading a live cluster', { skip }, () => {
  const fx = useControlPlane();

  test('every example: the matrix through --kubeconfig is the matrix from its files', async (t) => {
    const examples = readdirSync('examples').filter((d) => d !== 'broken' && statSync(join('examples', d)).isDirectory());
    assert.ok(examples.length >= 8, `${examples.length} examples`);
    let used: string[] = [];
    for (const name of examples) {
      const dir = join('examples', name);
      const cluster = await loadDir(dir);
      if (cluster.clusterPolicies !== undefined) {
        // applyCluster writes namespaced kinds only, and this API server has no network-policy-api CRDs:
        // cluster-scoped policies read from a live cluster are compared in test/kube/tiers.test.ts.
        t.diagnostic(`${name}: compared in test/kube/tiers.test.ts (cluster-scoped policies need their CRDs)`);
        console.log(`# ${name}: compared in test/kube/tiers.test.ts (cluster-scoped policies need their CRDs)`);
        continue;
      }
      await clearCluster(fx.client, used);
      await applyCluster(fx.client, cluster);
      used = [...cluster.namespaces.keys()];
      const flags = ['-o', 'json', ...probeFlags(cluster)];
      const files = await netpol(['matrix', '-f', dir, ...flags]);
      const live = await netpol(['matrix', '--kubeconfig', fx.cp.kubeconfig, '-A', ...flags]);
      assert.equal(files.code, 0, `${name} from files: ${files.stderr}`);
      assert.equal(live.code, 0, `${name} from the cluster: ${live.stderr}`);
      const parsed = JSON.parse(live.stdout) as { pods: string[] };
      assert.equal(parsed.pods.length, cluster.pods.length, `${name}: every pod read back`);
      assert.deepEqual(JSON.parse(live.stdout), JSON.parse(files.stdout), `${name}: same matrix`);
      // validate sees the same policies, all valid.
      const v = await netpol(['validate', '--kubeconfig', fx.cp.kubeconfig, '-A', '-o', 'json']);
      assert.equal(v.code, 0, v.stdout + v.stderr);
    }
    await clearCluster(fx.client, used);
  });

  test('lists are paginated: 60 pods read 7 at a time, every one once; finished pods are left out', async () => {
    const pods: PodInfo[] = Array.from({ length: 60 }, (_, i) => ({ namespace: 'many', name: `p${i}`, labels: { i: String(i % 3) }, ips: [`10.1.0.${i + 1}`], ports: [] }));
    await applyCluster(fx.client, { namespaces: new Map([['many', { name: 'many', labels: {}, implicit: false }]]), pods, policies: [] });
    await setPodStatus(fx.client, 'many', 'p59', ['10.1.0.60'], 'Succeeded');
    await setPodStatus(fx.client, 'many', 'p58', [], 'Failed');
    const pages: number[] = [];
    const read = await readCluster(fx.client, { namespace: 'many', pageSize: 7, progress: (_w, d) => pages.push(d) });
    const names = read.cluster.pods.map((p) => p.name).sort();
    assert.equal(names.length, 58);
    assert.equal(new Set(names).size, 58);
    assert.ok(!names.includes('p59') && !names.includes('p58'));
    assert.ok(pages.length >= 9, `${pages.length} pages`);
    assert.deepEqual(read.cluster.pods.find((p) => p.name === 'p7')?.ips, ['10.1.0.8']);
    // The whole list through the CLI, with the namespace's real labels.
    const r = await netpol(['validate', '--kubeconfig', fx.cp.kubeconfig, '-n', 'many']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /58 pods, 1 namespace/);
    await clearCluster(fx.client, ['many']);
  });

  test('a ServiceAccount refused by RBAC is told what it cannot list, exit 2', async () => {
    const token = await grantAndToken(fx.client, { namespace: 'team', account: 'narrow', rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] });
    const kubeconfig = join(fx.dir, 'narrow.kubeconfig');
    await fx.cp.writeTokenKubeconfig(kubeconfig, token, 'narrow');
    const inTeam = await netpol(['matrix', '--kubeconfig', kubeconfig, '-n', 'team']);
    assert.equal(inTeam.code, 2);
    assert.match(inTeam.stderr, /^error: your account cannot list networkpolicies in namespace team \(Forbidden/m);
    assert.doesNotMatch(inTeam.stderr, /\n\s+at /, 'no stack trace');
    const other = await netpol(['matrix', '--kubeconfig', kubeconfig, '-n', 'other']);
    assert.equal(other.code, 2);
    assert.match(other.stderr, /your account cannot list pods in namespace other/);
    const all = await netpol(['check', '--kubeconfig', kubeconfig, '--from', 'a', '--to', 'b']);
    assert.equal(all.code, 2);
    assert.match(all.stderr, /your account cannot list namespaces/);

    // With networkpolicies too, one namespace can be analysed; its labels are unknown and said so.
    const token2 = await grantAndToken(fx.client, {
      namespace: 'team',
      account: 'reader',
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
        { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['list'] },
      ],
    });
    const kc2 = join(fx.dir, 'reader.kubeconfig');
    await fx.cp.writeTokenKubeconfig(kc2, token2, 'reader');
    const ok = await netpol(['validate', '--kubeconfig', kc2, '-n', 'team']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /warning: Namespace team: your account cannot get namespace team/);
  });

  test('deploy/rbac-reader.yaml, applied with kubectl, is enough for every analysis command and grants nothing else', async () => {
    execFileSync(kubectlPath(), ['--kubeconfig', fx.cp.kubeconfig, 'apply', '-f', 'deploy/rbac-reader.yaml'], { stdio: 'pipe' });
    await clearCluster(fx.client, ['three-tier']);
    await applyCluster(fx.client, await loadDir('examples/three-tier'));
    const token = await clusterRoleToken(fx.client, { namespace: 'analysts', account: 'alice', clusterRole: 'netpol-reader' });
    const kubeconfig = join(fx.dir, 'alice.kubeconfig');
    await fx.cp.writeTokenKubeconfig(kubeconfig, token, 'alice');
    const files = await netpol(['matrix', '-f', 'examples/three-tier', '-o', 'json', '--port', '5000']);
    for (const scope of [['-A'], ['-n', 'three-tier']]) {
      const live = await netpol(['matrix', '--kubeconfig', kubeconfig, ...scope, '-o', 'json', '--port', '5000']);
      assert.equal(live.code, 0, live.stderr);
      assert.deepEqual(JSON.parse(live.stdout), JSON.parse(files.stdout));
      assert.doesNotMatch(live.stderr, /cannot/, 'the role covers everything the read asks for');
    }
    const check = await netpol(['check', '--kubeconfig', kubeconfig, '--from', 'three-tier/web', '--to', 'three-tier/api', '--port', '5000']);
    assert.equal(check.code, 0, check.stderr);
    // A Service named on the command line is listed (services list is in the role) and stands for its pods.
    const SERVICES = { prefix: '/api/v1', plural: 'services', namespaced: true };
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'three-tier' }, spec: { selector: { role: 'api' }, ports: [{ port: 80, targetPort: 5000 }] } };
    await fx.client.request('POST', resourcePath(SERVICES, 'three-tier'), { verb: 'create', resource: SERVICES, namespace: 'three-tier', name: 'api' }, service);
    const viaService = await netpol(['check', '--kubeconfig', kubeconfig, '--from', 'three-tier/web', '--to', 'three-tier/svc/api', '--port', '80', '-o', 'json']);
    assert.equal(viaService.code, 0, viaService.stderr);
    assert.equal(JSON.parse(viaService.stdout).port, 5000);
    assert.match(viaService.stderr, /--port 80 is port 80 of Service three-tier\/api, which forwards to targetPort 5000/);
    assert.doesNotMatch(viaService.stderr, /cannot/);
    await fx.client.request('DELETE', resourcePath(SERVICES, 'three-tier', 'api'), { verb: 'delete', resource: SERVICES, namespace: 'three-tier', name: 'api' });
    const watching = startNetpol(['watch', '--kubeconfig', kubeconfig, '-A']);
    const first = await watching.stdout.next((l) => l.startsWith('watching'), 'the first list').finally(() => watching.stop());
    assert.equal(await watching.stop(), 0, watching.stderr.toString());
    assert.match(first, /^watching \d+ pods and 3 NetworkPolicies in all namespaces/);
    // Least privilege, checked by the real authorizer: no secrets, no writes.
    const alice = new KubeClient(await loadKubeConfig({ kubeconfig }));
    const SECRETS = { prefix: '/api/v1', plural: 'secrets', namespaced: true };
    await assert.rejects(alice.list(SECRETS, { namespace: 'three-tier' }), /your account cannot list secrets in namespace three-tier/);
    await assert.rejects(
      alice.request('DELETE', resourcePath(PODS, 'three-tier', 'web'), { verb: 'delete', resource: PODS, namespace: 'three-tier', name: 'web' }),
      /your account cannot delete pods web in namespace three-tier/,
    );
    await clearCluster(fx.client, ['three-tier']);
  });

  test('--overlay: the cluster with the files applied; -f with --kubeconfig alone is refused', async () => {
    const base = await loadDir('examples/three-tier');
    await clearCluster(fx.client, ['three-tier']);
    await applyCluster(fx.client, base);
    const extra = join(fx.dir, 'allow-web-to-db.yaml');
    await writeFile(
      extra,
      `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: three-tier}
spec:
  podSelector: {matchLabels: {role: db}}
  ingress: [{from: [{podSelector: {matchLabels: {role: web}}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-to-db, namespace: three-tier}
spec:
  podSelector: {matchLabels: {role: web}}
  policyTypes: [Egress]
  egress: [{to: [{podSelector: {matchLabels: {role: db}}}]}]
`,
    );
    const flags = ['-o', 'json', '--port', '3306'];
    const overlay = await netpol(['matrix', '--kubeconfig', fx.cp.kubeconfig, '-A', '--overlay', '-f', extra, ...flags]);
    const files = await netpol(['matrix', '-f', 'examples/three-tier', '-f', extra, ...flags]);
    const live = await netpol(['matrix', '--kubeconfig', fx.cp.kubeconfig, '-A', ...flags]);
    assert.equal(overlay.code, 0, overlay.stderr);
    assert.deepEqual(JSON.parse(overlay.stdout), JSON.parse(files.stdout));
    assert.notDeepEqual(JSON.parse(overlay.stdout), JSON.parse(live.stdout), 'the overlay changes something');

    // A file object with the name of a cluster object replaces it: `db` without any rule.
    const replace = join(fx.dir, 'db.yaml');
    const denyDb = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: three-tier}
spec:
  podSelector: {matchLabels: {role: db}}
  policyTypes: [Ingress, Egress]
`;
    await writeFile(replace, denyDb);
    const replaced = await netpol(['check', '--kubeconfig', fx.cp.kubeconfig, '--overlay', '-f', replace, '--from', 'three-tier/api', '--to', 'three-tier/db', '--port', '3306', '-o', 'json']);
    const before = await netpol(['check', '--kubeconfig', fx.cp.kubeconfig, '--from', 'three-tier/api', '--to', 'three-tier/db', '--port', '3306', '-o', 'json']);
    assert.equal(before.code, 0, 'api may reach db on the cluster');
    assert.equal(replaced.code, 1, `the replaced db policy admits nothing: ${replaced.stdout}`);

    const refused = await netpol(['matrix', '--kubeconfig', fx.cp.kubeconfig, '-f', extra]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /-f reads files and --kubeconfig reads a cluster: use one, or add --overlay/);
    const noFiles = await netpol(['matrix', '--kubeconfig', fx.cp.kubeconfig, '--overlay']);
    assert.equal(noFiles.code, 2);
    await clearCluster(fx.client, ['three-tier']);
  });

  test('the namespace comes from -n, else the context; KUBECONFIG lists several files', async () => {
    await clearCluster(fx.client, ['three-tier']);
    await applyCluster(fx.client, await loadDir('examples/three-tier'));
    const text = await readFile(fx.cp.kubeconfig, 'utf8');
    const withNs = join(fx.dir, 'ns.kubeconfig');
    await writeFile(withNs, text.replace('    cluster: netpol-lab\n', '    cluster: netpol-lab\n    namespace: three-tier\n'));
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = [join(fx.dir, 'missing'), withNs].join(':');
    try {
      const r = await netpol(['matrix', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual((JSON.parse(r.stdout) as { pods: string[] }).pods, ['three-tier/api', 'three-tier/db', 'three-tier/web']);
      const none = await netpol(['matrix', '-n', 'default', '-o', 'json']);
      assert.deepEqual((JSON.parse(none.stdout) as { pods: string[] }).pods, []);
      const check = await netpol(['check', '--from', 'web', '--to', 'api', '--port', '5000']);
      assert.equal(check.code, 0, check.stderr + check.stdout);
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
    const pods = await fx.client.list(PODS, { namespace: 'three-tier' });
    assert.equal(pods.items.length, 3);
    await clearCluster(fx.client, ['three-tier']);
  });

  test('unreachable servers, bad kubeconfigs and unknown contexts: one clear line, exit 2', async () => {
    const dead = join(fx.dir, 'dead.kubeconfig');
    await writeFile(dead, (await readFile(fx.cp.kubeconfig, 'utf8')).replace(/server: https:\/\/127\.0\.0\.1:\d+/, 'server: https://127.0.0.1:1'));
    const bad = join(fx.dir, 'bad.kubeconfig');
    await writeFile(bad, 'clusters: [{name: x}]\n');
    const cases: [string[], RegExp][] = [
      [['matrix', '--kubeconfig', dead], /^error: cannot reach the API server at https:\/\/127\.0\.0\.1:1 \(ECONNREFUSED/],
      [['matrix', '--kubeconfig', bad], /^error: .*bad\.kubeconfig: not a usable kubeconfig/],
      [['matrix', '--kubeconfig', join(fx.dir, 'nope')], /^error: --kubeconfig .*nope: no such file/],
      [['matrix', '--kubeconfig', fx.cp.kubeconfig, '--context', 'elsewhere'], /^error: --context elsewhere: no such context .*\(contexts: netpol-lab\)/],
    ];
    for (const [argv, message] of cases) {
      const r = await netpol(argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
