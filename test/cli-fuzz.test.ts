/**
 * Fuzzing the command line (fast-check): manifests built from the kinds netpol reads with random
 * structure and text, written as YAML, JSON documents or newline-separated JSON; mutations of the
 * examples; and raw bytes. `validate`, `check` and `matrix` must end with exit code 0, 1 or 2, never
 * print a stack trace (NETPOL_DEBUG is set, so an internal error would print one), and stay within a
 * generous time and memory bound per run. Small run counts: it runs in CI in a few seconds.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { netpol } from './netpol.js';

process.chdir(fileURLToPath(new URL('..', import.meta.url)));
const debug = process.env.NETPOL_DEBUG;
process.env.NETPOL_DEBUG = '1';
after(() => {
  if (debug === undefined) delete process.env.NETPOL_DEBUG;
  else process.env.NETPOL_DEBUG = debug;
});

/** A hang guard, not a benchmark: one run of a command on a few kilobytes takes milliseconds. */
const RUN_BOUND_MS = 20_000;
/** Heap growth allowed over a whole property (the inputs are a few kilobytes each). */
const HEAP_BOUND = 512 * 1024 * 1024;

const COMMANDS: readonly (readonly string[])[] = [
  ['validate'],
  ['validate', '-o', 'json'],
  ['check', '--from', 'x/a', '--to', 'x/b', '--port', '80'],
  ['check', '--from', '10.0.0.1', '--to', 'x/app=a', '--skip-invalid'],
  ['matrix'],
  ['matrix', '-o', 'csv', '--skip-invalid'],
  ['matrix', '--summary', '-o', 'json'],
];

async function runOn(argv: readonly string[], input: string | Buffer): Promise<void> {
  const started = Date.now();
  const { code, stdout, stderr } = await netpol([...argv, '-f', '-'], input);
  const took = Date.now() - started;
  const what = `${argv.join(' ')} on ${JSON.stringify(String(input).slice(0, 400))}`;
  assert.ok([0, 1, 2].includes(code), `${what}: exit ${code}`);
  assert.doesNotMatch(stderr, /\n\s+at .+[:(]\d+:\d+\)?\n/, `${what}: stack trace\n${stderr}`);
  assert.doesNotMatch(stdout + stderr, /Maximum call stack|Invalid string length|Cannot read properties|is not a function|is not iterable/, what);
  assert.ok(took < RUN_BOUND_MS, `${what}: ${took} ms`);
}

const text = fc.oneof(
  fc.constantFrom('a', 'b', 'x', 'web', 'app', '', 'Bad_Name', 'a b', '-', '10.0.0.1', '10.0.0.0/8', 'http', 'TCP', 'UDP', 'In', 'Exists', '\u001b[2J', '\u202e', '=1+2'),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
);
const scalar = fc.oneof(text, fc.integer({ min: -70000, max: 70000 }), fc.boolean(), fc.constant(null), fc.double({ noNaN: true }));
const labels = fc.dictionary(text, fc.oneof(text, scalar), { maxKeys: 3 });
const any = fc.jsonValue({ maxDepth: 3 });
const selector = fc.oneof(
  any,
  fc.record(
    { matchLabels: labels, matchExpressions: fc.array(fc.record({ key: text, operator: text, values: fc.array(text, { maxLength: 2 }) }, { requiredKeys: [] }), { maxLength: 2 }) },
    { requiredKeys: [] },
  ),
);
const peer = fc.record(
  { podSelector: selector, namespaceSelector: selector, ipBlock: fc.oneof(any, fc.record({ cidr: text, except: fc.array(text, { maxLength: 2 }) }, { requiredKeys: [] })) },
  { requiredKeys: [] },
);
const port = fc.record({ protocol: fc.oneof(text, scalar), port: fc.oneof(text, scalar), endPort: scalar }, { requiredKeys: [] });
const rule = fc.record({ from: fc.array(peer, { maxLength: 2 }), to: fc.array(peer, { maxLength: 2 }), ports: fc.array(port, { maxLength: 2 }) }, { requiredKeys: [] });
const metadata = fc.oneof(
  any,
  fc.record(
    { name: fc.oneof(fc.constantFrom('a', 'b', 'c'), text, scalar), namespace: fc.oneof(fc.constant('x'), text), labels: fc.oneof(labels, any), annotations: fc.oneof(labels, any), labelz: any },
    { requiredKeys: [] },
  ),
);
const container = fc.record({ name: text, ports: fc.array(fc.record({ name: text, containerPort: scalar, protocol: text }, { requiredKeys: [] }), { maxLength: 2 }) }, { requiredKeys: [] });
const podSpec = fc.oneof(any, fc.record({ containers: fc.array(container, { maxLength: 2 }), hostNetwork: scalar, nodeName: text }, { requiredKeys: [] }));

