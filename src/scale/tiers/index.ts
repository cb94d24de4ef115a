/**
 * The class engine with cluster-scoped policies (ClusterNetworkPolicy, AdminNetworkPolicy,
 * BaselineAdminNetworkPolicy): tier classes (classes.ts) and the tiered verdicts and counts (engine.ts).
 */
export { TieredScaleEngine } from './engine.js';
export type { TieredScaleOptions } from './engine.js';
