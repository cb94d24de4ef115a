/** Text renderings of a reachability matrix: a table grouped by namespace, CSV and Markdown. */
import type { PodInfo } from '../../model/cluster.js';
import type { ProbeResult } from '../../engine/matrix.js';
import type { NamespaceCounts } from '../../scale/index.js';

const ALLOWED = '.';
const DENIED = 'X';

export function probeTitle(p: { port: number | string; protocol: string }): string {
  return `${p.protocol}/${p.port}`;
}

function countAllowed(p: ProbeResult): { allowed: number; total: number } {
  let allowed = 0;
  let total = 0;
  p.allowed.forEach((row, i) =>
    row.forEach((v, j) => {
      if (i === j) return;
      total++;
      if (v) allowed++;
    }),
  );
  return { allowed, total };
}

function podLabel(p: PodInfo): string {
  return p.workload ? `${p.name} (${p.workload.kind})` : p.name;
}

/**
 * Rows are sources, columns destinations, both grouped by namespace. Columns are numbered to keep the
 * table narrow; the row labels carry the numbers.
 */
export function renderTable(pods: readonly PodInfo[], probe: ProbeResult): string {
  const { allowed, total } = countAllowed(probe);
  const out: string[] = [];
  out.push(`${probeTitle(probe)}: ${allowed} of ${total} connections between different pods allowed   (rows: from, columns: to; ${ALLOWED} allowed, ${DENIED} denied)`);
  if (pods.length === 0) return `${out.join('\n')}\n(no pods)\n`;
  const groups: { ns: string; start: number; end: number }[] = [];
  pods.forEach((p, i) => {
    const g = groups[groups.length - 1];
    if (g && g.ns === p.namespace) g.end = i;
    else groups.push({ ns: p.namespace, start: i, end: i });
  });
  const idxW = String(pods.length).length;
  const cellW = idxW + 1;
  const nsW = Math.max(...groups.map((g) => g.ns.length));
  const nameW = Math.max(...pods.map((p) => podLabel(p).length));
  const labelW = nsW + 2 + idxW + 1 + nameW + 2;
  const groupW = groups.map((g) => Math.max(g.ns.length + 1, (g.end - g.start + 1) * cellW) + 1);
  const header1 = ' '.repeat(labelW) + groups.map((g, k) => g.ns.padEnd(groupW[k]!)).join('');
  const header2 = ' '.repeat(labelW) + groups.map((g, k) => range(g.start, g.end).map((j) => String(j + 1).padStart(idxW).padEnd(cellW)).join('').padEnd(groupW[k]!)).join('');
  out.push(header1.trimEnd(), header2.trimEnd());
  for (const g of groups) {
    for (let i = g.start; i <= g.end; i++) {
      const p = pods[i]!;
      const label = `${(i === g.start ? p.namespace : '').padEnd(nsW)}  ${String(i + 1).padStart(idxW)} ${podLabel(p).padEnd(nameW)}  `;
      const cells = groups
        .map((h, k) =>
          range(h.start, h.end)
            .map((j) => (probe.allowed[i]![j] ? ALLOWED : DENIED).padStart(idxW).padEnd(cellW))
            .join('')
            .padEnd(groupW[k]!),
        )
        .join('');
      out.push((label + cells).trimEnd());
    }
  }
  return `${out.join('\n')}\n`;
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, k) => a + k);
}

export function renderCsv(names: readonly string[], probes: readonly ProbeResult[]): string {
  const lines = ['protocol,port,from,to,allowed'];
  for (const p of probes) {
    names.forEach((from, i) => names.forEach((to, j) => lines.push(`${p.protocol},${p.port},${from},${to},${p.allowed[i]![j]}`)));
  }
  return `${lines.join('\n')}\n`;
}

export function renderMarkdown(names: readonly string[], probes: readonly ProbeResult[]): string {
  const out: string[] = [];
  for (const p of probes) {
    out.push(`### ${probeTitle(p)}`, '', `| from \\ to | ${names.join(' | ')} |`, `|---|${names.map(() => ':-:').join('|')}|`);
    names.forEach((from, i) => out.push(`| ${from} | ${p.allowed[i]!.map((v) => (v ? '✓' : '✗')).join(' | ')} |`));
    out.push('');
  }
  return `${out.join('\n')}`;
}

/**
 * The aggregated table for large inputs: namespaces as rows (sources) and columns (destinations), each
 * cell the number of allowed ordered pairs of different pods out of the possible ones. Only non-empty
 * rows are printed in full; a legend says how to read it.
 */
export function renderNamespaceTable(probe: { port: number | string; protocol: string }, counts: NamespaceCounts): string {
  const n = counts.namespaces.length;
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
      out.push(`  ${counts.namespaces[a]} -> ${counts.namespaces[b]}: ${v}/${possible(a, b)}`);
    }
    if (rows.length > 200) out.push(`  ... ${rows.length - 200} more namespace pairs allow something (use -o json or --summary)`);
    out.push(`  ${n * n - rows.length} namespace pairs allow nothing`);
    return `${out.join('\n')}\n`;
  }
  const cell = (a: number, b: number) => `${allowed.get(a * n + b) ?? 0}/${possible(a, b)}`;
  const nameW = Math.max(...counts.namespaces.map((x) => x.length), 4);
  const colW = counts.namespaces.map((name, b) => Math.max(name.length, ...counts.namespaces.map((_, a) => cell(a, b).length)));
  out.push(`${''.padEnd(nameW)}  ${counts.namespaces.map((name, b) => name.padStart(colW[b]!)).join('  ')}`);
  for (let a = 0; a < n; a++) out.push(`${counts.namespaces[a]!.padEnd(nameW)}  ${counts.namespaces.map((_, b) => cell(a, b).padStart(colW[b]!)).join('  ')}`);
  return `${out.join('\n')}\n`;
}
