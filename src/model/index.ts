/** The loaded cluster (namespaces, pods, policies with where each came from) and the Kubernetes API types read. */
export * from './cluster.js';
export type * from './k8s.js';
export type * from './snapshot.js';
export * from './mode.js';
