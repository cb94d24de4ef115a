/**
 * Text renderings of a reachability matrix: a table grouped by namespace, CSV, Markdown and JSON.
 *
 * Design choice: the dense renderings are generators of chunks (one source row at a time), fed by a
 * `row(i)` function, so a caller can write each chunk as it is computed and never hold the whole
 * matrix or its text (a 5,000-pod CSV is over a gigabyte). Every name from input goes through the
 * escaping step (escape.ts) of its format before it is measured or printed.
 */
import type { PodInfo } from '../../model/index.js';
import { endpointText, podEndpoint, type Engine } from '../../engine/index.js';
import type { Probe, ProbeResult, SideResult, Traffic } from '../../engine/index.js';
import type { NamespaceCounts } from '../../scale/index.js';
import { csvField, markdownCell, safeJson, safeText } from './escape.js';
import { deciderText } from './tiers.js';

const ALLOWED = '.';
const DENIED = 'X';

/** Row `i` of one probe's matrix: element j says whether pods[i] may connect to pods[j]. */
export type RowFn = (i: number) => ArrayLike<boolean | number>;

/** One probe of a streamed matrix: its rows, and (for the table's header) its count of allowed pairs. */
export interface StreamedProbe extends Probe {
  readonly row: RowFn;
  /** Ordered pairs of different pods allowed. */
  readonly allowedPairs: number;
}

export function probeTitle(p: { port: number | string; protocol: string }): string {
  return `${p.protocol}/${p.port}`;
}

function countAllowed(p: ProbeResult): number {
  let allowed = 0;
  p.allowed.forEach((row, i) =>
    row.forEach((v, j) => {
      if (i !== j && v) allowed++;
    }),
  );
  return allowed;
}

/** A probe held whole (the lab's, the explaining engine's) as a streamed one. */
export function streamedProbe(p: ProbeResult): StreamedProbe {
  return { port: p.port, protocol: p.protocol, row: (i) => p.allowed[i]!, allowedPairs: countAllowed(p) };
}

export function podKeyText(p: PodInfo): string {
  return `${p.namespace}/${p.name}`;
}

function podLabel(p: PodInfo): string {
  return safeText(p.workload ? `${p.name} (${p.workload.kind})` : p.name);
}

/** The table of one probe held whole (lab results). */
export function renderTable(pods: readonly PodInfo[], probe: ProbeResult): string {
  return [...tableChunks(pods, streamedProbe(probe))].join('');
}

/**
 * Rows are sources, columns destinations, both grouped by namespace. Columns are numbered to keep the
 * table narrow; the row labels carry the numbers.
 */
export function* tableChunks(pods: readonly PodInfo[], probe: StreamedProbe): Generator<string> {
  const total = pods.length * (pods.length - 1);
  yield `${probeTitle(probe)}: ${probe.allowedPairs} of ${total} connections between different pods allowed   (rows: from, columns: to; ${ALLOWED} allowed, ${DENIED} denied)\n`;
  if (pods.length === 0) {
    yield '(no pods)\n';
    return;
  }
  const groups: { ns: string; start: number; end: number }[] = [];
  pods.forEach((p, i) => {
    const g = groups[groups.length - 1];
    const ns = safeText(p.namespace);
    if (g && g.ns === ns) g.end = i;
    else groups.push({ ns, start: i, end: i });
  });
  const idxW = String(pods.length).length;
  const cellW = idxW + 1;
  const nsW = Math.max(...groups.map((g) => g.ns.length));
  let nameW = 0;
  for (const p of pods) nameW = Math.max(nameW, podLabel(p).length);
  const labelW = nsW + 2 + idxW + 1 + nameW + 2;
  const allowedCell = ALLOWED.padStart(idxW).padEnd(cellW);
  const deniedCell = DENIED.padStart(idxW).padEnd(cellW);
  const groupW = groups.map((g) => Math.max(g.ns.length + 1, (g.end - g.start + 1) * cellW) + 1);
  const header1 = ' '.repeat(labelW) + groups.map((g, k) => g.ns.padEnd(groupW[k]!)).join('');
  const indexCell = (j: number) =>
    String(j + 1)
      .padStart(idxW)
      .padEnd(cellW);
  const groupHeader = (g: (typeof groups)[number], k: number) => range(g.start, g.end).map(indexCell).join('').padEnd(groupW[k]!);
  const header2 = ' '.repeat(labelW) + groups.map(groupHeader).join('');
  yield `${header1.trimEnd()}\n${header2.trimEnd()}\n`;
  for (const g of groups) {
    for (let i = g.start; i <= g.end; i++) {
      const row = probe.row(i);
      const label = `${(i === g.start ? g.ns : '').padEnd(nsW)}  ${String(i + 1).padStart(idxW)} ${podLabel(pods[i]!).padEnd(nameW)}  `;
      let cells = '';
      groups.forEach((h, k) => {
        let part = '';
        for (let j = h.start; j <= h.end; j++) part += row[j] ? allowedCell : deniedCell;
        cells += part.padEnd(groupW[k]!);
      });
      yield `${(label + cells).trimEnd()}\n`;
    }
  }
}

