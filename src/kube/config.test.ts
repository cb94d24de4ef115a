/** kubeconfig resolution as kubectl does it: KUBECONFIG merging (first wins), --context, the namespace, clear errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfigError, loadKubeConfig } from './config.js';

function kubeconfig(o: { current?: string; clusters: [string, string][]; contexts: [string, string, string?][] }): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    ...(o.current ? [`current-context: ${o.current}`] : []),
    'clusters:',
    ...o.clusters.map(([name, server]) => `- name: ${name}\n  cluster: {server: "${server}"}`),
    'users:',
    '- name: u',
    '  user: {token: t}',
    'contexts:',
    ...o.contexts.map(([name, cluster, ns]) => `- name: ${name}\n  context: {cluster: ${cluster}, user: u${ns ? `, namespace: ${ns}` : ''}}`),
  ].join('\n');
}

test('KUBECONFIG: missing files skipped, the first file to define a name or current-context wins', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netpol-kc-'));
  try {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    writeFileSync(a, kubeconfig({ clusters: [['one', 'https://a.example:6443']], contexts: [['dev', 'one', 'shop']] }));
    writeFileSync(
      b,
      kubeconfig({
        current: 'prod',
        clusters: [
          ['one', 'https://b.example:6443'],
          ['two', 'https://two.example:6443'],
        ],
        contexts: [
          ['prod', 'two'],
          ['dev', 'two'],
        ],
      }),
    );
    const env = { KUBECONFIG: [join(dir, 'missing'), a, b].join(':'), HOME: dir };
    const prod = await loadKubeConfig({ env });
    assert.equal(prod.context, 'prod', "the first current-context set (b's, a sets none)");
    assert.equal(prod.server, 'https://two.example:6443');
    assert.equal(prod.namespace, 'default');
    const dev = await loadKubeConfig({ env, context: 'dev' });
    assert.equal(dev.server, 'https://a.example:6443', 'context dev and cluster one come from a, the first file');
    assert.equal(dev.namespace, 'shop');
    await assert.rejects(
      () => loadKubeConfig({ env, context: 'nope' }),
      (e: Error) => e instanceof KubeConfigError && /--context nope: no such context .*\(contexts: dev, prod\)/.test(e.message),
    );
    await assert.rejects(() => loadKubeConfig({ env: { KUBECONFIG: join(dir, 'missing'), HOME: dir } }), /none of its files exists/);
    writeFileSync(join(dir, 'bad'), 'clusters: {oops');
    await assert.rejects(
      () => loadKubeConfig({ kubeconfig: join(dir, 'bad'), env: {} }),
      (e: Error) => e instanceof KubeConfigError && /not a usable kubeconfig/.test(e.message),
    );
    writeFileSync(join(dir, 'nocontext'), kubeconfig({ clusters: [['one', 'https://a.example']], contexts: [['dev', 'one']] }));
    await assert.rejects(() => loadKubeConfig({ kubeconfig: join(dir, 'nocontext'), env: {} }), /sets no current-context; choose one with --context/);
    writeFileSync(join(dir, 'dangling'), kubeconfig({ current: 'x', clusters: [['one', 'https://a.example']], contexts: [['x', 'gone']] }));
    await assert.rejects(() => loadKubeConfig({ kubeconfig: join(dir, 'dangling'), env: {} }), /refers to cluster "gone", which is not defined/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no kubeconfig anywhere and not in a pod: a clear error, never a guessed local server', async () => {
  const home = mkdtempSync(join(tmpdir(), 'netpol-home-'));
  try {
    await assert.rejects(
      () => loadKubeConfig({ env: { HOME: home } }),
      (e: Error) => e instanceof KubeConfigError && /no cluster to read: no -f files, no --kubeconfig, no KUBECONFIG, no .*\.kube\/config, and not running in a pod/.test(e.message),
    );
    writeFileSync(join(home, 'x'), '');
    await assert.rejects(() => loadKubeConfig({ kubeconfig: join(home, 'x'), env: {} }), KubeConfigError);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
