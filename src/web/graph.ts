/**
 * The graph: namespaces as boxes, pods (a workload is one node, its replicas counted) inside, allowed
 * connections for the chosen probe as arrows, and the address blocks the policies name (ipBlocks,
 * cluster policies' networks) as nodes outside the cluster, with arrows for the pods that may reach
 * them and that they may reach. Drawn by cytoscape (bundled, canvas) at fixed positions computed here:
 * namespaces in a grid, pods in a grid within each, so the picture is the same every time and costs
 * O(pods) to lay out.
 *
 * Readability: arrows are drawn for the connections policies decide, those with an end selected in its
 * direction (by a NetworkPolicy or a cluster policy); two pods that no policy selects talk freely, and
 * those arrows (every pair of them) are left out, as the legend says. When more arrows remain than a
 * picture can show, only those of the selected pod are drawn. Above POD_LIMIT pods each namespace is
 * one box (selecting one shows the allowed pairs between it and the others); clicking a box (or Enter)
 * expands it into its pods in place, and clicking the expanded box collapses it again.
 */
import cytoscape, { type Core, type ElementDefinition } from 'cytoscape';
import type { ExternalBlock, PodView, Reach } from './api.js';
import { cssVar } from './dom.js';
import { clock } from './drops.js';

export const POD_LIMIT = 300;
const EDGE_LIMIT = 1500;
const CELL = 110;

export interface GraphInput {
  readonly pods: readonly PodView[];
  readonly reach: Reach;
  /** Address blocks (positions as in `reach`). */
  readonly external: readonly ExternalBlock[];
  /** Namespaces shown as their pods while the graph aggregates by namespace. */
  readonly expanded: ReadonlySet<string>;
  /** Recent drops between shown ends (drawn whatever the probe: each names its own port). */
  readonly drops?: readonly GraphDrop[];
}

/** An end of a drop arrow: a pod (index into `pods`) or an address block (index into `external`). */
export type DropNode = { readonly pod: number } | { readonly block: number };

export interface GraphDrop {
  readonly from: DropNode;
  readonly to: DropNode;
  /** Attempts dropped, and attempts only an audit-mode policy would have dropped (amber, dashed). */
  readonly denied: number;
  readonly audited: number;
  /** The latest (ISO 8601). */
  readonly last: string;
}

/** Drop arrows drawn at most (the most recent first). */
export const DROP_EDGE_LIMIT = 300;

export interface GraphEvents {
  edge(from: number, to: number): void;
  /** A drop arrow: index into `drops`. */
  drop(k: number): void;
  /** An arrow between pod `pod` and block `block`: `outward` when the pod is the source. */
  externalEdge(pod: number, block: number, outward: boolean): void;
  pod(i: number): void;
  block(k: number): void;
  /** Expand (or collapse) a namespace in place. */
  toggle(namespace: string): void;
}

const podId = (i: number) => `p${i}`;
const blockId = (k: number) => `b${k}`;

/** Some policy (a NetworkPolicy, or a cluster-scoped one) selects the pod for this direction. */
export function decided(p: PodView, direction: 'ingress' | 'egress'): boolean {
  return direction === 'ingress' ? p.ingressIsolatedBy.length > 0 || (p.ingressTiers?.length ?? 0) > 0 : p.egressIsolatedBy.length > 0 || (p.egressTiers?.length ?? 0) > 0;
}

export class Graph {
  private cy: Core | undefined;
  private input: GraphInput | undefined;
  private selected: number | undefined;
  private selectedNs: string | undefined;
  /** Pods shown, by index into input.pods. */
  private shown: number[] = [];
  private edgeCount = 0;
  /** The drop arrows of the last render, re-added when the arrows are redrawn for a selection. */
  private dropEdges: ElementDefinition[] = [];

  constructor(
    private readonly container: HTMLElement,
    private readonly events: GraphEvents,
  ) {
    container.addEventListener('keydown', (e) => this.key(e));
  }

  /** More pods than a picture shows: namespaces are boxes unless expanded. */
  get aggregated(): boolean {
    return this.input !== undefined && this.input.pods.length > POD_LIMIT;
  }

