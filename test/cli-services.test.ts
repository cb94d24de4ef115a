/**
 * `svc/NAME` and `NS/svc/NAME` in `check`: a Service stands for the pods its selector picks, and a
 * connection to it is checked on the pods' port (targetPort). Answers are compared with the same question
 * asked with the selector and the targetPort spelled out.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { netpol } from './netpol.js';

process.chdir(fileURLToPath(new URL('..', import.meta.url)));

const BOOKSTORE = ['check', '-f', 'examples/bookstore', '-n', 'bookstore', '-o', 'json'];
/** The answer without the endpoint labels (which say how the question was asked). */
const answer = (stdout: string) => {
  const { from: _f, to: _t, ...rest } = JSON.parse(stdout) as Record<string, unknown>;
  return rest;
};

const SHOP = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
spec: {containers: [{name: c, ports: [{containerPort: 5432}]}]}
status: {podIP: 10.0.0.2}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 5432}]}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec: {selector: {app: db}, ports: [{name: pg, port: 80, targetPort: 5432}, {name: admin, port: 81, targetPort: 9000}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: external, namespace: shop}
spec: {ports: [{port: 443}]}
---
apiVersion: v1
kind: Service
metadata: {name: nobody, namespace: shop}
spec: {selector: {app: gone}, ports: [{port: 80}]}
`;
const shop = (...args: string[]) => netpol(['check', '-f', '-', '-n', 'shop', ...args], SHOP);

describe('check with Services', () => {
  test('svc/NAME is the pods its selector picks; --port naming a Service port is checked on its targetPort', async () => {
    const viaService = await netpol([...BOOKSTORE, '--from', 'deploy/coffeeshop', '--to', 'svc/api', '--port', '80']);
    const spelled = await netpol([...BOOKSTORE, '--from', 'deploy/coffeeshop', '--to', 'app=bookstore,role=api', '--port', 'http']);
    assert.equal(viaService.code, 1, viaService.stderr);
    assert.equal(spelled.code, 1);
    assert.deepEqual(answer(viaService.stdout), answer(spelled.stdout));
    assert.match(viaService.stderr, /^Note: --port 80 is port 80 \(http\) of Service bookstore\/api, which forwards to targetPort http/m);
    assert.equal(JSON.parse(viaService.stdout).to, 'bookstore/svc/api');
    // The same with the namespace in the reference, and kubectl's other words for the resource.
    for (const to of ['bookstore/svc/api', 'service/api', 'bookstore/services/api']) {
      const r = await netpol([...BOOKSTORE, '--from', 'deploy/coffeeshop', '--to', to, '--port', '80']);
      assert.deepEqual(answer(r.stdout), answer(viaService.stdout), to);
    }
  });

  test('without --port, the only port of the Service is taken; with several, every port is answered', async () => {
    const only = await shop('--from', 'db', '--to', 'svc/web', '-o', 'json');
    assert.equal(only.code, 0, only.stderr);
    assert.equal(JSON.parse(only.stdout).port, 'http');
    assert.match(only.stderr, /no --port: checking the only TCP port of Service shop\/web, 80 -> targetPort http/);
    const several = await shop('--from', 'web', '--to', 'svc/db', '-o', 'json');
    assert.match(several.stderr, /Service shop\/db has 2 TCP ports \(80 "pg" -> targetPort 5432, 81 "admin" -> targetPort 9000\); answering for every port/);
    assert.equal(JSON.parse(several.stdout).port, null);
  });

  test('the verdict follows the targetPort: the policy admits 5432, so port 80 (-> 5432) is allowed and 81 (-> 9000) is not', async () => {
    const pg = await shop('--from', 'web', '--to', 'svc/db', '--port', 'pg');
    assert.equal(pg.code, 0, pg.stdout + pg.stderr);
    assert.match(pg.stdout, /^ALLOWED: .*TCP port 5432/m);
    const admin = await shop('--from', 'web', '--to', 'svc/db', '--port', '81');
    assert.equal(admin.code, 1);
    assert.match(admin.stdout, /^DENIED: .*TCP port 9000/m);
    // A port that is not the Service's is the pods' own port, said so.
    const direct = await shop('--from', 'web', '--to', 'svc/db', '--port', '5432');
    assert.equal(direct.code, 0);
    assert.match(direct.stderr, /--port 5432 is not a TCP port of Service shop\/db .*checking it as the pods' own port/);
    // As a source, a Service is its pods; ports are the destination's.
    const from = await shop('--from', 'svc/web', '--to', 'db', '--port', '5432');
    assert.equal(from.code, 0, from.stderr);
    assert.doesNotMatch(from.stderr, /Note/);
  });

  test('a Service that stands for no pods, or none of that name, is a usage error saying why', async () => {
    const cases: [string, RegExp][] = [
      ['svc/external', /Service shop\/external has no selector, so it stands for no pods netpol can know/],
      ['svc/nobody', /Service shop\/nobody selects no pods in the input \(selector app=gone\)/],
      ['svc/api', /no Service shop\/api in the input$/m],
      ['default/svc/db', /no Service default\/db in the input \(did you mean shop\/svc\/db\?\)/],
    ];
    for (const [to, message] of cases) {
      const r = await shop('--from', 'web', '--to', to);
      assert.equal(r.code, 2, to);
      assert.match(r.stderr, message, to);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
    const none = await netpol(['check', '-f', 'examples/three-tier', '-n', 'three-tier', '--from', 'web', '--to', 'svc/db']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no Service three-tier\/db in the input \(the input has no Services\)/);
  });

  test('Services change no answer: matrix is the same with and without them', async () => {
    const withServices = await netpol(['matrix', '-f', 'examples/bookstore', '-o', 'json', '--port', '8080']);
    const without = await netpol(['matrix', '-f', 'examples/bookstore/workloads.yaml', '-f', 'examples/bookstore/api-allow.yaml', '-o', 'json', '--port', '8080']);
    assert.equal(withServices.code, 0, withServices.stderr);
    assert.deepEqual(JSON.parse(withServices.stdout), JSON.parse(without.stdout));
    assert.equal(withServices.stderr, without.stderr);
  });
});
