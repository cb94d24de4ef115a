/**
 * The normalised policy model every consumer reads (NetworkPolicy and the cluster-scoped tiers), with the
 * small shared rules, and the port-interval set.
 */
export * from './model.js';
export * from './cluster.js';
export * from './overlaps.js';
export * from './portset.js';
export * from './mode.js';
export * from './rules.js';
