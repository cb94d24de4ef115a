/**
 * Reading a live Kubernetes cluster: kubeconfig resolution (kubectl's rules), a paginated JSON client
 * with auth from @kubernetes/client-node, conversion into the Cluster model with the loader's rules,
 * `--overlay` of files on the cluster, and list+watch (one Reflector per resource, joined by ClusterInformer)
 * behind the ClusterSource seam (KubeClusterSource), used by `netpol watch` and the agent.
 */
export { loadKubeConfig, KubeConfigError, type KubeConfigOptions, type ResolvedConfig } from './config.js';
export { KubeClient, KubeApiError, KubeUnreachableError, NAMESPACES, PODS, NETWORK_POLICIES, NODES, resourcePath, type Action, type Resource, type WatchEvent } from './client.js';
export { toNamespace, toPod, toPolicy, isFinished, UNFINISHED_PODS, type Converted } from './convert.js';
export { readCluster, assemble, type ClusterRead, type ReadOptions } from './read.js';
export { overlayCluster } from './overlay.js';
export { applyCluster, clearCluster, createPod, createPolicy, ensureNamespace, podObject, setPodStatus, type ApplyOptions } from './apply.js';
export { Reflector, DEFAULT_BACKOFF, type Backoff, type ReflectorHandlers, type ReflectorOptions, type WatchRestartReason } from './reflector.js';
export { ClusterInformer, type ClusterPolicyKind, type InformerEvent, type InformerHandlers, type InformerOptions, type ObjectKind } from './informer.js';
export { KubeClusterSource, type KubeSourceEvent, type KubeSourceOptions, type KubeSourceStats } from './source.js';
