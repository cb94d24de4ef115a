/**
 * `netpol matrix`: who can reach whom, for each probe (port x protocol).
 *
 * Verdicts come from the class-based engine (src/scale), which the property tests hold to the oracle
 * like the explaining engine. Small inputs print the dense pod x pod matrix; `--summary` prints exact
 * counts of allowed pairs without materialising it; large inputs (or `--by namespace`) aggregate the
 * table by namespace. Dense outputs are streamed a row at a time (one row of verdicts held, output
 * written as it is made); one that would weigh more than MAX_OUTPUT_BYTES is refused before it
 * starts, with its size, unless --allow-large-output accepts it.
 */
import { Engine, sortPods, type Probe, type Reachability } from '../engine/index.js';
import type { Cluster, PodInfo } from '../model/index.js';
import { classAnalysis, matrixSummary, withPods, type ClassAnalysis } from '../scale/index.js';
import { outputFormat, type GlobalFlags } from './args.js';
import { readInput, refusal, reportDiagnostics } from './input.js';
import { SKIP_INVALID_OPTION, skipInvalid } from './skip.js';
import { EXIT, UsageError, type IO } from './io.js';
import { progressLine } from './progress.js';
import { structured } from './render/escape.js';
import { csvChunks, denialChunks, denseOutputBytes, jsonChunks, markdownChunks, probeTitle, renderNamespaceTable, tableChunks, type StreamedProbe } from './render/matrix.js';
import { renderDot, renderHtml, renderMermaid } from './render/picture.js';
import { parsePort, parseProtocol } from './resolve.js';

export const MATRIX_OPTIONS = {
  port: { type: 'string', short: 'p', multiple: true },
  protocol: { type: 'string', multiple: true },
  summary: { type: 'boolean' },
  by: { type: 'string' },
  'allow-large-output': { type: 'boolean' },
  'include-audit': { type: 'boolean' },
  ...SKIP_INVALID_OPTION,
} as const;

const FORMATS = ['table', 'wide', 'json', 'csv', 'md', 'yaml', 'dot', 'mermaid', 'html'] as const;
/** Above this many pods a picture is refused without --allow-large-output: it would not be readable. */
export const PICTURE_POD_LIMIT = 1_000;
/** Above this many pods the default table aggregates by namespace (a pod table would not be readable). */
export const TABLE_POD_LIMIT = 100;

