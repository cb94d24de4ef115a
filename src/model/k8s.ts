/**
 * Our own minimal Kubernetes types: just the fields netpol reads, spelled as in the API. Optional fields
 * are `undefined` when absent (or null) in the manifest, so "absent" and "empty list" stay distinct,
 * which NetworkPolicy semantics depend on (`ingress: []` vs no `ingress`).
 */

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface LabelSelectorRequirement {
  key: string;
  /** `In`, `NotIn`, `Exists`, `DoesNotExist` (anything else is a validation error). */
  operator: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type IntOrString = number | string;

export interface NetworkPolicyPort {
  protocol?: string;
  port?: IntOrString;
  endPort?: number;
}

export interface IPBlock {
  cidr: string;
  except?: string[];
}

export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: IPBlock;
}

export interface NetworkPolicyIngressRule {
  ports?: NetworkPolicyPort[];
  from?: NetworkPolicyPeer[];
}

export interface NetworkPolicyEgressRule {
  ports?: NetworkPolicyPort[];
  to?: NetworkPolicyPeer[];
}

export interface NetworkPolicySpec {
  podSelector: LabelSelector;
  ingress?: NetworkPolicyIngressRule[];
  egress?: NetworkPolicyEgressRule[];
  policyTypes?: string[];
}

export interface NetworkPolicy {
  apiVersion: string;
  kind: 'NetworkPolicy';
  metadata: ObjectMeta;
  spec: NetworkPolicySpec;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  /** Defaults to TCP when absent. */
  protocol?: string;
}

export interface Container {
  name: string;
  ports?: ContainerPort[];
}

export interface PodSpec {
  nodeName?: string;
  hostNetwork?: boolean;
  containers: Container[];
  initContainers?: Container[];
}

export interface PodIP {
  ip: string;
}

export interface PodStatus {
  podIP?: string;
  podIPs?: PodIP[];
}

export interface Pod {
  apiVersion: string;
  kind: 'Pod';
  metadata: ObjectMeta;
  spec: PodSpec;
  status?: PodStatus;
}

export interface Namespace {
  apiVersion: string;
  kind: 'Namespace';
  metadata: ObjectMeta;
}

// --- policy.networking.k8s.io: cluster-scoped policies (kubernetes-sigs/network-policy-api) ----------
// ClusterNetworkPolicy (v1alpha2) and AdminNetworkPolicy / BaselineAdminNetworkPolicy (v1alpha1), the
// fields as the CRDs spell them. Loaded objects are plain JSON until src/validate has accepted them.

export interface NamespacedPod {
  namespaceSelector: LabelSelector;
  podSelector: LabelSelector;
}

/** `spec.subject`: exactly one of the two. */
export interface ClusterPolicySubject {
  namespaces?: LabelSelector;
  pods?: NamespacedPod;
}

/** An ingress peer (`from[i]`) or an egress peer (`to[i]`, which also has networks, nodes, domainNames). */
export interface ClusterPolicyPeer {
  namespaces?: LabelSelector;
  pods?: NamespacedPod;
  networks?: string[];
  nodes?: LabelSelector;
  domainNames?: string[];
}

/** v1alpha2 `protocols[i]`: exactly one of tcp, udp, sctp, destinationNamedPort. */
export interface CNPProtocol {
  tcp?: { destinationPort?: CNPPort };
  udp?: { destinationPort?: CNPPort };
  sctp?: { destinationPort?: CNPPort };
  destinationNamedPort?: string;
}

/** v1alpha2 `destinationPort`: exactly one of number and range. */
export interface CNPPort {
  number?: number;
  range?: { start: number; end: number };
}

export interface CNPRule {
  name?: string;
  action: 'Accept' | 'Deny' | 'Pass';
  from?: ClusterPolicyPeer[];
  to?: ClusterPolicyPeer[];
  protocols?: CNPProtocol[];
}

export interface ClusterNetworkPolicy {
  apiVersion: string;
  kind: 'ClusterNetworkPolicy';
  metadata: ObjectMeta;
  spec: {
    tier: 'Admin' | 'Baseline';
    priority: number;
    subject: ClusterPolicySubject;
    ingress?: CNPRule[];
    egress?: CNPRule[];
  };
}

/** v1alpha1 `ports[i]`: exactly one of portNumber, namedPort, portRange. */
export interface ANPPort {
  portNumber?: { protocol?: string; port: number };
  namedPort?: string;
  portRange?: { protocol?: string; start: number; end: number };
}

export interface ANPRule {
  name?: string;
  /** AdminNetworkPolicy: Allow, Deny, Pass; BaselineAdminNetworkPolicy: Allow, Deny. */
  action: 'Allow' | 'Deny' | 'Pass';
  from?: ClusterPolicyPeer[];
  to?: ClusterPolicyPeer[];
  ports?: ANPPort[];
}

export interface AdminNetworkPolicy {
  apiVersion: string;
  kind: 'AdminNetworkPolicy';
  metadata: ObjectMeta;
  spec: { priority: number; subject: ClusterPolicySubject; ingress?: ANPRule[]; egress?: ANPRule[] };
}

export interface BaselineAdminNetworkPolicy {
  apiVersion: string;
  kind: 'BaselineAdminNetworkPolicy';
  metadata: ObjectMeta;
  spec: { subject: ClusterPolicySubject; ingress?: ANPRule[]; egress?: ANPRule[] };
}

export type ClusterScopedPolicy = ClusterNetworkPolicy | AdminNetworkPolicy | BaselineAdminNetworkPolicy;

export interface NodeAddress {
  type?: string;
  address: string;
}

/** v1 Node: what netpol reads (labels for `nodes` peers, status.addresses for their IPs). */
/** core/v1 ServicePort, the fields netpol reads. */
export interface ServicePort {
  name?: string;
  /** Defaults to TCP. */
  protocol?: string;
  port: number;
  /** Number or IANA_SVC_NAME; defaults to `port`. */
  targetPort?: number | string;
}

/** core/v1 ServiceSpec, the fields netpol reads. */
export interface ServiceSpec {
  selector?: Record<string, string>;
  ports?: ServicePort[];
  type?: string;
  /** `None` for a headless Service. */
  clusterIP?: string;
  externalName?: string;
}

export interface Service {
  apiVersion: string;
  kind: 'Service';
  metadata: ObjectMeta;
  spec?: ServiceSpec;
}

export interface Node {
  apiVersion: string;
  kind: 'Node';
  metadata: ObjectMeta;
  status?: { addresses?: NodeAddress[] };
}
