/**
 * The enforcer for one node: keeps the node's nftables table in sync with the policies from files or
 * the cluster, cuts revoked connections, repairs drift, and reports health and metrics over HTTP.
 */
export * from './agent.js';
export * from './http.js';
export * from './kube-source.js';
export * from './metrics.js';
export * from './cut-record.js';
export * from './source.js';
export * from './nft-session.js';
export * from './system.js';
export * from './drop-service.js';
export * from './drops.js';
