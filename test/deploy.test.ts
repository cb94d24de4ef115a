/**
 * deploy/ holds what the issue asks of an install, and nothing more: read-only RBAC on exactly the
 * resources the agent follows, a DaemonSet on the host network with NET_ADMIN and NET_RAW only, on every node, with
 * requests, probes on the agent's endpoint and a grace period. (That it applies cleanly to a real API
 * server is checked in test/agent/kube-source.test.ts with `kubectl apply -k deploy/`.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { kubectlPath } from '../src/controlplane/index.js';

const DIR = new URL('../deploy/', import.meta.url).pathname;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a manifest read for inspection
type Obj = any;

function objects(): Obj[] {
  const k = parseAllDocuments(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as { resources: string[] };
  return k.resources.flatMap((f) => parseAllDocuments(readFileSync(join(DIR, f), 'utf8')).map((d) => d.toJS() as Obj));
}

test('the ClusterRole grants get/list/watch on what the agent follows, nothing else', () => {
  const role = objects().find((o) => o.kind === 'ClusterRole');
  const grants = role.rules.flatMap((r: Obj) => r.apiGroups.flatMap((g: string) => r.resources.flatMap((res: string) => r.verbs.map((v: string) => `${g}/${res}:${v}`)))).sort();
  const resources = [
    '/namespaces',
    '/nodes',
    '/pods',
    'networking.k8s.io/networkpolicies',
    'policy.networking.k8s.io/adminnetworkpolicies',
    'policy.networking.k8s.io/baselineadminnetworkpolicies',
    'policy.networking.k8s.io/clusternetworkpolicies',
  ];
  assert.deepEqual(grants, resources.flatMap((r) => ['get', 'list', 'watch'].map((v) => `${r}:${v}`)).sort());
  const binding = objects().find((o) => o.kind === 'ClusterRoleBinding');
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'netpol-agent', namespace: 'netpol-system' }]);
  assert.equal(binding.roleRef.name, role.metadata.name);
});

test('the DaemonSet: host network, NET_ADMIN/NET_RAW only, not privileged, every node, requests, probes, grace', () => {
  const ds = objects().find((o) => o.kind === 'DaemonSet');
  const pod = ds.spec.template.spec;
  assert.equal(pod.hostNetwork, true);
  assert.equal(pod.serviceAccountName, 'netpol-agent');
  assert.deepEqual(pod.tolerations, [{ operator: 'Exists' }]);
  assert.ok(pod.terminationGracePeriodSeconds > 0);
  const [c] = pod.containers;
  assert.equal(c.securityContext.privileged, false);
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] });
  assert.ok(c.resources.requests.cpu && c.resources.requests.memory);
  assert.equal(c.readinessProbe.httpGet.path, '/readyz');
  assert.equal(c.livenessProbe.httpGet.path, '/healthz');
  assert.ok(c.args.includes('agent'));
  assert.deepEqual(c.env.find((e: Obj) => e.name === 'NODE_NAME').valueFrom, { fieldRef: { fieldPath: 'spec.nodeName' } });
});

const KUBECTL = kubectlPath();
const noKubectl = spawnSync(KUBECTL, ['version', '--client']).error ? `needs kubectl (scripts/control-plane/build.sh builds one; not found: ${KUBECTL})` : false;

test('the drop log patch: --log-denied, privileged (the device cgroup refuses /dev/kmsg otherwise), /dev/kmsg from the host', { skip: noKubectl }, () => {
  // kubectl applies the JSON patch to the manifest locally, as it would to the live DaemonSet.
  const r = spawnSync(KUBECTL, ['patch', '--local', '-f', join(DIR, 'daemonset.yaml'), '--type=json', '--patch-file', join(DIR, 'drop-log-patch.yaml'), '-o', 'json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const pod = (JSON.parse(r.stdout) as Obj).spec.template.spec;
  const [c] = pod.containers;
  assert.deepEqual(c.args.slice(-2), ['--output=json', '--log-denied']);
  assert.equal(c.securityContext.privileged, true);
  assert.equal(c.securityContext.allowPrivilegeEscalation, undefined, 'the API server refuses privileged without escalation');
  const mount = c.volumeMounts.find((m: Obj) => m.mountPath === '/dev/kmsg');
  assert.equal(mount.readOnly, true);
  assert.deepEqual(pod.volumes.find((v: Obj) => v.name === mount.name).hostPath, { path: '/dev/kmsg', type: 'CharDevice' });
});
