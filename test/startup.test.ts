/**
 * Start-up cost: the Kubernetes client library (about 800 modules, half a second to load) is imported
 * only by a command that talks to a cluster (src/kube/config.ts `loadKubeConfig`). Every command on files,
 * and every agent of a lab, starts without it. Checked with a module hook that refuses to load it: a
 * command on files still works, and one that reads a cluster meets the refusal (so the hook is in force).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HOOK = fileURLToPath(new URL('./fixtures/startup/register.mjs', import.meta.url));

function netpolWithoutKubeClient(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', HOOK, 'src/cli/bin.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: '', HOME: '/nonexistent' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('commands on files start without the Kubernetes client library', () => {
  const validate = netpolWithoutKubeClient(['validate', '-f', 'examples/three-tier']);
  assert.equal(validate.status, 0, validate.stderr);
  const check = netpolWithoutKubeClient(['check', '-f', 'examples/three-tier', '--from', 'three-tier/web', '--to', 'three-tier/api', '--port', '5000']);
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stdout, /^ALLOWED: three-tier\/web -> three-tier\/api TCP port 5000/);
});

test('a command that reads a cluster does load it (the hook is in force)', () => {
  const matrix = netpolWithoutKubeClient(['matrix', '--kubeconfig', '/nonexistent/kubeconfig']);
  assert.match(matrix.stderr, /client-node was loaded/);
});
