/**
 * netpol as a library, the IO entry (`netpol/node`): what reads files, runs commands or talks to the
 * kernel. The pure parts (loading text, validation, the engines, the nftables compiler) are in the main
 * entry, `netpol` (src/index.ts), which this one re-exports so one import can serve a Node program.
 */
export * from './index.js';

// Reading manifests from files, directories and stdin
export { readSources } from './load/node.js';
export type { ReadSourcesOptions } from './load/node.js';

// The command line, for embedding: `run(argv, io)` is the whole program
export { run, EXIT } from './cli/index.js';
export type { IO } from './cli/index.js';

// A live cluster: kubeconfig (kubectl's rules), paginated reads, list+watch informers, the agent's source
export { loadKubeConfig, KubeConfigError, KubeClient, KubeApiError, KubeUnreachableError, readCluster, overlayCluster, ClusterInformer, Reflector, KubeClusterSource } from './kube/index.js';
export type { ResolvedConfig, ClusterRead, ReadOptions, InformerEvent, InformerOptions, KubeSourceOptions, KubeSourceEvent, KubeSourceStats } from './kube/index.js';
