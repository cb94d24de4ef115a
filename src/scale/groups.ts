/**
 * Questions about groups of pods, for `check --from/--to` naming a workload or a label selector and
 * for `matrix --summary`: answering for every pair of the two groups at once (which pods a group holds
 * is the CLI's reading of what the user typed, src/kubectl).
 *
 * Design choice: a group question is answered per pair of classes (pods of a class get the same
 * verdicts), so two Deployments of 50 replicas each cost one verdict, not 2,500; counts are of pod
 * pairs, self pairs excluded, like `allowedPairs`.
 */
import type { Cluster, PodInfo, Protocol } from '../model/index.js';
import type { ClassAnalysis } from './analysis.js';
import type { ScaleProbe } from './types.js';

/** `netpol matrix --summary -o json`: `{"pods": N, "probes": [{"port": 80, "protocol": "TCP", "allowedPairs": M}]}`. */
export interface MatrixSummary {
  readonly pods: number;
  readonly probes: readonly { readonly port: number | string; readonly protocol: Protocol; readonly allowedPairs: number }[];
}

/**
 * The summary for every pod the engine holds. To summarise a subset (say `-n prod`), build the engine
 * from the cluster with only those pods (and every namespace and policy): a verdict between two pods
 * depends on them and on the policies, never on the other pods, so the counts are exact.
 */
export function matrixSummary(engine: ClassAnalysis, probes: readonly ScaleProbe[]): MatrixSummary {
  return {
    pods: engine.stats.pods,
    probes: probes.map((p) => ({ port: p.port, protocol: p.protocol, allowedPairs: engine.allowedPairs(p) })),
  };
}

/** The cluster restricted to some pods (namespaces and policies kept), for summaries of a subset. */
export function withPods(cluster: Cluster, keep: (pod: PodInfo) => boolean): Cluster {
  return { namespaces: cluster.namespaces, pods: cluster.pods.filter(keep), policies: cluster.policies };
}

export interface GroupAnswer {
  readonly sources: number;
  readonly destinations: number;
  /** Ordered pairs (source, destination) of distinct pods. */
  readonly pairs: number;
  readonly allowed: number;
  /** One allowed and one denied pair, when there are any (for explanations with `Engine.evaluate`). */
  readonly allowedExample?: readonly [PodInfo, PodInfo];
  readonly deniedExample?: readonly [PodInfo, PodInfo];
}

/** Beyond this many pairs of classes a group question is refused (it would be a matrix). */
export const MAX_GROUP_CLASS_PAIRS = 5_000_000;

/**
 * Every pair (s, d) of the two groups, s != d: how many may connect on the probe (without a port: on
 * some port of the protocol). Undefined when the groups hold more than {@link MAX_GROUP_CLASS_PAIRS}
 * pairs of distinct classes.
 */
export function groupReachability(
  engine: ClassAnalysis,
  sources: readonly PodInfo[],
  destinations: readonly PodInfo[],
  probe: { readonly protocol: Protocol; readonly port?: number | string },
): GroupAnswer | undefined {
  const verdict = (s: PodInfo, d: PodInfo): boolean =>
    probe.port === undefined ? !engine.admittedPorts(s, d, probe.protocol).isEmpty() : engine.allows(s, d, { port: probe.port, protocol: probe.protocol });
  const byClass = (pods: readonly PodInfo[]): Map<number, PodInfo[]> => {
    const m = new Map<number, PodInfo[]>();
    for (const p of new Set(pods)) {
      const c = engine.classOf(p);
      if (c === undefined) throw new Error(`pod ${p.namespace}/${p.name} is not loaded in this engine`);
      const list = m.get(c);
      if (list) list.push(p);
      else m.set(c, [p]);
    }
    return m;
  };
  const src = byClass(sources);
  const dst = byClass(destinations);
  if (src.size * dst.size > MAX_GROUP_CLASS_PAIRS) return undefined;
  let pairs = 0;
  let allowed = 0;
  let allowedExample: [PodInfo, PodInfo] | undefined;
  let deniedExample: [PodInfo, PodInfo] | undefined;
  for (const [, sp] of src) {
    for (const [, dp] of dst) {
      // Pods in both groups (same class on both sides) do not pair with themselves.
      const dset = new Set(dp);
      const overlap = sp.filter((p) => dset.has(p)).length;
      const n = sp.length * dp.length - overlap;
      if (n === 0) continue;
      pairs += n;
      const s = sp[0]!;
      const d = dp.find((p) => p !== s) ?? dp[0]!;
      const other = s === d ? sp.find((p) => p !== d) : s;
      if (other === undefined) continue;
      if (verdict(other, d)) {
        allowed += n;
        allowedExample ??= [other, d];
      } else {
        deniedExample ??= [other, d];
      }
    }
  }
  return {
    sources: new Set(sources).size,
    destinations: new Set(destinations).size,
    pairs,
    allowed,
    ...(allowedExample ? { allowedExample } : {}),
    ...(deniedExample ? { deniedExample } : {}),
  };
}
