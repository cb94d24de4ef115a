/**
 * The differential corpus: the scenarios that `netpol lab run` (real packets) and `netpol matrix` (the
 * engine) must agree on, and the pure helpers around them.
 *
 * Design choice: a scenario is a plain manifest file of NetworkPolicies applied on top of one fixed
 * cluster (scenarios/base.yaml: the upstream conformance cluster x, y, z with pods a, b, c), so the lab
 * and the CLI read exactly the files a user would hand them, and a scenario is reviewable on its own. Its
 * intent is written in its header as machine-checkable `# expect:` lines (see {@link parseExpectations}),
 * so the corpus test can hold the engine to what the author meant, not only the lab to the engine.
 * Random scenarios come from a small seeded generator over the same vocabulary (labels, namespaces,
 * ports, names, address blocks of base.yaml), deterministic for a seed on every machine.
 *
 * Pure except for reading the corpus files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { hasErrors, formatDiagnostic } from '../../src/diag/diagnostic.js';
import type { Probe } from '../../src/engine/matrix.js';
import { random } from '../../tools/gen/random.js';
import { loadCluster, type SourceText } from '../../src/load/index.js';
import type { Cluster, Protocol } from '../../src/model/cluster.js';

export const SCENARIO_DIR = fileURLToPath(new URL('./scenarios/', import.meta.url));
export const BASE_FILE = join(SCENARIO_DIR, 'base.yaml');

export const NAMESPACES = ['x', 'y', 'z'] as const;
export const POD_NAMES = ['a', 'b', 'c'] as const;
/** Every pod of base.yaml as `ns/name`, in matrix order (sortPods: namespace, then name). */
export const PODS: readonly string[] = NAMESPACES.flatMap((ns) => POD_NAMES.map((p) => `${ns}/${p}`));

/** The four probes of the differential tests, in the order `matrix` prints them for {@link PROBE_ARGS}. */
export const PROBES: readonly Probe[] = [
  { port: 80, protocol: 'TCP' },
  { port: 81, protocol: 'TCP' },
  { port: 80, protocol: 'UDP' },
  { port: 81, protocol: 'UDP' },
];
/** `netpol matrix` / `netpol lab run` flags for {@link PROBES}. */
export const PROBE_ARGS: readonly string[] = ['--port', '80', '--port', '81', '--protocol', 'TCP', '--protocol', 'UDP'];

export interface Scenario {
  /** The file name without `.yaml`, e.g. `02-deny-all-ingress`. */
  readonly name: string;
  /** Absolute path of the scenario file. */
  readonly file: string;
  /** The file's text: the header comment and the NetworkPolicies. */
  readonly policiesText: string;
}

const SCENARIO_FILE = /^(\d\d)-([a-z0-9]+(?:-[a-z0-9]+)*)\.yaml$/;

export function loadBase(): SourceText {
  return { file: BASE_FILE, text: readFileSync(BASE_FILE, 'utf8') };
}

/** The hand-written scenarios, ordered by number. */
export function listScenarios(): Scenario[] {
  return readdirSync(SCENARIO_DIR)
    .filter((f) => SCENARIO_FILE.test(f))
    .sort()
    .map((f) => {
      const file = join(SCENARIO_DIR, f);
      return { name: f.slice(0, -'.yaml'.length), file, policiesText: readFileSync(file, 'utf8') };
    });
}

export function scenario(name: string): Scenario {
  const s = listScenarios().find((x) => x.name === name);
  if (!s) throw new Error(`no scenario ${name} in ${SCENARIO_DIR}`);
  return s;
}

/** base.yaml and the scenario, as the loader's sources (in that order, as `-f base -f scenario`). */
export function scenarioSources(name: string): SourceText[] {
  const s = scenario(name);
  return [loadBase(), { file: s.file, text: s.policiesText }];
}

/** base.yaml plus the scenario through the real loader. Throws when the corpus itself is broken. */
export function scenarioCluster(name: string): Cluster {
  return loadOrThrow(scenarioSources(name));
}

