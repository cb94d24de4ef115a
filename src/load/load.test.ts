import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadCluster } from './index.js';
import type { LoadOptions, SourceText } from './index.js';
import type { Diagnostic } from '../diag/index.js';
import type { PodInfo } from '../model/index.js';

const FIXTURES = new URL('../../test/fixtures/load/', import.meta.url);
const fixture = (rel: string): SourceText => ({ file: `fixtures/${rel}`, text: readFileSync(new URL(rel, FIXTURES), 'utf8') });
const load = (text: string, opts?: LoadOptions) => loadCluster([{ file: 't.yaml', text }], opts);

/** [code, path, line, column] of each diagnostic: what the tests assert on. */
const where = (ds: readonly Diagnostic[]) => ds.map((d) => [d.code, d.path, d.line, d.column]);
const only = (ds: readonly Diagnostic[], code: string) => ds.filter((d) => d.code === code);
const withoutNamespaceNotes = (ds: readonly Diagnostic[]) => ds.filter((d) => d.code !== 'ImplicitNamespace');

function policyDoc(spec: string, extra = ''): string {
  return `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p\n  namespace: ns\n${extra}spec:\n${spec}`;
}

describe('kinds', () => {
  test('Namespace: labels plus the automatic kubernetes.io/metadata.name, which overrides a user value', () => {
    const r = loadCluster([fixture('kinds/namespace.yaml')]);
    assert.deepEqual(r.diagnostics, []);
    const ns = r.cluster.namespaces.get('shop');
    assert.deepEqual(ns?.labels, { team: 'payments', 'kubernetes.io/metadata.name': 'shop' });
    assert.equal(ns?.implicit, false);
    assert.deepEqual([ns?.source?.file, ns?.source?.line, ns?.source?.column], ['fixtures/kinds/namespace.yaml', 1, 1]);
  });

  test('Pod: labels, ports of containers and init containers (TCP default), node, IPs in canonical form', () => {
    const r = loadCluster([fixture('kinds/pod.yaml')]);
    assert.deepEqual(where(withoutNamespaceNotes(r.diagnostics)), []);
    const [pod] = r.cluster.pods;
    assert.deepEqual(
      { ...pod, source: undefined },
      {
        namespace: 'shop',
        name: 'web-0',
        labels: { app: 'web', tier: 'frontend' },
        ips: ['10.1.2.3', '2001:db8::a'],
        ports: [
          { name: 'http', port: 8080, protocol: 'TCP' },
          { name: 'dns', port: 53, protocol: 'UDP' },
          { port: 3868, protocol: 'SCTP' },
          { name: 'metrics', port: 15090, protocol: 'TCP' },
          { name: 'init-port', port: 9000, protocol: 'TCP' },
        ],
        nodeName: 'node-1',
        source: undefined,
      },
    );
    assert.equal(pod?.workload, undefined);
    assert.deepEqual(pod?.source?.locate('spec.containers[0].ports[1].protocol'), { line: 23, column: 11 });
  });

  test('NetworkPolicy: every ObjectMeta field of a live object is accepted; the decoded spec keeps absent vs empty', () => {
    const r = loadCluster([fixture('kinds/networkpolicy.yaml')]);
    assert.deepEqual(where(withoutNamespaceNotes(r.diagnostics)), []);
    const [p] = r.cluster.policies;
    assert.equal(p?.namespace, 'shop');
    assert.equal(p?.name, 'allow-web');
    assert.equal(p?.policy.apiVersion, 'networking.k8s.io/v1');
    assert.deepEqual(p?.policy.metadata, {
      name: 'allow-web',
      namespace: 'shop',
      labels: { 'app.kubernetes.io/name': 'web' },
      annotations: { note: 'from the cluster' },
    });
    assert.deepEqual(p?.policy.spec, {
      podSelector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['frontend'] }] },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } }, podSelector: {} }, { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }],
          ports: [{ protocol: 'TCP', port: 8080 }, { port: 'http' }, { port: 30000, endPort: 32767 }],
        },
      ],
      egress: [],
    });
    assert.deepEqual([p?.source?.line, p?.source?.column], [1, 1]);
  });

  test('a policy gets the namespace it is created in (metadata.namespace, else the default)', () => {
    const r = load(`apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec: {}\n`, { defaultNamespace: 'team' });
    assert.equal(r.cluster.policies[0]?.namespace, 'team');
    assert.equal(r.cluster.policies[0]?.policy.metadata.namespace, 'team');
    assert.deepEqual(r.cluster.policies[0]?.policy.spec, { podSelector: {} });
  });
});