/**
 * For `-o wide`: each denied pair of one probe with the side that denies it and the policies that isolate
 * it. Without cluster-scoped policies the cause of a denying side is the list of policies isolating its
 * pod (one text per pod and direction), and which side denies is known from isolation alone unless both
 * are isolated, when the engine's side verdicts (no explanation built) say it: the same lines as
 * explaining every pair, at a fraction of the cost. With tiers each pair is explained.
 */
export function* denialChunks(engine: Engine, pods: readonly PodInfo[], probe: StreamedProbe, classOf?: (p: PodInfo) => number | undefined): Generator<string> {
  const names = pods.map((p) => safeText(endpointText(podEndpoint(p))));
  const endpoints = pods.map((p) => podEndpoint(p));
  const tiered = (engine.cluster.clusterPolicies?.length ?? 0) > 0;
  // The policies isolating each pod, per direction, as the explanation names them ('' when none).
  const isolatingNames = (p: PodInfo, direction: 'ingress' | 'egress') => engine.selecting(p)[direction].map((x) => x.ref.name);
  const isolation = (direction: 'ingress' | 'egress') => pods.map((p) => safeText(isolatingNames(p, direction).join(', ')));
  const egressBy = tiered ? [] : isolation('egress');
  const ingressBy = tiered ? [] : isolation('ingress');
  // Pods of a class (`classOf`, the class engine's) get the same side verdicts: kept per destination
  // class while consecutive rows are of one source class.
  const classes = pods.map((p) => classOf?.(p));
  let sidesClass: number | undefined;
  let sidesByClass = new Map<number, { readonly egress: boolean; readonly ingress: boolean }>();
  const sidesOf = (i: number, j: number, traffic: Traffic) => {
    const ci = classes[i];
    const cj = classes[j];
    if (ci === undefined || cj === undefined) return engine.sidesAllow(traffic);
    if (ci !== sidesClass) [sidesClass, sidesByClass] = [ci, new Map()];
    let sides = sidesByClass.get(cj);
    if (!sides) sidesByClass.set(cj, (sides = engine.sidesAllow(traffic)));
    return sides;
  };
  const sidesText = (i: number, j: number): string => {
    const traffic = { source: endpoints[i]!, destination: endpoints[j]!, protocol: probe.protocol, port: probe.port };
    let egress: boolean;
    let ingress: boolean;
    if (tiered) {
      const v = engine.evaluate(traffic);
      const sides = [v.egress, v.ingress]
        .filter((s) => !s.allowed)
        .map((s) => `${s.direction} of ${s.direction === 'egress' ? names[i] : names[j]} (${safeText(s.tiers ? tierCause(s) : `isolated by ${s.policies.map((p) => p.policy.name).join(', ')}`)})`);
      return sides.length ? sides.join(' and ') : 'no common port';
    } else if (egressBy[i] === '') [egress, ingress] = [true, false];
    else if (ingressBy[j] === '') [egress, ingress] = [false, true];
    else ({ egress, ingress } = sidesOf(i, j, traffic));
    const sides: string[] = [];
    if (!egress) sides.push(`egress of ${names[i]} (isolated by ${egressBy[i]})`);
    if (!ingress) sides.push(`ingress of ${names[j]} (isolated by ${ingressBy[j]})`);
    return sides.length ? sides.join(' and ') : 'no common port';
  };
  let first = true;
  for (let i = 0; i < pods.length; i++) {
    const row = probe.row(i);
    const from = names[i]!;
    let out = '';
    for (let j = 0; j < pods.length; j++) {
      if (row[j]) continue;
      out += `${first ? `denied ${probeTitle(probe)} connections:\n` : ''}  ${from} -> ${names[j]}: denied by ${sidesText(i, j)}\n`;
      first = false;
    }
    if (out) yield out;
  }
}

