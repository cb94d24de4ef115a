/**
 * The differential corpus, checked without root: every hand-written scenario and 50 random ones load and
 * pass `netpol validate` on top of base.yaml; the engine's matrix (`netpol matrix -o json`) for each
 * hand-written scenario is the one its `# expect:` lines describe; no two scenarios are redundant; and
 * together they exercise the vocabulary of docs/semantics.md that the lab can observe.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { netpol } from '../netpol.js';
import { Engine } from '../../src/engine/engine.js';
import { reachability, sortPods } from '../../src/engine/matrix.js';
import { loadCluster } from '../../src/load/index.js';
import { BASE_FILE, PODS, PROBE_ARGS, PROBES, clusterWith, expectedMatrix, listScenarios, loadBase, parseExpectations, randomScenario, scenarioCluster, type ExpectedMatrix } from './corpus.js';

interface Matrix {
  pods: string[];
  probes: { port: number | string; protocol: string; allowed: boolean[][] }[];
}

async function matrix(files: string[], stdin?: string): Promise<Matrix> {
  const r = await netpol(['matrix', ...files.flatMap((f) => ['-f', f]), '-o', 'json', ...PROBE_ARGS], stdin);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Matrix;
}

/** Every cell where the expectation says something and the matrix disagrees, one line each. */
function mismatches(actual: Matrix, expected: ExpectedMatrix): string[] {
  const out: string[] = [];
  expected.probes.forEach((probe, k) =>
    PODS.forEach((from, i) =>
      PODS.forEach((to, j) => {
        const want = probe.allowed[i]![j];
        const got = actual.probes[k]!.allowed[i]![j];
        if (want !== null && want !== got) out.push(`${from} -> ${to} ${probe.protocol}/${probe.port}: engine says ${got ? 'allowed' : 'denied'}, expected ${want ? 'allowed' : 'denied'}`);
      }),
    ),
  );
  return out;
}

function signature(m: Matrix): string {
  return m.probes.map((p) => p.allowed.map((row) => row.map((v) => (v ? '1' : '0')).join('')).join('/')).join('|');
}

/**
 * Scenario pairs allowed to share a matrix, with the reason. Everything else must differ: a scenario
 * whose matrix another already shows adds nothing to the differential test.
 */
const SAME_MATRIX: Record<string, { as: string; why: string }> = {
  '40-selects-no-pod': { as: '01-no-policy', why: 'a policy that selects no pod isolates nobody: equality with no policy at all is the rule it checks' },
};

const scenarios = listScenarios();

describe('base.yaml', () => {
  test('is the conformance cluster: x, y, z with pods a, b, c, each with an IPv4 address and the four named ports', () => {
    const { cluster, diagnostics } = loadCluster([loadBase()]);
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(
      [...cluster.namespaces.values()].map((n) => [n.name, n.labels]),
      [
        ['x', { ns: 'x', 'kubernetes.io/metadata.name': 'x' }],
        ['y', { ns: 'y', 'kubernetes.io/metadata.name': 'y' }],
        ['z', { ns: 'z', 'kubernetes.io/metadata.name': 'z' }],
      ],
    );
    assert.deepEqual(
      sortPods(cluster.pods).map((p) => `${p.namespace}/${p.name}`),
      PODS,
    );
    for (const p of cluster.pods) {
      const ns = 'xyz'.indexOf(p.namespace) + 1;
      const index = 'abc'.indexOf(p.name) + 1;
      assert.deepEqual(p.labels, { pod: p.name });
      assert.deepEqual(p.ips, [`10.242.${ns}.${index}`]);
      assert.equal(p.nodeName, undefined, 'the lab assigns nodes');
      assert.deepEqual(p.ports, [
        { name: 'serve-80-tcp', port: 80, protocol: 'TCP' },
        { name: 'serve-81-tcp', port: 81, protocol: 'TCP' },
        { name: 'serve-80-udp', port: 80, protocol: 'UDP' },
        { name: 'serve-81-udp', port: 81, protocol: 'UDP' },
      ]);
    }
    assert.deepEqual(cluster.policies, []);
  });

  test('validates, and with no policy every probe is allowed', async () => {
    const v = await netpol(['validate', '-f', BASE_FILE]);
    assert.equal(v.code, 0, v.stderr);
    const m = await matrix([BASE_FILE]);
    assert.deepEqual(m.pods, PODS);
    assert.deepEqual(
      m.probes.map((p) => ({ port: p.port, protocol: p.protocol })),
      PROBES,
    );
    assert.ok(m.probes.every((p) => p.allowed.every((row) => row.every(Boolean))));
  });
});

