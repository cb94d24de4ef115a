/**
 * sourceReader: positions and annotations read back one document at a time agree with the reference
 * loader's, wherever the object sits in a multi-document file (and in a List).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCluster } from '../load/index.js';
import { sourceReader } from './sources.js';

const TEXT = `# leading comment
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
apiVersion: v1
kind: Pod
metadata:
  name: p
  namespace: a
  annotations:
    netpol.dev/lint-disable: pod-not-isolated
spec:
  containers:
  - name: c
    ports: [{name: http, containerPort: 80}]
--- # a comment on the marker line
apiVersion: v1
kind: List
items:
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: np, namespace: a}
  spec:
    podSelector: {}
    ingress:
    - from:
      - podSelector: {matchLabels: {x: z}}
`;

test('positions and annotations per object, as the reference loader places them', () => {
  const { cluster } = loadCluster([{ file: 'f.yaml', text: TEXT }]);
  const read = sourceReader([{ file: 'f.yaml', text: TEXT }]);
  const pod = cluster.pods[0]!;
  const np = cluster.policies[0]!;
  const podText = read({ kind: 'Pod', object: pod })!;
  assert.deepEqual(podText.annotations, { 'netpol.dev/lint-disable': 'pod-not-isolated' });
  for (const path of ['spec.containers[0].ports[0]', 'metadata.name']) assert.deepEqual(podText.locate(path), pod.source!.locate(path), path);
  const npText = read({ kind: 'NetworkPolicy', object: np })!;
  assert.equal(npText.annotations, undefined);
  const path = 'spec.ingress[0].from[0].podSelector';
  assert.deepEqual(npText.locate(path), { line: 28, column: 9 });
  assert.deepEqual(npText.locate(path), np.source!.locate(path));
  const ns = cluster.namespaces.get('a')!;
  assert.deepEqual(read({ kind: 'Namespace', object: ns })!.locate('metadata.name'), ns.source!.locate('metadata.name'));
});
