import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { locatePath, parseFieldPath } from './locate.js';
import { parseDocuments } from './yaml.js';
import type { PNode } from './yaml.js';

const POLICY = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
  labels:
    app.kubernetes.io/name: web
    "0": zero
spec:
  podSelector:
    matchLabels: {app: web}
  ingress:
    - from:
        - ipBlock:
            cidr: 10.0.0.0/8
            except: [10.1.0.0/16, 10.2.0.0/16]
      ports:
        - port: 80
        - port: 443
          endPort: 8443
`;

const root = parseDocuments('p.yaml', POLICY).documents[0] as PNode;
const at = (path: string) => {
  const p = locatePath(root, path);
  return [p.line, p.column];
};

describe('parseFieldPath', () => {
  test('fields, indices and map keys with dots and slashes', () => {
    assert.deepEqual(parseFieldPath('spec.ingress[0].ports[1].endPort'), [{ field: 'spec' }, { field: 'ingress' }, { bracket: '0' }, { field: 'ports' }, { bracket: '1' }, { field: 'endPort' }]);
    assert.deepEqual(parseFieldPath('metadata.labels[app.kubernetes.io/name]'), [{ field: 'metadata' }, { field: 'labels' }, { bracket: 'app.kubernetes.io/name' }]);
    assert.deepEqual(parseFieldPath(''), []);
  });
});

describe('locatePath', () => {
  test('a map entry is located at its key', () => {
    assert.deepEqual(at('spec'), [8, 1]);
    assert.deepEqual(at('spec.ingress[0].ports[1].endPort'), [19, 11]);
    assert.deepEqual(at('spec.podSelector.matchLabels[app]'), [10, 19]);
  });

  test('a list index is located at the item', () => {
    assert.deepEqual(at('spec.ingress[0]'), [12, 7]);
    assert.deepEqual(at('spec.ingress[0].ports[1]'), [18, 11]);
    assert.deepEqual(at('spec.ingress[0].from[0].ipBlock.except[1]'), [15, 35]);
  });

  test('label keys with dots and slashes; a numeric key in a map is a key, not an index', () => {
    assert.deepEqual(at('metadata.labels[app.kubernetes.io/name]'), [6, 5]);
    assert.deepEqual(at('metadata.labels[0]'), [7, 5]);
  });

  test('a missing field falls back to the nearest existing ancestor', () => {
    assert.deepEqual(at('spec.ingress[0].ports[1].protocol'), [18, 11]);
    assert.deepEqual(at('spec.ingress[3].from'), [11, 3]);
    assert.deepEqual(at('spec.egress[0]'), [8, 1]);
    assert.deepEqual(at('metadata.namespace'), [3, 1]);
    assert.deepEqual(at('status'), [1, 1]);
  });

  test('the empty path is the object itself', () => {
    assert.deepEqual(at(''), [1, 1]);
  });

  test('an index into a map or a field of a list stops there', () => {
    assert.deepEqual(at('spec.ingress.from'), [11, 3]);
    assert.deepEqual(at('spec[0]'), [8, 1]);
  });
});
