/**
 * One consistent-enough read of a live cluster: Namespaces, Pods, NetworkPolicies and the cluster-scoped
 * policies (with Nodes when there are any), paginated, into
 * the Cluster model, with the same diagnostics (and the same validation) as file input.
 *
 * Scope follows kubectl: all namespaces, or one. In one namespace the namespace object itself is read
 * for its labels; an account that may not get it is warned about and the namespace is assumed to carry
 * only its automatic name label (namespaceSelectors may then differ from the cluster), never refused.
 * A list that is refused (Forbidden) or cannot be made is an error: the analysis would be wrong.
 */
import { validateCluster } from '../validate/index.js';
import { about, type Diagnostic } from '../diag/index.js';
import { automaticLabels, NAMESPACE_NAME_LABEL, type Cluster, type ClusterPolicyInfo, type NamespaceInfo, type NodeInfo, type PodInfo, type PolicyInfo, type ServiceInfo } from '../model/index.js';
import { CLUSTER_POLICY_RESOURCES, KubeApiError, NAMESPACES, NETWORK_POLICIES, NODES, PODS, resourcePath, SERVICES, type KubeClient, type Resource } from './client.js';
import { toClusterPolicy, toNamespace, toNodeInfo, toPod, toPolicy, toService, UNFINISHED_PODS, type Converted } from './convert.js';

export interface ReadOptions {
  /** One namespace, or undefined for all of them. */
  readonly namespace?: string;
  /** Items per page (default 500). */
  readonly pageSize?: number;
  readonly progress?: (what: string, done: number, total: number) => void;
  /** Read Services too (for `svc/NAME` on the command line); analysis does not need them. */
  readonly services?: boolean;
}

export interface ClusterRead {
  readonly cluster: Cluster;
  readonly diagnostics: Diagnostic[];
}

export async function readCluster(client: KubeClient, opts: ReadOptions = {}): Promise<ClusterRead> {
  const ns = opts.namespace;
  const limit = opts.pageSize ?? 500;
  const diagnostics: Diagnostic[] = [];
  const counts = { pods: [0, 0], networkpolicies: [0, 0] };
  const show = (): void => {
    const done = counts.pods[0]! + counts.networkpolicies[0]!;
    opts.progress?.('reading pods and policies from the cluster', done, Math.max(done, counts.pods[1]! + counts.networkpolicies[1]!));
  };
  const onPage = (kind: keyof typeof counts) => (done: number, total: number | undefined) => {
    counts[kind] = [done, total ?? done];
    show();
  };
  // Items are converted as their page arrives: no raw page is kept beyond the current one. A list
  // that starts over (expired continue token) starts its kind's results over.
  const collect = <T>(convert: (o: unknown) => Converted<T>) => {
    const c = { values: [] as T[], diagnostics: [] as Diagnostic[] };
    return {
      c,
      each: (o: unknown): void => {
        const r = convert(o);
        for (const d of r.diagnostics) c.diagnostics.push(d);
        if (r.value !== undefined) c.values.push(r.value);
      },
      onRestart: (): void => {
        c.values = [];
        c.diagnostics = [];
      },
    };
  };
  const nss = collect(toNamespace);
  const pods = collect(toPod);
  const policies = collect(toPolicy);
  // All three at once; when several fail, the first in this order is reported, so the message is stable.
  const settled = await Promise.allSettled([
    ns === undefined ? client.listEach(NAMESPACES, { limit, onRestart: nss.onRestart }, nss.each) : getNamespace(client, ns, diagnostics).then((items) => items.forEach(nss.each)),
    client.listEach(PODS, { limit, fieldSelector: UNFINISHED_PODS, onPage: onPage('pods'), onRestart: pods.onRestart, ...(ns !== undefined ? { namespace: ns } : {}) }, pods.each),
    client.listEach(NETWORK_POLICIES, { limit, onPage: onPage('networkpolicies'), onRestart: policies.onRestart, ...(ns !== undefined ? { namespace: ns } : {}) }, policies.each),
  ] as const);
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
  diagnostics.push(...nss.c.diagnostics, ...pods.c.diagnostics, ...policies.c.diagnostics);
  const { clusterPolicies, nodes } = await readClusterScoped(client, limit, diagnostics);
  const services = opts.services ? await readServices(client, ns, limit, diagnostics) : [];
  const cluster = assemble(nss.c.values, pods.c.values, policies.c.values, clusterPolicies, nodes, services);
  diagnostics.push(...validateCluster(cluster));
  return { cluster, diagnostics };
}