/** base.yaml plus any policy text (e.g. {@link randomScenario}) through the real loader. */
export function clusterWith(policiesText: string, file = '<generated>'): Cluster {
  return loadOrThrow([loadBase(), { file, text: policiesText }]);
}

function loadOrThrow(sources: SourceText[]): Cluster {
  const { cluster, diagnostics } = loadCluster(sources);
  if (hasErrors(diagnostics)) throw new Error(`corpus does not load:\n${diagnostics.map((d) => formatDiagnostic(d)).join('\n')}`);
  return cluster;
}

// ---------------------------------------------------------------------------------------------------
// Expectations: `# expect: FROM -> TO PROBES: allowed|denied` lines in a scenario's header.
//
//   FROM, TO  comma-separated pods `ns/name`, either part may be `*`      (x/a,y/*,*/c)
//   PROBES    comma-separated `PROTOCOL/PORT`, either part may be `*`    (TCP/80,UDP/*,*/*)
//
// Lines apply in order and a later line overrides an earlier one for the cells it covers, so a scenario
// states a default first (`*/* -> */* */*: allowed`) and then the exceptions. Self pairs (a pod to
// itself) are never covered: rule 12 allows them always, and the corpus test checks that separately.
// ---------------------------------------------------------------------------------------------------

export interface Expectation {
  /** 1-based line in the scenario file. */
  readonly line: number;
  readonly from: readonly string[];
  readonly to: readonly string[];
  readonly probes: readonly Probe[];
  readonly allowed: boolean;
}

export interface ParsedExpectations {
  readonly expectations: Expectation[];
  /** Lines starting with `# expect` that do not parse, or patterns that match nothing. */
  readonly errors: string[];
}

const EXPECT_LINE = /^#\s*expect:\s*(\S+)\s*->\s*(\S+)\s+(\S+):\s*(allowed|denied)\s*$/;

export function parseExpectations(text: string): ParsedExpectations {
  const expectations: Expectation[] = [];
  const errors: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (!/^#\s*expect/.test(line)) return;
    const m = EXPECT_LINE.exec(line);
    if (!m) {
      errors.push(`line ${i + 1}: cannot parse ${JSON.stringify(line)}`);
      return;
    }
    const from = expandPods(m[1]!);
    const to = expandPods(m[2]!);
    const probes = expandProbes(m[3]!);
    if (from.length === 0 || to.length === 0 || probes.length === 0) {
      errors.push(`line ${i + 1}: ${JSON.stringify(line)} matches no pod pair or probe`);
      return;
    }
    expectations.push({ line: i + 1, from, to, probes, allowed: m[4] === 'allowed' });
  });
  return { expectations, errors };
}

function expandPods(list: string): string[] {
  const out = new Set<string>();
  for (const pattern of list.split(',')) {
    const [ns, name, extra] = pattern.split('/');
    if (ns === undefined || name === undefined || extra !== undefined) return [];
    const matches = PODS.filter((p) => {
      const [pns, pname] = p.split('/');
      return (ns === '*' || ns === pns) && (name === '*' || name === pname);
    });
    if (matches.length === 0) return [];
    matches.forEach((p) => out.add(p));
  }
  return PODS.filter((p) => out.has(p));
}

function expandProbes(list: string): Probe[] {
  const out = new Set<number>();
  for (const pattern of list.split(',')) {
    const [protocol, port, extra] = pattern.split('/');
    if (protocol === undefined || port === undefined || extra !== undefined) return [];
    const matches = PROBES.map((p, k) => ({ p, k })).filter(({ p }) => (protocol === '*' || protocol === p.protocol) && (port === '*' || port === String(p.port)));
    if (matches.length === 0) return [];
    matches.forEach(({ k }) => out.add(k));
  }
  return PROBES.filter((_, k) => out.has(k));
}

