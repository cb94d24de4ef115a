/** `netpol matrix`: who can reach whom, for each probe (port x protocol). */
import { Engine, podEndpoint } from '../engine/engine.js';
import { reachability, sortPods, type Probe } from '../engine/matrix.js';
import { outputFormat, type GlobalFlags } from './args.js';
import { readInput, reportDiagnostics } from './input.js';
import { EXIT, type IO } from './io.js';
import { probeTitle, renderCsv, renderMarkdown, renderTable } from './render/matrix.js';
import { parsePort, parseProtocol } from './resolve.js';

export const MATRIX_OPTIONS = {
  port: { type: 'string', short: 'p', multiple: true },
  protocol: { type: 'string', multiple: true },
} as const;

const FORMATS = ['table', 'wide', 'json', 'csv', 'md'] as const;

export async function matrixCommand(flags: GlobalFlags, values: Record<string, unknown>, io: IO): Promise<number> {
  const format = outputFormat(flags.output, FORMATS, 'table');
  const ports = ((values.port as string[] | undefined) ?? ['80']).map(parsePort);
  const protocols = [...new Set(((values.protocol as string[] | undefined) ?? ['TCP']).map(parseProtocol))];
  const probes: Probe[] = protocols.flatMap((protocol) => ports.map((port) => ({ port, protocol })));

  const input = await readInput(flags, io);
  reportDiagnostics(io, input.diagnostics);
  if (input.unreadable || input.invalid) {
    io.stderr('error: the input has errors (see above); the API server would reject it, so it is not analysed\n');
    return EXIT.ERROR;
  }
  const engine = new Engine(input.cluster);
  const shown = sortPods(input.cluster.pods.filter((p) => flags.allNamespaces || flags.namespace === undefined || p.namespace === flags.namespace));
  const result = reachability(engine, shown, probes);

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
    default:
      result.probes.forEach((probe, k) => {
        if (k > 0) io.stdout('\n');
        io.stdout(renderTable(shown, probe));
        if (format === 'wide') io.stdout(renderDenials(engine, shown, probe));
      });
  }
  return EXIT.OK;
}

/** For `-o wide`: each denied pair with the side that denies it and the policies that isolate it. */
function renderDenials(engine: Engine, pods: ReturnType<typeof sortPods>, probe: { port: number | string; protocol: Probe['protocol']; allowed: boolean[][] }): string {
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
