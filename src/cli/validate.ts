/** `netpol validate`: every problem the API server (and kubectl's strict decoding) would report. */
import { outputFormat, type GlobalFlags } from './args.js';
import { readInput, reportDiagnostics } from './input.js';
import { EXIT, type IO } from './io.js';
import { diagnosticText } from './render/diagnostic.js';
import { structured } from './render/escape.js';

export async function validateCommand(flags: GlobalFlags, io: IO): Promise<number> {
  const format = outputFormat(flags.output, ['text', 'json', 'yaml'] as const, 'text');
  const input = await readInput(flags, io);
  const findings = input.diagnostics.filter((d) => d.severity !== 'info');
  reportDiagnostics(
    io,
    input.diagnostics.filter((d) => d.severity === 'info'),
  );
  if (format !== 'text') {
    io.stdout(structured({ diagnostics: findings }, format, 2));
  } else {
    for (const d of findings) io.stdout(`${diagnosticText(d)}\n`);
    const errors = findings.filter((d) => d.severity === 'error').length;
    const warnings = findings.length - errors;
    const c = input.cluster;
    const counts = `${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
    if (errors === 0) {
      io.stdout(`valid: ${plural(c.policies.length, 'NetworkPolicy', 'NetworkPolicies')}, ${c.clusterPolicies ? `${plural(c.clusterPolicies.length, 'cluster-scoped policy', 'cluster-scoped policies')}, ` : ''}${plural(c.pods.length, 'pod')}, ${plural(c.namespaces.size, 'namespace')}${warnings ? ` (${plural(warnings, 'warning')})` : ''}\n`);
    } else {
      const files = new Set(findings.filter((d) => d.severity === 'error').map((d) => d.file ?? '')).size;
      io.stdout(`invalid: ${counts} in ${plural(files, 'source')}\n`);
    }
  }
  if (input.unreadable) return EXIT.ERROR;
  return input.invalid ? EXIT.NEGATIVE : EXIT.OK;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