/** A matrix in the shape of `netpol matrix -o json`, with `null` where the expectations say nothing. */
export interface ExpectedMatrix {
  readonly pods: readonly string[];
  readonly probes: readonly (Probe & { readonly allowed: (boolean | null)[][] })[];
}

export function expectedMatrix(expectations: readonly Expectation[]): ExpectedMatrix {
  const probes = PROBES.map((p) => ({ ...p, allowed: PODS.map(() => PODS.map((): boolean | null => null)) }));
  for (const e of expectations) {
    for (const probe of e.probes) {
      const cells = probes.find((p) => p.port === probe.port && p.protocol === probe.protocol)!.allowed;
      for (const from of e.from) {
        for (const to of e.to) {
          if (from !== to) cells[PODS.indexOf(from)]![PODS.indexOf(to)] = e.allowed;
        }
      }
    }
  }
  return { pods: PODS, probes };
}

// ---------------------------------------------------------------------------------------------------
// Random scenarios over the vocabulary of base.yaml.
// ---------------------------------------------------------------------------------------------------

/** The project's seeded generator (tools/gen/random.ts), seeded as this corpus always was, plus `some`. */
function rng(seed: number) {
  const r = random(((seed >>> 0) ^ 0x5bd1e995) >>> 0);
  return {
    int: r.int,
    chance: r.chance,
    pick: r.pick,
    /** 1..max distinct items, in the list's order. */
    some: <T>(xs: readonly T[], max: number): T[] => {
      const k = 1 + r.int(Math.min(max, xs.length));
      const chosen = new Set<number>();
      while (chosen.size < k) chosen.add(r.int(xs.length));
      return xs.filter((_, i) => chosen.has(i));
    },
  };
}

type Rng = ReturnType<typeof rng>;
type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

const NAME_LABEL = 'kubernetes.io/metadata.name';
/** `tier` is on no object: it exercises NotIn / DoesNotExist / Exists on a missing key. `d` is no pod. */
const POD_VALUES = ['a', 'b', 'c', 'd'];
const NS_VALUES = ['x', 'y', 'z', 'w'];

function selector(r: Rng, key: string, values: readonly string[]): Json {
  switch (r.int(5)) {
    case 0:
      return {};
    case 1:
    case 2:
      return { matchLabels: { [key]: r.pick(values.slice(0, 3)) } };
    default: {
      const expressions: Json[] = [];
      const n = 1 + r.int(2);
      for (let i = 0; i < n; i++) {
        const k = r.chance(0.75) ? key : 'tier';
        const operator = r.pick(['In', 'NotIn', 'Exists', 'DoesNotExist']);
        expressions.push(operator === 'In' || operator === 'NotIn' ? { key: k, operator, values: r.some(k === 'tier' ? ['web', 'db'] : values, 2) } : { key: k, operator });
      }
      return r.chance(0.3) ? { matchLabels: { [key]: r.pick(values.slice(0, 3)) }, matchExpressions: expressions } : { matchExpressions: expressions };
    }
  }
}

function podSelector(r: Rng): Json {
  return selector(r, 'pod', POD_VALUES);
}

function namespaceSelector(r: Rng): Json {
  return selector(r, r.chance(0.3) ? NAME_LABEL : 'ns', NS_VALUES);
}

/** Blocks over the pod addresses 10.242.N.M (N, M in 1..3), except entries strictly inside. */
function ipBlock(r: Rng): Json {
  const n = 1 + r.int(3);
  switch (r.int(5)) {
    case 0:
      return { cidr: `10.242.${n}.${1 + r.int(3)}/32` };
    case 1:
      return { cidr: `10.242.${n}.0/24`, ...(r.chance(0.6) ? { except: r.some([1, 2, 3], 2).map((m) => `10.242.${n}.${m}/32`) } : {}) };
    case 2:
      return { cidr: `10.242.${n}.0/30`, except: [`10.242.${n}.${1 + r.int(3)}/32`] };
    case 3:
      return { cidr: '10.242.0.0/16', ...(r.chance(0.7) ? { except: r.some([1, 2, 3], 2).map((k) => `10.242.${k}.0/24`) } : {}) };
    default:
      return { cidr: '0.0.0.0/0', ...(r.chance(0.7) ? { except: [`10.242.${n}.0/24`, ...(r.chance(0.5) ? [`10.242.${1 + (n % 3)}.${1 + r.int(3)}/32`] : [])] } : {}) };
  }
}