  /** Draws `input`; `inPlace` keeps the zoom and pan (a namespace opened or closed: nothing else moves). */
  render(input: GraphInput, inPlace = false): void {
    this.input = input;
    const view = inPlace && this.cy ? { zoom: this.cy.zoom(), pan: this.cy.pan() } : undefined;
    this.cy?.destroy();
    this.cy = cytoscape({
      container: this.container,
      elements: this.elements(),
      layout: { name: 'preset', padding: 20, fit: view === undefined },
      style: this.style(),
      minZoom: 0.05,
      maxZoom: 3,
      boxSelectionEnabled: false,
      ...(view ? { zoom: view.zoom, pan: view.pan } : {}),
    });
    this.cy.on('tap', 'edge', (e) => {
      const d = e.target.data() as { from?: number; to?: number; block?: number; drop?: number };
      if (d.drop !== undefined) this.events.drop(d.drop);
      else if (d.block !== undefined) this.events.externalEdge(d.from ?? d.to!, d.block, d.from !== undefined);
      else if (d.from !== undefined && d.to !== undefined) this.events.edge(d.from, d.to);
    });
    this.cy.on('tap', 'node', (e) => {
      const d = e.target.data() as { pod?: number; ns?: string; aggregate?: boolean; block?: number };
      if (d.pod !== undefined) this.select(d.pod);
      else if (d.block !== undefined) this.events.block(d.block);
      else if (d.ns && this.aggregated) {
        this.selectedNs = d.ns;
        this.events.toggle(d.ns);
      }
    });
    if (this.selected !== undefined && this.shown.includes(this.selected)) this.select(this.selected);
  }

  /** Namespaces (boxes or their pods), the blocks outside the cluster, and the arrows. */
  private elements(): ElementDefinition[] {
    const { pods, expanded } = this.input!;
    const byNs = new Map<string, number[]>();
    pods.forEach((p, i) => {
      const list = byNs.get(p.namespace);
      if (list) list.push(i);
      else byNs.set(p.namespace, [i]);
    });
    const els: ElementDefinition[] = [];
    this.shown = [];
    // Namespaces in rows; an open one is a grid of its pods, a closed one a box with its pod count.
    const perRow = Math.max(1, Math.ceil(Math.sqrt(byNs.size * 1.6)));
    let x0 = 0;
    let y0 = 0;
    let rowHeight = 0;
    let right = 0;
    [...byNs].forEach(([ns, members], k) => {
      if (k > 0 && k % perRow === 0) {
        x0 = 0;
        y0 += rowHeight + CELL;
        rowHeight = 0;
      }
      if (this.aggregated && !expanded.has(ns)) {
        els.push({ data: { id: `ns:${ns}`, label: `${ns} (${members.length})`, ns, aggregate: true }, position: { x: x0, y: y0 }, classes: 'aggregate' });
        x0 += CELL * 1.6;
        rowHeight = Math.max(rowHeight, CELL / 2);
      } else {
        els.push({ data: { id: `ns:${ns}`, label: this.aggregated ? `${ns} (click to close)` : ns, ns }, classes: 'namespace' });
        const cols = Math.max(1, Math.ceil(Math.sqrt(members.length)));
        members.forEach((i, m) => {
          this.shown.push(i);
          const p = pods[i]!;
          const replicas = p.workload?.replicas;
          const classes = [p.ingressIsolatedBy.length ? 'in-isolated' : '', p.egressIsolatedBy.length ? 'out-isolated' : ''];
          els.push({
            data: { id: podId(i), parent: `ns:${ns}`, pod: i, label: `${p.name}${replicas !== undefined && replicas !== 1 ? ` ×${replicas}` : ''}` },
            position: { x: x0 + (m % cols) * CELL, y: y0 + Math.floor(m / cols) * CELL },
            classes: classes.join(' '),
          });
        });
        x0 += cols * CELL + CELL;
        rowHeight = Math.max(rowHeight, Math.ceil(members.length / cols) * CELL);
      }
      right = Math.max(right, x0);
    });
    const edges = this.podEdges(els);
    if (this.shown.length > 0) edges.push(...this.externalElements(els, right));
    this.edgeCount = edges.length;
    this.dropEdges = this.dropElements(els);
    return [...els, ...(edges.length <= EDGE_LIMIT ? edges : []), ...this.dropEdges];
  }

