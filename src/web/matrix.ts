/**
 * The matrix as a heat map: rows are sources, columns destinations, a filled cell an allowed
 * connection for the chosen probe; rows and columns grouped by namespace (sorted as `netpol matrix`
 * sorts them), filtered by text. Virtualised: a canvas the size of the viewport draws only the visible
 * cells from the relation, so 5,000 x 5,000 pods scroll as smoothly as 5 x 5. Canvas text is text.
 * Keyboard: arrows move the cursor cell, Enter explains it.
 */
import type { PodView, Reach } from './api.js';
import { cssVar } from './dom.js';

const CELL = 14;
const ROW_HEAD = 230;
const COL_HEAD = 150;

export interface MatrixEvents {
  cell(from: number, to: number): void;
  hover(text: string): void;
}

export class Matrix {
  private pods: readonly PodView[] = [];
  private reach: Reach | undefined;
  private rows: number[] = [];
  private cols: number[] = [];
  private cursor: [number, number] = [0, 0];
  private readonly canvas: HTMLCanvasElement;
  private readonly spacer: HTMLElement;

  constructor(
    private readonly scroller: HTMLElement,
    private readonly events: MatrixEvents,
  ) {
    this.spacer = document.createElement('div');
    this.spacer.className = 'matrix-spacer';
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'matrix-canvas';
    scroller.append(this.canvas, this.spacer);
    scroller.addEventListener('scroll', () => this.draw(), { passive: true });
    new ResizeObserver(() => this.draw()).observe(scroller);
    this.canvas.addEventListener('mousemove', (e) => {
      const c = this.at(e);
      this.events.hover(c ? this.describe(c[0], c[1]) : '');
    });
    this.canvas.addEventListener('click', (e) => {
      const c = this.at(e);
      if (!c) return;
      this.cursor = c;
      this.draw();
      this.events.cell(this.rows[c[0]]!, this.cols[c[1]]!);
    });
    scroller.addEventListener('keydown', (e) => this.key(e));
  }

  render(pods: readonly PodView[], reach: Reach, rowFilter: string, colFilter: string): void {
    this.pods = pods;
    this.reach = reach;
    this.rows = filter(pods, rowFilter);
    this.cols = filter(pods, colFilter);
    this.cursor = [Math.min(this.cursor[0], Math.max(0, this.rows.length - 1)), Math.min(this.cursor[1], Math.max(0, this.cols.length - 1))];
    // The spacer gives the scroll range; the canvas stays in view (sticky) and draws what is visible.
    this.spacer.style.width = `${ROW_HEAD + this.cols.length * CELL}px`;
    this.spacer.style.height = `${COL_HEAD + this.rows.length * CELL}px`;
    this.draw();
  }

  get counts(): { rows: number; cols: number } {
    return { rows: this.rows.length, cols: this.cols.length };
  }

  private describe(r: number, c: number): string {
    const s = this.pods[this.rows[r]!]!;
    const d = this.pods[this.cols[c]!]!;
    return `${s.namespace}/${s.name} → ${d.namespace}/${d.name}: ${this.reach!.allowed(this.rows[r]!, this.cols[c]!) ? 'allowed' : 'denied'}`;
  }

  private at(e: MouseEvent): [number, number] | undefined {
    const rect = this.canvas.getBoundingClientRect();
    const x = e.clientX - rect.left - ROW_HEAD + this.scroller.scrollLeft;
    const y = e.clientY - rect.top - COL_HEAD + this.scroller.scrollTop;
    if (x < this.scroller.scrollLeft || y < this.scroller.scrollTop) return undefined;
    const r = Math.floor(y / CELL);
    const c = Math.floor(x / CELL);
    return r >= 0 && c >= 0 && r < this.rows.length && c < this.cols.length ? [r, c] : undefined;
  }

  private key(e: KeyboardEvent): void {
    const [r, c] = this.cursor;
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const m = moves[e.key];
    if (m) {
      this.cursor = [clamp(r + m[0], this.rows.length), clamp(c + m[1], this.cols.length)];
      this.reveal();
      this.events.hover(this.rows.length && this.cols.length ? this.describe(...this.cursor) : '');
    } else if (e.key === 'Enter' && this.rows.length && this.cols.length) this.events.cell(this.rows[r]!, this.cols[c]!);
    else return;
    e.preventDefault();
  }

  /** Scrolls the cursor cell into view. */
  private reveal(): void {
    const [r, c] = this.cursor;
    const w = this.scroller.clientWidth - ROW_HEAD;
    const hgt = this.scroller.clientHeight - COL_HEAD;
    if (c * CELL < this.scroller.scrollLeft) this.scroller.scrollLeft = c * CELL;
    else if ((c + 1) * CELL > this.scroller.scrollLeft + w) this.scroller.scrollLeft = (c + 1) * CELL - w;
    if (r * CELL < this.scroller.scrollTop) this.scroller.scrollTop = r * CELL;
    else if ((r + 1) * CELL > this.scroller.scrollTop + hgt) this.scroller.scrollTop = (r + 1) * CELL - hgt;
    this.draw();
  }

