/**
 * Reading a live Kubernetes cluster: kubeconfig resolution (kubectl's rules), a paginated JSON client
 * with auth from @kubernetes/client-node, conversion into the Cluster model with the loader's rules,
 * `--overlay` of files on the cluster, and list+watch informers behind the agent's ClusterSource seam.
 */
export { loadKubeConfig, KubeConfigError, type KubeConfigOptions, type ResolvedConfig } from './config.js';
export { KubeClient, KubeApiError, KubeUnreachableError, NAMESPACES, PODS, NETWORK_POLICIES, resourcePath, type Action, type Resource, type WatchEvent } from './client.js';
export { toNamespace, toPod, toPolicy, isFinished, UNFINISHED_PODS, type Converted } from './convert.js';
export { readCluster, assemble, type ClusterRead, type ReadOptions } from './read.js';
export { overlayCluster } from './overlay.js';
export { applyCluster, clearCluster, createPod, createPolicy, ensureNamespace, podObject, setPodStatus, type ApplyOptions } from './apply.js';
export { ClusterInformer, Reflector, type InformerEvent, type InformerHandlers, type InformerOptions, type ObjectKind } from './informer.js';
export { KubeClusterSource, type KubeSourceOptions } from './source.js';