  /**
   * Red arrows (amber dashed when only audit events were seen) for the recent drops whose ends are drawn;
   * an end in a closed namespace box is the box, and the drops between two boxes are one arrow with
   * their counts summed (a click explains the most recent).
   */
  private dropElements(els: readonly ElementDefinition[]): ElementDefinition[] {
    const { pods } = this.input!;
    const drawn = new Set(els.map((e) => e.data.id));
    const id = (n: DropNode): string => {
      if (!('pod' in n)) return blockId(n.block);
      const own = podId(n.pod);
      return drawn.has(own) ? own : `ns:${pods[n.pod]?.namespace ?? ''}`;
    };
    const folded = new Map<string, { source: string; target: string; drop: number; denied: number; audited: number; last: string }>();
    (this.input!.drops ?? []).forEach((d, k) => {
      const source = id(d.from);
      const target = id(d.to);
      if (source === target || !drawn.has(source) || !drawn.has(target)) return;
      const key = `${source}>${target}`;
      const f = folded.get(key);
      if (!f) {
        if (folded.size < DROP_EDGE_LIMIT) folded.set(key, { source, target, drop: k, denied: d.denied, audited: d.audited, last: d.last });
        return;
      }
      f.denied += d.denied;
      f.audited += d.audited;
      if (d.last > f.last) [f.last, f.drop] = [d.last, k];
    });
    return [...folded].map(([key, f]) => {
      const counts = [f.denied > 0 && `${f.denied} dropped`, f.audited > 0 && `${f.audited} audit`].filter(Boolean).join(', ');
      return { data: { id: `d${key}`, source: f.source, target: f.target, drop: f.drop, label: `${counts} · ${clock(f.last)}` }, classes: f.denied === 0 ? 'drop audit' : 'drop' };
    });
  }

  private podEdges(els: ElementDefinition[]): ElementDefinition[] {
    const { reach } = this.input!;
    const reached = new Set<number>();
    const edges: ElementDefinition[] = [];
    for (const s of this.shown) {
      for (const d of this.shown) {
        if (s === d || !reach.allowed(s, d)) continue;
        reached.add(d);
        if (this.drawn(s, d)) edges.push({ data: { id: `e${s}-${d}`, source: podId(s), target: podId(d), from: s, to: d } });
      }
    }
    for (const el of els) {
      const i = el.data.pod as number | undefined;
      if (i !== undefined && !reached.has(i)) el.classes += ' unreached';
    }
    return edges;
  }

  /** The blocks in a column right of the namespaces, and the arrows that a policy decides. */
  private externalElements(els: ElementDefinition[], x: number): ElementDefinition[] {
    const { pods, reach, external } = this.input!;
    if (external.length === 0) return [];
    els.push({ data: { id: 'outside', label: 'outside the cluster' }, classes: 'namespace outside' });
    const edges: ElementDefinition[] = [];
    external.forEach((b, k) => {
      els.push({ data: { id: blockId(k), parent: 'outside', block: k, label: b.label }, position: { x, y: k * CELL * 0.8 }, classes: 'block' });
      const from = new Set(b.reachedFrom);
      const to = new Set(b.reaches);
      for (const i of this.shown) {
        const position = reach.position(i);
        if (from.has(position) && decided(pods[i]!, 'egress')) edges.push({ data: { id: `x${i}>${k}`, source: podId(i), target: blockId(k), from: i, block: k }, classes: 'external' });
        if (to.has(position) && decided(pods[i]!, 'ingress')) edges.push({ data: { id: `x${k}>${i}`, source: blockId(k), target: podId(i), to: i, block: k }, classes: 'external' });
      }
    });
    return edges;
  }

  /** Re-reads the theme's colours. */
  restyle(): void {
    this.cy?.style(this.style());
  }

  /** Where an edge is drawn, in page coordinates (for tests and for keyboard focus). */
  edgePosition(from: number, to: number): { x: number; y: number } | undefined {
    return this.position(`e${from}-${to}`);
  }

  /** Where a node is drawn: `ns:NAME` (a namespace), `pod:NS/NAME`, `block:LABEL`. */
  nodePosition(id: string): { x: number; y: number } | undefined {
    const input = this.input;
    if (!input) return undefined;
    let cyId = id;
    if (id.startsWith('pod:')) cyId = podId(input.pods.findIndex((p) => `pod:${p.namespace}/${p.name}` === id));
    else if (id.startsWith('block:')) cyId = blockId(input.external.findIndex((b) => `block:${b.label}` === id));
    const n = this.cy?.getElementById(cyId);
    if (!n || n.empty()) return undefined;
    const bb = n.renderedBoundingBox({ includeLabels: false, includeOverlays: false });
    const r = this.container.getBoundingClientRect();
    // An open namespace: a point of its box's padding, on no pod.
    return { x: r.left + (bb.x1 + bb.x2) / 2, y: r.top + (n.isParent() ? bb.y1 + 5 : (bb.y1 + bb.y2) / 2) };
  }

