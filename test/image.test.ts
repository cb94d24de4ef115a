/**
 * The container image (`npm run image`): it builds as an OCI layout without a Docker daemon, and runs
 * under runc: `netpol --help`, nft and conntrack inside it, and the agent itself with only NET_ADMIN and
 * NET_RAW, in the container's own network namespace, applying a manifest. Building takes about a minute,
 * so it runs when NETPOL_TEST_IMAGE=1 (.ci/run sets it for one Node version) and needs root, umoci and
 * runc; skipped otherwise, saying why.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = new URL('..', import.meta.url).pathname;

function skipReason(): string | false {
  if (process.env.NETPOL_TEST_IMAGE !== '1') return 'set NETPOL_TEST_IMAGE=1 to build the image and run it (about a minute)';
  if (process.getuid?.() !== 0) return 'needs root (umoci unpack, runc)';
  for (const tool of ['umoci', 'runc']) if (spawnSync(tool, ['--version']).error) return `needs ${tool} (apt-get install umoci runc)`;
  return false;
}
const skip = skipReason();

interface RuntimeConfig {
  process: { args: string[]; terminal?: boolean; capabilities?: Record<string, string[]> };
  mounts: { destination: string; type: string; source: string; options: string[] }[];
}

describe('the container image', { skip }, () => {
  let dir = '';
  let image = '';
  let bundle = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'netpol-image-'));
    const built = spawnSync('bash', [join(REPO, 'scripts/image.sh'), join(dir, 'layout')], { cwd: REPO, encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    image = built.stdout.trim().split('\n').pop() ?? '';
    bundle = join(dir, 'bundle');
    const unpacked = spawnSync('umoci', ['unpack', '--image', image, bundle], { encoding: 'utf8' });
    assert.equal(unpacked.status, 0, unpacked.stderr);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the bundle with `args` (and changes to its runtime config); stdout, stderr and the exit code. */
  function runInImage(args: string[] | undefined, edit: (c: RuntimeConfig) => void = () => {}) {
    const path = join(bundle, 'config.json');
    const config = JSON.parse(readFileSync(path, 'utf8')) as RuntimeConfig;
    config.process.terminal = false;
    if (args) config.process.args = args;
    edit(config);
    writeFileSync(path, JSON.stringify(config));
    return spawnSync('runc', ['run', '-b', bundle, `netpol-test-${process.pid}`], { encoding: 'utf8', timeout: 60_000 });
  }

  test('the default command is netpol --help', () => {
    const r = runInImage(undefined);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^netpol: Kubernetes NetworkPolicy/);
    assert.match(r.stdout, /netpol agent --node NAME \[--kubeconfig FILE\]/);
  });

  test('nft and conntrack run inside it', () => {
    for (const [tool, want] of [
      ['/usr/sbin/nft', /^nftables v1/],
      ['/usr/sbin/conntrack', /^conntrack v1/],
    ] as const) {
      const r = runInImage([tool, '--version']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, want);
    }
  });

  test("the agent applies a manifest with NET_ADMIN and NET_RAW only, in the container's network namespace", () => {
    const manifests = join(dir, 'manifests');
    mkdirSync(manifests, { recursive: true });
    writeFileSync(
      join(manifests, 'm.yaml'),
      `apiVersion: v1
kind: Pod
metadata: {name: a, namespace: default, labels: {app: a}}
spec: {nodeName: n1, containers: [{name: c}]}
status: {podIP: 10.5.0.1}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: default}
spec: {podSelector: {}}
`,
    );
    const caps = ['CAP_NET_ADMIN', 'CAP_NET_RAW'];
    const r = runInImage(['/usr/local/bin/node', '/app/bin/netpol.js', 'agent', '--node', 'n1', '-f', '/manifests', '--once', '-o', 'json'], (c) => {
      c.process.capabilities = { bounding: caps, effective: caps, permitted: caps, ambient: [] };
      c.mounts.push({ destination: '/manifests', type: 'bind', source: manifests, options: ['rbind', 'ro'] });
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const applied = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { kind: string; localPods?: number; isolatedPods?: number })
      .filter((e) => e.kind === 'applied');
    assert.deepEqual(
      applied.map((e) => [e.localPods, e.isolatedPods]),
      [[1, 1]],
    );
  });
});
