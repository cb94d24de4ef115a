/**
 * `netpol diff` through `run(argv, io)`: sides from directories, stdin and git revisions (a real
 * repository made in a temporary directory), exit codes 0/1/2, the JSON shape CI reads, causes, and
 * Markdown for a pull-request comment.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGitSources } from '../../src/cli/git.js';
import { netpol } from '../netpol.js';

const WORKLOADS = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: v1
kind: Namespace
metadata: {name: ops}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: probe, namespace: ops, labels: {app: probe}}
spec: {containers: [{name: c}]}
`;

const API_FROM_WEB = (port: number) => `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-in, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: ${port}}]
`;

let dir = '';
const side = (name: string, files: Record<string, string>): string => {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
  return d;
};
const git = (...args: string[]) => {
  const r = spawnSync('git', args, { cwd: join(dir, 'repo'), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'netpol-diff-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('netpol diff', () => {
  test('no change: exit 0, every probe unchanged', async () => {
    const a = side('same-a', { 'w.yaml': WORKLOADS, 'p.yaml': API_FROM_WEB(80) });
    const b = side('same-b', { 'p.yaml': API_FROM_WEB(80), 'w.yaml': WORKLOADS });
    const r = await netpol(['diff', a, b]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /reachability unchanged/);
  });

  test('an edited rule: exit 1, the pairs per probe with the policy and rule as cause (json)', async () => {
    const a = side('edit-a', { 'w.yaml': WORKLOADS, 'p.yaml': API_FROM_WEB(80) });
    const b = side('edit-b', { 'w.yaml': WORKLOADS, 'p.yaml': API_FROM_WEB(443) });
    const r = await netpol(['diff', a, b, '-o', 'json']);
    assert.equal(r.code, 1, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.changed, true);
    const byPort = new Map(j.probes.map((p: { port: unknown }) => [p.port, p]));
    const p80 = byPort.get(80) as {
      protocol: string;
      added: unknown[];
      removed: { from: string; to: string; causes: { kind: string; policy: string; change: string; rule: number; direction: string }[] }[];
    };
    assert.equal(p80.protocol, 'TCP');
    assert.deepEqual(p80.added, []);
    assert.deepEqual(
      p80.removed.map((x) => [x.from, x.to]),
      [['shop/web', 'shop/api']],
    );
    assert.deepEqual(
      p80.removed[0]!.causes.map((c) => [c.kind, c.policy, c.change, c.direction, c.rule]),
      [['policy', 'shop/api-in', 'edited', 'ingress', 0]],
    );
    const p443 = byPort.get(443) as { added: { from: string; to: string }[] };
    assert.deepEqual(
      p443.added.map((x) => [x.from, x.to]),
      [['shop/web', 'shop/api']],
    );
    // "any port" is a probe too: web reaches api on some port on both sides.
    const any = byPort.get(null) as { added: unknown[]; removed: unknown[] };
    assert.deepEqual([any.added, any.removed], [[], []]);
    assert.deepEqual(j.changes.policies, [{ policy: 'shop/api-in', change: 'edited', parts: ['spec.ingress[0]'] }]);
  });

  test('a label change is the cause when no policy changed; text groups by cause and namespaces', async () => {
    const a = side('label-a', { 'w.yaml': WORKLOADS, 'p.yaml': API_FROM_WEB(80) });
    const b = side('label-b', { 'w.yaml': WORKLOADS.replace('labels: {app: probe}', 'labels: {app: web}'), 'p.yaml': API_FROM_WEB(80) });
    const r = await netpol(['diff', a, b, '--port', '80']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pod ops\/probe: labels app: probe -> web/);
    // podSelector alone selects in the policy's namespace: ops/probe labelled app=web gains nothing.
    assert.match(r.stdout, /TCP\/80: unchanged/);
    const c = side('label-c', { 'w.yaml': WORKLOADS.replace('labels: {app: web}', 'labels: {app: frontend}'), 'p.yaml': API_FROM_WEB(80) });
    const r2 = await netpol(['diff', a, c, '--port', '80']);
    assert.equal(r2.code, 1);
    assert.match(r2.stdout, /- 1 pair denied because pod shop\/web changed labels \(app: web -> frontend\)/);
    assert.match(r2.stdout, /shop -> shop: web -> api/);
  });

  test('pods on one side only are listed apart and make the exit code 1', async () => {
    const a = side('pods-a', { 'w.yaml': WORKLOADS });
    const b = side('pods-b', { 'w.yaml': WORKLOADS.replace('name: probe, namespace: ops', 'name: probe2, namespace: ops') });
    const r = await netpol(['diff', a, b, '-o', 'json']);
    assert.equal(r.code, 1);
    const j = JSON.parse(r.stdout);
    assert.deepEqual([j.podsOnlyBefore, j.podsOnlyAfter], [['ops/probe'], ['ops/probe2']]);
  });

  test('a default-deny added: md for a PR comment, with the isolating policy as cause', async () => {
    const a = side('deny-a', { 'w.yaml': WORKLOADS });
    const deny = 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: ops}\nspec: {podSelector: {}}\n';
    const b = side('deny-b', { 'w.yaml': WORKLOADS, 'deny.yaml': deny });
    const r = await netpol(['diff', a, b, '-o', 'md', '--port', '80']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /\| TCP\/80 \| 0 \| 2 \|/);
    assert.match(r.stdout, /2 newly denied: policy ops\/deny added: isolates for ingress/);
  });

  test('a policy switched from audit to enforce (spec unchanged) changes what is enforced; the mode is the cause', async () => {
    const staged = (mode: string) => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: ops, annotations: {netpol.dev/mode: ${mode}}}
spec: {podSelector: {}}
`;
    const a = side('mode-a', { 'w.yaml': WORKLOADS, 'deny.yaml': staged('audit') });
    const b = side('mode-b', { 'w.yaml': WORKLOADS, 'deny.yaml': staged('enforce') });
    const r = await netpol(['diff', a, b, '--port', '80']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /policy ops\/deny edited \(metadata\.annotations\[netpol\.dev\/mode\] audit -> enforce\)/);
    assert.match(r.stdout, /TCP\/80: 0 pairs newly allowed, 2 pairs newly denied/);
    assert.match(r.stdout, /2 pairs denied because policy ops\/deny edited \(metadata\.annotations\[netpol\.dev\/mode\] audit -> enforce\): isolates for ingress/);
    const back = await netpol(['diff', b, a, '--port', '80']);
    assert.match(back.stdout, /TCP\/80: 2 pairs newly allowed, 0 pairs newly denied/);
    // An absent annotation is enforce: writing it out changes nothing.
    const plain = side('mode-c', { 'w.yaml': WORKLOADS, 'deny.yaml': staged('enforce').replace(', annotations: {netpol.dev/mode: enforce}', '') });
    const same = await netpol(['diff', plain, b, '--port', '80']);
    assert.equal(same.code, 0, same.stdout);
  });

  test('a cluster-scoped policy switched from audit to enforce: the mode is the cause', async () => {
    const anp = (mode: string) => `apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: no-ops, annotations: {netpol.dev/mode: ${mode}}}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {matchLabels: {team: shop}}}
  ingress:
  - name: deny-ops
    action: Deny
    from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: ops}}}]
`;
    const a = side('cmode-a', { 'w.yaml': WORKLOADS, 'cnp.yaml': anp('audit') });
    const b = side('cmode-b', { 'w.yaml': WORKLOADS, 'cnp.yaml': anp('enforce') });
    const r = await netpol(['diff', a, b, '--port', '80']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /TCP\/80: 0 pairs newly allowed, 2 pairs newly denied/);
    assert.match(r.stdout, /2 pairs denied because ClusterNetworkPolicy\/no-ops edited \(metadata\.annotations\[netpol\.dev\/mode\] audit -> enforce\): admin tier ingress rule 0 denies/);
    assert.doesNotMatch(r.stdout, /unexplained/);
  });

  test('stdin on one side', async () => {
    const a = side('stdin-a', { 'w.yaml': WORKLOADS, 'p.yaml': API_FROM_WEB(80) });
    const r = await netpol(['diff', a, '-', '--port', '80'], `${WORKLOADS}\n---\n${API_FROM_WEB(80)}`);
    assert.equal(r.code, 0, r.stderr);
  });

  test('git:REV:PATH reads a revision without a checkout', async () => {
    const repo = side('repo/deploy', { 'w.yaml': WORKLOADS, 'p.yaml': API_FROM_WEB(80) });
    git('init', '-q');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'one');
    writeFileSync(join(repo, 'p.yaml'), API_FROM_WEB(443));
    const read = await readGitSources({ rev: 'HEAD', path: 'deploy/' }, { recursive: false, cwd: join(dir, 'repo') });
    assert.deepEqual(read.diagnostics, []);
    assert.deepEqual(
      read.sources.map((s) => s.file),
      ['git:HEAD:deploy/p.yaml', 'git:HEAD:deploy/w.yaml'],
    );
    assert.match(read.sources[0]!.text, /port: 80/);
    const single = await readGitSources({ rev: 'HEAD', path: 'deploy/p.yaml' }, { recursive: false, cwd: join(dir, 'repo') });
    assert.deepEqual(
      single.sources.map((s) => s.file),
      ['git:HEAD:deploy/p.yaml'],
    );
    // The working tree is untouched: the edit is still there.
    assert.match(git('status', '--porcelain'), /deploy\/p.yaml/);

    const cwd = process.cwd();
    process.chdir(join(dir, 'repo'));
    try {
      const r = await netpol(['diff', 'git:HEAD:deploy', 'deploy', '--port', '80']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /policy shop\/api-in edited \(spec.ingress\[0\]\): ingress rule 0 no longer admits/);
      const bad = await netpol(['diff', 'git:nosuchrev:deploy', 'deploy']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /git:nosuchrev:deploy: unknown revision "nosuchrev"/);
      const missing = await netpol(['diff', 'git:HEAD:nothere', 'deploy']);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /no path "nothere" in HEAD/);
    } finally {
      process.chdir(cwd);
    }
    const outside = await readGitSources({ rev: 'HEAD', path: 'x' }, { recursive: false, cwd: tmpdir() });
    assert.match(outside.diagnostics[0]?.message ?? '', /not inside a git repository/);
  });

  test('usage errors and unreadable sides exit 2', async () => {
    const a = side('err-a', { 'w.yaml': WORKLOADS });
    assert.equal((await netpol(['diff', a])).code, 2);
    assert.equal((await netpol(['diff', '-', '-'])).code, 2);
    assert.equal((await netpol(['diff', a, join(dir, 'does-not-exist')])).code, 2);
    const live = await netpol(['diff', 'cluster', a, '--kubeconfig', join(dir, 'no-such-kubeconfig')]);
    assert.equal(live.code, 2);
    assert.match(live.stderr, /no-such-kubeconfig/);
    assert.equal((await netpol(['diff', 'cluster', 'cluster'])).code, 2);
    const stray = await netpol(['diff', a, a, '--context', 'prod']);
    assert.equal(stray.code, 2);
    assert.match(stray.stderr, /neither side is `cluster`/);
    const invalid = side('err-b', { 'p.yaml': API_FROM_WEB(0) });
    assert.equal((await netpol(['diff', a, invalid])).code, 2);
  });
});
