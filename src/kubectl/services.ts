/**
 * Services as kubectl names them (`svc/db`, `service/db`): a Service stands for the pods its
 * `spec.selector` picks in its own namespace. Pure.
 *
 * "spec.selector: Route service traffic to pods with label keys and values matching this selector. If
 * empty or not present, the service is assumed to have an external process managing its endpoints,
 * which Kubernetes will not modify." (ServiceSpec) Such a Service stands for no pods netpol can know.
 */
import type { Cluster, PodInfo, Protocol, ServiceInfo, ServicePortInfo } from '../model/index.js';

/** kubectl's words for the Service resource. */
export const SERVICE_WORDS: ReadonlySet<string> = new Set(['svc', 'service', 'services']);

export function findService(cluster: Cluster, namespace: string, name: string): ServiceInfo | undefined {
  return cluster.services?.find((s) => s.namespace === namespace && s.name === name);
}

/** The pods the Service selects; undefined when it has no selector (nothing to stand for). */
export function servicePods(cluster: Cluster, service: ServiceInfo): PodInfo[] | undefined {
  const selector = service.selector;
  if (selector === undefined || Object.keys(selector).length === 0) return undefined;
  const wanted = Object.entries(selector);
  return cluster.pods.filter((p) => p.namespace === service.namespace && wanted.every(([k, v]) => p.labels[k] === v));
}

/**
 * The Service port a `--port` names, by its number (`port`) or its name, among the ports of `protocol`;
 * with no `--port`, the only port of that protocol when there is exactly one. Undefined otherwise.
 */
export function servicePort(service: ServiceInfo, protocol: Protocol, port: number | string | undefined): ServicePortInfo | undefined {
  const ofProtocol = service.ports.filter((p) => p.protocol === protocol);
  if (port === undefined) return ofProtocol.length === 1 ? ofProtocol[0] : undefined;
  return ofProtocol.find((p) => (typeof port === 'number' ? p.port === port : p.name === port));
}