describe('workloads', () => {
  const cases: [string, Partial<PodInfo>][] = [
    [
      'deployment',
      {
        name: 'api',
        labels: { app: 'api' },
        workload: { kind: 'Deployment', name: 'api', replicas: 3 },
        ports: [{ name: 'https', port: 8443, protocol: 'TCP' }],
      },
    ],
    ['replicaset', { name: 'rs', labels: { app: 'rs' }, workload: { kind: 'ReplicaSet', name: 'rs', replicas: 2 }, ports: [] }],
    ['statefulset', { name: 'db', labels: { app: 'db' }, workload: { kind: 'StatefulSet', name: 'db', replicas: 1 }, ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }],
    [
      'daemonset',
      {
        namespace: 'kube-system',
        name: 'agent',
        labels: { app: 'agent' },
        hostNetwork: true,
        workload: { kind: 'DaemonSet', name: 'agent' },
        ports: [{ name: 'metrics', port: 9100, protocol: 'TCP' }],
      },
    ],
    ['job', { name: 'migrate', labels: { app: 'migrate' }, workload: { kind: 'Job', name: 'migrate' }, ports: [] }],
    // CronJob's pod template is spec.jobTemplate.spec.template (not the job template's own labels).
    ['cronjob', { name: 'report', labels: { app: 'report' }, workload: { kind: 'CronJob', name: 'report' }, ports: [{ port: 8125, protocol: 'UDP' }] }],
    ['replicationcontroller', { name: 'legacy', labels: { app: 'legacy' }, workload: { kind: 'ReplicationController', name: 'legacy', replicas: 5 }, ports: [] }],
  ];
  for (const [file, want] of cases) {
    test(`${file}: the pod template is one pod named after the workload, without IPs`, () => {
      const r = loadCluster([fixture(`workloads/${file}.yaml`)]);
      assert.deepEqual(where(withoutNamespaceNotes(r.diagnostics)), []);
      assert.equal(r.cluster.pods.length, 1);
      const pod = r.cluster.pods[0] as PodInfo;
      assert.deepEqual({ ...pod, source: undefined }, { namespace: 'shop', ips: [], ...want, source: undefined });
      assert.deepEqual([pod.source?.line, pod.source?.column], [1, 1]);
    });
  }

  test('a workload without a pod template contributes no pod, with a warning', () => {
    const r = load(`apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: 2\n`);
    assert.deepEqual(r.cluster.pods, []);
    assert.deepEqual(where(only(r.diagnostics, 'MissingPodTemplate')), [['MissingPodTemplate', 'spec.template', 4, 1]]);
  });

  test('specs netpol does not read whole are open: their other fields are not reported', () => {
    const r = load(
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: x}\nspec:\n  strategy: {type: Recreate}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [{name: c, image: i, resources: {}}]\n      volumes: []\nstatus: {replicas: 1}\n`,
    );
    assert.deepEqual(where(withoutNamespaceNotes(r.diagnostics)), []);
    assert.equal(r.cluster.pods.length, 1);
  });

  test('metadata, templates, top-level fields and container ports are decoded strictly in every kind', () => {
    const r = load(
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: x, whatever: 1}\nspec:\n  template:\n    metadata: {lables: {a: b}}\n    spec:\n      containers: [{name: c, ports: [{containerport: 80}]}]\nsepc: {}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x, labelz: {a: b}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\nspec: {finalizer: []}\n`,
    );
    assert.deepEqual(where(r.diagnostics), [
      ['UnknownField', 'metadata.whatever', 3, 35],
      ['UnknownField', 'spec.template.metadata.lables', 6, 16],
      ['UnknownField', 'spec.template.spec.containers[0].ports[0].containerport', 8, 39],
      ['UnknownField', 'sepc', 9, 1],
      ['UnknownField', 'metadata.labelz', 13, 35],
      ['UnknownField', 'spec.finalizer', 18, 8],
    ]);
  });

  test('metadata the API server would refuse: names, namespaces, label keys and values, annotation size', () => {
    const big = 'x'.repeat(256 * 1024);
    const r = load(
      `apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Pod, namespace: x, labels: {"bad key!": v, ok: "bad value!"}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x.y, namespace: z}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: x}\nspec:\n  template:\n    metadata: {labels: {"-a": b}, annotations: {k: ${big}}}\n`,
    );
    assert.deepEqual(
      r.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, d.path, d.object]),
      [
        ['FieldValueInvalid', 'metadata.name', 'Pod x/Bad_Pod'],
        ['FieldValueInvalid', 'metadata.labels', 'Pod x/Bad_Pod'],
        ['FieldValueInvalid', 'metadata.labels', 'Pod x/Bad_Pod'],
        ['FieldValueInvalid', 'metadata.name', 'Namespace x.y'],
        ['FieldValueForbidden', 'metadata.namespace', 'Namespace x.y'],
        ['FieldValueInvalid', 'spec.template.metadata.labels', 'Deployment x/d'],
        ['FieldValueTooLong', 'spec.template.metadata.annotations', 'Deployment x/d'],
      ],
    );
  });

  test('the same object twice is a duplicate even when one copy fails to decode', () => {
    const r = load(`apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x, labelz: {}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\n`);
    assert.deepEqual(
      r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code),
      ['UnknownField', 'Duplicate'],
    );
  });

  test('a known kind in the wrong case is an error with the right spelling; two pods with one address warn', () => {
    const r = load(
      `apiVersion: networking.k8s.io/v1\nkind: networkpolicy\nmetadata: {name: n}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\nstatus: {podIP: 10.0.0.1}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\nstatus: {podIP: 10.0.0.1}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: h}\nspec: {hostNetwork: true}\nstatus: {podIP: 10.0.0.1}\n`,
    );
    const kind = r.diagnostics.find((d) => d.code === 'NoKindMatch');
    assert.equal(kind?.severity, 'error');
    assert.match(kind?.message ?? '', /did you mean "NetworkPolicy"/);
    assert.deepEqual(
      r.diagnostics.filter((d) => d.code === 'DuplicatePodIP').map((d) => [d.severity, d.object]),
      [['warning', 'Pod default/b']],
    );
  });

  test('but the fields netpol reads are type-checked, and a pod the API server would refuse is left out', () => {
    const r = load(`apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    enabled: yes\nspec:\n  containers:\n    - name: c\n      ports:\n        - containerPort: "80"\n`);
    assert.deepEqual(where(r.diagnostics), [
      ['FieldValueTypeInvalid', 'metadata.labels[enabled]', 6, 5],
      ['FieldValueTypeInvalid', 'spec.containers[0].ports[0].containerPort', 11, 11],
    ]);
    assert.equal(r.diagnostics[1]?.message, 'cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32');
    assert.deepEqual(r.cluster.pods, []);
  });

  test('container ports the API server would reject are skipped with a warning', () => {
    const r = load(
      `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      ports:\n        - {containerPort: 80, protocol: ICMP}\n        - {containerPort: 0}\n        - {name: noport}\n        - {containerPort: 81}\n`,
    );
    assert.deepEqual(where(only(r.diagnostics, 'InvalidContainerPort')), [
      ['InvalidContainerPort', 'spec.containers[0].ports[0].protocol', 8, 31],
      ['InvalidContainerPort', 'spec.containers[0].ports[1].containerPort', 9, 12],
      // no containerPort at all: located at the port item
      ['InvalidContainerPort', 'spec.containers[0].ports[2].containerPort', 10, 11],
    ]);
    assert.deepEqual(r.cluster.pods[0]?.ports, [{ port: 81, protocol: 'TCP' }]);
  });

  test('a Pod and a workload with the same name in one namespace: both kept, with a warning', () => {
    const r = load(
      `apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: c}]}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {template: {spec: {containers: [{name: c}]}}}\n`,
    );
    assert.equal(r.cluster.pods.length, 2);
    assert.deepEqual(where(only(r.diagnostics, 'DuplicatePodName')), [['DuplicatePodName', 'metadata.name', 8, 12]]);
    assert.deepEqual(only(r.diagnostics, 'Duplicate'), []);
  });
});