  private position(id: string): { x: number; y: number } | undefined {
    const e = this.cy?.getElementById(id);
    if (!e || e.empty()) return undefined;
    const m = e.renderedMidpoint();
    const r = this.container.getBoundingClientRect();
    return { x: r.left + m.x, y: r.top + m.y };
  }

  shownPods(): readonly number[] {
    return this.shown;
  }

  /** Where the drop arrow between two drawn nodes is (`pod:NS/NAME`, `ns:NAME` (a closed box) or `block:LABEL`), and whether it is an audit one. */
  dropEdge(from: string, to: string): { x: number; y: number; audit: boolean; label: string } | undefined {
    const input = this.input;
    if (!input) return undefined;
    const cyId = (id: string) =>
      id.startsWith('ns:')
        ? id
        : id.startsWith('pod:')
          ? podId(input.pods.findIndex((p) => `pod:${p.namespace}/${p.name}` === id))
          : blockId(input.external.findIndex((b) => `block:${b.label}` === id));
    const id = `d${cyId(from)}>${cyId(to)}`;
    const p = this.position(id);
    const e = this.cy?.getElementById(id);
    return p && e ? { ...p, audit: e.hasClass('audit'), label: String(e.data('label')) } : undefined;
  }

  /** Where the arrow between pod `pod` and the block labelled `label` is drawn (`outward`: from the pod). */
  externalEdgePosition(pod: number, label: string, outward: boolean): { x: number; y: number } | undefined {
    const k = this.input?.external.findIndex((b) => b.label === label) ?? -1;
    return k < 0 ? undefined : this.position(outward ? `x${pod}>${k}` : `x${k}>${pod}`);
  }

  /** An allowed connection is drawn when a policy decides it: an end is selected in its direction (by a NetworkPolicy or a cluster-scoped one). */
  private drawn(s: number, d: number): boolean {
    const pods = this.input!.pods;
    return decided(pods[s]!, 'egress') || decided(pods[d]!, 'ingress');
  }

  /** Selects a pod: its arrows are highlighted (or drawn, when there are too many to draw all). */
  select(i: number): void {
    const cy = this.cy;
    if (!cy || !this.input) return;
    this.selected = i;
    cy.elements().removeClass('selected faded');
    if (this.edgeCount > EDGE_LIMIT) {
      cy.edges().remove();
      const { reach } = this.input;
      const add: ElementDefinition[] = [];
      for (const o of this.shown) {
        if (o === i) continue;
        if (reach.allowed(i, o) && this.drawn(i, o)) add.push({ data: { id: `e${i}-${o}`, source: podId(i), target: podId(o), from: i, to: o } });
        if (reach.allowed(o, i) && this.drawn(o, i)) add.push({ data: { id: `e${o}-${i}`, source: podId(o), target: podId(i), from: o, to: i } });
      }
      cy.add([...add, ...this.dropEdges]);
    }
    const node = cy.getElementById(podId(i));
    const near = node.connectedEdges();
    cy.elements().not(near).not(node).not(node.parent()).not(near.connectedNodes()).not(near.connectedNodes().parent()).addClass('faded');
    node.addClass('selected');
    this.events.pod(i);
  }

  /** In the namespace view: arrows between the selected namespace and the others, with pair counts. */
  private selectNamespace(ns: string): void {
    const cy = this.cy;
    if (!cy || !this.input) return;
    this.selectedNs = ns;
    const { pods, reach } = this.input;
    cy.edges().remove();
    const mine: number[] = [];
    pods.forEach((p, i) => p.namespace === ns && mine.push(i));
    const out = new Map<string, number>();
    const inc = new Map<string, number>();
    pods.forEach((p, o) => {
      if (p.namespace === ns) return;
      for (const i of mine) {
        if (reach.allowed(i, o)) out.set(p.namespace, (out.get(p.namespace) ?? 0) + 1);
        if (reach.allowed(o, i)) inc.set(p.namespace, (inc.get(p.namespace) ?? 0) + 1);
      }
    });
    const add: ElementDefinition[] = [];
    for (const [other, n] of out) add.push({ data: { id: `n>${other}`, source: `ns:${ns}`, target: `ns:${other}`, label: String(n) } });
    for (const [other, n] of inc) add.push({ data: { id: `n<${other}`, source: `ns:${other}`, target: `ns:${ns}`, label: String(n) } });
    cy.add([...add, ...this.dropEdges]);
    cy.nodes().removeClass('selected');
    cy.getElementById(`ns:${ns}`).addClass('selected');
  }

