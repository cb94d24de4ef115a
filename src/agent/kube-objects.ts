/**
 * Kubernetes objects as the API server returns them -> the `Cluster` model, one object at a time (a
 * watch event converts only its object). The API server has validated and defaulted what it stores
 * (policyTypes, protocols), so this reads, it does not judge; what it cannot use is left out, and said.
 *
 * One function per kind, all here, so that the cluster reader of the analysis commands and the agent
 * convert alike.
 */
import { formatIP, parseIPSloppy } from '../ip/index.js';
import { NAMESPACE_NAME_LABEL, PROTOCOLS, type NamedPort, type NamespaceInfo, type PodInfo, type PolicyInfo, type Protocol } from '../model/cluster.js';
import type { NetworkPolicy, NetworkPolicySpec } from '../model/k8s.js';
import type { KubeObject } from './kube-client.js';

type Json = Record<string, unknown>;

const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function labelsOf(o: KubeObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(o.metadata?.labels) ?? {})) if (typeof v === 'string') out[k] = v;
  return out;
}

export function namespaceFromKube(o: KubeObject): NamespaceInfo {
  const name = o.metadata?.name ?? '';
  // The control plane sets kubernetes.io/metadata.name itself; it is there already, and is the name.
  return { name, labels: { ...labelsOf(o), [NAMESPACE_NAME_LABEL]: name }, implicit: false };
}

/**
 * A pod, or undefined for a finished one: "Pods with a phase of Succeeded or Failed" hold no IP that
 * policy applies to, and network plugins leave them out (their IP may already belong to a new pod).
 */
export function podFromKube(o: KubeObject): PodInfo | undefined {
  const status = obj(o.status);
  const phase = str(status?.phase);
  if (phase === 'Succeeded' || phase === 'Failed') return undefined;
  const spec = obj(o.spec) ?? {};
  const ips: string[] = [];
  for (const text of [str(status?.podIP), ...arr(status?.podIPs).map((p) => str(obj(p)?.ip))]) {
    const ip = text ? parseIPSloppy(text) : undefined;
    if (!ip) continue;
    const canonical = formatIP(ip);
    if (!ips.includes(canonical)) ips.push(canonical);
  }
  const ports: NamedPort[] = [];
  for (const c of [...arr(spec.containers), ...arr(spec.initContainers)]) {
    for (const p of arr(obj(c)?.ports)) {
      const port = obj(p)?.containerPort;
      const protocol = str(obj(p)?.protocol) ?? 'TCP';
      const name = str(obj(p)?.name);
      if (typeof port !== 'number' || !(PROTOCOLS as readonly string[]).includes(protocol)) continue;
      ports.push({ ...(name ? { name } : {}), port, protocol: protocol as Protocol });
    }
  }
  const nodeName = str(spec.nodeName);
  return {
    namespace: o.metadata?.namespace ?? '',
    name: o.metadata?.name ?? '',
    labels: labelsOf(o),
    ips,
    ports,
    ...(nodeName ? { nodeName } : {}),
    ...(spec.hostNetwork === true ? { hostNetwork: true } : {}),
  };
}

export function policyFromKube(o: KubeObject): PolicyInfo {
  const namespace = o.metadata?.namespace ?? '';
  const name = o.metadata?.name ?? '';
  const policy: NetworkPolicy = {
    apiVersion: o.apiVersion ?? 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace, labels: labelsOf(o) },
    spec: (obj(o.spec) ?? { podSelector: {} }) as unknown as NetworkPolicySpec,
  };
  return { namespace, name, policy };
}
