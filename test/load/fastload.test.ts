/**
 * The fast loader returns exactly what the reference loader returns (cluster, diagnostics, positions),
 * taking its own path on the generated shapes and on kubectl-style manifests, and handing over to the
 * reference loader on everything else.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { FastLoadCache, loadClusterFast, parseYamlSubset } from '../../src/load/index.js';
import { loadCluster, type SourceText } from '../../src/load/index.js';
import { SHAPES, generateFiles } from '../../tools/gen/index.js';
import type { LoadResult } from '../../src/load/index.js';
import { validateCluster } from '../../src/validate/index.js';
import { anySharedAddress, canonicalV4 } from '../../src/load/fast/core.js';
import { dnsName, metaValidity, qualifiedName, type Meta } from '../../src/load/fast/meta.js';
import { sharedAddresses } from '../../src/load/index.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, validateNamespaceMeta, validateNamespacedMeta } from '../../src/validate/index.js';
import type { PodInfo } from '../../src/model/index.js';
import { formatIP, parseIPSloppy } from '../../src/ip/index.js';
import { parseDocuments } from '../../src/load/index.js';
import { plain as plainValue } from '../../src/load/schema.js';
import { toYaml } from '../../tools/gen/index.js';

const root = new URL('../..', import.meta.url).pathname;

/** A deep copy without `locate` functions (compared separately) and with the namespace Map as entries. */
function plain(v: unknown): unknown {
  if (v instanceof Map) return [...v.entries()].map(([k, x]) => [k, plain(x)]);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== 'locate') out[k] = plain(x);
    return out;
  }
  return v;
}

const PATHS = [
  'metadata.name',
  'metadata.labels',
  'spec',
  'spec.podSelector',
  'spec.ingress[0].from[0]',
  'spec.ingress[0].ports[0].port',
  'spec.containers[0].ports[0]',
  'status.podIP',
  'nope.nothing',
];

function assertSame(sources: SourceText[], expectFast?: boolean): void {
  const fast = loadClusterFast(sources);
  const ref: LoadResult = loadCluster(sources);
  if (expectFast !== undefined) assert.equal(fast.fast, expectFast, `fast path ${expectFast ? 'not taken' : 'taken'} (${fast.fallbackReason ?? ''})`);
  assert.deepEqual(plain(fast.cluster), plain(ref.cluster));
  assert.deepEqual(fast.diagnostics, ref.diagnostics);
  // Positions: every object's locator agrees, and so do validation diagnostics that use them.
  const objs = (r: LoadResult) =>
    [...r.cluster.namespaces.values(), ...r.cluster.pods, ...r.cluster.policies, ...(r.cluster.clusterPolicies ?? []), ...(r.cluster.services ?? [])].map((o) => o.source);
  const a = objs(fast);
  const b = objs(ref);
  a.forEach((s, i) => {
    for (const p of PATHS) assert.deepEqual(s?.locate(p), b[i]?.locate(p), `locate(${p})`);
  });
  assert.deepEqual(validateCluster(fast.cluster), validateCluster(ref.cluster));
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else if (/\.(ya?ml|json)$/.test(name)) out.push(p);
  }
  return out;
}

