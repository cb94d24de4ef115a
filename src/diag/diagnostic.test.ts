/**
 * Which object a diagnostic is about: `about` and `attachSource` give the label and the reference
 * together; `ObjectMap` finds objects by reference, field by field, where labels can coincide.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { about, attachSource, ObjectMap, type Diagnostic } from './index.js';

const PROBLEM: Diagnostic = { severity: 'error', code: 'FieldValueInvalid', message: 'Invalid value', path: 'spec.priority' };

test('about: the label for people and the reference for code, together; an object already named stays', () => {
  assert.deepEqual(about(PROBLEM, { kind: 'NetworkPolicy', namespace: 'shop', name: 'db' }), {
    ...PROBLEM,
    object: 'NetworkPolicy shop/db',
    ref: { kind: 'NetworkPolicy', namespace: 'shop', name: 'db' },
  });
  assert.deepEqual(about(PROBLEM, { kind: 'AdminNetworkPolicy', name: 'tenants' }), { ...PROBLEM, object: 'AdminNetworkPolicy tenants', ref: { kind: 'AdminNetworkPolicy', name: 'tenants' } });
  const named = about(PROBLEM, { kind: 'Pod', namespace: 'a', name: 'b' });
  assert.equal(about(named, { kind: 'Pod', namespace: 'c', name: 'd' }), named);
  const placed = attachSource(PROBLEM, { kind: 'Pod', namespace: 'a', name: 'b' }, { file: 'f.yaml', line: 3, column: 1, locate: () => ({ line: 7, column: 5 }) });
  assert.deepEqual([placed.object, placed.ref, placed.file, placed.line, placed.column], ['Pod a/b', { kind: 'Pod', namespace: 'a', name: 'b' }, 'f.yaml', 7, 5]);
});

test('ObjectMap: by kind, namespace and name, never by label (a cluster-scoped "a/b" is not namespace a\'s b)', () => {
  const clusterScoped = about(PROBLEM, { kind: 'Thing', name: 'a/b' });
  const namespaced = about(PROBLEM, { kind: 'Thing', namespace: 'a', name: 'b' });
  assert.equal(clusterScoped.object, namespaced.object, 'the labels coincide');
  const invalid = ObjectMap.of([clusterScoped, { ...PROBLEM, severity: 'warning', object: 'x', ref: { kind: 'Pod', name: 'warned' } }]);
  assert.equal(invalid.has({ kind: 'Thing', name: 'a/b' }), true);
  assert.equal(invalid.has({ kind: 'Thing', namespace: 'a', name: 'b' }), false);
  assert.equal(invalid.has({ kind: 'Pod', name: 'warned' }), false, 'errors only, unless asked');
  assert.equal(ObjectMap.of([clusterScoped], 'warning').size, 0);

  const m = new ObjectMap<number>();
  m.set({ kind: 'Pod', namespace: 'x', name: 'b' }, 1);
  m.set({ kind: 'Pod', namespace: 'x', name: 'a' }, 2);
  m.set({ kind: 'Pod', namespace: 'x', name: 'b' }, 3);
  assert.deepEqual([m.size, m.get({ kind: 'Pod', namespace: 'x', name: 'b' }), m.get({ kind: 'Pod', name: 'b' }), [...m.values()]], [2, 3, undefined, [3, 2]]);
});
