/**
 * Writing a Cluster model into an API server: Namespaces, Pods (assigned to a node, with their
 * addresses and phase set through the status subresource, as a kubelet would) and NetworkPolicies.
 * For tests, benchmarks and the lab's control plane, where no kubelet or controller runs; netpol's
 * analysis commands never write to a cluster.
 *
 * Pods are written in parallel on kept-alive connections (`concurrency`, default 32). Without a
 * controller manager namespaces cannot be deleted; `clearCluster` deletes pods (grace period 0: no
 * kubelet will confirm) and policies so one API server can hold one scenario after another.
 */
import type { Cluster, PodInfo, PolicyInfo } from '../model/index.js';
import { NAMESPACE_NAME_LABEL } from '../model/index.js';
import { KubeApiError, NAMESPACES, NETWORK_POLICIES, PODS, resourcePath, type KubeClient } from './client.js';

export interface ApplyOptions {
  /** `spec.nodeName` of pods that do not say (default `node-1`). */
  readonly nodeName?: string;
  readonly concurrency?: number;
  readonly onProgress?: (done: number, total: number) => void;
  /** Leave objects that already exist as they are (resuming an interrupted apply). */
  readonly skipExisting?: boolean;
}

/** Creates (or relabels) every namespace, then every pod and policy. */
export async function applyCluster(client: KubeClient, cluster: Cluster, opts: ApplyOptions = {}): Promise<void> {
  const width = opts.concurrency ?? 32;
  const namespaces = [...cluster.namespaces.values()].map((n) => () => ensureNamespace(client, n.name, Object.fromEntries(Object.entries(n.labels).filter(([k]) => k !== NAMESPACE_NAME_LABEL))));
  await parallel(namespaces, width, () => {});
  const tolerate = (create: () => Promise<void>) => async (): Promise<void> => {
    try {
      await create();
    } catch (e) {
      if (!opts.skipExisting || !(e instanceof KubeApiError) || e.status !== 409) throw e;
    }
  };
  const jobs = [...cluster.pods.map((p) => tolerate(() => createPod(client, p, opts.nodeName ?? 'node-1'))), ...cluster.policies.map((p) => tolerate(() => createPolicy(client, p)))];
  let done = 0;
  await parallel(jobs, width, () => opts.onProgress?.(++done, jobs.length));
}

export async function ensureNamespace(client: KubeClient, name: string, labels: Record<string, string>): Promise<void> {
  const action = { verb: 'create', resource: NAMESPACES, name } as const;
  try {
    await client.request('POST', resourcePath(NAMESPACES), action, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  } catch (e) {
    if (!(e instanceof KubeApiError) || e.status !== 409) throw e;
    // It exists: make its labels exactly these (a merge patch removes a label set to null).
    const current = await client.request('GET', resourcePath(NAMESPACES, undefined, name), { ...action, verb: 'get' });
    const old = ((current.metadata as Record<string, unknown>).labels ?? {}) as Record<string, string>;
    const patch: Record<string, string | null> = { ...labels };
    for (const k of Object.keys(old)) if (!(k in labels) && k !== NAMESPACE_NAME_LABEL) patch[k] = null;
    await client.request('PATCH', resourcePath(NAMESPACES, undefined, name), { ...action, verb: 'patch' }, { metadata: { labels: patch } }, 'application/merge-patch+json');
  }
}

/** The Pod object for a PodInfo: its labels and container ports in one container, on `nodeName`. */
export function podObject(p: PodInfo, nodeName: string): Record<string, unknown> {
  const ports = p.ports.map((x) => ({ containerPort: x.port, protocol: x.protocol, ...(x.name ? { name: x.name } : {}) }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace: p.namespace, labels: { ...p.labels } },
    spec: {
      nodeName: p.nodeName ?? nodeName,
      ...(p.hostNetwork ? { hostNetwork: true } : {}),
      containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10', ...(ports.length ? { ports } : {}) }],
    },
  };
}

export async function createPod(client: KubeClient, p: PodInfo, nodeName: string): Promise<void> {
  const action = { verb: 'create', resource: PODS, namespace: p.namespace, name: p.name } as const;
  await client.request('POST', resourcePath(PODS, p.namespace), action, podObject(p, nodeName));
  await setPodStatus(client, p.namespace, p.name, p.ips);
}

/** What a kubelet reports: Running, with these addresses (none: still without an address). */
export async function setPodStatus(client: KubeClient, namespace: string, name: string, ips: readonly string[], phase = 'Running'): Promise<void> {
  const status = { phase, ...(ips.length ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}) };
  await client.request('PATCH', `${resourcePath(PODS, namespace, name)}/status`, { verb: 'patch', resource: PODS, namespace, name }, { status }, 'application/merge-patch+json');
}

export async function createPolicy(client: KubeClient, p: PolicyInfo): Promise<void> {
  const { metadata, spec } = p.policy;
  const body = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: p.name, namespace: p.namespace, ...(metadata.labels ? { labels: metadata.labels } : {}) }, spec };
  await client.request('POST', resourcePath(NETWORK_POLICIES, p.namespace), { verb: 'create', resource: NETWORK_POLICIES, namespace: p.namespace, name: p.name }, body);
}

/** Deletes every pod (grace period 0) and NetworkPolicy in these namespaces. */
export async function clearCluster(client: KubeClient, namespaces: Iterable<string>): Promise<void> {
  for (const ns of namespaces) {
    for (const r of [PODS, NETWORK_POLICIES]) {
      await client.request('DELETE', `${resourcePath(r, ns)}?gracePeriodSeconds=0`, { verb: 'delete', resource: r, namespace: ns });
    }
  }
}

async function parallel(jobs: readonly (() => Promise<void>)[], width: number, onDone: () => void): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++] as () => Promise<void>;
      await job();
      onDone();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker));
}
