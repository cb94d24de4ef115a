/**
 * Pictures of a reachability matrix, for a CI job to attach to a pull request: Graphviz DOT, Mermaid
 * (renders in GitHub Markdown), and one self-contained HTML file (the matrix per probe and an SVG graph,
 * no script, no network: a Content-Security-Policy forbids every fetch). Nodes are pods grouped by
 * namespace; an edge is an allowed connection between different pods, labelled with the probes that
 * allow it when not all do. Every name goes through the one escaping step (DOT and Mermaid quote it,
 * HTML uses htmlText).
 */
import type { ProbeResult, Reachability } from '../../engine/index.js';
import { htmlText, safeText } from './escape.js';
import { probeTitle } from './matrix.js';

interface Edge {
  readonly from: number;
  readonly to: number;
  /** Titles of the probes allowing it; empty when every probe does. */
  readonly probes: readonly string[];
}

function edges(r: Reachability): Edge[] {
  const out: Edge[] = [];
  const n = r.pods.length;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const allowing = r.probes.filter((p) => p.allowed[i]![j]);
      if (allowing.length === 0) continue;
      out.push({ from: i, to: j, probes: allowing.length === r.probes.length ? [] : allowing.map(probeTitle) });
    }
  }
  return out;
}

function split(key: string): [string, string] {
  const k = key.indexOf('/');
  return [key.slice(0, k), key.slice(k + 1)];
}

function byNamespace(pods: readonly string[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  pods.forEach((p, i) => {
    const ns = split(p)[0];
    let list = m.get(ns);
    if (!list) m.set(ns, (list = []));
    list.push(i);
  });
  return m;
}

function title(r: Reachability): string {
  return r.probes.map(probeTitle).join(', ');
}

/** A DOT quoted string: control characters shown as escapes, quotes escaped. */
function dotString(s: string): string {
  return `"${safeText(s).replace(/"/g, '\\"')}"`;
}

export function renderDot(r: Reachability): string {
  const out = ['digraph netpol {', `  label=${dotString(`allowed connections (${title(r)})`)};`, '  labelloc=t; rankdir=LR; node [shape=box, style=rounded];'];
  let k = 0;
  for (const [ns, idx] of byNamespace(r.pods)) {
    out.push(`  subgraph ${dotString(`cluster_${k++}`)} {`, `    label=${dotString(ns)};`);
    for (const i of idx) out.push(`    n${i} [label=${dotString(split(r.pods[i]!)[1])}];`);
    out.push('  }');
  }
  for (const e of edges(r)) out.push(`  n${e.from} -> n${e.to}${e.probes.length ? ` [label=${dotString(e.probes.join(', '))}]` : ''};`);
  out.push('}');
  return `${out.join('\n')}\n`;
}

/** Mermaid label text: anything but plain characters as an entity code (`#34;`), which Mermaid decodes. */
function mermaidText(s: string): string {
  return safeText(s).replace(/[^A-Za-z0-9 ._:/-]/g, (c) => `#${c.codePointAt(0)};`);
}

export function renderMermaid(r: Reachability): string {
  const out = ['flowchart LR'];
  let k = 0;
  for (const [ns, idx] of byNamespace(r.pods)) {
    out.push(`  subgraph ns${k++}["${mermaidText(ns)}"]`);
    for (const i of idx) out.push(`    n${i}["${mermaidText(split(r.pods[i]!)[1])}"]`);
    out.push('  end');
  }
  for (const e of edges(r)) out.push(`  n${e.from} -->${e.probes.length ? `|"${mermaidText(e.probes.join(', '))}"|` : ''} n${e.to}`);
  return `${out.join('\n')}\n`;
}

function matrixTable(r: Reachability, probe: ProbeResult): string {
  const names = r.pods.map((p) => htmlText(p));
  const head = names.map((n, j) => `<th class="col" title="${n}">${j + 1}</th>`).join('');
  const rows = r.pods.map((_, i) => {
    const cells = probe.allowed[i]!.map((v, j) =>
      i === j ? '<td class="self"></td>' : v ? `<td class="yes" title="${names[i]} → ${names[j]}: allowed">·</td>` : `<td class="no" title="${names[i]} → ${names[j]}: denied">✕</td>`,
    ).join('');
    return `<tr><th class="row">${i + 1} ${names[i]}</th>${cells}</tr>`;
  });
  return `<h2>${htmlText(probeTitle(probe))}</h2>\n<table><thead><tr><th>from \\ to</th>${head}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

/** The graph as SVG: namespaces as arcs of one circle, pods on them, allowed connections as arrows. */
function svgGraph(r: Reachability): string {
  const n = r.pods.length;
  const radius = Math.max(160, n * 14);
  // Room for the longest label on either side (about 7 px per character at 12 px).
  const margin = Math.max(...r.pods.map((p) => p.length), 4) * 7 + 30;
  const size = 2 * radius + 2 * margin;
  const c = size / 2;
  const at = (i: number): [number, number] => {
    const a = (2 * Math.PI * i) / Math.max(1, n) - Math.PI / 2;
    return [c + radius * Math.cos(a), c + radius * Math.sin(a)];
  };
  const parts: string[] = [];
  for (const e of edges(r)) {
    const [x1, y1] = at(e.from);
    const [x2, y2] = at(e.to);
    const t = `${htmlText(r.pods[e.from]!)} → ${htmlText(r.pods[e.to]!)}${e.probes.length ? `: ${htmlText(e.probes.join(', '))}` : ''}`;
    parts.push(
      `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" marker-end="url(#arrow)"${e.probes.length ? ' class="some"' : ''}><title>${t}</title></line>`,
    );
  }
  r.pods.forEach((p, i) => {
    const [x, y] = at(i);
    const anchor = x < c - 1 ? 'end' : x > c + 1 ? 'start' : 'middle';
    const dx = anchor === 'end' ? -10 : anchor === 'start' ? 10 : 0;
    const dy = anchor !== 'middle' ? 4 : y < c ? -12 : 20;
    parts.push(
      `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="6"><title>${htmlText(p)}</title></circle><text x="${(x + dx).toFixed(1)}" y="${(y + dy).toFixed(1)}" text-anchor="${anchor}">${htmlText(p)}</text>`,
    );
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size.toFixed(0)}" height="${size.toFixed(0)}" viewBox="0 0 ${size.toFixed(0)} ${size.toFixed(0)}">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="16" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/></marker></defs>',
    ...parts,
    '</svg>',
  ].join('\n');
}

const STYLE = `body{font:14px system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin-bottom:2em}th,td{border:1px solid #ccc;padding:2px 6px;text-align:center}
th.row{text-align:left;white-space:nowrap}td.yes{background:#d9f2d9}td.no{background:#f7d4d4}td.self{background:#eee}
svg line{stroke:#4a7;stroke-width:1.2;opacity:.7}svg line.some{stroke:#c80}svg circle{fill:#357}svg text{font-size:12px}
svg marker path{fill:#4a7}`;

export function renderHtml(r: Reachability): string {
  const t = htmlText(`netpol matrix: ${title(r)}`);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${t}</title><style>${STYLE}</style></head>
<body><h1>${t}</h1>
<p>${r.pods.length} pods. Rows: from, columns: to (hover a column number for its pod). · allowed, ✕ denied. In the graph, an arrow is an allowed connection; orange ones are allowed for some of the probes only (hover for which).</p>
${r.probes.map((p) => matrixTable(r, p)).join('\n')}
<h2>Graph</h2>
${svgGraph(r)}
</body></html>
`;
}
