/**
 * Output safety and streaming. Every text renderer is fed names, labels, policy names and field paths
 * carrying each C0/C1 control and each bidi control, and none of them may reach the output raw. The
 * streamed dense outputs must equal the explaining engine's matrix, and a dense output too large to
 * write is refused before anything is computed, with its size.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Engine, podEndpoint } from '../src/engine/engine.js';
import { reachability, sortPods } from '../src/engine/matrix.js';
import { ScaleEngine } from '../src/scale/index.js';
import { eventLine } from '../src/cli/agent.js';
import { diagnosticText } from '../src/cli/render/diagnostic.js';
import { csvChunks, denialChunks, jsonChunks, markdownChunks, renderNamespaceTable, renderTable, streamedProbe, tableChunks } from '../src/cli/render/matrix.js';
import { renderVerdict } from '../src/cli/render/verdict.js';
import { generateFiles } from '../tools/gen/index.js';
import type { PodInfo } from '../src/model/cluster.js';
import { cluster, namespace, pod, policy } from './builders.js';
import { netpol } from './netpol.js';

process.chdir(fileURLToPath(new URL('..', import.meta.url)));

const CONTROLS = [...Array(0x20).keys(), 0x7f, ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i)].map((c) => String.fromCharCode(c));
const BIDI = ['\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'];
const HOSTILE = [...CONTROLS, ...BIDI];

/** A cluster whose every name from input carries `c`: namespace, pods, labels, policy, port name. */
function hostile(c: string) {
  const ns = `ns${c}x`;
  const pods = [
    pod(`${ns}/web${c}x`, { app: `web${c}x` }, { ips: ['10.0.0.1'], ports: [{ name: `http${c}x`, port: 80, protocol: 'TCP' }] }),
    pod(`${ns}/db${c}x`, { app: 'db' }, { ips: ['10.0.0.2'] }),
  ];
  const pol = policy(`${ns}/deny${c}x`, {
    podSelector: { matchLabels: { app: 'db' } },
    ingress: [{ from: [{ podSelector: { matchLabels: { app: `api${c}x` } } }, { ipBlock: { cidr: '10.0.0.0/8', except: ['10.0.0.0/24'] } }], ports: [{ port: `http${c}x` }] }],
  });
  return cluster({ namespaces: [namespace(ns, { team: `t${c}x` })], pods, policies: [pol] });
}

function assertClean(out: string, c: string, what: string): void {
  // A line break is the renderers' own separator: a name must not carry one in.
  const raw = c === '\n' ? out.includes(`${c}x`) : out.includes(c);
  assert.ok(!raw, `${what} let U+${c.charCodeAt(0).toString(16).padStart(4, '0')} through: ${JSON.stringify(out.slice(0, 300))}`);
}

describe('no control or bidi character from input reaches any text rendering raw', () => {
  test('check explanations, matrix table/wide/csv/md/json, namespace table, diagnostics, agent events', () => {
    for (const c of HOSTILE) {
      const k = hostile(c);
      const pods = sortPods(k.pods);
      const engine = new Engine(k);
      const verdict = engine.evaluate({ source: podEndpoint(pods[1]!), destination: podEndpoint(pods[0]!), protocol: 'TCP', port: `http${c}x` });
      const matrix = reachability(engine, pods, [{ port: 80, protocol: 'TCP' }]);
      const probe = streamedProbe(matrix.probes[0]!);
      const outputs: [string, string][] = [
        ['verdict', renderVerdict(verdict)],
        ['verdict (any port)', renderVerdict(engine.evaluate({ source: podEndpoint(pods[1]!), destination: podEndpoint(pods[0]!), protocol: 'TCP' }))],
        ['table', renderTable(pods, matrix.probes[0]!)],
        ['table chunks', [...tableChunks(pods, probe)].join('')],
        ['wide denials', [...denialChunks(engine, pods, probe)].join('')],
        ['csv', [...csvChunks(pods, [probe])].join('')],
        ['md', [...markdownChunks(pods, [probe])].join('')],
        ['json', [...jsonChunks(pods, [probe])].join('')],
        ['namespace table', renderNamespaceTable({ port: 80, protocol: 'TCP' }, new ScaleEngine(k).namespaceCounts({ port: 80, protocol: 'TCP' }))],
        [
          'diagnostic',
          diagnosticText(
            { severity: 'error', code: 'UnknownField', message: `unknown field "spec.a${c}x"`, path: `spec.a${c}x`, object: `Pod ns/web${c}x`, file: `f${c}x.yaml`, line: 1, column: 1 },
            'error',
          ),
        ],
        ['agent text event', eventLine({ kind: 'problem', message: `pod ns/web${c}x has no IP` }, 'text', new Date(0))],
        ['agent json event', eventLine({ kind: 'problem', message: `pod ns/web${c}x has no IP` }, 'json', new Date(0))],
      ];
      for (const [what, out] of outputs) assertClean(out, c, what);
    }
  });

  test('validate, check and matrix through the command line: diagnostics and errors escaped', async () => {
    for (const c of HOSTILE) {
      const doc = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `web${c}x`, namespace: 'default', labels: { [`k${c}`]: `v${c}` } }, spec: { containers: [{ name: 'c' }] } });
      for (const argv of [['validate'], ['validate', '-o', 'json'], ['check', '--from', `default/web${c}x`, '--to', '10.0.0.9'], ['matrix', '-o', 'csv']]) {
        const r = await netpol([...argv, '-f', '-'], doc);
        assert.ok([0, 1, 2].includes(r.code), `${argv.join(' ')}: exit ${r.code}`);
        assertClean(r.stdout, c, `${argv.join(' ')} stdout`);
        assertClean(r.stderr, c, `${argv.join(' ')} stderr`);
      }
    }
  });
});

