/** The page's side of the JSON API (docs/api.md). Types of verdicts are the engine's own. */
import type { Verdict } from '../engine/types.js';
import type { Diagnostic } from '../diag/diagnostic.js';
import type { ExternalBlock } from '../server/external.js';
import type { PolicyDocument } from '../server/documents.js';
import type { DropsView } from '../server/drops-view.js';

export type { Verdict, Diagnostic, ExternalBlock, PolicyDocument };

export interface Probe {
  readonly port: number | string;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface PodView {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ips: readonly string[];
  readonly workload?: { readonly kind: string; readonly name: string; readonly replicas?: number };
  readonly ingressIsolatedBy: readonly string[];
  readonly egressIsolatedBy: readonly string[];
  /** With cluster-scoped policies: those selecting the pod (`Kind/name`), per direction. */
  readonly ingressTiers?: readonly string[];
  readonly egressTiers?: readonly string[];
}

export interface ClusterView {
  readonly source: string;
  /** The snapshot's number (0 for files; a live cluster counts its changes). */
  readonly version: number;
  readonly analysed: boolean;
  readonly namespaces: readonly { readonly name: string; readonly labels: Readonly<Record<string, string>>; readonly implicit: boolean }[];
  readonly pods: readonly PodView[];
  readonly policies: readonly { readonly namespace: string; readonly name: string; readonly file?: string; readonly line?: number }[];
  readonly diagnostics: readonly Diagnostic[];
}

export interface ReachJson {
  readonly port: number | string;
  readonly protocol: string;
  readonly words: number;
  readonly positions: readonly number[];
  readonly incoming: string;
}

/** `/api/v1/external`: the address blocks the policies name, with the relation positions on each side. */
export interface ExternalJson {
  readonly port: number | string;
  readonly protocol: string;
  readonly blocks: readonly ExternalBlock[];
}

export interface Edit {
  readonly document: string | null;
  readonly text: string;
}

export interface PairChange {
  readonly from: string;
  readonly to: string;
  readonly change: 'added' | 'removed';
  readonly causes: readonly string[];
}

export interface ProbeDiff {
  readonly port: number | string;
  readonly protocol: string;
  readonly tooLarge?: boolean;
  readonly added: number;
  readonly removed: number;
  readonly changes: readonly PairChange[];
  readonly truncated: boolean;
  readonly reach: ReachJson;
  /** When asked for (`external` in the request). */
  readonly external?: readonly ExternalBlock[];
}

export interface AnalyzeResult {
  readonly diagnostics: readonly Diagnostic[];
  readonly invalid: boolean;
  readonly policies: { readonly added: readonly string[]; readonly changed: readonly string[]; readonly removed: readonly string[] };
  readonly probes?: readonly ProbeDiff[];
}

export interface GroupAnswer {
  readonly allowed: boolean;
  readonly from: string;
  readonly to: string;
  readonly protocol: string;
  readonly port: number | string | null;
  readonly pairs: number;
  readonly allowedPairs: number;
  readonly allowedExample?: Verdict;
  readonly deniedExample?: Verdict;
}

export class ApiError extends Error {}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const r = await fetch(path, init);
  const body = (await r.json()) as T & { error?: string };
  if (!r.ok) throw new ApiError(body.error ?? `${r.status}`);
  return body;
}

function post<T>(path: string, body: unknown): Promise<T> {
  return call<T>(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

export const api = {
  cluster: () => call<ClusterView>('/api/v1/cluster'),
  reach: (p: Probe) => call<ReachJson>(`/api/v1/reach?port=${encodeURIComponent(String(p.port))}&protocol=${p.protocol}`),
  external: (p: Probe, namespaces: readonly string[] | 'all') =>
    call<ExternalJson>(
      `/api/v1/external?port=${encodeURIComponent(String(p.port))}&protocol=${p.protocol}${namespaces === 'all' ? '' : namespaces.map((n) => `&namespace=${encodeURIComponent(n)}`).join('')}`,
    ),
  documents: () => call<{ documents: PolicyDocument[] }>('/api/v1/documents'),
  drops: () => call<DropsView>('/api/v1/drops'),
  check: (q: { from: string; to: string; port?: string; protocol: string }, edits: readonly Edit[]) => post<Verdict | GroupAnswer>('/api/v1/check', { ...q, edits }),
  analyze: (edits: readonly Edit[], probe: Probe, external: readonly string[] | 'all' | undefined) =>
    post<AnalyzeResult>('/api/v1/analyze', { edits, probes: [probe], ...(external !== undefined ? { external } : {}) }),
};

/** The relation, decoded: may pod i connect to pod j. */
export class Reach {
  private readonly words: number;
  private readonly pos: Int32Array;
  private readonly rows: Int32Array;

  constructor(json: ReachJson) {
    this.words = json.words;
    this.pos = Int32Array.from(json.positions);
    const bin = atob(json.incoming);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    this.rows = new Int32Array(bytes.buffer, 0, bytes.length >> 2);
  }

  allowed(i: number, j: number): boolean {
    if (i === j) return true;
    const s = this.pos[i]!;
    return ((this.rows[this.pos[j]! * this.words + (s >>> 5)]! >>> (s & 31)) & 1) === 1;
  }

  /** The pod's position in the relation (pods at one position get the same verdicts). */
  position(i: number): number {
    return this.pos[i]!;
  }

  /** Same class of pods: same verdicts from and to everyone. */
  samePosition(i: number, j: number): boolean {
    return this.pos[i] === this.pos[j];
  }
}
