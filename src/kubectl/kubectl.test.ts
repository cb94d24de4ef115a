/** kubectl's selector syntax and workload names, read against a cluster. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSelector, matches } from '../selector/index.js';
import { cluster, pod } from '../../test/builders.js';
import { parseLabelSelector, podsMatching, workloadPods } from './index.js';

describe('kubectl names', () => {
  test('parseLabelSelector reads kubectl -l syntax', () => {
    const cases: [string, Record<string, string>, boolean][] = [
      ['app=web', { app: 'web' }, true],
      ['app==web', { app: 'web' }, true],
      ['app=web', { app: 'db' }, false],
      ['app!=web', {}, true],
      ['app!=web', { app: 'web' }, false],
      ['tier in (a, b),env', { tier: 'b', env: 'x' }, true],
      ['tier in (a,b),env', { tier: 'b' }, false],
      ['tier notin (a,b)', { tier: 'c' }, true],
      ['tier notin (a,b)', {}, true],
      ['!legacy,app.kubernetes.io/name=x', { 'app.kubernetes.io/name': 'x' }, true],
      ['!legacy', { legacy: 'true' }, false],
      ['app=web,app=db', { app: 'web' }, false],
      ['', { anything: 'x' }, true],
    ];
    for (const [text, labels, expected] of cases) {
      const sel = parseLabelSelector(text);
      assert.ok(sel, text);
      assert.equal(matches(compileSelector(sel), labels), expected, `${text} on ${JSON.stringify(labels)}`);
    }
    for (const bad of ['=x', 'app in (a', 'a b', 'app=we b', ',']) assert.equal(parseLabelSelector(bad), undefined, bad);
  });

  test('workloadPods finds a workload by kind and name, and kubectl-dumped replicas by name and hash', () => {
    const fromManifest = { ...pod('prod/web', { app: 'web' }), workload: { kind: 'Deployment', name: 'web' } };
    const replica = pod('prod/api-7d9f8c6b5-x2x4z', { app: 'api', 'pod-template-hash': '7d9f8c6b5' });
    const other = pod('prod/api-gateway-5c4b7d-abcde', { app: 'gw', 'pod-template-hash': '5c4b7d' });
    const sts = pod('prod/db-0', { app: 'db' });
    const c = cluster({ pods: [fromManifest, replica, other, sts] });
    assert.deepEqual(workloadPods(c, 'prod/deployment/web'), [fromManifest]);
    assert.deepEqual(workloadPods(c, 'prod/deploy/api'), [replica]);
    assert.deepEqual(workloadPods(c, 'prod/sts/db'), [sts]);
    assert.deepEqual(workloadPods(c, 'staging/deployment/api'), []);
    assert.equal(workloadPods(c, 'prod/web'), undefined);
    assert.equal(workloadPods(c, 'prod/widget/web'), undefined);
    assert.deepEqual(podsMatching(c, 'prod', parseLabelSelector('app in (api,db)')!), [replica, sts]);
  });
});