export async function matrixCommand(flags: GlobalFlags, values: Record<string, unknown>, io: IO): Promise<number> {
  const format = outputFormat(flags.output, FORMATS, 'table');
  const probes = parseProbes(values.port as string[] | undefined, values.protocol as string[] | undefined);
  const by = values.by as string | undefined;
  if (by !== undefined && by !== 'namespace' && by !== 'pod') throw new UsageError(`--by ${by}: use namespace or pod`);
  const summary = values.summary === true;
  if (summary && format !== 'json' && format !== 'yaml' && format !== 'table') throw new UsageError('--summary prints -o json, -o yaml or a table');
  if (format === 'yaml' && !summary) throw new UsageError('-o yaml is for --summary; the matrix itself is -o json (or csv, md)');

  const read = await readInput(flags, io);
  const input = values['skip-invalid'] === true ? skipInvalid(read) : read;
  reportDiagnostics(io, input.diagnostics);
  if (input.unreadable || input.invalid) {
    io.stderr(refusal(input));
    return EXIT.ERROR;
  }
  // -n NS shows one namespace; exact, because a verdict never depends on pods other than its two ends.
  const only = flags.allNamespaces || flags.namespace === undefined ? undefined : flags.namespace;
  const restricted = only === undefined ? input.cluster : withPods(input.cluster, (p) => p.namespace === only);
  const cluster = { ...restricted, ...(input.cluster.clusterPolicies ? { clusterPolicies: input.cluster.clusterPolicies } : {}), ...(input.cluster.nodes ? { nodes: input.cluster.nodes } : {}) };
  // Today's reachability: audit-mode policies left out, unless --include-audit counts them as enforcing.
  const includeAudit = values['include-audit'] === true;
  const engineOf = () => new Engine(cluster, undefined, undefined, { includeAudit });
  // The class engine, tier-aware when the input has cluster-scoped policies.
  const progress = progressLine(io);
  const scale = classAnalysis(cluster, { includeAudit, progress: (phase, d, t) => progress.update(`analysing ${phase}`, d, t) });
  progress.done();
  const pods = cluster.pods.length;
  const host = cluster.pods.filter((p) => p.hostNetwork === true).length;
  if (host > 0) io.stderr(`Note: ${host} host-network pod${host === 1 ? '' : 's'}: the verdicts are the policies'; most plugins (and netpol agent) do not isolate host-network pods\n`);
  if (only !== undefined && pods === 0) io.stderr(`Note: ${noPodsHint(input.cluster, only)}\n`);

  if (summary) {
    const s = matrixSummary(scale, probes);
    if (format === 'json' || format === 'yaml') io.stdout(structured(s, format));
    else {
      const pairs = pods * (pods - 1);
      for (const p of s.probes)
        io.stdout(`${probeTitle(p)}: ${p.allowedPairs} of ${pairs} ordered pairs of different pods allowed (${pairs ? ((100 * p.allowedPairs) / pairs).toFixed(1) : '0.0'}%)\n`);
    }
    return EXIT.OK;
  }

  const aggregate = format === 'table' && (by === 'namespace' || (by === undefined && pods > TABLE_POD_LIMIT));
  if (aggregate) {
    probes.forEach((probe, k) => {
      if (k > 0) io.stdout('\n');
      io.stdout(renderNamespaceTable(probe, scale.namespaceCounts(probe)));
    });
    if (by === undefined) io.stderr(`Note: ${pods} pods: the table counts allowed pairs per namespace (--by pod for every pod, -o json for the matrix, --summary for totals)\n`);
    return EXIT.OK;
  }
  const shown = sortPods(cluster.pods);
  if (format === 'dot' || format === 'mermaid' || format === 'html') {
    if (pods > PICTURE_POD_LIMIT && values['allow-large-output'] !== true) {
      throw new UsageError(`${pods} pods: a picture of more than ${PICTURE_POD_LIMIT} pods is not readable; use -n NS, or add --allow-large-output to draw it anyway`);
    }
    const result = denseResult(scale, shown, probes);
    io.stdout(format === 'dot' ? renderDot(result) : format === 'mermaid' ? renderMermaid(result) : renderHtml(result));
    return EXIT.OK;
  }
  if (format === 'yaml') throw new UsageError('-o yaml is for --summary');
  let bytes = denseOutputBytes(format, shown, probes);
  if (format === 'wide') {
    // -o wide also explains every denied pair, one line each (two names and the policies): their
    // number is known exactly, from the class counts, before any is explained.
    const names = shown.reduce((n, p) => n + p.namespace.length + p.name.length + 1, 0);
    const line = (2 * names) / Math.max(shown.length, 1) + 80;
    for (const probe of probes) bytes += (pods * (pods - 1) - scale.allowedPairs(probe)) * line;
  }
  if (bytes > MAX_OUTPUT_BYTES && values['allow-large-output'] !== true) {
    throw new UsageError(
      `${pods} pods: -o ${format}${by === 'pod' ? ' --by pod' : ''} would write about ${sizeText(bytes)} (${(pods * pods).toLocaleString('en-US')} cells per probe); ` +
        `use --summary, --by namespace or -n NS, or add --allow-large-output to write it anyway (streamed, in bounded memory)`,
    );
  }
  const streamed = probes.map((probe) => streamProbe(scale, shown, probe));
  const chunks =
    format === 'json'
      ? jsonChunks(shown, streamed)
      : format === 'csv'
        ? csvChunks(shown, streamed)
        : format === 'md'
          ? markdownChunks(shown, streamed)
          : tableOutput(shown, streamed, format === 'wide' ? engineOf() : undefined, (p) => scale.classOf(p));
  await writeChunks(io, chunks);
  return EXIT.OK;
}

/** The probes of `--port P... --protocol P...` (every protocol with every port; default TCP/80). */
export function parseProbes(ports: readonly string[] | undefined, protocols: readonly string[] | undefined): Probe[] {
  const numbers = (ports?.length ? ports : ['80']).map(parsePort);
  const names = [...new Set((protocols?.length ? protocols : ['TCP']).map(parseProtocol))];
  return names.flatMap((protocol) => numbers.map((port) => ({ port, protocol })));
}

/**
 * What `-o json` writes for every pod of `cluster` (the class engine, tier-aware with cluster-scoped
 * policies), chunk by chunk, from an engine built for it; refused above MAX_OUTPUT_BYTES. For other
 * front ends of the same answer (the web API).
 */
