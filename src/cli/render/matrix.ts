/** Text renderings of a reachability matrix: a table grouped by namespace, CSV and Markdown. */
import type { PodInfo } from '../../model/cluster.js';
import type { ProbeResult } from '../../engine/matrix.js';

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
