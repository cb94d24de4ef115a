/**
 * `netpol matrix`: who can reach whom, for each probe (port x protocol).
 *
 * Verdicts come from the class-based engine (src/scale), which the property tests hold to the oracle
 * like the explaining engine. Small inputs print the dense pod x pod matrix; `--summary` prints exact
 * counts of allowed pairs without materialising it; large inputs (or `--by namespace`) aggregate the
 * table by namespace. The dense matrix is refused above DENSE_LIMIT pods: at 150,000 pods it would be
 * 22.5 billion cells per probe.
 */
import { Engine, podEndpoint } from '../engine/engine.js';
import { sortPods, type Probe, type ProbeResult, type Reachability } from '../engine/matrix.js';
import type { PodInfo } from '../model/cluster.js';
import { matrixSummary, ScaleEngine, withPods } from '../scale/index.js';
import { outputFormat, type GlobalFlags } from './args.js';
import { readInput, reportDiagnostics } from './input.js';
import { EXIT, UsageError, type IO } from './io.js';
import { progressLine } from './progress.js';
import { probeTitle, renderCsv, renderMarkdown, renderNamespaceTable, renderTable } from './render/matrix.js';
import { renderDot, renderHtml, renderMermaid } from './render/picture.js';
import { parsePort, parseProtocol } from './resolve.js';

export const MATRIX_OPTIONS = {
  port: { type: 'string', short: 'p', multiple: true },
  protocol: { type: 'string', multiple: true },
  summary: { type: 'boolean' },
  by: { type: 'string' },
} as const;

const FORMATS = ['table', 'wide', 'json', 'csv', 'md', 'dot', 'mermaid', 'html'] as const;
/** Above this many pods the dense matrix is not built (~16,000: 256 million cells per probe). */
export const DENSE_LIMIT = 16_000;
/** Above this many pods the default table aggregates by namespace (a pod table would not be readable). */
export const TABLE_POD_LIMIT = 100;

export async function matrixCommand(flags: GlobalFlags, values: Record<string, unknown>, io: IO): Promise<number> {
  const format = outputFormat(flags.output, FORMATS, 'table');
  const ports = ((values.port as string[] | undefined) ?? ['80']).map(parsePort);
  const protocols = [...new Set(((values.protocol as string[] | undefined) ?? ['TCP']).map(parseProtocol))];
  const probes: Probe[] = protocols.flatMap((protocol) => ports.map((port) => ({ port, protocol })));
  const by = values.by as string | undefined;
  if (by !== undefined && by !== 'namespace' && by !== 'pod') throw new UsageError(`--by ${by}: use namespace or pod`);
  const summary = values.summary === true;
  if (summary && format !== 'json' && format !== 'table') throw new UsageError('--summary prints -o json or a table');

  const input = await readInput(flags, io);
  reportDiagnostics(io, input.diagnostics);
  if (input.unreadable || input.invalid) {
    io.stderr('error: the input has errors (see above); the API server would reject it, so it is not analysed\n');
    return EXIT.ERROR;
  }
  // -n NS shows one namespace; exact, because a verdict never depends on pods other than its two ends.
  const only = flags.allNamespaces || flags.namespace === undefined ? undefined : flags.namespace;
  const cluster = only === undefined ? input.cluster : withPods(input.cluster, (p) => p.namespace === only);
  const progress = progressLine(io);
  const scale = new ScaleEngine(cluster, { progress: (phase, d, t) => progress.update(`analysing ${phase}`, d, t) });
  progress.done();
  const pods = cluster.pods.length;

  if (summary) {
    const s = matrixSummary(scale, probes);
    if (format === 'json') io.stdout(`${JSON.stringify(s)}\n`);
    else {
      const pairs = pods * (pods - 1);
      for (const p of s.probes) io.stdout(`${probeTitle(p)}: ${p.allowedPairs} of ${pairs} ordered pairs of different pods allowed (${pairs ? ((100 * p.allowedPairs) / pairs).toFixed(1) : '0.0'}%)\n`);
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
  if (pods > DENSE_LIMIT) {
    throw new UsageError(`${pods} pods: the pod x pod matrix would hold ${(pods * pods).toLocaleString('en-US')} cells per probe; use --summary, --by namespace, or -n NS`);
  }

  const shown = sortPods(cluster.pods);
  const result = dense(scale, shown, probes);
  switch (format) {
    case 'json':
      io.stdout(`${JSON.stringify(result)}\n`);
      break;
    case 'csv':
      io.stdout(renderCsv(result.pods, result.probes));
      break;
    case 'md':
      io.stdout(renderMarkdown(result.pods, result.probes));
      break;
    case 'dot':
      io.stdout(renderDot(result));
      break;
    case 'mermaid':
      io.stdout(renderMermaid(result));
      break;
    case 'html':
      io.stdout(renderHtml(result));
      break;
    default: {
      const engine = format === 'wide' ? new Engine(cluster) : undefined;
      result.probes.forEach((probe, k) => {
        if (k > 0) io.stdout('\n');
        io.stdout(renderTable(shown, probe));
        if (engine) io.stdout(renderDenials(engine, shown, probe));
      });
    }
  }
  return EXIT.OK;
}

/** The dense matrix in the public JSON shape, `allowed[i][j]`: may pods[i] open a connection to pods[j]. */
function dense(scale: ScaleEngine, pods: readonly PodInfo[], probes: readonly Probe[]): Reachability {
  return {
    pods: pods.map((p) => `${p.namespace}/${p.name}`),
    probes: probes.map((probe) => ({
      port: probe.port,
      protocol: probe.protocol,
      allowed: pods.map((s) => pods.map((d) => scale.allows(s, d, probe))),
    })),
  };
}

/** For `-o wide`: each denied pair with the side that denies it and the policies that isolate it. */
function renderDenials(engine: Engine, pods: readonly PodInfo[], probe: ProbeResult): string {
  const lines: string[] = [];
  pods.forEach((from, i) =>
    pods.forEach((to, j) => {
      if (probe.allowed[i]![j]) return;
      const v = engine.evaluate({ source: podEndpoint(from), destination: podEndpoint(to), protocol: probe.protocol, port: probe.port });
      const sides = [v.egress, v.ingress]
        .filter((s) => !s.allowed)
        .map((s) => `${s.direction} of ${s.subject} (isolated by ${s.policies.map((p) => p.policy.name).join(', ')})`);
      lines.push(`  ${v.from} -> ${v.to}: denied by ${sides.length ? sides.join(' and ') : 'no common port'}`);
    }),
  );
  return lines.length ? `denied ${probeTitle(probe)} connections:\n${lines.join('\n')}\n` : '';
}