  draw(): void {
    const reach = this.reach;
    if (!reach) return;
    const ratio = window.devicePixelRatio || 1;
    const width = this.scroller.clientWidth;
    const height = this.scroller.clientHeight;
    if (this.canvas.width !== Math.round(width * ratio) || this.canvas.height !== Math.round(height * ratio)) {
      this.canvas.width = Math.round(width * ratio);
      this.canvas.height = Math.round(height * ratio);
      this.canvas.style.width = `${width}px`;
      this.canvas.style.height = `${height}px`;
    }
    const g = this.canvas.getContext('2d')!;
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    const colors = {
      bg: cssVar('--bg'),
      fg: cssVar('--fg'),
      muted: cssVar('--muted'),
      allowed: cssVar('--allowed'),
      denied: cssVar('--cell-denied'),
      grid: cssVar('--grid'),
      accent: cssVar('--accent'),
    };
    g.fillStyle = colors.bg;
    g.fillRect(0, 0, width, height);
    const sx = this.scroller.scrollLeft;
    const sy = this.scroller.scrollTop;
    const r0 = Math.floor(sy / CELL);
    const c0 = Math.floor(sx / CELL);
    const r1 = Math.min(this.rows.length, r0 + Math.ceil((height - COL_HEAD) / CELL) + 1);
    const c1 = Math.min(this.cols.length, c0 + Math.ceil((width - ROW_HEAD) / CELL) + 1);
    const ox = ROW_HEAD - (sx % CELL);
    const oy = COL_HEAD - (sy % CELL);
    // Cells.
    g.save();
    g.beginPath();
    g.rect(ROW_HEAD, COL_HEAD, width - ROW_HEAD, height - COL_HEAD);
    g.clip();
    for (let r = r0; r < r1; r++) {
      const s = this.rows[r]!;
      for (let c = c0; c < c1; c++) {
        const d = this.cols[c]!;
        g.fillStyle = s === d ? colors.muted : reach.allowed(s, d) ? colors.allowed : colors.denied;
        g.fillRect(ox + (c - c0) * CELL, oy + (r - r0) * CELL, CELL - 1, CELL - 1);
      }
    }
    // Namespace boundaries.
    g.strokeStyle = colors.fg;
    g.lineWidth = 1;
    for (let r = Math.max(1, r0); r < r1; r++) {
      if (this.pods[this.rows[r]!]!.namespace !== this.pods[this.rows[r - 1]!]!.namespace) hline(g, ROW_HEAD, width, oy + (r - r0) * CELL - 0.5);
    }
    for (let c = Math.max(1, c0); c < c1; c++) {
      if (this.pods[this.cols[c]!]!.namespace !== this.pods[this.cols[c - 1]!]!.namespace) vline(g, COL_HEAD, height, ox + (c - c0) * CELL - 0.5);
    }
    const [cr, cc] = this.cursor;
    if (cr >= r0 && cr < r1 && cc >= c0 && cc < c1) {
      g.strokeStyle = colors.accent;
      g.lineWidth = 2;
      g.strokeRect(ox + (cc - c0) * CELL - 1, oy + (cr - r0) * CELL - 1, CELL + 1, CELL + 1);
    }
    g.restore();
    // Row heads: namespace/name, clipped.
    g.font = '11px system-ui, sans-serif';
    g.textBaseline = 'middle';
    g.save();
    g.beginPath();
    g.rect(0, COL_HEAD, ROW_HEAD, height - COL_HEAD);
    g.clip();
    for (let r = r0; r < r1; r++) {
      const p = this.pods[this.rows[r]!]!;
      g.fillStyle = r === cr ? colors.accent : colors.fg;
      g.fillText(fit(g, `${p.namespace}/${p.name}`, ROW_HEAD - 8), 4, oy + (r - r0) * CELL + CELL / 2);
    }
    g.restore();
    // Column heads, rotated.
    g.save();
    g.beginPath();
    g.rect(ROW_HEAD, 0, width - ROW_HEAD, COL_HEAD);
    g.clip();
    for (let c = c0; c < c1; c++) {
      const p = this.pods[this.cols[c]!]!;
      g.save();
      g.translate(ox + (c - c0) * CELL + CELL / 2, COL_HEAD - 4);
      g.rotate(-Math.PI / 3);
      g.fillStyle = c === cc ? colors.accent : colors.fg;
      g.fillText(fit(g, `${p.namespace}/${p.name}`, COL_HEAD / Math.sin(Math.PI / 3) - 10), 0, 0);
      g.restore();
    }
    g.restore();
    g.fillStyle = colors.muted;
    g.fillText('from ↓  to →', 4, COL_HEAD - 10);
  }
}

function filter(pods: readonly PodView[], text: string): number[] {
  const terms = text.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const out: number[] = [];
  pods.forEach((p, i) => {
    if (terms.length === 0) return out.push(i);
    const hay = `${p.namespace}/${p.name} ${Object.entries(p.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`.toLowerCase();
    if (terms.every((t) => hay.includes(t))) out.push(i);
  });
  return out;
}

function clamp(v: number, n: number): number {
  return Math.max(0, Math.min(n - 1, v));
}

function hline(g: CanvasRenderingContext2D, x0: number, x1: number, y: number): void {
  g.beginPath();
  g.moveTo(x0, y);
  g.lineTo(x1, y);
  g.stroke();
}

function vline(g: CanvasRenderingContext2D, y0: number, y1: number, x: number): void {
  g.beginPath();
  g.moveTo(x, y0);
  g.lineTo(x, y1);
  g.stroke();
}

/** The text, shortened with an ellipsis to fit `width` pixels. */
function fit(g: CanvasRenderingContext2D, text: string, width: number): string {
  if (g.measureText(text).width <= width) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (g.measureText(`${text.slice(0, mid)}…`).width <= width) lo = mid;
    else hi = mid - 1;
  }
  return `${text.slice(0, lo)}…`;
}