  /** Keyboard: arrows move the selection among the pods (or namespaces), Enter expands or collapses. */
  private key(e: KeyboardEvent): void {
    if (!this.input) return;
    if (this.aggregated) {
      const names = [...new Set(this.input.pods.map((p) => p.namespace))];
      const at = this.selectedNs === undefined ? -1 : names.indexOf(this.selectedNs);
      if (e.key === 'ArrowRight' || e.key === 'ArrowDown') this.selectNamespace(names[(at + 1) % names.length]!);
      else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') this.selectNamespace(names[(at - 1 + names.length) % names.length]!);
      else if (e.key === 'Enter' && this.selectedNs) this.events.toggle(this.selectedNs);
      else return;
    } else {
      const at = this.selected === undefined ? -1 : this.shown.indexOf(this.selected);
      const n = this.shown.length;
      if (n === 0) return;
      if (e.key === 'ArrowRight' || e.key === 'ArrowDown') this.select(this.shown[(at + 1) % n]!);
      else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') this.select(this.shown[(at - 1 + n) % n]!);
      else return;
    }
    e.preventDefault();
  }

  private style(): cytoscape.StylesheetJson {
    const fg = cssVar('--fg');
    const muted = cssVar('--muted');
    const accent = cssVar('--accent');
    const bg = cssVar('--panel');
    const denied = cssVar('--denied');
    const amber = cssVar('--audit');
    return [
      {
        selector: 'node',
        style: {
          label: 'data(label)',
          color: fg,
          'font-size': 11,
          'text-valign': 'bottom',
          'text-margin-y': 4,
          'background-color': accent,
          width: 22,
          height: 22,
          'border-width': 2,
          'border-color': accent,
          'text-wrap': 'ellipsis',
          'text-max-width': '100px',
        },
      },
      { selector: 'node.in-isolated', style: { shape: 'round-rectangle', 'border-color': denied } },
      { selector: 'node.out-isolated', style: { 'border-style': 'double', 'border-width': 4 } },
      { selector: 'node.unreached', style: { 'background-color': denied, 'border-color': denied } },
      {
        selector: 'node.namespace',
        style: {
          shape: 'round-rectangle',
          'background-color': bg,
          'background-opacity': 0.6,
          'border-color': muted,
          'border-width': 1,
          'text-valign': 'top',
          'text-halign': 'center',
          'text-margin-y': -4,
          'font-weight': 'bold',
          padding: '18px',
        },
      },
      { selector: 'node.block', style: { shape: 'diamond', 'background-color': bg, 'border-color': fg, 'text-max-width': '160px' } },
      { selector: 'node.outside', style: { 'border-style': 'dashed' } },
      { selector: 'edge.external', style: { 'line-style': 'dashed' } },
      { selector: 'node.aggregate', style: { shape: 'round-rectangle', width: 140, height: 36, 'background-color': bg, 'border-color': muted, 'text-valign': 'center', 'font-size': 11 } },
      { selector: 'edge', style: { width: 1.5, 'line-color': muted, 'target-arrow-color': muted, 'target-arrow-shape': 'triangle', 'curve-style': 'bezier', 'arrow-scale': 0.9 } },
      { selector: 'edge[label]', style: { label: 'data(label)', 'font-size': 10, color: fg, 'text-background-color': bg, 'text-background-opacity': 1 } },
      { selector: 'edge.drop', style: { width: 3, 'line-color': denied, 'target-arrow-color': denied, color: denied, 'font-weight': 'bold', 'z-index': 10 } },
      { selector: 'edge.drop.audit', style: { 'line-color': amber, 'target-arrow-color': amber, color: amber, 'line-style': 'dashed' } },
      { selector: '.selected', style: { 'border-color': fg, 'border-width': 4 } },
      { selector: 'edge.selected', style: { 'line-color': accent, 'target-arrow-color': accent, width: 3 } },
      { selector: '.faded', style: { opacity: 0.15 } },
    ];
  }
}