const object: fc.Arbitrary<unknown> = fc.oneof(
  fc.record(
    {
      apiVersion: fc.constant('v1'),
      kind: fc.constantFrom('Pod', 'pod'),
      metadata,
      spec: podSpec,
      status: fc.oneof(any, fc.record({ podIP: fc.oneof(fc.constantFrom('10.0.0.1', '10.0.0.2', '::1', '010.0.0.1'), text) })),
    },
    { requiredKeys: ['apiVersion', 'kind'] },
  ),
  fc.record({ apiVersion: fc.constant('v1'), kind: fc.constant('Namespace'), metadata }, { requiredKeys: ['apiVersion', 'kind'] }),
  fc.record(
    {
      apiVersion: fc.constantFrom('networking.k8s.io/v1', 'v1'),
      kind: fc.constantFrom('NetworkPolicy', 'networkpolicy'),
      metadata,
      spec: fc.oneof(
        any,
        fc.record(
          {
            podSelector: selector,
            policyTypes: fc.array(fc.oneof(fc.constantFrom('Ingress', 'Egress'), text), { maxLength: 3 }),
            ingress: fc.array(rule, { maxLength: 2 }),
            egress: fc.array(rule, { maxLength: 2 }),
          },
          { requiredKeys: [] },
        ),
      ),
    },
    { requiredKeys: ['apiVersion', 'kind'] },
  ),
  fc.record(
    {
      apiVersion: fc.constantFrom('apps/v1', 'batch/v1'),
      kind: fc.constantFrom('Deployment', 'StatefulSet', 'CronJob', 'Job'),
      metadata,
      spec: fc.oneof(any, fc.record({ template: fc.record({ metadata, spec: podSpec }, { requiredKeys: [] }) }, { requiredKeys: [] })),
    },
    { requiredKeys: ['apiVersion', 'kind'] },
  ),
  any,
);
const objects = fc.array(object, { maxLength: 6 });
const list = objects.map((items) => ({ apiVersion: 'v1', kind: 'List', items }));

const manifests: fc.Arbitrary<string> = fc.oneof(
  objects.map((os) => os.map((o) => toYaml(o)).join('---\n')),
  objects.map((os) => os.map((o) => JSON.stringify(o, null, 1)).join('\n')),
  objects.map((os) => os.map((o) => JSON.stringify(o)).join('\n')),
  list.map((l) => JSON.stringify(l)),
  list.map((l) => toYaml(l)),
);

const EXAMPLE = readFileSync('examples/three-tier/policies.yaml', 'utf8') + '---\n' + readFileSync('examples/three-tier/workloads.yaml', 'utf8');
/** The example with a few random edits: characters replaced, inserted, lines dropped or duplicated. */
const mutated = fc
  .array(
    fc.tuple(
      fc.nat({ max: EXAMPLE.length }),
      fc.constantFrom('replace', 'insert', 'delete'),
      fc.constantFrom(' ', ':', '-', '\n', '{', '[', '"', "'", '&a', '*a', '!!', '#', '|', '>', '\t', '\u0000', 'x'),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((edits) =>
    edits.reduce((s, [at, op, c]) => (op === 'insert' ? s.slice(0, at) + c + s.slice(at) : op === 'delete' ? s.slice(0, at) + s.slice(at + c.length) : s.slice(0, at) + c + s.slice(at + 1)), EXAMPLE),
  );

const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.concat([Buffer.from('apiVersion: v1\nkind: Pod\nmetadata: {name: '), Buffer.from(b), Buffer.from('}\n')])),
);

async function property(input: fc.Arbitrary<string | Uint8Array>, numRuns: number): Promise<void> {
  const heap = process.memoryUsage().heapUsed;
  await fc.assert(
    fc.asyncProperty(input, fc.constantFrom(...COMMANDS), async (text, argv) => runOn(argv, typeof text === 'string' ? text : Buffer.from(text))),
    { numRuns },
  );
  assert.ok(process.memoryUsage().heapUsed - heap < HEAP_BOUND, 'heap bound');
}

describe('fuzz: validate, check and matrix end with 0, 1 or 2 and no stack trace', () => {
  test('structured manifests (YAML, JSON documents, JSON lines, Lists)', async () => property(manifests, 150));
  test('mutations of an example', async () => property(mutated, 80));
  test('bytes', async () => property(bytes, 60));
});