/** Who denied a side that has tiers: the deciding rule, or NetworkPolicy / the Baseline tier after a Pass. */
function tierCause(s: SideResult): string {
  const denied = s.tiers!.decisions.find((d) => !d.allowed);
  return denied ? deciderText(denied.by, s.direction, s.tiers!.passes) : 'no common port';
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, k) => a + k);
}

/** `protocol,port,from,to,allowed`, one line per ordered pair and probe; fields per RFC 4180 (csvField). */
export function* csvChunks(pods: readonly PodInfo[], probes: readonly StreamedProbe[]): Generator<string> {
  yield 'protocol,port,from,to,allowed\n';
  const names = pods.map((p) => csvField(podKeyText(p)));
  for (const p of probes) {
    const prefix = `${csvField(p.protocol)},${csvField(String(p.port))},`;
    for (let i = 0; i < names.length; i++) {
      const row = p.row(i);
      const from = `${prefix}${names[i]},`;
      let out = '';
      for (let j = 0; j < names.length; j++) out += `${from}${names[j]},${row[j] ? 'true' : 'false'}\n`;
      yield out;
    }
  }
}

/** One Markdown table per probe (`✓` allowed, `✗` denied); names through markdownCell. */
export function* markdownChunks(pods: readonly PodInfo[], probes: readonly StreamedProbe[]): Generator<string> {
  const names = pods.map((p) => markdownCell(podKeyText(p)));
  for (const [k, p] of probes.entries()) {
    yield `${k > 0 ? '\n' : ''}### ${markdownCell(probeTitle(p))}\n\n| from \\ to | ${names.join(' | ')} |\n|---|${names.map(() => ':-:').join('|')}|\n`;
    for (let i = 0; i < names.length; i++) {
      const row = p.row(i);
      let cells = '';
      for (let j = 0; j < names.length; j++) cells += ` ${row[j] ? '✓' : '✗'} |`;
      yield `| ${names[i]} |${cells}\n`;
    }
  }
}

/**
 * Exactly `JSON.stringify` of `{"pods": [...], "probes": [{"port", "protocol", "allowed": [[...]]}]}`
 * (compact), written a row at a time; strings through safeJson.
 */
export function* jsonChunks(pods: readonly PodInfo[], probes: readonly StreamedProbe[]): Generator<string> {
  yield `{"pods":${safeJson(pods.map(podKeyText))},"probes":[`;
  for (let k = 0; k < probes.length; k++) {
    const p = probes[k]!;
    yield `${k > 0 ? ',' : ''}{"port":${safeJson(p.port)},"protocol":${safeJson(p.protocol)},"allowed":[`;
    for (let i = 0; i < pods.length; i++) {
      const row = p.row(i);
      let out = i > 0 ? ',[' : '[';
      for (let j = 0; j < pods.length; j++) out += (j > 0 ? ',' : '') + (row[j] ? 'true' : 'false');
      yield `${out}]`;
    }
    yield ']}';
  }
  yield ']}\n';
}