export function matrixJsonChunks(scale: ClassAnalysis, cluster: Cluster, probes: readonly Probe[]): Iterable<string> {
  const shown = sortPods(cluster.pods);
  const bytes = denseOutputBytes('json', shown, probes);
  if (bytes > MAX_OUTPUT_BYTES) throw new UsageError(`${shown.length} pods: the matrix would be about ${sizeText(bytes)}; use /api/v1/reach`);
  return jsonChunks(
    shown,
    probes.map((probe) => streamProbe(scale, shown, probe)),
  );
}

/** The whole pod x pod matrix, for the pictures (small clusters only: see PICTURE_POD_LIMIT). */
function denseResult(scale: ClassAnalysis, pods: readonly PodInfo[], probes: readonly Probe[]): Reachability {
  return {
    pods: pods.map((p) => `${p.namespace}/${p.name}`),
    probes: probes.map((probe) => ({ port: probe.port, protocol: probe.protocol, allowed: pods.map((s) => pods.map((d) => scale.allows(s, d, probe))) })),
  };
}

/** Says why `-n NS` shows nothing, and which namespaces have pods. */
function noPodsHint(all: Cluster, ns: string): string {
  const withPods = [...new Set(all.pods.map((p) => p.namespace))].sort();
  const where = all.namespaces.has(ns) ? `namespace ${ns} has no pods in the input` : `namespace ${ns} is not in the input`;
  if (withPods.length === 0) return `${where}, and no namespace has any`;
  const list = withPods.slice(0, 5).join(', ') + (withPods.length > 5 ? `, ... (${withPods.length} in all)` : '');
  return `${where}; namespaces with pods: ${list} (or -A for all)`;
}

/** Above this estimate a dense output needs --allow-large-output (it is streamed either way). */
export const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

function sizeText(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/** Writes chunks as they come, coalesced to ~64 KiB, waiting for stdout when it is full. */
async function writeChunks(io: IO, chunks: Iterable<string>): Promise<void> {
  let pending = '';
  for (const chunk of chunks) {
    pending += chunk;
    if (pending.length >= 65536) {
      io.stdout(pending);
      pending = '';
      if (io.flush) await io.flush();
    }
  }
  if (pending) io.stdout(pending);
}

/**
 * One probe's rows, computed when asked: a row is one verdict per destination, remembered per class of
 * the destination (pods of a class get the same verdicts), and reused while the source's class repeats.
 * Only one row is held at a time.
 */
function streamProbe(scale: ClassAnalysis, pods: readonly PodInfo[], probe: Probe): StreamedProbe {
  const classes = pods.map((p) => scale.classOf(p));
  let row = new Uint8Array(pods.length);
  let rowClass: number | undefined;
  let self = -1;
  // The verdict between two different pods of the row's class (a class may be isolated from itself).
  let ownClass = false;
  const rowOf = (i: number): Uint8Array => {
    const c = classes[i];
    if (c !== undefined && c === rowClass) {
      row[self] = ownClass ? 1 : 0;
      row[i] = 1;
      self = i;
      return row;
    }
    const source = pods[i]!;
    const byClass = new Map<number, boolean>();
    row = new Uint8Array(pods.length);
    for (let j = 0; j < pods.length; j++) {
      const d = classes[j];
      let v = d === undefined || j === i ? undefined : byClass.get(d);
      if (v === undefined) {
        // "Traffic from a pod to itself never leaves the pod and is always allowed" (allows says so for j = i).
        v = scale.allows(source, pods[j]!, probe);
        if (d !== undefined && j !== i) byClass.set(d, v);
      }
      row[j] = v ? 1 : 0;
    }
    rowClass = c;
    self = i;
    ownClass = c !== undefined && byClass.get(c) === true;
    return row;
  };
  return { port: probe.port, protocol: probe.protocol, row: rowOf, allowedPairs: scale.allowedPairs(probe) };
}

/** The table per probe; for `-o wide`, after each table every denied pair with the side that denies it. */
function* tableOutput(pods: readonly PodInfo[], probes: readonly StreamedProbe[], engine: Engine | undefined, classOf: (p: PodInfo) => number | undefined): Generator<string> {
  for (const [k, probe] of probes.entries()) {
    if (k > 0) yield '\n';
    yield* tableChunks(pods, probe);
    if (engine) yield* denialChunks(engine, pods, probe, classOf);
  }
}