describe('fast loader', () => {
  for (const shape of SHAPES) {
    test(`takes the fast path on ${shape} and equals the reference loader`, () => {
      const scale = shape === 'realistic' ? 0.02 : shape === 'one-ns-overlap' || shape === 'pairs' ? 0.01 : shape === 'cross-ns' ? 0.002 : 0.0008;
      const files = generateFiles(shape, { seed: 7, scale, chunk: 50 });
      assertSame(
        files.map((f) => ({ file: f.name, text: f.text })),
        true,
      );
    });
  }

  test('Services take the fast path (YAML and JSON) and equal the reference loader; invalid ones hand over', () => {
    const text = readFileSync(join(root, 'examples/bookstore/services.yaml'), 'utf8');
    assertSame([{ file: 'services.yaml', text }], true);
    assertSame([{ file: 'all.yaml', text: `${readFileSync(join(root, 'examples/bookstore/workloads.yaml'), 'utf8')}\n---\n${text}` }]);
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'ServiceList', items: [{ metadata: { name: 'db', namespace: 'x' }, spec: { selector: { app: 'db' }, ports: [{ port: 5432 }] } }] });
    assertSame([{ file: 'svc.json', text: json }], true);
    const invalid = readFileSync(join(root, 'test/fixtures/service/invalid.yaml'), 'utf8');
    for (const doc of invalid.split(/^---$/m)) assertSame([{ file: 'bad.yaml', text: doc }], false);
    // The same Service twice, in two files: the reference loader reports the duplicate.
    assertSame(
      [
        { file: 'a.yaml', text },
        { file: 'b.yaml', text },
      ],
      false,
    );
  });

  test('equals the reference loader on every example and fixture, file by file', () => {
    const files = [...filesUnder(join(root, 'examples')), ...filesUnder(join(root, 'test/fixtures/load'))];
    assert.ok(files.length > 10);
    for (const f of files) assertSame([{ file: f, text: readFileSync(f, 'utf8') }]);
  });

  const pod = (extra = '', labels = 'app: web') => `apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: prod
  labels:
    ${labels}
spec:
  containers:
  - name: main
    ports:
    - name: http
      containerPort: 8080
status:
  podIP: 10.0.0.1
${extra}`;
  const ns = `---
apiVersion: v1
kind: Namespace
metadata:
  name: prod
`;

  const FAST: Record<string, string> = {
    'comments, blank lines and quoted keys': `# leading comment\n\n${pod('', '"app": web # trailing\n    tier: \'back.end\'')}${ns}`,
    'a literal block scalar in an annotation': `${ns}---
apiVersion: v1
kind: Pod
metadata:
  name: x
  namespace: prod
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: |
      {"apiVersion":"v1",
        "kind":"Pod"}

    other: |-
      a

      b
spec:
  containers: []
`,
    'a PodList without kinds on the items': `${ns}---
apiVersion: v1
kind: PodList
items:
- metadata:
    name: a
    namespace: prod
    labels: {}
  spec:
    containers:
    - name: c
      image: nginx
- metadata:
    name: b
    namespace: prod
    creationTimestamp: null
    ownerReferences:
    - apiVersion: apps/v1
      kind: ReplicaSet
      name: rs
      uid: "1234"
      controller: true
`,
    'a NetworkPolicy with every kind of field': `${ns}---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: np
  namespace: prod
spec:
  podSelector:
    matchExpressions:
    - key: tier
      operator: NotIn
      values:
      - "x"
  policyTypes:
  - Ingress
  - Egress
  ingress:
  - from:
    - ipBlock:
        cidr: 10.0.0.0/8
        except:
        - 10.1.0.0/16
    - namespaceSelector: {}
      podSelector:
        matchLabels:
          app: db
    ports:
    - port: 8080
      endPort: 8090
    - protocol: UDP
      port: dns
  egress: []
`,
  };
  const cnp = (name: string, extra = '') => `apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: ${name}
spec:
  tier: Admin
  priority: 10
  subject:
    namespaces:
      matchLabels:
        kubernetes.io/metadata.name: prod
  ingress:
  - name: deny
    action: Deny
    from:
    - namespaces:
        matchExpressions:
        - key: team
          operator: Exists
    protocols:
    - tcp:
        destinationPort:
          number: 80
${extra}`;
  const CLUSTER_POLICIES: Record<string, string> = {
    'cluster-scoped policies (ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy)': `${ns}---
${cnp('a')}---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata:
  name: a
spec:
  priority: 3
  subject:
    namespaces: {}
  egress:
  - action: Deny
    to:
    - networks:
      - 10.0.0.0/8
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata:
  name: default
spec:
  subject:
    namespaces: {}
`,
    'an invalid cluster-scoped policy (validation, not decoding, reports it)': `${ns}---\n${cnp('b', '  priority: 2000\n').replace('  priority: 10\n', '')}`,
    '!a cluster-scoped policy with an unknown top-level field': `${ns}---\n${cnp('c')}extra: 1\n`,
    '!a second cluster-scoped policy of the same kind and name': `${ns}---\n${cnp('d')}---\n${cnp('d')}`,
  };
  for (const [name, text] of Object.entries(CLUSTER_POLICIES)) {
    test(`${name.startsWith('!') ? 'hands over to the reference loader' : 'fast path'}: ${name.replace(/^!/, '')}`, () => assertSame([{ file: 'in.yaml', text }], !name.startsWith('!')));
  }

  // A dump of pods and policies without its Namespace objects: one warning for all the namespaces it uses.
  FAST['an undeclared namespace'] = pod();
  FAST['undeclared namespaces, in a List and in documents'] = `${pod()}---\napiVersion: v1\nkind: List\nitems:\n${[1, 2, 3, 4]
    .map((k) => `- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p${k}\n    namespace: team-${k % 3}\n  spec:\n    containers: []\n`)
    .join('')}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np\n  namespace: team-9\nspec:\n  podSelector: {}\n`;
  FAST['declared and undeclared namespaces, declared after use'] = `${pod()}---\n${pod().replace(/prod/g, 'other').replace('10.0.0.1', '10.0.0.2')}${ns}`;

  FAST['valid annotations, a generateName and a long subdomain name'] = `${ns}---\n${pod().replace('  labels:', '  annotations:\n    example.com/Note: x\n  labels:')}---\n${pod()
    .replace('name: web-1', 'generateName: web-')
    .replace('10.0.0.1', '10.0.0.2')}---\n${pod()
    .replace('name: web-1', `name: ${'a1-b.'.repeat(50)}c`)
    .replace('10.0.0.1', '10.0.0.3')}`;
  FAST['two pods with one address on the host network'] =
    `${ns}---\n${pod().replace('spec:', 'spec:\n  hostNetwork: true')}---\n${pod().replace('web-1', 'web-2').replace('spec:', 'spec:\n  hostNetwork: true')}`;
  for (const [name, text] of Object.entries(FAST)) {
    test(`fast path: ${name}`, () => assertSame([{ file: 'in.yaml', text }], !name.startsWith('!')));
  }

  const FALLBACK: Record<string, string> = {
    anchors: `${ns}---\n${pod().replace('app: web', 'app: &a web\n    copy: *a')}`,
    'flow mappings': `${ns}---\n${pod().replace('app: web', 'app: web\n    x: {a: b}')}`,
    'a folded scalar': `${ns}---\n${pod().replace('app: web', 'app: >\n      web')}`,
    'a multi-line plain scalar': `${ns}---\n${pod().replace('app: web', 'app: web\n      tier')}`,
    tabs: `${ns}---\n${pod().replace('app: web', 'app:\tweb')}`,
    'duplicate keys': `${ns}---\n${pod().replace('app: web', 'app: web\n    app: db')}`,
    'a number where a string is expected': `${ns}---\n${pod('', 'app: 1.5')}`,
    'a YAML 1.1 boolean label': `${ns}---\n${pod('', 'enabled: on')}`,
    'an unknown NetworkPolicy field': `${ns}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np\n  namespace: prod\nspec:\n  podSelector: {}\n  ingres: []\n`,
    'a workload': `${ns}---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  namespace: prod\nspec:\n  template:\n    metadata:\n      labels: {app: x}\n`,
    'an empty namespace (the reference loader names the object `Pod /web-1`)': pod().replace('namespace: prod', 'namespace: ""'),
    'an invalid pod IP': `${ns}---\n${pod().replace('10.0.0.1', '10.0.0.300')}`,
    'a duplicate object': `${ns}---\n${pod()}---\n${pod()}`,
    'CRLF line ends': `${ns}---\n${pod()}`.replaceAll('\n', '\r\n'),
    'YAML syntax errors': `${ns}---\n${pod()}  : : :\n`,
    'a comment glued to a quoted scalar': `${ns}---\n${pod('', "k: ''#a")}`,
    // Metadata the API server refuses (checked by MetaValidity, remembering what it found valid).
    'an invalid pod name': `${ns}---\n${pod().replace('name: web-1', 'name: Web-1')}`,
    'a pod name with an empty label': `${ns}---\n${pod().replace('name: web-1', 'name: web..1')}`,
    'an invalid label key after a valid one': `${ns}---\n${pod()}---\n${pod('', 'app: web\n    -bad: x').replace('web-1', 'web-2').replace('10.0.0.1', '10.0.0.2')}`,
    'an invalid label value after a valid one': `${ns}---\n${pod()}---\n${pod('', 'app: web-').replace('web-1', 'web-2').replace('10.0.0.1', '10.0.0.2')}`,
    'an invalid namespace after a valid one': `${ns}---\n${pod()}---\n${pod().replace('web-1', 'web-2').replace('10.0.0.1', '10.0.0.2').replace('namespace: prod', 'namespace: Prod')}`,
    'a namespace name that is a subdomain': `${ns.replace('name: prod', 'name: a.b')}---\n${pod()}`,
    'a Namespace with a namespace': `${ns.replace('name: prod', 'name: prod\n  namespace: x')}---\n${pod()}`,
    'an invalid annotation key': `${ns}---\n${pod().replace('  labels:', '  annotations:\n    a/b/c: x\n  labels:')}`,
    'annotations over 256 KiB': `${ns}---\n${pod().replace('  labels:', `  annotations:\n    a: ${'x'.repeat(262144)}\n  labels:`)}`,
    'an invalid generateName': `${ns}---\n${pod().replace('name: web-1', 'generateName: Web-')}`,
    'two pods with one address': `${ns}---\n${pod()}---\n${pod().replace('web-1', 'web-2')}`,
    'two pods with one IPv6 address': `${ns}---\n${pod().replace('10.0.0.1', 'fd00::1')}---\n${pod().replace('web-1', 'web-2').replace('10.0.0.1', 'fd00::1')}`,
  };
  test('fast path: JSON (src/load/fast/json.ts), with the same positions', () =>
    assertSame([{ file: 'in.json', text: `{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}}` }], true));

  for (const [name, text] of Object.entries(FALLBACK)) {
    test(`hands over to the reference loader: ${name}`, () => assertSame([{ file: 'in.yaml', text }], false));
  }

  test('metadata checks (metaValidity, dnsName, qualifiedName) answer as the validators do', () => {
    const name = fc.string({ unit: fc.constantFrom(...'ab09-._/AZ\u212aé'.split('')), maxLength: 12 });
    const long = fc.constantFrom(
      'a'.repeat(63),
      'a'.repeat(64),
      `${'a.'.repeat(126)}a`,
      `${'a.'.repeat(126)}ab`,
      `${'a.'.repeat(126)}a/b`,
      `${'a.'.repeat(127)}a/b`,
      `a/${'b'.repeat(63)}`,
      `a/${'b'.repeat(64)}`,
    );
    fc.assert(
      fc.property(fc.oneof(name, long), (n) => {
        assert.equal(dnsName(n, 63, false), isDNS1123Label(n).length === 0, n);
        assert.equal(dnsName(n, 253, true), isDNS1123Subdomain(n).length === 0, n);
        assert.equal(qualifiedName(n, false), isQualifiedName(n).length === 0, n);
        if (qualifiedName(n, true)) assert.equal(isQualifiedName(n.toLowerCase()).length, 0, n);
      }),
      { numRuns: 5000 },
    );
    // Mostly texts every check accepts, so that the other parts decide, and now and then one that fails.
    const good = fc.constantFrom('web', 'a-b', 'x.y', '9');
    const text = fc.oneof(
      { weight: 12, arbitrary: good },
      { weight: 2, arbitrary: name },
      { weight: 1, arbitrary: long },
      { weight: 1, arbitrary: fc.constantFrom('example.com/x', 'Example.com/x', 'x'.repeat(64), '') },
    );
    const meta: fc.Arbitrary<Meta> = fc.record(
      {
        name: text,
        generateName: fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: text }),
        namespace: text,
        labels: fc.dictionary(text, text, { maxKeys: 3 }),
        annotations: fc.dictionary(text, fc.oneof(text, fc.constant('x'.repeat(90000))), { maxKeys: 4 }),
      },
      { requiredKeys: ['name'] },
    );
    const seen = { valid: 0, invalid: 0 };
    fc.assert(
      fc.property(meta, (m) => {
        const pod = validateNamespacedMeta(m).length === 0;
        assert.equal(metaValidity.pod(m), pod);
        assert.equal(metaValidity.namespace(m), validateNamespaceMeta(m).length === 0);
        seen[pod ? 'valid' : 'invalid']++;
      }),
      { numRuns: 10000 },
    );
    assert.ok(seen.valid > 1000 && seen.invalid > 1000, JSON.stringify(seen));
  });

  test('a shared pod address is found as sharedAddresses finds it', () => {
    const ip = fc.constantFrom('10.0.0.1', '10.0.0.2', '255.255.255.255', '0.0.0.0', 'fd00::1', 'fd00::2', '::ffff:10.0.0.1');
    const podArb = fc.record({ ips: fc.uniqueArray(ip, { maxLength: 2 }), hostNetwork: fc.constantFrom(undefined, true, false) });
    fc.assert(
      fc.property(fc.array(podArb, { maxLength: 6 }), (ps) => {
        const pods = ps.map((p, i) => ({ namespace: 'x', name: `p${i}`, labels: {}, ports: [], ...p }) as PodInfo);
        assert.equal(anySharedAddress(pods), sharedAddresses(pods).length > 0);
      }),
      { numRuns: 2000 },
    );
  });

  test('keys read as the reference loader reads them', () => {
    const chars = fc.constantFrom(...'aZ09-_.:/#@ \'"|>&*!{}[],?%yYnN'.split(''));
    fc.assert(
      fc.property(fc.string({ unit: chars, minLength: 1, maxLength: 6 }), fc.constantFrom('plain', 'single', 'double'), (k, style) => {
        const key = style === 'plain' ? k : style === 'single' ? `'${k.replaceAll("'", "''")}'` : JSON.stringify(k);
        assertSame([{ file: 'in.yaml', text: `${ns}---\n${pod('', `${key}: v`)}` }]);
      }),
      { numRuns: 1000 },
    );
  });

  test('scalars read as the reference loader reads them (label values, plain and quoted)', () => {
    const chars = fc.constantFrom(...'aZ09-_.:/#@ \'"\\yYnNoOtT+eE|>&*!{}[],?%~'.split(''));
    fc.assert(
      fc.property(fc.string({ unit: chars, minLength: 1, maxLength: 8 }), fc.constantFrom('plain', 'single', 'double'), (s, style) => {
        const v = style === 'plain' ? s : style === 'single' ? `'${s.replaceAll("'", "''")}'` : JSON.stringify(s);
        assertSame([{ file: 'in.yaml', text: `${ns}---\n${pod('', `k: ${v}`)}` }]);
      }),
      { numRuns: 1000 },
    );
  });

  test('texts read again from the scalar cache are never mixed up (same length, same sampled characters)', () => {
    // The cache hashes a text's length and five of its characters: vary the others, across many objects.
    const alphabet = 'ab01.-_';
    const rng = fc.sample(fc.array(fc.constantFrom(...alphabet.split('')), { minLength: 3, maxLength: 3 }), { numRuns: 40, seed: 5 });
    const texts = rng.map((m) => `ab${m[0]}${m[1]}c${m[2]}gh`); // length 8: positions 2, 3 and 5 vary
    const long = rng.map((m) => `x${m.join('')}${'y'.repeat(20)}${m.join('')}z`); // slices of 13+ characters
    let text = ns;
    texts.forEach((t, i) => {
      const labels = `${t}: ${texts[(i * 7 + 1) % texts.length]}\n    q: ${long[i]}\n    k: "${long[(i * 3) % long.length]}"`;
      text += `---\n${pod('', labels).replace('name: web-1', `name: web-${i}`).replace('10.0.0.1', `10.0.${i}.1`)}`;
    });
    assertSame([{ file: 'in.yaml', text }], true);
  });

  test('pod addresses read as the reference loader reads them', () => {
    const ip = fc.oneof(
      fc.tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300)).map((o) => o.join('.')),
      fc.tuple(fc.constantFrom('0', '00', '010', '1'), fc.nat(255)).map(([a, b]) => `${a}.0.${b}.1`),
      fc.constantFrom('fd00::1', 'FD00:0::1', '::ffff:10.0.0.1', '10.0.0', '10.0.0.1.2', '1.2.3.4 ', ''),
    );
    fc.assert(
      fc.property(ip, ip, (a, b) => {
        assertSame([{ file: 'in.yaml', text: `${ns}---\n${pod(`  podIPs:\n  - ip: "${b}"\n  - ip: "${a}"\n`).replace('10.0.0.1', JSON.stringify(a))}` }]);
        assert.equal(canonicalV4(a), formatIP(parseIPSloppy(a) ?? { family: 6, value: 0n }) === a && parseIPSloppy(a)?.family === 4);
      }),
      { numRuns: 300 },
    );
  });

  test('the subset parser reads random block documents as the reference parser does, or declines', () => {
    const scalar = fc.oneof(fc.string({ unit: fc.constantFrom(...'aZ09-_.:/#@ \'"yYnN~|>'.split('')), maxLength: 6 }), fc.integer({ min: -5, max: 100000 }), fc.boolean(), fc.constant(null));
    const key = fc.string({ unit: fc.constantFrom(...'abkZ09-_./ :#'.split('')), minLength: 1, maxLength: 5 });
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('map'), tie('seq')),
      map: fc.dictionary(key, tie('tree'), { maxKeys: 4 }),
      seq: fc.array(tie('tree'), { maxLength: 4 }),
    }));
    let declined = 0;
    fc.assert(
      fc.property(fc.dictionary(key, tree, { minKeys: 1, maxKeys: 4 }), fc.array(fc.nat(), { maxLength: 4 }), (doc, noise) => {
        // Comments and blank lines sprinkled between lines must not change anything.
        const lines = toYaml(doc).split('\n');
        for (const n of noise) lines.splice(n % lines.length, 0, n % 2 ? '' : '  # note');
        const text = `---\n${lines.join('\n')}`;
        const fast = parseYamlSubset(text);
        if ('unsupported' in fast) {
          declined++;
          return;
        }
        const ref = parseDocuments('t.yaml', text);
        if (ref.diagnostics.some((d) => d.severity === 'error')) assert.fail(`fast path read what the reference parser rejects: ${JSON.stringify(text)}`);
        assert.deepEqual(
          fast.documents.map((d) => d.value),
          ref.documents.map(plainValue),
          text,
        );
      }),
      { numRuns: 1500 },
    );
    assert.ok(declined < 1000, `declined ${declined} of 1500`);
  });
});