/**
 * What a dense rendering would weigh, in bytes, computed from the names alone (no verdicts): exact for
 * csv, json and md up to the true/false and ✓/✗ widths (counted at their largest); for wide, the table
 * (the caller adds the denials).
 */
export function denseOutputBytes(format: 'table' | 'wide' | 'json' | 'csv' | 'md', pods: readonly PodInfo[], probes: readonly Probe[]): number {
  const n = pods.length;
  let names = 0;
  for (const p of pods) names += Buffer.byteLength(podKeyText(p));
  const cells = n * n;
  let perProbe: number;
  switch (format) {
    case 'csv':
      // protocol,port,from,to,false\n
      perProbe = cells * (4 + 5 + 5 + 1) + 2 * n * names;
      break;
    case 'json':
      perProbe = cells * 6 + names + 3 * n;
      break;
    case 'md':
      perProbe = cells * 6 + 2 * names + 6 * n;
      break;
    default:
      perProbe = cells * (String(n).length + 1) + names + 8 * n;
  }
  let extra = 0;
  for (const p of probes) extra += cells * (String(p.port).length + p.protocol.length) * (format === 'csv' ? 1 : 0);
  return perProbe * probes.length + extra;
}

/**
 * The aggregated table for large inputs: namespaces as rows (sources) and columns (destinations), each
 * cell the number of allowed ordered pairs of different pods out of the possible ones. Only non-empty
 * rows are printed in full; a legend says how to read it.
 */
export function renderNamespaceTable(probe: { port: number | string; protocol: string }, counts: NamespaceCounts): string {
  const n = counts.namespaces.length;
  const nsNames = counts.namespaces.map(safeText);
  const allowed = new Map<number, number>();
  for (const [a, b, v] of counts.cells) allowed.set(a * n + b, v);
  const possible = (a: number, b: number) => counts.pods[a]! * counts.pods[b]! - (a === b ? counts.pods[a]! : 0);
  let total = 0;
  let sum = 0;
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) total += possible(a, b);
  for (const v of allowed.values()) sum += v;
  const out = [`${probeTitle(probe)}: ${sum} of ${total} connections between different pods allowed, by namespace (rows: from, columns: to; cell: allowed/possible pairs)`];
  if (n > 40) {
    // Too many columns to read: one line per (from, to) namespace pair that allows anything.
    const rows = [...allowed.entries()].sort((x, y) => y[1] - x[1]);
    for (const [k, v] of rows.slice(0, 200)) {
      const a = Math.floor(k / n);
      const b = k % n;
      out.push(`  ${nsNames[a]} -> ${nsNames[b]}: ${v}/${possible(a, b)}`);
    }
    if (rows.length > 200) out.push(`  ... ${rows.length - 200} more namespace pairs allow something (use -o json or --summary)`);
    out.push(`  ${n * n - rows.length} namespace pairs allow nothing`);
    return `${out.join('\n')}\n`;
  }
  const cell = (a: number, b: number) => `${allowed.get(a * n + b) ?? 0}/${possible(a, b)}`;
  const nameW = Math.max(...nsNames.map((x) => x.length), 4);
  const colW = nsNames.map((name, b) => Math.max(name.length, ...nsNames.map((_, a) => cell(a, b).length)));
  out.push(`${''.padEnd(nameW)}  ${nsNames.map((name, b) => name.padStart(colW[b]!)).join('  ')}`);
  for (let a = 0; a < n; a++) out.push(`${nsNames[a]!.padEnd(nameW)}  ${nsNames.map((_, b) => cell(a, b).padStart(colW[b]!)).join('  ')}`);
  return `${out.join('\n')}\n`;
}