/**
 * ClusterNetworkPolicies, AdminNetworkPolicies, BaselineAdminNetworkPolicies and (when there are any of
 * those) Nodes. A kind whose CRD is not installed (404) has no objects. A list the account may not make
 * (403) is a warning naming what is left out, never a silent omission.
 */
async function readClusterScoped(client: KubeClient, limit: number, diagnostics: Diagnostic[]): Promise<{ clusterPolicies: ClusterPolicyInfo[]; nodes: NodeInfo[] }> {
  const optional = async (r: Resource, what: string): Promise<unknown[]> => {
    try {
      return (await client.list(r, { limit })).items;
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return [];
      if (!(e instanceof KubeApiError) || e.status !== 403) throw e;
      diagnostics.push({ severity: 'warning', code: 'ClusterScopedUnreadable', message: `your account cannot list ${r.plural}: ${what} are left out of the analysis` });
      return [];
    }
  };
  const clusterPolicies: ClusterPolicyInfo[] = [];
  const lists = await Promise.all(CLUSTER_POLICY_RESOURCES.map((r) => optional(r, `${r.kind}s, if the cluster has any,`)));
  lists.forEach((items, k) => {
    const r = CLUSTER_POLICY_RESOURCES[k]!;
    for (const o of items) {
      const c = toClusterPolicy(r.kind, r.prefix.replace('/apis/', ''), o);
      diagnostics.push(...c.diagnostics);
      if (c.value) clusterPolicies.push(c.value);
    }
  });
  const nodes: NodeInfo[] = [];
  if (clusterPolicies.length > 0) {
    for (const o of await optional(NODES, 'node addresses (for nodes peers)')) {
      const c = toNodeInfo(o);
      diagnostics.push(...c.diagnostics);
      if (c.value) nodes.push(c.value);
    }
  }
  return { clusterPolicies, nodes };
}

/**
 * Services of the namespace (or all). Only a command line naming one asks for them, and an account
 * that may not list them is told so: `svc/NAME` then has nothing to resolve against.
 */
async function readServices(client: KubeClient, namespace: string | undefined, limit: number, diagnostics: Diagnostic[]): Promise<ServiceInfo[]> {
  const services: ServiceInfo[] = [];
  try {
    await client.listEach(SERVICES, { limit, ...(namespace !== undefined ? { namespace } : {}) }, (o) => {
      const c = toService(o);
      diagnostics.push(...c.diagnostics);
      if (c.value) services.push(c.value);
    });
  } catch (e) {
    if (!(e instanceof KubeApiError) || e.status !== 403) throw e;
    diagnostics.push({
      severity: 'warning',
      code: 'ServicesUnreadable',
      message: `your account cannot list services${namespace !== undefined ? ` in namespace ${namespace}` : ''}: Services named on the command line cannot be resolved`,
    });
  }
  return services;
}

/** The Cluster of these objects; a namespace some object uses but the read did not return is implicit. */
export function assemble(
  namespaces: Iterable<NamespaceInfo>,
  pods: readonly PodInfo[],
  policies: readonly PolicyInfo[],
  clusterPolicies: readonly ClusterPolicyInfo[] = [],
  nodes: readonly NodeInfo[] = [],
  services: readonly ServiceInfo[] = [],
): Cluster {
  const all = new Map<string, NamespaceInfo>();
  for (const n of namespaces) all.set(n.name, n);
  for (const o of [...pods, ...policies]) {
    if (!all.has(o.namespace)) all.set(o.namespace, { name: o.namespace, labels: automaticLabels(o.namespace), implicit: true });
  }
  const sorted = new Map([...all.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  // As the loader: present only when there are any.
  return {
    namespaces: sorted,
    pods,
    policies,
    ...(clusterPolicies.length > 0 ? { clusterPolicies } : {}),
    ...(nodes.length > 0 ? { nodes } : {}),
    ...(services.length > 0 ? { services } : {}),
  };
}

async function getNamespace(client: KubeClient, name: string, diagnostics: Diagnostic[]): Promise<unknown[]> {
  try {
    return [await client.request('GET', resourcePath(NAMESPACES, undefined, name), { verb: 'get', resource: NAMESPACES, name })];
  } catch (e) {
    if (!(e instanceof KubeApiError) || (e.status !== 403 && e.status !== 404)) throw e;
    const warning: Diagnostic = {
      severity: 'warning',
      code: e.status === 403 ? 'NamespaceUnreadable' : 'NamespaceNotFound',
      message:
        e.status === 403
          ? `your account cannot get namespace ${name}; assuming it has only the label ${NAMESPACE_NAME_LABEL}=${name}: namespaceSelector results may differ from the cluster`
          : `namespace ${name} does not exist`,
    };
    diagnostics.push(about(warning, { kind: 'Namespace', name }));
    return [];
  }
}