describe('hand-written scenarios', () => {
  test('there are at least 30, numbered uniquely, each opening with its intent', () => {
    assert.ok(scenarios.length >= 30, `${scenarios.length} scenarios`);
    const numbers = scenarios.map((s) => s.name.slice(0, 2));
    assert.equal(new Set(numbers).size, numbers.length, 'scenario numbers are unique');
    for (const s of scenarios) {
      const header = s.policiesText.split('\n').filter((l, i, all) => all.slice(0, i + 1).every((x) => x.startsWith('#')));
      assert.equal(header[0], `# ${s.name.slice(0, 2)} ${s.name.slice(3)}`, `${s.name}: the header names the scenario`);
      assert.match(header[1] ?? '', /^# Rules? \d/, `${s.name}: the header says which rule of docs/semantics.md it covers`);
      assert.ok(
        header.some((l) => l.startsWith('# Expected:')),
        `${s.name}: the header says what is expected, in words`,
      );
      assert.ok(
        header.some((l) => l.startsWith('# expect:')),
        `${s.name}: the header has machine-checkable expectations`,
      );
    }
  });

  test('hold NetworkPolicies only, and the expectations parse and cover every pair', () => {
    for (const s of scenarios) {
      const alone = loadCluster([{ file: s.file, text: s.policiesText }]);
      assert.deepEqual(
        alone.diagnostics.filter((d) => d.severity === 'error'),
        [],
        s.name,
      );
      assert.equal(alone.cluster.pods.length, 0, `${s.name} holds no pod`);
      assert.ok(
        [...alone.cluster.namespaces.values()].every((n) => n.implicit),
        `${s.name} declares no namespace`,
      );
      assert.equal(alone.cluster.policies.length, (s.policiesText.match(/^kind: NetworkPolicy$/gm) ?? []).length, `${s.name}: every object is a NetworkPolicy`);

      const { expectations, errors } = parseExpectations(s.policiesText);
      assert.deepEqual(errors, [], s.name);
      const expected = expectedMatrix(expectations);
      const open = expected.probes.flatMap((p) => p.allowed.flatMap((row, i) => row.filter((v, j) => i !== j && v === null)));
      assert.equal(open.length, 0, `${s.name}: the expectations leave ${open.length} cells unspecified (start with a */* -> */* */* default)`);
    }
  });

  for (const s of scenarios) {
    test(`${s.name}: validates, and the engine's matrix is the expected one`, async () => {
      const v = await netpol(['validate', '-f', BASE_FILE, '-f', s.file]);
      assert.equal(v.code, 0, v.stderr);
      assert.equal(v.stderr, '', 'no warnings either');

      const m = await matrix([BASE_FILE, s.file]);
      assert.deepEqual(m.pods, PODS);
      assert.deepEqual(
        m.probes.map((p) => ({ port: p.port, protocol: p.protocol })),
        PROBES,
      );
      m.probes.forEach((p) => PODS.forEach((pod, i) => assert.equal(p.allowed[i]![i], true, `${pod} -> itself ${p.protocol}/${p.port}: a pod may always talk to itself`)));
      const { expectations } = parseExpectations(s.policiesText);
      const wrong = mismatches(m, expectedMatrix(expectations));
      assert.deepEqual(wrong, [], `${s.name}:\n${wrong.join('\n')}`);
      // Every line carries weight: flipping its verdict contradicts the engine somewhere.
      expectations.forEach((e, k) => {
        const flipped = expectations.map((x, i) => (i === k ? { ...x, allowed: !x.allowed } : x));
        assert.notDeepEqual(mismatches(m, expectedMatrix(flipped)), [], `${s.name} line ${e.line} is overridden entirely by later lines`);
      });

      // What the lead's harness hands the engine (scenarioCluster) gives the CLI's answer.
      const c = scenarioCluster(s.name);
      assert.deepEqual(reachability(new Engine(c), sortPods(c.pods), PROBES), m);
    });
  }

  test('no two scenarios have the same matrix, except where said why', async () => {
    const seen = new Map<string, string>();
    const clashes: string[] = [];
    for (const s of scenarios) {
      const sig = signature(await matrix([BASE_FILE, s.file]));
      const other = seen.get(sig);
      if (other === undefined) seen.set(sig, s.name);
      else if (SAME_MATRIX[s.name]?.as !== other) clashes.push(`${s.name} has the matrix of ${other}`);
    }
    assert.deepEqual(clashes, []);
    for (const [name, { as }] of Object.entries(SAME_MATRIX)) {
      assert.ok(scenarios.some((s) => s.name === name) && scenarios.some((s) => s.name === as), `SAME_MATRIX names ${name} and ${as}, which exist`);
    }
  });

  test('every probe tells something: each of TCP/80, TCP/81, UDP/80, UDP/81 is denied somewhere and differs from another probe somewhere', async () => {
    const differs = new Set<number>();
    const denied = new Set<number>();
    for (const s of scenarios) {
      const m = await matrix([BASE_FILE, s.file]);
      m.probes.forEach((p, k) => {
        if (p.allowed.some((row) => row.some((v) => !v))) denied.add(k);
        if (m.probes.some((q) => signature({ pods: [], probes: [q] }) !== signature({ pods: [], probes: [p] }))) differs.add(k);
      });
    }
    assert.deepEqual([...denied].sort(), [0, 1, 2, 3]);
    assert.deepEqual([...differs].sort(), [0, 1, 2, 3]);
  });

  test('together they use the vocabulary of docs/semantics.md that the lab can observe', () => {
    const all = scenarios.map((s) => s.policiesText.replace(/^#.*$/gm, '')).join('\n');
    const features: [string, RegExp][] = [
      ['policyTypes [Ingress]', /policyTypes: \[Ingress\]/],
      ['policyTypes [Egress]', /policyTypes: \[Egress\]/],
      ['policyTypes [Ingress, Egress]', /policyTypes: \[Ingress, Egress\]/],
      ['ingress: [{}]', /ingress:\n\s+- \{\}/],
      ['egress: [{}]', /egress:\n\s+- \{\}/],
      ['egress: []', /egress: \[\]/],
      ['podSelector: {} as a peer', /\{podSelector: \{\}\}/],
      ['namespaceSelector: {}', /namespaceSelector: \{\}/],
      ['matchLabels', /matchLabels/],
      ['In', /operator: In\b/],
      ['NotIn', /operator: NotIn\b/],
      ['Exists', /operator: Exists\b/],
      ['DoesNotExist', /operator: DoesNotExist\b/],
      ['the automatic namespace label', /kubernetes\.io\/metadata\.name/],
      ['ipBlock', /ipBlock/],
      ['ipBlock except', /except:/],
      ['ipBlock /32', /cidr: [\d.]+\/32/],
      ['protocol UDP', /protocol: UDP/],
      ['protocol without port', /\{protocol: UDP\}/],
      ['endPort', /endPort:/],
      ['a named TCP port', /port: serve-81-tcp/],
      ['a named UDP port', /port: serve-8\d-udp/],
      ['a named port nobody defines', /port: serve-82-tcp/],
    ];
    const missing = features.filter(([, re]) => !re.test(all)).map(([name]) => name);
    assert.deepEqual(missing, []);
    const untyped = scenarios.flatMap((s) => s.policiesText.split(/^---$/m)).filter((doc) => doc.includes('kind: NetworkPolicy') && !doc.includes('policyTypes'));
    assert.ok(
      untyped.some((doc) => !/^\s+egress:/m.test(doc)),
      'a policy without policyTypes and without egress',
    );
    assert.ok(
      untyped.some((doc) => /^\s+egress:\n\s+- /m.test(doc)),
      'a policy without policyTypes with egress rules',
    );
    assert.ok(
      untyped.some((doc) => /^\s+egress: \[\]/m.test(doc)),
      'a policy without policyTypes with egress: []',
    );
  });
});

describe('random scenarios', () => {
  const SEEDS = Array.from({ length: 50 }, (_, i) => i + 1);

  test('are deterministic per seed and differ between seeds', () => {
    assert.equal(randomScenario(42), randomScenario(42));
    assert.equal(new Set(SEEDS.map(randomScenario)).size, SEEDS.length);
  });

  test('50 of them load and pass netpol validate on top of base.yaml, and the matrix runs', async () => {
    const matrices = new Set<string>();
    let restrictive = 0;
    for (const seed of SEEDS) {
      const text = randomScenario(seed);
      const c = clusterWith(text, `random-${seed}.yaml`);
      assert.equal(c.pods.length, 9);
      assert.ok(c.policies.length >= 1);
      const v = await netpol(['validate', '-f', BASE_FILE, '-f', '-'], text);
      assert.equal(v.code, 0, `seed ${seed}:\n${v.stderr}\n${text}`);
      const m = await matrix([BASE_FILE, '-'], text);
      assert.deepEqual(reachability(new Engine(c), sortPods(c.pods), PROBES), m, `seed ${seed}`);
      matrices.add(signature(m));
      if (m.probes.some((p) => p.allowed.some((row) => row.some((x) => !x)))) restrictive++;
    }
    assert.ok(matrices.size >= 40, `${matrices.size} distinct matrices out of 50`);
    assert.ok(restrictive >= 35, `${restrictive} of 50 deny something`);
  });

  test('draw on the whole vocabulary', () => {
    const all = SEEDS.map(randomScenario).join('\n');
    for (const word of [
      'NotIn',
      'DoesNotExist',
      'Exists',
      'operator: In',
      'kubernetes.io/metadata.name',
      'namespaceSelector: {}',
      'podSelector: {}',
      'except:',
      '/32',
      'endPort',
      'serve-81-tcp',
      'serve-80-udp',
      'serve-82-tcp',
      'protocol: UDP',
      'ingress: []',
      'egress: []',
      '- {}',
      'policyTypes',
    ]) {
      assert.ok(all.includes(word), `no random scenario uses ${word}`);
    }
  });
});
