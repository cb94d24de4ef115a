/**
 * Input judged strictly through the command line: empty input, encodings, `-n` values, wrong-case
 * kinds, shared pod addresses, strict decoding of pods and templates, and the hints that go with them.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { netpol } from './netpol.js';

process.chdir(fileURLToPath(new URL('..', import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), 'netpol-input-'));

function file(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

const POD = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x, labels: {app: a}}\nstatus: {podIP: 10.0.0.1}\n';

describe('input judged strictly', () => {
  test('empty input is an error (kubectl: "no objects passed"); only unread kinds is a warning', async () => {
    const empty = await netpol(['validate', '-f', '-'], '');
    assert.equal(empty.code, 1);
    assert.match(empty.stdout, /error: no objects passed: <stdin> holds no objects/);
    const m = await netpol(['matrix', '-f', file('empty.yaml', '# nothing\n')]);
    assert.equal(m.code, 2);
    assert.match(m.stderr, /nothing to analyse/);
    const cm = await netpol(['validate', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n');
    assert.equal(cm.code, 0);
    assert.match(cm.stdout, /warning: no objects netpol reads in <stdin>/);
  });

  test('UTF-16 and bytes that are not UTF-8 are read errors naming the place', async () => {
    const utf16 = file('u16.yaml', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(POD, 'utf16le')]));
    const r16 = await netpol(['validate', '-f', utf16]);
    assert.equal(r16.code, 2);
    assert.match(r16.stdout, /u16\.yaml: error: the text is UTF-16 encoded/);
    const latin1 = file('latin1.yaml', Buffer.from('apiVersion: v1\nkind: Pod\nmetadata: {name: caf\xe9}\n', 'latin1'));
    const r8 = await netpol(['validate', '-f', latin1]);
    assert.equal(r8.code, 2);
    assert.match(r8.stdout, /invalid UTF-8 \(byte 0xe9\) at line 3, column 21/);
  });

  test('-n must be a namespace name; a namespace without pods gets a hint', async () => {
    for (const ns of ['A B', '../../etc', '']) {
      const r = await netpol(['matrix', '-f', '-', '-n', ns], POD);
      assert.equal(r.code, 2, ns);
      assert.match(r.stderr, /not a valid namespace name/);
    }
    const r = await netpol(['matrix', '-f', '-', '-n', 'y'], POD);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /Note: namespace y is not in the input; namespaces with pods: x/);
  });

  test('a known kind in the wrong case is an error with a suggestion', async () => {
    const r = await netpol(['validate', '-f', '-'], 'apiVersion: networking.k8s.io/v1\nkind: networkpolicy\nmetadata: {name: n}\nspec: {podSelector: {}}\n');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /no matches for kind "networkpolicy" in version "networking.k8s.io\/v1" \(did you mean "NetworkPolicy"\?\)/);
  });

  test('unknown fields in pods and templates, invalid names and labels: errors at their place', async () => {
    const r = await netpol(
      ['validate', '-f', '-'],
      'apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Pod, labelz: {app: a}, labels: {"bad key!": v}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    metadata: {lables: {app: d}}\n',
    );
    assert.equal(r.code, 1);
    assert.match(r.stdout, /<stdin>:3:27: error: Pod default\/Bad_Pod: unknown field "metadata.labelz"/);
    assert.match(r.stdout, /Pod default\/Bad_Pod: metadata.name: Invalid value: "Bad_Pod"/);
    assert.match(r.stdout, /metadata.labels: Invalid value: "bad key!"/);
    assert.match(r.stdout, /<stdin>:10:16: error: Deployment default\/d: unknown field "spec.template.metadata.lables"/);
  });

  test('two pods with one address: a warning, and --from ADDRESS asks for the pod', async () => {
    const two = `${POD}---\napiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: x}\nstatus: {podIP: 10.0.0.1}\n`;
    const v = await netpol(['validate', '-f', '-'], two);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /warning: Pod x\/b: status.podIP: address 10.0.0.1 is also the address of pod x\/a/);
    const c = await netpol(['check', '-f', '-', '--from', '10.0.0.1', '--to', 'x/a'], two);
    assert.equal(c.code, 2);
    assert.match(c.stderr, /--from 10.0.0.1: 2 pods have this address \(x\/a, x\/b\); name the pod instead/);
  });

  test('a missing file is said to be unreadable, not invalid', async () => {
    const r = await netpol(['check', '-f', join(dir, 'absent.yaml'), '--from', 'a', '--to', 'b']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /does not exist/);
    assert.match(r.stderr, /could not be read/);
    assert.doesNotMatch(r.stderr, /API server/);
  });
});

describe('answers that mislead', () => {
  const DENY = `apiVersion: v1
kind: Namespace
metadata: {name: x}
---
apiVersion: v1
kind: Pod
metadata: {name: host, namespace: x, labels: {app: host}}
spec: {hostNetwork: true, containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: x, labels: {app: web}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
`;

  test('a host-network pod: the verdict carries a caveat (text and JSON), matrix a note', async () => {
    const r = await netpol(['check', '-f', '-', '--from', 'x/web', '--to', 'x/host', '--port', '80'], DENY);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^DENIED/);
    assert.match(r.stdout, /Caveat: x\/host runs on the host network; most network plugins \(and netpol agent\) do not isolate/);
    const j = JSON.parse((await netpol(['check', '-f', '-', '--from', 'x/web', '--to', 'x/host', '-o', 'json'], DENY)).stdout);
    assert.equal(j.caveats.length, 1);
    const plain = JSON.parse((await netpol(['check', '-f', '-', '--from', 'x/web', '--to', 'x/web', '-o', 'json'], DENY)).stdout);
    assert.equal(plain.caveats, undefined);
    const m = await netpol(['matrix', '-f', '-'], DENY);
    assert.match(m.stderr, /Note: 1 host-network pod/);
  });

  test('a selector that picks one pod on both sides: allowed (a pod reaches itself), not "0 of 0"', async () => {
    const r = await netpol(['check', '-f', '-', '--from', 'x/app=web', '--to', 'x/app=web'], DENY);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^ALLOWED: x\/app=web and x\/app=web are the same single pod \(x\/web\)/);
    const j = JSON.parse((await netpol(['check', '-f', '-', '--from', 'x/app=web', '--to', 'x/app=web', '-o', 'json'], DENY)).stdout);
    assert.equal(j.allowed, true);
    assert.equal(j.pairs, 0);
  });

  test('--skip-invalid analyses the rest and says what it left out', async () => {
    const bad = `${DENY}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: x}\nspec: {podSelector: {}, ingress: [{ports: [{port: 0}]}]}\n`;
    const refused = await netpol(['check', '-f', '-', '--from', 'x/web', '--to', 'x/host'], bad);
    assert.equal(refused.code, 2);
    const r = await netpol(['check', '-f', '-', '--from', 'x/web', '--to', 'x/host', '--skip-invalid'], bad);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /error: .*NetworkPolicy x\/bad/);
    assert.match(r.stderr, /Warning: --skip-invalid: 1 invalid object left out of the analysis \(NetworkPolicy x\/bad\)/);
    const m = await netpol(['matrix', '-f', '-', '--skip-invalid', '-o', 'json'], bad);
    assert.equal(m.code, 0);
    // A YAML syntax error belongs to no object: nothing can be skipped, the input stays refused.
    const broken = await netpol(['matrix', '-f', '-', '--skip-invalid'], `${DENY}---\na: [\n`);
    assert.equal(broken.code, 2);
  });

  test('--skip-invalid keeps the valid objects of every kind: cluster-scoped policies and Services too', async () => {
    const bad = `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: x}\nspec: {podSelector: {}, ingress: [{ports: [{port: 0}]}]}\n`;
    const args = ['-f', 'examples/admin-guardrails', '-o', 'json', '--port', '80'];
    const clean = await netpol(['matrix', ...args]);
    const skipped = await netpol(['matrix', ...args, '-f', '-', '--skip-invalid'], bad);
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.deepEqual(JSON.parse(skipped.stdout), JSON.parse(clean.stdout), 'the cluster-scoped policies still decide');
    const svc = await netpol(['check', '-f', 'examples/bookstore', '-f', '-', '--skip-invalid', '-n', 'bookstore', '--from', 'deploy/frontend', '--to', 'svc/api'], bad);
    assert.equal(svc.code, 0, svc.stderr);
  });
});
