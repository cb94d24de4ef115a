/**
 * Reachability between every ordered pair of pods, per probe (port, protocol). This is the dense form,
 * fine for the pod counts a manifest directory holds; the JSON shape is a public contract:
 * `{"pods": ["ns/name", ...], "probes": [{"port": 80, "protocol": "TCP", "allowed": [[...]]}]}` where
 * `allowed[i][j]` says whether pods[i] can open a connection to pods[j].
 */
import { podKey, type PodInfo, type Protocol } from '../model/index.js';
import { podEndpoint, type Engine } from './engine.js';

export interface Probe {
  readonly port: number | string;
  readonly protocol: Protocol;
}

export interface ProbeResult extends Probe {
  readonly allowed: boolean[][];
}

export interface Reachability {
  readonly pods: string[];
  readonly probes: ProbeResult[];
}

/** Pods in a stable order: by namespace, then name. */
export function sortPods(pods: readonly PodInfo[]): PodInfo[] {
  return [...pods].sort((a, b) => (a.namespace === b.namespace ? cmp(a.name, b.name) : cmp(a.namespace, b.namespace)));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function reachability(engine: Engine, pods: readonly PodInfo[], probes: readonly Probe[]): Reachability {
  const endpoints = pods.map(podEndpoint);
  return {
    pods: pods.map(podKey),
    probes: probes.map((probe) => ({
      port: probe.port,
      protocol: probe.protocol,
      allowed: endpoints.map((source) => endpoints.map((destination) => engine.allows({ source, destination, protocol: probe.protocol, port: probe.port }))),
    })),
  };
}

/**
 * Reachability answered pair by pair by the explaining engine: the matrix for clusters the class-based
 * engine (src/scale) does not analyse, those with cluster-scoped policies. Same questions as the scale
 * engine's matrix methods (no classes: `classOf` is undefined for every pod), at a cost of one verdict per
 * ordered pair and probe, so callers bound the pod count (EXACT_POD_LIMIT).
 */
export const EXACT_POD_LIMIT = 2000;

export class ExactReachability {
  private readonly counts = new Map<string, number>();
  private readonly endpoints: Map<PodInfo, ReturnType<typeof podEndpoint>>;

  constructor(
    readonly engine: Engine,
    readonly pods: readonly PodInfo[] = engine.cluster.pods,
  ) {
    this.endpoints = new Map(pods.map((p) => [p, podEndpoint(p)]));
  }

  get stats(): { readonly pods: number } {
    return { pods: this.pods.length };
  }

  classOf(_pod: PodInfo): number | undefined {
    return undefined;
  }

  allows(source: PodInfo, destination: PodInfo, probe: Probe): boolean {
    if (source === destination) return true;
    return this.engine.allows({
      source: this.endpoints.get(source) ?? podEndpoint(source),
      destination: this.endpoints.get(destination) ?? podEndpoint(destination),
      protocol: probe.protocol,
      port: probe.port,
    });
  }

  /** Ordered pairs of distinct pods allowed on the probe. */
  allowedPairs(probe: Probe): number {
    const key = `${probe.protocol}/${probe.port}`;
    let n = this.counts.get(key);
    if (n === undefined) {
      n = 0;
      for (const s of this.pods) for (const d of this.pods) if (s !== d && this.allows(s, d, probe)) n++;
      this.counts.set(key, n);
    }
    return n;
  }

  /** Allowed pairs per (source namespace, destination namespace), in the scale engine's shape. */
  namespaceCounts(probe: Probe): { namespaces: string[]; pods: number[]; cells: [number, number, number][] } {
    const namespaces = [...this.engine.cluster.namespaces.keys()].sort();
    const index = new Map(namespaces.map((n, i) => [n, i]));
    const pods = namespaces.map((n) => this.pods.filter((p) => p.namespace === n).length);
    const cells = new Map<number, number>();
    const w = namespaces.length;
    for (const s of this.pods) {
      for (const d of this.pods) {
        if (s === d || !this.allows(s, d, probe)) continue;
        const k = index.get(s.namespace)! * w + index.get(d.namespace)!;
        cells.set(k, (cells.get(k) ?? 0) + 1);
      }
    }
    const out: [number, number, number][] = [...cells].map(([k, v]) => [Math.floor(k / w), k % w, v]);
    out.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    return { namespaces, pods, cells: out };
  }
}
