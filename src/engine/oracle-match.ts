/**
 * The oracles' naive matching, spelled out from the API references: labels, namespaces, addresses in
 * CIDRs and named ports. Shared by oracle.ts (NetworkPolicy) and oracle-tiers.ts (cluster-scoped
 * policies), and by nothing in the engine: the oracles stay independent of the engine, not of each other.
 */
import { cidrContains, parseCIDR, parseIP } from '../ip/index.js';
import type { Cluster, Labels, LabelSelector, PodInfo, Protocol } from '../model/index.js';
import { NAMESPACE_NAME_LABEL } from '../model/index.js';
import type { Endpoint } from './types.js';

export function selectorMatches(sel: LabelSelector, labels: Labels): boolean {
  // "matchLabels is a map of {key,value} pairs ... The requirements are ANDed."
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    if (labels[k] !== v) return false;
  }
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const value = labels[e.key];
    const values = e.values ?? [];
    if (e.operator === 'In' && !(has && values.includes(value as string))) return false;
    if (e.operator === 'NotIn' && has && values.includes(value as string)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator)) return false;
  }
  return true;
}

/** "The Kubernetes control plane sets an immutable label kubernetes.io/metadata.name on all namespaces." */
export function nsLabels(cluster: Cluster, ns: string): Labels {
  return cluster.namespaces.get(ns)?.labels ?? { [NAMESPACE_NAME_LABEL]: ns };
}

/** The pod is in a namespace `namespaces` selects and (when given) matches `pods`. */
export function podInNamespaces(cluster: Cluster, pod: PodInfo, namespaces: LabelSelector, pods: LabelSelector | undefined): boolean {
  if (!selectorMatches(namespaces, nsLabels(cluster, pod.namespace))) return false;
  return pods === undefined || selectorMatches(pods, pod.labels);
}

/** The endpoint's addresses as text: a pod's IPs, an external address; none for a domain name (unknown). */
export function endpointAddresses(e: Endpoint): string[] {
  if (e.kind === 'pod') return [...e.pod.ips];
  if (e.kind === 'external') return [e.text];
  return [];
}

/** Some address of the endpoint is in one of `cidrs` and in none of `except`. */
export function inCIDRs(e: Endpoint, cidrs: readonly string[], except: readonly string[] = []): boolean {
  const within = (ip: NonNullable<ReturnType<typeof parseIP>>, list: readonly string[]) =>
    list.some((text) => {
      const c = parseCIDR(text);
      return c !== undefined && cidrContains(c, ip);
    });
  return endpointAddresses(e).some((t) => {
    const ip = parseIP(t);
    return ip !== undefined && within(ip, cidrs) && !within(ip, except);
  });
}

/** A port name of the destination pod, as a number: "name and protocol must both match". */
export function destinationPort(destination: Endpoint, name: string, protocol: Protocol): number | undefined {
  return destination.kind === 'pod' ? destination.pod.ports.find((p) => p.name === name && p.protocol === protocol)?.port : undefined;
}

/** The port asked about, as a number on the destination (a name resolves against its container ports). */
export function askedPort(destination: Endpoint, protocol: Protocol, port: number | string): number | undefined {
  return typeof port === 'number' ? port : destinationPort(destination, port, protocol);
}
