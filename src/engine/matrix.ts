/**
 * Reachability between every ordered pair of pods, per probe (port, protocol). This is the dense form,
 * fine for the pod counts a manifest directory holds; the JSON shape is a public contract:
 * `{"pods": ["ns/name", ...], "probes": [{"port": 80, "protocol": "TCP", "allowed": [[...]]}]}` where
 * `allowed[i][j]` says whether pods[i] can open a connection to pods[j].
 */
import { podKey, type PodInfo, type Protocol } from '../model/cluster.js';
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
      allowed: endpoints.map((source) =>
        endpoints.map((destination) => engine.allows({ source, destination, protocol: probe.protocol, port: probe.port })),
      ),
    })),
  };
}