describe('lists', () => {
  test('kind: List expands its items, each located where it is', () => {
    const r = loadCluster([fixture('list.yaml')]);
    assert.deepEqual([...r.cluster.namespaces.keys()], ['listed']);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.severity, d.code, d.object, d.path, d.line, d.column]),
      [
        ['error', 'UnknownField', 'NetworkPolicy listed/deny-all', 'spec.ingres', 15, 7],
        ['info', 'UnknownKind', 'ConfigMap listed/settings', undefined, 16, 5],
      ],
    );
    assert.equal(r.diagnostics[0]?.message, 'unknown field "spec.ingres"');
  });

  test('a typed *List (JSON, as the API returns it) gives its items their kind and apiVersion', () => {
    const r = loadCluster([fixture('podlist.json')]);
    assert.deepEqual(
      r.cluster.pods.map((p) => [p.namespace, p.name, p.labels, p.ips, p.source?.line, p.source?.column]),
      [
        ['json', 'a', { app: 'a' }, ['10.0.0.1'], 6, 5],
        ['json', 'b', { app: 'b' }, ['10.0.0.2', 'fd00::2'], 11, 5],
      ],
    );
    assert.deepEqual(where(withoutNamespaceNotes(r.diagnostics)), []);
  });

  test('items of a plain List must carry kind and apiVersion', () => {
    const r = load(`apiVersion: v1\nkind: List\nitems:\n  - metadata: {name: x}\n  - kind: Namespace\n    metadata: {name: y}\n  - 42\n`);
    assert.deepEqual(where(r.diagnostics), [
      ['MissingKind', 'kind', 4, 5],
      ['MissingAPIVersion', 'apiVersion', 4, 5],
      ['MissingAPIVersion', 'apiVersion', 5, 5],
      ['InvalidObject', undefined, 7, 5],
    ]);
  });

  test('an empty or null items list is fine; items as a map is a type error', () => {
    assert.deepEqual(load(`apiVersion: v1\nkind: List\nitems: []\n`).diagnostics, []);
    assert.deepEqual(load(`apiVersion: v1\nkind: PodList\nitems:\n`).diagnostics, []);
    assert.deepEqual(where(load(`apiVersion: v1\nkind: List\nitems: {a: 1}\n`).diagnostics), [['FieldValueTypeInvalid', 'items', 3, 1]]);
  });
});

