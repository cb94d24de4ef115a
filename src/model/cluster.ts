/**
 * The loaded cluster: what every analysis consumes. The loaders build it from manifests (src/load) and
 * from a live cluster (src/kube); the engine, the nftables compiler and the page of `netpol serve` read it
 * and never the raw manifests.
 */
import type { ObjectSource } from '../diag/index.js';
import type { ClusterScopedPolicy, NetworkPolicy } from './k8s.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

export type Labels = Readonly<Record<string, string>>;

export interface NamespaceInfo {
  readonly name: string;
  /** Includes the automatic `kubernetes.io/metadata.name` label. */
  readonly labels: Labels;
  /** True when no manifest declared the namespace and it was created because an object refers to it. */
  readonly implicit: boolean;
  readonly source?: ObjectSource;
}

export interface NamedPort {
  readonly name?: string;
  readonly port: number;
  readonly protocol: Protocol;
}

export interface WorkloadRef {
  /** `Deployment`, `StatefulSet`, ... */
  readonly kind: string;
  readonly name: string;
  /** Number of replicas the workload declares, when it says (the pod stands for all of them). */
  readonly replicas?: number;
}

export interface PodInfo {
  readonly namespace: string;
  /** For a workload, the workload's name (one pod stands for all replicas). */
  readonly name: string;
  readonly labels: Labels;
  /** Canonical textual IPs from `status.podIP` / `status.podIPs` (v4 and/or v6); empty when unknown. */
  readonly ips: readonly string[];
  /** Container ports of all containers (init containers included), protocol defaulted to TCP. */
  readonly ports: readonly NamedPort[];
  readonly nodeName?: string;
  readonly hostNetwork?: boolean;
  /** Set when the pod comes from a workload's pod template rather than a Pod manifest. */
  readonly workload?: WorkloadRef;
  readonly source?: ObjectSource;
}

export interface PolicyInfo {
  readonly namespace: string;
  readonly name: string;
  /** The decoded object, spelled as in the API. */
  readonly policy: NetworkPolicy;
  readonly source?: ObjectSource;
}

/** A ClusterNetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy (cluster-scoped: no namespace). */
export interface ClusterPolicyInfo {
  readonly kind: ClusterScopedPolicy['kind'];
  readonly name: string;
  /** The object as read, spelled as in the API; meaningful once src/validate has accepted it. */
  readonly policy: ClusterScopedPolicy;
  readonly source?: ObjectSource;
}

/** A Service port: what clients connect to (`port`) and the pods' port it forwards to (`targetPort`). */
export interface ServicePortInfo {
  readonly name?: string;
  readonly protocol: Protocol;
  readonly port: number;
  /** A number, or a name looked up in each selected pod's container ports; `port` when the manifest omits it. */
  readonly targetPort: number | string;
}

/** A Service: it stands for the pods its selector picks in its namespace. */
export interface ServiceInfo {
  readonly namespace: string;
  readonly name: string;
  /** `spec.selector`; undefined when the Service has none (its endpoints are managed by hand, or ExternalName). */
  readonly selector?: Labels;
  readonly type?: string;
  readonly ports: readonly ServicePortInfo[];
  readonly source?: ObjectSource;
}

export interface NodeInfo {
  readonly name: string;
  readonly labels: Labels;
  /** Canonical textual IPs of `status.addresses` (InternalIP, ExternalIP, ...). */
  readonly addresses: readonly string[];
  readonly source?: ObjectSource;
}

export interface Cluster {
  readonly namespaces: ReadonlyMap<string, NamespaceInfo>;
  readonly pods: readonly PodInfo[];
  readonly policies: readonly PolicyInfo[];
  /**
   * Cluster-scoped policies (policy.networking.k8s.io), in input order. Absent when the input has none,
   * so clusters of NetworkPolicies only look exactly as they always did.
   */
  readonly clusterPolicies?: readonly ClusterPolicyInfo[];
  /** Node objects of the input (for `nodes` peers). Absent when the input has none. */
  readonly nodes?: readonly NodeInfo[];
  /** Services of the input (for `svc/NAME` on the command line; policies never name them). Absent when none. */
  readonly services?: readonly ServiceInfo[];
}

/** The kind/name a cluster-scoped policy is known by in output: `AdminNetworkPolicy/tenants`. */
export function clusterPolicyKey(p: { kind: string; name: string }): string {
  return `${p.kind}/${p.name}`;
}

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/**
 * "The Kubernetes control plane sets an immutable label kubernetes.io/metadata.name on all namespaces;
 * the value of the label is the namespace name." (Namespaces concept page.) The one home of that rule:
 * the loaders add it to declared namespaces, and a namespace known by name only has it alone.
 */
export function automaticLabels(namespace: string): Labels {
  return { [NAMESPACE_NAME_LABEL]: namespace };
}

export function podKey(p: { namespace: string; name: string }): string {
  return `${p.namespace}/${p.name}`;
}

/** The kinds of the cluster-scoped policies (policy.networking.k8s.io): the one list every reader uses. */
export function isClusterPolicyKind(kind: string): kind is ClusterScopedPolicy['kind'] {
  return kind === 'ClusterNetworkPolicy' || kind === 'AdminNetworkPolicy' || kind === 'BaselineAdminNetworkPolicy';
}
