/**
 * Questions about groups of pods, for `check --from/--to` naming a workload or a label selector and
 * for `matrix --summary`: resolving a group, and answering for every pair of the two groups at once.
 *
 * Design choice: a group question is answered per pair of classes (pods of a class get the same
 * verdicts), so two Deployments of 50 replicas each cost one verdict, not 2,500; counts are of pod
 * pairs, self pairs excluded, like `allowedPairs`.
 */
import type { Cluster, PodInfo, Protocol } from '../model/cluster.js';
import type { LabelSelector, LabelSelectorRequirement } from '../model/k8s.js';
import { compileSelector, matches } from '../selector/index.js';
import type { ScaleEngine } from './engine.js';
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
export function matrixSummary(engine: ScaleEngine, probes: readonly ScaleProbe[]): MatrixSummary {
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
  engine: ScaleEngine,
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

const WORKLOAD_KINDS: Readonly<Record<string, string>> = {
  deployment: 'Deployment',
  deploy: 'Deployment',
  replicaset: 'ReplicaSet',
  rs: 'ReplicaSet',
  statefulset: 'StatefulSet',
  sts: 'StatefulSet',
  daemonset: 'DaemonSet',
  ds: 'DaemonSet',
  job: 'Job',
  cronjob: 'CronJob',
  cj: 'CronJob',
  replicationcontroller: 'ReplicationController',
  rc: 'ReplicationController',
};

/**
 * The pods of a workload `ns/kind/name` (kind as kubectl spells it: `deployment`, `deploy`, `sts`, ...):
 * pods loaded from that workload's manifest, and Pods that look like its replicas as kubectl dumps them
 * (a Deployment's pods are named `<name>-<pod-template-hash>-<suffix>` and carry that hash as a label;
 * a StatefulSet's `<name>-<ordinal>`). Undefined when the text is not of that form or the kind unknown.
 */
export function workloadPods(cluster: Cluster, text: string): PodInfo[] | undefined {
  const parts = text.split('/');
  if (parts.length !== 3) return undefined;
  const [namespace, kindText, name] = parts as [string, string, string];
  const kind = WORKLOAD_KINDS[kindText.toLowerCase()];
  if (kind === undefined || namespace === '' || name === '') return undefined;
  return cluster.pods.filter((p) => {
    if (p.namespace !== namespace) return false;
    if (p.workload) return p.workload.kind === kind && p.workload.name === name;
    if (kind === 'Deployment') {
      const hash = p.labels['pod-template-hash'];
      return hash !== undefined && p.name.startsWith(`${name}-${hash}-`);
    }
    if (kind === 'ReplicaSet') return p.name.startsWith(`${name}-`) && p.name.length - name.length === 6;
    if (kind === 'StatefulSet') return p.name.startsWith(`${name}-`) && /^[0-9]+$/.test(p.name.slice(name.length + 1));
    return false;
  });
}

/**
 * Parses a label selector as kubectl's `-l` reads it: `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
 * `k notin (a,b)`, `k`, `!k`, comma separated (ANDed). Undefined when it does not parse.
 */
export function parseLabelSelector(text: string): LabelSelector | undefined {
  const reqs: LabelSelectorRequirement[] = [];
  const matchLabels: Record<string, string> = {};
  let i = 0;
  const s = text.trim();
  if (s === '') return {};
  const KEY = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?/;
  const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?/;
  const ws = (): void => {
    while (s[i] === ' ') i++;
  };
  for (;;) {
    ws();
    let negated = false;
    if (s[i] === '!') {
      negated = true;
      i++;
      ws();
    }
    const key = KEY.exec(s.slice(i))?.[0];
    if (!key) return undefined;
    i += key.length;
    ws();
    if (negated) {
      reqs.push({ key, operator: 'DoesNotExist' });
    } else if (s.startsWith('!=', i) || s.startsWith('==', i) || s[i] === '=') {
      const op = s.startsWith('!=', i) ? '!=' : s.startsWith('==', i) ? '==' : '=';
      i += op.length;
      ws();
      const value = VALUE.exec(s.slice(i))?.[0] ?? '';
      i += value.length;
      if (op === '!=') reqs.push({ key, operator: 'NotIn', values: [value] });
      else if (Object.hasOwn(matchLabels, key) && matchLabels[key] !== value) reqs.push({ key, operator: 'In', values: [value] });
      else matchLabels[key] = value;
    } else if (/^(in|notin)\s*\(/.test(s.slice(i))) {
      const notin = s.startsWith('notin', i);
      i = s.indexOf('(', i) + 1;
      const close = s.indexOf(')', i);
      if (close < 0) return undefined;
      const values = s
        .slice(i, close)
        .split(',')
        .map((v) => v.trim());
      if (values.some((v) => VALUE.exec(v)?.[0] !== v)) return undefined;
      reqs.push({ key, operator: notin ? 'NotIn' : 'In', values });
      i = close + 1;
    } else {
      reqs.push({ key, operator: 'Exists' });
    }
    ws();
    if (i >= s.length) break;
    if (s[i] !== ',') return undefined;
    i++;
  }
  return {
    ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}),
    ...(reqs.length > 0 ? { matchExpressions: reqs } : {}),
  };
}

/** Pods matching a label selector, in one namespace or (undefined) in all. */
export function podsMatching(cluster: Cluster, namespace: string | undefined, selector: LabelSelector): PodInfo[] {
  const sel = compileSelector(selector);
  return cluster.pods.filter((p) => (namespace === undefined || p.namespace === namespace) && matches(sel, p.labels));
}
