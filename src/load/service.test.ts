/** Services: decoded strictly, validated as the API server validates them, kept with defaults applied. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCluster } from './index.js';

const load = (text: string) => loadCluster([{ file: 's.yaml', text }]);
const service = (body: string, name = 'api') => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: shop}\n${body}`;
const problems = (text: string) =>
  load(text)
    .diagnostics.filter((d) => d.severity === 'error')
    .map((d) => [d.code, d.path, d.message, d.line, d.column]);

describe('Service', () => {
  test('is kept with the API server defaults: protocol TCP, targetPort = port', () => {
    const r = load(service('spec:\n  selector: {app: api}\n  ports:\n  - {name: http, port: 80, targetPort: http}\n  - {name: metrics, port: 9090, protocol: UDP}\n'));
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(
      r.cluster.services?.map(({ source: _s, ...s }) => s),
      [
        {
          namespace: 'shop',
          name: 'api',
          selector: { app: 'api' },
          ports: [
            { name: 'http', protocol: 'TCP', port: 80, targetPort: 'http' },
            { name: 'metrics', protocol: 'UDP', port: 9090, targetPort: 9090 },
          ],
        },
      ],
    );
    assert.equal(r.cluster.services?.[0]?.source?.line, 1);
  });

  test('a Service without a selector is kept without one (it stands for no pods)', () => {
    const r = load(service('spec:\n  ports: [{port: 443}]\n'));
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.cluster.services?.[0]?.selector, undefined);
  });

  test('decoding is strict: a misspelt selector is an unknown field at its line and column', () => {
    assert.deepEqual(problems(service('spec:\n  selecter: {app: api}\n  ports: [{port: 80}]\n')), [['UnknownField', 'spec.selecter', 'unknown field "spec.selecter"', 5, 3]]);
    assert.deepEqual(load(service('spec:\n  selecter: {app: api}\n  ports: [{port: 80}]\n')).cluster.services, undefined);
    assert.equal(problems(service('spec:\n  ports: [{port: 80, targetport: 8080}]\n'))[0]?.[1], 'spec.ports[0].targetport');
  });

  test('validated as the API server does: name, ports, port names, protocol, targetPort, selector labels, type', () => {
    const codes = (text: string) => problems(text).map(([code, path, message]) => [code, path, message]);
    assert.deepEqual(codes(service('spec:\n  ports: [{port: 80}]\n', '1api')), [
      [
        'FieldValueInvalid',
        'metadata.name',
        `Invalid value: "1api": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
      ],
    ]);
    assert.deepEqual(codes(service('spec:\n  selector: {app: api}\n')), [['FieldValueRequired', 'spec.ports', 'Required value']]);
    assert.deepEqual(codes(service('spec:\n  ports: [{port: 0, targetPort: 70000}]\n')), [
      ['FieldValueInvalid', 'spec.ports[0].port', 'Invalid value: 0: must be between 1 and 65535, inclusive'],
      ['FieldValueInvalid', 'spec.ports[0].targetPort', 'Invalid value: 70000: must be between 1 and 65535, inclusive'],
    ]);
    assert.deepEqual(codes(service('spec:\n  ports: [{port: 80}, {name: http, port: 81, targetPort: Web_Port}, {name: http, port: 82, protocol: ICMP}]\n')), [
      ['FieldValueRequired', 'spec.ports[0].name', 'Required value'],
      ['FieldValueInvalid', 'spec.ports[1].targetPort', 'Invalid value: "Web_Port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'],
      ['FieldValueDuplicate', 'spec.ports[2].name', 'Duplicate value: "http"'],
      ['FieldValueNotSupported', 'spec.ports[2].protocol', 'Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"'],
    ]);
    assert.deepEqual(
      codes(service('spec:\n  type: Internal\n  selector: {"bad key!": x}\n  ports: [{port: 80}]\n')).map(([c, p]) => [c, p]),
      [
        ['FieldValueNotSupported', 'spec.type'],
        ['FieldValueInvalid', 'spec.selector'],
      ],
    );
    // Headless Services and ExternalName Services need no ports.
    assert.deepEqual(codes(service('spec:\n  clusterIP: None\n  selector: {app: api}\n')), []);
    assert.deepEqual(codes(service('spec:\n  type: ExternalName\n  externalName: db.example.com.\n')), []);
    assert.deepEqual(codes(service('spec:\n  type: ExternalName\n')), [['FieldValueRequired', 'spec.externalName', 'Required value']]);
  });
});
