import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCluster } from '../../load/index.js';
import { validateCluster } from '../cluster.js';
import { PortSet } from '../../policy/index.js';

/** Loads one manifest text and validates it; returns `line:col path: message` per diagnostic plus codes. */
function check(text: string): { lines: string[]; codes: string[]; severities: string[] } {
  const { cluster, diagnostics } = loadCluster([{ file: 'm.yaml', text }]);
  const all = [...diagnostics, ...validateCluster(cluster)];
  return {
    lines: all.map((d) => `${d.line}:${d.column} ${d.path ?? ''}: ${d.message}`),
    codes: all.map((d) => d.code),
    severities: all.map((d) => d.severity),
  };
}

const CNP = (spec: string, name = 'p') => `apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: ${name}
spec:
${spec}`;

describe('ClusterNetworkPolicy v1alpha2: the CRD schema and CEL rules with the API server wording', () => {
  test('a valid policy of every peer and protocol kind has no diagnostics but the domainNames note', () => {
    const r = check(
      CNP(`  tier: Admin
  priority: 10
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: a}}}}
  ingress:
  - {name: r, action: Accept, from: [{namespaces: {}}, {pods: {podSelector: {}}}], protocols: [{tcp: {destinationPort: {number: 80}}}, {destinationNamedPort: web}]}
  egress:
  - {action: Deny, to: [{networks: [10.0.0.0/8, "fd00::/8"]}, {nodes: {}}], protocols: [{udp: {destinationPort: {range: {start: 1, end: 2}}}}]}
  - {action: Pass, to: [{domainNames: ["*.example.com", example.org]}]}`),
    );
    assert.deepEqual(r.codes, ['DomainNamesNotEnforced']);
    assert.deepEqual(r.severities, ['info']);
  });

  test('schema errors: enum, bounds, required, min/max items and properties, set duplicates, types; then CEL rules are not checked', () => {
    const r = check(
      CNP(`  tier: Admni
  priority: 1001
  subject: {namespaces: {}, pods: {podSelector: {}}}
  ingress:
  - action: Accept
    from: []
  - from: [{pods: {namespaceSelector: {}}}]
    action: Allow
  egress:
  - name: "${'x'.repeat(101)}"
    action: Deny
    to: [{networks: [10.0.0.0/8, 10.0.0.0/8, 1.2.3/8, "::ffff:1.2.3.4/128"]}]
    protocols: [{tcp: {}}, {udp: {destinationPort: {number: 0}}}]
  - {action: Deny, to: [{}], protocols: [{tcp: {destinationPort: {number: "80"}}}]}`),
    );
    assert.deepEqual(r.lines, [
      '6:3 spec.tier: Unsupported value: "Admni": supported values: "Admin", "Baseline"',
      '7:3 spec.priority: Invalid value: 1001: spec.priority in body should be less than or equal to 1000',
      '8:3 spec.subject: Too many: 2: must have at most 1 item',
      '11:5 spec.ingress[0].from: Invalid value: 0: spec.ingress[0].from in body should have at least 1 items',
      '13:5 spec.ingress[1].action: Unsupported value: "Allow": supported values: "Accept", "Deny", "Pass"',
      '12:13 spec.ingress[1].from[0].pods.podSelector: Required value',
      '15:5 spec.egress[0].name: Too long: may not be more than 100 bytes',
      '18:18 spec.egress[0].protocols[0].tcp: Invalid value: 0: spec.egress[0].protocols[0].tcp in body should have at least 1 properties',
      '18:53 spec.egress[0].protocols[1].udp.destinationPort.number: Invalid value: 0: spec.egress[0].protocols[1].udp.destinationPort.number in body should be greater than or equal to 1',
      '19:25 spec.egress[1].to[0]: Invalid value: 0: spec.egress[1].to[0] in body should have at least 1 properties',
      '19:67 spec.egress[1].protocols[0].tcp.destinationPort.number: Invalid value: "string": spec.egress[1].protocols[0].tcp.destinationPort.number in body must be of type integer: "string"',
      '17:34 spec.egress[0].to[0].networks[1]: Duplicate value: "10.0.0.0/8"',
      '1:1 : Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ]);
    assert.ok(r.codes.includes('FieldValueDuplicate') && r.codes.includes('FieldValueTooMany'));
  });

  test('unknown fields fail decoding: nothing else is reported, as by the API server', () => {
    const r = check(CNP(`  tier: Admni\n  priority: 1\n  subject: {namespaces: {}}\n  extra: {}`));
    assert.deepEqual(r.lines, ['9:3 spec.extra: unknown field "spec.extra"']);
  });

  test('CEL rules of strings print the value: isCIDR', () => {
    const r = check(CNP(`  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n  egress: [{action: Deny, to: [{networks: [1.2.3/8, "::ffff:1.2.3.4/128", 10.0.0.1/8]}]}]`));
    assert.deepEqual(r.lines, [
      '9:44 spec.egress[0].to[0].networks[0]: Invalid value: "1.2.3/8": Invalid CIDR format provided',
      '9:53 spec.egress[0].to[0].networks[1]: Invalid value: "::ffff:1.2.3.4/128": Invalid CIDR format provided',
    ]);
  });

  test('CEL rules: port range order, named ports only towards pods', () => {
    const r = check(
      CNP(`  tier: Baseline
  priority: 0
  subject: {namespaces: {}}
  egress:
  - action: Accept
    to: [{pods: {podSelector: {}}}, {nodes: {}}]
    protocols: [{destinationNamedPort: web}]
  - action: Accept
    to: [{pods: {podSelector: {}}}]
    protocols: [{destinationNamedPort: web}, {sctp: {destinationPort: {range: {start: 90, end: 90}}}}]`),
    );
    assert.deepEqual(r.lines, [
      '10:5 spec.egress[0]: Invalid value: networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames',
      '15:72 spec.egress[1].protocols[1].sctp.destinationPort.range: Invalid value: Start port must be less than End port',
    ]);
  });

  test('metadata: the name is a DNS subdomain; label selectors are checked as the API server checks them for NetworkPolicy', () => {
    const r = check(CNP(`  tier: Admin\n  priority: 1\n  subject: {namespaces: {matchExpressions: [{key: a, operator: Foo}]}}`, 'Bad_Name'));
    assert.deepEqual(r.codes, ['FieldValueInvalid']);
    assert.match(r.lines[0]!, /^4:3 metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
    const s = check(CNP(`  tier: Admin\n  priority: 1\n  subject: {namespaces: {matchExpressions: [{key: a, operator: Foo}]}}`));
    assert.deepEqual(s.lines, ['8:54 spec.subject.namespaces.matchExpressions[0].operator: Invalid value: "Foo": not a valid selector operator']);
  });
});

describe("netpol's mode annotation on cluster-scoped policies (as on a NetworkPolicy)", () => {
  const annotated = (kind: string, apiVersion: string, name: string, value: string, spec: string) =>
    `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: ${name}\n  annotations:\n    netpol.dev/mode: ${value}\nspec:\n${spec}`;
  const kinds = [
    ['ClusterNetworkPolicy', 'policy.networking.k8s.io/v1alpha2', 'p', '  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}'],
    ['AdminNetworkPolicy', 'policy.networking.k8s.io/v1alpha1', 'p', '  priority: 1\n  subject: {namespaces: {}}'],
    ['BaselineAdminNetworkPolicy', 'policy.networking.k8s.io/v1alpha1', 'default', '  subject: {namespaces: {}}'],
  ] as const;
  for (const [kind, apiVersion, name, spec] of kinds) {
    test(`${kind}: audit and enforce are accepted, any other value is not supported, with the NetworkPolicy wording`, () => {
      assert.deepEqual(check(annotated(kind, apiVersion, name, 'audit', spec)).codes, []);
      assert.deepEqual(check(annotated(kind, apiVersion, name, 'enforce', spec)).codes, []);
      const r = check(annotated(kind, apiVersion, name, 'Audit', spec));
      assert.deepEqual(r.codes, ['FieldValueNotSupported']);
      assert.deepEqual(r.lines, ['6:5 metadata.annotations[netpol.dev/mode]: Unsupported value: "Audit": supported values: "audit", "enforce"']);
    });
  }

  test('the annotation is checked beside other errors of the policy', () => {
    const r = check(annotated('AdminNetworkPolicy', 'policy.networking.k8s.io/v1alpha1', 'p', 'dry-run', '  priority: 1001\n  subject: {namespaces: {}}'));
    assert.ok(
      r.lines.some((l) => l.includes('spec.priority')),
      r.lines.join('\n'),
    );
    assert.deepEqual(
      r.codes.filter((c) => c === 'FieldValueNotSupported'),
      ['FieldValueNotSupported'],
    );
  });
});

describe('AdminNetworkPolicy / BaselineAdminNetworkPolicy v1alpha1', () => {
  test('ANP: Allow/Deny/Pass, priority bounds, ports one-of, 100 rules at most; protocol defaults to TCP', () => {
    const rules = Array.from({ length: 101 }, () => '  - {action: Allow, from: [{namespaces: {}}]}').join('\n');
    const r = check(`apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: a}
spec:
  priority: -1
  subject: {namespaces: {}}
  egress:
  - {action: Accept, to: [{networks: [1.2.3.0/24]}], ports: [{namedPort: web}, {portNumber: {port: 80}, portRange: {start: 1, end: 2}}]}
  ingress:
${rules}`);
    assert.deepEqual(r.lines, [
      '5:3 spec.priority: Invalid value: -1: spec.priority in body should be greater than or equal to 0',
      '9:3 spec.ingress: Too many: 101: must have at most 100 items',
      '8:6 spec.egress[0].action: Unsupported value: "Accept": supported values: "Allow", "Deny", "Pass"',
      '8:80 spec.egress[0].ports[1]: Too many: 2: must have at most 1 item',
      '1:1 : Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ]);
  });

  test('ANP: the egress named-port rule; an unknown protocol is accepted with a warning', () => {
    const r = check(`apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: a}
spec:
  priority: 3
  subject: {pods: {namespaceSelector: {}, podSelector: {}}}
  egress:
  - {action: Deny, to: [{networks: [1.2.3.0/24]}], ports: [{namedPort: web}]}
  ingress:
  - {action: Deny, from: [{namespaces: {}}], ports: [{portNumber: {protocol: ICMP, port: 1}}]}`);
    assert.deepEqual(r.lines, ['8:5 spec.egress[0]: Invalid value: networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames']);
    const w = check(`apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: a}
spec:
  priority: 3
  subject: {namespaces: {}}
  ingress:
  - {action: Deny, from: [{namespaces: {}}], ports: [{portNumber: {protocol: ICMP, port: 1}}]}`);
    assert.deepEqual(w.codes, ['UnsupportedProtocol']);
    assert.deepEqual(w.severities, ['warning']);
  });

  test('BANP: only `default`, no Pass, no domainNames; the namespacedPod needs both selectors', () => {
    const banp = (name: string, spec: string) =>
      check(`apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: ${name}}
spec:
${spec}`);
    assert.deepEqual(banp('other', '  subject: {pods: {podSelector: {}}}\n  egress:\n  - {action: Pass, to: [{namespaces: {}}]}').lines, [
      '5:13 spec.subject.pods.namespaceSelector: Required value',
      '7:6 spec.egress[0].action: Unsupported value: "Pass": supported values: "Allow", "Deny"',
      '1:1 : Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ]);
    assert.deepEqual(banp('other', '  subject: {namespaces: {}}').lines, [
      '3:12 metadata.name: Invalid value: Only one baseline admin network policy with metadata.name="default" can be created in the cluster',
    ]);
    assert.deepEqual(banp('default', '  subject: {namespaces: {}}\n  egress:\n  - {action: Deny, to: [{domainNames: [example.com]}]}').lines, [
      '7:26 spec.egress[0].to[0].domainNames: unknown field "spec.egress[0].to[0].domainNames"',
    ]);
  });

  test('the wrong apiVersion for a kind is not served; Node objects load their addresses', () => {
    const r = check(`apiVersion: policy.networking.k8s.io/v1alpha1
kind: ClusterNetworkPolicy
metadata: {name: a}
spec: {}`);
    assert.deepEqual(r.codes, ['NoKindMatch']);
    const { cluster, diagnostics } = loadCluster([
      {
        file: 'n.yaml',
        text: `apiVersion: v1
kind: Node
metadata: {name: n1, labels: {zone: a}}
status: {addresses: [{type: InternalIP, address: 10.1.0.1}, {type: Hostname, address: n1}, {type: ExternalIP, address: "fd00::01"}]}`,
      },
    ]);
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(
      cluster.nodes?.map((n) => [n.name, n.labels, n.addresses]),
      [['n1', { zone: 'a' }, ['10.1.0.1', 'fd00::1']]],
    );
    assert.equal(cluster.clusterPolicies, undefined);
  });
});

describe('PortSet.minus', () => {
  test('removes ranges, keeps the rest', () => {
    const s = PortSet.of([
      [1, 10],
      [20, 30],
      [40, 50],
    ]);
    assert.deepEqual(
      s.minus(
        PortSet.of([
          [5, 25],
          [50, 60],
        ]),
      ).ranges,
      [
        [1, 4],
        [26, 30],
        [40, 49],
      ],
    );
    assert.deepEqual(s.minus(PortSet.ALL).ranges, []);
    assert.deepEqual(PortSet.ALL.minus(PortSet.range(80, 80)).ranges, [
      [1, 79],
      [81, 65535],
    ]);
    assert.deepEqual(s.minus(PortSet.EMPTY).ranges, s.ranges);
  });
});