describe('documents', () => {
  test('multi-document YAML with empty, comment-only and null documents', () => {
    const r = loadCluster([fixture('multidoc.yaml')]);
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(
      [...r.cluster.namespaces.values()].map((n) => [n.name, n.source?.line]),
      [
        ['one', 3],
        ['three', 19],
        ['two', 13],
      ],
    );
  });

  test('YAML syntax errors are located', () => {
    const r = loadCluster([fixture('strict/bad-syntax.yaml')]);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.severity, d.code, d.file, d.line, d.column]),
      [['error', 'YAMLSyntax', 'fixtures/strict/bad-syntax.yaml', 7, 3]],
    );
    assert.deepEqual(r.cluster.policies, []);
  });

  test('an alias bomb is rejected, and the bound is an option', () => {
    const r = loadCluster([fixture('strict/alias-bomb.yaml')]);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.file, d.line, d.column]),
      [['YAMLAliasLimit', 'fixtures/strict/alias-bomb.yaml', 1, 1]],
    );
    // (status is an open struct: its undeclared fields are not reported.)
    const small = `status:\n  a: &a [1]\n  b: [*a, *a, *a]\napiVersion: v1\nkind: Namespace\nmetadata: {name: ns1}\n`;
    assert.deepEqual(load(small, { maxAliasCount: 3 }).diagnostics, []);
    assert.deepEqual(where(load(small, { maxAliasCount: 2 }).diagnostics), [['YAMLAliasLimit', undefined, 1, 1]]);
  });

  test('a document that is not a mapping', () => {
    assert.deepEqual(where(load(`- a\n- b\n---\njust text\n`).diagnostics), [
      ['InvalidObject', undefined, 1, 1],
      ['InvalidObject', undefined, 4, 1],
    ]);
  });

  test('missing kind and apiVersion', () => {
    assert.deepEqual(where(load(`metadata: {name: x}\n`).diagnostics), [
      ['MissingKind', 'kind', 1, 1],
      ['MissingAPIVersion', 'apiVersion', 1, 1],
    ]);
    assert.equal(load(`apiVersion: v1\nmetadata: {name: x}\n`).diagnostics[0]?.message, "Object 'Kind' is missing");
  });

  test('unknown kinds are ignored with an info note', () => {
    const r = load(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: x}\ndata: {a: b}\n---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: c}\n`);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.severity, d.code, d.object, d.line]),
      [
        ['info', 'UnknownKind', 'ConfigMap x/cm', 1],
        ['info', 'UnknownKind', 'CiliumNetworkPolicy c', 6],
      ],
    );
    // Ignored objects do not conjure namespaces.
    assert.equal(r.cluster.namespaces.size, 0);
  });

  test('a known kind in a version that does not serve it is an error', () => {
    const r = load(policyDoc('  podSelector: {}\n').replace('networking.k8s.io/v1', 'extensions/v1beta1'));
    assert.deepEqual(where(r.diagnostics), [['NoKindMatch', 'apiVersion', 1, 1]]);
    assert.match(r.diagnostics[0]?.message ?? '', /^no matches for kind "NetworkPolicy" in version "extensions\/v1beta1"/);
    assert.deepEqual(r.cluster.policies, []);
  });
});

describe('strict decoding of NetworkPolicy', () => {
  test('the seed example: `ingress` outside spec is an unknown field', () => {
    const r = loadCluster([fixture('strict/seed-broken.yaml')]);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.severity, d.code, d.object, d.path, d.message, d.line, d.column]),
      [['error', 'UnknownField', 'NetworkPolicy default/seed', 'ingress', 'unknown field "ingress"', 9, 1]],
    );
    assert.deepEqual(r.cluster.policies, []);
  });

  test('the seed example inside spec: matchLabels at podSelector indentation is a sibling, hence unknown', () => {
    const r = loadCluster([fixture('strict/seed-inside-spec.yaml')]);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.path, d.message, d.line, d.column]),
      [
        ['UnknownField', 'spec.ingress[0].from[0].matchLabels', 'unknown field "spec.ingress[0].from[0].matchLabels"', 12, 9],
        ['UnknownField', 'spec.ingress[0].from[0].app', 'unknown field "spec.ingress[0].from[0].app"', 13, 9],
      ],
    );
  });

  test('wrong types, worded as the API server (Go encoding/json) words them', () => {
    const r = loadCluster([fixture('strict/type-errors.yaml')]);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.path, d.line, d.column, d.message]),
      [
        ['FieldValueTypeInvalid', 'metadata.labels[app]', 6, 5, 'cannot unmarshal bool into Go struct field ObjectMeta.metadata.labels of type string'],
        ['FieldValueTypeInvalid', 'spec.podSelector.matchLabels[enabled]', 10, 7, 'cannot unmarshal bool into Go struct field LabelSelector.spec.podSelector.matchLabels of type string'],
        ['FieldValueTypeInvalid', 'spec.ingress', 11, 3, 'cannot unmarshal object into Go struct field NetworkPolicySpec.spec.ingress of type []v1.NetworkPolicyIngressRule'],
        ['FieldValueTypeInvalid', 'spec.egress[0].ports[0].port', 16, 11, 'cannot unmarshal number 80.5 into Go struct field NetworkPolicyPort.spec.egress.ports.port of type int32'],
        ['FieldValueTypeInvalid', 'spec.egress[0].ports[0].endPort', 17, 11, 'cannot unmarshal string into Go struct field NetworkPolicyPort.spec.egress.ports.endPort of type int32'],
        ['FieldValueTypeInvalid', 'spec.egress[0].ports[1].protocol', 19, 11, 'cannot unmarshal number into Go struct field NetworkPolicyPort.spec.egress.ports.protocol of type v1.Protocol'],
      ],
    );
    assert.ok(r.diagnostics.every((d) => d.object === 'NetworkPolicy default/types' && d.file === 'fixtures/strict/type-errors.yaml'));
  });

  test('status is no longer part of networking.k8s.io/v1 NetworkPolicy; field names are case-sensitive', () => {
    const r = load(policyDoc('  podSelector: {}\n  Ingress: []\n') + 'status: {}\n');
    assert.deepEqual(where(r.diagnostics), [
      ['UnknownField', 'spec.Ingress', 8, 3],
      ['UnknownField', 'status', 9, 1],
    ]);
  });

  test('ObjectMeta: clusterName is gone, typos are unknown; types of metadata fields are checked', () => {
    const r = load(policyDoc('  podSelector: {}\n', '  clusterName: c\n  lables: {a: b}\n  generation: "2"\n  finalizers: x\n'));
    assert.deepEqual(where(r.diagnostics), [
      ['UnknownField', 'metadata.clusterName', 6, 3],
      ['UnknownField', 'metadata.lables', 7, 3],
      ['FieldValueTypeInvalid', 'metadata.generation', 8, 3],
      ['FieldValueTypeInvalid', 'metadata.finalizers', 9, 3],
    ]);
    assert.equal(r.diagnostics[3]?.message, 'cannot unmarshal string into Go struct field ObjectMeta.metadata.finalizers of type []string');
  });

  test('unknown fields are reported at every depth, with list indices in the path', () => {
    const r = load(
      policyDoc(
        '  podSelector:\n    matchExpressions:\n      - {key: a, operator: Exists, value: x}\n  egress:\n    - to:\n        - ipBlock: {cidr: 10.0.0.0/8, exept: []}\n      ports:\n        - {port: 53, proto: UDP}\n',
      ),
    );
    assert.deepEqual(where(r.diagnostics), [
      ['UnknownField', 'spec.podSelector.matchExpressions[0].value', 9, 36],
      ['UnknownField', 'spec.egress[0].to[0].ipBlock.exept', 12, 39],
      ['UnknownField', 'spec.egress[0].ports[0].proto', 14, 22],
    ]);
  });

  test('null decodes as absent; IntOrString takes numbers and names; null list items are zero values', () => {
    const r = load(
      policyDoc('  podSelector:\n  ingress:\n    - from: ~\n      ports:\n        - port: 80\n        - port: http\n          protocol: null\n  egress:\n    - to: [null]\n  policyTypes:\n'),
    );
    assert.deepEqual(where(withoutNamespaceNotes(r.diagnostics)), []);
    assert.deepEqual(r.cluster.policies[0]?.policy.spec, {
      podSelector: {},
      ingress: [{ ports: [{ port: 80 }, { port: 'http' }] }],
      egress: [{ to: [{}] }],
    });
  });

  test('numbers out of the int32 range and non-integers are type errors; integral floats are fine', () => {
    const r = load(policyDoc('  podSelector: {}\n  ingress:\n    - ports:\n        - {port: 80.0, endPort: 90.0}\n        - {port: 1, endPort: 4294967296}\n        - {port: true}\n'));
    assert.deepEqual(where(r.diagnostics), [
      ['FieldValueTypeInvalid', 'spec.ingress[0].ports[1].endPort', 11, 21],
      ['FieldValueTypeInvalid', 'spec.ingress[0].ports[2].port', 12, 12],
    ]);
    assert.deepEqual(
      r.diagnostics.map((d) => d.message),
      [
        'cannot unmarshal number 4294967296 into Go struct field NetworkPolicyPort.spec.ingress.ports.endPort of type int32',
        'cannot unmarshal bool into Go struct field NetworkPolicyPort.spec.ingress.ports.port of type int32',
      ],
    );
  });

  test('a list where a map is expected, a map where a string is expected', () => {
    const r = load(policyDoc('  podSelector: []\n  policyTypes: [{Ingress: true}]\n'));
    assert.deepEqual(
      r.diagnostics.map((d) => [d.path, d.line, d.column, d.message]),
      [
        ['spec.podSelector', 7, 3, 'cannot unmarshal array into Go struct field NetworkPolicySpec.spec.podSelector of type v1.LabelSelector'],
        ['spec.policyTypes[0]', 8, 17, 'cannot unmarshal object into Go struct field NetworkPolicySpec.spec.policyTypes of type v1.PolicyType'],
      ],
    );
  });
});

describe('cluster', () => {
  test('objects without a namespace go to default, which is created implicitly with a warning', () => {
    const r = load(`apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec: {containers: [{name: c}]}\n`);
    assert.deepEqual(
      r.cluster.pods.map((p) => p.namespace),
      ['default'],
    );
    const ns = r.cluster.namespaces.get('default');
    assert.deepEqual([ns?.implicit, ns?.labels], [true, { 'kubernetes.io/metadata.name': 'default' }]);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.severity, d.code, d.object, d.path, d.line, d.column]),
      [['warning', 'ImplicitNamespace', 'Pod default/p', 'metadata.namespace', 3, 1]],
    );
  });

  test('defaultNamespace (-n) applies to objects that do not say', () => {
    const r = load(`apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: q, namespace: other}\nspec: {containers: []}\n`, {
      defaultNamespace: 'team',
    });
    assert.deepEqual(
      r.cluster.pods.map((p) => p.namespace),
      ['team', 'other'],
    );
    assert.deepEqual([...r.cluster.namespaces.keys()], ['other', 'team']);
  });

  test('a namespace declared anywhere in the input is not implicit; one warning per implicit namespace, at its first use', () => {
    const r = loadCluster([
      {
        file: 'a.yaml',
        text: `apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {containers: []}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: q, namespace: other}\nspec: {containers: []}\n`,
      },
      { file: 'b.yaml', text: `apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: r, namespace: other}\nspec: {containers: []}\n` },
    ]);
    assert.deepEqual(
      [...r.cluster.namespaces.values()].map((n) => [n.name, n.implicit]),
      [
        ['other', true],
        ['shop', false],
      ],
    );
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.file, d.object, d.line, d.column]),
      [['ImplicitNamespace', 'a.yaml', 'Pod other/q', 8, 21]],
    );
  });

  test('several undeclared namespaces: one warning with their count and the first names, at the first use', () => {
    const podIn = (name: string, ns: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: ${ns}}\nspec: {containers: []}\n`;
    const names = ['b', 'a', 'b', 'c', 'd', 'e'];
    const r = loadCluster([
      { file: 'a.yaml', text: `apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\n${podIn('p0', 'x')}---\n${names.map((ns, k) => podIn(`p${k + 1}`, ns)).join('---\n')}` },
    ]);
    assert.deepEqual(
      [...r.cluster.namespaces.values()].map((n) => [n.name, n.implicit]),
      [
        ['a', true],
        ['b', true],
        ['c', true],
        ['d', true],
        ['e', true],
        ['x', false],
      ],
    );
    assert.deepEqual(
      r.diagnostics.map((d) => [d.severity, d.code, d.file, d.object, d.path, d.line]),
      [['warning', 'ImplicitNamespace', 'a.yaml', 'Pod b/p1', 'metadata.namespace', 12]],
    );
    assert.match(r.diagnostics[0]?.message ?? '', /^5 namespaces are not declared in the manifests \("b", "a", "c" and 2 more; the first is used here\)/);
    const two = loadCluster([{ file: 'b.yaml', text: `${podIn('p', 'a')}---\n${podIn('q', 'b')}` }]);
    assert.match(two.diagnostics[0]?.message ?? '', /^2 namespaces are not declared in the manifests \("a" and "b"; the first is used here\)/);
  });

  test('pod IPs: dual stack, deduplicated, canonical; invalid ones are warned about and ignored', () => {
    const r = load(
      `apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns}\nspec: {containers: []}\nstatus:\n  podIP: 10.0.0.7\n  podIPs:\n    - ip: 10.0.0.7\n    - ip: FD00:0:0:0:0:0:0:7\n    - ip: 10.0.0.300\n    - ip: fe80::1%eth0\n`,
    );
    assert.deepEqual(r.cluster.pods[0]?.ips, ['10.0.0.7', 'fd00::7']);
    assert.deepEqual(where(only(r.diagnostics, 'InvalidPodIP')), [
      ['InvalidPodIP', 'status.podIPs[2].ip', 10, 7],
      ['InvalidPodIP', 'status.podIPs[3].ip', 11, 7],
    ]);
    assert.equal(only(r.diagnostics, 'InvalidPodIP')[0]?.severity, 'warning');
  });

  test('duplicates (same kind, namespace and name): the second is an error and left out', () => {
    const np = `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: ns}\nspec: {podSelector: {}}\n`;
    const r = loadCluster([
      { file: 'a.yaml', text: np },
      { file: 'b.yaml', text: `${np}---\n${np.replace('name: p', 'name: q')}---\n${np.replace('namespace: ns', 'namespace: other')}` },
    ]);
    assert.deepEqual(
      r.cluster.policies.map((p) => [p.namespace, p.name, p.source?.file]),
      [
        ['ns', 'p', 'a.yaml'],
        ['ns', 'q', 'b.yaml'],
        ['other', 'p', 'b.yaml'],
      ],
    );
    const dup = only(r.diagnostics, 'Duplicate');
    assert.deepEqual(
      dup.map((d) => [d.severity, d.file, d.line, d.object, d.message]),
      [['error', 'b.yaml', 1, 'NetworkPolicy ns/p', 'NetworkPolicy ns/p is already defined at a.yaml:1:1']],
    );
  });

  test('a Namespace declared twice is a duplicate too', () => {
    const ns = `apiVersion: v1\nkind: Namespace\nmetadata: {name: ns1}\n`;
    assert.deepEqual(where(load(`${ns}---\n${ns}`).diagnostics), [['Duplicate', undefined, 5, 1]]);
  });

  test('every diagnostic has a file, a line and a column; they are ordered by file, then line', () => {
    const sources = [
      fixture('strict/type-errors.yaml'),
      fixture('list.yaml'),
      fixture('kinds/pod.yaml'),
      { file: 'inline.yaml', text: `apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n---\nkind: Pod\n---\na: b: c\n` },
    ];
    const r = loadCluster(sources);
    assert.ok(r.diagnostics.length >= 10);
    for (const d of r.diagnostics) {
      assert.equal(typeof d.file, 'string', JSON.stringify(d));
      assert.equal(typeof d.line, 'number', JSON.stringify(d));
      assert.equal(typeof d.column, 'number', JSON.stringify(d));
    }
    const order = sources.map((s) => s.file);
    const keys = r.diagnostics.map((d) => [order.indexOf(d.file as string), d.line as number, d.column as number] as const);
    const sorted = [...keys].sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
    assert.deepEqual(keys, sorted);
  });

  test('objects without a name are errors, except NetworkPolicy (left to validation); generateName stands in', () => {
    const r = load(
      `apiVersion: v1\nkind: Pod\nmetadata: {namespace: a}\nspec: {containers: []}\n---\napiVersion: v1\nkind: Pod\nmetadata: {generateName: web-, namespace: a}\nspec: {containers: []}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {namespace: a}\nspec: {}\n`,
    );
    // located at the nearest existing ancestor of metadata.name: the metadata key
    assert.deepEqual(where(withoutNamespaceNotes(r.diagnostics)), [['FieldValueRequired', 'metadata.name', 3, 1]]);
    assert.deepEqual(
      r.cluster.pods.map((p) => p.name),
      ['web-'],
    );
    assert.deepEqual(
      r.cluster.policies.map((p) => p.name),
      [''],
    );
  });

  test('YAML 1.1 booleans as kubectl reads them: `name: n` is false, a type error', () => {
    const r = load(`apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n`);
    assert.deepEqual(where(r.diagnostics), [['FieldValueTypeInvalid', 'metadata.name', 3, 12]]);
    assert.equal(r.diagnostics[0]?.message, 'cannot unmarshal bool into Go struct field ObjectMeta.metadata.name of type string');
  });

  test('label keys that are JS-special stay plain data', () => {
    const r = load(`apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns1\n  labels: {__proto__: x, constructor: z, toString: w}\n`);
    const labels = r.cluster.namespaces.get('ns1')?.labels ?? {};
    assert.deepEqual(Object.keys(labels).sort(), ['__proto__', 'constructor', 'kubernetes.io/metadata.name', 'toString']);
    assert.equal(Object.getPrototypeOf(labels), Object.prototype);
  });
});
