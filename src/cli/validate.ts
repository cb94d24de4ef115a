/** `netpol validate`: every problem the API server (and kubectl's strict decoding) would report. */
import { formatDiagnostic } from '../diag/diagnostic.js';
import { outputFormat, type GlobalFlags } from './args.js';
import { readInput, reportDiagnostics } from './input.js';
import { EXIT, type IO } from './io.js';

export async function validateCommand(flags: GlobalFlags, io: IO): Promise<number> {
  const format = outputFormat(flags.output, ['text', 'json'] as const, 'text');
  const input = await readInput(flags, io);
  const findings = input.diagnostics.filter((d) => d.severity !== 'info');
  reportDiagnostics(
    io,
    input.diagnostics.filter((d) => d.severity === 'info'),
  );
  if (format === 'json') {
    io.stdout(`${JSON.stringify({ diagnostics: findings }, null, 2)}\n`);
  } else {
    for (const d of findings) io.stdout(`${formatDiagnostic(d)}\n`);
    const errors = findings.filter((d) => d.severity === 'error').length;
    const warnings = findings.length - errors;
    const c = input.cluster;
    const summary = `${c.policies.length} NetworkPolicies, ${c.pods.length} pods, ${c.namespaces.size} namespaces`;
    io.stdout(errors === 0 ? `valid: ${summary}${warnings ? ` (${warnings} warnings)` : ''}\n` : `invalid: ${errors} errors, ${warnings} warnings (${summary})\n`);
  }
  if (input.unreadable) return EXIT.ERROR;
  return input.invalid ? EXIT.NEGATIVE : EXIT.OK;
}