function peer(r: Rng): Json {
  switch (r.int(4)) {
    case 0:
      return { podSelector: podSelector(r) };
    case 1:
      return { namespaceSelector: namespaceSelector(r) };
    case 2:
      return { namespaceSelector: namespaceSelector(r), podSelector: podSelector(r) };
    default:
      return { ipBlock: ipBlock(r) };
  }
}

const PORT_NAMES = ['serve-80-tcp', 'serve-81-tcp', 'serve-80-udp', 'serve-81-udp', 'serve-82-tcp'];

function port(r: Rng): Json {
  const protocol = (): Protocol => r.pick<Protocol>(['TCP', 'UDP', 'TCP', 'UDP', 'SCTP']);
  switch (r.int(6)) {
    case 0:
      return { port: r.pick([80, 81]) };
    case 1:
      return { protocol: protocol(), port: r.pick([80, 81]) };
    case 2:
      return { protocol: protocol() };
    case 3: {
      const [lo, hi] = r.pick([
        [80, 81],
        [79, 80],
        [81, 90],
        [1, 65535],
      ] as const);
      return { protocol: protocol(), port: lo, endPort: hi };
    }
    default: {
      const name = r.pick(PORT_NAMES);
      const own: Protocol = name.endsWith('-udp') ? 'UDP' : 'TCP';
      return r.chance(0.25) ? { protocol: r.pick<Protocol>(['TCP', 'UDP']), port: name } : own === 'TCP' && r.chance(0.5) ? { port: name } : { protocol: own, port: name };
    }
  }
}

function rule(r: Rng, peersKey: 'from' | 'to'): Json {
  const out: { [k: string]: Json } = {};
  if (r.chance(0.8)) out[peersKey] = Array.from({ length: 1 + r.int(2) }, () => peer(r));
  if (r.chance(0.55)) out.ports = Array.from({ length: 1 + r.int(2) }, () => port(r));
  return out;
}

function rules(r: Rng, peersKey: 'from' | 'to'): Json[] | undefined {
  const k = r.int(6);
  if (k === 0) return undefined;
  if (k === 1) return [];
  return Array.from({ length: 1 + r.int(2) }, () => rule(r, peersKey));
}

/**
 * A few random NetworkPolicies over base.yaml, as multi-document YAML that `netpol validate` accepts.
 * Same seed, same text.
 */
export function randomScenario(seed: number): string {
  const r = rng(seed);
  const docs: string[] = [];
  const count = 1 + r.int(4);
  for (let k = 0; k < count; k++) {
    const spec: { [key: string]: Json } = { podSelector: r.chance(0.35) ? {} : podSelector(r) };
    const types = r.pick<string[] | undefined>([undefined, ['Ingress'], ['Egress'], ['Ingress', 'Egress'], undefined]);
    if (types) spec.policyTypes = types;
    const ingress = rules(r, 'from');
    const egress = rules(r, 'to');
    if (ingress !== undefined) spec.ingress = ingress;
    if (egress !== undefined) spec.egress = egress;
    const policy = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `random-${k}`, namespace: r.pick(NAMESPACES) }, spec };
    // Written as YAML 1.1, which kubectl reads: a bare `y` (namespace y) is a boolean there, so it is quoted.
    docs.push(stringify(policy, { version: '1.1', lineWidth: 0 }));
  }
  return `# random scenario, seed ${seed}: randomScenario(${seed}) in test/enforce/corpus.ts\n---\n${docs.join('---\n')}`;
}