describe('dense outputs stream', () => {
  // Two replicas of one class that may not reach each other (a class isolated from itself), a pod
  // allowed from them, and pods of other namespaces: the row reuse between pods of a class must keep
  // the diagonal true and the pair of replicas false.
  const APP = `
apiVersion: v1
kind: Pod
metadata: {name: api-1, namespace: shop, labels: {app: api}}
spec: {containers: [{name: c, ports: [{name: http, containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api-2, namespace: shop, labels: {app: api}}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: default, labels: {app: other}}
spec: {containers: [{name: c}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]
`;

  test('-o json equals the explaining engine, pair by pair, diagonal included', async () => {
    const r = await netpol(['matrix', '-f', '-', '-o', 'json', '--port', '80', '--port', '81', '--protocol', 'UDP'], APP);
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout);
    const list = await netpol(['matrix', '-f', '-', '-o', 'json'], APP);
    assert.ok(JSON.parse(list.stdout).probes[0].allowed.some((row: boolean[]) => row.includes(false)));
    const { loadCluster } = await import('../src/load/index.js');
    const { cluster: k } = loadCluster([{ file: '-', text: APP }]);
    const expected = reachability(new Engine(k), sortPods(k.pods), [
      { port: 80, protocol: 'UDP' },
      { port: 81, protocol: 'UDP' },
    ]);
    assert.equal(r.stdout, `${JSON.stringify(expected)}\n`);
    const api = got.pods.indexOf('shop/api-1');
    assert.equal(got.probes[0].allowed[api][api + 1], false, 'replicas of an isolated class do not reach each other');
    assert.equal(got.probes[0].allowed[api + 1][api + 1], true, 'a pod reaches itself');
  });

  test('-o wide: the denial lines are those of explaining every denied pair in full', async () => {
    const { loadCluster } = await import('../src/load/index.js');
    /** Each denied pair explained with Engine.evaluate: what -o wide printed before it was made fast. */
    const explained = (engine: Engine, pods: readonly PodInfo[], probe: { port: number | string; protocol: 'TCP'; row: (i: number) => boolean[] }) => {
      let out = '';
      pods.forEach((s, i) => {
        const row = probe.row(i);
        pods.forEach((d, j) => {
          if (row[j]) return;
          const v = engine.evaluate({ source: podEndpoint(s), destination: podEndpoint(d), protocol: probe.protocol, port: probe.port });
          const sides = [v.egress, v.ingress].filter((x) => !x.allowed).map((x) => `${x.direction} of ${x.subject} (isolated by ${x.policies.map((p) => p.policy.name).join(', ')})`);
          out += `${out ? '' : `denied TCP/${probe.port} connections:\n`}  ${v.from} -> ${v.to}: denied by ${sides.length ? sides.join(' and ') : 'no common port'}\n`;
        });
      });
      return out;
    };
    let denials = 0;
    for (const [k, shape] of (['realistic', 'mixed', 'adversarial'] as const).entries()) {
      const files = generateFiles(shape, { seed: 11 + k, scale: shape === 'realistic' ? 0.02 : 0.003 });
      const { cluster: c } = loadCluster(files.map((f) => ({ file: f.name, text: f.text })));
      const pods = sortPods(c.pods)
        .filter((_, i) => i % 3 === 0)
        .slice(0, 60);
      const scale = new ScaleEngine(c);
      const engine = new Engine(c);
      for (const port of [80, 'http'] as const) {
        const probe = { port, protocol: 'TCP' as const, allowedPairs: 0, row: (i: number) => pods.map((d) => scale.allows(pods[i]!, d, { port, protocol: 'TCP' })) };
        const fast = [...denialChunks(engine, pods, probe)].join('');
        assert.equal(fast, explained(engine, pods, probe), `${shape} TCP/${port}`);
        assert.equal([...denialChunks(engine, pods, probe, (p) => scale.classOf(p))].join(''), fast, `${shape} TCP/${port}, side verdicts shared per class`);
        denials += fast.split('\n').length;
      }
    }
    assert.ok(denials > 1000, `the shapes deny pairs (${denials} lines)`);
  });

  test('csv and md carry the same verdicts as json', async () => {
    const json = JSON.parse((await netpol(['matrix', '-f', '-', '-o', 'json'], APP)).stdout);
    const csv = (await netpol(['matrix', '-f', '-', '-o', 'csv'], APP)).stdout.trimEnd().split('\n');
    assert.equal(csv.length, 1 + json.pods.length ** 2);
    csv.slice(1).forEach((line, k) => {
      const i = Math.floor(k / json.pods.length);
      const j = k % json.pods.length;
      assert.equal(line, `TCP,80,${json.pods[i]},${json.pods[j]},${json.probes[0].allowed[i][j]}`);
    });
    const md = (await netpol(['matrix', '-f', '-', '-o', 'md'], APP)).stdout.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| from'));
    md.forEach((line, i) => assert.equal(line, `| ${json.pods[i]} |${json.probes[0].allowed[i].map((v: boolean) => ` ${v ? '✓' : '✗'} |`).join('')}`));
  });

  test('a dense output too large is refused before it starts, with its size; --allow-large-output writes it', async () => {
    const files = generateFiles('realistic', { seed: 3, scale: 0.45 });
    const text = files.map((f) => f.text).join('\n---\n');
    const refused = await netpol(['matrix', '-f', '-', '-o', 'csv'], text);
    assert.equal(refused.code, 2);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /would write about \d+\.\d GiB|would write about \d+\.\d MiB/);
    assert.match(refused.stderr, /--summary/);
    assert.match(refused.stderr, /--allow-large-output/);
  });
});