describe('FastLoadCache: files parsed once while their text stays', () => {
  test('an unchanged file yields the same objects, a changed one new ones; the result equals a fresh load', () => {
    const files = generateFiles('realistic', { seed: 3, scale: 0.05, chunk: 40 }).map((f) => ({ file: f.name, text: f.text }));
    const cache = new FastLoadCache();
    const first = loadClusterFast(files, { cache });
    assert.ok(first.fast);
    const again = loadClusterFast(files, { cache });
    assert.ok(again.cluster.pods.every((p, i) => p === first.cluster.pods[i]));
    assert.ok(again.cluster.policies.every((p, i) => p === first.cluster.policies[i]));

    // One pod file edited: its pods are new objects, every other file's are the same.
    const k = files.findIndex((f) => f.file.startsWith('pods-'));
    const target = files[k] as SourceText;
    const edited = files.map((f, i) => (i === k ? { file: f.file, text: f.text.replace(/app: (\S+)/, 'app: edited') } : f));
    const third = loadClusterFast(edited, { cache });
    assert.ok(third.fast);
    assert.deepEqual(plain(third.cluster), plain(loadClusterFast(edited).cluster));
    third.cluster.pods.forEach((p, i) => {
      if (p.source?.file === target.file) assert.notEqual(p, first.cluster.pods[i]);
      else assert.equal(p, first.cluster.pods[i]);
    });
    assert.ok(third.cluster.pods.some((p) => Object.values(p.labels).includes('edited')));

    // Files without their Namespace objects: the replayed files name the same first uses as a fresh load.
    const withoutNamespaces = files.filter((f) => !/^kind: Namespace$/m.test(f.text));
    assert.ok(withoutNamespaces.length < files.length);
    const implicitCache = new FastLoadCache();
    loadClusterFast(withoutNamespaces, { cache: implicitCache });
    const replayed = loadClusterFast(withoutNamespaces, { cache: implicitCache });
    assert.ok(replayed.fast);
    assert.deepEqual(replayed.diagnostics, loadCluster(withoutNamespaces).diagnostics);
    assert.deepEqual(plain(replayed.cluster), plain(loadCluster(withoutNamespaces).cluster));

    // A duplicate across files is still found when both come from the cache.
    const dup = [...files, { file: 'copy.yaml', text: target.text }];
    const withDup = loadClusterFast(dup, { cache });
    assert.equal(withDup.fast, false);
    assert.deepEqual(withDup.diagnostics, loadCluster(dup).diagnostics);
  });
});
